"""SQLAlchemy 2 typed ORM models: the issuer's whole persistent state.

Invariants the schema itself enforces (so a replay or a second process can never break them):

- one unrevoked award per (learner, award type, achievement): the partial unique index
  ``uq_awards_unrevoked_learner_type_achievement`` (a revoked award may have a replacement);
- a signed credential is stored verbatim as the exact JSON text that was signed and verified
  (``Award.credential_json``, TEXT, never re-serialized);
- one completion per (learner, material), one result row per (learner, assessment);
- API tokens are stored only as the SHA-256 of a high-entropy secret;
- the audit log is append-only (ORM guard here, database triggers in the migration).

Column types are portable between SQLite and PostgreSQL. Times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from contexts.errors import SijilError

__all__ = [
    "ApiToken",
    "AppendOnlyError",
    "Assessment",
    "AssessmentResult",
    "AuditEntry",
    "Award",
    "AwardComponent",
    "Base",
    "IdempotencyRecord",
    "Issuer",
    "IssuerKey",
    "Learner",
    "Material",
    "MaterialCompletion",
    "MicroCredential",
    "Programme",
    "ProgrammeComponent",
    "StatusEntry",
    "StatusList",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class AppendOnlyError(SijilError):
    """Something tried to change or delete an audit log entry."""

    code = "AUDIT_LOG_APPEND_ONLY"
    title = "The audit log is append-only"
    http_status = 409


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention (Alembic-friendly)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Issuer(Base):
    """An issuing organisation (faculty, partner university) with its DID and signing keys."""

    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500))
    email: Mapped[str] = mapped_column(String(300))
    image: Mapped[str | None] = mapped_column(String(1000))
    did: Mapped[str] = mapped_column(String(500), unique=True)
    did_method: Mapped[str] = mapped_column(String(8))  # "web" | "key"
    cryptosuite: Mapped[str] = mapped_column(String(40))
    key_type: Mapped[str] = mapped_column(String(10))  # "Ed25519" | "P-256" | "P-384"
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Give each credential a ``suspension`` status entry besides ``revocation``.
    # New issuers: off (OB 3.0 allows one credentialStatus); rows from before keep theirs.
    suspension_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=true())
    created_at: Mapped[datetime]

    keys: Mapped[list[IssuerKey]] = relationship(
        back_populates="issuer", order_by="IssuerKey.id", lazy="selectin"
    )


class IssuerKey(Base):
    """One signing key of an issuer; retired keys stay published so old proofs verify."""

    __tablename__ = "issuer_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    verification_method: Mapped[str] = mapped_column(String(700), unique=True)
    key_type: Mapped[str] = mapped_column(String(10))
    public_key_multibase: Mapped[str] = mapped_column(String(200))
    #: name of the private key in the encrypted key store (never the key itself).
    keystore_name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]

    issuer: Mapped[Issuer] = relationship(back_populates="keys")


class MicroCredential(Base):
    """A short course: the unit COC and COA awards are for."""

    __tablename__ = "micro_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text, default="")
    credits: Mapped[int] = mapped_column(Integer)
    slt_hours: Mapped[int] = mapped_column(Integer)
    mqf_level: Mapped[int] = mapped_column(Integer)
    delivery_mode: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))  # "programme-based" | "stand-alone"
    learning_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)

    materials: Mapped[list[Material]] = relationship(
        order_by="Material.position", lazy="selectin", cascade="all, delete-orphan"
    )
    assessments: Mapped[list[Assessment]] = relationship(
        order_by="Assessment.position", lazy="selectin", cascade="all, delete-orphan"
    )


class Material(Base):
    """A learning material of a micro-credential (completion counts toward COC and COA)."""

    __tablename__ = "materials"
    __table_args__ = (UniqueConstraint("micro_credential_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    micro_credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id"))
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Assessment(Base):
    """An assessment of a micro-credential with its pass mark (percent)."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("micro_credential_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    micro_credential_id: Mapped[int] = mapped_column(ForeignKey("micro_credentials.id"))
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Programme(Base):
    """A programme grouping programme-based micro-credentials (MMS awards)."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    mqf_level: Mapped[int] = mapped_column(Integer)
    degree_programme_url: Mapped[str | None] = mapped_column(String(1000))
    degree_programme_title: Mapped[str | None] = mapped_column(String(300))
    mms_per_unit: Mapped[bool] = mapped_column(Boolean, default=False)

    components: Mapped[list[ProgrammeComponent]] = relationship(
        order_by="ProgrammeComponent.position", lazy="selectin", cascade="all, delete-orphan"
    )


class ProgrammeComponent(Base):
    """A micro-credential whose COA a programme requires."""

    __tablename__ = "programme_components"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    micro_credential_id: Mapped[int] = mapped_column(
        ForeignKey("micro_credentials.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    micro_credential: Mapped[MicroCredential] = relationship(lazy="selectin")


class Learner(Base):
    """A learner; ``salt`` is fixed at creation so every award's email hash matches."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300))
    did: Mapped[str | None] = mapped_column(String(500))
    salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class MaterialCompletion(Base):
    """A learner completed a material (first completion wins; replays are no-ops)."""

    __tablename__ = "material_completions"
    __table_args__ = (UniqueConstraint("learner_id", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    completed_at: Mapped[datetime]


class AssessmentResult(Base):
    """A learner's best result in an assessment (a lower retake never un-passes)."""

    __tablename__ = "assessment_results"
    __table_args__ = (UniqueConstraint("learner_id", "assessment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    grade: Mapped[str | None] = mapped_column(String(16))
    recorded_at: Mapped[datetime]


#: Rows the "one current award per achievement" rule counts: revoked awards are history.
_UNREVOKED: Final = text("status != 'revoked'")


class Award(Base):
    """An issued award and its signed credential, stored verbatim.

    At most one unrevoked award per (learner, award type, achievement code); revoked ones stay
    as history, and a replacement names the award it replaces in ``replaces_id``.
    """

    __tablename__ = "awards"
    __table_args__ = (
        Index(
            "uq_awards_unrevoked_learner_type_achievement",
            "learner_id",
            "award_type",
            "achievement_code",
            unique=True,
            sqlite_where=_UNREVOKED,
            postgresql_where=_UNREVOKED,
        ),
    )

    #: UUID; the credential id is ``{BASE}/credentials/{id}``.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    award_type: Mapped[str] = mapped_column(String(3))  # "COC" | "COA" | "MMS"
    #: micro-credential code (COC, COA), programme code (MMS) or "PROG/UNIT" (per-unit MMS).
    achievement_code: Mapped[str] = mapped_column(String(140))
    micro_credential_id: Mapped[int | None] = mapped_column(ForeignKey("micro_credentials.id"))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(700), unique=True)
    credential_json: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="active")
    status_changed_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    #: The revoked (or superseded) award this one replaces (:mod:`issuer.services.reissue`).
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("awards.id"), index=True)


class AwardComponent(Base):
    """Which COA awards an MMS embeds (for re-issue when a COA is revoked)."""

    __tablename__ = "award_components"

    award_id: Mapped[str] = mapped_column(ForeignKey("awards.id"), primary_key=True)
    component_award_id: Mapped[str] = mapped_column(ForeignKey("awards.id"), primary_key=True)


class StatusList(Base):
    """One published Bitstring Status List (one purpose, one issuer) at ``{BASE}/status/<id>``.

    ``version`` grows with every bit change (under a row lock); the stored signed list is
    current when ``signed_version == version``.
    """

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "revocation" | "suspension"
    sequence: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    is_full: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    signed_version: Mapped[int] = mapped_column(Integer, default=0)
    signed_json: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]


class StatusEntry(Base):
    """One allocated index of a status list: never handed out twice (``UNIQUE(list, index)``)."""

    __tablename__ = "status_entries"
    __table_args__ = (UniqueConstraint("list_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    index: Mapped[int] = mapped_column(Integer)
    credential_id: Mapped[str | None] = mapped_column(String(700), index=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
    allocated_at: Mapped[datetime]
    changed_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token: only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One append-only audit record: who did what to which target, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(700))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IdempotencyRecord(Base):
    """A remembered answer to a POST carrying an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(*_args: object) -> None:
    raise AppendOnlyError("audit log entries are never changed or deleted")
