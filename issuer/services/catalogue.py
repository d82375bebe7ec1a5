"""Catalogue administration: micro-credentials, programmes and learners.

Upserts are idempotent (same spec twice changes nothing and writes no audit entry); every real
change is audited in the same transaction. Specs are the pure dataclasses of
:mod:`issuer.domain.catalogue`; views add database facts (issuer slug).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.db.models import (
    Assessment,
    AssessmentResult,
    Issuer,
    Learner,
    Material,
    MaterialCompletion,
    MicroCredential,
    Programme,
    ProgrammeComponent,
)
from issuer.domain.catalogue import (
    AssessmentSpec,
    LearnerSpec,
    MaterialSpec,
    MicroCredentialSpec,
    ProgrammeSpec,
)
from issuer.services import audit
from issuer.services.errors import ConflictError, NotFoundError, UnknownReferenceError
from issuer.services.issuers import get_issuer
from issuer.services.runtime import Runtime

__all__ = [
    "LearnerView",
    "get_learner",
    "get_micro_credential",
    "get_programme",
    "learner_view",
    "list_learners",
    "list_micro_credentials",
    "list_programmes",
    "micro_credential_spec",
    "programme_spec",
    "upsert_learner",
    "upsert_micro_credential",
    "upsert_programme",
]


@dataclass(frozen=True)
class LearnerView:
    """A learner with the salt used in their identity hashes."""

    id: int
    external_id: str
    email: str
    name: str
    did: str | None
    salt: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the salt is not secret: it is printed in every credential)."""
        return {
            "externalId": self.external_id,
            "email": self.email,
            "name": self.name,
            "did": self.did,
        }


def micro_credential_spec(row: MicroCredential) -> MicroCredentialSpec:
    """Domain value of a micro-credential row."""
    return MicroCredentialSpec(
        code=row.code,
        title=row.title,
        description=row.description,
        credits=row.credits,
        slt_hours=row.slt_hours,
        mqf_level=row.mqf_level,
        delivery_mode=row.delivery_mode,
        category="stand-alone" if row.category == "stand-alone" else "programme-based",
        learning_outcomes=tuple(row.learning_outcomes),
        materials=tuple(MaterialSpec(m.code, m.title) for m in row.materials),
        assessments=tuple(
            AssessmentSpec(a.code, a.title, Decimal(a.pass_mark).normalize())
            for a in row.assessments
        ),
        criteria=row.criteria,
    )


def programme_spec(row: Programme) -> ProgrammeSpec:
    """Domain value of a programme row."""
    return ProgrammeSpec(
        code=row.code,
        title=row.title,
        description=row.description,
        mqf_level=row.mqf_level,
        components=tuple(c.micro_credential.code for c in row.components),
        degree_programme_url=row.degree_programme_url,
        degree_programme_title=row.degree_programme_title,
        mms_per_unit=row.mms_per_unit,
    )


def learner_view(row: Learner) -> LearnerView:
    """View of a learner row."""
    return LearnerView(row.id, row.external_id, row.email, row.name, row.did, row.salt)


def _issuer_id(rt: Runtime, slug: str | None) -> int:
    return get_issuer(rt, slug).id


def upsert_micro_credential(
    rt: Runtime, spec: MicroCredentialSpec, *, actor: str, issuer: str | None = None
) -> MicroCredentialSpec:
    """Create or update a micro-credential (awards already issued keep their content).

    Materials and assessments are matched by code; removed ones are deleted only when no
    learner progress refers to them. Raises ``MALFORMED_VALUE_ERROR``, ``NOT_FOUND`` (issuer).
    """
    spec.validate()
    issuer_id = _issuer_id(rt, issuer)
    now = rt.now()
    with rt.transaction() as session:
        row = session.scalar(select(MicroCredential).where(MicroCredential.code == spec.code))
        before = micro_credential_spec(row) if row is not None else None
        if before == spec and row is not None and row.issuer_id == issuer_id:
            return spec
        if row is None:
            row = MicroCredential(code=spec.code)
            session.add(row)
        row.issuer_id = issuer_id
        row.title = spec.title
        row.description = spec.description
        row.criteria = spec.criteria
        row.credits = spec.credits
        row.slt_hours = spec.slt_hours
        row.mqf_level = spec.mqf_level
        row.delivery_mode = spec.delivery_mode
        row.category = spec.category
        row.learning_outcomes = list(spec.learning_outcomes)
        _refuse_removing_used_items(session, row, spec)
        materials = {m.code: m for m in row.materials}
        row.materials = []
        for pos, m in enumerate(spec.materials):
            mat = materials.get(m.code) or Material(code=m.code)
            mat.title, mat.position = m.title, pos
            row.materials.append(mat)
        assessments = {a.code: a for a in row.assessments}
        row.assessments = []
        for pos, a in enumerate(spec.assessments):
            ass = assessments.get(a.code) or Assessment(code=a.code)
            ass.title, ass.pass_mark, ass.position = a.title, a.pass_mark, pos
            row.assessments.append(ass)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            action="micro_credential.upsert",
            target_type="micro_credential",
            target_id=spec.code,
            detail={"created": before is None},
        )
        return micro_credential_spec(row)


def _refuse_removing_used_items(
    session: Session, row: MicroCredential, spec: MicroCredentialSpec
) -> None:
    """``CONFLICT`` when an update drops a material or assessment that has learner progress."""
    keep_m = {m.code for m in spec.materials}
    keep_a = {a.code for a in spec.assessments}
    dropped_m = [m.id for m in row.materials if m.code not in keep_m and m.id is not None]
    dropped_a = [a.id for a in row.assessments if a.code not in keep_a and a.id is not None]
    used = (
        dropped_m
        and session.scalar(
            select(MaterialCompletion.id).where(MaterialCompletion.material_id.in_(dropped_m))
        )
    ) or (
        dropped_a
        and session.scalar(
            select(AssessmentResult.id).where(AssessmentResult.assessment_id.in_(dropped_a))
        )
    )
    if used:
        raise ConflictError(
            f"{row.code}: cannot remove a material or assessment that learners have progress in"
        )


def get_micro_credential(rt: Runtime, code: str) -> MicroCredentialSpec:
    """Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        row = session.scalar(select(MicroCredential).where(MicroCredential.code == code))
        if row is None:
            raise NotFoundError(f"no micro-credential {code!r}")
        return micro_credential_spec(row)


def list_micro_credentials(rt: Runtime) -> list[MicroCredentialSpec]:
    """Every micro-credential by code."""
    with rt.reading() as session:
        rows = session.scalars(select(MicroCredential).order_by(MicroCredential.code))
        return [micro_credential_spec(r) for r in rows]


def upsert_programme(
    rt: Runtime, spec: ProgrammeSpec, *, actor: str, issuer: str | None = None
) -> ProgrammeSpec:
    """Create or update a programme; components must exist and be programme-based.

    Raises ``MALFORMED_VALUE_ERROR`` and ``UNKNOWN_REFERENCE`` (a component that is not a
    programme-based micro-credential).
    """
    spec.validate()
    issuer_id = _issuer_id(rt, issuer)
    now = rt.now()
    with rt.transaction() as session:
        mcs: list[MicroCredential] = []
        for i, code in enumerate(spec.components):
            mc = session.scalar(select(MicroCredential).where(MicroCredential.code == code))
            if mc is None or mc.category != "programme-based":
                raise UnknownReferenceError(
                    f"{code!r} is not a programme-based micro-credential",
                    pointer=f"/components/{i}",
                )
            mcs.append(mc)
        row = session.scalar(select(Programme).where(Programme.code == spec.code))
        before = programme_spec(row) if row is not None else None
        if before == spec and row is not None and row.issuer_id == issuer_id:
            return spec
        if row is None:
            row = Programme(code=spec.code)
            session.add(row)
        row.issuer_id = issuer_id
        row.title = spec.title
        row.description = spec.description
        row.mqf_level = spec.mqf_level
        row.degree_programme_url = spec.degree_programme_url
        row.degree_programme_title = spec.degree_programme_title
        row.mms_per_unit = spec.mms_per_unit
        row.components = [
            ProgrammeComponent(micro_credential=mc, micro_credential_id=mc.id, position=i)
            for i, mc in enumerate(mcs)
        ]
        session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            action="programme.upsert",
            target_type="programme",
            target_id=spec.code,
            detail={"created": before is None, "components": list(spec.components)},
        )
        return programme_spec(row)


def get_programme(rt: Runtime, code: str) -> ProgrammeSpec:
    """Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        row = session.scalar(select(Programme).where(Programme.code == code))
        if row is None:
            raise NotFoundError(f"no programme {code!r}")
        return programme_spec(row)


def list_programmes(rt: Runtime) -> list[ProgrammeSpec]:
    """Every programme by code."""
    with rt.reading() as session:
        return [
            programme_spec(r) for r in session.scalars(select(Programme).order_by(Programme.code))
        ]


def _insert_learner(session: Session, spec: LearnerSpec, *, rt: Runtime) -> tuple[Learner, bool]:
    """Insert a new learner, or take the row a concurrent transaction inserted first.

    Two imports (two workers, two instances) naming the same new learner both find no row, then
    both insert; on PostgreSQL the second insert waits for the first transaction and then hits
    ``uq_learners_external_id``. The insert runs in a savepoint so the loser re-reads the
    winner's committed row instead of failing its whole chunk. Returns (row, created).
    """
    row = Learner(
        external_id=spec.external_id,
        email=spec.email,
        name=spec.name,
        did=spec.did,
        salt=secrets.token_hex(16),
        created_at=rt.now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        winner = session.scalar(select(Learner).where(Learner.external_id == spec.external_id))
        if winner is None:
            raise
        return winner, False
    return row, True


def upsert_learner_in(session: Session, spec: LearnerSpec, *, rt: Runtime, actor: str) -> Learner:
    """Upsert inside an open transaction (used by progress import). Salt is set once."""
    spec.validate()
    row = session.scalar(select(Learner).where(Learner.external_id == spec.external_id))
    if row is not None and (row.email, row.name, row.did) == (spec.email, spec.name, spec.did):
        return row
    created = row is None
    if row is None:
        row, created = _insert_learner(session, spec, rt=rt)
    row.email, row.name, row.did = spec.email, spec.name, spec.did
    session.flush()
    audit.record(
        session,
        at=rt.now(),
        actor=actor,
        action="learner.upsert",
        target_type="learner",
        target_id=spec.external_id,
        detail={"created": created},
    )
    return row


def upsert_learner(rt: Runtime, spec: LearnerSpec, *, actor: str) -> LearnerView:
    """Create or update a learner. Raises ``MALFORMED_VALUE_ERROR``."""
    with rt.transaction() as session:
        return learner_view(upsert_learner_in(session, spec, rt=rt, actor=actor))


def get_learner(rt: Runtime, external_id: str) -> LearnerView:
    """Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        row = session.scalar(select(Learner).where(Learner.external_id == external_id))
        if row is None:
            raise NotFoundError(f"no learner {external_id!r}")
        return learner_view(row)


def list_learners(rt: Runtime, *, limit: int = 100, offset: int = 0) -> list[LearnerView]:
    """Learners by external id."""
    with rt.reading() as session:
        query = select(Learner).order_by(Learner.external_id).limit(limit).offset(offset)
        return [learner_view(r) for r in session.scalars(query)]


def issuer_slug_of(session: Session, issuer_id: int) -> str:
    """Slug of an issuer id (for views)."""
    row = session.get(Issuer, issuer_id)
    if row is None:
        raise NotFoundError(f"no issuer #{issuer_id}")
    return row.slug
