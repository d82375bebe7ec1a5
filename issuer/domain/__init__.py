"""Pure domain of the issuer: catalogue values and award rules (no I/O)."""

from __future__ import annotations

__all__: list[str] = []
