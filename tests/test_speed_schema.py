"""The native JSON Schema validator gives the reference validator's verdict.

:func:`verifier.schema.check_schema` trusts ``jsonschema-rs`` only when it says "valid"; these
tests check that it says so exactly when ``jsonschema`` (the reference) does, on the official
OB 3.0 vector and sijil's COA and MMS, and on many mutations of them: removed members,
replaced values of every JSON type, dates and identifiers in odd shapes.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_dir import VECTORS
from verifier_fixtures import Learner, build_mms, coa_for, key_from_seed, sign

from verifier.errors import SchemaValidationError
from verifier.schema import CLR_SCHEMA, OB_SCHEMA, check_schema, fast_validator_for, validator_for

ISSUER = key_from_seed(7)
LEARNER = Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt")

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2026-07-01T00:00:00Z",
            "2026-07-01",
            "not a date",
            "did:key:z6Mk",
            "https://example.edu/x",
            "urn:uuid:1c2f0b7e-5a3c-4e1d-9a43-0a1b2c3d4e5f",
            "Achievement",
            "OpenBadgeCredential",
            "AchievementCredential",
            "ClrCredential",
            "VerifiableCredential",
            "",
        ]
    ),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@cache
def _documents() -> dict[str, tuple[str, str]]:
    """name -> (JSON text, schema path) of the valid documents mutated below."""
    coas = [coa_for(ISSUER, LEARNER, f"DS{i}", f"Unit {i}", serial=i + 1) for i in range(1, 3)]
    mms = sign(build_mms(ISSUER, LEARNER, coas), ISSUER)
    vector = json.loads((VECTORS / "openbadges-3.0" / "signed.json").read_text("utf-8"))
    return {
        "ob-vector": (json.dumps(vector), OB_SCHEMA),
        "coa": (json.dumps(coas[0]), OB_SCHEMA),
        "mms": (json.dumps(mms), CLR_SCHEMA),
    }


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*path, index)))
    return found


def _verdicts(doc: dict[str, Any], rel: str) -> tuple[bool, bool]:
    fast = fast_validator_for(rel)
    assert fast is not None, "jsonschema-rs is installed in the project's environment"
    return bool(fast.is_valid(doc)), validator_for(rel).is_valid(doc)


@pytest.mark.parametrize("name", ["ob-vector", "coa", "mms"])
def test_both_validators_accept_the_unmutated_documents(name: str) -> None:
    text, rel = _documents()[name]
    assert _verdicts(json.loads(text), rel) == (True, True)


def test_rejected_document_keeps_the_reference_pointer() -> None:
    text, _rel = _documents()["coa"]
    doc = json.loads(text)
    doc["credentialSubject"]["achievement"]["criteria"] = "not an object"
    with pytest.raises(SchemaValidationError) as caught:
        check_schema(doc)
    assert caught.value.pointer == "/credentialSubject/achievement/criteria"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["ob-vector", "coa", "mms"]),
    data=st.data(),
    operation=st.sampled_from(["replace", "delete", "wrap-in-list", "unwrap"]),
)
def test_native_and_reference_agree_on_mutations(
    name: str, data: st.DataObject, operation: str
) -> None:
    text, rel = _documents()[name]
    doc = json.loads(text)
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if operation == "replace":
        parent[last] = data.draw(JSON_VALUES)
    elif operation == "delete":
        del parent[last]
    elif operation == "wrap-in-list":
        parent[last] = [copy.deepcopy(parent[last])]
    elif isinstance(parent[last], list) and parent[last]:
        parent[last] = parent[last][0]
    fast, reference = _verdicts(doc, rel)
    assert fast == reference, f"{name}: {operation} at {path}"


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["ob-vector", "coa", "mms"]),
    key=st.text(max_size=10),
    value=JSON_VALUES,
)
def test_native_and_reference_agree_on_added_members(name: str, key: str, value: Any) -> None:
    text, rel = _documents()[name]
    doc = json.loads(text)
    doc[key] = value
    subject = doc["credentialSubject"]
    subject[key] = value
    fast, reference = _verdicts(doc, rel)
    assert fast == reference
