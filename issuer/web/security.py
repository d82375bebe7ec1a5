"""Security headers on every issuer response.

The API answers JSON and loads nothing from anywhere, so the Content Security Policy is as strict
as it gets: ``default-src 'self'``, no scripts from elsewhere, no framing (``frame-ancestors
'none'``). ``nosniff`` stops a browser from reading a stored credential as HTML. Authenticated
answers and problem documents are ``Cache-Control: no-store``; public documents (credentials,
DID documents, contexts) set their own cache policy in the view.
"""

from __future__ import annotations

from flask import Response

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "apply_security_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
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


def apply_security_headers(response: Response) -> Response:
    """Add :data:`SECURITY_HEADERS` (a view's own value wins) and a default cache policy."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
