"""Exports of demo awards: JSON, baked PNG/SVG and the A4 PDF whose QR opens the verifier.

Real parts only: a seeded demo issuer on SQLite, the verifier's own ``verify_credential`` on the
exported bytes (unbaking the images), and the PDF rendered by PDFium with its QR code decoded by
zxing-cpp.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp
from issuer_web_support import WebIssuer, web_issuer

from contexts.errors import MalformedValueError
from issuer.exports.facts import certificate_facts
from issuer.exports.formats import (
    EXPORT_FORMATS,
    export_award_files,
    parse_formats,
    render_award,
)
from issuer.exports.pdf import A4_MM
from issuer.exports.qr import verifier_link
from issuer.services.awards import AwardView, list_awards
from issuer.services.issuance import own_issuers
from issuer.services.runtime import OfflineFetcher
from verifier.baked import unbake
from verifier.report import verify_credential

VERIFIER = "https://verify.test.example"
_MM_PER_POINT = 25.4 / 72


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def _award(demo: WebIssuer, award_type: str) -> AwardView:
    return next(a for a in list_awards(demo.rt, limit=None) if a.award_type == award_type)


def _verified(demo: WebIssuer, data: bytes) -> str:
    report = verify_credential(
        data,
        resolver=demo.rt.resolver,
        fetcher=OfflineFetcher(),
        check_status=False,
        trust=own_issuers(demo.rt),
    )
    assert report.verified, report.to_dict()["errors"]
    return report.format


def _pdf_page_qr(pdf: bytes) -> tuple[tuple[float, float], list[str]]:
    """(page size in mm, decoded QR texts) of the PDF's only page."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        assert len(document) == 1
        page = document[0]
        width, height = page.get_size()
        image = page.render(scale=2).to_pil()
        page.close()
    finally:
        document.close()
    texts = [result.text for result in zxingcpp.read_barcodes(image)]
    return (width * _MM_PER_POINT, height * _MM_PER_POINT), texts


@pytest.mark.parametrize("award_type", ["COC", "COA", "MMS"])
def test_json_png_svg_verify_with_the_verifier(demo: WebIssuer, award_type: str) -> None:
    award = _award(demo, award_type)
    json_file = render_award(award, "json", verifier_url=VERIFIER)
    assert json_file.data == award.credential_json.encode("utf-8")
    assert json_file.media_type == "application/vc+ld+json"
    assert _verified(demo, json_file.data) == "json-ld"
    for fmt in ("png", "svg"):
        baked = render_award(award, fmt, verifier_url=VERIFIER)
        assert unbake(baked.data) == award.credential_json
        assert _verified(demo, baked.data) == fmt


@pytest.mark.parametrize("award_type", ["COA", "MMS"])
def test_pdf_is_a4_and_its_qr_opens_the_verifier_for_this_credential(
    demo: WebIssuer, award_type: str
) -> None:
    award = _award(demo, award_type)
    pdf = render_award(award, "pdf", verifier_url=VERIFIER)
    assert pdf.media_type == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    (width, height), texts = _pdf_page_qr(pdf.data)
    assert (round(width), round(height)) == (round(A4_MM[0]), round(A4_MM[1]))
    assert texts == [verifier_link(VERIFIER, award.credential_id)]
    assert texts[0].startswith(f"{VERIFIER}/verify?url=https%3A%2F%2F")


def test_pdf_is_deterministic(demo: WebIssuer) -> None:
    award = _award(demo, "COC")
    first = render_award(award, "pdf", verifier_url=VERIFIER).data
    assert render_award(award, "pdf", verifier_url=VERIFIER).data == first


def test_mms_facts_list_its_stacked_coas(demo: WebIssuer) -> None:
    facts = certificate_facts(_award(demo, "MMS").credential())
    coas = {a.credential_id for a in list_awards(demo.rt, award_type="COA", limit=None)}
    assert facts.award_type == "MMS"
    assert facts.label_ms == "Penyata Mikro-Kredensial Malaysia"
    assert len(facts.components) >= 2
    assert {c.credential_id for c in facts.components} <= coas
    assert facts.credits == sum(c.credits or 0 for c in facts.components)


def test_export_writes_every_format_for_every_award(demo: WebIssuer, tmp_path: Path) -> None:
    written = export_award_files(
        demo.rt, tmp_path, ["pdf", "json", "png", "svg"], verifier_url=VERIFIER
    )
    awards = list_awards(demo.rt, limit=None)
    assert len(written) == 4 * len(awards)
    assert {p.suffix for p in written} == {".json", ".png", ".svg", ".pdf"}
    mms = _award(demo, "MMS")
    stem = tmp_path / f"mms-{mms.id}"
    assert json.loads(stem.with_suffix(".json").read_text("utf-8"))["id"] == mms.credential_id
    assert unbake(stem.with_suffix(".png").read_bytes()) == mms.credential_json
    before = {p: p.stat().st_mtime_ns for p in written}
    export_award_files(demo.rt, tmp_path, ["json", "png", "svg", "pdf"], verifier_url=VERIFIER)
    assert {p: p.stat().st_mtime_ns for p in written} == before  # idempotent: nothing rewritten


def test_unknown_format_is_malformed_value(demo: WebIssuer) -> None:
    with pytest.raises(MalformedValueError) as caught:
        parse_formats("json,gif")
    assert caught.value.code == "MALFORMED_VALUE_ERROR"
    with pytest.raises(MalformedValueError):
        parse_formats(" , ")
    with pytest.raises(MalformedValueError):
        render_award(_award(demo, "COC"), "docx", verifier_url=VERIFIER)
    assert parse_formats("PDF, json,json") == ("json", "pdf")
    assert parse_formats("json,png,svg,pdf") == EXPORT_FORMATS
