"""Tokens limited to one issuer: they reach that issuer's awards, keys and credentials only.

A partner faculty's token must not read, revoke or re-key another issuer's data, nor use a route
that spans issuers (lists, batches, imports, tokens): each answers 403 ``TOKEN_ISSUER_SCOPE``.
"""

from __future__ import annotations

from pathlib import Path

from faults_support import cli_env, run_cli
from issuer_web_support import auth, web_issuer

from issuer.services.awards import list_awards
from issuer.services.issuers import IssuerSpec, create_issuer
from issuer.services.tokens import create_token, list_tokens

CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:learner"},
}


def test_issuer_limited_token_acts_only_on_its_issuer(tmp_path: Path) -> None:
    with web_issuer(tmp_path / "instance", demo=True) as web:
        partner = IssuerSpec(
            slug="partner", name="Partner", url="https://partner.example", email="p@p.example"
        )
        create_issuer(web.rt, partner, actor="t")
        limited = auth(create_token(web.rt, ["admin"], actor="t", issuer="partner")[1])
        default_only = auth(create_token(web.rt, ["admin"], actor="t", issuer="default")[1])
        award = list_awards(web.rt, award_type="COA", status="active")[0].id
        client = web.client()

        def code(
            method: str, path: str, headers: dict[str, str], json: object = None
        ) -> tuple[int, str | None]:
            answer = client.open(path, method=method, headers=headers, json=json)
            body = answer.get_json()
            return answer.status_code, body.get("code") if isinstance(body, dict) else None

        refused = (403, "TOKEN_ISSUER_SCOPE")
        assert code("GET", "/issuers/default", limited) == refused
        assert code("POST", "/issuers/default/keys/rotate", limited, json={}) == refused
        assert code("GET", "/issuers/default/keys", limited) == refused
        assert code("GET", f"/awards/{award}", limited) == refused
        assert code("POST", f"/awards/{award}/revoke", limited, json={"reason": "x"}) == refused
        assert code("GET", "/awards", limited) == refused
        assert code("GET", "/issuers", limited) == refused
        assert code("POST", "/tokens", limited, json={"scopes": ["admin"]}) == refused
        issue = {"credential": CREDENTIAL}
        assert code("POST", "/credentials/issue", limited, json=issue) == refused
        assert code("GET", "/issuers/partner", limited)[0] == 200
        assert code("GET", "/issuers/partner/keys", limited)[0] == 200
        assert code("POST", "/issuers/partner/credentials/issue", limited, json=issue)[0] == 201
        assert code("POST", "/issuers/partner/keys/rotate", limited, json={})[0] == 200
        assert code("GET", "/awards/no-such-award", limited)[0] == 404

        assert code("GET", f"/awards/{award}", default_only)[0] == 200
        revoked = code("POST", f"/awards/{award}/revoke", default_only, json={"reason": "x"})
        assert revoked != refused
        assert revoked[0] != 401
        assert code("POST", "/credentials/issue", default_only, json=issue)[0] == 201
        assert code("GET", "/issuers/partner", default_only) == refused
        unlimited = auth(web.tokens["admin"])
        assert code("GET", "/issuers/partner", unlimited)[0] == 200
        assert {t.issuer for t in list_tokens(web.rt)} >= {None, "partner", "default"}


def test_cli_creates_and_lists_issuer_limited_tokens(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "instance")
    assert run_cli(env, "init").returncode == 0
    made = run_cli(env, "tokens", "create", "--scope", "issue", "--issuer", "default")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("sijil_")
    listed = run_cli(env, "tokens", "list").stdout
    assert "issuer:default" in listed
    unknown = run_cli(env, "tokens", "create", "--scope", "read", "--issuer", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines()[-1].startswith("NOT_FOUND: ")
    assert "Traceback" not in unknown.stderr
