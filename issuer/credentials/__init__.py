"""Pure builders of the issuer's credentials (COC, COA, MMS) and the learner identity hash."""

from __future__ import annotations

__all__: list[str] = []
