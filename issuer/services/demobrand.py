"""The demo university's brand: deep teal and maroon, and a generated open-book logo.

Applied by the demo seed right after the default issuer exists and before anything is issued,
so the demo credentials' Profile ``image`` already points at the served logo. An issuer whose
brand was set before (by an admin, or an earlier seed) is left as it is, so re-seeding changes
nothing.
"""

from __future__ import annotations

from typing import Final

from issuer.domain.branding import BrandChanges, logo_from_bytes
from issuer.services.issuers import IssuerView, update_issuer
from issuer.services.runtime import Runtime

__all__ = ["DEMO_ACCENT", "DEMO_LOGO_SVG", "DEMO_NAME_MS", "DEMO_PRIMARY", "brand_demo_issuer"]

DEMO_PRIMARY: Final = "#0b4f6c"
DEMO_ACCENT: Final = "#8a1c3b"
DEMO_NAME_MS: Final = "Universiti Sijil (pembangunan)"
#: An open book under a gold sun on a teal tile: shapes only, so it draws the same everywhere.
DEMO_LOGO_SVG: Final = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
    f'<rect width="64" height="64" rx="12" fill="{DEMO_PRIMARY}"/>'
    '<circle cx="32" cy="14" r="5" fill="#e0b83a"/>'
    '<path d="M10 24 C19 19 27 20 32 25 C37 20 45 19 54 24 L54 50 C45 45 37 46 32 51 '
    'C27 46 19 45 10 50 Z" fill="#ffffff"/>'
    f'<path d="M32 25 L32 51" stroke="{DEMO_PRIMARY}" stroke-width="2"/>'
    f'<path d="M15 30 C20 28 24 28 28 31 M15 36 C20 34 24 34 28 37 M36 31 C40 28 44 28 49 30 '
    f'M36 37 C40 34 44 34 49 36" fill="none" stroke="{DEMO_ACCENT}" stroke-width="1.5" '
    'stroke-linecap="round"/>'
    "</svg>"
)


def brand_demo_issuer(rt: Runtime, issuer: IssuerView, *, actor: str) -> IssuerView:
    """Give ``issuer`` the demo brand unless it has colours already; returns the issuer."""
    if issuer.primary_colour is not None:
        return issuer
    brand = BrandChanges(
        name_ms=DEMO_NAME_MS,
        primary_colour=DEMO_PRIMARY,
        accent_colour=DEMO_ACCENT,
        logo=logo_from_bytes(DEMO_LOGO_SVG.encode("utf-8"), "image/svg+xml"),
    )
    return update_issuer(rt, issuer.slug, actor=actor, brand=brand)
