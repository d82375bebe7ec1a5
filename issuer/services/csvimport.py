"""Bulk import of an LMS progress export (CSV columns: :mod:`issuer.domain.progress`).

Rows are recorded in chunks (one transaction per chunk) and each chunk's learners re-evaluated,
so a 10,000-row file never holds one giant transaction and a crash loses at most one chunk of
work, which re-running the same file redoes. Bad rows are reported by line and skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issuer.domain.progress import CsvFormatError, RowError, parse_progress_csv
from issuer.services.progress import record_progress
from issuer.services.runtime import Runtime

__all__ = ["DEFAULT_CHUNK", "ImportSummary", "import_progress"]

DEFAULT_CHUNK = 500


@dataclass
class ImportSummary:
    """Outcome of one import run."""

    rows: int = 0
    recorded: int = 0
    unchanged: int = 0
    bad_rows: list[RowError] = field(default_factory=list)
    issued: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "rows": self.rows,
            "recorded": self.recorded,
            "unchanged": self.unchanged,
            "badRows": [r.to_dict() for r in self.bad_rows],
            "issued": dict(self.issued),
        }


def import_progress(
    rt: Runtime,
    path: Path,
    *,
    actor: str,
    chunk: int = DEFAULT_CHUNK,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import ``path``; ``on_progress(n)`` is called after each chunk of ``n`` rows.

    Raises ``CSV_FORMAT_ERROR`` when the file is not UTF-8 or its header is unusable.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"{path.name} is not UTF-8: {exc}") from exc
    parsed = parse_progress_csv(text.splitlines(keepends=True))
    summary = ImportSummary(rows=parsed.rows, bad_rows=list(parsed.errors))
    events = parsed.events
    for start in range(0, len(events), chunk):
        part = events[start : start + chunk]
        outcome = record_progress(rt, part, actor=actor, partial=True)
        summary.recorded += outcome.recorded
        summary.unchanged += outcome.unchanged
        summary.bad_rows.extend(outcome.rejected)
        summary.issued.update(a.award_type for a in outcome.issued)
        if on_progress is not None:
            on_progress(len(part))
    bad_lines = {r.line for r in parsed.errors}
    if on_progress is not None and bad_lines:
        on_progress(len(bad_lines))
    summary.bad_rows.sort(key=lambda r: r.line)
    return summary
