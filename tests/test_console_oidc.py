"""Staff sign-in through a real OpenID Provider run by the test (``oidc-provider-mock``, an
Authlib-based provider serving discovery, JWKS, authorization code with PKCE and RS256 ID
tokens): a mapped user signs in with the role the settings give; an ID token with another
nonce, a token issued to another client, an unmapped user and a forged state are refused."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _https import LocalServer, Route
from console_support import ConsoleIssuer, console_issuer
from flask.testing import FlaskClient
from sqlalchemy import select

from contexts.errors import SijilError
from issuer.console.models import StaffUser
from issuer.console.oidc import (
    OIDC_EXTENSION,
    Discovery,
    OidcAudienceError,
    OidcNonceError,
    OidcSettings,
    discover,
    exchange_code,
    validate_id_token,
)
from keys.fetch import SafeFetcher

try:
    with warnings.catch_warnings():  # the provider imports deprecated Authlib modules
        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the test dependency is missing
    pytest.skip("oidc-provider-mock is not installed", allow_module_level=True)

#: The provider (a test tool, not our code) runs on a deprecated Authlib API.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:oidc_provider_mock"),
]

CLIENT_ID = "sijil-console"
ROLES = {"groups": {"registry-office": "registrar"}, "domains": {"staff.example.edu": "viewer"}}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Provider:
    """The running provider's issuer URL."""

    issuer: str

    def add_user(self, sub: str, claims: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.issuer}/users/{urllib.parse.quote(sub, safe='')}",
            data=json.dumps(claims).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 204

    def authorize(self, url: str, sub: str) -> str:
        """Approve ``url`` (an authorization request) as ``sub``; the redirect back."""
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode({"sub": sub}).encode(), method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            _OPENER.open(request, timeout=10).close()
        redirect = caught.value
        location = str(redirect.headers["Location"])
        redirect.close()
        assert redirect.code in (302, 303)
        return location


@pytest.fixture
def provider() -> Iterator[Provider]:
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield Provider(f"http://localhost:{server.server_port}")


@pytest.fixture
def issuer(tmp_path: Path, provider: Provider) -> Iterator[ConsoleIssuer]:
    with console_issuer(tmp_path / "instance") as made:
        made.clock.at = _now()  # the provider stamps its tokens with the real time
        made.app.extensions[OIDC_EXTENSION] = OidcSettings(
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            client_secret="test-client-secret",
            roles=ROLES,
            allow_local=True,
        )
        yield made


def _start(client: FlaskClient) -> str:
    answer = client.get("/console/oidc/start?next=/console/learners")
    assert answer.status_code == 302
    return str(answer.headers["Location"])


def _back(client: FlaskClient, location: str) -> Any:
    """Follow the provider's redirect to our callback (the test client serves the issuer)."""
    parts = urllib.parse.urlsplit(location)
    assert parts.path == "/console/oidc/callback"
    return client.get(f"{parts.path}?{parts.query}")


def _role_of(issuer: ConsoleIssuer, email: str) -> str | None:
    with issuer.rt.reading() as session:
        return session.scalar(select(StaffUser.role).where(StaffUser.email == email))


def test_mapped_group_signs_in_as_registrar_with_pkce_state_and_nonce(
    issuer: ConsoleIssuer, provider: Provider
) -> None:
    provider.add_user(
        "u-officer",
        {"email": "Officer@Uni.example", "email_verified": True, "groups": ["registry-office"]},
    )
    client = issuer.app.test_client()
    assert "/console/oidc/start" in client.get("/console/sign-in").text
    url = _start(client)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [CLIENT_ID]
    assert len(query["state"][0]) >= 40
    assert len(query["nonce"][0]) >= 40
    done = _back(client, provider.authorize(url, "u-officer"))
    assert done.status_code == 302, done.text[:500]
    assert done.headers["Location"] == "/console/learners"
    page = client.get("/console/learners")
    assert page.status_code == 200
    assert "officer@uni.example" in page.text
    assert _role_of(issuer, "officer@uni.example") == "registrar"


def test_domain_rule_gives_viewer(issuer: ConsoleIssuer, provider: Provider) -> None:
    provider.add_user("u-clerk", {"email": "clerk@staff.example.edu", "email_verified": True})
    client = issuer.app.test_client()
    done = _back(client, provider.authorize(_start(client), "u-clerk"))
    assert done.status_code == 302
    assert _role_of(issuer, "clerk@staff.example.edu") == "viewer"


def test_unmapped_user_is_refused(issuer: ConsoleIssuer, provider: Provider) -> None:
    provider.add_user("u-student", {"email": "someone@student.example.edu", "email_verified": True})
    client = issuer.app.test_client()
    done = _back(client, provider.authorize(_start(client), "u-student"))
    assert done.status_code == 403
    assert "OIDC_USER_NOT_MAPPED" in done.text
    assert _role_of(issuer, "someone@student.example.edu") is None
    assert client.get("/console/awards").status_code == 302


def test_code_injected_with_another_nonce_is_refused(
    issuer: ConsoleIssuer, provider: Provider
) -> None:
    provider.add_user(
        "u-victim",
        {"email": "v@uni.example", "email_verified": True, "groups": ["registry-office"]},
    )
    client = issuer.app.test_client()
    url = _start(client)
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["nonce"] = "attacker-chosen-nonce-0000000000000000000000"  # same state and PKCE challenge
    forged = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    done = _back(client, provider.authorize(forged, "u-victim"))
    assert done.status_code == 401
    assert "OIDC_NONCE_MISMATCH" in done.text
    assert client.get("/console/awards").status_code == 302


def test_answer_with_a_state_this_browser_did_not_send_is_refused(
    issuer: ConsoleIssuer, provider: Provider
) -> None:
    provider.add_user("u-x", {"email": "x@uni.example", "groups": ["registry-office"]})
    victim, attacker = issuer.app.test_client(), issuer.app.test_client()
    _start(victim)
    location = provider.authorize(_start(attacker), "u-x")
    done = _back(victim, location)  # the attacker's answer delivered to the victim's browser
    assert done.status_code == 400
    assert "OIDC_STATE_MISMATCH" in done.text


def _token_for(provider: Provider, client_id: str, nonce: str, sub: str) -> str:
    """A real ID token from the provider, obtained as the relying party ``client_id``."""
    discovery = discover(SafeFetcher(allow_local=True), provider.issuer)
    redirect = "https://other-app.example/callback"
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    url = (
        discovery.authorization_endpoint
        + "?"
        + urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect,
                "scope": "openid email",
                "state": "s",
                "nonce": nonce,
                "code_challenge": challenge.decode(),
                "code_challenge_method": "S256",
            }
        )
    )
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(provider.authorize(url, sub)).query)["code"][
        0
    ]
    settings = OidcSettings(provider.issuer, client_id, "secret", allow_local=True)
    return exchange_code(
        settings,
        discovery,
        code=code,
        verifier=verifier,
        redirect_uri=redirect,
        fetcher=SafeFetcher(allow_local=True),
    )


def _jwks(discovery: Discovery) -> dict[str, Any]:
    keys: dict[str, Any] = SafeFetcher(allow_local=True).get_json(discovery.jwks_uri)
    return keys


def test_id_token_issued_to_another_client_is_refused(
    issuer: ConsoleIssuer, provider: Provider
) -> None:
    provider.add_user("u-aud", {"email": "aud@uni.example"})
    token = _token_for(provider, "another-application", "n-123", "u-aud")
    discovery = discover(SafeFetcher(allow_local=True), provider.issuer)
    with pytest.raises(OidcAudienceError):
        validate_id_token(
            token,
            _jwks(discovery),
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            nonce="n-123",
            at=_now(),
        )
    claims = validate_id_token(
        token,
        _jwks(discovery),
        issuer=provider.issuer,
        client_id="another-application",
        nonce="n-123",
        at=_now(),
    )
    assert claims["aud"] in ("another-application", ["another-application"])
    with pytest.raises(OidcNonceError):
        validate_id_token(
            token,
            _jwks(discovery),
            issuer=provider.issuer,
            client_id="another-application",
            nonce="n-456",
            at=_now(),
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _refused_token_exchange(token_endpoint: str, *, allow_local: bool) -> SijilError:
    """What ``exchange_code`` raises for a code sent to ``token_endpoint``."""
    issuer = token_endpoint.rsplit("/", 1)[0]
    discovery = Discovery(issuer, f"{issuer}/auth", token_endpoint, "")
    settings = OidcSettings(issuer, "client", "secret", allow_local=allow_local)
    with pytest.raises(SijilError) as refused:
        exchange_code(
            settings,
            discovery,
            code="c",
            verifier="v" * 50,
            redirect_uri="https://sijil.example/cb",
            fetcher=SafeFetcher(allow_local=allow_local),
        )
    return refused.value


@pytest.mark.parametrize(
    ("route", "answer"),
    [
        (Route.redirect("https://elsewhere.example/token", status=307), "answered 307"),
        (Route.json({"error": "invalid_grant"}, status=400), "invalid_grant"),
        (Route(body=b"<html>"), "non-JSON"),
        (Route.json({"access_token": "a"}), "no id_token"),
    ],
)
def test_token_endpoint_answers_that_are_refused(route: Route, answer: str) -> None:
    # The token POST goes through SafeFetcher: a redirect is not followed, errors are named.
    with LocalServer(None, {"/token": route}) as server:
        refused = _refused_token_exchange(server.url("/token"), allow_local=True)
        assert refused.code == "OIDC_PROVIDER_ERROR"
        assert answer in refused.detail
        assert [path for path, _body, _headers in server.posted] == ["/token"]


def test_token_endpoint_on_a_private_address_is_refused() -> None:
    refused = _refused_token_exchange("https://10.1.2.3/token", allow_local=False)
    assert refused.code == "OIDC_PROVIDER_ERROR"
