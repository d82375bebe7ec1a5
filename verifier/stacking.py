"""Programme stacking: does a CLR 2.0 MMS add up? (ARCHITECTURE.md "Credential formats").

An MMS (``ClrCredential``, ``awardType`` ``MMS``) embeds the learner's signed COAs in
``credentialSubject.verifiableCredential``; its programme achievement's declared components
are the ``isChildOf`` associations targeting it. The statement stacks when:

1. every embedded COA verifies on its own (proof, issuer binding, validity, status, schema),
   checked by :mod:`verifier.report` with the same machinery as any credential;
2. every COA has the statement's issuer, unless both issuers are on the trust list;
3. every COA is for the statement's learner: the same ``credentialSubject.id`` when both have
   one, else a shared salted identity hash (``identityHash`` with the same ``salt``);
4. every COA's achievement is a declared component, and each component is covered exactly
   once (no COA and no component counted twice);
5. no COA earns more credits than its achievement offers, and the programme's
   ``creditsAvailable`` equals the sum of the COAs' ``creditsEarned``.

These programme rules apply to a statement whose award type is ``MMS``; any other CLR is a
Comprehensive Learner Record, never shown as an MMS: its embedded credentials must verify and
be about its learner (:func:`check_embedded`).

Pure: it reads the statement's model and the embedded COAs' verification outcomes
(:class:`EmbeddedResult`) and raises; it never fetches. All problems are reported at once
(an ``ExceptionGroup`` of ``STACKING_*`` errors), each naming the COA (id and achievement
name) and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contexts.errors import SijilError

from .errors import (
    StackingComponentMissingError,
    StackingCreditsMismatchError,
    StackingDuplicateError,
    StackingInnerInvalidError,
    StackingInnerRevokedError,
    StackingInnerStatusUnknownError,
    StackingIssuerMismatchError,
    StackingLearnerMismatchError,
    StackingMismatchError,
    StackingNotAComponentError,
    StackingSignerMismatchError,
)
from .models import Achievement, Credential, Subject
from .outcome import Outcome
from .trust import TrustList

__all__ = [
    "ClrLearnerUnconfirmedError",
    "EmbeddedResult",
    "InnerCheck",
    "check_embedded",
    "check_stacking",
    "same_learner",
]

_REVOKED_CODES = frozenset({"CREDENTIAL_REVOKED", "CREDENTIAL_SUSPENDED"})


@dataclass(frozen=True)
class InnerCheck:
    """One check of an embedded credential's own verification."""

    status: str
    codes: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class EmbeddedResult:
    """An embedded credential's verification outcome, as stacking needs it."""

    index: int
    credential: Credential | None
    verdict: str
    checks: Mapping[str, InnerCheck]

    @classmethod
    def from_report(cls, index: int, report: Any) -> EmbeddedResult:
        """From a :class:`verifier.report.VerificationReport` (duck-typed: no import cycle)."""
        checks = {
            name: InnerCheck(str(result.status), tuple(result.codes), str(result.message))
            for name, result in report.checks.items()
        }
        return cls(index=index, credential=report.model, verdict=str(report.verdict), checks=checks)

    def label(self) -> tuple[str, str | None, str | None]:
        """``(sentence label, credential id, achievement name)``."""
        credential = self.credential
        if credential is None:
            return f"embedded credential #{self.index + 1}", None, None
        achievement = (
            credential.subject.achievements[0] if credential.subject.achievements else None
        )
        name = achievement.name if achievement is not None else credential.name
        ident = credential.id or f"#{self.index + 1}"
        return f"COA {ident} ({name or 'unnamed achievement'})", credential.id, name


def same_learner(statement: Subject, coa: Subject) -> bool:
    """Same subject id when both have one; else a shared (identityType, hash, salt)."""
    if statement.id is not None and coa.id is not None:
        return statement.id == coa.id
    return bool(statement.hashed_identities & coa.hashed_identities)


def _inner_errors(item: EmbeddedResult) -> list[StackingMismatchError]:
    """The first reason, in check order, why an embedded COA does not verify on its own."""
    label, ident, name = item.label()
    checks = item.checks

    def failed(check: str) -> InnerCheck | None:
        result = checks.get(check)
        return result if result is not None and result.status == "failed" else None

    binding = failed("issuer_binding")
    if binding is not None:
        issuer = item.credential.issuer.id if item.credential else "its issuer"
        return [
            StackingSignerMismatchError(
                f"{label} is signed by a key that does not belong to its issuer {issuer}.",
                credential=ident,
                achievement=name,
                codes=list(binding.codes),
            )
        ]
    proof = checks.get("proof")
    if proof is not None and proof.status == "unknown":
        return [
            StackingInnerInvalidError(
                f"{label}: could not check its signature ({', '.join(proof.codes)}). "
                f"{proof.message}",
                credential=ident,
                achievement=name,
                codes=list(proof.codes),
            )
        ]
    for check, reason in (
        ("proof", "its signature does not verify"),
        ("validity", "it is outside its validity period"),
    ):
        result = failed(check)
        if result is not None:
            return [
                StackingInnerInvalidError(
                    f"{label}: {reason} ({', '.join(result.codes)}). {result.message}",
                    credential=ident,
                    achievement=name,
                    codes=list(result.codes),
                )
            ]
    status = checks.get("status")
    if status is not None and status.status == "failed":
        if _REVOKED_CODES & set(status.codes):
            what = "revoked" if "CREDENTIAL_REVOKED" in status.codes else "suspended"
            return [
                StackingInnerRevokedError(
                    f"{label} has been {what} by its issuer.",
                    credential=ident,
                    achievement=name,
                    codes=list(status.codes),
                )
            ]
        return [
            StackingInnerInvalidError(
                f"{label}: its status entry is malformed ({', '.join(status.codes)}).",
                credential=ident,
                achievement=name,
                codes=list(status.codes),
            )
        ]
    if status is not None and status.status == "unknown":
        return [
            StackingInnerStatusUnknownError(
                f"{label}: could not check its status. {status.message}",
                credential=ident,
                achievement=name,
                codes=list(status.codes),
            )
        ]
    schema = failed("schema")
    if schema is not None:
        return [
            StackingInnerInvalidError(
                f"{label} is malformed: {schema.message}",
                credential=ident,
                achievement=name,
                codes=list(schema.codes),
            )
        ]
    return []


def _components(statement: Credential, programme: Achievement) -> list[str]:
    return list(
        dict.fromkeys(
            a.source_id
            for a in statement.subject.associations
            if a.association_type == "isChildOf"
            and a.target_id == programme.id
            and a.source_id is not None
        )
    )


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _comparable(record: Credential, item: Credential) -> bool:
    """Whether two subjects' identifiers can say "same" or "different" learner: both have
    subject ids, or both come from one issuer (which keeps one salted identity per learner)."""
    if record.subject.id is not None and item.subject.id is not None:
        return True
    return record.issuer.id == item.issuer.id


def check_embedded(record: Credential, embedded: Sequence[EmbeddedResult]) -> Outcome:
    """For a Comprehensive Learner Record that is not a sijil MMS: its own checks.

    A general CLR 2.0 gathers achievements from many issuers with no programme rules, so no
    stacking applies; but every embedded credential must verify on its own (STACKING_INNER_*
    codes) and be about the record's learner: one whose identifiers show another learner
    (different subject ids, or the record's own issuer's salted identity not matching) is
    ``STACKING_LEARNER_MISMATCH``; one whose identifiers cannot be compared (another issuer's
    identifier scheme, no subject ids) is a ``CLR_LEARNER_UNCONFIRMED`` warning.
    """
    errors: list[StackingMismatchError] = []
    unconfirmed: list[str] = []
    for item in embedded:
        errors.extend(_inner_errors(item))
        coa = item.credential
        if coa is None:
            continue
        label, ident, name = item.label()
        if same_learner(record.subject, coa.subject):
            continue
        if _comparable(record, coa):
            errors.append(
                StackingLearnerMismatchError(
                    f"{label} is for another learner than the record "
                    f"({coa.subject.learner_name or coa.subject.id or 'unnamed'}).",
                    credential=ident,
                    achievement=name,
                )
            )
        else:
            unconfirmed.append(label)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ExceptionGroup("embedded", errors)
    message = (
        "A Comprehensive Learner Record, not a programme statement (MMS): its "
        f"{len(embedded)} embedded credentials verify and no programme rules apply."
    )
    if unconfirmed:
        warning = ClrLearnerUnconfirmedError(
            "Could not confirm that these embedded credentials are about the record's "
            f"learner: {'; '.join(unconfirmed)}."
        )
        return Outcome(message, state="warning", warnings=(warning,))
    return Outcome(message)


class ClrLearnerUnconfirmedError(SijilError):
    """Warning: an embedded credential's learner cannot be compared with the record's."""

    code = "CLR_LEARNER_UNCONFIRMED"
    title = "Learner of an embedded credential not confirmed"
    http_status = 422


def check_stacking(
    statement: Credential, embedded: Sequence[EmbeddedResult], trust: TrustList | None
) -> Outcome:
    """Check that the MMS ``statement`` stacks (see module docstring).

    Raises one ``STACKING_*`` error, or an ``ExceptionGroup`` of them: STACKING_MISMATCH (no
    programme), STACKING_INNER_INVALID, STACKING_INNER_REVOKED, STACKING_INNER_STATUS_UNKNOWN,
    STACKING_SIGNER_MISMATCH, STACKING_ISSUER_MISMATCH, STACKING_LEARNER_MISMATCH,
    STACKING_NOT_A_COMPONENT, STACKING_DUPLICATE, STACKING_COMPONENT_MISSING,
    STACKING_CREDITS_MISMATCH.
    """
    programme = statement.programme_achievement
    if programme is None or programme.id is None:
        raise StackingMismatchError("The statement names no programme achievement.")
    programme_name = f"programme {programme.label}"
    programme_label = f"the {programme_name}"
    components = _components(statement, programme)
    names = {a.id: a.label for a in statement.subject.achievements if a.id is not None}
    errors: list[StackingMismatchError] = []
    if not components:
        errors.append(
            StackingComponentMissingError(f"The {programme_name} declares no components.")
        )

    covered: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    total = Decimal(0)
    for item in embedded:
        label, ident, name = item.label()
        errors.extend(_inner_errors(item))
        coa = item.credential
        if coa is None:
            continue
        if ident is not None:
            if ident in seen_ids:
                errors.append(
                    StackingDuplicateError(
                        f"{label} is embedded more than once.", credential=ident, achievement=name
                    )
                )
                continue
            seen_ids[ident] = label
        if coa.issuer.id != statement.issuer.id and not (
            trust is not None
            and trust.is_trusted(coa.issuer.id)
            and trust.is_trusted(statement.issuer.id)
        ):
            errors.append(
                StackingIssuerMismatchError(
                    f"{label} is issued by {coa.issuer.id}, not by the statement's issuer "
                    f"{statement.issuer.id}, and they are not both on your list.",
                    credential=ident,
                    achievement=name,
                )
            )
        if not same_learner(statement.subject, coa.subject):
            errors.append(
                StackingLearnerMismatchError(
                    f"{label} is for another learner than the statement "
                    f"({coa.subject.learner_name or coa.subject.id or 'unnamed'}).",
                    credential=ident,
                    achievement=name,
                )
            )
        achievement = coa.subject.achievements[0] if coa.subject.achievements else None
        achievement_id = achievement.id if achievement is not None else None
        if achievement_id is None or achievement_id not in components:
            errors.append(
                StackingNotAComponentError(
                    f"{label}: its achievement {achievement_id} is not a declared component of "
                    f"{programme_label}.",
                    credential=ident,
                    achievement=name,
                )
            )
            continue
        if achievement_id in covered:
            errors.append(
                StackingDuplicateError(
                    f"{label} covers the component {names.get(achievement_id, achievement_id)} "
                    f"already covered by {covered[achievement_id]}.",
                    credential=ident,
                    achievement=name,
                )
            )
            continue
        covered[achievement_id] = label
        earned = coa.subject.credits_earned
        if earned is None:
            errors.append(
                StackingCreditsMismatchError(
                    f"{label} states no creditsEarned.", credential=ident, achievement=name
                )
            )
            continue
        offered = achievement.credits_available if achievement is not None else None
        if offered is not None and earned > offered:
            errors.append(
                StackingCreditsMismatchError(
                    f"{label} claims {_fmt(earned)} credits earned, but its achievement offers "
                    f"only {_fmt(offered)}.",
                    credential=ident,
                    achievement=name,
                )
            )
        total += earned

    for component in components:
        if component not in covered:
            errors.append(
                StackingComponentMissingError(
                    f"The component {names.get(component, component)} of {programme_label} is "
                    "not covered by any embedded COA.",
                    achievement=names.get(component, component),
                    component=component,
                )
            )
    available = programme.credits_available
    if available is None:
        errors.append(
            StackingCreditsMismatchError(f"The {programme_name} states no creditsAvailable.")
        )
    elif available != total:
        errors.append(
            StackingCreditsMismatchError(
                f"The {programme_name} states {_fmt(available)} credits, but its COAs earn "
                f"{_fmt(total)} in total.",
                programme=programme.id,
            )
        )
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ExceptionGroup("stacking", errors)
    return Outcome(
        f"All {len(embedded)} COAs verify, are for the same learner, cover the "
        f"{len(components)} components of {programme_label} once each and add up to "
        f"{_fmt(total)} credits."
    )
