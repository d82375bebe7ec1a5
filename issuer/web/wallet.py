"""HTTP shell of the wallet channels (:mod:`issuer.wallet`): public routes, each one call.

- ``GET /interactions/<id>?iuv=1``: with ``Accept: application/json`` the protocols object
  (``{"protocols": {"vcapi", "oid4vci-1.0"}}``); otherwise a bilingual page saying what to do
  with a wallet.
- ``POST /workflows/claim/exchanges/<id>``: the VC-API exchange.
- OpenID4VCI 1.0: ``GET /.well-known/openid-credential-issuer``, ``GET
  /.well-known/oauth-authorization-server``, ``GET /oid4vci/offers/<id>`` (the offer by
  reference), ``POST /oid4vci/token``, ``POST /oid4vci/nonce``, ``POST /oid4vci/credential``.
  Their errors are OAuth-shaped (``{"error", "error_description"}``, plus our problem members)
  and every answer carries ``Cache-Control: no-store``.
- ``POST /claim/<token>/wallet``: the learner page's "Add to wallet" (one award or all), which
  shows the offer's QR code and links. The claim token is the learner's proof, as for the page.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from flask import Blueprint, Response, jsonify, render_template, request

from contexts.errors import SijilError
from issuer.delivery.claims import ClaimLinkExpiredError, InvalidClaimLinkError, read_claim_token
from issuer.exports.qr import qr_png
from issuer.wallet.errors import InvalidOAuthRequestError, OAuthError
from issuer.wallet.exchange import exchange_step
from issuer.wallet.offers import create_offer, offer_links
from issuer.wallet.oid4vci import (
    authorization_server_metadata,
    credential_issuer_metadata,
    issue_credential,
    new_nonce,
    offer_by_reference,
    redeem_pre_authorized_code,
)
from issuer.web.endpoint import body, endpoint, runtime
from issuer.web.problems import problem_response

__all__ = ["OAUTH_PATHS", "wallet"]

wallet = Blueprint("wallet", __name__)

_TAGS: Final = ("wallet",)
#: Endpoints whose errors are OAuth 2.0 error bodies (``application/json``).
OAUTH_PATHS: Final = frozenset({"/oid4vci/token", "/oid4vci/nonce", "/oid4vci/credential"})
_JSON: Final = "application/json"
_PROBLEM: Final = "application/problem+json"
_HTML: Final = "text/html"
_FORM: Final = "application/x-www-form-urlencoded"
_OBJECT: Final = {"type": "object"}
_OAUTH_ERROR: Final = {
    "type": "object",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "code": {"type": "string"},
    },
}
_OAUTH_ERRORS: Final = {
    400: ("OAuth 2.0 / OpenID4VCI error", _OAUTH_ERROR, _JSON),
    401: ("Missing, unknown or expired access token", _OAUTH_ERROR, _JSON),
}
_EXCHANGE_ERRORS: Final = {
    400: ("Not a DID Authentication presentation", None, _PROBLEM),
    422: ("The DIDAuth presentation does not verify", None, _PROBLEM),
    404: ("Unknown exchange", None, _PROBLEM),
    409: ("Exchange already complete, or the awards are no longer active", None, _PROBLEM),
    410: ("The offer has expired", None, _PROBLEM),
}


@wallet.errorhandler(SijilError)
def _wallet_error(err: SijilError) -> Response:
    """OpenID4VCI endpoints answer RFC 6749 section 5.2 error bodies (our problem members beside
    them), also for input refused before the view ran (``invalid_request``); the other wallet
    routes answer problem details like the rest of the API."""
    problem = err.to_problem()
    if request.path not in OAUTH_PATHS:
        return problem_response(problem)
    oauth_error = err.oauth_error if isinstance(err, OAuthError) else "invalid_request"
    response = jsonify({"error": oauth_error, "error_description": err.detail, **problem})
    response.status_code = int(problem["status"])
    response.headers["Cache-Control"] = "no-store"
    if err.http_status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{oauth_error}"'
    return response


def _no_store(payload: dict[str, Any]) -> Response:
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match([_HTML, _JSON])
    return best == _JSON and request.accept_mimetypes[_JSON] > request.accept_mimetypes[_HTML]


def _qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text, box_size=6)).decode()


@wallet.get("/interactions/<offer_id>")
@endpoint(
    "Interaction URL of a wallet offer: the protocols (JSON) or a page for people",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={
        200: ("The protocols object, or the page", _OBJECT, _JSON),
        404: ("Unknown offer", None, _PROBLEM),
        410: ("Expired offer", None, _PROBLEM),
    },
)
def interaction(offer_id: str) -> Response | tuple[str, int]:
    """``{"protocols": ...}`` for wallets; a bilingual explanation for browsers."""
    links = offer_links(runtime().settings.base_url, offer_id)
    offer_by_reference(runtime(), offer_id)  # NOT_FOUND / OFFER_EXPIRED before answering
    if _wants_json():
        return _no_store(links.protocols())
    return render_template(
        "wallet/interaction.html", links=links, qr=_qr_data_uri(links.interaction_url)
    ), 200


@wallet.post("/workflows/claim/exchanges/<offer_id>")
@endpoint(
    "VC-API exchange of a wallet offer (direct, or DID Authentication first)",
    scope=None,
    public=True,
    tags=_TAGS,
    body=_OBJECT,
    invalid_status=400,
    responses={
        200: ("A verifiablePresentation, or a verifiablePresentationRequest", _OBJECT, _JSON),
        **_EXCHANGE_ERRORS,
    },
)
def exchange(offer_id: str) -> Response:
    """One step of the exchange."""
    return _no_store(exchange_step(runtime(), offer_id, body()))


@wallet.get("/.well-known/openid-credential-issuer")
@endpoint(
    "OpenID4VCI 1.0 Credential Issuer Metadata",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={200: ("The metadata", _OBJECT, _JSON)},
)
def issuer_metadata() -> Response:
    """Section 12.2."""
    return jsonify(credential_issuer_metadata(runtime()))


@wallet.get("/.well-known/oauth-authorization-server")
@endpoint(
    "OAuth 2.0 Authorization Server Metadata (the issuer is its own authorization server)",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={200: ("The metadata", _OBJECT, _JSON)},
)
def authorization_server() -> Response:
    """RFC 8414."""
    return jsonify(authorization_server_metadata(runtime()))


@wallet.get("/oid4vci/offers/<offer_id>")
@endpoint(
    "OpenID4VCI Credential Offer by reference (credential_offer_uri)",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={
        200: ("The Credential Offer", _OBJECT, _JSON),
        404: ("Unknown offer", None, _PROBLEM),
        410: ("Expired offer", None, _PROBLEM),
    },
)
def credential_offer(offer_id: str) -> Response:
    """Section 4.1.3."""
    return _no_store(offer_by_reference(runtime(), offer_id))


@wallet.post("/oid4vci/token")
@endpoint(
    "OpenID4VCI token endpoint (pre-authorized code grant)",
    scope=None,
    public=True,
    tags=_TAGS,
    request_media=(_FORM,),
    max_bytes=8192,
    responses={200: ("The access token", _OBJECT, _JSON), **_OAUTH_ERRORS},
)
def token() -> Response:
    """Section 6."""
    if request.mimetype != _FORM:
        raise InvalidOAuthRequestError(
            "the token request must be application/x-www-form-urlencoded"
        )
    form = {k: request.form.get(k, "") for k in ("grant_type", "pre-authorized_code", "tx_code")}
    return _no_store(redeem_pre_authorized_code(runtime(), form))


@wallet.post("/oid4vci/nonce")
@endpoint(
    "OpenID4VCI nonce endpoint",
    scope=None,
    public=True,
    tags=_TAGS,
    responses={200: ("A fresh c_nonce", _OBJECT, _JSON)},
)
def nonce() -> Response:
    """Section 7."""
    return _no_store(new_nonce(runtime()))


@wallet.post("/oid4vci/credential")
@endpoint(
    "OpenID4VCI credential endpoint",
    scope=None,
    public=True,
    tags=_TAGS,
    body=_OBJECT,
    invalid_status=400,
    responses={200: ("The credentials", _OBJECT, _JSON), **_OAUTH_ERRORS},
)
def credential() -> Response:
    """Section 8."""
    return _no_store(issue_credential(runtime(), request.headers.get("Authorization"), body()))


@wallet.post("/claim/<token>/wallet")
@endpoint(
    "Learner page: make an offer of one credential (or all) for a wallet",
    scope=None,
    public=True,
    tags=_TAGS,
    request_media=(_FORM,),
    max_bytes=4096,
    responses={
        200: ("The offer: QR code and links", None, _HTML),
        404: ("Invalid claim link, or no such credential", None, _HTML),
        409: ("The credential is not active", None, _PROBLEM),
        410: ("Expired claim link", None, _HTML),
    },
)
def add_to_wallet(token: str) -> tuple[str, int] | Response:
    """Create the offer for the claim link's learner and show it."""
    rt = runtime()
    try:
        claim = read_claim_token(
            rt.settings.secret_key, token, at=rt.now(), fallbacks=rt.settings.secret_key_fallbacks
        )
    except (InvalidClaimLinkError, ClaimLinkExpiredError) as exc:
        return render_template(
            "learner/link_problem.html", expired=isinstance(exc, ClaimLinkExpiredError)
        ), exc.http_status
    award = request.form.get("award", "all")
    try:
        offer = create_offer(
            rt,
            learner=claim.learner,
            award_ids=None if award == "all" else [award],
            bind_holder=request.form.get("bind") == "1",
            actor=f"learner:{claim.learner}",
        )
    except SijilError as exc:
        return problem_response(exc.to_problem())
    return render_template(
        "wallet/offer.html",
        offer=offer,
        token=token,
        qr=_qr_data_uri(offer.links.interaction_url),
        oid4vci_qr=_qr_data_uri(offer.links.credential_offer_uri),
    ), 200
