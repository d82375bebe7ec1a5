"""A minimal PDF writer for plain text (the verifier may not use the issuer's PDF stack).

The credit-transfer decision is a short list of lines; a PDF 1.4 file with the standard
Helvetica font (no embedding, WinAnsi encoding) and one or more A4 pages of left-aligned
lines is all it needs, and keeps the verifier free of PDF libraries. Long lines are wrapped
at :data:`WRAP` characters; characters outside Latin-1 (the standard fonts' range) become
``?``. Pure: returns bytes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

__all__ = ["LINES_PER_PAGE", "WRAP", "text_pdf"]

WRAP = 95
LINES_PER_PAGE = 60
_TOP = 800
_LEADING = 12.5


def _escape(line: str) -> str:
    latin = line.encode("latin-1", errors="replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _wrapped(lines: Sequence[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out.extend(textwrap.wrap(line, WRAP, break_long_words=True) or [""])
    return out


def text_pdf(lines: Sequence[str], *, title: str = "") -> bytes:
    """A PDF of ``lines`` (10 pt Helvetica on A4, the first line bold 13 pt as a heading)."""
    wrapped = _wrapped(lines) or [""]
    pages = [wrapped[i : i + LINES_PER_PAGE] for i in range(0, len(wrapped), LINES_PER_PAGE)]
    objects: list[bytes] = []
    page_ids = [5 + 2 * i for i in range(len(pages))]
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    for number, page in enumerate(pages):
        ops = ["BT", f"50 {_TOP} Td", f"{_LEADING} TL"]
        for index, line in enumerate(page):
            bold = number == 0 and index == 0
            ops.append(f"/{'F2 13' if bold else 'F1 10'} Tf ({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents "
                f"{page_ids[number] + 1} 0 R /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>"
            ).encode()
        )
        objects.append(
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )
    info_id = len(objects) + 1
    objects.append(f"<< /Title ({_escape(title)}) /Producer (sijil verifier) >>".encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{index} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
