"""Progress CSV import: documented columns, bad rows by line, replay issues nothing new."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.db.models import Learner, Material, MaterialCompletion
from issuer.domain.progress import CsvFormatError, parse_progress_csv
from issuer.services.awards import list_awards
from issuer.services.csvimport import import_progress
from issuer.services.demo import seed_demo
from issuer.services.runtime import Runtime

HEADER = "learner_id,learner_email,learner_name,micro_credential,event,item,score,grade\n"


def _rows(learner: str, name: str, mc: str, *, score: int = 80) -> str:
    email = f"{learner.lower()}@student.example.my"
    return "".join(
        [
            f'{learner},{email},"{name}",{mc},material_completed,{mc}-M1,,\n',
            f'{learner},{email},"{name}",{mc},material_completed,{mc}-M2,,\n',
            f'{learner},{email},"{name}",{mc},assessment_result,{mc}-QZ,{score},A\n',
            f'{learner},{email},"{name}",{mc},assessment_result,{mc}-PJ,{score},A\n',
        ]
    )


def test_parse_reports_bad_rows_by_line_and_keeps_good_ones() -> None:
    text = (
        HEADER
        + "S1,s1@x.my,Ali,DAF101,material_completed,DAF101-M1,,\n"  # line 2 good
        + "S1,s1@x.my,Ali,DAF101,assessment_result,DAF101-QZ,,\n"  # line 3: no score
        + "S1,s1@x.my,Ali,DAF101,watched_video,DAF101-M1,,\n"  # line 4: unknown event
        + "S1,s1@x.my,Ali,DAF101,assessment_result,DAF101-QZ,101,\n"  # line 5: score > 100
        + ",s1@x.my,Ali,DAF101,material_completed,DAF101-M2,,\n"  # line 6: no learner
        + "S1,s1@x.my,Ali,DAF101,assessment_result,DAF101-PJ,77.5,B+\n"  # line 7 good
    )
    parsed = parse_progress_csv(text.splitlines(keepends=True))
    assert [line for line, _ in parsed.events] == [2, 7]
    assert [(e.line, e.code) for e in parsed.errors] == [
        (3, "MALFORMED_VALUE_ERROR"),
        (4, "MALFORMED_VALUE_ERROR"),
        (5, "MALFORMED_VALUE_ERROR"),
        (6, "MALFORMED_VALUE_ERROR"),
    ]
    assert "score" in parsed.errors[0].detail


def test_missing_required_column_rejects_the_file() -> None:
    with pytest.raises(CsvFormatError):
        parse_progress_csv(["learner_id,event,item\n", "S1,material_completed,M1\n"])


def test_import_twice_issues_nothing_new(rt: Runtime, tmp_path: Path) -> None:
    seed_demo(rt)
    path = tmp_path / "progress.csv"
    path.write_text(
        HEADER
        + _rows("S5001", "Nurul Izzah binti Anwar", "DAF101")
        + _rows("S5002", "Lee Chong Wei 李宗伟", "ESG201")
        + _rows("S5003", "Murugan a/l Krishnan முருகன்", "DAF101", score=20),
        encoding="utf-8",
    )
    first = import_progress(rt, path, actor="t")
    assert first.bad_rows == []
    assert first.rows == first.recorded == 12
    assert first.issued == {"COC": 3, "COA": 2}
    before = [a.credential_json for a in list_awards(rt, limit=None)]
    second = import_progress(rt, path, actor="t")
    assert second.recorded == 0
    assert second.unchanged == 12
    assert sum(second.issued.values()) == 0
    assert [a.credential_json for a in list_awards(rt, limit=None)] == before


def test_import_reports_unknown_references_by_line(rt: Runtime, tmp_path: Path) -> None:
    seed_demo(rt)
    path = tmp_path / "progress.csv"
    path.write_text(
        HEADER
        + "S1001,,,DAF101,material_completed,DAF101-M1,,\n"  # 2: known learner, ok
        + "S9999,,,DAF101,material_completed,DAF101-M1,,\n"  # 3: unknown learner, no email
        + "S1001,,,NOPE101,material_completed,M1,,\n"  # 4: unknown micro-credential
        + "S1001,,,DAF101,material_completed,DAF101-M9,,\n"  # 5: unknown material
        + "S1001,,,DAF101,assessment_result,DAF101-QZ,abc,\n",  # 6: not a number
        encoding="utf-8",
    )
    summary = import_progress(rt, path, actor="t")
    assert [(r.line, r.code) for r in summary.bad_rows] == [
        (3, "UNKNOWN_REFERENCE"),
        (4, "UNKNOWN_REFERENCE"),
        (5, "UNKNOWN_REFERENCE"),
        (6, "MALFORMED_VALUE_ERROR"),
    ]
    assert summary.unchanged == 1


def test_import_reads_bytes_text_or_a_stream_and_returns_the_awards_it_issued(
    rt: Runtime, tmp_path: Path
) -> None:
    seed_demo(rt)
    from_bytes = import_progress(
        rt, ("\ufeff" + HEADER + _rows("B1", "Bytes", "ESG201")).encode(), actor="t", chunk=3
    )
    from_text = import_progress(rt, HEADER + _rows("T1", "Text", "ESG201"), actor="t")
    path = tmp_path / "stream.csv"
    path.write_text(HEADER + _rows("R1", "Rows", "ESG201"), encoding="utf-8")
    with path.open(encoding="utf-8", newline="") as stream:
        from_stream = import_progress(rt, stream, actor="t")
    for summary, learner in ((from_bytes, "B1"), (from_text, "T1"), (from_stream, "R1")):
        assert sorted(a.award_type for a in summary.awards) == ["COA", "COC"]
        assert {a.learner for a in summary.awards} == {learner}
        assert dict(summary.issued) == {"COC": 1, "COA": 1}
        held = {a.id for a in list_awards(rt, learner=learner, limit=None)}
        assert {a.id for a in summary.awards} == held
    assert len({from_bytes.batch, from_text.batch, from_stream.batch}) == 3


def test_import_of_bytes_that_are_not_utf8_is_csv_format_error(rt: Runtime) -> None:
    with pytest.raises(CsvFormatError):
        import_progress(rt, b"learner_id\n\xff\xfe\n", actor="t")


def test_a_bad_row_keeps_nothing_of_itself_and_everything_of_the_good_rows(
    rt: Runtime, tmp_path: Path
) -> None:
    seed_demo(rt)
    path = tmp_path / "progress.csv"
    path.write_text(
        HEADER
        + "N1,n1@x.my,New One,NOPE101,material_completed,M1,,\n"  # 2: new learner, bad row
        + "N2,n2@x.my,New Two,DAF101,material_completed,DAF101-M1,,\n"  # 3: creates N2
        + "N2,,,DAF101,material_completed,DAF101-M9,,\n"  # 4: known learner, bad row
        + "N2,,,DAF101,material_completed,DAF101-M2,,\n",  # 5: known learner, good row
        encoding="utf-8",
    )
    summary = import_progress(rt, path, actor="t")
    assert [(r.line, r.code) for r in summary.bad_rows] == [
        (2, "UNKNOWN_REFERENCE"),
        (4, "UNKNOWN_REFERENCE"),
    ]
    assert (summary.recorded, summary.unchanged) == (2, 0)
    with rt.reading() as session:
        learners = set(session.scalars(select(Learner.external_id)))
        done = session.scalars(
            select(Material.code)
            .join(MaterialCompletion, MaterialCompletion.material_id == Material.id)
            .join(Learner, Learner.id == MaterialCompletion.learner_id)
            .where(Learner.external_id == "N2")
        ).all()
    assert "N1" not in learners  # created in its own bad row: rolled back with it
    assert sorted(done) == ["DAF101-M1", "DAF101-M2"]
