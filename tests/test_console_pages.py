"""Staff console pages driven through the real app: revoke with the affected MMS named, the
progress import's preview before storing, learners' missing items, catalogue validation, tokens,
the audit log, languages, and keyset pagination."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_support import ConsoleIssuer, console_issuer, csrf_of, email_of, sign_in
from sqlalchemy import func, select

from issuer.console.queries import AwardFilter, award_page
from issuer.db.models import AuditEntry, Learner
from issuer.services.awards import get_award, list_awards

CSV = (
    "learner_id,micro_credential,event,item,score,grade,occurred_at,learner_email,learner_name\n"
    "S1004,PYD103,material_completed,PYD103-M2,,,,,\n"
    "S2001,DAF101,material_completed,DAF101-M1,,,,nur@student.example.edu.my,Nur Aisyah\n"
    "S2001,DAF101,material_completed,DAF101-M2,,,,nur@student.example.edu.my,Nur Aisyah\n"
    "S2001,NOPE1,material_completed,X,,,,,\n"
    "S1004,PYD103,assessment_result,QZ,abc,,,,\n"
    "S9999,DAF101,material_completed,DAF101-M1,,,,,\n"
)


@pytest.fixture
def issuer(instance: Path, db_url: str) -> Iterator[ConsoleIssuer]:
    """SQLite, and PostgreSQL where the ``postgres`` marker runs."""
    with console_issuer(instance, database_url=db_url) as made:
        yield made


def _learners(issuer: ConsoleIssuer) -> int:
    with issuer.rt.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Learner)) or 0)


def test_revoking_a_coa_names_the_mms_that_stacks_it_and_is_audited(
    issuer: ConsoleIssuer,
) -> None:
    client = sign_in(issuer, "registrar")
    coa = next(a for a in list_awards(issuer.rt, learner="S1001", award_type="COA"))
    mms = next(a for a in list_awards(issuer.rt, learner="S1001", award_type="MMS"))
    confirm = client.get(f"/console/awards/{coa.id}/revoke")
    assert confirm.status_code == 200
    assert f"/console/awards/{mms.id}" in confirm.text  # the MMS is named before confirming
    assert get_award(issuer.rt, coa.id).status == "active"  # the confirmation page changes nothing
    done = client.post(
        f"/console/awards/{coa.id}/revoke",
        data={"csrf": csrf_of(confirm.text), "reason": "Issued in error"},
    )
    assert done.status_code == 302
    assert get_award(issuer.rt, coa.id).status == "revoked"
    page = client.get(f"/console/awards/{coa.id}")
    assert 'id="award-status">revoked' in page.text
    assert "Issued in error" in page.text  # status history from the audit log
    assert "staff:registrar@example.edu" in page.text
    with issuer.rt.reading() as session:
        actor = session.scalar(
            select(AuditEntry.actor).where(
                AuditEntry.action == "award.revoke", AuditEntry.target_id == coa.id
            )
        )
    assert actor == f"staff:{email_of('registrar')}"


def test_revoke_without_reason_is_refused(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "registrar")
    coa = next(a for a in list_awards(issuer.rt, award_type="COA"))
    confirm = client.get(f"/console/awards/{coa.id}/revoke")
    answer = client.post(
        f"/console/awards/{coa.id}/revoke", data={"csrf": csrf_of(confirm.text), "reason": " "}
    )
    assert answer.status_code == 400
    assert "MALFORMED_VALUE_ERROR" in answer.text
    assert get_award(issuer.rt, coa.id).status == "active"


def test_progress_preview_lists_every_bad_row_and_stores_nothing(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "registrar")
    csrf = csrf_of(client.get("/console/progress").text)
    learners_before = _learners(issuer)
    awards_before = len(list_awards(issuer.rt, limit=None))
    preview = client.post("/console/progress/preview", data={"csrf": csrf, "text": CSV})
    assert preview.status_code == 200
    table = preview.text.split('id="bad-row-table"')[1].split("</table>")[0]
    lines = [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", table)]
    assert lines == [5, 6, 7]
    assert "NOPE1" in table
    assert "score" in table
    assert "S9999" in table
    assert _learners(issuer) == learners_before
    assert len(list_awards(issuer.rt, limit=None)) == awards_before

    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', preview.text)
    assert digest is not None
    done = client.post(
        "/console/progress/import", data={"csrf": csrf, "text": CSV, "digest": digest.group(1)}
    )
    assert done.status_code == 200
    issued = done.text.split('id="issued"')[1].split("</table>")[0]
    assert "S1004" in issued
    assert "S2001" in issued
    assert _learners(issuer) == learners_before + 1
    assert {a.learner for a in list_awards(issuer.rt, award_type="COC")} >= {"S1004", "S2001"}


def test_import_of_text_changed_after_preview_goes_back_to_preview(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "registrar")
    csrf = csrf_of(client.get("/console/progress").text)
    preview = client.post("/console/progress/preview", data={"csrf": csrf, "text": CSV})
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', preview.text)
    assert digest is not None
    learners_before = _learners(issuer)
    answer = client.post(
        "/console/progress/import",
        data={
            "csrf": csrf,
            "text": CSV + "S3001,DAF101,material_completed,DAF101-M1,,,,a@b.cd,A\n",
            "digest": digest.group(1),
        },
    )
    assert answer.status_code == 409
    assert "changed after its preview" in answer.text
    assert _learners(issuer) == learners_before


def test_learner_page_says_what_is_missing(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    found = client.get("/console/learners?q=kavitha")
    assert "/console/learners/S1003" in found.text
    assert "/console/learners/S1003" in client.get("/console/learners?q=S1003").text
    page = client.get("/console/learners/S1003")
    assert page.status_code == 200
    row = page.text.split("DAF101 <span")[1].split("</tr>")[0]
    assert "held:active" in row  # the COC
    assert "PJ" in row  # the failed project is what the COA still needs
    programme = page.text.split("PCDA <span")[1].split("</tr>")[0]
    assert "DVZ102" in programme
    assert "PYD103" in programme
    assert "DAF101" in programme


def test_catalogue_edit_uses_the_api_validation(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "registrar")
    form = client.get("/console/catalogue/micro-credentials/DAF101")
    text = form.text.split('name="json"')[1].split(">", 1)[1].split("</textarea>")[0]
    data = json.loads(html.unescape(text))
    data["mqfLevel"] = 9
    bad = client.post(
        "/console/catalogue/micro-credential",
        data={"csrf": csrf_of(form.text), "json": json.dumps(data)},
    )
    assert bad.status_code == 422
    assert "/mqfLevel" in bad.text
    data["mqfLevel"] = 7
    good = client.post(
        "/console/catalogue/micro-credential",
        data={"csrf": csrf_of(form.text), "json": json.dumps(data)},
    )
    assert good.status_code == 302
    assert "<td>7</td>" in client.get("/console/catalogue").text


def test_admin_creates_and_revokes_a_token_and_the_audit_log_filters(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "admin")
    csrf = csrf_of(client.get("/console/tokens").text)
    created = client.post(
        "/console/tokens", data={"csrf": csrf, "scope": ["read"], "label": "reporting"}
    )
    assert created.status_code == 200
    assert re.search(r'id="token-secret">sijil_', created.text)
    token_id = re.findall(r"/console/tokens/(\d+)/revoke", created.text)[-1]
    assert client.post(f"/console/tokens/{token_id}/revoke", data={"csrf": csrf}).status_code == 302
    audit = client.get("/console/audit?actor=staff:admin&action=token.")
    assert "token.create" in audit.text
    assert "token.revoke" in audit.text
    assert "award.issue" not in audit.text


def test_language_is_switchable_and_remembered_per_user(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    page = client.get("/console/awards")
    assert '<html lang="en">' in page.text
    client.post(
        "/console/language",
        data={"csrf": csrf_of(page.text), "lang": "ms", "next": "/console/awards"},
    )
    assert '<html lang="ms">' in client.get("/console/awards").text
    again = sign_in(issuer, "viewer")  # a new browser: the choice is on the account
    malay = again.get("/console/awards").text
    assert '<html lang="ms">' in malay
    assert "Anugerah" in malay


def test_award_list_filters_and_keyset_pages_without_gaps(issuer: ConsoleIssuer) -> None:
    everything = list_awards(issuer.rt, limit=None)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = award_page(issuer.rt, AwardFilter(), cursor=cursor, limit=4)
        seen += [r.id for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(a.id for a in everything)
    assert len(seen) == len(set(seen))
    coas = award_page(issuer.rt, AwardFilter(award_type="COA", learner="S1001")).rows
    assert {r.award_type for r in coas} == {"COA"}
    assert len(coas) == 3
    client = sign_in(issuer, "viewer")
    listed = client.get("/console/awards?type=MMS")
    assert listed.status_code == 200
    assert listed.text.count("<td>MMS</td>") == len(list_awards(issuer.rt, award_type="MMS"))
    assert client.get("/console/awards?type=XYZ").status_code == 400


def test_dashboard_counts_awards_per_type_and_month(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    page = client.get("/console/")
    assert page.status_code == 200
    month = issuer.clock.at.strftime("%Y-%m")
    row = page.text.split(f'<th scope="row">{month}</th>')[1].split("</tr>")[0]
    cells = [int(n) for n in re.findall(r"<td>(\d+)</td>", row)]
    counts = [len(list_awards(issuer.rt, award_type=k)) for k in ("COC", "COA", "MMS")]
    assert cells == counts


def test_award_download_serves_the_signed_bytes(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    award = list_awards(issuer.rt)[0]
    answer = client.get(f"/console/awards/{award.id}/download/json")
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == award.credential_json


def test_programme_filter_lists_its_mms_and_component_awards(issuer: ConsoleIssuer) -> None:
    rows = award_page(issuer.rt, AwardFilter(programme="PCDA")).rows
    assert {(r.award_type, r.achievement_code) for r in rows if r.learner == "S1001"} == {
        ("MMS", "PCDA"),
        *((k, c) for k in ("COC", "COA") for c in ("DAF101", "DVZ102", "PYD103")),
    }
    assert not [r for r in rows if r.achievement_code == "ESG201"]  # stand-alone, not PCDA's
    assert award_page(issuer.rt, AwardFilter(programme="NOPE")).rows == []


def test_admin_rotates_activates_and_switches_suspension(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "admin")
    page = client.get("/console/issuers")
    csrf = csrf_of(page.text)
    assert client.post("/console/issuers/default/rotate", data={"csrf": csrf}).status_code == 302
    staged = client.get("/console/issuers")
    assert "<td>staged</td>" in staged.text
    key = re.search(r'name="key" value="([^"]+)"><button type="submit">Activate', staged.text)
    assert key is not None
    answer = client.post("/console/issuers/default/activate", data={"csrf": csrf, "key": key[1]})
    assert answer.status_code == 302
    after = client.get("/console/issuers").text
    assert "<td>previous</td>" in after
    switched = "Switch suspension off" in after
    client.post(
        "/console/issuers/default/suspension",
        data={"csrf": csrf, "enabled": "0" if switched else "1"},
    )
    flipped = client.get("/console/issuers").text
    assert ("Switch suspension off" in flipped) is not switched
    audit = client.get("/console/audit?actor=staff:admin").text
    assert "key.activate" in audit
    assert "issuer.suspension" in audit


def test_large_import_streams_a_progress_bar_then_the_summary(issuer: ConsoleIssuer) -> None:
    issuer.app.config["SIJIL_CONSOLE_STREAM_ROWS"] = 2  # this CSV counts as large
    client = sign_in(issuer, "registrar")
    csrf = csrf_of(client.get("/console/progress").text)
    preview = client.post("/console/progress/preview", data={"csrf": csrf, "text": CSV})
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', preview.text)
    assert digest is not None
    answer = client.post(
        "/console/progress/import", data={"csrf": csrf, "text": CSV, "digest": digest.group(1)}
    )
    assert answer.is_streamed
    page = answer.get_data(as_text=True)
    assert page.count("<progress ") >= 2
    assert 'value="6" max="6"' in page  # every row accounted for, bad rows included
    issued = page.split('id="issued"')[1].split("</table>")[0]
    assert "S2001" in issued
    assert page.rstrip().endswith("</html>")
    assert {a.learner for a in list_awards(issuer.rt, award_type="COC")} >= {"S1004", "S2001"}
