"""An issuer's brand: colours, logo, Malay display name and verified domain (pure rules).

What a university shows on the learner page, the PDF certificate and the badge image. Every
value is checked here, once, before it is stored:

- **Colours** are ``#rrggbb`` and must carry white text at WCAG 2.x AA for normal text
  (contrast ratio >= 4.5:1, `WCAG 2.2 §1.4.3 <https://www.w3.org/TR/WCAG22/#contrast-minimum>`_):
  both the primary and the accent colour sit behind white text somewhere.
- **The logo** is stored in the database and served by the issuer itself
  (``{BASE}/issuers/<slug>/logo``), so the OB 3.0 Profile ``image`` points at a URL the issuer
  controls, renders never fetch anything, and a logo cannot change behind a signed credential's
  back on a third-party host. Only small PNG (re-encoded by Pillow, which drops every ancillary
  chunk) and a safe subset of SVG (an element and attribute allow-list, no scripts, event
  handlers, external references, ``<style>`` or DTDs; re-serialized from the checked tree, so
  what is stored is exactly what was checked) are accepted.
- **The verified domain** is not typed in: it is the host of the issuer's ``did:web`` DID, the
  one domain a verifier actually checks (the DID document is fetched from it). A ``did:key``
  issuer has none.

Errors: ``MALFORMED_VALUE_ERROR`` with a JSON pointer for every refused value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote
from xml.etree import ElementTree

from PIL import Image, UnidentifiedImageError

from contexts.errors import MalformedValueError

__all__ = [
    "BRAND_JSON_PROPERTIES",
    "DEFAULT_ACCENT",
    "DEFAULT_PRIMARY",
    "LOGO_MAX_BYTES",
    "LOGO_MAX_PIXELS",
    "LOGO_MEDIA_TYPES",
    "MIN_CONTRAST",
    "BrandChanges",
    "IssuerBrand",
    "Logo",
    "brand_changes_from_json",
    "brand_css",
    "check_colour",
    "contrast_ratio",
    "did_web_domain",
    "logo_from_bytes",
    "logo_from_data_url",
]

#: Used when an issuer has chosen no colours (the badge ring and the page accent so far).
DEFAULT_PRIMARY: Final = "#1b2a41"
DEFAULT_ACCENT: Final = "#1f5f8b"
#: WCAG AA, normal text.
MIN_CONTRAST: Final = 4.5
#: A logo is small: it is served on every learner page and embedded in every PDF.
LOGO_MAX_BYTES: Final = 100 * 1024
#: Longest side of a PNG logo, in pixels.
LOGO_MAX_PIXELS: Final = 1024
LOGO_MEDIA_TYPES: Final = ("image/png", "image/svg+xml")

_HEX: Final = re.compile(r"^#[0-9a-fA-F]{6}$")
_WHITE: Final = "#ffffff"
_SVG_NS: Final = "http://www.w3.org/2000/svg"
_SVG_ELEMENTS: Final = frozenset(
    {
        "svg",
        "g",
        "path",
        "circle",
        "ellipse",
        "rect",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "defs",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
    }
)
_SVG_ATTRIBUTES: Final = frozenset(
    {
        "id",
        "class",
        "viewBox",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "fx",
        "fy",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "clip-rule",
        "clip-path",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-dasharray",
        "opacity",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "clipPathUnits",
        "font-family",
        "font-size",
        "font-weight",
        "text-anchor",
        "dominant-baseline",
        "letter-spacing",
        "preserveAspectRatio",
        "role",
        "aria-label",
        "version",
    }
)
#: ``url(...)`` in an attribute may only name a fragment of the same document (a gradient).
_URL_REF: Final = re.compile(r"url\s*\(", re.IGNORECASE)
_LOCAL_REF: Final = re.compile(r"^url\(\s*#[A-Za-z][A-Za-z0-9_.-]*\s*\)$")
_DTD: Final = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _luminance(colour: str) -> float:
    """Relative luminance of ``#rrggbb`` (WCAG 2.2 definition, sRGB)."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1.0 .. 21.0)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def check_colour(value: Any, *, pointer: str) -> str:
    """``value`` as a lower-case ``#rrggbb`` that white text reads on at WCAG AA.

    Raises ``MALFORMED_VALUE_ERROR`` for anything else (a name, ``#abc``, a light colour).
    """
    if not isinstance(value, str) or not _HEX.match(value):
        raise MalformedValueError("must be a colour written #rrggbb", pointer=pointer)
    ratio = contrast_ratio(value, _WHITE)
    if ratio < MIN_CONTRAST:
        raise MalformedValueError(
            f"white text on {value} has contrast {ratio:.2f}:1; WCAG AA needs "
            f"{MIN_CONTRAST}:1 (choose a darker colour)",
            pointer=pointer,
        )
    return value.lower()


@dataclass(frozen=True)
class Logo:
    """A checked logo: its media type and exactly the bytes that are served."""

    media_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        """Hex digest (the served ETag)."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def is_svg(self) -> bool:
        """Whether the logo is SVG (else PNG)."""
        return self.media_type == "image/svg+xml"


def _png(data: bytes, pointer: str) -> Logo:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise MalformedValueError("logo is not a PNG image", pointer=pointer)
            width, height = image.size
            if max(width, height) > LOGO_MAX_PIXELS or min(width, height) < 16:
                raise MalformedValueError(
                    f"logo must be 16..{LOGO_MAX_PIXELS} pixels on each side, not {width}x{height}",
                    pointer=pointer,
                )
            pixels = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MalformedValueError("logo is not a readable PNG image", pointer=pointer) from exc
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return Logo("image/png", out.getvalue())


def _local_name(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _check_svg_element(element: ElementTree.Element, pointer: str) -> None:
    namespace, name = _local_name(element.tag)
    if namespace != _SVG_NS or name not in _SVG_ELEMENTS:
        raise MalformedValueError(f"logo SVG may not contain <{name}>", pointer=pointer)
    for attribute, value in element.attrib.items():
        attr_ns, attr = _local_name(attribute)
        if attr_ns or attr not in _SVG_ATTRIBUTES:
            raise MalformedValueError(
                f"logo SVG may not use the attribute {attr!r}", pointer=pointer
            )
        if _URL_REF.search(value) and not _LOCAL_REF.match(value.strip()):
            raise MalformedValueError(
                "logo SVG may only reference its own gradients", pointer=pointer
            )
    for child in element:
        _check_svg_element(child, pointer)


def _svg(data: bytes, pointer: str) -> Logo:
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedValueError("logo SVG must be UTF-8", pointer=pointer) from exc
    # No DTD means no entity can be declared: nothing to expand, nothing external to load.
    if _DTD.search(source):
        raise MalformedValueError("logo SVG may not have a DOCTYPE or entities", pointer=pointer)
    try:
        root = ElementTree.fromstring(source)  # noqa: S314 (no DTD: checked just above)
    except (ElementTree.ParseError, ValueError) as exc:
        raise MalformedValueError("logo is not well-formed SVG", pointer=pointer) from exc
    if root.tag != f"{{{_SVG_NS}}}svg":
        raise MalformedValueError("logo's root element must be SVG <svg>", pointer=pointer)
    if "viewBox" not in root.attrib:
        raise MalformedValueError("logo SVG needs a viewBox (to scale)", pointer=pointer)
    _check_svg_element(root, pointer)
    ElementTree.register_namespace("", _SVG_NS)
    text = ElementTree.tostring(root, encoding="unicode")
    return Logo("image/svg+xml", text.encode("utf-8"))


def logo_from_bytes(data: bytes, media_type: str, *, pointer: str = "/logo") -> Logo:
    """A checked logo from uploaded bytes (PNG re-encoded, SVG re-serialized from the allowed
    subset). Raises ``MALFORMED_VALUE_ERROR`` for another type, more than
    :data:`LOGO_MAX_BYTES`, an unreadable or oversized image, or unsafe SVG (scripts, event
    handlers, external references, styles, DTDs)."""
    if media_type not in LOGO_MEDIA_TYPES:
        raise MalformedValueError("logo must be image/png or image/svg+xml", pointer=pointer)
    if len(data) > LOGO_MAX_BYTES:
        raise MalformedValueError(
            f"logo is {len(data)} bytes; the limit is {LOGO_MAX_BYTES}", pointer=pointer
        )
    logo = _png(data, pointer) if media_type == "image/png" else _svg(data, pointer)
    if len(logo.data) > LOGO_MAX_BYTES:
        raise MalformedValueError(f"logo exceeds {LOGO_MAX_BYTES} bytes", pointer=pointer)
    return logo


_DATA_URL: Final = re.compile(r"^data:(image/png|image/svg\+xml);base64,([A-Za-z0-9+/=\s]*)$")


def logo_from_data_url(value: Any, *, pointer: str = "/logo") -> Logo:
    """A checked logo from ``data:image/png;base64,...`` (or ``image/svg+xml``), the form the
    JSON API takes. Raises ``MALFORMED_VALUE_ERROR`` (see :func:`logo_from_bytes`)."""
    if not isinstance(value, str):
        raise MalformedValueError("must be a data: URL string", pointer=pointer)
    if len(value) > LOGO_MAX_BYTES * 2:
        raise MalformedValueError(f"logo exceeds {LOGO_MAX_BYTES} bytes", pointer=pointer)
    found = _DATA_URL.match(value)
    if found is None:
        raise MalformedValueError(
            "must be data:image/png;base64,... or data:image/svg+xml;base64,...", pointer=pointer
        )
    try:
        data = base64.b64decode(found.group(2), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise MalformedValueError("logo is not valid base64", pointer=pointer) from exc
    return logo_from_bytes(data, found.group(1), pointer=pointer)


def did_web_domain(did: str) -> str | None:
    """The host (with port, if any) a ``did:web`` DID resolves at; ``None`` for other DIDs
    (`did:web method §3.2 <https://w3c-ccg.github.io/did-method-web/#read-resolve>`_)."""
    if not did.startswith("did:web:"):
        return None
    host = unquote(did[len("did:web:") :].split(":", 1)[0])
    return host or None


@dataclass(frozen=True)
class BrandChanges:
    """Brand members an admin sets (``None``: leave as is; ``remove_logo``: drop the logo)."""

    name_ms: str | None = None
    primary_colour: str | None = None
    accent_colour: str | None = None
    logo: Logo | None = None
    remove_logo: bool = False

    @property
    def is_empty(self) -> bool:
        """Whether nothing changes."""
        return self == BrandChanges()

    def validate(self) -> None:
        """Check the members again (for changes built in code rather than parsed); a
        :class:`Logo` must come from :func:`logo_from_bytes`. Raises ``MALFORMED_VALUE_ERROR``."""
        if self.name_ms is not None and not 0 < len(self.name_ms.strip()) <= 300:
            raise MalformedValueError("must be 1..300 characters", pointer="/nameMs")
        if self.primary_colour is not None:
            check_colour(self.primary_colour, pointer="/primaryColor")
        if self.accent_colour is not None:
            check_colour(self.accent_colour, pointer="/accentColor")
        if self.logo is not None and self.remove_logo:
            raise MalformedValueError("a logo cannot be set and removed at once", pointer="/logo")

    def to_audit(self) -> dict[str, Any]:
        """What the audit log records (the logo by its digest, not its bytes)."""
        out: dict[str, Any] = {}
        if self.name_ms is not None:
            out["nameMs"] = self.name_ms
        if self.primary_colour is not None:
            out["primaryColor"] = self.primary_colour
        if self.accent_colour is not None:
            out["accentColor"] = self.accent_colour
        if self.logo is not None:
            out["logo"] = {"mediaType": self.logo.media_type, "sha256": self.logo.sha256}
        if self.remove_logo:
            out["logo"] = None
        return out


#: JSON members of the brand in ``POST /issuers`` and ``PATCH /issuers/<slug>`` (JSON Schema).
BRAND_JSON_PROPERTIES: Final[dict[str, Any]] = {
    "nameMs": {"type": "string", "minLength": 1, "maxLength": 300},
    "primaryColor": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    "accentColor": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    "logo": {
        "type": ["string", "null"],
        "maxLength": LOGO_MAX_BYTES * 2,
        "description": "data:image/png;base64,... or data:image/svg+xml;base64,... (null: remove)",
    },
}


def brand_changes_from_json(value: Mapping[str, Any], *, pointer: str = "") -> BrandChanges:
    """The brand members of an issuer JSON object: ``nameMs``, ``primaryColor``,
    ``accentColor`` (``#rrggbb``, WCAG AA with white text), ``logo`` (a data: URL, ``null`` to
    remove). Absent members stay as they are. Raises ``MALFORMED_VALUE_ERROR``."""
    name_ms = value.get("nameMs")
    if name_ms is not None and (
        not isinstance(name_ms, str) or not name_ms.strip() or len(name_ms) > 300
    ):
        raise MalformedValueError("must be 1..300 characters", pointer=f"{pointer}/nameMs")
    primary = value.get("primaryColor")
    accent = value.get("accentColor")
    logo = value.get("logo")
    return BrandChanges(
        name_ms=name_ms.strip() if isinstance(name_ms, str) else None,
        primary_colour=None
        if primary is None
        else check_colour(primary, pointer=f"{pointer}/primaryColor"),
        accent_colour=None
        if accent is None
        else check_colour(accent, pointer=f"{pointer}/accentColor"),
        logo=None if logo is None else logo_from_data_url(logo, pointer=f"{pointer}/logo"),
        remove_logo="logo" in value and logo is None,
    )


@dataclass(frozen=True)
class IssuerBrand:
    """Everything a page, certificate or badge needs to show an issuer (pure data)."""

    slug: str
    name: str
    name_ms: str | None = None
    primary_colour: str = DEFAULT_PRIMARY
    accent_colour: str = DEFAULT_ACCENT
    logo: Logo | None = None
    #: where the issuer serves the logo (the OB Profile ``image``), when it has one.
    logo_url: str | None = None
    #: the did:web host (see :func:`did_web_domain`).
    domain: str | None = None

    @property
    def version(self) -> str:
        """Changes whenever the colours or the logo change (a cache-busting query value)."""
        logo = self.logo.sha256 if self.logo is not None else "-"
        seed = f"{self.primary_colour}{self.accent_colour}{logo}".encode()
        return hashlib.sha256(seed).hexdigest()[:12]

    @property
    def primary_rgb(self) -> tuple[int, int, int]:
        """The primary colour as 0..255 channels."""
        return _rgb(self.primary_colour)

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        """The accent colour as 0..255 channels."""
        return _rgb(self.accent_colour)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def brand_css(brand: IssuerBrand) -> str:
    """The per-issuer stylesheet: custom properties the learner stylesheet reads (served from
    a route, so the page keeps a CSP without inline styles). Colours are already checked."""
    return (
        ":root {"
        f" --brand-primary: {check_colour(brand.primary_colour, pointer='/primaryColor')};"
        f" --brand-accent: {check_colour(brand.accent_colour, pointer='/accentColor')};"
        " --accent: var(--brand-accent);"
        " }\n"
    )
