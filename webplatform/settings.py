"""Parsing of ``SIJIL_*`` settings shared by both services, with one error: ``SETTINGS_ERROR``.

Each service reads its environment once, at start, into a frozen settings object; these
parsers turn one variable into a typed value or refuse it with a message naming the variable,
so a misconfiguration stops the service before it serves anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from contexts.errors import SijilError

__all__ = [
    "SettingsError",
    "count_setting",
    "flag_setting",
    "number_setting",
    "rate_limit_setting",
]

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})


class SettingsError(SijilError):
    """A ``SIJIL_*`` variable has a value of the wrong form."""

    code = "SETTINGS_ERROR"
    title = "Invalid setting"
    http_status = 500


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {value!r}")


def number_setting(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number from ``env`` (``default`` when unset); ``SETTINGS_ERROR`` otherwise."""
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None
    if not 0 < number < math.inf:  # also refuses NaN
        raise SettingsError(f"{name} must be a positive number, not {value!r}")
    return number


def rate_limit_setting(env: Mapping[str, str], name: str, default: str) -> str:
    """A Flask-Limiter limit string (``"60/minute;1000/hour"``) from ``env``; ``SETTINGS_ERROR``
    when it does not parse or is empty after trimming."""
    from limits import parse_many  # Flask-Limiter's own parser, loaded only when read

    value = env.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError:
        raise SettingsError(f"{name} must be a limit such as '60/minute;1000/hour'") from None
    return value


def count_setting(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number >= 0 from ``env``; ``SETTINGS_ERROR`` otherwise."""
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise SettingsError(f"{name} must be a whole number >= 0, not {value!r}")
    return int(value)


def flag_setting(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A ``1``/``0`` flag from ``env`` that defaults to ``default`` when unset."""
    if not env.get(name, "").strip():
        return default
    return _flag(env, name)
