"""Public brand assets of each issuer: its logo and its colours as a stylesheet.

- ``GET /issuers/<slug>/logo``: the stored logo (PNG or checked SVG), the OB 3.0 Profile
  ``image`` of credentials issued after it was uploaded. Served with its own strict CSP
  (``default-src 'none'``), ``nosniff`` and an ETag.
- ``GET /issuers/<slug>/brand.css``: ``:root`` custom properties (``--brand-primary``,
  ``--brand-accent``) the learner stylesheet reads. The learner pages' CSP allows no inline
  style, so colours arrive as a same-origin stylesheet instead of a ``style`` attribute.

Templates get ``learner_brand(cards)`` (the brand of the issuer of most of the cards, else the
default issuer) through a context processor, so the learner views stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

from flask import Blueprint, Response, request

from issuer.domain.branding import IssuerBrand, brand_css
from issuer.services.branding import issuer_brand, learner_brand, logo_of
from issuer.web.endpoint import endpoint, runtime

__all__ = ["LOGO_CSP", "branding"]

branding = Blueprint("branding", __name__)

#: A logo is an image, never a document: nothing in it may load or run.
LOGO_CSP: Final = (
    "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; sandbox"
)
_TAGS: Final = ("public",)
_CACHE: Final = "public, max-age=300"


class _Card(Protocol):
    """What the learner page's cards offer (``card.award.issuer`` is the issuer's slug)."""

    @property
    def award(self) -> Any: ...


@branding.get("/issuers/<slug>/logo")
@endpoint(
    "An issuer's logo (the OB 3.0 Profile image)",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={
        200: ("The logo (image/png or image/svg+xml)", None, "image/png"),
        404: ("No such issuer, or no logo", None, "application/problem+json"),
    },
)
def logo(slug: str) -> Response:
    """Raises ``NOT_FOUND`` when the issuer or its logo does not exist."""
    stored = logo_of(runtime(), slug)
    etag = stored.sha256
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(stored.data, mimetype=stored.media_type)
    response.set_etag(etag)
    response.headers["Cache-Control"] = _CACHE
    response.headers["Content-Security-Policy"] = LOGO_CSP
    extension = "svg" if stored.is_svg else "png"
    response.headers["Content-Disposition"] = f'inline; filename="{slug}-logo.{extension}"'
    return response


@branding.get("/issuers/<slug>/brand.css")
@endpoint(
    "An issuer's colours as CSS custom properties (used by the learner pages)",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={
        200: ("CSS", None, "text/css"),
        404: ("No such issuer", None, "application/problem+json"),
    },
)
def stylesheet(slug: str) -> Response:
    """Raises ``NOT_FOUND`` for an unknown issuer."""
    response = Response(brand_css(issuer_brand(runtime(), slug)), mimetype="text/css")
    response.headers["Cache-Control"] = _CACHE
    return response


def _learner_brand(cards: Sequence[_Card]) -> IssuerBrand | None:
    return learner_brand(runtime(), [str(card.award.issuer) for card in cards])


@branding.app_context_processor
def _template_helpers() -> dict[str, Callable[[Sequence[_Card]], IssuerBrand | None]]:
    return {"learner_brand": _learner_brand}
