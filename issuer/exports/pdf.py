"""The printable certificate: one A4 page, bilingual English/Malay labels, and a QR code.

:func:`certificate_pdf` is pure (facts and the QR target in, PDF bytes out) and deterministic:
the PDF's creation date is the award date, so exporting twice writes the same bytes. The QR
target is decided by the caller (see :mod:`issuer.exports.qr`).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, time
from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from issuer.exports.facts import CertificateFacts
from issuer.exports.fonts import BOLD, REGULAR, font_path
from issuer.exports.qr import qr_png

__all__ = ["A4_MM", "LABELS", "certificate_pdf"]

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
    "credential_id": ("Credential ID", "ID kredensial"),
    "components": ("Stacked micro-credentials", "Mikro-kredensial bertindan"),
    "scan": ("Scan to verify", "Imbas untuk mengesahkan"),
}
_FONT: Final = "DejaVu"
_MARGIN: Final = 20.0
_QR_MM: Final = 45.0


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


def certificate_pdf(facts: CertificateFacts, *, qr_url: str) -> bytes:
    """An A4 certificate for ``facts`` whose QR code encodes ``qr_url``."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(datetime.combine(facts.issued_on, time(0, 0), tzinfo=UTC))
    pdf.set_title(facts.title or facts.label_en)
    pdf.set_author(facts.issuer_name)
    pdf.set_subject(facts.credential_id)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.add_font(_FONT, "", str(font_path(REGULAR)))
    pdf.add_font(_FONT, "B", str(font_path(BOLD)))
    pdf.add_page()
    width, height = A4_MM
    pdf.set_draw_color(31, 95, 139)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, height - 20)

    pdf.set_y(24)
    pdf.set_font(_FONT, "B", 15)
    pdf.cell(0, 9, facts.issuer_name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(_FONT, "B", 22)
    pdf.multi_cell(0, 11, facts.label_en, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 15)
    pdf.set_text_color(70, 70, 70)
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
    return bytes(pdf.output())
