"""What the verifier was given: JSON-LD, a VC-JWT, or a baked PNG/SVG, sniffed once.

:func:`load_input` turns a dict, text or bytes into a :class:`LoadedInput`: either a JSON
object (credential or presentation) or a compact JWS (a VC-JWT), plus the format it came in
(for the report). Bytes are unbaked first when they are a PNG or an SVG (Open Badges 3.0
section "Baking", :mod:`verifier.baked`); a PDF certificate gives its attached credential and
its printed text (:mod:`verifier.pdf`).

Errors: ``PARSING_ERROR`` (not JSON / not a JWT / not UTF-8 / an unreadable PDF),
``UNSUPPORTED_INPUT`` (JSON that is not an object), ``BAKED_CREDENTIAL_NOT_FOUND``,
``PDF_CREDENTIAL_NOT_FOUND``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from contexts.errors import MalformedValueError, ParsingError
from contexts.jsontext import loads_strict

from .baked import is_png, is_svg, unbake
from .errors import UnsupportedInputError
from .pdf import is_pdf, read_pdf_certificate

__all__ = [
    "InputFormat",
    "LoadedInput",
    "is_compact_jws",
    "load_embedded_credential",
    "load_input",
    "parse_json_text",
    "require_unicode_text",
]

InputFormat = Literal["json-ld", "vc-jwt", "png", "svg", "pdf"]

_COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_ENVELOPED_PREFIXES = ("data:application/vc+jwt,", "data:application/vp+jwt,")


def is_compact_jws(text: str) -> bool:
    """Whether ``text`` has the shape of a JWS compact serialization (three segments)."""
    return bool(_COMPACT_JWS.match(text))


@dataclass(frozen=True)
class LoadedInput:
    """Exactly one of ``document`` (a JSON object) or ``token`` (a compact JWS)."""

    format: InputFormat
    document: Mapping[str, Any] | None = None
    token: str | None = None
    #: the text printed on a PDF certificate's page (``pdf`` inputs only), to compare with
    #: what its attached credential says.
    printed_text: str | None = None


def parse_json_text(text: str) -> Any:
    """Strict JSON (:func:`contexts.jsontext.loads_strict`): no duplicate members (ambiguous for
    signatures), no NaN/Infinity; every failure is ``PARSING_ERROR``."""
    return loads_strict(text)


def _from_text(text: str, fmt: InputFormat) -> LoadedInput:
    stripped = text.strip().lstrip("\ufeff")
    for prefix in _ENVELOPED_PREFIXES:
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix) :]
    if stripped.startswith("{") or stripped.startswith("["):
        value = parse_json_text(stripped)
        if isinstance(value, str) and is_compact_jws(value.strip()):
            return LoadedInput(format="vc-jwt" if fmt == "json-ld" else fmt, token=value.strip())
        if not isinstance(value, dict):
            raise UnsupportedInputError("the JSON input is not an object")
        return LoadedInput(format=fmt, document=value)
    if stripped.startswith('"'):
        value = parse_json_text(stripped)
        if isinstance(value, str) and is_compact_jws(value.strip()):
            return LoadedInput(format="vc-jwt" if fmt == "json-ld" else fmt, token=value.strip())
        raise UnsupportedInputError("the JSON input is a string but not a VC-JWT")
    if is_compact_jws(stripped):
        return LoadedInput(format="vc-jwt" if fmt == "json-ld" else fmt, token=stripped)
    raise ParsingError("the input is neither JSON, a VC-JWT, nor a baked PNG/SVG badge")


def require_unicode_text(value: Any) -> None:
    """Raise ``PARSING_ERROR`` when a string (or object key) anywhere in ``value`` holds a lone
    surrogate: JSON can escape one (``"\\ud800"``), but it is not Unicode text (RFC 7493
    section 2.1), so it can be neither canonicalized nor signed nor sent back as UTF-8.

    Iterative, so any nesting depth is safe. JSON values are first written by the C encoder
    (strings as they are), which fails exactly on a lone surrogate; only what it cannot
    write (very deep nesting, non-JSON types) is walked here.
    """
    try:
        json.dumps(value, ensure_ascii=False, check_circular=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ParsingError(
            "the input holds a lone surrogate (\\ud800-\\udfff), not Unicode text"
        ) from None
    except (RecursionError, TypeError, ValueError):
        pass
    else:
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ParsingError(
                    "the input holds a lone surrogate (\\ud800-\\udfff), not Unicode text"
                ) from None
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def load_input(data: Mapping[str, Any] | str | bytes) -> LoadedInput:
    """Sniff ``data`` and return what to verify.

    ``dict``: a JSON-LD credential or presentation. ``str``: JSON text or a compact VC-JWT
    (also ``data:application/vc+jwt,...``). ``bytes``: a baked PNG or SVG, else UTF-8 text as
    for ``str``. Raises ``PARSING_ERROR`` / ``UNSUPPORTED_INPUT`` /
    ``BAKED_CREDENTIAL_NOT_FOUND``.
    """
    loaded = _load(data)
    if loaded.document is not None:
        require_unicode_text(loaded.document)
    return loaded


def _load(data: Mapping[str, Any] | str | bytes) -> LoadedInput:
    if isinstance(data, Mapping):
        return LoadedInput(format="json-ld", document=data)
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        if is_png(raw):
            return _from_text(unbake(raw), "png")
        if is_svg(raw):
            return _from_text(unbake(raw), "svg")
        if is_pdf(raw):
            return _from_pdf(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParsingError("the input is not UTF-8 text, a PNG, an SVG or a PDF") from None
        return _from_text(text, "json-ld")
    if isinstance(data, str):
        return _from_text(data, "json-ld")
    raise UnsupportedInputError(f"cannot verify a {type(data).__name__}")


def _from_pdf(raw: bytes) -> LoadedInput:
    """A PDF certificate: its attached credential (JSON-LD or a VC-JWT) and its printed text."""
    certificate = read_pdf_certificate(raw)
    try:
        text = certificate.credential.decode("utf-8")
    except UnicodeDecodeError:
        raise ParsingError("the PDF's attached credential is not UTF-8 text") from None
    loaded = _from_text(text, "pdf")
    return LoadedInput(
        format="pdf",
        document=loaded.document,
        token=loaded.token,
        printed_text=certificate.printed_text,
    )


def _types(value: Mapping[str, Any]) -> list[str]:
    found = value.get("type", [])
    return [t for t in (found if isinstance(found, list) else [found]) if isinstance(t, str)]


def load_embedded_credential(raw: Any) -> LoadedInput:
    """A credential inside a presentation (or a CLR): an object, a VC-JWT, or an envelope.

    VC DM 2.0 section 4.13 / VC-JOSE-COSE: ``verifiableCredential`` holds credential objects;
    a string is only meaningful as a compact JWS (a VC-JWT) or an
    ``EnvelopedVerifiableCredential``'s ``data:application/vc+jwt,`` URL. A JSON *string*
    holding a Data Integrity credential is refused: its bytes are not what the holder's
    proof signed as a credential, and no other implementation would read it.
    Raises ``MALFORMED_VALUE_ERROR`` (and ``PARSING_ERROR`` for an unreadable envelope).
    """
    if isinstance(raw, str):
        token = raw.strip()
        if is_compact_jws(token):
            return LoadedInput(format="vc-jwt", token=token)
        raise MalformedValueError(
            "an embedded credential given as a string must be a compact VC-JWT; a JSON text "
            "holding a credential is not a credential"
        )
    if isinstance(raw, Mapping):
        if "EnvelopedVerifiableCredential" in _types(raw):
            envelope = raw.get("id")
            if isinstance(envelope, str) and envelope.startswith(_ENVELOPED_PREFIXES[0]):
                token = envelope[len(_ENVELOPED_PREFIXES[0]) :].strip()
                if is_compact_jws(token):
                    return LoadedInput(format="vc-jwt", token=token)
            raise MalformedValueError(
                "an EnvelopedVerifiableCredential needs a data:application/vc+jwt, URL id "
                "holding a compact VC-JWT",
                pointer="/id",
            )
        require_unicode_text(raw)
        return LoadedInput(format="json-ld", document=raw)
    raise MalformedValueError("an embedded credential must be an object or a VC-JWT")
