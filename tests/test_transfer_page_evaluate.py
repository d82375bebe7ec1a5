"""The receiving university's /credit-transfer page (Flask test client): published policies,
uploads of several files or an MMS, each decision with learner, grade, credits and reason, the
total with its grammar, JSON and PDF downloads, and two learners' credentials refused."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader, PdfWriter
from transfer_page_support import ALI, ISSUER, SITI, coas_of, mms_of, mqa_policy
from verifier_fixtures import Learner, coa_for, key_from_seed, sign
from verifier_trust import trust_for
from verifier_web_credentials import tiny_png

from contexts.errors import MalformedValueError
from keys.didkey import did_key_for
from verifier.baked import bake_png
from verifier.settings import VerifierSettings
from verifier.textpdf import text_pdf
from verifier.transferpolicies import load_published_policies
from verifier.web import create_app


@pytest.fixture
def policies_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "bscds.json").write_text(json.dumps(mqa_policy()), encoding="utf-8")
    (folder / "strict.json").write_text(
        json.dumps(mqa_policy(name="Strict: grade A only", minGrade="A")), encoding="utf-8"
    )
    return folder


@pytest.fixture
def app(policies_dir: Path) -> Flask:
    settings = VerifierSettings(transfer_policies_dir=policies_dir, operator="Universiti Penerima")
    return create_app(settings, verifier=settings.build_verifier(trust=trust_for(ISSUER)))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _files(*docs: dict[str, Any] | bytes) -> list[tuple[io.BytesIO, str]]:
    out = []
    for index, doc in enumerate(docs):
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        out.append((io.BytesIO(data), f"credential-{index}.json"))
    return out


def _post(
    client: FlaskClient,
    policy: str,
    *docs: dict[str, Any] | bytes,
    fmt: str = "page",
    **fields: str,
) -> Any:
    return client.post(
        "/credit-transfer",
        data={"policy": policy, "format": fmt, "files": _files(*docs), **fields},
        content_type="multipart/form-data",
    )


def test_page_lists_the_published_policies_by_name(client: FlaskClient) -> None:
    html = client.get("/credit-transfer").get_data(as_text=True)
    assert 'value="bscds"' in html
    assert "BSc Data Science (MQA credit transfer, 30 %)" in html
    assert 'value="strict"' in html
    assert "Strict: grade A only" in html
    assert "Universiti Penerima" in html


def test_mms_shows_learner_each_decision_and_the_total(client: FlaskClient) -> None:
    response = _post(client, "bscds", mms_of(SITI))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    learner = re.search(r'id="transfer-learner"><bdi>([^<]+)<', html)
    assert learner is not None
    assert learner.group(1) == SITI.name
    assert "9 credits" in html
    assert "9 kredit" in html
    assert html.count('class="decision-accepted"') == 3
    assert 'Grade <span lang="ms">/ Gred</span>: A-' in html
    assert "BDS1013" in html


def test_stricter_policy_rejects_by_grade_with_a_reason(client: FlaskClient) -> None:
    html = _post(client, "strict", mms_of(SITI)).get_data(as_text=True)
    assert html.count('class="decision-accepted"') == 0
    assert html.count('data-code="GRADE_TOO_LOW"') == 3
    assert "the minimum is A" in html
    assert "0 credits" in html


def test_one_credit_is_singular(client: FlaskClient) -> None:
    stand_alone = coa_for(
        ISSUER, SITI, "SA201", "Spreadsheet Basics", serial=40, credits=1, programme=None
    )
    html = _post(client, "bscds", stand_alone).get_data(as_text=True)
    assert "1 credit " in html or "1 credit<" in html
    assert "1 credits" not in html
    assert "1 kredit" in html


def test_stand_alone_needs_forty_hours_per_credit(client: FlaskClient) -> None:
    short = coa_for(ISSUER, SITI, "SA202", "Short Course", serial=41, credits=1, programme=None)
    html = _post(client, "bscds", short).get_data(as_text=True)
    assert 'data-code="TOO_FEW_HOURS"' in html
    assert "40 notional learning hours" in html


def test_several_files_and_a_baked_badge(client: FlaskClient) -> None:
    coas = coas_of(SITI, 10)
    badge = bake_png(tiny_png(), coas[2])
    html = _post(client, "bscds", coas[0], coas[1], badge).get_data(as_text=True)
    assert html.count('class="decision-accepted"') == 3
    assert "9 credits" in html


def test_two_learners_are_refused_plainly(client: FlaskClient) -> None:
    response = _post(client, "bscds", mms_of(SITI), mms_of(ALI, serial=20))
    html = response.get_data(as_text=True)
    assert 'data-refused="LEARNER_MISMATCH"' in html
    assert "Credentials of more than one learner" in html
    assert "Kredensial lebih daripada seorang pelajar" in html
    assert SITI.name in html
    assert ALI.name in html
    assert "transfer-total" not in html


def test_json_download_is_the_decision(client: FlaskClient) -> None:
    response = _post(client, "bscds", mms_of(SITI), fmt="json")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    decision = json.loads(response.get_data())
    assert decision["learner"]["name"] == SITI.name
    assert decision["transferred"] == 9
    assert decision["policy"] == {"key": "bscds", "name": mqa_policy()["name"]}
    assert [d["decision"] for d in decision["decisions"]].count("accepted") == 3


def test_pdf_download_names_learner_and_total(client: FlaskClient) -> None:
    response = _post(client, "bscds", mms_of(SITI), fmt="pdf")
    assert response.mimetype == "application/pdf"
    data = response.get_data()
    assert data.startswith(b"%PDF-1.4")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert SITI.name in text
    assert "9 credits" in text
    assert "UTC+08:00" in text


def test_unknown_policy_is_a_plain_404(client: FlaskClient) -> None:
    response = _post(client, "no-such-policy", mms_of(SITI))
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Unknown transfer policy" in html
    assert "POLICY_NOT_FOUND" in html[html.index("<details") :]


def test_garbage_upload_is_a_plain_message(client: FlaskClient) -> None:
    response = _post(client, "bscds", b"\x00\x01 not a credential")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This is not a credential we can read" in html


def test_unsigned_presentation_is_not_credited(client: FlaskClient) -> None:
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": coas_of(SITI, 30),
    }
    response = _post(client, "bscds", vp)
    html = response.get_data(as_text=True)
    assert 'class="decision-accepted"' not in html
    assert "0 credits" in html


def test_malformed_policy_file_stops_startup(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.json").write_text(json.dumps({"maxTransferShare": 3}), encoding="utf-8")
    with pytest.raises(MalformedValueError) as caught:
        load_published_policies(folder)
    assert caught.value.pointer == "/maxTransferShare"


def test_no_policies_says_so(tmp_path: Path) -> None:
    settings = VerifierSettings()
    app = create_app(settings, verifier=settings.build_verifier(trust=trust_for(ISSUER)))
    html = app.test_client().get("/credit-transfer").get_data(as_text=True)
    assert "No credit-transfer policy is published" in html


def _certificate_pdf(credential: dict[str, Any]) -> bytes:
    """A certificate PDF as learners e-mail it: printed facts plus the signed credential
    attached (``credential.json``)."""
    subject = credential["credentialSubject"]
    printed = text_pdf(
        [
            "Certificate of Achievement",
            SITI.name,
            subject["achievement"]["name"],
            subject["achievement"]["humanCode"],
            credential["issuer"]["name"],
        ]
    )
    writer = PdfWriter(clone_from=io.BytesIO(printed))
    writer.add_attachment("credential.json", json.dumps(credential).encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_certificate_pdf_upload_is_evaluated(client: FlaskClient) -> None:
    coas = coas_of(SITI, 50)
    html = _post(client, "bscds", _certificate_pdf(coas[0]), coas[1]).get_data(as_text=True)
    assert html.count('class="decision-accepted"') == 2
    assert "6 credits" in html


CHALLENGE = "uni-b-admissions-2026-0042"
DOMAIN = "https://admissions.uni-b.example.my"
HOLDER = key_from_seed(82)
STRANGER = key_from_seed(83)
HAFIZ = Learner("Hafiz bin Osman", "hafiz@example.com", "salt-hafiz", did=did_key_for(HOLDER))
OTHER = Learner("Other Person", "other@example.com", "salt-other", did=did_key_for(STRANGER))


def _signed_presentation(credentials: list[dict[str, Any]]) -> dict[str, Any]:
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_key_for(HOLDER),
        "verifiableCredential": credentials,
    }
    return sign(vp, HOLDER, proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)


def test_holder_signed_presentation_of_own_credentials_is_credited(client: FlaskClient) -> None:
    vp = _signed_presentation(coas_of(HAFIZ, 60))
    request = {"challenge": CHALLENGE, "domain": DOMAIN}
    html = _post(client, "bscds", vp, **request).get_data(as_text=True)
    assert html.count('class="decision-accepted"') == 3
    assert "9 credits" in html


def test_presentation_made_for_another_request_is_not_credited(client: FlaskClient) -> None:
    vp = _signed_presentation(coas_of(HAFIZ, 65))
    replay = {"challenge": "another-request", "domain": DOMAIN}
    html = _post(client, "bscds", vp, **replay).get_data(as_text=True)
    assert 'class="decision-accepted"' not in html
    assert html.count('data-code="PRESENTATION_NOT_VERIFIED"') == 3


def test_presentation_of_someone_elses_credentials_is_not_credited(client: FlaskClient) -> None:
    vp = _signed_presentation(coas_of(OTHER, 70))
    request = {"challenge": CHALLENGE, "domain": DOMAIN}
    html = _post(client, "bscds", vp, **request).get_data(as_text=True)
    assert 'class="decision-accepted"' not in html
    assert html.count('data-code="PRESENTATION_NOT_VERIFIED"') == 3
    assert "0 credits" in html
