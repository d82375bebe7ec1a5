"""Token scopes on every route: the test walks ``app.url_map``, so a new route cannot slip by.

Every route must be declared (scope or an explicit ``public=True``); the public ones are exactly
the list below; every other route refuses a missing, malformed, wrong, revoked or under-scoped
token with 401/403 problem+json and an RFC 6750 ``WWW-Authenticate`` challenge, before it
looks at the request body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from issuer_web_support import WebIssuer, auth, web_issuer

from issuer.services.tokens import create_token, revoke_token
from issuer.web.endpoint import spec_of

PUBLIC_ROUTES = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("GET", "/credentials/<award_id>"),
    ("GET", "/.well-known/did.json"),
    ("GET", "/issuers/<slug>/did.json"),
    ("GET", "/contexts/sijil/v1"),
    ("GET", "/vocab/<name>"),
    ("GET", "/status/<int(max=2147483647):list_id>"),
    ("GET", "/claim/<token>"),
    ("GET", "/claim/<token>/credentials/<award_id>/<fmt>"),
    ("GET", "/claim/request"),
    ("POST", "/claim/request"),
    ("GET", "/claim/assets/learner.css"),
    # wallets: the offer id (or the claim token) is the capability
    ("GET", "/interactions/<offer_id>"),
    ("POST", "/workflows/claim/exchanges/<offer_id>"),
    ("GET", "/.well-known/openid-credential-issuer"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/oid4vci/offers/<offer_id>"),
    ("POST", "/oid4vci/token"),
    ("POST", "/oid4vci/nonce"),
    ("POST", "/oid4vci/credential"),
    ("POST", "/claim/<token>/wallet"),
    # branding shown on public pages and certificates
    ("GET", "/issuers/<slug>/logo"),
    ("GET", "/issuers/<slug>/brand.css"),
}
#: Which token names lack each scope (admin implies every scope).
UNDER_SCOPED = {
    "admin": ["issue", "read", "issue+read", "metrics"],
    "issue": ["read", "metrics"],
    "read": ["issue", "metrics"],
    "metrics": ["issue", "read", "issue+read"],
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance")) as issuer:
        yield issuer


def _routes(web: WebIssuer) -> list[tuple[str, str, str, str | None]]:
    """(method, rule, concrete path, scope) for every route."""
    out: list[tuple[str, str, str, str | None]] = []
    for rule in web.app.url_map.iter_rules():
        if rule.endpoint.startswith("console."):
            continue  # the staff console (HTML, session + CSRF): test_console_access.py walks it
        spec = spec_of(web.app.view_functions[rule.endpoint])
        assert spec is not None, f"{rule.rule} has no endpoint declaration"
        path = re.sub(r"<int(?:\([^)]*\))?:\w+>", "999999", rule.rule)
        path = re.sub(r"<\w+>", "x", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule, path, spec.scope))
    return out


def _protected(web: WebIssuer) -> list[tuple[str, str, str]]:
    return [(m, p, s) for m, _r, p, s in _routes(web) if s is not None]


def test_every_route_is_declared_and_public_ones_are_exactly_the_known_list(
    web: WebIssuer,
) -> None:
    routes = _routes(web)
    public = {(m, r) for m, r, _p, s in routes if s is None}
    assert public == PUBLIC_ROUTES
    assert len(routes) > len(PUBLIC_ROUTES) + 20  # admin, issue and read routes all counted


def _assert_problem(
    client: FlaskClient, method: str, path: str, headers: dict[str, str], status: int, code: str
) -> str:
    response = client.open(
        path, method=method, headers=headers, data=b"{not json", content_type="application/json"
    )
    assert response.status_code == status, (method, path, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code
    assert body["status"] == status
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer realm=")
    return challenge


def test_missing_token_is_401_on_every_protected_route(web: WebIssuer) -> None:
    client = web.client()
    for method, path, _scope in _protected(web):
        challenge = _assert_problem(client, method, path, {}, 401, "INVALID_TOKEN")
        assert "error=" not in challenge  # RFC 6750 3.1: no error code when no token was sent


@pytest.mark.parametrize(
    "header",
    [
        "Bearer sijil_thisIsNotAValidTokenAtAll0000000000000000",
        "Bearer not-even-our-prefix",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer a b c",
        "Bearer " + "x" * 5000,
    ],
    ids=["unknown", "foreign", "empty", "basic-scheme", "spaces", "huge"],
)
def test_wrong_token_is_401_on_every_protected_route(web: WebIssuer, header: str) -> None:
    client = web.client()
    for method, path, _scope in _protected(web):
        challenge = _assert_problem(
            client, method, path, {"Authorization": header}, 401, "INVALID_TOKEN"
        )
        assert 'error="invalid_token"' in challenge


def test_under_scoped_token_is_403_on_every_protected_route(web: WebIssuer) -> None:
    client = web.client()
    checked = 0
    for method, path, scope in _protected(web):
        for name in UNDER_SCOPED[scope]:
            challenge = _assert_problem(
                client, method, path, auth(web.tokens[name]), 403, "INSUFFICIENT_SCOPE"
            )
            assert 'error="insufficient_scope"' in challenge
            assert f'scope="{scope}"' in challenge
            checked += 1
    assert checked > 40


def test_revoked_token_is_401(web: WebIssuer) -> None:
    view, secret = create_token(web.rt, ["admin"], label="to revoke", actor="test")
    client = web.client()
    assert client.get("/issuers", headers=auth(secret)).status_code == 200
    revoke_token(web.rt, view.id, actor="test")
    response = client.get("/issuers", headers=auth(secret))
    assert response.status_code == 401
    assert response.get_json()["code"] == "INVALID_TOKEN"


def test_right_scope_passes_auth_on_every_protected_route(web: WebIssuer) -> None:
    """With the right token no route answers 401/403: the scope check is not over-eager."""
    client = web.client()
    for method, path, scope in _protected(web):
        token = web.tokens[scope if scope in ("admin", "metrics") else "issue+read"]
        response = client.open(path, method=method, headers=auth(token), json={})
        assert response.status_code not in (401, 403), (method, path, response.get_json())
        assert response.status_code < 500, (method, path, response.get_json())


def test_public_routes_answer_without_a_token(web: WebIssuer, tmp_path: Path) -> None:
    client = web.client()
    for path in (
        "/",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/.well-known/did.json",
        "/contexts/sijil/v1",
        "/vocab/award-types",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "WWW-Authenticate" not in response.headers
