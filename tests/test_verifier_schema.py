"""Vendored OB 3.0 / CLR 2.0 schemas: drift against ../shared, integrity, offline refs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
import referencing.exceptions
from shared_dir import SHARED

from verifier.errors import SchemaValidationError
from verifier.schema import SCHEMA_DIR, _registry, check_schema, schema_for

SHARED = SHARED / "schemas"
if not SHARED.exists():
    SHARED = Path(__file__).resolve().parents[2] / "shared" / "schemas"
VECTORS = SHARED.parent / "vectors"


def _manifest() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((SCHEMA_DIR / "manifest.json").read_text())[
        "schemas"
    ]
    return data


def test_manifest_hashes_match_files() -> None:
    for rel, entry in _manifest().items():
        assert hashlib.sha256((SCHEMA_DIR / rel).read_bytes()).hexdigest() == entry["sha256"]


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/schemas not present")
def test_vendored_schemas_have_not_drifted_from_shared() -> None:
    shared = {
        p.relative_to(SHARED).as_posix()
        for p in SHARED.glob("*/*.json")
        if p.parent.name in ("ob-v3p0", "clr-v2p0")
    }
    assert set(_manifest()) == shared
    for rel in shared:
        assert (SCHEMA_DIR / rel).read_bytes() == (SHARED / rel).read_bytes(), rel


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


def test_status_list_entries_are_checked_one_by_one() -> None:
    doc = json.loads((VECTORS / "openbadges-3.0" / "signed.json").read_text())
    entry = {"id": "https://example.edu/status/1#5", "type": "BitstringStatusListEntry"}
    doc["credentialStatus"] = [entry, dict(entry)]
    assert check_schema(doc).state == "passed"
    doc["credentialStatus"] = [entry, {"id": 5}]
    with pytest.raises(SchemaValidationError) as caught:
        check_schema(doc)
    assert (caught.value.pointer or "").startswith("/credentialStatus/1")


def test_plain_vc_has_no_schema() -> None:
    assert check_schema({"type": ["VerifiableCredential"]}).state == "skipped"
