"""Vendored OB 3.0 / CLR 2.0 schemas: integrity, offline refs (drift: test_vectors_drift.py)."""

from __future__ import annotations

import hashlib
import json

import jsonschema
import pytest
import referencing.exceptions
from shared_dir import VECTORS

from verifier.errors import SchemaValidationError
from verifier.schema import (
    CLR_SCHEMA,
    OB_SCHEMA,
    SCHEMA_DIR,
    _registry,
    check_schema,
    schema_for,
    validator_for,
)


def _manifest() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((SCHEMA_DIR / "manifest.json").read_text())[
        "schemas"
    ]
    return data


def test_manifest_hashes_match_files() -> None:
    for rel, entry in _manifest().items():
        assert hashlib.sha256((SCHEMA_DIR / rel).read_bytes()).hexdigest() == entry["sha256"]


def test_every_file_is_in_the_manifest() -> None:
    files = {p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_DIR.glob("*/*.json")}
    assert files == set(_manifest())


def test_registry_never_reaches_the_network() -> None:
    registry, _ = _registry()
    validator = jsonschema.Draft201909Validator(
        {"$ref": "https://example.org/not-vendored.json"}, registry=registry
    )
    with pytest.raises(referencing.exceptions.Unresolvable):
        validator.validate({})


def test_openbadges_vector_conforms() -> None:
    doc = json.loads((VECTORS / "openbadges-3.0" / "signed.json").read_text())
    assert schema_for(doc) is not None
    assert check_schema(doc).state == "passed"


def test_violation_names_the_pointer() -> None:
    doc = json.loads((VECTORS / "openbadges-3.0" / "signed.json").read_text())
    doc["credentialSubject"]["achievement"]["criteria"] = "not an object"
    with pytest.raises(SchemaValidationError) as caught:
        check_schema(doc)
    assert caught.value.pointer == "/credentialSubject/achievement/criteria"


def test_status_list_is_validated_as_the_official_schema_says() -> None:
    """No special-casing: OB 3.0 allows one credentialStatus object, so a list fails."""
    doc = json.loads((VECTORS / "openbadges-3.0" / "signed.json").read_text())
    entry = {"id": "https://example.edu/status/1#5", "type": "BitstringStatusListEntry"}
    doc["credentialStatus"] = entry
    assert check_schema(doc).state == "passed"
    doc["credentialStatus"] = [entry, dict(entry)]
    with pytest.raises(SchemaValidationError) as caught:
        check_schema(doc)
    assert caught.value.pointer == "/credentialStatus"


def test_validator_is_compiled_once_and_reused() -> None:
    assert validator_for(OB_SCHEMA) is validator_for(OB_SCHEMA)
    assert validator_for(CLR_SCHEMA) is validator_for(CLR_SCHEMA)


def test_plain_vc_has_no_schema() -> None:
    assert check_schema({"type": ["VerifiableCredential"]}).state == "skipped"
