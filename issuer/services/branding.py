"""Issuer brands: store the checked values, hand renderers an :class:`IssuerBrand`.

Rules (colour contrast, logo checks, the verified domain) live in :mod:`issuer.domain.branding`;
this module only reads and writes ``issuer_brands``. Changing the brand goes through
:func:`issuer.services.issuers.update_issuer` (one transaction, one audit entry), which calls
:func:`apply_brand`. An uploaded logo becomes the issuer's OB 3.0 Profile ``image``:
:func:`logo_url`, served by the issuer (``GET /issuers/<slug>/logo``).

Errors: ``NOT_FOUND`` (no such issuer, or no logo).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.db.branding import IssuerBrandRow
from issuer.db.models import Issuer
from issuer.domain.branding import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    BrandChanges,
    IssuerBrand,
    Logo,
    did_web_domain,
)
from issuer.services.errors import NotFoundError
from issuer.services.runtime import Runtime

__all__ = ["apply_brand", "brand_of", "issuer_brand", "learner_brand", "logo_of", "logo_url"]


def logo_url(base_url: str, slug: str) -> str:
    """The stable public URL of an issuer's stored logo: ``{BASE}/issuers/<slug>/logo``."""
    return f"{base_url.rstrip('/')}/issuers/{slug}/logo"


def apply_brand(
    session: Session, row: Issuer, changes: BrandChanges, *, base_url: str, at: datetime
) -> None:
    """Write ``changes`` to ``row``'s brand in ``session``. A new logo makes :func:`logo_url`
    the issuer's ``image``; removing the logo clears an ``image`` that pointed at it. Raises
    ``MALFORMED_VALUE_ERROR`` (see :meth:`BrandChanges.validate`)."""
    if changes.is_empty:
        return
    changes.validate()
    brand = session.get(IssuerBrandRow, row.id)
    if brand is None:
        brand = IssuerBrandRow(issuer_id=row.id, updated_at=at)
        session.add(brand)
    if changes.name_ms is not None:
        brand.name_ms = changes.name_ms
    if changes.primary_colour is not None:
        brand.primary_colour = changes.primary_colour
    if changes.accent_colour is not None:
        brand.accent_colour = changes.accent_colour
    served = logo_url(base_url, row.slug)
    if changes.logo is not None:
        brand.logo = changes.logo.data
        brand.logo_media_type = changes.logo.media_type
        brand.logo_sha256 = changes.logo.sha256
        row.image = served
    elif changes.remove_logo:
        brand.logo = brand.logo_media_type = brand.logo_sha256 = None
        if row.image == served:
            row.image = None
    brand.updated_at = at


def brand_of(session: Session, row: Issuer, *, base_url: str) -> IssuerBrand:
    """``row``'s brand (defaults for what was never set)."""
    stored = session.get(IssuerBrandRow, row.id)
    logo = None
    if stored is not None and stored.logo is not None and stored.logo_media_type is not None:
        logo = Logo(stored.logo_media_type, stored.logo)
    return IssuerBrand(
        slug=row.slug,
        name=row.name,
        name_ms=stored.name_ms if stored is not None else None,
        primary_colour=(stored.primary_colour if stored else None) or DEFAULT_PRIMARY,
        accent_colour=(stored.accent_colour if stored else None) or DEFAULT_ACCENT,
        logo=logo,
        logo_url=logo_url(base_url, row.slug) if logo is not None else None,
        domain=did_web_domain(row.did),
    )


def _row(session: Session, slug: str | None) -> Issuer:
    query = (
        select(Issuer).where(Issuer.is_default.is_(True))
        if slug is None
        else select(Issuer).where(Issuer.slug == slug)
    )
    row = session.scalars(query.order_by(Issuer.id)).first()
    if row is None:
        raise NotFoundError("no default issuer" if slug is None else f"no issuer {slug!r}")
    return row


def issuer_brand(rt: Runtime, slug: str | None = None) -> IssuerBrand:
    """The brand of the issuer ``slug`` (``None``: the default issuer). Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        return brand_of(session, _row(session, slug), base_url=rt.settings.base_url)


def learner_brand(rt: Runtime, issuer_slugs: Sequence[str]) -> IssuerBrand | None:
    """The brand a learner page wears: the issuer of most of the learner's awards (the first
    listed on a tie), else the default issuer; ``None`` when there is no issuer at all."""
    counts: dict[str, int] = {}
    for slug in issuer_slugs:
        counts[slug] = counts.get(slug, 0) + 1
    chosen = max(counts, key=lambda s: counts[s]) if counts else None
    try:
        return issuer_brand(rt, chosen)
    except NotFoundError:
        return None


def logo_of(rt: Runtime, slug: str) -> Logo:
    """The stored logo of issuer ``slug``. Raises ``NOT_FOUND`` (no issuer, or no logo)."""
    logo = issuer_brand(rt, slug).logo
    if logo is None:
        raise NotFoundError(f"issuer {slug!r} has no logo")
    return logo
