"""Errors the verifier's own checks raise, each with a stable code.

Spec codes where a spec names one:

- Bitstring Status List 1.0 section 3.5 ("Processing Errors"): ``STATUS_RETRIEVAL_ERROR``,
  ``STATUS_VERIFICATION_ERROR``, ``STATUS_LIST_LENGTH_ERROR``; VC Data Model 2.0 section 7.1
  ``RANGE_ERROR`` (the BSL validate algorithm raises it for an index outside the list) and
  ``MALFORMED_VALUE_ERROR`` (reused from :mod:`contexts.errors`).

Ours (no spec names one): validity (``CREDENTIAL_EXPIRED``, ``CREDENTIAL_NOT_YET_VALID``),
status outcomes (``CREDENTIAL_REVOKED``, ``CREDENTIAL_SUSPENDED``,
``UNSUPPORTED_STATUS_TYPE``), ``SCHEMA_VALIDATION_ERROR``, ``ISSUER_NOT_TRUSTED``,
presentations (``PRESENTATION_NOT_SIGNED``, ``HOLDER_MISMATCH``), the ``STACKING_*`` family and
input (``UNSUPPORTED_INPUT``, ``BAKED_CREDENTIAL_NOT_FOUND``).

Every stacking error subclasses :class:`StackingMismatchError`, so ``except
StackingMismatchError`` catches the family while the report shows the precise code; each one
carries ``credential`` (the COA's id) and ``achievement`` (its achievement's name) in ``extra``.
"""

from __future__ import annotations

from typing import Any

from contexts.errors import MalformedValueError, ParsingError, SijilError

__all__ = [
    "BakedCredentialNotFoundError",
    "CredentialExpiredError",
    "CredentialNotYetValidError",
    "CredentialRevokedError",
    "CredentialSuspendedError",
    "HolderMismatchError",
    "IssuerNotTrustedError",
    "PresentationNotSignedError",
    "RangeError",
    "SchemaValidationError",
    "StackingComponentMissingError",
    "StackingCreditsMismatchError",
    "StackingDuplicateError",
    "StackingInnerInvalidError",
    "StackingInnerRevokedError",
    "StackingInnerStatusUnknownError",
    "StackingIssuerMismatchError",
    "StackingLearnerMismatchError",
    "StackingMismatchError",
    "StackingNotAComponentError",
    "StackingSignerMismatchError",
    "StatusListLengthError",
    "StatusRetrievalError",
    "StatusVerificationError",
    "UnsupportedInputError",
    "UnsupportedStatusTypeError",
]


# --- validity (VC DM 2.0 section 4.9 "Validity Period"; codes ours) ---------------------------


class CredentialExpiredError(SijilError):
    """``validUntil`` (or VC 1.1 ``expirationDate``) is before the verification time."""

    code = "CREDENTIAL_EXPIRED"
    title = "Credential expired"
    http_status = 422


class CredentialNotYetValidError(SijilError):
    """``validFrom`` (or VC 1.1 ``issuanceDate``) is after the verification time."""

    code = "CREDENTIAL_NOT_YET_VALID"
    title = "Credential not yet valid"
    http_status = 422


# --- status (Bitstring Status List 1.0) -----------------------------------------------------


class StatusRetrievalError(SijilError):
    """The status list credential could not be fetched (BSL 1.0 section 3.5, -128)."""

    code = "STATUS_RETRIEVAL_ERROR"
    title = "Could not retrieve the status list"
    http_status = 422


class StatusVerificationError(SijilError):
    """The status list credential failed verification (BSL 1.0 section 3.5, -129)."""

    code = "STATUS_VERIFICATION_ERROR"
    title = "Could not verify the status list"
    http_status = 422


class StatusListLengthError(SijilError):
    """The decoded list is shorter than the minimum of 131,072 entries (BSL 1.0, -130)."""

    code = "STATUS_LIST_LENGTH_ERROR"
    title = "Status list too short"
    http_status = 422


class RangeError(MalformedValueError):
    """The status index points outside the list (BSL 1.0 section 3.2 step 10, VC DM RANGE_ERROR)."""

    code = "RANGE_ERROR"
    title = "Status index out of range"


class UnsupportedStatusTypeError(SijilError):
    """``credentialStatus`` has a type this verifier cannot check (so status is unknown)."""

    code = "UNSUPPORTED_STATUS_TYPE"
    title = "Unsupported status type"
    http_status = 422


class CredentialRevokedError(SijilError):
    """The revocation bit is set: the issuer withdrew the credential."""

    code = "CREDENTIAL_REVOKED"
    title = "Credential revoked"
    http_status = 422


class CredentialSuspendedError(SijilError):
    """The suspension bit is set: the issuer put the credential on hold."""

    code = "CREDENTIAL_SUSPENDED"
    title = "Credential suspended"
    http_status = 422


# --- schema, trust, presentations, input ------------------------------------------------------


class SchemaValidationError(SijilError):
    """The credential does not conform to the OB 3.0 / CLR 2.0 JSON Schema (pointer given)."""

    code = "SCHEMA_VALIDATION_ERROR"
    title = "Credential does not match its JSON Schema"
    http_status = 422


class IssuerNotTrustedError(SijilError):
    """The signature is valid but the issuer is not on the verifier's list of issuers."""

    code = "ISSUER_NOT_TRUSTED"
    title = "Issuer not on your list"
    http_status = 422


class PresentationNotSignedError(SijilError):
    """A presentation carries no proof and the caller did not allow unsigned presentations."""

    code = "PRESENTATION_NOT_SIGNED"
    title = "Presentation is not signed"
    http_status = 422


class HolderMismatchError(SijilError):
    """A presented credential's subject is not the presentation's holder."""

    code = "HOLDER_MISMATCH"
    title = "Credential subject is not the presenter"
    http_status = 422


class UnsupportedInputError(ParsingError):
    """The input is well-formed but not a credential or presentation we can check."""

    code = "UNSUPPORTED_INPUT"
    title = "Not a credential or presentation"


class BakedCredentialNotFoundError(ParsingError):
    """A PNG/SVG image carries no Open Badges 3.0 baked credential."""

    code = "BAKED_CREDENTIAL_NOT_FOUND"
    title = "No credential baked into the image"


# --- stacking (CLR 2.0 MMS; ARCHITECTURE.md "Credential formats") ------------------------------


class StackingMismatchError(SijilError):
    """Base of the stacking family: the MMS does not add up (code ``STACKING_MISMATCH``).

    ``credential`` and ``achievement`` name the COA at fault (``None`` for the statement).
    """

    code = "STACKING_MISMATCH"
    title = "Programme stacking does not add up"
    http_status = 422

    def __init__(
        self,
        detail: str,
        *,
        credential: str | None = None,
        achievement: str | None = None,
        pointer: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(
            detail, pointer=pointer, credential=credential, achievement=achievement, **extra
        )
        self.credential = credential
        self.achievement = achievement


class StackingInnerInvalidError(StackingMismatchError):
    """An embedded COA fails its own verification (proof, validity, schema)."""

    code = "STACKING_INNER_INVALID"
    title = "An embedded credential is invalid"


class StackingInnerRevokedError(StackingMismatchError):
    """An embedded COA is revoked or suspended."""

    code = "STACKING_INNER_REVOKED"
    title = "An embedded credential is revoked or suspended"


class StackingInnerStatusUnknownError(StackingMismatchError):
    """An embedded COA's status could not be checked."""

    code = "STACKING_INNER_STATUS_UNKNOWN"
    title = "Could not check an embedded credential's status"


class StackingSignerMismatchError(StackingMismatchError):
    """An embedded COA is signed by a key its stated issuer does not control."""

    code = "STACKING_SIGNER_MISMATCH"
    title = "An embedded credential is signed by an unrecognised key"


class StackingIssuerMismatchError(StackingMismatchError):
    """An embedded COA's issuer differs from the statement's and they are not both trusted."""

    code = "STACKING_ISSUER_MISMATCH"
    title = "An embedded credential comes from another issuer"


class StackingLearnerMismatchError(StackingMismatchError):
    """An embedded COA is for another learner than the statement."""

    code = "STACKING_LEARNER_MISMATCH"
    title = "An embedded credential is for another learner"


class StackingNotAComponentError(StackingMismatchError):
    """An embedded COA's achievement is not a declared component of the programme."""

    code = "STACKING_NOT_A_COMPONENT"
    title = "An embedded credential is not part of the programme"


class StackingComponentMissingError(StackingMismatchError):
    """A declared component of the programme is covered by no embedded COA."""

    code = "STACKING_COMPONENT_MISSING"
    title = "A programme component is missing"


class StackingDuplicateError(StackingMismatchError):
    """A COA (or a component) is counted more than once."""

    code = "STACKING_DUPLICATE"
    title = "A credential is counted twice"


class StackingCreditsMismatchError(StackingMismatchError):
    """The programme's ``creditsAvailable`` is not the sum of the COAs' ``creditsEarned``."""

    code = "STACKING_CREDITS_MISMATCH"
    title = "Credit totals do not add up"
