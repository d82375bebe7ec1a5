"""The one strict reader of untrusted JSON text, for every layer that parses it.

Credentials, presentations, JWS headers and payloads, and request bodies are all read here, so
one set of rules holds everywhere: no duplicate object members (a signature over an ambiguous
document proves nothing: two parsers may see two documents), no ``NaN``/``Infinity`` (not JSON,
RFC 8259), and every failure (bad syntax, nesting past the interpreter's recursion limit, an
integer longer than ``sys.get_int_max_str_digits()``) becomes ``PARSING_ERROR``, never a stray
``ValueError``. Size and depth caps are the callers' (they know their limits).
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from contexts.errors import ParsingError

__all__ = ["loads_strict"]


def _refuse_constant(name: str) -> NoReturn:
    raise ParsingError(f"JSON constant {name} is not allowed")


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ParsingError(f"duplicate JSON member {key!r}")
        out[key] = value
    return out


def loads_strict(text: str, *, what: str = "input") -> Any:
    """``text`` parsed as strict JSON (see the module docstring); ``what`` names it in errors.

    Raises ``PARSING_ERROR``.
    """
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicate_members, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as exc:
        raise ParsingError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ParsingError(f"{what} is JSON nested too deeply") from None
    except ValueError as exc:
        # int() refuses numbers longer than sys.get_int_max_str_digits().
        raise ParsingError(f"{what} is not acceptable JSON: {exc}") from None
