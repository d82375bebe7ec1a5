"""Open Badges 3.0 baked badges: a generated badge image with the signed credential inside.

The image is drawn here (a ring with the issuer's name, a disc coloured by award type, the
award type, the course title and its code; the same layout in PNG and SVG), so nothing external
is needed. Given the issuer's brand, the ring wears the issuer's primary colour and the name on
it is white (brand colours are WCAG AA with white text); without one, the default navy ring with
a gold name; baking reuses :mod:`verifier.baked`, so the issuer bakes
exactly what the verifier unbakes (PNG: one uncompressed ``iTXt`` chunk ``openbadgecredential``;
SVG: an ``openbadges:credential`` element).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from issuer.domain.branding import IssuerBrand
from issuer.exports.facts import CertificateFacts
from issuer.exports.fonts import BOLD, REGULAR, font_path
from verifier import bake_png, bake_svg

__all__ = ["AWARD_COLOURS", "badge_png", "badge_svg", "baked_png", "baked_svg"]

#: Award type -> disc colour (dark enough for white text at WCAG AA).
AWARD_COLOURS: Final[dict[str, str]] = {"COC": "#1f5f8b", "COA": "#1d6b3a", "MMS": "#7a2a6b"}
_DEFAULT_COLOUR: Final = "#3d3d3d"
#: The ring and the issuer's name band.
_RING: Final = "#1b2a41"
_GOLD: Final = "#c9a227"
_SIZE: Final = 400
#: One word under the award type, so a badge says what it is without the code.
_KIND: Final[dict[str, str]] = {"COC": "COMPLETION", "COA": "ACHIEVEMENT", "MMS": "STATEMENT"}
_TITLE_WIDTH: Final = 236
_TITLE_LINES: Final = 3
_BOLD_ATTR: Final = ' font-weight="bold"'


def _colour(award_type: str) -> str:
    return AWARD_COLOURS.get(award_type, _DEFAULT_COLOUR)


@dataclass(frozen=True)
class _Text:
    """One line of the badge: where, how big, what."""

    y: int
    size: int
    text: str
    bold: bool = True
    colour: str = "#ffffff"


def _fit(text: str, size: int, width: int, *, bold: bool = True) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels in DejaVu Sans at ``size``."""
    font = _font(size, bold)
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, size: int, width: int, lines: int) -> list[str]:
    """``text`` broken at spaces into at most ``lines`` lines of ``width`` pixels."""
    font = _font(size, True)
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    return [_fit(line, size, width) for line in out]


def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(BOLD if bold else REGULAR)), size)


def _ring(brand: IssuerBrand | None) -> str:
    return brand.primary_colour if brand is not None else _RING


def _layout(facts: CertificateFacts, brand: IssuerBrand | None = None) -> list[_Text]:
    """The badge's lines, top to bottom: issuer, award type, kind, course title, code."""
    title = _wrap(facts.achievement_name or facts.title, 19, _TITLE_WIDTH, _TITLE_LINES)
    top = 252 - 12 * (len(title) - 1)
    lines = [
        _Text(
            94,
            14,
            _fit(facts.issuer_name.upper(), 14, 250),
            colour=_GOLD if brand is None else "#ffffff",
        ),
        _Text(156, 62, facts.award_type or "?"),
        _Text(184, 15, _KIND.get(facts.award_type, facts.label_en.upper())),
    ]
    lines += [_Text(top + 24 * i, 19, line) for i, line in enumerate(title)]
    if facts.achievement_code:
        lines.append(_Text(326, 16, _fit(facts.achievement_code, 16, 150), bold=False))
    return lines


def badge_png(facts: CertificateFacts, brand: IssuerBrand | None = None) -> bytes:
    """A 400x400 PNG badge image for ``facts`` (not yet baked): a ring in the issuer's band
    colour (``brand``'s primary colour), a disc in the award's colour, the issuer, award type,
    course title and code."""
    image = Image.new("RGBA", (_SIZE, _SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, _SIZE - 4, _SIZE - 4), fill=_ring(brand))
    draw.ellipse((22, 22, _SIZE - 22, _SIZE - 22), outline=_GOLD, width=3)
    draw.ellipse((34, 34, _SIZE - 34, _SIZE - 34), fill=_colour(facts.award_type))
    draw.line((140, 200, 260, 200), fill=_GOLD, width=2)
    for line in _layout(facts, brand):
        draw.text(
            (_SIZE // 2, line.y),
            line.text,
            font=_font(line.size, line.bold),
            fill=line.colour,
            anchor="ms",
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def badge_svg(facts: CertificateFacts, brand: IssuerBrand | None = None) -> bytes:
    """The same badge as SVG (not yet baked); every text is XML-escaped."""
    title = escape(f"{facts.label_en}: {facts.achievement_name} — {facts.issuer_name}")
    texts = "".join(
        f'<text x="200" y="{line.y}" text-anchor="middle" font-size="{line.size}"'
        f'{_BOLD_ATTR if line.bold else ""} fill="{line.colour}">{escape(line.text)}</text>'
        for line in _layout(facts, brand)
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400"'
        ' role="img" font-family="DejaVu Sans, Verdana, sans-serif">'
        f"<title>{title}</title>"
        f'<circle cx="200" cy="200" r="196" fill="{_ring(brand)}"/>'
        f'<circle cx="200" cy="200" r="176" fill="none" stroke="{_GOLD}" stroke-width="3"/>'
        f'<circle cx="200" cy="200" r="166" fill="{_colour(facts.award_type)}"/>'
        f'<line x1="140" y1="200" x2="260" y2="200" stroke="{_GOLD}" stroke-width="2"/>'
        f"{texts}</svg>"
    )
    return svg.encode("utf-8")


def baked_png(
    facts: CertificateFacts,
    credential: Mapping[str, Any] | str,
    brand: IssuerBrand | None = None,
) -> bytes:
    """The badge PNG with ``credential`` (pass the stored signed text) baked in."""
    return bake_png(badge_png(facts, brand), credential)


def baked_svg(
    facts: CertificateFacts,
    credential: Mapping[str, Any] | str,
    brand: IssuerBrand | None = None,
) -> bytes:
    """The badge SVG with ``credential`` baked in."""
    return bake_svg(badge_svg(facts, brand), credential)
