"""One strict path from JSON-LD errors to problem codes: no pyld failure reaches a 500.

pyld crashes with a bare ``KeyError`` on ``{"@vocab": null}`` in a context and a ``ValueError``
on a relative IRI as an inner ``@context`` (``"x y"``). Both are invalid input, so every input
path answers ``MALFORMED_VALUE_ERROR`` (HTTP 4xx): the JSON-LD facade, the verifier core, the
verifier's VC-API, the verifier's page, and the issuer's ``POST /credentials/issue``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conformance_vcdm_support import (
    api_verify_credential,
    api_verify_presentation,
    badge,
    core_verify,
    signed_badge,
    signed_presentation,
    verifier_app,
)
from issuer_web_support import WebIssuer, auth, web_issuer

from contexts import jsonld
from contexts.errors import SijilError
from contexts.jsonld import JsonLdProcessingError

VC2 = "https://www.w3.org/ns/credentials/v2"


def _null_vocab(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["@context"] = [*out["@context"], {"@vocab": None}]
    return out


def _inner_relative_context(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["credentialSubject"]["@context"] = "x y"
    return out


BREAKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "null_vocab": _null_vocab,
    "inner_relative_context": _inner_relative_context,
}
EVERY_BREAKER = pytest.mark.parametrize("breaker", list(BREAKERS), ids=list(BREAKERS))


@EVERY_BREAKER
def test_jsonld_facade_maps_pyld_crash_to_malformed_value(breaker: str) -> None:
    doc = BREAKERS[breaker](badge())
    for operation in (jsonld.expand, jsonld.canonize, jsonld.check_safe):
        with pytest.raises(JsonLdProcessingError) as info:
            operation(doc)
        assert info.value.code == "MALFORMED_VALUE_ERROR"
        assert info.value.http_status == 400


@EVERY_BREAKER
def test_verifier_core_reports_malformed_value(breaker: str) -> None:
    report = core_verify(BREAKERS[breaker](signed_badge()))
    assert not report.verified
    assert report.checks["proof"].codes == ("MALFORMED_VALUE_ERROR",)


@EVERY_BREAKER
def test_verifier_vc_api_credential_is_4xx(breaker: str) -> None:
    status, body = api_verify_credential(
        verifier_app().test_client(), BREAKERS[breaker](signed_badge())
    )
    assert status == 422
    assert body["code"] == "MALFORMED_VALUE_ERROR"


@EVERY_BREAKER
def test_holder_cannot_sign_a_presentation_holding_such_a_credential(breaker: str) -> None:
    with pytest.raises(JsonLdProcessingError):
        signed_presentation([BREAKERS[breaker](signed_badge())])


@EVERY_BREAKER
def test_verifier_vc_api_presentation_is_4xx(breaker: str) -> None:
    vp = {
        "@context": [VC2],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [BREAKERS[breaker](signed_badge())],
    }
    status, body = api_verify_presentation(verifier_app().test_client(), vp)
    assert status == 422
    assert "MALFORMED_VALUE_ERROR" in {error["code"] for error in body["errors"]}


def test_verifier_vc_api_presentation_with_null_vocab_in_its_own_context() -> None:
    vp = signed_presentation([signed_badge()])
    vp["@context"] = [VC2, {"@vocab": None}]
    status, body = api_verify_presentation(verifier_app().test_client(), vp)
    assert status == 422
    assert body["code"] == "MALFORMED_VALUE_ERROR"


@EVERY_BREAKER
def test_verifier_page_shows_the_error_not_a_500(breaker: str) -> None:
    response = (
        verifier_app()
        .test_client()
        .post(
            "/verify",
            data={"credential": json.dumps(BREAKERS[breaker](signed_badge()))},
            content_type="multipart/form-data",
        )
    )
    assert response.status_code < 500
    assert "MALFORMED_VALUE_ERROR" in response.get_data(as_text=True)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebIssuer]:
    with web_issuer(tmp_path_factory.mktemp("instance")) as issuer:
        yield issuer


def _vc2() -> dict[str, Any]:
    return {
        "@context": [VC2],
        "id": "urn:uuid:7b0f7a52-5b57-4c55-9a8e-07c6c0a5a4a1",
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "name": "Example"},
    }


@EVERY_BREAKER
def test_issuer_credentials_issue_is_4xx(web: WebIssuer, breaker: str) -> None:
    response = web.client().post(
        "/credentials/issue",
        headers=auth(web.tokens["issue"]),
        json={"credential": BREAKERS[breaker](_vc2())},
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.get_json()["code"] == "MALFORMED_VALUE_ERROR"


def test_a_bug_of_ours_is_not_translated() -> None:
    """Only exceptions raised inside pyld are bad input; ours still surface as bugs."""
    from contexts.processor import raised_inside_pyld

    table: dict[str, int] = {}
    with pytest.raises(KeyError) as info:
        table["missing"]
    assert not raised_inside_pyld(info.value)
    with pytest.raises(JsonLdProcessingError) as translated:
        jsonld.expand(_null_vocab(badge()))
    cause = translated.value.__cause__
    assert isinstance(cause, KeyError)
    assert raised_inside_pyld(cause)


MALFORMED_CONTEXTS: list[Any] = [
    {"@vocab": None},
    "x y",
    [5],
    {"a": {"@id": 5}},
    {"@base": 5},
    {"@base": "x y"},
    {"@vocab": 5},
    {"@vocab": "x y"},
    {"a": {"@type": 5}},
    {"@language": 5},
    {"@direction": 5},
    {"a": {"@container": 5}},
    {"a": {"@reverse": 5}},
    {"@version": 1.0},
    {"@import": 5},
    {"@propagate": 5},
    {"@protected": "yes"},
    {"a": {"@id": "http://x/a", "@context": "x y"}},
    {"a": {"@id": "http://x/a", "@nest": 5}},
    {"a": {"@id": "http://x/a", "@prefix": 5}},
    {"a": {"@id": "@type"}},
    {"": "http://x/"},
]


@pytest.mark.parametrize(
    "context", MALFORMED_CONTEXTS, ids=[json.dumps(c) for c in MALFORMED_CONTEXTS]
)
@pytest.mark.parametrize("where", ["top", "inner"])
def test_every_malformed_context_is_a_typed_error(context: Any, where: str) -> None:
    """Top-level or inner: always a SijilError subclass (4xx), never a bare Python error."""
    if where == "top":
        doc: dict[str, Any] = {"@context": context, "a": {"b": 1}}
    else:
        doc = {"@context": VC2, "credentialSubject": {"@context": context, "a": 1}}
    for operation in (jsonld.expand, jsonld.canonize):
        with pytest.raises(SijilError) as info:
            operation(doc)
        assert 400 <= info.value.http_status < 500
