"""Rate limits on the public endpoints of both services, through the real Flask apps.

Each test builds its app with small limits from settings (as ``SIJIL_RATE_LIMIT_*`` would), so
the N+1th request is the limited one; nothing is timed (the windows are a minute or more).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from contexts.errors import SijilError
from issuer.delivery.mail import OutboxMailer
from issuer.services.bootstrap import open_runtime
from issuer.services.issuers import ensure_default_issuer
from issuer.settings import Settings
from issuer.web import create_app as create_issuer_app
from issuer.web.learner import LearnerConfig, configure_learner
from issuer.web.ratelimit import CLAIM_ENDPOINTS, PUBLIC_ENDPOINTS, claim_email_key
from verifier.settings import VerifierSettings
from verifier.web import create_app as create_verifier_app
from verifier.web.ratelimit import VERIFY_ENDPOINTS
from webplatform.ratelimit import LIMITER_EXTENSION, client_key, hashed_key

PROBLEM_JSON = "application/problem+json"
CLIENT_A = {"REMOTE_ADDR": "198.51.100.7"}
CLIENT_B = {"REMOTE_ADDR": "203.0.113.9"}


def _verifier(limit: str = "3/minute", **kwargs: object) -> Flask:
    settings = VerifierSettings(rate_limits_enabled=True, rate_limit_verify=limit, **kwargs)  # type: ignore[arg-type]
    return create_verifier_app(settings)


def _verify(client: FlaskClient, environ: dict[str, str] | None = None) -> TestResponse:
    return client.post("/credentials/verify", json={}, environ_base=environ or CLIENT_A)


def _assert_rate_limited(response: TestResponse, *, limit: int, window: int = 60) -> None:
    assert response.status_code == 429
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["code"] == "RATE_LIMITED"
    assert body["status"] == 429
    assert body["type"].endswith("/rate-limited")
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit()
    assert 0 <= int(retry_after) <= window
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0


# -- the verifier -----------------------------------------------------------------------


def test_verifier_n_plus_first_request_is_429_problem_json() -> None:
    client = _verifier("3/minute").test_client()
    answers = [_verify(client) for _ in range(3)]
    assert [a.status_code for a in answers] != [429] * 3
    assert all(a.status_code != 429 for a in answers)
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    _assert_rate_limited(_verify(client), limit=3)


def test_verifier_every_part_of_a_compound_limit_is_enforced() -> None:
    client = _verifier("100/minute;2/hour").test_client()
    assert [_verify(client).status_code == 429 for _ in range(2)] == [False, False]
    _assert_rate_limited(_verify(client), limit=2, window=3600)


def test_verifier_verifying_endpoints_share_one_budget() -> None:
    client = _verifier("3/minute").test_client()
    assert client.post("/presentations/verify", json={}, environ_base=CLIENT_A).status_code != 429
    assert client.post("/challenges", json={}, environ_base=CLIENT_A).status_code != 429
    assert client.get("/verify?c=x", environ_base=CLIENT_A).status_code != 429
    _assert_rate_limited(_verify(client), limit=3)


def test_verifier_page_post_is_limited_with_the_error_page() -> None:
    client = _verifier("1/minute").test_client()
    first = client.post("/verify", data={"credential": "{}"}, environ_base=CLIENT_A)
    assert first.status_code != 429
    limited = client.post("/verify", data={"credential": "{}"}, environ_base=CLIENT_A)
    assert limited.status_code == 429
    # The human page answers its errors as HTML (webplatform.problems), with the same code.
    assert limited.mimetype == "text/html"
    assert "RATE_LIMITED" in limited.get_data(as_text=True)
    assert limited.headers["Retry-After"].isdigit()
    assert "default-src 'self'" in limited.headers["Content-Security-Policy"]


def test_verifier_clients_are_limited_separately() -> None:
    client = _verifier("2/minute").test_client()
    for _ in range(2):
        assert _verify(client, CLIENT_A).status_code != 429
    _assert_rate_limited(_verify(client, CLIENT_A), limit=2)
    assert _verify(client, CLIENT_B).status_code != 429
    assert _verify(client, CLIENT_B).status_code != 429
    _assert_rate_limited(_verify(client, CLIENT_B), limit=2)


def test_verifier_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    client = _verifier("1/minute").test_client()
    first = client.post(
        "/credentials/verify",
        json={},
        environ_base=CLIENT_A,
        headers={"X-Forwarded-For": "192.0.2.1"},
    )
    assert first.status_code != 429
    forged = client.post(
        "/credentials/verify",
        json={},
        environ_base=CLIENT_A,
        headers={"X-Forwarded-For": "192.0.2.2"},
    )
    _assert_rate_limited(forged, limit=1)


def test_verifier_forwarded_for_is_the_client_behind_a_trusted_proxy() -> None:
    client = _verifier("1/minute", trusted_proxies=1).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for address in ("192.0.2.1", "192.0.2.2"):
        response = client.post(
            "/credentials/verify",
            json={},
            environ_base=proxy,
            headers={"X-Forwarded-For": address},
        )
        assert response.status_code != 429, address
    again = client.post(
        "/credentials/verify", json={}, environ_base=proxy, headers={"X-Forwarded-For": "192.0.2.1"}
    )
    _assert_rate_limited(again, limit=1)


def test_verifier_exempt_routes_are_never_limited() -> None:
    app = _verifier("1/minute")
    client = app.test_client()
    assert _verify(client).status_code != 429
    _assert_rate_limited(_verify(client), limit=1)
    paths = ["/healthz", "/readyz", "/openapi.json", "/", "/static/site.css"]
    if "metrics" in {rule.rule.strip("/") for rule in app.url_map.iter_rules()}:
        paths.append("/metrics")
    for path in paths:
        for _ in range(5):
            response = client.get(path, environ_base=CLIENT_A)
            response.close()
            assert response.status_code == 200, path
            assert "X-RateLimit-Limit" not in response.headers, path


def test_verifier_only_verifying_endpoints_carry_limits() -> None:
    app = _verifier("1/minute")
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(VERIFY_ENDPOINTS) <= endpoints
    exempt = endpoints - set(VERIFY_ENDPOINTS)
    assert {"static", "api.healthz", "api.readyz"} <= exempt
    assert not any(e.startswith("api.verify") or e.startswith("pages.verify") for e in exempt)


def test_verifier_limits_off_answer_without_limit_headers() -> None:
    app = create_verifier_app(VerifierSettings(rate_limits_enabled=False))
    client = app.test_client()
    assert LIMITER_EXTENSION not in app.extensions
    for _ in range(5):
        response = _verify(client)
        assert response.status_code != 429
        assert "X-RateLimit-Limit" not in response.headers


def test_verifier_settings_from_env() -> None:
    defaults = VerifierSettings.from_env({})
    assert defaults.rate_limits_enabled is True
    assert defaults.rate_limit_verify == "60/minute;1000/hour"
    assert defaults.rate_limit_storage_uri == "memory://"
    assert defaults.trusted_proxies == 0
    custom = VerifierSettings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_RATE_LIMITS_ENABLED": "0",
            "SIJIL_RATE_LIMIT_VERIFY": "5/second",
            "SIJIL_RATE_LIMIT_STORAGE_URI": "redis://cache:6379",
            "SIJIL_TRUSTED_PROXIES": "2",
        }
    )
    assert custom.rate_limits_enabled is False
    assert custom.rate_limit_verify == "5/second"
    assert custom.rate_limit_storage_uri == "redis://cache:6379"
    assert custom.trusted_proxies == 2


@pytest.mark.parametrize(
    "env",
    [
        {"SIJIL_RATE_LIMIT_VERIFY": "lots"},
        {"SIJIL_RATE_LIMIT_VERIFY": "60/fortnight"},
        {"SIJIL_TRUSTED_PROXIES": "-1"},
        {"SIJIL_TRUSTED_PROXIES": "one"},
        {"SIJIL_RATE_LIMITS_ENABLED": "maybe"},
    ],
)
def test_malformed_rate_limit_setting_is_settings_error(env: dict[str, str]) -> None:
    with pytest.raises(SijilError) as err:
        VerifierSettings.from_env(env)
    assert err.value.code == "SETTINGS_ERROR"


@pytest.mark.parametrize(
    "uri", ["bogus://user:s3cret-password@somewhere", "redis://:s3cret-password@127.0.0.1:1/0"]
)
def test_unusable_storage_is_a_settings_error_at_startup(uri: str) -> None:
    # No redis client is installed here, so a redis:// store is unusable too.
    settings = VerifierSettings(rate_limits_enabled=True, rate_limit_storage_uri=uri)
    with pytest.raises(SijilError) as err:
        create_verifier_app(settings)
    assert err.value.code == "SETTINGS_ERROR"
    assert "s3cret-password" not in str(err.value)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "client:198.51.100.7"),
        ("::ffff:198.51.100.7", "client:198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "client:2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "client:2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "client:2001:db8:1:3::/64"),
    ],
)
def test_client_key_groups_ipv6_by_64(address: str, key: str) -> None:
    app = Flask(__name__)
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert client_key() == key


def test_hashed_key_hides_and_normalises_the_address() -> None:
    key = hashed_key("email", " Learner@Example.ORG ")
    assert key == hashed_key("email", "learner@example.org")
    assert "learner" not in key.lower()
    assert key != hashed_key("email", "other@example.org")


# -- the issuer ---------------------------------------------------------------------------


@contextmanager
def _issuer(tmp_path: Path, **limits: str) -> Iterator[tuple[Flask, Path]]:
    """A real issuer app (SQLite, default issuer) with rate limits on and ``limits`` set."""
    env = {
        "SIJIL_ENV": "development",
        "SIJIL_INSTANCE_DIR": str(tmp_path / "instance"),
        "SIJIL_BASE_URL": "https://issuer.test.example",
        "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
        "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
        "SIJIL_RATE_LIMITS_ENABLED": "1",
        "SIJIL_RATE_LIMIT_CLAIM_REQUEST": "100/minute",
        "SIJIL_RATE_LIMIT_CLAIM_EMAIL": "100/minute",
        "SIJIL_RATE_LIMIT_CLAIM": "100/minute",
        "SIJIL_RATE_LIMIT_PUBLIC": "100/minute",
    }
    env.update({f"SIJIL_RATE_LIMIT_{name.upper()}": value for name, value in limits.items()})
    rt = open_runtime(Settings.from_env(env))
    try:
        ensure_default_issuer(rt, actor="test")
        app = create_issuer_app(runtime=rt)
        outbox = tmp_path / "outbox"
        configure_learner(app, LearnerConfig("https://verify.example", OutboxMailer(outbox)))
        yield app, outbox
    finally:
        rt.close()


def _claim(client: FlaskClient, email: str, environ: dict[str, str]) -> TestResponse:
    return client.post("/claim/request", data={"email": email}, environ_base=environ)


def test_claim_request_is_limited_per_client(tmp_path: Path) -> None:
    with _issuer(tmp_path, claim_request="3/minute") as (app, _):
        client = app.test_client()
        for n in range(3):
            assert _claim(client, f"l{n}@example.org", CLIENT_A).status_code == 200
        _assert_rate_limited(_claim(client, "l9@example.org", CLIENT_A), limit=3)
        assert _claim(client, "l9@example.org", CLIENT_B).status_code == 200


def test_claim_request_is_limited_per_email_address(tmp_path: Path) -> None:
    with _issuer(tmp_path, claim_email="2/minute") as (app, _):
        client = app.test_client()
        assert _claim(client, "learner@example.org", CLIENT_A).status_code == 200
        assert _claim(client, "Learner@Example.org ", CLIENT_B).status_code == 200
        third = {"REMOTE_ADDR": "192.0.2.33"}
        _assert_rate_limited(_claim(client, "LEARNER@example.org", third), limit=2)
        assert _claim(client, "someone.else@example.org", third).status_code == 200


def test_claim_request_limit_does_not_reach_the_claim_pages(tmp_path: Path) -> None:
    with _issuer(tmp_path, claim_request="1/minute", claim="3/minute") as (app, _):
        client = app.test_client()
        assert _claim(client, "a@example.org", CLIENT_A).status_code == 200
        assert _claim(client, "b@example.org", CLIENT_A).status_code == 429
        assert client.get("/claim/request", environ_base=CLIENT_A).status_code == 200
        assert client.get("/claim/not-a-token", environ_base=CLIENT_A).status_code == 404
        assert client.get("/claim/not-a-token", environ_base=CLIENT_A).status_code == 404
        _assert_rate_limited(client.get("/claim/not-a-token", environ_base=CLIENT_A), limit=3)


def test_oversized_claim_request_is_refused_not_parsed_for_the_key(tmp_path: Path) -> None:
    with _issuer(tmp_path) as (app, _):
        response = app.test_client().post(
            "/claim/request", data={"email": "x" * 10_000}, environ_base=CLIENT_A
        )
        assert response.status_code == 413
        assert response.get_json()["code"] == "REQUEST_TOO_LARGE"
        with app.test_request_context(
            "/claim/request", method="POST", data={"email": "x" * 10_000}
        ):
            assert claim_email_key() == "email:-"


def test_public_documents_are_limited_generously_and_health_never(tmp_path: Path) -> None:
    with _issuer(tmp_path, public="2/minute") as (app, _):
        client = app.test_client()
        assert client.get("/.well-known/did.json", environ_base=CLIENT_A).status_code == 200
        assert client.get("/status/1", environ_base=CLIENT_A).status_code != 429
        _assert_rate_limited(client.get("/credentials/x", environ_base=CLIENT_A), limit=2)
        assert client.get("/.well-known/did.json", environ_base=CLIENT_B).status_code == 200
        for path in ("/healthz", "/readyz", "/claim/assets/learner.css"):
            for _ in range(4):
                assert client.get(path, environ_base=CLIENT_A).status_code == 200, path


def test_issuer_rules_name_only_public_endpoints(tmp_path: Path) -> None:
    with _issuer(tmp_path) as (app, _):
        endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
        for endpoint in (*CLAIM_ENDPOINTS, *PUBLIC_ENDPOINTS, "learner.request_send"):
            assert endpoint in endpoints
            assert endpoint.split(".")[0] in {"public", "learner", "status"}
        assert "public.healthz" not in PUBLIC_ENDPOINTS
        assert "public.readyz" not in PUBLIC_ENDPOINTS


def test_issuer_settings_from_env_defaults() -> None:
    settings = Settings.from_env(
        {"SIJIL_ENV": "development", "SIJIL_INSTANCE_DIR": "/nonexistent-sijil"}
    )
    assert settings.rate_limits_enabled is True
    assert settings.rate_limit_claim_request == "5/minute;30/hour"
    assert settings.rate_limit_claim_email == "2/minute;6/hour"
    with pytest.raises(SijilError) as err:
        Settings.from_env({"SIJIL_ENV": "development", "SIJIL_RATE_LIMIT_CLAIM_EMAIL": "often"})
    assert err.value.code == "SETTINGS_ERROR"
