"""The vocabulary pages credentials point to: ``GET /vocab/<name>`` (public).

Each MQA fact of an award is an OB 3.0 ``alignment`` whose ``targetUrl`` is
``{BASE}/vocab/<name>#<code>`` (:mod:`issuer.credentials.vocabulary`), so a displayer or a person
following the link reads what the code means. The pages are small, static HTML with one anchor
per code; unknown names are 404 ``NOT_FOUND``.
"""

from __future__ import annotations

from typing import Final

from flask import Blueprint, Response
from markupsafe import escape

from issuer.credentials.vocabulary import VOCABULARIES, Vocabulary
from issuer.services.errors import NotFoundError
from issuer.web.endpoint import endpoint

__all__ = ["render_vocabulary", "vocab"]

vocab = Blueprint("vocab", __name__)

_CACHE: Final = "public, max-age=86400"


def render_vocabulary(page: Vocabulary) -> str:
    """The HTML page of ``page``: title, framework, description and one section per code."""
    terms = "".join(
        f'<dt id="{escape(t.code)}"><code>{escape(t.code)}</code> {escape(t.name)}</dt>'
        f"<dd>{escape(t.description)}</dd>"
        for t in page.terms
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(page.title)}</title></head><body><main>"
        f"<h1>{escape(page.title)}</h1>"
        f"<p>Framework: <strong>{escape(page.framework)}</strong></p>"
        f"<p>{escape(page.description)}</p>"
        + (f"<dl>{terms}</dl>" if terms else "")
        + "</main></body></html>"
    )


@vocab.get("/vocab/<name>")
@endpoint(
    "A vocabulary page named by credential alignments",
    scope=None,
    public=True,
    tags=("public",),
    responses={
        200: ("The page (one anchor per code)", None, "text/html"),
        404: ("No such vocabulary", None, "application/problem+json"),
    },
)
def vocabulary_page(name: str) -> Response:
    """Serve ``VOCABULARIES[name]``."""
    page = VOCABULARIES.get(name)
    if page is None:
        raise NotFoundError(f"no vocabulary {name!r}")
    response = Response(render_vocabulary(page), mimetype="text/html")
    response.headers["Cache-Control"] = _CACHE
    return response
