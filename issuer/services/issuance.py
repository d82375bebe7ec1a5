"""The issuance pipeline: evaluate -> build -> sign -> self-verify -> store, once per award.

For each award that became due (:func:`issuer.domain.awards.due_awards`), one transaction:

1. lock the learner row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serializes writers),
   so concurrent evaluations of one learner queue instead of racing;
2. re-check the award is not held (a replay or another process may have issued it);
3. build the unsigned credential (pure builders), allocate status entries (the status hook);
4. sign with the issuer's current key and suite (default ``eddsa-rdfc-2022``);
5. verify it with the verifier's own code (proof, issuer binding, validity, 1EdTech schema,
   status against our own current lists read from the database, and for an MMS every
   embedded COA) against our pinned DID documents; a rejection raises
   ``SELF_VERIFICATION_FAILED`` and nothing is stored;
6. store the exact signed JSON text, the MMS's component links and an audit entry; commit.

Evaluation (:func:`evaluate_learners`) issues all of one learner's due awards in one such
transaction (an MMS after the COAs it stacks), and reads once per run what does not change
from one award to the next (:class:`IssuanceRun`: the catalogue, our issuers as the trust
list, each issuer's signing key, our status lists as verified for self-verification).

The partial unique index over (learner, award_type, achievement_code) of unrevoked awards is
the last line of defence: a concurrent duplicate fails at commit and the learner is evaluated
again (what was issued meanwhile is then held). A revoked award counts as held, so
evaluation never replaces it on its own: a replacement is an explicit admin act
(:mod:`issuer.services.reissue`, which reuses :func:`issue_award_in`). A crash before commit
loses only work that the next run redoes; a crash after commit leaves complete awards.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contexts.errors import SijilError
from issuer.credentials.builders import (
    LearnerIdentity,
    build_coa,
    build_coc,
    build_mms,
    status_member,
)
from issuer.credentials.text import credential_text
from issuer.db.models import (
    Assessment,
    AssessmentResult,
    AuditEntry,
    Award,
    AwardComponent,
    Learner,
    Material,
    MaterialCompletion,
    MicroCredential,
    Programme,
)
from issuer.domain.awards import (
    AwardType,
    DueAward,
    LearnerProgress,
    NotEligibleError,
    Result,
    due_awards,
)
from issuer.domain.catalogue import MicroCredentialSpec, ProgrammeSpec
from issuer.outbox.events import (
    AwardIssuedRows,
    award_issued_rows,
    emit_all,
    record_award_issued,
)
from issuer.outbox.models import BatchAward
from issuer.services import audit
from issuer.services.awards import AwardView, award_view
from issuer.services.catalogue import micro_credential_spec, programme_spec
from issuer.services.errors import (
    IssuerMismatchError,
    NotFoundError,
    SelfVerificationError,
    SubmittedCredentialRejectedError,
)
from issuer.services.issuers import IssuerView, did_document, get_issuer, list_issuers, signing_key
from issuer.services.runtime import Runtime
from issuer.services.selfcheck import check_own
from issuer.services.signpool import (
    PendingTask,
    SelfCheckContext,
    SigningFailure,
    SigningJob,
    SigningPool,
)
from issuer.services.status import OwnStatusListFetcher
from issuer.services.vcapi import record_vcapi_credential
from issuer.vcdm import VC1_CONTEXT, validity_period
from keys.dataintegrity import add_proof
from keys.fetch import DEFAULT_JSON_ACCEPT, FetchResponse
from keys.keypair import KeyPair
from verifier import (
    TrustedIssuer,
    TrustList,
    Verifier,
    check_related_resources,
)

__all__ = [
    "BSL_CONTEXT",
    "Catalogue",
    "IssuanceRun",
    "StatusEntryNotAllowedError",
    "evaluate_learner",
    "evaluate_learners",
    "issue_award_in",
    "learner_progress",
    "load_catalogue",
    "own_issuers",
    "pin_issuer_documents",
    "secure_credential",
    "sign_credential",
    "signing_workers",
    "verify_own",
]


log = logging.getLogger(__name__)

#: The Bitstring Status List context, added to VC 1.1 credentials that get a status entry.
BSL_CONTEXT: Final = "https://www.w3.org/ns/credentials/status/v1"


@dataclass(frozen=True)
class Catalogue:
    """A snapshot of the catalogue for one evaluation run (read once, used per learner)."""

    micro_credentials: dict[str, MicroCredentialSpec]
    mc_ids: dict[str, int]
    mc_codes: dict[int, str]
    mc_issuers: dict[str, int]
    programmes: dict[str, ProgrammeSpec]
    programme_ids: dict[str, int]
    programme_issuers: dict[str, int]
    programmes_of: dict[str, list[ProgrammeSpec]] = field(default_factory=dict)


def load_catalogue(session: Session) -> Catalogue:
    """Read every micro-credential and programme once."""
    mcs = list(session.scalars(select(MicroCredential)))
    progs = list(session.scalars(select(Programme)))
    programmes = {p.code: programme_spec(p) for p in progs}
    programmes_of: dict[str, list[ProgrammeSpec]] = {}
    for spec in programmes.values():
        for code in spec.components:
            programmes_of.setdefault(code, []).append(spec)
    return Catalogue(
        micro_credentials={m.code: micro_credential_spec(m) for m in mcs},
        mc_ids={m.code: m.id for m in mcs},
        mc_codes={m.id: m.code for m in mcs},
        mc_issuers={m.code: m.issuer_id for m in mcs},
        programmes=programmes,
        programme_ids={p.code: p.id for p in progs},
        programme_issuers={p.code: p.issuer_id for p in progs},
        programmes_of=programmes_of,
    )


class _RunStatusFetcher:
    """Our own status lists for a run's self-verifications, read through the session of the
    award's transaction (:class:`OwnStatusListFetcher`); nothing else is fetched."""

    def __init__(self, rt: Runtime, session: Session) -> None:
        self._rt = rt
        self.session = session

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The parsed list credential."""
        return OwnStatusListFetcher(self._rt, self.session).get_json(url, accept=accept)

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The list credential's bytes."""
        return OwnStatusListFetcher(self._rt, self.session).get_bytes(url, accept=accept)


@dataclass
class IssuanceRun:
    """What one evaluation run reads once and reuses for the awards it issues.

    The catalogue is read when the run starts and our issuers (the self-verification trust
    list) when the first award needs them. Each issuer's signing key is read once per
    transaction (:meth:`begin`: one learner's awards), so a key rotated or retired by another
    process is not used past the transaction in which it was read.

    Self-verification keeps one :class:`verifier.Verifier` for the run, so each of our status
    lists is fetched from the database, verified and decoded once per run, not once per award:
    an index just allocated reads 0 in every version of its list (only issued credentials'
    bits are ever set), and a list opened during the run is read through the transaction that
    opened it. :meth:`forget_status_lists` drops them when a transaction rolls back.
    """

    catalogue: Catalogue
    issuers: dict[int, IssuerView] = field(default_factory=dict)
    _keys: dict[int, KeyPair] = field(default_factory=dict, init=False, repr=False)
    _fetcher: _RunStatusFetcher | None = field(default=None, init=False, repr=False)
    _verifier: Verifier | None = field(default=None, init=False, repr=False)

    @classmethod
    def start(cls, rt: Runtime) -> IssuanceRun:
        """A run over the current catalogue."""
        with rt.reading() as session:
            return cls(load_catalogue(session))

    def begin(self) -> None:
        """A new transaction: signing keys are read again when next needed."""
        self._keys.clear()

    def signing_key(self, rt: Runtime, issuer: IssuerView) -> KeyPair:
        """The issuer's signing key, read once per transaction (see
        :func:`issuer.services.issuers.signing_key` for its errors)."""
        key = self._keys.get(issuer.id)
        if key is None:
            key = self._keys[issuer.id] = signing_key(rt, issuer)
        return key

    def verifier_in(self, rt: Runtime, session: Session) -> Verifier:
        """The run's self-verifier, reading our status lists through ``session``."""
        if self._fetcher is None or self._verifier is None:
            self._fetcher = _RunStatusFetcher(rt, session)
            self._verifier = Verifier(
                resolver=rt.resolver, fetcher=self._fetcher, trust=own_issuers(rt)
            )
        self._fetcher.session = session
        return self._verifier

    def forget_status_lists(self) -> None:
        """Drop the verified status lists (a transaction that may have opened one rolled
        back)."""
        self._fetcher = None
        self._verifier = None


def learner_progress(session: Session, catalogue: Catalogue, learner_id: int) -> LearnerProgress:
    """What the learner has completed and passed, as the award rules read it."""
    completed: dict[str, set[str]] = {}
    rows = session.execute(
        select(Material.micro_credential_id, Material.code)
        .join(MaterialCompletion, MaterialCompletion.material_id == Material.id)
        .where(MaterialCompletion.learner_id == learner_id)
    )
    for mc_id, code in rows:
        completed.setdefault(catalogue.mc_codes[mc_id], set()).add(code)
    results: dict[str, dict[str, Result]] = {}
    res_rows = session.execute(
        select(
            Assessment.micro_credential_id,
            Assessment.code,
            AssessmentResult.score,
            AssessmentResult.grade,
        )
        .join(AssessmentResult, AssessmentResult.assessment_id == Assessment.id)
        .where(AssessmentResult.learner_id == learner_id)
    )
    for mc_id, code, score, grade in res_rows:
        results.setdefault(catalogue.mc_codes[mc_id], {})[code] = Result(Decimal(score), grade)
    return LearnerProgress(
        completed={k: frozenset(v) for k, v in completed.items()},
        results=results,
    )


def pin_issuer_documents(rt: Runtime, issuers: Iterable[IssuerView] | None = None) -> None:
    """Pin each did:web issuer's current DID document in ``rt.resolver`` (after rotations too)."""
    for view in list_issuers(rt) if issuers is None else issuers:
        if view.did_method == "web" and rt.pinned.get(view.did) != view.verification_methods:
            rt.resolver.add_document(did_document(rt, view.slug))
            rt.pinned[view.did] = view.verification_methods


def _ensure_pinned(rt: Runtime, issuer: IssuerView, verification_method: str) -> None:
    """Make sure the resolver knows ``verification_method`` (a rotation in another process
    may have added it since ``issuer`` was read)."""
    if issuer.did_method == "web" and verification_method not in rt.pinned.get(issuer.did, ()):
        pin_issuer_documents(rt, [get_issuer(rt, issuer.slug)])


def own_issuers(rt: Runtime) -> TrustList:
    """Every issuer of this instance, as the trust list of self-verification (an MMS may
    stack COAs of another of our issuers)."""
    return TrustList.from_issuers(
        TrustedIssuer(view.did, view.name, view.url, source="this issuer")
        for view in list_issuers(rt)
    )


def verify_own(
    rt: Runtime,
    credential: Mapping[str, Any] | str,
    *,
    at: datetime,
    session: Session | None = None,
    tolerate: frozenset[str] = frozenset(),
    verifier: Verifier | None = None,
) -> None:
    """Verify a credential we signed (JSON-LD, or a VC-JWT as text) with the verifier's code.
    Raises ``SELF_VERIFICATION_FAILED`` (detail lists the verifier's error codes).

    The issuer is recognised when it is one of ours (:func:`own_issuers`). Status entries are
    checked against our own current lists, read from the database
    (``session``: the award's transaction, so its fresh allocations are visible) by
    :class:`issuer.services.status.OwnStatusListFetcher`: a credential is stored only if it
    reads "not revoked" in the list verifiers will fetch. Nothing else is fetched.
    ``tolerate``: errors that do not make the check fail, by ``CODE`` or ``CODE@/pointer``
    (VC-API issue: an expired credential, a status of a type or list the issuer does not
    manage). A credential with several status entries (suspension on) is checked against its
    schema with the revocation entry only (OB 3.0 allows one). ``verifier``: a run's verifier
    (:meth:`IssuanceRun.verifier_in`, which already reads our lists through ``session`` and
    trusts our issuers), so its cache of verified status lists serves every award of the run.
    """
    if session is None:
        with rt.reading() as reading:
            verify_own(rt, credential, at=at, session=reading, tolerate=tolerate, verifier=verifier)
        return
    if verifier is None:
        verifier = Verifier(
            resolver=rt.resolver, fetcher=OwnStatusListFetcher(rt, session), trust=own_issuers(rt)
        )
    check_own(credential, verifier, at=at, tolerate=tolerate)


def secure_credential(
    rt: Runtime,
    issuer: IssuerView,
    unsigned: Mapping[str, Any],
    *,
    at: datetime,
    cryptosuite: str | None = None,
    session: Session | None = None,
    verify_at: datetime | None = None,
    tolerate: frozenset[str] = frozenset(),
    run: IssuanceRun | None = None,
) -> dict[str, Any]:
    """Sign ``unsigned`` with the issuer's current key, then self-verify (status lists read
    through ``session`` when given) at ``verify_at`` (default ``at``). Stores nothing.
    ``run`` (with ``session``): take the key, trust list and verified status lists from the
    evaluation run instead of reading them again.

    Signing clock guard: ``at`` is the signing moment (the proof's ``created``); a
    ``validFrom`` later than it is refused with ``SELF_VERIFICATION_FAILED`` for the
    credentials the issuer builds (``verify_at`` unset), so no award ever says it becomes
    valid after it was signed."""
    if verify_at is None:
        _check_not_future(unsigned, at)
    key, verification_method = _signing_key_pinned(rt, issuer, run)
    signed = add_proof(
        unsigned,
        key,
        cryptosuite=cryptosuite or issuer.cryptosuite,
        verification_method=verification_method,
        created=at,
    )
    verifier = None if run is None or session is None else run.verifier_in(rt, session)
    verify_own(
        rt, signed, at=verify_at or at, session=session, tolerate=tolerate, verifier=verifier
    )
    return signed


def _signing_key_pinned(
    rt: Runtime, issuer: IssuerView, run: IssuanceRun | None
) -> tuple[KeyPair, str]:
    """The issuer's signing key (the run's, when given) and its verification method, which
    the resolver is made to know (self-verification resolves it offline)."""
    key = signing_key(rt, issuer) if run is None else run.signing_key(rt, issuer)
    verification_method = key.id or issuer.verification_method
    _ensure_pinned(rt, issuer, verification_method)
    return key, verification_method


def _check_not_future(unsigned: Mapping[str, Any], at: datetime) -> None:
    """Raise ``SELF_VERIFICATION_FAILED`` when ``validFrom`` is later than ``at``."""
    period = validity_period(unsigned)
    if period.start is not None and period.start > at:
        raise SelfVerificationError(
            f"{period.start_name} {period.start.isoformat()} is later than the signing moment "
            f"{at.isoformat()}"
        )


class StatusEntryNotAllowedError(SijilError):
    """A caller-written ``credentialStatus`` points into one of this issuer's status lists: its
    index belongs to another credential (or to none), so the issuer refuses to sign it."""

    code = "STATUS_ENTRY_NOT_ALLOWED"
    title = "Status entry points into the issuer's own status lists"
    http_status = 400


#: Self-check results that do not make a VC-API issue fail: VC DM 2.0 section 4.9 lets
#: ``validUntil`` be in the past; a caller's own status entry of a type (or in a list) the
#: issuer does not manage cannot be checked offline, which is not a fault of the credential.
_EXPIRED_OK: Final = frozenset({"CREDENTIAL_EXPIRED"})
_FOREIGN_STATUS_OK: Final = frozenset({"UNSUPPORTED_STATUS_TYPE", "STATUS_RETRIEVAL_ERROR"})


def _refuse_own_lists(rt: Runtime, status: Any) -> None:
    """Raise ``STATUS_ENTRY_NOT_ALLOWED`` for an entry naming one of our status lists."""
    prefix = f"{rt.settings.base_url}/status/"
    entries = status if isinstance(status, list) else [status]
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        pointer = f"/credentialStatus/{index}" if isinstance(status, list) else "/credentialStatus"
        for member in ("statusListCredential", "id"):
            value = entry.get(member)
            if isinstance(value, str) and value.startswith(prefix):
                raise StatusEntryNotAllowedError(
                    f"{member} {value} is one of this issuer's status lists; send the "
                    "credential without credentialStatus and the issuer allocates its own entry",
                    pointer=f"{pointer}/{member}",
                )


def _with_status_context(doc: dict[str, Any]) -> None:
    """A VC 1.1 credential gets the Bitstring Status List context (which defines
    ``BitstringStatusListEntry`` and its members; the 1.1 base context does not)."""
    contexts = doc.get("@context")
    items = list(contexts) if isinstance(contexts, list) else [contexts]
    if items and items[0] == VC1_CONTEXT and BSL_CONTEXT not in items:
        doc["@context"] = [*items, BSL_CONTEXT]


def sign_credential(
    rt: Runtime,
    credential: Mapping[str, Any],
    *,
    issuer: str | None = None,
    cryptosuite: str | None = None,
    actor: str,
) -> dict[str, Any]:
    """VC-API issue: secure a caller-supplied credential with a named (or the default) issuer.

    The credential's ``issuer`` (string or object ``id``) must be the issuer's DID; a missing
    issuer is filled in. A credential without ``credentialStatus`` gets the issuer's status
    entries (one object; a list of two when suspension is on; a VC 1.1 credential also gets
    the Bitstring Status List context), allocated in the same transaction as the audit record
    and the :class:`issuer.db.vcapi.VcapiCredential` row that lets ``POST /credentials/status``
    change them. A credential with its own ``credentialStatus`` keeps it: any type is allowed
    (VC DM 2.0 section 4.10), unless it points into this issuer's lists.
    The result is self-verified and audited (not stored as an award). VC DM 2.0 rules: a
    ``validUntil`` in the past is accepted; one valid only from a later ``validFrom`` is
    self-verified as of that time.
    Raises ``ISSUER_MISMATCH``, ``NOT_FOUND``, ``STATUS_ENTRY_NOT_ALLOWED`` (400),
    ``CREDENTIAL_REJECTED`` (422: the verifier rejects the signed result, e.g. a schema the
    content does not follow) and the signing errors.
    """
    view = get_issuer(rt, issuer)
    doc = dict(credential)
    named = doc.get("issuer")
    named_id = named.get("id") if isinstance(named, Mapping) else named
    if named is None:
        doc["issuer"] = view.did
    elif named_id != view.did:
        raise IssuerMismatchError(
            f"credential issuer {named_id!r} is not {view.did}", pointer="/issuer"
        )
    check_related_resources(doc)  # VC DM 2.0 section 5.3: ids unique, each with a digest
    own_status = "credentialStatus" in doc
    if own_status:
        _refuse_own_lists(rt, doc["credentialStatus"])
    at = rt.now()
    period = validity_period(doc)
    # A credential may be issued before it becomes valid (validFrom tomorrow): self-verify it as
    # of the moment it does, so "not yet valid" is not taken for a signing failure.
    verify_at = max(at, period.start) if period.start is not None else at
    tolerate = _EXPIRED_OK | (_FOREIGN_STATUS_OK if own_status else frozenset())
    credential_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    with rt.transaction() as session:
        allocated: Sequence[Mapping[str, Any]] = ()
        if not own_status:
            allocated = _status(rt, session, view.id, credential_id or "") or ()
            member = status_member(allocated)
            if member is not None:
                doc["credentialStatus"] = member
                _with_status_context(doc)
        try:
            signed = secure_credential(
                rt,
                view,
                doc,
                at=at,
                cryptosuite=cryptosuite,
                session=session,
                verify_at=verify_at,
                tolerate=tolerate,
            )
        except SelfVerificationError as exc:
            raise SubmittedCredentialRejectedError(exc.detail, **exc.extra) from exc
        if allocated:
            record_vcapi_credential(rt, session, view.id, credential_id, allocated, at=at)
        audit.record(
            session,
            at=at,
            actor=actor,
            action="credential.sign",
            target_type="credential",
            target_id=str(doc.get("id") or ""),
            detail={"issuer": view.slug, "cryptosuite": cryptosuite or view.cryptosuite},
        )
    return signed


def _held(session: Session, learner_id: int) -> tuple[set[tuple[AwardType, str]], set[str]]:
    """(every award the learner holds or held, revoked ones included; COA codes with no
    active COA). A revoked COA with an active replacement counts toward an MMS again."""
    held: set[tuple[AwardType, str]] = set()
    active_coas: set[str] = set()
    for kind, code, status in session.execute(
        select(Award.award_type, Award.achievement_code, Award.status).where(
            Award.learner_id == learner_id
        )
    ):
        award_type: AwardType = "COC" if kind == "COC" else "COA" if kind == "COA" else "MMS"
        held.add((award_type, code))
        if award_type == "COA" and status == "active":
            active_coas.add(code)
    return held, {code for kind, code in held if kind == "COA"} - active_coas


def _issuer_for(rt: Runtime, issuers: dict[int, IssuerView], issuer_id: int) -> IssuerView:
    if issuer_id not in issuers:
        for view in list_issuers(rt):
            issuers[view.id] = view
    if issuer_id not in issuers:
        raise NotFoundError(f"no issuer #{issuer_id}")
    return issuers[issuer_id]


def _due(
    session: Session, catalogue: Catalogue, learner_id: int
) -> tuple[LearnerProgress, Sequence[DueAward]]:
    """The learner's progress and the awards due and not held (revoked ones count as held:
    automatic evaluation never replaces them)."""
    progress = learner_progress(session, catalogue, learner_id)
    held, unusable = _held(session, learner_id)
    due = due_awards(
        list(catalogue.micro_credentials.values()),
        list(catalogue.programmes.values()),
        progress,
        held,
        unusable_coas=unusable,
    )
    return progress, due


#: Attempts at one learner's transaction when a concurrent duplicate makes it fail at commit.
_ATTEMPTS: Final = 3


def _issue_due(rt: Runtime, run: IssuanceRun, learner_id: int, *, actor: str) -> list[AwardView]:
    """Issue every award due to the learner in one transaction, read under the learner's row
    lock (a replay or another process may have issued some)."""
    for _ in range(_ATTEMPTS):
        committed = False
        try:
            with rt.transaction() as session:
                run.begin()
                learner = session.get(Learner, learner_id, with_for_update=True)
                if learner is None:
                    raise NotFoundError(f"no learner #{learner_id}")
                progress, due = _due(session, run.catalogue, learner_id)
                views = [
                    issue_award_in(
                        rt,
                        session,
                        run.catalogue,
                        learner,
                        item,
                        actor=actor,
                        run=run,
                        progress=progress,
                    )
                    for item in due
                ]
            committed = True
            return views
        except IntegrityError:
            continue  # another process issued one of them after our check: evaluate again
        finally:
            if not committed:
                run.forget_status_lists()
    return []


def issue_award_in(
    rt: Runtime,
    session: Session,
    catalogue: Catalogue,
    learner: Learner,
    due: DueAward,
    *,
    actor: str,
    issuers: dict[int, IssuerView] | None = None,
    award_id: str | None = None,
    replaces: str | None = None,
    run: IssuanceRun | None = None,
    progress: LearnerProgress | None = None,
) -> AwardView:
    """Build, sign, self-verify and store ``due`` for ``learner`` inside ``session``.

    The caller holds the learner's row lock and has decided the award may be issued (this
    function does not look at awards already held). ``award_id`` fixes the new award's UUID
    (default: a fresh one); ``replaces`` is the id of the award this one replaces (recorded in
    ``replaces_id`` and in the ``award.issue`` audit entry). An MMS stacks the learner's active
    COAs. Raises ``NOT_ELIGIBLE`` (an MMS component without an active COA), ``NOT_FOUND``,
    ``SELF_VERIFICATION_FAILED`` and the signing errors. ``run``: an evaluation run whose
    issuers, keys and verified status lists are reused (see :class:`IssuanceRun`);
    ``progress``: the learner's progress as read in this transaction (default: read it).
    """
    known = run.issuers if run is not None else {} if issuers is None else issuers
    prepared = _prepare(
        rt,
        session,
        catalogue,
        learner,
        due,
        known=known,
        award_id=award_id,
        replaces=replaces,
        progress=progress,
    )
    signed = secure_credential(
        rt, prepared.issuer, prepared.unsigned, at=prepared.at, session=session, run=run
    )
    text = credential_text(signed)
    return _store(session, prepared, text, signed["proof"]["verificationMethod"], actor=actor)


@dataclass(frozen=True)
class _Prepared:
    """An award built and given its status entries, not yet signed."""

    award_id: str
    credential_id: str
    at: datetime
    due: DueAward
    learner_id: int
    learner_external_id: str
    issuer: IssuerView
    unsigned: dict[str, Any]
    components: Sequence[Award]
    micro_credential_id: int | None
    programme_id: int | None
    replaces: str | None


def _prepare(
    rt: Runtime,
    session: Session,
    catalogue: Catalogue,
    learner: Learner,
    due: DueAward,
    *,
    known: dict[int, IssuerView],
    award_id: str | None,
    replaces: str | None,
    progress: LearnerProgress | None,
) -> _Prepared:
    """Allocate ``due``'s status entries and build its unsigned credential."""
    learner_id = learner.id
    if award_id is None:
        award_id = str(uuid.uuid4())
    credential_id = f"{rt.settings.base_url}/credentials/{award_id}"
    at = rt.now()
    identity = LearnerIdentity(learner.email, learner.name, learner.salt, learner.did)
    base = rt.settings.base_url
    components: list[Award] = []
    mc_id: int | None = None
    programme_id: int | None = None
    if due.award_type == "MMS":
        programme = catalogue.programmes[due.programme or due.achievement_code]
        issuer_id = catalogue.programme_issuers[programme.code]
        programme_id = catalogue.programme_ids[programme.code]
        units = (due.micro_credential,) if due.micro_credential else programme.components
        components = _component_coas(session, learner_id, units)
        issuer = _issuer_for(rt, known, issuer_id)
        status = _status(rt, session, issuer_id, credential_id)
        unsigned = build_mms(
            programme,
            identity,
            [json.loads(c.credential_json) for c in components],
            issuer=issuer.profile,
            base_url=base,
            credential_id=credential_id,
            issued_at=at,
            unit=due.micro_credential,
            credential_status=status,
        )
    else:
        mc = catalogue.micro_credentials[due.micro_credential or due.achievement_code]
        mc_id = catalogue.mc_ids[mc.code]
        issuer_id = catalogue.mc_issuers[mc.code]
        issuer = _issuer_for(rt, known, issuer_id)
        status = _status(rt, session, issuer_id, credential_id)
        programmes = catalogue.programmes_of.get(mc.code, [])
        if due.award_type == "COC":
            unsigned = build_coc(
                mc,
                identity,
                issuer=issuer.profile,
                base_url=base,
                credential_id=credential_id,
                issued_at=at,
                programmes=programmes,
                credential_status=status,
            )
        else:
            if progress is None:
                progress = learner_progress(session, catalogue, learner_id)
            unsigned = build_coa(
                mc,
                identity,
                progress.results.get(mc.code, {}),
                issuer=issuer.profile,
                base_url=base,
                credential_id=credential_id,
                issued_at=at,
                programmes=programmes,
                credential_status=status,
            )
    return _Prepared(
        award_id=award_id,
        credential_id=credential_id,
        at=at,
        due=due,
        learner_id=learner_id,
        learner_external_id=learner.external_id,
        issuer=issuer,
        unsigned=unsigned,
        components=components,
        micro_credential_id=mc_id,
        programme_id=programme_id,
        replaces=replaces,
    )


def _store(
    session: Session,
    prepared: _Prepared,
    text: str,
    verification_method: str,
    *,
    actor: str,
    rows: _Rows | None = None,
) -> AwardView:
    """Add the signed award, its component links, audit entry and outbox events to the
    transaction (``rows``: to be written by :meth:`_Rows.write`, a statement per table)."""
    values = {
        "id": prepared.award_id,
        "learner_id": prepared.learner_id,
        "award_type": prepared.due.award_type,
        "achievement_code": prepared.due.achievement_code,
        "micro_credential_id": prepared.micro_credential_id,
        "programme_id": prepared.programme_id,
        "issuer_id": prepared.issuer.id,
        "credential_id": prepared.credential_id,
        "credential_json": text,
        "issued_at": prepared.at,
        "status": "active",
        "replaces_id": prepared.replaces,
    }
    award = Award(**values)
    view = award_view(award, prepared.learner_external_id, prepared.issuer.slug)
    links = [
        {"award_id": prepared.award_id, "component_award_id": component.id}
        for component in prepared.components
    ]
    entry = audit.entry(
        at=prepared.at,
        actor=actor,
        action="award.issue",
        target_type="award",
        target_id=view.id,
        detail={
            "awardType": view.award_type,
            "achievement": view.achievement_code,
            "learner": view.learner,
            "credentialId": view.credential_id,
            "verificationMethod": verification_method,
            **({"replaces": view.replaces} if view.replaces else {}),
        },
    )
    if rows is not None:
        rows.awards.append(values)
        rows.links.extend(links)
        rows.audit.append(entry)
        award_issued_rows(session, view, at=prepared.at, into=rows.outbox)
        return view
    session.add(award)
    if links:
        session.flush()  # the component links reference the new row
    session.add_all(AwardComponent(**link) for link in links)
    # The award, its links and audit entry are flushed together with the next award's (or at
    # commit): one flush per award instead of one per row. A duplicate still fails at commit.
    with session.no_autoflush:
        session.add(AuditEntry(**entry))
        record_award_issued(session, view, at=prepared.at)  # outbox: award.issued, mail
    return view


@dataclass
class _Rows:
    """A chunk's award rows not yet written: one multi-row ``INSERT`` per table instead of the
    ORM's unit of work per award. A duplicate award fails at :meth:`write`."""

    awards: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    outbox: AwardIssuedRows = field(default_factory=AwardIssuedRows)

    def write(self, session: Session) -> None:
        """Insert the rows (awards first: the others reference them) and forget them."""
        for table, values in (
            (Award.__table__, self.awards),
            (AwardComponent.__table__, self.links),
            (AuditEntry.__table__, self.audit),
            (BatchAward.__table__, self.outbox.batch_awards),
        ):
            if values:
                session.execute(insert(cast("Table", table)), values)
        emit_all(session, self.outbox.events)
        self.awards, self.links, self.audit = [], [], []
        self.outbox = AwardIssuedRows()


def _status(
    rt: Runtime, session: Session, issuer_id: int, credential_id: str
) -> Sequence[Mapping[str, Any]] | None:
    if rt.status_allocator is None:
        return None
    return rt.status_allocator(session, issuer_id, credential_id)


def _component_coas(session: Session, learner_id: int, units: Sequence[str]) -> list[Award]:
    rows = {
        a.achievement_code: a
        for a in session.scalars(
            select(Award).where(
                Award.learner_id == learner_id,
                Award.award_type == "COA",
                Award.status == "active",
                Award.achievement_code.in_(list(units)),
            )
        )
    }
    missing = [u for u in units if u not in rows]
    if missing:
        raise NotEligibleError(f"no active COA for {', '.join(missing)}")
    return [rows[u] for u in units]


def evaluate_learners(rt: Runtime, learner_ids: Iterable[int], *, actor: str) -> list[AwardView]:
    """Issue every award that is due and not held for each learner (idempotent).

    Each learner's awards are one transaction (:func:`_issue_due`: what is due is read once,
    under the learner's row lock). A concurrent duplicate (unique violation) makes the learner
    be evaluated again.

    A run of at least ``_POOL_MIN_LEARNERS`` learners, with ``SIJIL_ISSUE_WORKERS`` above 0,
    signs and self-verifies in worker processes (:mod:`issuer.services.signpool`) while this
    process does the database work, ``_CHUNK_LEARNERS`` learners per transaction
    (:func:`_issue_chunk`). A chunk that fails for any reason is rolled back and its learners
    are issued one transaction each, as above, which raises the error with its type; once a
    worker has died, the pool signs in this process.
    Returns the awards this call issued.
    """
    run = IssuanceRun.start(rt)
    ids = list(learner_ids)
    issued: list[AwardView] = []
    workers = rt.settings.issue_workers
    if workers < 1 or len(ids) < _POOL_MIN_LEARNERS:
        for learner_id in ids:
            issued.extend(_issue_due(rt, run, learner_id, actor=actor))
        return issued
    shared = _SHARED_POOL.get()
    with contextlib.nullcontext(shared) if shared is not None else SigningPool(workers) as pool:
        for start in range(0, len(ids), _CHUNK_LEARNERS):
            chunk = ids[start : start + _CHUNK_LEARNERS]
            try:
                issued.extend(_issue_chunk(rt, run, pool, chunk, actor=actor))
                continue
            except Exception as exc:  # noqa: BLE001 - redone per learner, which raises it typed
                log.warning(
                    "issuing %d learners in one transaction failed (%s: %s); "
                    "issuing them one at a time",
                    len(chunk),
                    type(exc).__name__,
                    exc,
                )
                run.forget_status_lists()
            for learner_id in chunk:
                issued.extend(_issue_due(rt, run, learner_id, actor=actor))
    return issued


_SHARED_POOL: ContextVar[SigningPool | None] = ContextVar("sijil_signing_pool", default=None)


@contextlib.contextmanager
def signing_workers(rt: Runtime) -> Iterator[None]:
    """Every large evaluation run inside (in this thread) shares one signing pool: a bulk
    import's chunks start the workers once, and their warm caches serve the whole import.
    The workers start only if a run needs them, and stop on exit."""
    if rt.settings.issue_workers < 1 or _SHARED_POOL.get() is not None:
        yield
        return
    with SigningPool(rt.settings.issue_workers) as pool:
        token = _SHARED_POOL.set(pool)
        try:
            yield
        finally:
            _SHARED_POOL.reset(token)


#: Fewest learners for which a run starts signing workers (starting them costs ~1 s of CPU).
_POOL_MIN_LEARNERS: Final = 32
#: Learners per transaction with signing workers: enough to keep the workers busy while
#: this process does the next awards' database work, few enough that a rollback loses little.
_CHUNK_LEARNERS: Final = 50


#: Credentials sent after an MMS's COAs before the MMS is prepared (see :func:`_issue_chunk`).
_MMS_LAG: Final = 12


class _WorkerFailedError(Exception):
    """A signing worker returned a failure (the chunk is redone in-process)."""


def _issue_chunk(
    rt: Runtime, run: IssuanceRun, pool: SigningPool, learner_ids: Sequence[int], *, actor: str
) -> list[AwardView]:
    """Issue every award due to ``learner_ids`` in one transaction, signing in ``pool``.

    Each learner's COCs and COAs are prepared (status entries, unsigned credential) and sent to
    the workers as one task; while they sign, the next learners are read and prepared. An MMS
    is prepared once its learner's COAs are signed and stored (it embeds them) and
    ``_MMS_LAG`` more credentials have been sent, then sent too.
    Rows are stored in the order the credentials were sent, a multi-row ``INSERT`` per table
    (:class:`_Rows`: before an MMS is prepared, and at the end). Learners are locked in id
    order (concurrent chunks cannot lock in opposite orders).
    """
    pending: list[tuple[_Prepared, PendingTask, int]] = []
    views: list[AwardView] = []
    with rt.transaction() as session:
        run.begin()
        jobs = _JobMaker(rt, session, run)
        rows = _Rows()
        later: list[tuple[Learner, DueAward, LearnerProgress, int, PendingTask | None]] = []

        def store_until(count: int) -> None:
            while len(views) < count:
                prepared, future, position = pending[len(views)]
                result = future.result()[position]
                if isinstance(result, SigningFailure):
                    raise _WorkerFailedError(f"{result.code}: {result.detail}")
                views.append(
                    _store(
                        session,
                        prepared,
                        result.text,
                        result.verification_method,
                        actor=actor,
                        rows=rows,
                    )
                )

        def send(
            items: Sequence[tuple[Learner, DueAward, LearnerProgress]],
            after: PendingTask | None = None,
        ) -> PendingTask | None:
            if not items:
                return None
            batch = [
                _prepare(
                    rt,
                    session,
                    run.catalogue,
                    learner,
                    item,
                    known=run.issuers,
                    award_id=None,
                    replaces=None,
                    progress=progress,
                )
                for learner, item, progress in items
            ]
            task = pool.submit([jobs.job(prepared) for prepared in batch], after=after)
            pending.extend((prepared, task, i) for i, prepared in enumerate(batch))
            return task

        def send_stacked(lag: int) -> None:
            # An MMS waits until ``lag`` more credentials are sent after its COAs:
            # meanwhile the workers sign those, so neither side waits for the other. It goes
            # to the worker that signed its COAs, whose cache still has them canonicalized.
            while later and later[0][3] <= len(pending) - lag:
                learner, item, progress, sent_before, coas = later.pop(0)
                store_until(sent_before)
                rows.write(session)  # the MMS reads its COAs' rows
                send([(learner, item, progress)], after=coas)

        for learner_id in sorted(learner_ids):
            learner = session.get(Learner, learner_id, with_for_update=True)
            if learner is None:
                raise NotFoundError(f"no learner #{learner_id}")
            progress, due = _due(session, run.catalogue, learner_id)
            coas = send([(learner, item, progress) for item in due if item.award_type != "MMS"])
            later.extend(
                (learner, item, progress, len(pending), coas)
                for item in due
                if item.award_type == "MMS"
            )
            send_stacked(_MMS_LAG)
        send_stacked(0)
        store_until(len(pending))
        rows.write(session)
    return views


class _JobMaker:
    """Signing jobs for one transaction: each carries the key and what self-verification
    reads (our pinned DID documents, our issuers, and the text of every status list the
    credential names, read through the transaction, so lists it opened are included)."""

    def __init__(self, rt: Runtime, session: Session, run: IssuanceRun) -> None:
        self._rt = rt
        self._session = session
        self._run = run
        self._keys: dict[int, tuple[dict[str, str], str | None, str | None]] = {}
        self._texts: dict[str, bytes] = {}
        self._context: SelfCheckContext | None = None
        #: our issuers, read once per transaction (as the signing keys are)
        self._trust: tuple[TrustedIssuer, ...] | None = None
        #: verification methods pinned when the current context was made
        self._methods: set[str] = set()

    def job(self, prepared: _Prepared) -> SigningJob:
        """The job signing ``prepared`` (checks and pins first, as :func:`secure_credential`)."""
        issuer = prepared.issuer
        _check_not_future(prepared.unsigned, prepared.at)
        key, verification_method = _signing_key_pinned(self._rt, issuer, self._run)
        material = self._keys.get(issuer.id)
        if material is None:
            material = self._keys[issuer.id] = (key.to_jwk(private=True), key.id, key.controller)
        return SigningJob(
            unsigned=prepared.unsigned,
            key_jwk=material[0],
            key_id=material[1],
            key_controller=material[2],
            cryptosuite=issuer.cryptosuite,
            verification_method=verification_method,
            created=prepared.at,
            context=self._context_for(prepared.unsigned, verification_method),
        )

    def _context_for(
        self, unsigned: Mapping[str, Any], verification_method: str
    ) -> SelfCheckContext:
        missing = [url for url in _status_urls(unsigned) if url not in self._texts]
        context = self._context
        if context is None or missing or verification_method not in self._methods:
            self._methods.add(verification_method)
            lists = OwnStatusListFetcher(self._rt, self._session)
            for url in missing:
                self._texts[url] = lists.get_bytes(url).body
            if self._trust is None:
                self._trust = tuple(own_issuers(self._rt).issuers.values())
            context = self._context = SelfCheckContext(
                key=uuid.uuid4().hex,
                documents=tuple(self._rt.resolver.pinned_documents()),
                trust=self._trust,
                status_lists=dict(self._texts),
            )
        return context


def _status_urls(credential: Mapping[str, Any]) -> list[str]:
    """The status list URLs ``credential`` and the credentials it embeds name."""
    urls: list[str] = []
    status = credential.get("credentialStatus")
    for entry in status if isinstance(status, list) else [status]:
        if isinstance(entry, Mapping) and isinstance(entry.get("statusListCredential"), str):
            urls.append(entry["statusListCredential"])
    subject = credential.get("credentialSubject")
    embedded = subject.get("verifiableCredential") if isinstance(subject, Mapping) else None
    for inner in embedded if isinstance(embedded, list) else ():
        if isinstance(inner, Mapping):
            urls.extend(_status_urls(inner))
    return urls


def evaluate_learner(rt: Runtime, external_id: str, *, actor: str) -> list[AwardView]:
    """Re-evaluate one learner by student id. Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        learner_id = session.scalar(select(Learner.id).where(Learner.external_id == external_id))
    if learner_id is None:
        raise NotFoundError(f"no learner {external_id!r}")
    return evaluate_learners(rt, [learner_id], actor=actor)
