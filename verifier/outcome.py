"""What a check returns when it does not raise: a plain-language sentence and its state.

Checks raise :class:`~contexts.errors.SijilError` (or an ``ExceptionGroup`` of them when one
check finds several problems, like stacking); when they pass they return an :class:`Outcome`.
:mod:`verifier.report` is the one place that turns both into the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from contexts.errors import SijilError

__all__ = ["CheckState", "Outcome"]

CheckState = Literal["passed", "failed", "warning", "skipped", "unknown"]


@dataclass(frozen=True)
class Outcome:
    """A check that did not fail: ``passed``, ``warning`` (with ``warnings``) or ``skipped``."""

    message: str
    state: CheckState = "passed"
    warnings: tuple[SijilError, ...] = ()
