"""PDF certificates print names and titles in every script learners here write: Malay/English
(DejaVu Sans), Chinese and Tamil (Kurinto Sans fallbacks, loaded only when needed; Tamil shaped).

Real parts: the PDF is rendered by PDFium (pypdfium2); its text layer must carry the names, the
pixels where the name sits must hold ink (missing glyphs print blank), and the embedded font
list must name the fallback font. One test renders a real demo award (Tamil learner name).
"""

from __future__ import annotations

import ctypes
import importlib.util
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
import pytest
from issuer_web_support import WebIssuer, web_issuer

from issuer.exports.facts import CertificateFacts
from issuer.exports.formats import render_award
from issuer.exports.pdf import certificate_pdf, fallback_families, needs_shaping
from issuer.services.awards import list_awards

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHINESE_NAME = "陈美玲"
CHINESE_TITLE = "数据分析基础"
TAMIL_NAME = "முருகன் சுப்பிரமணியம்"
TAMIL_TITLE = "தரவு பகுப்பாய்வு அடிப்படைகள்"
_SCALE = 2.0


def _facts(name: str, title: str) -> CertificateFacts:
    return CertificateFacts(
        credential_id="https://issuer.test.example/credentials/6f1c",
        award_type="COA",
        title=title,
        achievement_name=title,
        achievement_code="DAF101",
        learner_name=name,
        issuer_name="Universiti Contoh Malaysia",
        issued_on=date(2026, 9, 1),
        credits=3,
        mqf_level=6,
    )


class RenderedPage:
    """Page 1 of a PDF: its characters (with boxes), embedded font names and a bitmap."""

    def __init__(self, pdf: bytes, *, png: str | None = None) -> None:
        document = pypdfium2.PdfDocument(pdf)
        try:
            page = document[0]
            textpage = page.get_textpage()
            self.height_pt: float = page.get_height()
            self.chars: list[tuple[str, tuple[float, float, float, float]]] = [
                (chr(pdfium_c.FPDFText_GetUnicode(textpage, i)), textpage.get_charbox(i))
                for i in range(textpage.count_chars())
            ]
            self.text: str = textpage.get_text_range()
            self.fonts = _font_names(page)
            self.image = page.render(scale=_SCALE).to_pil().convert("L")
            if png is not None:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                self.image.save(SCREENSHOTS / png)
        finally:
            document.close()

    def find(self, text: str) -> tuple[float, float, float, float]:
        """Bounding box (PDF points: left, bottom, right, top) of ``text`` in the text layer,
        matched ignoring whitespace: PDFium guesses word gaps from glyph positions, and shaped
        Tamil marks make it guess an extra one inside a word."""
        wanted = "".join(text.split())
        visible = [(c, box) for c, box in self.chars if not c.isspace()]
        joined = "".join(c for c, _ in visible)
        start = joined.find(wanted)
        assert start >= 0, f"{text!r} not in the text layer {self.text!r}"
        boxes = [box for _, box in visible[start : start + len(wanted)]]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def ink(self, box: tuple[float, float, float, float]) -> float:
        """Share of dark pixels inside ``box`` (0 for blank glyphs)."""
        left, bottom, right, top = box
        crop = self.image.crop(
            (
                int(left * _SCALE),
                int((self.height_pt - top) * _SCALE),
                int(right * _SCALE) + 1,
                int((self.height_pt - bottom) * _SCALE) + 1,
            )
        )
        histogram: list[int] = crop.histogram()
        return float(sum(histogram[:128])) / max(sum(histogram), 1)


def _font_names(page: pypdfium2.PdfPage) -> set[str]:
    names: set[str] = set()
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        font = pdfium_c.FPDFTextObj_GetFont(obj)
        buffer = ctypes.create_string_buffer(256)
        pdfium_c.FPDFFont_GetBaseFontName(font, buffer, 256)
        # Subset fonts are named "ABCDEF+Family"; keep the family.
        names.add(buffer.value.decode("ascii").split("+", 1)[-1])
    return names


def test_chinese_name_and_title_print_with_the_simplified_chinese_fallback() -> None:
    page = RenderedPage(
        certificate_pdf(_facts(CHINESE_NAME, CHINESE_TITLE), qr_url="https://v.example/x"),
        png="pdf-scripts-chinese.png",
    )
    assert CHINESE_NAME in page.text
    assert CHINESE_TITLE in page.text
    assert "KurintoSansSCBold" in page.fonts
    assert page.ink(page.find(CHINESE_NAME)) > 0.05
    assert page.ink(page.find(CHINESE_TITLE)) > 0.05


def test_tamil_name_and_title_print_shaped_with_the_kurinto_fallback() -> None:
    page = RenderedPage(
        certificate_pdf(_facts(TAMIL_NAME, TAMIL_TITLE), qr_url="https://v.example/x"),
        png="pdf-scripts-tamil.png",
    )
    name = page.find(TAMIL_NAME)
    assert page.ink(name) > 0.05
    assert "KurintoSansBold" in page.fonts
    assert "KurintoSansSCBold" not in page.fonts


def test_latin_only_certificate_embeds_no_fallback_font() -> None:
    page = RenderedPage(
        certificate_pdf(
            _facts("Siti Nurhaliza binti Tarudin", "Data Analytics Fundamentals"),
            qr_url="https://v.example/x",
        )
    )
    assert "Siti Nurhaliza binti Tarudin" in page.text
    assert page.fonts == {"DejaVuSansBook", "DejaVuSansBold"}


def test_one_page_mixes_malay_english_chinese_and_tamil() -> None:
    name = "Kavitha a/p Subramaniam கவிதா 陈美玲"
    page = RenderedPage(
        certificate_pdf(_facts(name, "Asas Analitik Data " + TAMIL_TITLE), qr_url="https://v/x"),
        png="pdf-scripts-mixed.png",
    )
    assert page.ink(page.find("கவிதா")) > 0.05
    assert page.ink(page.find(CHINESE_NAME)) > 0.05
    assert page.ink(page.find("Kavitha")) > 0.05
    assert {"KurintoSansBold", "KurintoSansSCBold"} <= page.fonts


def test_fallback_families_are_chosen_by_script() -> None:
    assert fallback_families("") == []
    assert fallback_families("陈美玲") == ["KurintoSansSC", "KurintoSansTC"]
    assert fallback_families("முருகன்") == ["KurintoSans"]
    assert fallback_families("முருகன் 陈") == ["KurintoSans", "KurintoSansSC", "KurintoSansTC"]
    assert needs_shaping(TAMIL_NAME)
    assert not needs_shaping("Siti Nurhaliza 陈美玲")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def test_demo_tamil_learner_certificate_prints_her_name(demo: WebIssuer) -> None:
    award = next(a for a in list_awards(demo.rt, learner="S1003", limit=None))
    rendered = render_award(award, "pdf", verifier_url="https://verify.test.example")
    page = RenderedPage(rendered.data, png="pdf-scripts-demo-S1003.png")
    assert page.ink(page.find("கவிதா சுப்பிரமணியம்")) > 0.05
    assert "Kavitha a/p Subramaniam" in page.text


def test_tamil_shaping_engine_is_installed() -> None:
    # Without HarfBuzz, Tamil vowel signs and the pulli print detached from their consonants.
    assert importlib.util.find_spec("uharfbuzz") is not None
