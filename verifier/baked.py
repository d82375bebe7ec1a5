"""Open Badges 3.0 baked images: one codec for baking (issuer) and unbaking (verifier).

OB 3.0 section "Baking" (Open Badges Specification v3.0, "Badge Baking"):

- **PNG**: one ``iTXt`` chunk with keyword ``openbadgecredential``, not compressed, whose text
  is the signed credential (JSON, or a compact VC-JWT).
- **SVG**: an ``openbadges:credential`` element in namespace
  ``https://purl.imsglobal.org/ob/v3p0``, first child of the root ``svg`` element; a JSON
  credential is its text (in a CDATA section), a VC-JWT its ``verify`` attribute.

Baking replaces any credential already baked in. Unbaking refuses ambiguity (two baked
credentials), compressed chunks and XML with a DOCTYPE (entity expansion), so a crafted image
cannot smuggle a second, different credential past the verifier.

Errors: ``PARSING_ERROR`` (not a well-formed PNG/SVG, bad CRC, compressed chunk, DOCTYPE),
``BAKED_CREDENTIAL_NOT_FOUND``.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any
from xml.etree import ElementTree

from contexts.errors import ParsingError

from .errors import BakedCredentialNotFoundError

__all__ = [
    "OB3_NAMESPACE",
    "PNG_KEYWORD",
    "bake_png",
    "bake_svg",
    "is_png",
    "is_svg",
    "unbake",
    "unbake_png",
    "unbake_svg",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = "openbadgecredential"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
_CREDENTIAL_TAG = f"{{{OB3_NAMESPACE}}}credential"
_SVG_SNIFF = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg[\s>]", re.DOTALL)
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_MAX_CHUNK = 64 * 1024 * 1024


def is_png(data: bytes) -> bool:
    """Whether ``data`` starts with the PNG signature."""
    return data.startswith(PNG_SIGNATURE)


def is_svg(data: bytes) -> bool:
    """Whether ``data`` looks like an SVG document (root element ``svg``)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    return bool(_SVG_SNIFF.match(head))


def _credential_text(credential: Mapping[str, Any] | str) -> str:
    if isinstance(credential, str):
        return credential
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


# --- PNG ------------------------------------------------------------------------------------


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(type, body, raw chunk bytes) of each chunk, CRC-checked (PNG spec section 5.3)."""
    if not is_png(data):
        raise ParsingError("not a PNG image (bad signature)")
    offset = len(PNG_SIGNATURE)
    while offset < len(data):
        if offset + 8 > len(data):
            raise ParsingError("truncated PNG chunk header")
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        end = offset + 12 + length
        if length > _MAX_CHUNK or end > len(data):
            raise ParsingError(f"truncated or oversized PNG chunk {kind!r}")
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : end])
        if zlib.crc32(kind + body) != crc:
            raise ParsingError(f"PNG chunk {kind!r} has a bad CRC")
        yield kind, body, data[offset:end]
        offset = end
        if kind == b"IEND":
            return
    raise ParsingError("PNG has no IEND chunk")


def _itxt_keyword(body: bytes) -> bytes:
    return body.split(b"\0", 1)[0]


def _itxt_text(body: bytes) -> str:
    """Text of an iTXt chunk (PNG spec section 11.3.4.5), uncompressed only."""
    try:
        _keyword, rest = body.split(b"\0", 1)
        flag, method, rest = rest[0], rest[1], rest[2:]
        _language, rest = rest.split(b"\0", 1)
        _translated, text = rest.split(b"\0", 1)
    except (ValueError, IndexError):
        raise ParsingError("malformed iTXt chunk") from None
    if flag != 0 or method != 0:
        raise ParsingError("the openbadgecredential iTXt chunk must not be compressed")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise ParsingError("the openbadgecredential iTXt text is not UTF-8") from None


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def unbake_png(data: bytes) -> str:
    """The credential text baked into a PNG (JSON or compact JWS)."""
    found = [
        body
        for kind, body, _raw in _chunks(data)
        if kind == b"iTXt" and _itxt_keyword(body) == PNG_KEYWORD.encode()
    ]
    if not found:
        raise BakedCredentialNotFoundError(
            "the PNG has no iTXt chunk with keyword openbadgecredential"
        )
    if len(found) > 1:
        raise ParsingError("the PNG has more than one openbadgecredential chunk")
    return _itxt_text(found[0])


def bake_png(image: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """``image`` with ``credential`` baked in one uncompressed iTXt chunk before IEND."""
    text = _credential_text(credential).encode("utf-8")
    body = PNG_KEYWORD.encode() + b"\0" + b"\0\0" + b"\0" + b"\0" + text
    out = [PNG_SIGNATURE]
    for kind, chunk_body, raw in _chunks(image):
        if kind == b"iTXt" and _itxt_keyword(chunk_body) == PNG_KEYWORD.encode():
            continue
        if kind == b"IEND":
            out.append(_chunk(b"iTXt", body))
        out.append(raw)
    return b"".join(out)


# --- SVG ------------------------------------------------------------------------------------


def _parse_svg(data: bytes) -> ElementTree.Element:
    if _DTD.search(data):
        raise ParsingError("SVG with a DOCTYPE or entity declarations is refused")
    try:
        # No DTD can be present (checked above), so no entity expansion can happen.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise ParsingError(f"not a well-formed SVG: {exc}") from None
    if root.tag not in (f"{{{SVG_NAMESPACE}}}svg", "svg"):
        raise ParsingError("the XML root element is not svg")
    return root


def unbake_svg(data: bytes) -> str:
    """The credential baked into an SVG: the ``verify`` attribute, else the element text."""
    root = _parse_svg(data)
    found = list(root.iter(_CREDENTIAL_TAG))
    if not found:
        raise BakedCredentialNotFoundError(
            f"the SVG has no openbadges:credential element in namespace {OB3_NAMESPACE}"
        )
    if len(found) > 1:
        raise ParsingError("the SVG has more than one openbadges:credential element")
    element = found[0]
    verify = element.get("verify")
    if verify:
        return verify.strip()
    text = (element.text or "").strip()
    if not text:
        raise BakedCredentialNotFoundError("the openbadges:credential element is empty")
    return text


def bake_svg(svg: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """``svg`` with ``credential`` as the first child of the root element.

    A JSON credential goes in a CDATA section; a VC-JWT in the ``verify`` attribute. The rest
    of the document is kept byte for byte (the element is spliced in after the root start tag).
    """
    _parse_svg(svg)  # well-formed, no DTD
    text = svg.decode("utf-8")
    text = re.sub(
        r"<openbadges:credential\b.*?(</openbadges:credential>|/>)\s*", "", text, flags=re.DOTALL
    )
    start = re.search(r"<svg\b[^>]*>", text)
    if start is None:
        raise ParsingError("no svg start tag")
    tag = start.group(0)
    if "xmlns:openbadges=" not in tag:
        tag = tag[:-1].rstrip("/") + f' xmlns:openbadges="{OB3_NAMESPACE}">'
        if start.group(0).endswith("/>"):
            raise ParsingError("cannot bake into an empty svg element")
    payload = _credential_text(credential)
    if isinstance(credential, str) and not payload.lstrip().startswith("{"):
        element = f'<openbadges:credential verify="{payload}"></openbadges:credential>'
    else:
        if "]]>" in payload:
            payload = payload.replace("]]>", "]]]]><![CDATA[>")
        element = f"<openbadges:credential><![CDATA[{payload}]]></openbadges:credential>"
    baked = text[: start.start()] + tag + element + text[start.end() :]
    return baked.encode("utf-8")


def unbake(data: bytes) -> str:
    """The credential text baked into a PNG or SVG image."""
    if is_png(data):
        return unbake_png(data)
    if is_svg(data):
        return unbake_svg(data)
    raise ParsingError("not a PNG or SVG image")
