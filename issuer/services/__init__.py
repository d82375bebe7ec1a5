"""The issuer's service layer: the shells' single entry points into the core.

Each function takes a :class:`issuer.services.runtime.Runtime` first, runs its own
transaction(s), audits its writes and raises ``SijilError`` subclasses. See docs/ARCHITECTURE.md
("issuer/") for the list.
"""

from __future__ import annotations

__all__: list[str] = []
