"""The brand rules (pure): colour contrast, logo checks, data URLs, the verified domain."""

from __future__ import annotations

import base64
import io
import zlib

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from contexts.errors import MalformedValueError
from issuer.domain.branding import (
    LOGO_MAX_BYTES,
    BrandChanges,
    IssuerBrand,
    brand_changes_from_json,
    brand_css,
    check_colour,
    contrast_ratio,
    did_web_domain,
    logo_from_bytes,
    logo_from_data_url,
)
from issuer.services.demobrand import DEMO_ACCENT, DEMO_LOGO_SVG, DEMO_PRIMARY

SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
SAFE_SVG = (
    f'<svg {SVG_NS} viewBox="0 0 10 10"><defs><linearGradient id="g">'
    '<stop offset="0" stop-color="#003366"/></linearGradient></defs>'
    '<rect width="10" height="10" fill="url(#g)"/></svg>'
)


def _png(width: int = 64, height: int = 32, *, text_chunk: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (11, 79, 108))
    if text_chunk:
        info = PngInfo()
        info.add_text("Comment", "<script>alert(1)</script>")
        image.save(out, format="PNG", pnginfo=info)
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WCAG's often-quoted boundary: #767676 passes AA on white, #777777 does not.
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < 4.5


def test_check_colour_accepts_dark_hex_and_lowercases() -> None:
    assert check_colour("#0B4F6C", pointer="/primaryColor") == "#0b4f6c"
    assert check_colour("#767676", pointer="/primaryColor") == "#767676"


@pytest.mark.parametrize("value", ["red", "#abc", "0b4f6c", "#0b4f6cff", "#gg0000", 12, None])
def test_malformed_colour_is_refused(value: object) -> None:
    with pytest.raises(MalformedValueError) as raised:
        check_colour(value, pointer="/accentColor")
    assert raised.value.code == "MALFORMED_VALUE_ERROR"
    assert raised.value.pointer == "/accentColor"


@pytest.mark.parametrize("value", ["#ffff00", "#777777", "#ffffff", "#87ceeb"])
def test_low_contrast_colour_is_refused(value: str) -> None:
    with pytest.raises(MalformedValueError) as raised:
        check_colour(value, pointer="/primaryColor")
    assert raised.value.code == "MALFORMED_VALUE_ERROR"
    assert "contrast" in raised.value.detail


def test_png_logo_is_reencoded_without_ancillary_chunks() -> None:
    original = _png(text_chunk=True)
    assert b"tEXt" in original
    logo = logo_from_bytes(original, "image/png")
    assert logo.media_type == "image/png"
    assert b"tEXt" not in logo.data
    assert b"script" not in logo.data
    with Image.open(io.BytesIO(logo.data)) as image:
        assert image.size == (64, 32)


def test_oversized_png_logo_is_refused() -> None:
    with pytest.raises(MalformedValueError) as raised:
        logo_from_bytes(_png(2000, 40), "image/png")
    assert raised.value.code == "MALFORMED_VALUE_ERROR"
    assert "pixels" in raised.value.detail


def test_too_many_bytes_is_refused() -> None:
    noise = _png() + b"\0" * LOGO_MAX_BYTES
    with pytest.raises(MalformedValueError) as raised:
        logo_from_bytes(noise, "image/png")
    assert "limit" in raised.value.detail


def test_decompression_bomb_png_is_refused() -> None:
    # A valid PNG header claiming 30000x30000 pixels in a few hundred bytes.
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = b"IHDR" + (30000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    chunk = len(ihdr[4:]).to_bytes(4, "big") + ihdr + zlib.crc32(ihdr).to_bytes(4, "big")
    with pytest.raises(MalformedValueError):
        logo_from_bytes(header + chunk, "image/png")


def test_a_jpeg_sent_as_png_is_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, format="JPEG")
    with pytest.raises(MalformedValueError):
        logo_from_bytes(out.getvalue(), "image/png")


def test_other_media_types_are_refused() -> None:
    with pytest.raises(MalformedValueError):
        logo_from_bytes(b"GIF89a", "image/gif")


def test_safe_svg_with_local_gradient_is_kept() -> None:
    logo = logo_from_bytes(SAFE_SVG.encode(), "image/svg+xml")
    assert logo.is_svg
    assert b"url(#g)" in logo.data
    assert logo.data.startswith(b"<svg")


def test_demo_logo_passes_the_same_checks() -> None:
    logo = logo_from_bytes(DEMO_LOGO_SVG.encode(), "image/svg+xml")
    assert DEMO_PRIMARY.encode() in logo.data
    check_colour(DEMO_PRIMARY, pointer="/primaryColor")
    check_colour(DEMO_ACCENT, pointer="/accentColor")


@pytest.mark.parametrize(
    ("name", "svg"),
    [
        ("script_element", f'<svg {SVG_NS} viewBox="0 0 1 1"><script>alert(1)</script></svg>'),
        ("event_handler", f'<svg {SVG_NS} viewBox="0 0 1 1" onload="alert(1)"/>'),
        (
            "xlink_href",
            f'<svg {SVG_NS} xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 1 1">'
            '<rect x:href="javascript:alert(1)"/></svg>',
        ),
        (
            "image_element",
            f'<svg {SVG_NS} viewBox="0 0 1 1"><image href="https://x.test/a"/></svg>',
        ),
        (
            "foreign_object",
            f'<svg {SVG_NS} viewBox="0 0 1 1"><foreignObject><p>x</p></foreignObject></svg>',
        ),
        ("style_element", f'<svg {SVG_NS} viewBox="0 0 1 1"><style>@import "x"</style></svg>'),
        ("style_attribute", f'<svg {SVG_NS} viewBox="0 0 1 1" style="fill:red"/>'),
        (
            "external_url",
            f'<svg {SVG_NS} viewBox="0 0 1 1"><rect fill="url(https://x.test/#g)"/></svg>',
        ),
        (
            "entity_expansion",
            '<!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            f'<svg {SVG_NS} viewBox="0 0 1 1"><text>&a;&a;</text></svg>',
        ),
        ("not_svg_namespace", '<svg viewBox="0 0 1 1"><rect/></svg>'),
        ("html_root", "<html><body>hi</body></html>"),
        ("no_view_box", f'<svg {SVG_NS}><rect width="1" height="1"/></svg>'),
        ("not_xml", "<svg"),
    ],
)
def test_unsafe_svg_logo_is_refused(name: str, svg: str) -> None:
    with pytest.raises(MalformedValueError) as raised:
        logo_from_bytes(svg.encode(), "image/svg+xml", pointer="/logo")
    assert raised.value.code == "MALFORMED_VALUE_ERROR", name
    assert raised.value.pointer == "/logo"


def test_utf16_svg_is_refused() -> None:
    with pytest.raises(MalformedValueError):
        logo_from_bytes(SAFE_SVG.encode("utf-16"), "image/svg+xml")


def test_data_url_round_trip_and_refusals() -> None:
    url = "data:image/png;base64," + base64.b64encode(_png()).decode()
    assert logo_from_data_url(url).media_type == "image/png"
    for bad in ("https://x.test/logo.png", "data:image/gif;base64,R0lG", "data:text/html,<b>", 5):
        with pytest.raises(MalformedValueError):
            logo_from_data_url(bad)


def test_did_web_domain_is_the_did_host() -> None:
    assert did_web_domain("did:web:issuer.example.edu.my") == "issuer.example.edu.my"
    assert did_web_domain("did:web:issuer.example:issuers:fsk") == "issuer.example"
    assert did_web_domain("did:web:localhost%3A8443") == "localhost:8443"
    assert did_web_domain("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK") is None


def test_brand_changes_from_json_reads_members_and_null_logo_removes() -> None:
    changes = brand_changes_from_json(
        {"nameMs": " Universiti Contoh ", "primaryColor": "#0B4F6C", "logo": None}
    )
    assert changes == BrandChanges(
        name_ms="Universiti Contoh", primary_colour="#0b4f6c", remove_logo=True
    )
    assert brand_changes_from_json({"name": "x"}).is_empty


def test_brand_changes_point_at_the_member() -> None:
    with pytest.raises(MalformedValueError) as raised:
        brand_changes_from_json({"accentColor": "#ffff00"}, pointer="/issuer")
    assert raised.value.pointer == "/issuer/accentColor"
    with pytest.raises(MalformedValueError) as raised:
        brand_changes_from_json({"nameMs": ""})
    assert raised.value.pointer == "/nameMs"


def test_brand_css_sets_custom_properties() -> None:
    css = brand_css(IssuerBrand(slug="x", name="X", primary_colour="#0b4f6c"))
    assert "--brand-primary: #0b4f6c;" in css
    assert "--brand-accent: #1f5f8b;" in css
    assert "<" not in css
