"""Structural checks of a caller-supplied credential before the issuer signs it.

``POST /credentials/issue`` (VC-API) signs a credential the caller wrote, so the issuer first
checks that the VC Data Model allows it: signing something the data model forbids would hand out
a proof that no conforming verifier accepts. The checks are the data model's MUSTs that can be
decided on the JSON alone; what needs JSON-LD (undefined terms, relative IRIs) is caught by
safe-mode expansion when the proof is created (``DATA_LOSS_DETECTION_ERROR``).

Both VC Data Model 2.0 (base context ``https://www.w3.org/ns/credentials/v2``) and 1.1
(``https://www.w3.org/2018/credentials/v1``) are accepted; the Data Integrity layer appends the
``data-integrity/v2`` context to 1.1 credentials when it signs them.

Every refusal is a :class:`contexts.errors.MalformedValueError` (``MALFORMED_VALUE_ERROR``,
HTTP 400) whose ``pointer`` (RFC 6901) names the offending member. Whether the issuer is the
signing issuer is the signing service's check (``ISSUER_MISMATCH``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from contexts.errors import MalformedValueError

__all__ = [
    "VC1_CONTEXT",
    "VC2_CONTEXT",
    "ValidityPeriod",
    "VcVersion",
    "is_url",
    "issuer_id",
    "parse_datetime",
    "validate_credential",
    "validity_period",
]

VC2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
VC1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"

VcVersion = Literal["2.0", "1.1"]

# RFC 3986 scheme followed by a non-empty remainder without whitespace. The data model asks
# for URLs (2.0) / URIs (1.1); relative references are refused because they expand to nothing.
_URL_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
# XML Schema 1.1 dateTimeStamp: a dateTime with a mandatory timezone (VC DM 2.0 section 4.9).
_DATETIME_RE: Final = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+\-]\d{2}:\d{2})$"
)
# Members whose values are objects (or sets of objects) that must carry a `type`
# (VC DM 2.0 sections 4.10-4.13, 5.4-5.6).
_TYPED_MEMBERS: Final = (
    "credentialStatus",
    "credentialSchema",
    "evidence",
    "refreshService",
    "termsOfUse",
)
# Members that must carry an `id` URL besides their `type`.
_ID_REQUIRED_MEMBERS: Final = ("credentialSchema", "refreshService")


def _ptr(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer from path parts."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def is_url(value: object) -> bool:
    """Whether ``value`` is an absolute URL/URI string (a scheme and no whitespace)."""
    return isinstance(value, str) and _URL_RE.match(value) is not None


def parse_datetime(value: object, pointer: str) -> datetime:
    """Parse an XML Schema ``dateTimeStamp`` (timezone required), or raise.

    Raises ``MALFORMED_VALUE_ERROR`` with ``pointer`` for a non-string, a date without time or
    timezone, or an impossible date (``2026-02-30``).
    """
    if not isinstance(value, str) or _DATETIME_RE.match(value) is None:
        raise MalformedValueError(
            "must be an XML Schema dateTime with a timezone, e.g. 2026-11-29T00:00:00Z",
            pointer=pointer,
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedValueError(f"is not a valid date and time ({exc})", pointer=pointer) from exc


def _version(credential: Mapping[str, Any]) -> VcVersion:
    """VC DM 2.0 section 4.3 / 1.1 section 4.1: the first context names the data model."""
    if "@context" not in credential:
        raise MalformedValueError("a credential must have an @context", pointer="/@context")
    ctx = credential["@context"]
    items: list[Any]
    if isinstance(ctx, str):
        items = [ctx]
    elif isinstance(ctx, list) and ctx:
        items = ctx
    else:
        raise MalformedValueError(
            "@context must be a non-empty array of context URLs or objects", pointer="/@context"
        )
    first = items[0]
    if first == VC2_CONTEXT:
        version: VcVersion = "2.0"
    elif first == VC1_CONTEXT:
        version = "1.1"
    else:
        raise MalformedValueError(
            f"the first @context item must be {VC2_CONTEXT} (VC 2.0) or {VC1_CONTEXT} (VC 1.1)",
            pointer=_ptr("@context", 0) if isinstance(ctx, list) else "/@context",
        )
    for index, item in enumerate(items[1:], start=1):
        if isinstance(item, str):
            if not is_url(item):
                raise MalformedValueError(
                    "a context must be a URL or an object", pointer=_ptr("@context", index)
                )
            if item in (VC1_CONTEXT, VC2_CONTEXT):
                raise MalformedValueError(
                    "a credential cannot mix the VC 1.1 and VC 2.0 base contexts",
                    pointer=_ptr("@context", index),
                )
        elif not isinstance(item, dict):
            raise MalformedValueError(
                "a context must be a URL or an object", pointer=_ptr("@context", index)
            )
    return version


def _check_types(value: object, pointer: str, *, must_include: str | None = None) -> None:
    """A ``type`` is a string or a non-empty array of strings (VC DM 2.0 section 4.5)."""
    if isinstance(value, str):
        types = [value]
    elif isinstance(value, list) and value and all(isinstance(t, str) for t in value):
        types = value
    else:
        raise MalformedValueError(
            "type must be a string or a non-empty array of strings", pointer=pointer
        )
    if any(not t for t in types):
        raise MalformedValueError("a type cannot be an empty string", pointer=pointer)
    if must_include is not None and must_include not in types:
        raise MalformedValueError(f"type must include {must_include!r}", pointer=pointer)


def issuer_id(credential: Mapping[str, Any]) -> str:
    """The issuer's URL: ``issuer`` itself or ``issuer.id`` (VC DM 2.0 section 4.7).

    Raises ``MALFORMED_VALUE_ERROR`` when the issuer is missing or is not a URL.
    """
    if "issuer" not in credential:
        raise MalformedValueError("a credential must have an issuer", pointer="/issuer")
    issuer = credential["issuer"]
    if isinstance(issuer, str):
        if not is_url(issuer):
            raise MalformedValueError("issuer must be a URL", pointer="/issuer")
        return issuer
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            raise MalformedValueError("issuer.id must be a URL", pointer="/issuer/id")
        ident: str = issuer["id"]
        return ident
    raise MalformedValueError("issuer must be a URL or an object with an id URL", pointer="/issuer")


def _objects(value: object, pointer: str, what: str) -> list[tuple[str, dict[str, Any]]]:
    """One object or a non-empty array of objects, with each item's pointer."""
    if isinstance(value, dict):
        return [(pointer, value)]
    if isinstance(value, list) and value:
        out: list[tuple[str, dict[str, Any]]] = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise MalformedValueError(
                    f"each {what} must be an object", pointer=f"{pointer}/{index}"
                )
            out.append((f"{pointer}/{index}", item))
        return out
    raise MalformedValueError(
        f"{what} must be an object or a non-empty array of objects", pointer=pointer
    )


def _check_subjects(credential: Mapping[str, Any]) -> None:
    """VC DM 2.0 section 4.8: one or more subjects, each the subject of one or more claims."""
    if "credentialSubject" not in credential:
        raise MalformedValueError(
            "a credential must have a credentialSubject", pointer="/credentialSubject"
        )
    for pointer, subject in _objects(
        credential["credentialSubject"], "/credentialSubject", "credentialSubject"
    ):
        if not subject:
            raise MalformedValueError("a credentialSubject cannot be empty", pointer=pointer)
        if "id" in subject and not is_url(subject["id"]):
            raise MalformedValueError("credentialSubject.id must be a URL", pointer=pointer + "/id")


def _check_validity(credential: Mapping[str, Any], version: VcVersion) -> None:
    """VC DM 2.0 section 4.9 (validFrom/validUntil), 1.1 sections 4.6-4.7 (issuance/expiration)."""
    if version == "2.0":
        for legacy in ("issuanceDate", "expirationDate"):
            if legacy in credential:
                raise MalformedValueError(
                    f"{legacy} is a VC 1.1 property; VC 2.0 uses validFrom/validUntil",
                    pointer=_ptr(legacy),
                )
    elif "issuanceDate" not in credential:
        raise MalformedValueError(
            "a VC 1.1 credential must have an issuanceDate", pointer="/issuanceDate"
        )
    period = validity_period(credential)
    if period.start is not None and period.end is not None and period.start > period.end:
        raise MalformedValueError(
            f"{period.start_name} must not be later than {period.end_name}",
            pointer=_ptr(period.end_name),
        )


@dataclass(frozen=True)
class ValidityPeriod:
    """When a credential is valid: ``validFrom``/``validUntil`` (2.0) or ``issuanceDate``/
    ``expirationDate`` (1.1), each None when absent."""

    start: datetime | None
    end: datetime | None
    start_name: str
    end_name: str


def validity_period(credential: Mapping[str, Any]) -> ValidityPeriod:
    """The credential's validity period. Raises ``MALFORMED_VALUE_ERROR`` for a bad date."""
    if _version(credential) == "2.0":
        start_name, end_name = "validFrom", "validUntil"
    else:
        start_name, end_name = "issuanceDate", "expirationDate"
    start = (
        parse_datetime(credential[start_name], _ptr(start_name))
        if start_name in credential
        else None
    )
    end = parse_datetime(credential[end_name], _ptr(end_name)) if end_name in credential else None
    return ValidityPeriod(start, end, start_name, end_name)


def _check_typed_members(credential: Mapping[str, Any]) -> None:
    """Status, schema, evidence, refresh and terms-of-use entries each need a ``type``."""
    for member in _TYPED_MEMBERS:
        if member not in credential:
            continue
        for pointer, item in _objects(credential[member], _ptr(member), member):
            if "type" not in item:
                raise MalformedValueError(
                    f"each {member} must have a type", pointer=pointer + "/type"
                )
            _check_types(item["type"], pointer + "/type")
            if "id" in item and not is_url(item["id"]):
                raise MalformedValueError(f"{member}.id must be a URL", pointer=pointer + "/id")
            if member in _ID_REQUIRED_MEMBERS and "id" not in item:
                raise MalformedValueError(
                    f"each {member} must have an id URL", pointer=pointer + "/id"
                )


def validate_credential(credential: object, *, issuer_required: bool = True) -> VcVersion:
    """Check ``credential`` against the VC Data Model's structural rules; return its version.

    Checked (VC DM 2.0 sections 4.3-4.13, 1.1 section 4): a JSON object; ``@context`` first item
    is the 2.0 or 1.1 base context and no mixing; ``type`` includes ``VerifiableCredential``;
    ``id`` (if any) is a URL; ``issuer`` is a URL or an object with an ``id`` URL;
    ``credentialSubject`` is one or more non-empty objects; ``validFrom``/``validUntil`` (2.0) or
    ``issuanceDate`` (required)/``expirationDate`` (1.1) are dateTimes with a timezone, in order;
    status/schema/evidence/refresh/terms entries carry a ``type``; no ``proof`` yet (signing a
    signed credential is a presentation's job, not the issuer's).

    ``issuer_required=False`` accepts a credential without ``issuer`` (the VC-API issue route
    fills in the signing issuer; one that is present is still checked).

    Raises ``MALFORMED_VALUE_ERROR`` with a pointer to the first problem found.
    """
    if not isinstance(credential, dict):
        raise MalformedValueError("a credential must be a JSON object", pointer="")
    version = _version(credential)
    if "type" not in credential:
        raise MalformedValueError("a credential must have a type", pointer="/type")
    _check_types(credential["type"], "/type", must_include="VerifiableCredential")
    if "id" in credential and not is_url(credential["id"]):
        raise MalformedValueError("id must be a URL", pointer="/id")
    if issuer_required or "issuer" in credential:
        issuer_id(credential)
    _check_subjects(credential)
    _check_validity(credential, version)
    _check_typed_members(credential)
    if "proof" in credential:
        raise MalformedValueError(
            "the credential already has a proof; send it unsigned", pointer="/proof"
        )
    return version
