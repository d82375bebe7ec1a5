"""The verifier's rate-limit policy (the mechanism is :mod:`webplatform.ratelimit`).

Every verifying endpoint (API and page) shares one budget per client
(``SIJIL_RATE_LIMIT_VERIFY``): they may fetch keys and status lists, so they are what a client
could use to make the verifier work. The page's GETs of ``/``, static files, the OpenAPI
document and the health endpoints are not limited.
"""

from __future__ import annotations

from typing import Final

from verifier.settings import VerifierSettings
from webplatform.ratelimit import LimitRule, RateLimitPolicy

__all__ = ["VERIFY_ENDPOINTS", "verifier_rate_limits"]

#: The verifier endpoints that verify (and may fetch keys and status lists): one budget.
VERIFY_ENDPOINTS: Final = (
    "api.verify_credential_view",
    "api.verify_presentation_view",
    "api.create_challenge",
    "api.evaluate_credit_transfer",
    "pages.verify_get",
    "pages.verify_post",
)


def verifier_rate_limits(settings: VerifierSettings) -> RateLimitPolicy:
    """The verifier's policy from its settings (see the module docstring)."""
    return RateLimitPolicy(
        enabled=settings.rate_limits_enabled,
        storage_uri=settings.rate_limit_storage_uri,
        trusted_proxies=settings.trusted_proxies,
        rules=(LimitRule("verify", settings.rate_limit_verify, VERIFY_ENDPOINTS),),
    )
