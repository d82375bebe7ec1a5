"""RFC 8785 JSON Canonicalization Scheme (JCS), used by the -jcs- cryptosuites.

Why a wrapper: the ``rfc8785`` package raises its own ``ValueError`` subclasses; callers
of sijil catch ``SijilError`` codes only. JCS serializes numbers as IEEE 754 doubles
(RFC 8785 section 3.2.2.3), so NaN, infinities and integers outside +-(2**53 - 1) have
no canonical form and are rejected rather than silently rounded.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from contexts.errors import MalformedValueError

__all__ = ["canonicalize"]


def canonicalize(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of the JSON value ``obj``.

    Raises ``MALFORMED_VALUE_ERROR`` for non-finite floats, integers beyond the IEEE
    754 safe range, non-string object keys, lone surrogates or non-JSON types.
    """
    try:
        return rfc8785.dumps(obj)
    except rfc8785.FloatDomainError as exc:
        raise MalformedValueError(
            f"JCS cannot represent the number {exc}: NaN and infinities are not JSON"
        ) from exc
    except rfc8785.IntegerDomainError as exc:
        raise MalformedValueError(
            f"JCS cannot represent the integer exactly (RFC 8785 section 3.2.2.3): {exc}"
        ) from exc
    except rfc8785.CanonicalizationError as exc:
        raise MalformedValueError(f"value cannot be canonicalized with JCS: {exc}") from exc
    except RecursionError as exc:
        raise MalformedValueError("value is nested too deeply for JCS") from exc
