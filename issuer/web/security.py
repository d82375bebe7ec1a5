"""Security headers on every issuer response (the rules of :mod:`webplatform.security`).

The API answers JSON and the learner pages load only their own stylesheet, so the Content
Security Policy is as strict as it gets: ``default-src 'self'``, no scripts at all, no framing
(``frame-ancestors 'none'``). ``nosniff`` stops a browser from reading a stored credential as
HTML. Authenticated answers and problem documents are ``Cache-Control: no-store``; public
documents (credentials, DID documents, contexts) set their own cache policy in the view.

``Strict-Transport-Security`` is sent over HTTPS and whenever ``SIJIL_BASE_URL`` is ``https://``
(every production issuer: TLS may end at a proxy the app does not trust for
``X-Forwarded-Proto``).
"""

from __future__ import annotations

from typing import cast

from flask import current_app

from issuer.services.runtime import Runtime
from issuer.web.endpoint import RUNTIME_EXTENSION
from webplatform.security import HSTS, security_headers

__all__ = ["CONTENT_SECURITY_POLICY", "HSTS", "SECURITY_HEADERS", "apply_security_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _public_url_is_https() -> bool:
    runtime = cast(Runtime | None, current_app.extensions.get(RUNTIME_EXTENSION))
    return runtime is not None and runtime.settings.base_url.startswith("https://")


#: The issuer's hook: :data:`SECURITY_HEADERS`, HSTS over HTTPS, ``no-store`` by default.
apply_security_headers = security_headers(SECURITY_HEADERS, is_https=_public_url_is_https)
