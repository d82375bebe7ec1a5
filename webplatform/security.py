"""Security headers for every verifier response (and, with its own policy, every issuer one).

The page loads nothing from another origin and runs no inline script, so the Content
Security Policy can be strict: ``default-src 'self'`` with no ``unsafe-inline``. Frames are
refused (``frame-ancestors 'none'``), the camera is allowed for this origin only (QR scanning),
and ``Referrer-Policy: no-referrer`` keeps a verification link, which may carry the whole
credential in its query, from leaking to any other site. Verification results hold personal
data, so responses are ``Cache-Control: no-store`` unless a view says otherwise (static files).

``Strict-Transport-Security`` is sent on answers to HTTPS requests (``request.is_secure``:
TLS at the WSGI server, or ``X-Forwarded-Proto: https`` from a trusted proxy, see
``SIJIL_TRUSTED_PROXIES``); browsers ignore it over plain HTTP, where it is left out.

:func:`security_headers` builds the ``after_request`` hook from a header set, so the issuer
applies the same rules with its own policy (:mod:`issuer.web.security`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Response, request

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "HSTS",
    "SECURITY_HEADERS",
    "apply_security_headers",
    "security_headers",
]

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

#: Two years, subdomains included (the hstspreload.org minimum is one year).
HSTS = "max-age=63072000; includeSubDomains"

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
}


def security_headers(
    headers: Mapping[str, str], *, is_https: Callable[[], bool] | None = None
) -> Callable[[Response], Response]:
    """An ``after_request`` hook adding ``headers`` (a view's own value wins), ``HSTS`` when
    ``is_https()`` (default: the request came over HTTPS) and ``Cache-Control: no-store``
    when the view set no cache policy."""
    fixed = dict(headers)

    def apply(response: Response) -> Response:
        for name, value in fixed.items():
            response.headers.setdefault(name, value)
        if request.is_secure or (is_https is not None and is_https()):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    return apply


#: The verifier's hook: :data:`SECURITY_HEADERS`, HSTS over HTTPS, ``no-store`` by default.
apply_security_headers = security_headers(SECURITY_HEADERS)
