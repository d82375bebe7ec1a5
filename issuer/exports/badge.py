"""Open Badges 3.0 baked badges: a generated badge image with the signed credential inside.

The image is drawn here (a disc coloured by award type, the award type and the achievement
code), so nothing external is needed; baking reuses :mod:`verifier.baked`, so the issuer bakes
exactly what the verifier unbakes (PNG: one uncompressed ``iTXt`` chunk ``openbadgecredential``;
SVG: an ``openbadges:credential`` element).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Final
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from issuer.exports.facts import CertificateFacts
from issuer.exports.fonts import BOLD, font_path
from verifier.baked import bake_png, bake_svg

__all__ = ["AWARD_COLOURS", "badge_png", "badge_svg", "baked_png", "baked_svg"]

#: Award type -> disc colour (dark enough for white text at WCAG AA).
AWARD_COLOURS: Final[dict[str, str]] = {"COC": "#1f5f8b", "COA": "#1d6b3a", "MMS": "#7a2a6b"}
_DEFAULT_COLOUR: Final = "#3d3d3d"
_SIZE: Final = 400


def _colour(award_type: str) -> str:
    return AWARD_COLOURS.get(award_type, _DEFAULT_COLOUR)


def badge_png(facts: CertificateFacts) -> bytes:
    """A 400x400 PNG badge image for ``facts`` (not yet baked)."""
    image = Image.new("RGBA", (_SIZE, _SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, _SIZE - 8, _SIZE - 8), fill=_colour(facts.award_type), outline="#ffffff")
    big = ImageFont.truetype(str(font_path(BOLD)), 96)
    small = ImageFont.truetype(str(font_path(BOLD)), 30)
    centre = _SIZE // 2
    draw.text((centre, centre - 30), facts.award_type or "?", font=big, fill="#ffffff", anchor="mm")
    draw.text(
        (centre, centre + 60), facts.achievement_code[:16], font=small, fill="#ffffff", anchor="mm"
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def badge_svg(facts: CertificateFacts) -> bytes:
    """An SVG badge image for ``facts`` (not yet baked); texts are XML-escaped."""
    title = escape(f"{facts.label_en}: {facts.achievement_name}")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400"'
        ' role="img">'
        f"<title>{title}</title>"
        f'<circle cx="200" cy="200" r="192" fill="{_colour(facts.award_type)}" stroke="#ffffff"/>'
        '<text x="200" y="200" text-anchor="middle" font-family="DejaVu Sans, sans-serif"'
        f' font-size="96" font-weight="bold" fill="#ffffff">{escape(facts.award_type)}</text>'
        '<text x="200" y="270" text-anchor="middle" font-family="DejaVu Sans, sans-serif"'
        f' font-size="30" fill="#ffffff">{escape(facts.achievement_code[:16])}</text>'
        "</svg>"
    )
    return svg.encode("utf-8")


def baked_png(facts: CertificateFacts, credential: Mapping[str, Any] | str) -> bytes:
    """The badge PNG with ``credential`` (pass the stored signed text) baked in."""
    return bake_png(badge_png(facts), credential)


def baked_svg(facts: CertificateFacts, credential: Mapping[str, Any] | str) -> bytes:
    """The badge SVG with ``credential`` baked in."""
    return bake_svg(badge_svg(facts), credential)
