"""Credentials packed into a verification link (the ``c`` query parameter).

A certificate's QR code can carry the signed credential itself, so an employer can check it
even when the issuer's server is unreachable: ``{VERIFIER}/verify?c=<packed>`` where
``packed = base64url(gzip(JSON))`` without padding. The JSON bytes are packed as given; the
proof is checked over the parsed document, so key order and whitespace do not matter.

The issuer imports :func:`pack_credential` and :func:`verification_link` to build QR codes;
the verifier's page uses :func:`unpack_credential`, which bounds both the packed text and the
*decompressed* size (a gzip bomb stops at ``max_bytes``) before the JSON parser sees it.

Errors: ``PARSING_ERROR`` (not base64url / not gzip / not JSON), ``REQUEST_TOO_LARGE``,
``JSON_TOO_DEEP``.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from contexts.errors import MalformedValueError, ParsingError
from webplatform.jsonbody import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_JSON_DEPTH,
    RequestTooLargeError,
    parse_json_bytes,
)

__all__ = ["pack_credential", "unpack_credential", "verification_link"]

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_COMPACT_JWS = re.compile(rb"^ey[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")


def pack_credential(credential: Mapping[str, Any] | str) -> str:
    """Pack a credential (JSON object, or a VC-JWT string) for the ``c`` link parameter.

    The JSON is written compactly; gzip's timestamp is zeroed so packing is deterministic.
    """
    text = (
        credential
        if isinstance(credential, str)
        else json.dumps(credential, separators=(",", ":"), ensure_ascii=False)
    )
    packed = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def verification_link(verifier_base: str, credential: Mapping[str, Any] | str) -> str:
    """The verifier page URL that carries ``credential`` itself (for a QR code)."""
    return f"{verifier_base.rstrip('/')}/verify?{urlencode({'c': pack_credential(credential)})}"


def unpack_credential(
    packed: str,
    *,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_depth: int = DEFAULT_MAX_JSON_DEPTH,
) -> Any:
    """Undo :func:`pack_credential`: a parsed JSON credential, or a VC-JWT string.

    Raises ``PARSING_ERROR``, ``MALFORMED_VALUE_ERROR``, ``REQUEST_TOO_LARGE`` or
    ``JSON_TOO_DEEP``.
    """
    packed = packed.strip().rstrip("=")
    if len(packed) > max_bytes:
        raise RequestTooLargeError(f"packed credential is longer than {max_bytes} characters")
    if not packed or not _BASE64URL.match(packed):
        raise MalformedValueError("the link's credential is not base64url text", pointer="/c")
    try:
        compressed = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedValueError(
            "the link's credential is not base64url text", pointer="/c"
        ) from exc
    # wbits 16+MAX_WBITS: gzip container only; max_length bounds the output of a gzip bomb.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise ParsingError("the link's credential is not gzip data", pointer="/c") from exc
    if len(raw) > max_bytes or inflater.unconsumed_tail:
        raise RequestTooLargeError(f"the link's credential unpacks to more than {max_bytes} bytes")
    if not inflater.eof:
        raise ParsingError("the link's credential is truncated", pointer="/c")
    stripped = raw.strip()
    if _COMPACT_JWS.match(stripped):
        return stripped.decode("ascii")
    return parse_json_bytes(raw, max_bytes=max_bytes, max_depth=max_depth)
