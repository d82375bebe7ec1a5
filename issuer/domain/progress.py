"""Progress events and the LMS progress CSV format, parsed purely.

A progress event says a learner completed a learning material, or got a result (score in percent,
optional grade) in an assessment. Events arrive one at a time or in batches through the API
(JSON, :func:`event_from_json`) or in bulk from an LMS export (CSV, :func:`parse_progress_csv`).

CSV columns (header row required, order free, UTF-8, extra columns ignored):

=================== ========= ==============================================================
column              required  meaning
=================== ========= ==============================================================
``learner_id``      yes       the registrar's student id
``micro_credential`` yes      micro-credential code, e.g. ``DAF101``
``event``           yes       ``material_completed`` or ``assessment_result``
``item``            yes       material or assessment code within the micro-credential
``score``           results   percent 0..100 (decimal point allowed) for ``assessment_result``
``grade``           no        letter grade as the LMS gives it
``occurred_at``     no        ISO 8601 time of the event (default: time of import)
``learner_email``   new       learner's email: needed the first time a learner appears
``learner_name``    new       learner's full name: needed the first time a learner appears
``learner_did``     no        learner's DID (``credentialSubject.id``)
=================== ========= ==============================================================

A bad row is reported with its line number and code and skipped; good rows are kept.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from contexts.errors import MalformedValueError, ParsingError, SijilError

__all__ = [
    "CSV_COLUMNS",
    "CSV_REQUIRED_COLUMNS",
    "EVENT_KINDS",
    "CsvFormatError",
    "EventKind",
    "ParsedCsv",
    "ProgressEvent",
    "RowError",
    "event_from_json",
    "parse_progress_csv",
]

EventKind = Literal["material_completed", "assessment_result"]
EVENT_KINDS: tuple[EventKind, ...] = ("material_completed", "assessment_result")
CSV_REQUIRED_COLUMNS = ("learner_id", "micro_credential", "event", "item")
CSV_COLUMNS = (
    *CSV_REQUIRED_COLUMNS,
    "score",
    "grade",
    "occurred_at",
    "learner_email",
    "learner_name",
    "learner_did",
)
_JSON_KINDS: dict[str, EventKind] = {
    "materialCompleted": "material_completed",
    "assessmentResult": "assessment_result",
    "material_completed": "material_completed",
    "assessment_result": "assessment_result",
}


class CsvFormatError(ParsingError):
    """The CSV as a whole cannot be read (no header, missing required columns, not UTF-8)."""

    code = "CSV_FORMAT_ERROR"
    title = "Progress CSV cannot be read"


@dataclass(frozen=True)
class ProgressEvent:
    """One progress event. ``score``/``grade`` only for assessment results."""

    learner: str
    micro_credential: str
    kind: EventKind
    item: str
    score: Decimal | None = None
    grade: str | None = None
    occurred_at: datetime | None = None
    learner_email: str | None = None
    learner_name: str | None = None
    learner_did: str | None = None


@dataclass(frozen=True)
class RowError:
    """A rejected CSV row (or batch item): where, which code, why."""

    line: int
    code: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """``{"line", "code", "detail"}``."""
        return {"line": self.line, "code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class ParsedCsv:
    """Good events with their line numbers, and the bad rows."""

    events: list[tuple[int, ProgressEvent]]
    errors: list[RowError]
    rows: int


def _text(value: Any, pointer: str, *, required: bool, max_len: int = 300) -> str | None:
    if value is None or value == "":
        if required:
            raise MalformedValueError("is required", pointer=pointer)
        return None
    if not isinstance(value, str):
        raise MalformedValueError("must be a string", pointer=pointer)
    value = value.strip()
    if not value and required:
        raise MalformedValueError("is required", pointer=pointer)
    if len(value) > max_len:
        raise MalformedValueError(f"is longer than {max_len} characters", pointer=pointer)
    return value or None


def _required(value: Any, pointer: str, *, max_len: int = 300) -> str:
    text = _text(value, pointer, required=True, max_len=max_len)
    if text is None:
        raise MalformedValueError("is required", pointer=pointer)
    return text


def _score(value: Any, pointer: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise MalformedValueError("an assessment result needs a score (0..100)", pointer=pointer)
    if isinstance(value, int | float | str):
        try:
            score = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise MalformedValueError(f"{value!r} is not a number", pointer=pointer) from exc
    else:
        raise MalformedValueError("score must be a number", pointer=pointer)
    if not score.is_finite() or not Decimal(0) <= score <= Decimal(100):
        raise MalformedValueError("score must be between 0 and 100", pointer=pointer)
    return score.quantize(Decimal("0.01"))


def _when(value: Any, pointer: str) -> datetime | None:
    text = _text(value, pointer, required=False, max_len=40)
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedValueError(
            f"{text!r} is not an ISO 8601 date-time", pointer=pointer
        ) from exc
    try:
        return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
    except OverflowError as exc:
        # 0001-01-01T00:00:00+14:00 is well-formed but has no UTC moment.
        raise MalformedValueError(
            f"{text!r} is outside the representable date range", pointer=pointer
        ) from exc


def _event(fields: Mapping[str, Any], names: Mapping[str, str], prefix: str) -> ProgressEvent:
    """Build an event from ``fields`` whose keys are ``names`` (so CSV and JSON share rules)."""

    def ptr(key: str) -> str:
        return f"{prefix}/{names[key]}"

    raw_kind = fields.get(names["event"])
    kind = _JSON_KINDS.get(raw_kind) if isinstance(raw_kind, str) else None
    if kind is None:
        raise MalformedValueError(
            f"event must be one of {', '.join(EVENT_KINDS)}, not {raw_kind!r}", pointer=ptr("event")
        )
    learner = _required(fields.get(names["learner_id"]), ptr("learner_id"), max_len=128)
    mc = _required(fields.get(names["micro_credential"]), ptr("micro_credential"))
    item = _required(fields.get(names["item"]), ptr("item"))
    score: Decimal | None = None
    grade: str | None = None
    if kind == "assessment_result":
        score = _score(fields.get(names["score"]), ptr("score"))
        grade = _text(fields.get(names["grade"]), ptr("grade"), required=False, max_len=16)
    did = _text(fields.get(names["learner_did"]), ptr("learner_did"), required=False, max_len=500)
    if did is not None and not did.startswith("did:"):
        raise MalformedValueError("a DID starts with 'did:'", pointer=ptr("learner_did"))
    return ProgressEvent(
        learner=learner,
        micro_credential=mc,
        kind=kind,
        item=item,
        score=score,
        grade=grade,
        occurred_at=_when(fields.get(names["occurred_at"]), ptr("occurred_at")),
        learner_email=_text(
            fields.get(names["learner_email"]), ptr("learner_email"), required=False
        ),
        learner_name=_text(fields.get(names["learner_name"]), ptr("learner_name"), required=False),
        learner_did=did,
    )


_CSV_NAMES = {c: c for c in CSV_COLUMNS}
_JSON_NAMES = {
    "learner_id": "learner",
    "micro_credential": "microCredential",
    "event": "type",
    "item": "item",
    "score": "score",
    "grade": "grade",
    "occurred_at": "occurredAt",
    "learner_email": "learnerEmail",
    "learner_name": "learnerName",
    "learner_did": "learnerDid",
}


def event_from_json(obj: Any, *, pointer: str = "") -> ProgressEvent:
    """Parse one API progress event.

    ``{"learner": "S1001", "microCredential": "DAF101", "type": "materialCompleted" |
    "assessmentResult", "item": "M1", "score": 78, "grade": "A", "occurredAt": ISO8601,
    "learnerEmail", "learnerName", "learnerDid"}``. Raises ``MALFORMED_VALUE_ERROR`` with a
    JSON pointer below ``pointer``.
    """
    if not isinstance(obj, Mapping):
        raise MalformedValueError("a progress event is a JSON object", pointer=pointer or "/")
    return _event(obj, _JSON_NAMES, pointer)


def parse_progress_csv(lines: Iterable[str]) -> ParsedCsv:
    """Parse an LMS progress export (columns in the module docstring).

    Returns good events with their line numbers and bad rows as :class:`RowError` (line, code,
    detail). Raises ``CSV_FORMAT_ERROR`` when the header is missing or lacks a required column.
    """
    reader = csv.DictReader(iter(lines))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise CsvFormatError(f"cannot read the CSV header: {exc}") from exc
    if not header:
        raise CsvFormatError("the CSV is empty: a header row is required")
    header_set = {h.strip() for h in header if h}
    missing = [c for c in CSV_REQUIRED_COLUMNS if c not in header_set]
    if missing:
        raise CsvFormatError(f"the CSV header lacks required column(s): {', '.join(missing)}")
    events: list[tuple[int, ProgressEvent]] = []
    errors: list[RowError] = []
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(reader.line_num, "PARSING_ERROR", str(exc)))
            continue
        rows += 1
        line = reader.line_num
        fields = {k.strip(): v for k, v in row.items() if isinstance(k, str)}
        if None in row:
            errors.append(
                RowError(line, "PARSING_ERROR", "the row has more fields than the header")
            )
            continue
        try:
            events.append((line, _event(fields, _CSV_NAMES, "")))
        except SijilError as exc:
            column = (exc.pointer or "").lstrip("/")
            where = f"column {column}: " if column else ""
            errors.append(RowError(line, exc.code, f"{where}{exc.detail}"))
    return ParsedCsv(events=events, errors=errors, rows=rows)
