"""The verifier's own metric: ``sijil_verifications_total{channel,verdict}``.

Reports the verifier's web layer produced (``channel`` ``api`` or ``page``), by the page's
verdict word (:data:`.verdicts.VERDICTS`). Request counts, latency and the exposition are the
platform's (:mod:`webplatform.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from prometheus_client import Counter

from .verdicts import normalize_verdict

__all__ = ["VERIFICATIONS", "count_verification"]

VERIFICATIONS: Final = Counter(
    "sijil_verifications",
    "Verification reports produced by the verifier's web layer, by verdict.",
    ["channel", "verdict"],
)


def count_verification(report: Mapping[str, Any], *, channel: str) -> None:
    """Count one report by its verdict word (bounded: unknown words fold to valid/invalid)."""
    verdict = normalize_verdict(report.get("verdict"), verified=report.get("verified") is True)
    VERIFICATIONS.labels(channel=channel, verdict=verdict).inc()
