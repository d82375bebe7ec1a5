"""The issuer's rate limits on its public endpoints (mechanism: :mod:`webplatform.ratelimit`).

- ``POST /claim/request`` mails people, so it is limited strictly, per client
  (``SIJIL_RATE_LIMIT_CLAIM_REQUEST``) and per e-mail address asked for
  (``SIJIL_RATE_LIMIT_CLAIM_EMAIL``; the address is hashed before it becomes a storage key);
- the claim pages, the request form and the downloads share a generous budget per client
  (``SIJIL_RATE_LIMIT_CLAIM``), and the wallet offers and exchanges another of the same size;
- the public documents verifiers fetch (credentials, DID documents, status lists, our context,
  the index and the OpenAPI document) share another (``SIJIL_RATE_LIMIT_PUBLIC``).

Health (``/healthz``, ``/readyz``), metrics, the learner stylesheet and every token-protected
route are not limited here (the latter need a valid token first).
"""

from __future__ import annotations

from typing import Final

from flask import request

from issuer.settings import Settings
from webplatform.ratelimit import LimitRule, RateLimitPolicy, hashed_key

__all__ = [
    "CLAIM_ENDPOINTS",
    "PUBLIC_ENDPOINTS",
    "WALLET_ENDPOINTS",
    "claim_email_key",
    "issuer_rate_limits",
]

CLAIM_REQUEST_ENDPOINT: Final = "learner.request_send"
CLAIM_ENDPOINTS: Final = ("learner.learner_page", "learner.download", "learner.request_form")
PUBLIC_ENDPOINTS: Final = (
    "public.index",
    "public.openapi",
    "public.credential",
    "public.well_known_did",
    "public.issuer_did",
    "public.sijil_context",
    "status.get_list",
)
#: Wallet offers and exchanges: wallets and learners, a few requests per credential.
WALLET_ENDPOINTS: Final = (
    "wallet.interaction",
    "wallet.exchange",
    "wallet.credential_offer",
    "wallet.token",
    "wallet.nonce",
    "wallet.credential",
    "wallet.add_to_wallet",
    "wallet.issuer_metadata",
    "wallet.authorization_server",
)
#: The form is tiny; a larger body is refused by the endpoint (413) and never parsed here.
_MAX_FORM_BYTES: Final = 4096
_FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"


def claim_email_key() -> str:
    """The rate-limit key of ``POST /claim/request``: the hashed ``email`` form field.

    Reads the form only when it is a small URL-encoded body (the endpoint refuses anything
    else before it reads it), so the key never parses a large body and never raises.
    """
    length = request.content_length
    if request.mimetype != _FORM_MEDIA_TYPE or length is None or length > _MAX_FORM_BYTES:
        return "email:-"
    return hashed_key("email", request.form.get("email", "")[:320])


def issuer_rate_limits(settings: Settings) -> RateLimitPolicy:
    """The issuer's policy from its settings (see the module docstring)."""
    return RateLimitPolicy(
        enabled=settings.rate_limits_enabled,
        storage_uri=settings.rate_limit_storage_uri,
        trusted_proxies=settings.trusted_proxies,
        rules=(
            LimitRule(
                "claim-request", settings.rate_limit_claim_request, (CLAIM_REQUEST_ENDPOINT,)
            ),
            LimitRule(
                "claim-request-email",
                settings.rate_limit_claim_email,
                (CLAIM_REQUEST_ENDPOINT,),
                key=claim_email_key,
            ),
            LimitRule("claim", settings.rate_limit_claim, CLAIM_ENDPOINTS),
            LimitRule("wallet", settings.rate_limit_claim, WALLET_ENDPOINTS),
            LimitRule("public", settings.rate_limit_public, PUBLIC_ENDPOINTS),
        ),
    )
