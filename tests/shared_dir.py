"""Where the official vectors, contexts and schemas live: ``../shared`` beside the checkout.

CI lays a copy of ``shared/`` beside its fresh clone, so tests never name an absolute path.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHARED"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
