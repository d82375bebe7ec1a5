"""The printable certificate: one A4 page, bilingual English/Malay labels, and a QR code.

:func:`certificate_pdf` is pure (facts and the QR target in, PDF bytes out) and deterministic:
the PDF's creation date is the award date, so exporting twice writes the same bytes. The QR
target is decided by the caller (see :mod:`issuer.exports.qr`).

The PDF carries itself: the signed credential is attached as ``credential.json`` (an embedded file
listed as an associated file with relationship ``Data``, the PDF/A-3 way), so a verifier that is
handed only the PDF checks the credential it was printed from, not a QR code that could point
anywhere (:mod:`verifier.pdf` reads it back).

Branding: given the issuer's :class:`~issuer.domain.branding.IssuerBrand`, the frame and the
issuer's name wear its primary colour, the secondary headings its accent colour, the stored logo
(PNG or checked SVG bytes: nothing is fetched) sits above the name, the Malay display name under
it, and the verified domain (the did:web host) is printed with the facts.

Scripts: every PDF embeds DejaVu Sans (Latin, so Malay and English). Names and titles in scripts
DejaVu lacks (Chinese, Tamil, ...) fall back to the Kurinto Sans fonts shipped by the
``weblate-fonts`` package (SIL Open Font License 1.1, carried in each font's ``name`` table):
``KurintoSans`` (Tamil and most other scripts), ``KurintoSansSC`` then ``KurintoSansTC`` (Han).
Those files are 5-10 MB each, so they are loaded only when the certificate's text has characters
DejaVu cannot draw, and only the families that text needs; the PDF embeds a subset. Scripts whose
letters combine (Tamil, the other Indic scripts, Thai, Arabic/Jawi, ...) are shaped with
HarfBuzz (``uharfbuzz``), again only when the text has them; without ``uharfbuzz`` they print
unshaped and a warning is logged.
"""

from __future__ import annotations

import importlib.util
import io
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, time
from importlib.resources import as_file, files
from pathlib import Path
from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from issuer.domain.branding import DEFAULT_ACCENT, IssuerBrand
from issuer.exports.facts import CertificateFacts
from issuer.exports.fonts import BOLD, REGULAR, font_path
from issuer.exports.qr import qr_png

__all__ = [
    "A4_MM",
    "ATTACHMENT_NAME",
    "FALLBACK_FONTS",
    "LABELS",
    "certificate_pdf",
    "fallback_families",
    "needs_shaping",
]

log = logging.getLogger(__name__)

#: A4 portrait page size in millimetres.
A4_MM: Final = (210.0, 297.0)
#: Field -> (English, Malay) label.
LABELS: Final[dict[str, tuple[str, str]]] = {
    "certify": ("This is to certify that", "Dengan ini disahkan bahawa"),
    "awarded": ("has been awarded", "telah dianugerahkan"),
    "award_type": ("Award type", "Jenis anugerah"),
    "micro_credential": ("Micro-credential", "Mikro-kredensial"),
    "programme": ("Programme", "Program"),
    "code": ("Code", "Kod"),
    "credits": ("Credits", "Kredit"),
    "mqf_level": ("MQF level", "Tahap MQF"),
    "date": ("Date awarded", "Tarikh dianugerahkan"),
    "issuer": ("Issuer", "Pengeluar"),
    "domain": ("Verified domain", "Domain disahkan"),
    "credential_id": ("Credential ID", "ID kredensial"),
    "components": ("Stacked micro-credentials", "Mikro-kredensial bertindan"),
    "scan": ("Scan to verify", "Imbas untuk mengesahkan"),
}
_FONT: Final = "DejaVu"
_MARGIN: Final = 20.0
_QR_MM: Final = 45.0
_LOGO_MM: Final = 18.0
#: The frame colour without a brand.
_DEFAULT_FRAME: Final = DEFAULT_ACCENT

#: Fallback family -> (regular, bold) file in ``weblate_fonts``' Kurinto folder.
FALLBACK_FONTS: Final[dict[str, tuple[str, str]]] = {
    "KurintoSans": ("KurintoSans-Rg.ttf", "KurintoSans-Bd.ttf"),
    "KurintoSansSC": ("KurintoSansSC-Rg.ttf", "KurintoSansSC-Bd.ttf"),
    "KurintoSansTC": ("KurintoSansTC-Rg.ttf", "KurintoSansTC-Bd.ttf"),
}
_KURINTO_DIR: Final = ("static", "weblate_fonts", "kurinto", "ttf")
#: Han ideographs, CJK symbols and punctuation, fullwidth forms (code point ranges, inclusive).
_HAN: Final = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3190, 0x319F),
    (0x31C0, 0x31EF),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
)
#: Scripts whose letters combine or reorder, so they need a shaping engine to print right:
#: Arabic (Jawi), Syriac, Thaana, NKo, the Indic scripts (Devanagari..Malayalam, Tamil
#: included), Sinhala, Thai, Lao, Tibetan, Myanmar, Khmer, Mongolian, Balinese, Javanese.
_SHAPED: Final = (
    (0x0590, 0x08FF),
    (0x0900, 0x0DFF),
    (0x0E00, 0x0FFF),
    (0x1000, 0x109F),
    (0x1780, 0x18AF),
    (0x1B00, 0x1B7F),
    (0xA980, 0xA9DF),
    (0xFB1D, 0xFDFF),
    (0xFE70, 0xFEFF),
)


def _in(ranges: tuple[tuple[int, int], ...], char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def fallback_families(missing: Iterable[str]) -> list[str]:
    """The fallback families (keys of :data:`FALLBACK_FONTS`, in fallback order) needed for the
    characters ``missing`` from DejaVu Sans: Han needs the SC and TC fonts, anything else
    Kurinto Sans."""
    chars = [c for c in missing if not c.isspace()]
    families: list[str] = []
    if any(not _in(_HAN, c) for c in chars):
        families.append("KurintoSans")
    if any(_in(_HAN, c) for c in chars):
        families += ["KurintoSansSC", "KurintoSansTC"]
    return families


def needs_shaping(text: str) -> bool:
    """Whether ``text`` has letters of a script that only prints right once shaped."""
    return any(_in(_SHAPED, c) for c in text)


def _kurinto(name: str) -> Path:
    folder = files("weblate_fonts").joinpath(*_KURINTO_DIR)
    with as_file(folder / name) as path:
        return Path(path)


def _cmap(pdf: FPDF, family: str) -> dict[int, str]:
    """The code points the regular style of an added ``family`` can draw."""
    cmap: dict[int, str] = getattr(pdf.fonts[family.lower()], "cmap", {})
    return cmap


def _add_fallbacks(pdf: FPDF, text: str) -> None:
    """Add the fallback fonts ``text`` needs, in order, each only while some character is still
    missing (Latin-only text reads no big file; simplified Chinese never loads the TC font)."""
    missing = {c for c in text if not c.isspace() and ord(c) not in _cmap(pdf, _FONT)}
    families: list[str] = []
    for family in fallback_families(missing):
        if not any(family in fallback_families(c) for c in missing):
            continue
        regular, bold = FALLBACK_FONTS[family]
        pdf.add_font(family, "", str(_kurinto(regular)))
        pdf.add_font(family, "B", str(_kurinto(bold)))
        families.append(family)
        covered = _cmap(pdf, family)
        missing = {c for c in missing if ord(c) not in covered}
    if families:
        pdf.set_fallback_fonts(families, exact_match=False)
    if needs_shaping(text):
        if importlib.util.find_spec("uharfbuzz") is None:
            log.warning("uharfbuzz is not installed: complex scripts print unshaped in PDFs")
        else:
            pdf.set_text_shaping(True)


def _all_text(facts: CertificateFacts, qr_url: str, brand: IssuerBrand | None = None) -> str:
    parts = [
        facts.issuer_name,
        (brand.name_ms or "") if brand is not None else "",
        (brand.domain or "") if brand is not None else "",
        facts.label_en,
        facts.label_ms,
        facts.learner_name,
        facts.achievement_name,
        facts.achievement_code,
        facts.award_type,
        facts.credential_id,
        qr_url,
        *(f"{part.code} {part.name}" for part in facts.components),
    ]
    return "\n".join(parts)


def _label(key: str) -> str:
    english, malay = LABELS[key]
    return f"{english} / {malay}"


def _row(pdf: FPDF, key: str, value: str) -> None:
    pdf.set_font(_FONT, "", 9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(70, 7, _label(key), new_x=XPos.RIGHT, new_y=YPos.TOP)
    pdf.set_font(_FONT, "B", 11)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(0, 7, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


#: Name of the attached signed credential (read back by :mod:`verifier.pdf`).
ATTACHMENT_NAME: Final = "credential.json"


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _header(pdf: FPDF, facts: CertificateFacts, brand: IssuerBrand | None) -> None:
    """The issuer's name in its colour, its Malay display name under it, and the logo (when
    stored) in the top-left corner, beside the name, so a brand takes no page height."""
    width = A4_MM[0]
    inset = _MARGIN
    if brand is not None and brand.logo is not None:
        pdf.image(io.BytesIO(brand.logo.data), x=16, y=16, h=_LOGO_MM)
        inset = 16 + _LOGO_MM + 4
    pdf.set_y(20 if brand is not None and brand.name_ms else 24)
    pdf.set_font(_FONT, "B", 15)
    if brand is not None:
        pdf.set_text_color(*brand.primary_rgb)
    pdf.set_x(inset)
    pdf.cell(width - 2 * inset, 9, facts.issuer_name, align="C", new_y=YPos.NEXT)
    if brand is not None and brand.name_ms and brand.name_ms != facts.issuer_name:
        pdf.set_font(_FONT, "", 11)
        pdf.set_x(inset)
        pdf.cell(width - 2 * inset, 6, brand.name_ms, align="C", new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_x(_MARGIN)


def certificate_pdf(
    facts: CertificateFacts,
    *,
    qr_url: str,
    credential_json: str | None = None,
    brand: IssuerBrand | None = None,
) -> bytes:
    """An A4 certificate for ``facts`` whose QR code encodes ``qr_url``, with the signed
    ``credential_json`` (verbatim bytes) attached when given, in ``brand``'s colours with its
    logo and verified domain when given."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    issued = datetime.combine(facts.issued_on, time(0, 0), tzinfo=UTC)
    pdf.set_creation_date(issued)
    pdf.set_title(facts.title or facts.label_en)
    pdf.set_author(facts.issuer_name)
    pdf.set_subject(facts.credential_id)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.add_font(_FONT, "", str(font_path(REGULAR)))
    pdf.add_font(_FONT, "B", str(font_path(BOLD)))
    _add_fallbacks(pdf, _all_text(facts, qr_url, brand))
    pdf.add_page()
    width, height = A4_MM
    pdf.set_draw_color(*_hex_rgb(brand.primary_colour if brand else _DEFAULT_FRAME))
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, height - 20)

    _header(pdf, facts, brand)
    pdf.ln(6 if brand is None or not brand.name_ms else 3)
    pdf.set_font(_FONT, "B", 22)
    pdf.multi_cell(0, 11, facts.label_en, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 15)
    pdf.set_text_color(*(brand.accent_rgb if brand is not None else (70, 70, 70)))
    pdf.multi_cell(0, 8, facts.label_ms, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(8)
    pdf.set_font(_FONT, "", 11)
    pdf.cell(0, 7, _label("certify"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "B", 20)
    pdf.multi_cell(0, 11, facts.learner_name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 11)
    pdf.cell(0, 7, _label("awarded"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "B", 16)
    pdf.multi_cell(0, 9, facts.achievement_name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)

    is_programme = facts.award_type == "MMS"
    _row(pdf, "award_type", facts.award_type)
    _row(pdf, "programme" if is_programme else "micro_credential", facts.achievement_name)
    if facts.achievement_code:
        _row(pdf, "code", facts.achievement_code)
    if facts.credits is not None:
        _row(pdf, "credits", str(facts.credits))
    if facts.mqf_level is not None:
        _row(pdf, "mqf_level", str(facts.mqf_level))
    _row(pdf, "date", facts.issued_on.strftime("%d %B %Y"))
    _row(pdf, "issuer", facts.issuer_name)
    if brand is not None and brand.domain:
        _row(pdf, "domain", brand.domain)
    if facts.components:
        pdf.ln(2)
        pdf.set_font(_FONT, "", 9)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(0, 7, _label("components"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(_FONT, "", 10)
        for part in facts.components:
            credits = f" — {part.credits} credits / kredit" if part.credits is not None else ""
            pdf.multi_cell(
                0,
                6,
                f"• {part.code} {part.name}{credits}",
                align="L",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )

    qr_top = height - _MARGIN - _QR_MM - 14
    pdf.image(io.BytesIO(qr_png(qr_url)), x=_MARGIN, y=qr_top, w=_QR_MM, h=_QR_MM)
    text_x = _MARGIN + _QR_MM + 6
    pdf.set_xy(text_x, qr_top + 4)
    pdf.set_font(_FONT, "B", 11)
    pdf.cell(0, 7, _label("scan"), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 7)
    pdf.set_x(text_x)
    pdf.multi_cell(
        0, 4, f"{_label('credential_id')}: {facts.credential_id}", align="L", new_x=XPos.LEFT
    )
    pdf.ln(1)
    pdf.set_x(text_x)
    pdf.multi_cell(0, 4, qr_url, align="L", new_x=XPos.LEFT)
    if credential_json is not None:
        pdf.embed_file(
            bytes=credential_json.encode("utf-8"),
            basename=ATTACHMENT_NAME,
            modification_date=issued,
            mime_type="application/vc+ld+json",
            associated_file_relationship="Data",
            desc="The signed credential this certificate was printed from",
        )
    return bytes(pdf.output())
