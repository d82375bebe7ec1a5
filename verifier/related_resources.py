"""``relatedResource``: the integrity of resources a credential refers to (VC DM 2.0 section 5.3).

A credential may pin the exact bytes of resources it links to (an image, a context, a
document) with ``relatedResource``. VC DM 2.0 section 5.3 "Integrity of Related Resources":
the value is one or more objects, each with an ``id`` (the resource's URL), at least one of
``digestSRI`` (a W3C Subresource Integrity metadata string) or ``digestMultibase`` (a
multibase-encoded multihash), and optionally ``mediaType``; and each ``id`` appears once.
An entry that names no resource or carries no digest protects nothing, and two entries for
one ``id`` are ambiguous, so both are errors.

:func:`check_related_resources` is pure (no fetching: whether the referenced bytes still
match is a separate, networked question). The issuer calls it before signing, the verifier
before its schema check, so neither side accepts what the other would refuse.

Errors: ``MALFORMED_VALUE_ERROR`` with the JSON pointer of the offending entry or member.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from contexts.errors import MalformedValueError, SijilError
from keys import multibase

__all__ = ["check_related_resources"]

# SRI 2 section 3.5: hash-algo "-" base64-value ["?" options]; several separated by spaces.
_SRI_TOKEN = re.compile(r"^(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}(\?[\x21-\x7e]*)?$")
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def _check_sri(value: Any, pointer: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise MalformedValueError("digestSRI must be a non-empty string", pointer=pointer)
    for token in value.split():
        if not _SRI_TOKEN.match(token):
            raise MalformedValueError(
                f"digestSRI {token!r} is not Subresource Integrity metadata "
                "(sha256-, sha384- or sha512- followed by base64)",
                pointer=pointer,
            )


def _check_multibase(value: Any, pointer: str) -> None:
    if not isinstance(value, str) or not value:
        raise MalformedValueError("digestMultibase must be a non-empty string", pointer=pointer)
    try:
        decoded = multibase.decode(value)
    except SijilError as exc:
        raise MalformedValueError(
            f"digestMultibase is not a multibase value: {exc.detail}", pointer=pointer
        ) from exc
    if len(decoded) < 3:
        raise MalformedValueError("digestMultibase holds no multihash (too short)", pointer=pointer)


def check_related_resources(document: Mapping[str, Any], *, pointer: str = "") -> None:
    """Raise ``MALFORMED_VALUE_ERROR`` unless ``document.relatedResource`` is well formed.

    Absent: nothing to check. Present: an object or a non-empty list of objects, each with a
    string ``id`` that is an absolute URL, unique among the entries, and at least one of
    ``digestSRI`` / ``digestMultibase`` (each well formed when present); ``mediaType`` a
    string when present. ``pointer`` prefixes the reported pointers (for a credential
    nested in another document).
    """
    if "relatedResource" not in document:
        return
    value = document["relatedResource"]
    base = f"{pointer}/relatedResource"
    entries = value if isinstance(value, list) else [value]
    if not entries:
        raise MalformedValueError("relatedResource must not be an empty list", pointer=base)
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        at = f"{base}/{index}" if isinstance(value, list) else base
        if not isinstance(entry, Mapping):
            raise MalformedValueError("each relatedResource entry must be an object", pointer=at)
        resource_id = entry.get("id")
        if resource_id is None:
            raise MalformedValueError(
                "a relatedResource entry has no id (the URL of the resource it protects)",
                pointer=at,
            )
        if not isinstance(resource_id, str) or not _ABSOLUTE_URL.match(resource_id):
            raise MalformedValueError(
                "a relatedResource id must be an absolute URL", pointer=f"{at}/id"
            )
        if resource_id in seen:
            raise MalformedValueError(
                f"relatedResource names {resource_id!r} twice (entries {seen[resource_id]} "
                f"and {index}); each id must be unique",
                pointer=f"{at}/id",
            )
        seen[resource_id] = index
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            raise MalformedValueError(
                f"the relatedResource entry for {resource_id!r} has neither digestSRI nor "
                "digestMultibase, so it protects nothing",
                pointer=at,
            )
        if "digestSRI" in entry:
            _check_sri(entry["digestSRI"], f"{at}/digestSRI")
        if "digestMultibase" in entry:
            _check_multibase(entry["digestMultibase"], f"{at}/digestMultibase")
        if "mediaType" in entry and not isinstance(entry["mediaType"], str):
            raise MalformedValueError("mediaType must be a string", pointer=f"{at}/mediaType")
