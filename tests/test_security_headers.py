"""Strict security headers on every GET route of both services (walked from the route table).

Every answer, error pages included, carries a Content Security Policy with no external source
(no host, no scheme wildcard, no ``unsafe-*``), ``frame-ancestors 'none'``, ``nosniff`` and a
no-referrer policy; HSTS is sent over HTTPS (and by the issuer whenever its public base URL is
``https://``), never over plain HTTP by the verifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from issuer_web_support import WebIssuer, web_issuer
from werkzeug.test import TestResponse

from issuer.delivery.claims import make_claim_token
from issuer.services.awards import list_awards
from issuer.services.catalogue import list_learners, list_micro_credentials, list_programmes
from issuer.services.issuers import list_issuers
from issuer.wallet.offers import create_offer
from verifier.settings import VerifierSettings
from verifier.web import create_app as create_verifier_app

#: The only sources a policy may name: this origin, nothing, and in-page data (QR camera).
ALLOWED_SOURCES = {"'self'", "'none'", "data:", "blob:", "mediastream:"}
MIN_HSTS_SECONDS = 31_536_000


def csp_problems(policy: str) -> list[str]:
    """What is wrong with a Content Security Policy (empty when it is strict)."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    problems = [
        f"{name}: {source}"
        for name, sources in directives.items()
        for source in sources
        if source not in ALLOWED_SOURCES
    ]
    expected = {
        "default-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
    }
    if directives.get("default-src") == ["'none'"]:  # stricter still (served images)
        expected["default-src"] = ["'none'"]
    problems += [
        f"{name} should be {' '.join(value)}"
        for name, value in expected.items()
        if directives.get(name) != value
    ]
    return problems


@pytest.mark.parametrize(
    "policy",
    [
        "default-src 'self' https://cdn.example; frame-ancestors 'none'",
        "default-src 'self'; script-src 'self' 'unsafe-inline'",
        "default-src *; frame-ancestors 'none'; object-src 'none'; base-uri 'none'",
        "default-src 'self'; img-src https:; frame-ancestors 'none'",
        "default-src 'self'; object-src 'none'; base-uri 'none'",  # framing allowed
    ],
)
def test_csp_check_rejects_loose_policies(policy: str) -> None:
    assert csp_problems(policy)


def assert_strict_headers(response: TestResponse, where: str, *, hsts: bool) -> None:
    headers = response.headers
    assert csp_problems(headers.get("Content-Security-Policy", "")) == [], where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("no-referrer", "strict-origin"), where
    assert headers.get("X-Frame-Options") == "DENY", where
    if hsts:
        value = headers.get("Strict-Transport-Security", "")
        max_age = int(value.split("max-age=")[1].split(";")[0]) if "max-age=" in value else 0
        assert max_age >= MIN_HSTS_SECONDS, (where, value)
        assert "includeSubDomains" in value, where
    else:
        assert "Strict-Transport-Security" not in headers, where


# -- the verifier ---------------------------------------------------------------------------


def _verifier_paths(app: Flask) -> list[str]:
    paths: list[str] = []
    static = Path(app.static_folder or "")
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        if rule.endpoint == "static":
            paths += [f"/static/{p.relative_to(static)}" for p in static.rglob("*") if p.is_file()]
        else:
            assert not rule.arguments, f"give {rule.rule} sample arguments"
            paths.append(rule.rule)
    paths += ["/verify?c=not-a-credential", "/no-such-page", "/static/no-such-file.css"]
    return paths


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_every_verifier_get_route_sends_strict_headers(scheme: str) -> None:
    app = create_verifier_app(VerifierSettings())
    client = app.test_client()
    paths = _verifier_paths(app)
    assert {"/", "/healthz", "/readyz", "/openapi.json", "/verify"} <= set(paths)
    assert any(p.startswith("/static/") and p.endswith(".js") for p in paths)
    for path in paths:
        response = client.get(path, base_url=f"{scheme}://verifier.example")
        response.close()
        assert response.status_code < 500, path
        assert_strict_headers(response, path, hsts=scheme == "https")


def test_verifier_csp_allows_no_inline_script() -> None:
    response = create_verifier_app(VerifierSettings()).test_client().get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe" not in policy
    assert "<script>" not in response.get_data(as_text=True)  # only <script src=...>


def test_forwarded_https_counts_only_behind_trusted_proxies() -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
    untrusted = create_verifier_app(VerifierSettings()).test_client()
    response = untrusted.get("/healthz", headers=forwarded)
    assert "Strict-Transport-Security" not in response.headers
    trusted = create_verifier_app(VerifierSettings(trusted_proxies=1)).test_client()
    response = trusted.get("/healthz", headers=forwarded)
    assert_strict_headers(response, "/healthz via proxy", hsts=True)


# -- the issuer ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def _issuer_values(web: WebIssuer) -> dict[str, object]:
    award = list_awards(web.rt, limit=None)[0]
    return {
        "award_id": award.id,
        "slug": list_issuers(web.rt)[0].slug,
        "code": list_micro_credentials(web.rt)[0].code,
        "external_id": list_learners(web.rt)[0].external_id,
        "token": make_claim_token(web.rt.settings.secret_key, award.learner, at=web.rt.now()),
        "fmt": "json",
        "list_id": 1,
        "token_id": 1,
        "action": "revoke",
        "name": "award-types",
        "offer_id": create_offer(
            web.rt, learner=None, award_ids=[award.id], bind_holder=False, actor="test"
        ).id,
    }


def _programme_code(web: WebIssuer) -> str:
    return list_programmes(web.rt)[0].code


def test_every_issuer_get_route_sends_strict_headers(demo: WebIssuer) -> None:
    values = _issuer_values(demo)
    adapter = demo.app.url_map.bind("issuer.test.example", url_scheme="https")
    client = demo.client()
    token = demo.tokens["admin"]
    reader = demo.tokens["read"]
    checked: list[str] = []
    for rule in demo.app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        args = {name: values[name] for name in rule.arguments}
        if rule.endpoint == "admin.programmes_get":
            args["code"] = _programme_code(demo)
        path = adapter.build(rule.endpoint, args, force_external=False)
        for bearer in (token, reader, None):
            headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
            response = client.get(path, headers=headers, base_url="http://issuer.test.example")
            response.close()
            assert response.status_code < 500, (path, response.status_code)
            # SIJIL_BASE_URL is https://, so HSTS is sent even on this plain-HTTP hop.
            assert_strict_headers(response, f"{path} {response.status_code}", hsts=True)
        checked.append(rule.endpoint)
    assert {"public.credential", "learner.learner_page", "learner.download", "status.get_list"} <= (
        set(checked)
    )
    assert len(checked) >= 20
    missing = client.get("/no-such-route")
    assert missing.status_code == 404
    assert_strict_headers(missing, "404", hsts=True)


def test_issuer_over_plain_http_base_url_sends_no_hsts(tmp_path: Path) -> None:
    with web_issuer(tmp_path / "instance", base_url="http://localhost:5000") as web:
        response = web.client().get("/healthz")
        assert_strict_headers(response, "/healthz", hsts=False)
        secure = web.client().get("/healthz", base_url="https://localhost")
        assert_strict_headers(secure, "/healthz over https", hsts=True)
