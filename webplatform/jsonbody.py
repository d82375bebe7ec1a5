"""Bounded parsing of untrusted JSON request bodies.

The verifier faces the open internet, so a request body is parsed only after two cheap,
linear checks: its size (``max_bytes``) and its nesting depth (``max_depth``), the latter
counted over the raw text *before* :func:`json.loads` so a ``[[[[...`` bomb never reaches the
recursive parser. Parsing is strict: duplicate object keys (ambiguous for JSON-LD and for
signatures), ``NaN``/``Infinity`` and invalid UTF-8 are refused.

Errors: :class:`RequestTooLargeError` (``REQUEST_TOO_LARGE``, 413),
:class:`JsonTooDeepError` (``JSON_TOO_DEEP``, 400) and
:class:`contexts.errors.ParsingError` (``PARSING_ERROR``, 400).
"""

from __future__ import annotations

import re
from typing import Any

from contexts.errors import ParsingError, SijilError
from contexts.jsontext import loads_strict

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_JSON_DEPTH",
    "JsonTooDeepError",
    "RequestTooLargeError",
    "check_json_depth",
    "parse_json_bytes",
]

#: Largest request body the verifier reads (1 MiB): an MMS stacking a dozen COAs is ~100 KiB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
#: Deepest JSON nesting accepted; a presentation holding an MMS holding COAs is ~15 levels.
DEFAULT_MAX_JSON_DEPTH = 64


class RequestTooLargeError(SijilError):
    """The request body (or an unpacked credential) is larger than the configured cap."""

    code = "REQUEST_TOO_LARGE"
    title = "Request too large"
    http_status = 413


class JsonTooDeepError(SijilError):
    """The JSON input nests arrays/objects deeper than the configured cap."""

    code = "JSON_TOO_DEEP"
    title = "JSON nested too deeply"
    http_status = 400


#: A JSON string (escapes included; unterminated runs to the end) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def check_json_depth(text: str, max_depth: int) -> None:
    """Raise :class:`JsonTooDeepError` when ``text`` nests deeper than ``max_depth``.

    A single linear scan that skips string contents (and their escapes); it does not validate
    the JSON, :func:`json.loads` does that afterwards. Text with no more brackets than
    ``max_depth`` cannot nest deeper (most requests); otherwise the regular expression engine
    skips strings and only brackets are counted here.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for token in _STRING_OR_BRACKET.findall(text):
        first = token[0]
        if first == "[" or first == "{":
            depth += 1
            if depth > max_depth:
                raise JsonTooDeepError(f"JSON input nests deeper than {max_depth} levels")
        elif first != '"':
            depth -= 1


def parse_json_bytes(
    raw: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_depth: int = DEFAULT_MAX_JSON_DEPTH,
) -> Any:
    """Parse untrusted JSON bytes within the size and depth caps.

    Raises ``REQUEST_TOO_LARGE``, ``JSON_TOO_DEEP`` or ``PARSING_ERROR``.
    """
    if len(raw) > max_bytes:
        raise RequestTooLargeError(f"input is larger than {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParsingError(f"input is not valid UTF-8 (byte {exc.start})") from exc
    text = text.removeprefix("\ufeff")
    check_json_depth(text, max_depth)
    return loads_strict(text)
