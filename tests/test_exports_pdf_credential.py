"""The PDF certificate carries its signed credential, and :mod:`verifier.pdf` reads it back.

Learners e-mail the PDF: a verifier handed only the PDF must check the credential it was printed
from (an attached file), and notice when the printed page says something its credential does
not.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from issuer_web_support import WebIssuer, web_issuer
from pypdf import PdfReader, PdfWriter

from contexts.errors import ParsingError
from issuer.exports.facts import certificate_facts
from issuer.exports.formats import render_award
from issuer.exports.pdf import ATTACHMENT_NAME, certificate_pdf
from issuer.services.awards import AwardView, list_awards
from issuer.services.issuance import own_issuers
from issuer.services.issuers import did_document
from issuer.services.runtime import OfflineFetcher
from verifier.cli import cli as verify_cli
from verifier.pdf import (
    PdfCredentialNotFoundError,
    is_pdf,
    printed_mismatches,
    read_pdf_certificate,
)
from verifier.report import VerificationReport, verify_credential
from verifier.trust import trust_list_json

VERIFIER = "https://verify.test.example"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("pdf"), demo=True) as issuer:
        yield issuer


def _award(demo: WebIssuer, award_type: str) -> AwardView:
    return next(a for a in list_awards(demo.rt, limit=None) if a.award_type == award_type)


@pytest.mark.parametrize("award_type", ["COC", "COA", "MMS"])
def test_pdf_attaches_the_signed_credential_verbatim(demo: WebIssuer, award_type: str) -> None:
    award = _award(demo, award_type)
    pdf = render_award(award, "pdf", verifier_url=VERIFIER).data
    assert is_pdf(pdf)
    certificate = read_pdf_certificate(pdf)
    assert certificate.credential == award.credential_json.encode("utf-8")
    attached = PdfReader(io.BytesIO(pdf)).attachments
    assert list(attached) == [ATTACHMENT_NAME]


def test_printed_page_shows_the_credentials_facts(demo: WebIssuer) -> None:
    award = _award(demo, "COA")
    facts = certificate_facts(award.credential())
    printed = read_pdf_certificate(render_award(award, "pdf", verifier_url=VERIFIER).data)
    wanted = [
        ("learner", facts.learner_name),
        ("achievement", facts.achievement_name),
        ("issuer", facts.issuer_name),
    ]
    assert printed_mismatches(printed.printed_text, wanted) == []


def test_page_printed_for_someone_else_is_reported(demo: WebIssuer) -> None:
    award = _award(demo, "COA")
    facts = certificate_facts(award.credential())
    forged = certificate_pdf(
        dataclasses.replace(facts, learner_name="Somebody Else"),
        qr_url=f"{VERIFIER}/verify",
        credential_json=award.credential_json,
    )
    printed = read_pdf_certificate(forged)
    assert printed_mismatches(printed.printed_text, [("learner", facts.learner_name)]) == [
        "learner"
    ]


def test_download_names_say_who_what_and_which_course(demo: WebIssuer) -> None:
    award = _award(demo, "COA")
    facts = certificate_facts(award.credential())
    name = render_award(award, "pdf", verifier_url=VERIFIER).filename
    assert name == f"{facts.learner_name.replace(' ', '-')}_COA_{facts.achievement_code}.pdf"
    assert render_award(award, "json", verifier_url=VERIFIER).filename.endswith(".json")


def test_pdf_without_attachment_is_not_found() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(PdfCredentialNotFoundError) as caught:
        read_pdf_certificate(out.getvalue())
    assert caught.value.code == "PDF_CREDENTIAL_NOT_FOUND"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n%garbage that is no PDF at all", b"%PDF-" + b"\x00" * 64],
    ids=["garbage", "nul-bytes"],
)
def test_unreadable_pdf_is_a_parsing_error(data: bytes) -> None:
    with pytest.raises(ParsingError) as caught:
        read_pdf_certificate(data)
    assert caught.value.code == "PARSING_ERROR"


def test_tampered_attachment_is_what_the_verifier_reads(demo: WebIssuer) -> None:
    award = _award(demo, "COA")
    credential = json.loads(award.credential_json)
    credential["credentialSubject"]["creditsEarned"] = 99
    facts = certificate_facts(award.credential())
    tampered = certificate_pdf(facts, qr_url=VERIFIER, credential_json=json.dumps(credential))
    assert (
        json.loads(read_pdf_certificate(tampered).credential)["credentialSubject"]["creditsEarned"]
        == 99
    )


def _report(demo: WebIssuer, data: bytes) -> VerificationReport:
    return verify_credential(
        data,
        resolver=demo.rt.resolver,
        fetcher=OfflineFetcher(),
        check_status=False,
        trust=own_issuers(demo.rt),
    )


@pytest.mark.parametrize("award_type", ["COC", "COA", "MMS"])
def test_the_verifier_checks_the_pdfs_attached_credential(demo: WebIssuer, award_type: str) -> None:
    pdf = render_award(_award(demo, award_type), "pdf", verifier_url=VERIFIER).data
    report = _report(demo, pdf)
    assert report.verified, report.to_dict()["errors"]
    assert report.format == "pdf"


def test_the_verifier_refuses_a_pdf_whose_attachment_was_tampered(demo: WebIssuer) -> None:
    award = _award(demo, "COA")
    credential = json.loads(award.credential_json)
    credential["credentialSubject"]["creditsEarned"] = 99
    facts = certificate_facts(award.credential())
    tampered = certificate_pdf(facts, qr_url=VERIFIER, credential_json=json.dumps(credential))
    report = _report(demo, tampered)
    assert not report.verified
    assert "PROOF_VERIFICATION_ERROR" in report.error_codes


def test_the_verifier_reports_a_page_printed_for_someone_else(demo: WebIssuer) -> None:
    award = _award(demo, "COA")
    facts = certificate_facts(award.credential())
    forged = certificate_pdf(
        dataclasses.replace(facts, learner_name="Somebody Else"),
        qr_url=VERIFIER,
        credential_json=award.credential_json,
    )
    report = _report(demo, forged)
    assert not report.verified
    assert "PDF_TEXT_MISMATCH" in report.error_codes


def test_sijil_verify_checks_a_pdf_and_a_tampered_one(demo: WebIssuer, tmp_path: Path) -> None:
    award = _award(demo, "COA")
    good = tmp_path / "coa.pdf"
    good.write_bytes(render_award(award, "pdf", verifier_url=VERIFIER).data)
    credential = json.loads(award.credential_json)
    credential["credentialSubject"]["creditsEarned"] = 99
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(
        certificate_pdf(
            certificate_facts(award.credential()),
            qr_url=VERIFIER,
            credential_json=json.dumps(credential),
        )
    )
    did_doc = tmp_path / "did.json"
    did_doc.write_text(json.dumps(did_document(demo.rt)))
    trust = tmp_path / "trust.json"
    trust.write_text(trust_list_json(own_issuers(demo.rt).issuers.values()))
    runner = CliRunner()
    base: list[str] = [
        "verify",
        "--trust",
        str(trust),
        "--controller-document",
        str(did_doc),
        "--no-status",
    ]
    ok = runner.invoke(verify_cli, [*base, str(good)])
    assert ok.exit_code == 0, ok.output
    tampered = runner.invoke(verify_cli, [*base, str(bad)])
    assert tampered.exit_code == 1, tampered.output
