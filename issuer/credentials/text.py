"""The exact text of a signed credential as sijil stores and serves it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["credential_text"]


def credential_text(credential: Mapping[str, Any]) -> str:
    """Compact JSON, UTF-8 characters as themselves: the bytes ``GET /credentials/<id>`` serves
    verbatim. One function, so a credential signed in a worker process is stored exactly as one
    signed in the issuing process."""
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))
