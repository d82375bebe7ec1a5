"""Short fuzz run of the verifier's JSON API: random and mutated inputs never give a 5xx.

(The long run with 10,000+ requests per endpoint belongs to the hardening work in bench/.)
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verifier_web_credentials import coa, issuer_key, sign

from verifier.settings import VerifierSettings
from verifier.web import create_app

KEY = issuer_key()
SIGNED = sign(coa(KEY), KEY)
ALLOWED = {200, 400, 413, 415, 422}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out.extend(paths(value, (*prefix, index)))
    return out


SIGNED_PATHS = [p for p in paths(SIGNED) if p]


def mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SIGNED)
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(VerifierSettings())


def assert_answer(app: Flask, path: str, body: Any) -> None:
    response = app.test_client().post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code in ALLOWED, (response.status_code, response.get_data())
    if response.status_code != 200:
        assert response.mimetype == "application/problem+json"
        assert isinstance(response.get_json(force=True)["code"], str)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_values)
def test_random_bodies_never_5xx(app: Flask, body: Any) -> None:
    for path in ("/credentials/verify", "/presentations/verify", "/credit-transfer/evaluate"):
        assert_answer(app, path, body)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(credential=json_values)
def test_random_credentials_never_5xx(app: Flask, credential: Any) -> None:
    assert_answer(app, "/credentials/verify", {"verifiableCredential": credential})


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(SIGNED_PATHS), value=json_values)
def test_mutated_credential_never_5xx(app: Flask, path: tuple[Any, ...], value: Any) -> None:
    assert_answer(app, "/credentials/verify", {"verifiableCredential": mutated(path, value)})


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(SIGNED_PATHS), value=json_values, policy=json_values)
def test_mutated_transfer_request_never_5xx(
    app: Flask, path: tuple[Any, ...], value: Any, policy: Any
) -> None:
    body = {"credentials": [mutated(path, value)], "policy": policy}
    assert_answer(app, "/credit-transfer/evaluate", body)
