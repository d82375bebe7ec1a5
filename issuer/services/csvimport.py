"""Bulk import of an LMS progress export (CSV columns: :mod:`issuer.domain.progress`).

The source is the file's bytes, its text, its lines (any iterable of strings, such as a text
stream), or a path: the web upload and the CLI hand over what they hold, no temporary file.
Rows are recorded in chunks (one transaction per chunk) and each chunk's learners re-evaluated,
so a 10,000-row file never holds one giant transaction and a crash loses at most one chunk of
work, which re-running the same file redoes. Bad rows are reported by line and skipped.

The whole import is one outbox batch (:func:`issuer.outbox.events.batch_scope`; the batch of the
shell when it opened one): each learner who receives new awards is queued one claim-link mail,
delivered by the outbox worker (the CLI delivers its own batch at the end, see
``sijil-issuer import-progress``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issuer.domain.progress import CsvFormatError, RowError, parse_progress_csv
from issuer.outbox.events import batch_scope
from issuer.services.awards import AwardView
from issuer.services.issuance import signing_workers
from issuer.services.progress import record_progress
from issuer.services.runtime import Runtime

__all__ = ["DEFAULT_CHUNK", "CsvSource", "ImportSummary", "import_progress"]

DEFAULT_CHUNK = 500

#: What :func:`import_progress` reads: bytes (UTF-8, BOM allowed), text, lines, or a path.
CsvSource = bytes | str | Iterable[str] | Path


@dataclass
class ImportSummary:
    """Outcome of one import run; ``awards`` are the awards it issued, ``batch`` its outbox
    batch id (for delivering its mail)."""

    rows: int = 0
    recorded: int = 0
    unchanged: int = 0
    bad_rows: list[RowError] = field(default_factory=list)
    issued: Counter[str] = field(default_factory=Counter)
    awards: list[AwardView] = field(default_factory=list)
    batch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (counts; the awards themselves are for the caller)."""
        return {
            "rows": self.rows,
            "recorded": self.recorded,
            "unchanged": self.unchanged,
            "badRows": [r.to_dict() for r in self.bad_rows],
            "issued": dict(self.issued),
        }


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"{name} is not UTF-8: {exc}") from exc


def _lines(source: CsvSource) -> Iterable[str]:
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise CsvFormatError(f"cannot read {source.name}: {exc}") from exc
        return _decode(data, source.name).splitlines(keepends=True)
    if isinstance(source, bytes):
        return _decode(source, "the upload").splitlines(keepends=True)
    if isinstance(source, str):
        return source.removeprefix("\ufeff").splitlines(keepends=True)
    return source


def import_progress(
    rt: Runtime,
    source: CsvSource,
    *,
    actor: str,
    chunk: int = DEFAULT_CHUNK,
    on_progress: Callable[[int], None] | None = None,
    notify: bool | None = None,
) -> ImportSummary:
    """Import ``source``; ``on_progress(n)`` is called after each chunk of ``n`` rows.

    ``notify`` (default ``SIJIL_NOTIFY_LEARNERS``) says whether the batch queues learner mail.
    Raises ``CSV_FORMAT_ERROR`` when the data is not UTF-8 or its header is unusable.
    """
    parsed = parse_progress_csv(_lines(source))
    summary = ImportSummary(rows=parsed.rows, bad_rows=list(parsed.errors))
    events = parsed.events
    wanted = rt.settings.notify_learners if notify is None else notify
    with batch_scope(notify=wanted) as batch, signing_workers(rt):
        summary.batch = batch.id
        for start in range(0, len(events), chunk):
            part = events[start : start + chunk]
            outcome = record_progress(rt, part, actor=actor, partial=True, whole_batch=False)
            summary.recorded += outcome.recorded
            summary.unchanged += outcome.unchanged
            summary.bad_rows.extend(outcome.rejected)
            summary.issued.update(a.award_type for a in outcome.issued)
            summary.awards.extend(outcome.issued)
            if on_progress is not None:
                on_progress(len(part))
    bad_lines = {r.line for r in parsed.errors}
    if on_progress is not None and bad_lines:
        on_progress(len(bad_lines))
    summary.bad_rows.sort(key=lambda r: r.line)
    return summary
