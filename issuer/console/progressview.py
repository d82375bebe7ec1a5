"""What a learner still needs for each award, and the CSV preview's reference check. Pure.

:func:`learner_progress_rows` reads the award rules' inputs (catalogue, progress, held awards)
and says, per micro-credential, which materials and assessments are still missing for the COC
and the COA, and per programme which COAs the MMS still lacks. :func:`preview_rows` checks a
parsed progress CSV against the catalogue so the preview lists unknown micro-credentials and
items by line before anything is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from issuer.domain.awards import LearnerProgress, is_passed
from issuer.domain.catalogue import MicroCredentialSpec, ProgrammeSpec
from issuer.domain.progress import ParsedCsv, ProgressEvent, RowError

__all__ = [
    "CsvPreview",
    "McProgress",
    "ProgrammeProgress",
    "learner_progress_rows",
    "preview_rows",
]


@dataclass(frozen=True)
class McProgress:
    """One micro-credential for one learner: what is held and what is missing."""

    code: str
    title: str
    materials_done: int
    materials_total: int
    missing_materials: tuple[str, ...]
    missing_assessments: tuple[str, ...]
    coc: str  # "held:<status>", "due" or "missing"
    coa: str


@dataclass(frozen=True)
class ProgrammeProgress:
    """One programme for one learner: the component COAs the MMS still lacks."""

    code: str
    title: str
    missing_components: tuple[str, ...]
    mms: str


def _state(held: Mapping[tuple[str, str], str], kind: str, code: str, due: bool) -> str:
    status = held.get((kind, code))
    if status is not None:
        return f"held:{status}"
    return "due" if due else "missing"


def learner_progress_rows(
    micro_credentials: Sequence[MicroCredentialSpec],
    programmes: Sequence[ProgrammeSpec],
    progress: LearnerProgress,
    held: Mapping[tuple[str, str], str],
) -> tuple[list[McProgress], list[ProgrammeProgress]]:
    """Per micro-credential the learner has started or holds, and per programme touching
    them: what is missing. ``held`` maps (award type, achievement code) to the award's status."""
    started = set(progress.completed) | set(progress.results) | {c for _k, c in held}
    mcs: list[McProgress] = []
    for mc in micro_credentials:
        if mc.code not in started:
            continue
        done = progress.completed.get(mc.code, frozenset())
        results = progress.results.get(mc.code, {})
        missing_m = tuple(m.code for m in mc.materials if m.code not in done)
        missing_a = tuple(a.code for a in mc.assessments if not is_passed(a, results.get(a.code)))
        coc_due = bool(mc.materials) and not missing_m
        coa_due = bool(mc.assessments) and not missing_m and not missing_a
        mcs.append(
            McProgress(
                mc.code,
                mc.title,
                len(mc.materials) - len(missing_m),
                len(mc.materials),
                missing_m,
                missing_a,
                _state(held, "COC", mc.code, coc_due) if mc.materials else "n/a",
                _state(held, "COA", mc.code, coa_due) if mc.assessments else "n/a",
            )
        )
    active_coas = {c for (k, c), s in held.items() if k == "COA" and s == "active"}
    progs: list[ProgrammeProgress] = []
    for programme in programmes:
        if not any(c in started for c in programme.components):
            continue
        missing = tuple(c for c in programme.components if c not in active_coas)
        progs.append(
            ProgrammeProgress(
                programme.code,
                programme.title,
                missing,
                _state(held, "MMS", programme.code, not missing),
            )
        )
    return mcs, progs


@dataclass(frozen=True)
class CsvPreview:
    """A progress CSV checked before import: good rows, bad rows (line, code, reason), and
    the learners and micro-credentials it names."""

    rows: int
    good: list[tuple[int, ProgressEvent]]
    bad: list[RowError]
    learners: int
    micro_credentials: tuple[str, ...]

    @property
    def is_clean(self) -> bool:
        """No bad row."""
        return not self.bad


def preview_rows(
    parsed: ParsedCsv,
    micro_credentials: Mapping[str, MicroCredentialSpec],
    known_learners: Iterable[str],
) -> CsvPreview:
    """Check ``parsed`` against the catalogue: an unknown micro-credential, material or
    assessment, or a new learner without e-mail and name, becomes a bad row
    (``UNKNOWN_REFERENCE``) with its line, as the import would reject it."""
    known = set(known_learners)
    introduced: set[str] = set()
    good: list[tuple[int, ProgressEvent]] = []
    bad = list(parsed.errors)
    for line, event in parsed.events:
        mc = micro_credentials.get(event.micro_credential)
        reason: str | None = None
        if mc is None:
            reason = f"column micro_credential: unknown micro-credential {event.micro_credential!r}"
        elif event.kind == "material_completed" and event.item not in {
            m.code for m in mc.materials
        }:
            reason = f"column item: {mc.code} has no material {event.item!r}"
        elif event.kind == "assessment_result" and event.item not in {
            a.code for a in mc.assessments
        }:
            reason = f"column item: {mc.code} has no assessment {event.item!r}"
        elif event.learner not in known and event.learner not in introduced:
            if event.learner_email and event.learner_name:
                introduced.add(event.learner)
            else:
                reason = (
                    f"column learner_id: unknown learner {event.learner!r} (give learner_email "
                    "and learner_name to create one)"
                )
        if reason is None:
            good.append((line, event))
        else:
            bad.append(RowError(line, "UNKNOWN_REFERENCE", reason))
    bad.sort(key=lambda r: r.line)
    return CsvPreview(
        rows=parsed.rows,
        good=good,
        bad=bad,
        learners=len({e.learner for _l, e in good}),
        micro_credentials=tuple(sorted({e.micro_credential for _l, e in good})),
    )
