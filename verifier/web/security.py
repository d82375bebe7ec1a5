"""Security headers for every verifier response.

The page loads nothing from another origin and runs no inline script, so the Content
Security Policy can be strict: ``default-src 'self'`` with no ``unsafe-inline``. Frames are
refused (``frame-ancestors 'none'``), the camera is allowed for this origin only (QR scanning),
and ``Referrer-Policy: no-referrer`` keeps a verification link, which may carry the whole
credential in its query, from leaking to any other site. Verification results hold personal
data, so responses are ``Cache-Control: no-store`` unless a view says otherwise (static files).
"""

from __future__ import annotations

from flask import Response

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "apply_security_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
}


def apply_security_headers(response: Response) -> Response:
    """Add :data:`SECURITY_HEADERS` (without overriding a view's own) and a cache policy."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
