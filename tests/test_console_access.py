"""Staff console access: one-time links, sessions, CSRF, and every route walked as every role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from console_support import BASE_URL, ConsoleIssuer, console_issuer, csrf_of, email_of, sign_in
from sqlalchemy import func, select

from issuer.cli import cli
from issuer.console.roles import ROLES, is_allowed
from issuer.console.staff import issue_sign_in_link
from issuer.db.models import AuditEntry, Award
from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.settings import Settings
from issuer.web import create_app
from issuer.web.console import PERMISSION_ATTRIBUTE, PUBLIC, SIGNED_IN


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleIssuer]:
    with console_issuer(tmp_path_factory.mktemp("instance")) as made:
        yield made


def _award_id(issuer: ConsoleIssuer, award_type: str = "COA") -> str:
    return next(a.id for a in list_awards(issuer.rt, award_type=award_type, status="active"))


def test_staff_add_print_link_gives_a_link_that_signs_in_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    env = {
        "SIJIL_ENV": "development",
        "SIJIL_INSTANCE_DIR": str(instance),
        "SIJIL_BASE_URL": BASE_URL,
        "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
        "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
        "SIJIL_RATE_LIMITS_ENABLED": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(
        cli, ["staff", "add", "Officer@Example.edu", "--role", "registrar", "--print-link"]
    )
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert re.fullmatch(rf"{re.escape(BASE_URL)}/console/sign-in/[A-Za-z0-9_-]{{40,}}", url)
    listed = CliRunner().invoke(cli, ["staff", "list"])
    assert "officer@example.edu\tregistrar" in listed.output
    bad_role = CliRunner().invoke(cli, ["staff", "add", "x@example.edu", "--role", "owner"])
    assert bad_role.exit_code != 0

    rt = open_runtime(Settings.from_env(env), status_lists=True)
    try:
        client = create_app(runtime=rt).test_client()
        path = url.removeprefix(BASE_URL)
        page = client.get(path)
        assert page.status_code == 200
        used = client.post(path, data={"csrf": csrf_of(page.text)})
        assert used.status_code == 302
        home = client.get("/console/")
        assert "officer@example.edu" in home.text
        with rt.reading() as session:
            actors = set(
                session.scalars(
                    select(AuditEntry.actor).where(AuditEntry.action == "staff.sign_in")
                )
            )
        assert actors == {"staff:officer@example.edu"}
    finally:
        rt.close()


def test_staff_add_without_print_link_mails_the_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    for key, value in {
        "SIJIL_ENV": "development",
        "SIJIL_INSTANCE_DIR": str(instance),
        "SIJIL_BASE_URL": BASE_URL,
        "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
        "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SIJIL_SMTP_HOST", raising=False)
    result = CliRunner().invoke(cli, ["staff", "add", "auditor@example.edu", "--role", "auditor"])
    assert result.exit_code == 0, result.output
    assert "/console/sign-in/" not in result.output  # the secret is mailed, not printed
    mails = list((instance / "outbox").glob("*.eml"))
    assert len(mails) == 1
    text = mails[0].read_text()
    assert "To: auditor@example.edu" in text
    assert f"{BASE_URL}/console/sign-in/" in text


def test_reused_sign_in_link_is_refused(issuer: ConsoleIssuer) -> None:
    secret = issue_sign_in_link(issuer.rt, email_of("viewer"), actor="test")
    first = issuer.app.test_client()
    page = first.get(f"/console/sign-in/{secret}")
    assert (
        first.post(f"/console/sign-in/{secret}", data={"csrf": csrf_of(page.text)}).status_code
        == 302
    )
    second = issuer.app.test_client()
    page = second.get(f"/console/sign-in/{secret}")
    again = second.post(f"/console/sign-in/{secret}", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 410
    assert "SIGN_IN_LINK_USED" in again.text
    assert second.get("/console/").status_code == 302  # not signed in


def test_expired_sign_in_link_is_refused(issuer: ConsoleIssuer) -> None:
    secret = issue_sign_in_link(issuer.rt, email_of("viewer"), actor="test")
    client = issuer.app.test_client()
    page = client.get(f"/console/sign-in/{secret}")
    issuer.clock.advance(timedelta(minutes=16))
    answer = client.post(f"/console/sign-in/{secret}", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 410
    assert "SIGN_IN_LINK_EXPIRED" in answer.text


def test_unknown_sign_in_link_is_refused(issuer: ConsoleIssuer) -> None:
    client = issuer.app.test_client()
    page = client.get("/console/sign-in/not-a-real-link")
    answer = client.post("/console/sign-in/not-a-real-link", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 400
    assert "SIGN_IN_LINK_INVALID" in answer.text


def test_session_expires_after_idle_timeout(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    assert client.get("/console/awards").status_code == 200
    issuer.clock.advance(timedelta(minutes=29))
    assert client.get("/console/awards").status_code == 200  # activity keeps it alive
    issuer.clock.advance(timedelta(minutes=31))
    answer = client.get("/console/awards")
    assert answer.status_code == 302
    assert "/console/sign-in" in answer.headers["Location"]
    assert "session has expired" in client.get(answer.headers["Location"]).text


def test_session_expires_after_absolute_lifetime_even_when_active(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    for _ in range(37):  # just over 12 hours in 20-minute steps, never idle
        issuer.clock.advance(timedelta(minutes=20))
        if client.get("/console/awards").status_code != 200:
            break
    else:
        pytest.fail("a session active for 12 hours was still accepted")
    assert client.get("/console/awards").status_code == 302


def test_sign_out_ends_the_session(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    page = client.get("/console/awards")
    assert client.post("/console/sign-out", data={"csrf": csrf_of(page.text)}).status_code == 302
    assert client.get("/console/awards").status_code == 302
    with issuer.rt.reading() as session:
        actors = list(
            session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "staff.sign_out"))
        )
    assert f"staff:{email_of('viewer')}" in actors


def test_form_without_csrf_token_is_refused_and_changes_nothing(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "admin")
    award_id = _award_id(issuer)
    for data in ({"reason": "no token"}, {"reason": "wrong token", "csrf": "x" * 43}):
        answer = client.post(f"/console/awards/{award_id}/revoke", data=data)
        assert answer.status_code == 400
        assert "CSRF_TOKEN_INVALID" in answer.text
        assert answer.mimetype == "text/html"
    assert next(a for a in list_awards(issuer.rt) if a.id == award_id).status == "active"


def test_session_cookie_is_secure_httponly_and_lax(issuer: ConsoleIssuer) -> None:
    client = issuer.app.test_client()
    answer = client.get("/console/sign-in")
    cookie = answer.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/console"):
        assert flag in cookie


def _console_routes(issuer: ConsoleIssuer) -> list[tuple[str, str, str]]:
    """(method, concrete path, permission) of every console route."""
    values = {
        "award_id": _award_id(issuer),
        "action": "revoke",
        "external_id": "S1001",
        "code": "DAF101",
        "slug": "default",
        "token_id": "1",
        "kind": "micro-credential",
        "fmt": "json",
        "token": "not-a-link",
    }
    out: list[tuple[str, str, str]] = []
    for rule in issuer.app.url_map.iter_rules():
        if not rule.endpoint.startswith("console."):
            continue
        view = issuer.app.view_functions[rule.endpoint]
        permission = getattr(view, PERMISSION_ATTRIBUTE, None)
        assert permission is not None, f"{rule.rule} declares no permission"
        path = rule.rule
        given = {**values, "code": "PCDA"} if rule.endpoint == "console.programme" else values
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^:>]+:)?{name}>", given[name], path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, path, str(permission)))
    return out


def _state(issuer: ConsoleIssuer) -> tuple[object, ...]:
    """Everything a state change would touch: award statuses, non-sign-in audit entries."""
    with issuer.rt.reading() as session:
        statuses = tuple(session.execute(select(Award.id, Award.status).order_by(Award.id)))
        audited = session.scalar(
            select(func.count()).where(AuditEntry.action.not_like("staff.sign_in"))
        )
    return statuses, audited


@pytest.mark.parametrize("role", ROLES)
def test_every_console_route_as_every_role(issuer: ConsoleIssuer, role: str) -> None:
    client = sign_in(issuer, role)
    csrf = csrf_of(client.get("/console/sign-in").text)
    routes = _console_routes(issuer)
    assert len(routes) >= 30
    before = _state(issuer)
    for method, path, permission in routes:
        if permission in (PUBLIC, SIGNED_IN):
            continue
        allowed = is_allowed(role, permission)  # type: ignore[arg-type]
        if method == "GET":
            answer = client.get(path)
            if allowed:
                assert answer.status_code == 200, (role, path, answer.text[:300])
            else:
                assert answer.status_code == 403, (role, path, answer.status_code)
                assert "FORBIDDEN" in answer.text
        elif not allowed:
            answer = client.post(path, data={"csrf": csrf, "reason": "walk", "json": "{}"})
            assert answer.status_code == 403, (role, path, answer.status_code)
    if role in ("viewer", "auditor"):
        assert _state(issuer) == before
    home = client.get("/console/")
    if role == "auditor":
        assert home.status_code == 302
        assert home.headers["Location"].endswith("/console/audit")
    else:
        assert home.status_code == 200


def test_viewer_is_refused_every_state_changing_route(issuer: ConsoleIssuer) -> None:
    client = sign_in(issuer, "viewer")
    csrf = csrf_of(client.get("/console/awards").text)
    posts = [
        (p, perm)
        for m, p, perm in _console_routes(issuer)
        if m == "POST" and perm not in (PUBLIC, SIGNED_IN)
    ]
    assert len(posts) >= 9
    before = _state(issuer)
    for path, _perm in posts:
        answer = client.post(path, data={"csrf": csrf, "reason": "viewer tries"})
        assert answer.status_code == 403, path
    assert _state(issuer) == before


def test_signed_out_visitor_is_sent_to_sign_in_or_refused(issuer: ConsoleIssuer) -> None:
    client = issuer.app.test_client()
    csrf = csrf_of(client.get("/console/sign-in").text)
    for method, path, permission in _console_routes(issuer):
        if permission == PUBLIC:
            continue
        if method == "GET":
            answer = client.get(path)
            assert answer.status_code == 302, path
            assert "/console/sign-in" in answer.headers["Location"]
        else:
            assert client.post(path, data={"csrf": csrf}).status_code == 401, path


def test_single_sign_on_unconfigured_says_so(issuer: ConsoleIssuer) -> None:
    client = issuer.app.test_client()
    assert "/console/oidc/start" not in client.get("/console/sign-in").text
    answer = client.get("/console/oidc/start")
    assert answer.status_code == 404
    assert "OIDC_NOT_CONFIGURED" in answer.text


def test_sign_in_next_is_only_a_console_path(issuer: ConsoleIssuer) -> None:
    client = issuer.app.test_client()
    page = client.get("/console/sign-in?next=https://evil.example/")
    assert "evil.example" not in page.text
