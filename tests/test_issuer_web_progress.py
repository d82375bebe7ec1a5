"""Progress over HTTP (one event, a batch, a CSV upload) and the admin catalogue round trip."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from issuer_web_support import WebIssuer, auth, web_issuer

from issuer.services.audit import list_audit
from issuer.services.awards import list_awards

NEW_MC = {
    "title": "Cloud Fundamentals",
    "description": "Cloud computing basics.",
    "credits": 2,
    "mqfLevel": 5,
    "category": "stand-alone",
    "deliveryMode": "online",
    "learningOutcomes": ["Deploy a web application"],
    "materials": [{"code": "M1", "title": "Intro"}, {"code": "M2", "title": "Deploy"}],
    "assessments": [{"code": "EX", "title": "Exam", "passMark": 60}],
}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path / "instance", demo=True) as issuer:
        yield issuer


def _event(learner: str, item: str, **extra: Any) -> dict[str, Any]:
    kind = "assessmentResult" if "score" in extra else "materialCompleted"
    return {"learner": learner, "microCredential": "CLD101", "type": kind, "item": item, **extra}


def _put_catalogue(web: WebIssuer) -> None:
    client = web.client()
    admin = auth(web.tokens["admin"])
    response = client.put("/micro-credentials/CLD101", headers=admin, json=NEW_MC)
    assert response.status_code == 200, response.get_json()
    stored = response.get_json()
    assert stored["code"] == "CLD101"
    assert stored["sltHours"] == 80  # credits x 40 when not given
    again = client.put("/micro-credentials/CLD101", headers=admin, json=NEW_MC)
    assert again.get_json() == stored
    learner = client.put(
        "/learners/S2001",
        headers=admin,
        json={"email": "ali@student.example.edu.my", "name": "Ali bin Abu"},
    )
    assert learner.status_code == 200
    assert learner.get_json()["externalId"] == "S2001"


def test_coc_then_coa_as_events_arrive(web: WebIssuer) -> None:
    _put_catalogue(web)
    client = web.client()
    issue = auth(web.tokens["issue"])
    first = client.post("/progress", headers=issue, json=_event("S2001", "M1")).get_json()
    assert first["recorded"] == 1
    assert first["issued"] == []
    batch = client.post(
        "/progress",
        headers=issue,
        json={"events": [_event("S2001", "M2"), _event("S2001", "EX", score=59)]},
    ).get_json()
    assert [a["awardType"] for a in batch["issued"]] == ["COC"]  # 59 < pass mark 60
    passed = client.post(
        "/progress", headers=issue, json=_event("S2001", "EX", score="75.5", grade="B")
    ).get_json()
    assert [a["awardType"] for a in passed["issued"]] == ["COA"]
    coa = passed["issued"][0]
    assert coa["learner"] == "S2001"
    assert client.get(f"/credentials/{coa['id']}").status_code == 200


def test_batch_is_all_or_nothing(web: WebIssuer) -> None:
    _put_catalogue(web)
    before = len(list_audit(web.rt, action="progress.record"))
    response = web.client().post(
        "/progress",
        headers=auth(web.tokens["issue"]),
        json={"events": [_event("S2001", "M1"), _event("S2001", "NOPE")]},
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "UNKNOWN_REFERENCE"
    assert problem["pointer"].startswith("/1")
    assert len(list_audit(web.rt, action="progress.record")) == before


CSV = (
    "learner_id,micro_credential,event,item,score,grade,learner_email,learner_name\n"
    "S3001,CLD101,material_completed,M1,,,mei@student.example.edu.my,Lim Mei Ling\n"
    "S3001,CLD101,material_completed,M2,,,,\n"
    "S3001,CLD101,assessment_result,EX,88,A,,\n"
    "S3001,CLD101,assessment_result,EX,abc,,,\n"
    "S3002,NOPE101,material_completed,M1,,,x@y.example,X\n"
)


@pytest.mark.parametrize("upload", ["text/csv", "multipart"])
def test_csv_import_reports_bad_rows_and_replays_issue_nothing(web: WebIssuer, upload: str) -> None:
    _put_catalogue(web)
    client = web.client()
    headers = auth(web.tokens["issue"])

    def send() -> Any:
        if upload == "text/csv":
            return client.post(
                "/progress/import", headers=headers, data=CSV, content_type="text/csv"
            )
        return client.post(
            "/progress/import",
            headers=headers,
            data={"file": (BytesIO(CSV.encode()), "progress.csv")},
            content_type="multipart/form-data",
        )

    first = send()
    assert first.status_code == 200, first.get_json()
    summary = first.get_json()
    assert summary["rows"] == 5
    assert summary["issued"] == {"COC": 1, "COA": 1}
    assert [row["line"] for row in summary["badRows"]] == [5, 6]
    awards = len(list_awards(web.rt, limit=None))
    second = send().get_json()
    assert second["issued"] == {}
    assert second["recorded"] == 0
    assert len(list_awards(web.rt, limit=None)) == awards


def test_admin_catalogue_and_tokens_round_trip(web: WebIssuer) -> None:
    _put_catalogue(web)
    client = web.client()
    admin = auth(web.tokens["admin"])
    programme = client.put(
        "/programmes/PDA2",
        headers=admin,
        json={
            "title": "Data Analytics (part-time)",
            "description": "Same units, evening delivery.",
            "mqfLevel": 6,
            "components": ["DAF101", "DVZ102"],
            "degreeProgrammeUrl": "https://www.example.edu.my/programmes/bcs",
            "mmsPerUnit": True,
        },
    )
    assert programme.status_code == 200, programme.get_json()
    assert client.get("/programmes/PDA2", headers=admin).get_json()["mmsPerUnit"] is True
    codes = [p["code"] for p in client.get("/programmes", headers=admin).get_json()]
    assert "PDA2" in codes
    assert client.get("/micro-credentials/CLD101", headers=admin).get_json()["mqfLevel"] == 5
    assert client.get("/learners/S2001", headers=admin).get_json()["name"] == "Ali bin Abu"
    created = client.post(
        "/tokens", headers=admin, json={"scopes": ["read"], "label": "registrar dashboard"}
    )
    assert created.status_code == 201
    token = created.get_json()
    assert token["token"].startswith("sijil_")
    assert client.get("/awards", headers=auth(token["token"])).status_code == 200
    assert "token" not in client.get("/tokens", headers=admin).get_json()[0]
    revoked = client.post(f"/tokens/{token['id']}/revoke", headers=admin)
    assert revoked.get_json()["revokedAt"] is not None
    assert client.get("/awards", headers=auth(token["token"])).status_code == 401
    actions: dict[str, str] = {}
    for entry in client.get("/audit", headers=admin).get_json():  # newest first
        actions.setdefault(entry["action"], entry["actor"])
    assert actions["programme.upsert"].startswith("token:")
    assert actions["token.revoke"].startswith("token:")
    patched = client.patch("/issuers/default", headers=admin, json={"name": "Faculty of Computing"})
    assert patched.get_json()["name"] == "Faculty of Computing"
