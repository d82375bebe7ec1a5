"""The registrar's catalogue as pure, immutable values: micro-credentials, programmes, learners.

These dataclasses are what award rules and credential builders work on; the database models
(:mod:`issuer.db.models`) are mapped to and from them by the services. ``validate()`` methods
raise ``MALFORMED_VALUE_ERROR`` with a JSON pointer for bad input (never ``assert``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from contexts.errors import MalformedValueError

__all__ = [
    "CATEGORIES",
    "DELIVERY_MODES",
    "AssessmentSpec",
    "Category",
    "IssuerProfile",
    "LearnerSpec",
    "MaterialSpec",
    "MicroCredentialSpec",
    "ProgrammeSpec",
]

Category = Literal["programme-based", "stand-alone"]
CATEGORIES: tuple[Category, ...] = ("programme-based", "stand-alone")
DELIVERY_MODES = ("online", "face-to-face", "blended")
#: 1 credit = 40 hours of student learning time (MQA).
SLT_HOURS_PER_CREDIT = 40

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_code(value: str, pointer: str) -> None:
    if not _CODE.match(value):
        raise MalformedValueError(
            f"{value!r} is not a code (letters, digits, '_', '.', '-'; at most 64)",
            pointer=pointer,
        )


def _check_text(value: str, pointer: str, *, max_len: int = 300) -> None:
    if not value.strip() or len(value) > max_len:
        raise MalformedValueError(f"must be 1..{max_len} characters", pointer=pointer)


@dataclass(frozen=True)
class MaterialSpec:
    """A learning material."""

    code: str
    title: str


@dataclass(frozen=True)
class AssessmentSpec:
    """An assessment; passed when the score (percent) is at least ``pass_mark``."""

    code: str
    title: str
    pass_mark: Decimal = Decimal(50)


@dataclass(frozen=True)
class MicroCredentialSpec:
    """A micro-credential as the brochure describes it."""

    code: str
    title: str
    description: str
    credits: int
    slt_hours: int
    mqf_level: int
    delivery_mode: str
    category: Category
    learning_outcomes: tuple[str, ...] = ()
    materials: tuple[MaterialSpec, ...] = ()
    assessments: tuple[AssessmentSpec, ...] = ()
    criteria: str = ""

    def validate(self) -> None:
        """Raise ``MALFORMED_VALUE_ERROR`` (with a pointer) for an impossible micro-credential."""
        _check_code(self.code, "/code")
        _check_text(self.title, "/title")
        _check_text(self.description, "/description", max_len=5000)
        if not 1 <= self.credits <= 60:
            raise MalformedValueError("credits must be 1..60", pointer="/credits")
        if self.slt_hours < 1:
            raise MalformedValueError("sltHours must be positive", pointer="/sltHours")
        if not 1 <= self.mqf_level <= 8:
            raise MalformedValueError("MQF level must be 1..8", pointer="/mqfLevel")
        if self.category not in CATEGORIES:
            raise MalformedValueError(
                f"category must be one of {', '.join(CATEGORIES)}", pointer="/category"
            )
        _check_text(self.delivery_mode, "/deliveryMode", max_len=40)
        if not self.materials and not self.assessments:
            raise MalformedValueError(
                "a micro-credential needs learning materials or assessments", pointer="/materials"
            )
        groups: tuple[tuple[str, Sequence[MaterialSpec | AssessmentSpec]], ...] = (
            ("materials", self.materials),
            ("assessments", self.assessments),
        )
        for kind, items in groups:
            seen: set[str] = set()
            for i, item in enumerate(items):
                _check_code(item.code, f"/{kind}/{i}/code")
                _check_text(item.title, f"/{kind}/{i}/title")
                if item.code in seen:
                    raise MalformedValueError(
                        f"duplicate code {item.code!r}", pointer=f"/{kind}/{i}"
                    )
                seen.add(item.code)
        for i, assessment in enumerate(self.assessments):
            if not Decimal(0) <= assessment.pass_mark <= Decimal(100):
                raise MalformedValueError(
                    "pass mark must be 0..100", pointer=f"/assessments/{i}/passMark"
                )
        for i, outcome in enumerate(self.learning_outcomes):
            _check_text(outcome, f"/learningOutcomes/{i}", max_len=1000)


@dataclass(frozen=True)
class ProgrammeSpec:
    """A programme: the component micro-credentials whose COAs make up its MMS.

    ``mms_per_unit``: also award an MMS for each completed unit (other Malaysian universities do).
    """

    code: str
    title: str
    description: str
    mqf_level: int
    components: tuple[str, ...]
    degree_programme_url: str | None = None
    degree_programme_title: str | None = None
    mms_per_unit: bool = False

    def validate(self) -> None:
        """Raise ``MALFORMED_VALUE_ERROR`` for an impossible programme."""
        _check_code(self.code, "/code")
        _check_text(self.title, "/title")
        _check_text(self.description, "/description", max_len=5000)
        if not 1 <= self.mqf_level <= 8:
            raise MalformedValueError("MQF level must be 1..8", pointer="/mqfLevel")
        if not self.components:
            raise MalformedValueError("a programme needs components", pointer="/components")
        if len(set(self.components)) != len(self.components):
            raise MalformedValueError("duplicate component", pointer="/components")
        for i, code in enumerate(self.components):
            _check_code(code, f"/components/{i}")
        if self.degree_programme_url is not None and not self.degree_programme_url.startswith(
            ("https://", "http://")
        ):
            raise MalformedValueError(
                "degree programme URL must be http(s)", pointer="/degreeProgrammeUrl"
            )


@dataclass(frozen=True)
class LearnerSpec:
    """A learner known by the registrar's student id (``external_id``)."""

    external_id: str
    email: str
    name: str
    did: str | None = None

    def validate(self) -> None:
        """Raise ``MALFORMED_VALUE_ERROR`` for a bad id, email, name or DID."""
        _check_text(self.external_id, "/externalId", max_len=128)
        if not _EMAIL.match(self.email) or len(self.email) > 320:
            raise MalformedValueError(f"{self.email!r} is not an email address", pointer="/email")
        _check_text(self.name, "/name")
        if self.did is not None and not self.did.startswith("did:"):
            raise MalformedValueError("a learner DID starts with 'did:'", pointer="/did")


@dataclass(frozen=True)
class IssuerProfile:
    """The issuer as it appears in a credential's ``issuer`` (an OB 3.0 Profile)."""

    did: str
    name: str
    url: str
    email: str
    image: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
