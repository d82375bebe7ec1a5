"""``Idempotency-Key``: a replayed POST returns the first answer and issues nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from issuer_web_support import WebIssuer, auth, web_issuer

from issuer.services.audit import list_audit
from issuer.services.awards import list_awards

COMPLETE_ESG = [
    {"learner": "S1004", "microCredential": "ESG201", "type": "materialCompleted", "item": i}
    for i in ("ESG201-M1", "ESG201-M2")
]


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path / "instance", demo=True) as issuer:
        yield issuer


def _post(web: WebIssuer, path: str, body: Any, key: str | None, token: str = "issue") -> Any:  # noqa: S107
    headers = auth(web.tokens[token])
    if key is not None:
        headers["Idempotency-Key"] = key
    return web.client().post(path, headers=headers, json=body)


def test_replay_returns_the_same_answer_without_issuing_twice(web: WebIssuer) -> None:
    first = _post(web, "/progress", {"events": COMPLETE_ESG}, "k-1")
    assert first.status_code == 200
    issued = first.get_json()["issued"]
    assert [a["awardType"] for a in issued] == ["COC"]
    awards_before = len(list_awards(web.rt, limit=None))
    audit_before = len(list_audit(web.rt, limit=1000))

    again = _post(web, "/progress", {"events": COMPLETE_ESG}, "k-1")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert len(list_awards(web.rt, limit=None)) == awards_before
    assert len(list_audit(web.rt, limit=1000)) == audit_before


def test_without_a_key_replaying_events_still_issues_nothing_new(web: WebIssuer) -> None:
    assert len(_post(web, "/progress", {"events": COMPLETE_ESG}, None).get_json()["issued"]) == 1
    second = _post(web, "/progress", {"events": COMPLETE_ESG}, None)
    assert second.status_code == 200
    assert "Idempotent-Replayed" not in second.headers
    assert second.get_json()["issued"] == []
    assert second.get_json()["unchanged"] == 2


def test_vc_api_replay_returns_the_same_signed_credential(web: WebIssuer) -> None:
    body = {
        "credential": {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://www.w3.org/ns/credentials/examples/v2",
            ],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:1", "alumniOf": "Example U"},
        }
    }
    first = _post(web, "/credentials/issue", body, "sign-1")
    assert first.status_code == 201
    signs_before = len(list_audit(web.rt, action="credential.sign"))
    again = _post(web, "/credentials/issue", body, "sign-1")
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert len(list_audit(web.rt, action="credential.sign")) == signs_before


def test_same_key_with_another_body_is_422(web: WebIssuer) -> None:
    assert _post(web, "/progress", COMPLETE_ESG[0], "k-2").status_code == 200
    response = _post(web, "/progress", COMPLETE_ESG[1], "k-2")
    assert response.status_code == 422
    assert response.get_json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_keys_are_per_token(web: WebIssuer) -> None:
    first = _post(web, "/progress", COMPLETE_ESG[0], "shared", token="issue")
    second = _post(web, "/progress", COMPLETE_ESG[0], "shared", token="admin")
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second.headers
    assert second.get_json()["unchanged"] == 1


def test_failed_request_is_not_remembered(web: WebIssuer) -> None:
    bad = {
        "learner": "S1004",
        "microCredential": "ESG201",
        "type": "materialCompleted",
        "item": "NOPE",
    }
    assert _post(web, "/progress", bad, "k-3").status_code == 422
    # The same key may be used again once the request is fixed... with the same body it fails
    # the same way (not replayed from storage, recomputed).
    again = _post(web, "/progress", bad, "k-3")
    assert again.status_code == 422
    assert "Idempotent-Replayed" not in again.headers


@pytest.mark.parametrize("key", ["", " ", "x" * 201, "clé"])
def test_invalid_key_is_400(web: WebIssuer, key: str) -> None:
    headers = auth(web.tokens["issue"])
    headers["Idempotency-Key"] = key
    response = web.client().post("/progress", headers=headers, json=COMPLETE_ESG[0])
    assert response.status_code == 400
    assert response.get_json()["code"] == "INVALID_IDEMPOTENCY_KEY"
