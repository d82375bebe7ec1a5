"""Bad input never reaches a 500: every refusal is a 4xx problem+json with a stable code.

Not JSON, the wrong media type, wrong types, unknown or missing members, bodies over the cap,
absurd nesting, bad query parameters, and (hypothesis) arbitrary JSON thrown at every route that
takes a body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from issuer_web_support import WebIssuer, auth, web_issuer

from issuer.web.endpoint import DEFAULT_MAX_BODY_BYTES, spec_of
from issuer.web.wallet import OAUTH_PATHS

PROBLEM = "application/problem+json"
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance"), demo=True) as issuer:
        yield issuer


def _token(web: WebIssuer, scope: str | None) -> dict[str, str]:
    if scope is None:
        return {}
    return auth(web.tokens["admin"])


def _body_routes(web: WebIssuer) -> list[tuple[str, str, str | None]]:
    """(method, concrete path, scope) of every route that reads a JSON body."""
    out: list[tuple[str, str, str | None]] = []
    for rule in web.app.url_map.iter_rules():
        if rule.endpoint.startswith("console."):
            continue  # the staff console (HTML forms): test_console_access.py walks it
        spec = spec_of(web.app.view_functions[rule.endpoint])
        assert spec is not None
        if spec.body is None:
            continue
        path = re.sub(r"<int(?:\([^)]*\))?:\w+>", "999999", rule.rule)
        path = re.sub(r"<\w+>", "zz-test", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, path, spec.scope))
    return out


def _assert_problem(
    response: Any, status: int | tuple[int, ...], code: str | None = None
) -> dict[str, Any]:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, response.get_data(as_text=True)[:500]
    problem: dict[str, Any] = response.get_json()
    if response.request.path in OAUTH_PATHS and response.mimetype == "application/json":
        # OpenID4VCI endpoints answer OAuth 2.0 error bodies (RFC 6749 section 5.2), with the
        # problem members beside ``error``; transport refusals (413) stay problem details.
        assert isinstance(problem["error"], str)
    else:
        assert response.mimetype == PROBLEM
    assert CODE.match(problem["code"])
    assert problem["status"] == response.status_code
    if code is not None:
        assert problem["code"] == code
    return problem


def test_there_are_body_routes_to_check(web: WebIssuer) -> None:
    assert len(_body_routes(web)) >= 10


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", "PARSING_ERROR"),
        (b"", "PARSING_ERROR"),
        (b"\xff\xfe\x00", "PARSING_ERROR"),
        (b'{"a": NaN}', "PARSING_ERROR"),
        (b'{"a": 1, "a": 2}', "PARSING_ERROR"),
        (b"[" * 200 + b"]" * 200, "JSON_TOO_DEEP"),
    ],
    ids=["not-json", "empty", "not-utf8", "nan", "duplicate-key", "too-deep"],
)
def test_unparseable_body_is_400_on_every_body_route(
    web: WebIssuer, data: bytes, code: str
) -> None:
    client = web.client()
    for method, path, scope in _body_routes(web):
        response = client.open(
            path,
            method=method,
            headers=_token(web, scope),
            data=data,
            content_type="application/json",
        )
        _assert_problem(response, 400, code)


def test_wrong_media_type_is_415_on_every_body_route(web: WebIssuer) -> None:
    client = web.client()
    for method, path, scope in _body_routes(web):
        response = client.open(
            path,
            method=method,
            headers=_token(web, scope),
            data="a=b",
            content_type="application/x-www-form-urlencoded",
        )
        _assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_body_over_the_cap_is_413_on_every_body_route(web: WebIssuer) -> None:
    client = web.client()
    huge = json.dumps({"x": "a" * (DEFAULT_MAX_BODY_BYTES + 10)})
    for method, path, scope in _body_routes(web):
        response = client.open(
            path,
            method=method,
            headers=_token(web, scope),
            data=huge,
            content_type="application/json",
        )
        _assert_problem(response, 413, "REQUEST_TOO_LARGE")


@pytest.mark.parametrize(
    ("path", "method", "body", "pointer"),
    [
        (
            "/progress",
            "POST",
            {"learner": 5, "microCredential": "DAF101", "type": "materialCompleted", "item": "x"},
            "/learner",
        ),
        ("/progress", "POST", {"events": "nope"}, None),
        (
            "/progress",
            "POST",
            {
                "learner": "S1",
                "microCredential": "DAF101",
                "type": "materialCompleted",
                "item": "x",
                "extra": 1,
            },
            None,
        ),
        (
            "/micro-credentials/NEW1",
            "PUT",
            {
                "title": "T",
                "description": "D",
                "credits": "three",
                "mqfLevel": 5,
                "category": "stand-alone",
            },
            "/credits",
        ),
        (
            "/micro-credentials/NEW1",
            "PUT",
            {
                "title": "T",
                "description": "D",
                "credits": 3,
                "mqfLevel": 9,
                "category": "stand-alone",
            },
            "/mqfLevel",
        ),
        ("/micro-credentials/NEW1", "PUT", {"title": "T"}, None),
        (
            "/programmes/P1",
            "PUT",
            {"title": "T", "description": "D", "mqfLevel": 5, "components": "DAF101"},
            "/components",
        ),
        ("/learners/S9", "PUT", {"email": "a@b.example", "name": "N", "nickname": "x"}, None),
        (
            "/issuers",
            "POST",
            {"slug": "BAD SLUG", "name": "n", "url": "https://x.example", "email": "a@b.example"},
            "/slug",
        ),
        (
            "/issuers",
            "POST",
            {
                "slug": "ok",
                "name": "n",
                "url": "https://x.example",
                "email": "a@b.example",
                "keyType": "RSA",
            },
            "/keyType",
        ),
        ("/issuers/default", "PATCH", {}, None),
        ("/tokens", "POST", {"scopes": ["root"]}, "/scopes/0"),
    ],
)
def test_schema_violations_are_422_with_pointer(
    web: WebIssuer, path: str, method: str, body: Any, pointer: str | None
) -> None:
    response = web.client().open(path, method=method, headers=auth(web.tokens["admin"]), json=body)
    problem = _assert_problem(response, 422, "REQUEST_VALIDATION_ERROR")
    if pointer is not None:
        assert problem["pointer"] == pointer


@pytest.mark.parametrize(
    ("path", "method", "body", "status", "code"),
    [
        (
            "/progress",
            "POST",
            {
                "learner": "NOBODY",
                "microCredential": "DAF101",
                "type": "materialCompleted",
                "item": "DAF101-M1",
            },
            422,
            "UNKNOWN_REFERENCE",
        ),
        (
            "/progress",
            "POST",
            {
                "learner": "S1001",
                "microCredential": "DAF101",
                "type": "assessmentResult",
                "item": "DAF101-QZ",
                "score": 101,
            },
            400,
            "MALFORMED_VALUE_ERROR",
        ),
        (
            "/micro-credentials/NEW2",
            "PUT",
            {
                "code": "OTHER",
                "title": "T",
                "description": "D",
                "credits": 3,
                "mqfLevel": 5,
                "category": "stand-alone",
            },
            400,
            "MALFORMED_VALUE_ERROR",
        ),
        (
            "/micro-credentials/NEW2",
            "PUT",
            {
                "title": "T",
                "description": "D",
                "credits": 3,
                "mqfLevel": 5,
                "category": "stand-alone",
            },
            400,
            "MALFORMED_VALUE_ERROR",
        ),
        (
            "/programmes/P2",
            "PUT",
            {"title": "T", "description": "D", "mqfLevel": 5, "components": ["ESG201"]},
            422,
            "UNKNOWN_REFERENCE",
        ),
        (
            "/issuers",
            "POST",
            {"slug": "default", "name": "n", "url": "https://x.example", "email": "a@b.example"},
            409,
            "CONFLICT",
        ),
        ("/issuers/nobody", "PATCH", {"name": "x"}, 404, "NOT_FOUND"),
        ("/issuers/nobody/keys/rotate", "POST", {}, 404, "NOT_FOUND"),
    ],
    ids=[
        "unknown-learner",
        "score-over-100",
        "code-differs-from-url",
        "no-materials",
        "standalone-component",
        "slug-taken",
        "unknown-issuer",
        "rotate-unknown",
    ],
)
def test_core_refusals_keep_their_codes(
    web: WebIssuer, path: str, method: str, body: Any, status: int, code: str
) -> None:
    response = web.client().open(path, method=method, headers=auth(web.tokens["admin"]), json=body)
    _assert_problem(response, status, code)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=abc",
        "limit=100000",
        "offset=-1",
        "type=XYZ",
        "color=blue",
        "limit=99999999999999999999999",
    ],
)
def test_bad_query_parameters_are_422(web: WebIssuer, query: str) -> None:
    response = web.client().get(f"/awards?{query}", headers=auth(web.tokens["read"]))
    problem = _assert_problem(response, 422, "REQUEST_VALIDATION_ERROR")
    assert problem["pointer"].startswith("/query")


def test_unknown_route_and_method_are_problems(web: WebIssuer) -> None:
    client = web.client()
    _assert_problem(client.get("/nope"), 404, "NOT_FOUND")
    _assert_problem(client.delete("/awards"), 405, "METHOD_NOT_ALLOWED")
    _assert_problem(client.get("/credentials/not-an-award"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "pointer"),
    [
        ("POST", "/tokens/99999999999999999999999/revoke", None, 404, "NOT_FOUND", None),
        ("GET", "/learners/a%00b", None, 400, "MALFORMED_VALUE_ERROR", "/path/external_id"),
        ("GET", "/awards?learner=%00", None, 400, "MALFORMED_VALUE_ERROR", "/query/learner"),
        (
            "PUT",
            "/learners/S77",
            {"email": "a@b.example", "name": "A\u0000B"},
            400,
            "MALFORMED_VALUE_ERROR",
            "/name",
        ),
    ],
    ids=["token-id-overflow", "nul-in-path", "nul-in-query", "nul-in-body"],
)
def test_values_a_database_cannot_hold_are_refused_not_500(
    web: WebIssuer,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    pointer: str | None,
) -> None:
    response = web.client().open(path, method=method, headers=auth(web.tokens["admin"]), json=body)
    problem = _assert_problem(response, status, code)
    if pointer is not None:
        assert problem["pointer"] == pointer


def test_csv_import_refuses_wrong_media_type_and_bad_header(web: WebIssuer) -> None:
    client = web.client()
    headers = auth(web.tokens["issue"])
    response = client.post("/progress/import", headers=headers, json={"a": 1})
    _assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    response = client.post(
        "/progress/import", headers=headers, data="a,b\n1,2\n", content_type="text/csv"
    )
    _assert_problem(response, 400, "CSV_FORMAT_ERROR")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "learner",
                    "microCredential",
                    "type",
                    "item",
                    "score",
                    "events",
                    "credential",
                    "options",
                    "title",
                    "credits",
                    "mqfLevel",
                    "category",
                    "slug",
                    "name",
                    "url",
                    "email",
                    "scopes",
                    "keyType",
                    "@context",
                    "credentialSubject",
                    "issuer",
                    "x",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_arbitrary_json_never_causes_a_server_error(web: WebIssuer, data: st.DataObject) -> None:
    routes = _body_routes(web)
    method, path, scope = data.draw(st.sampled_from(routes))
    body = data.draw(JSON_VALUES)
    response = web.client().open(path, method=method, headers=_token(web, scope), json=body)
    assert response.status_code < 500, (method, path, body, response.get_data(as_text=True))
    if response.status_code >= 400:
        _assert_problem(response, response.status_code)


def _get_routes(web: WebIssuer) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for rule in web.app.url_map.iter_rules():
        if rule.endpoint.startswith("console."):
            continue  # the staff console (HTML pages): test_console_access.py walks it
        spec = spec_of(web.app.view_functions[rule.endpoint])
        assert spec is not None
        if "GET" in (rule.methods or set()) and "<" not in rule.rule:
            out.append((rule.rule, spec.scope))
    return out


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_arbitrary_query_strings_never_cause_a_server_error(
    web: WebIssuer, data: st.DataObject
) -> None:
    path, scope = data.draw(st.sampled_from(_get_routes(web)))
    params = data.draw(
        st.dictionaries(
            st.sampled_from(["limit", "offset", "learner", "type", "status", "action", "x"]),
            st.text(max_size=30),
            max_size=4,
        )
    )
    response = web.client().get(path, headers=_token(web, scope), query_string=params)
    assert response.status_code < 500, (path, params, response.get_data(as_text=True))
    if response.status_code >= 400:
        _assert_problem(response, response.status_code)
