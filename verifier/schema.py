"""The schema check: OB 3.0 and CLR 2.0 credentials against 1EdTech's JSON Schemas, offline.

The schemas ship in ``verifier/schemas/`` (byte copies of ``../shared/schemas``) with a sha256
manifest checked at load (pinned trust material, like the contexts). They are JSON Schema
draft 2019-09; every ``$ref`` resolves inside a local :class:`referencing.Registry` built from
the vendored files, and any other reference fails instead of touching the network.

Which schema: ``ClrCredential`` -> ``clr_v2p0_clrcredential_schema.json``;
``OpenBadgeCredential`` / ``AchievementCredential`` ->
``ob_v3p0_achievementcredential_schema.json``; other credentials are not schema-checked
(skipped).

One accommodation, for VC DM 2.0: section 4.11 allows ``credentialStatus`` to hold one or more
entries (sijil's credentials carry a revocation and a suspension entry), but the OB 3.0.3 and
CLR 2.0 schemas, written for VC DM 1.1, accept a single object. A list is therefore validated
entry by entry against the schema's own ``CredentialStatus`` definition (the document is
validated with the first entry in place), at every level (embedded COAs of an MMS too).

Errors: ``SCHEMA_VALIDATION_ERROR`` with the JSON pointer of the first (deepest) violation;
``SCHEMA_INTEGRITY_ERROR`` when a vendored schema does not match its manifest hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from jsonschema.exceptions import best_match
from referencing.jsonschema import DRAFT201909

from contexts.errors import SijilError

from .errors import SchemaValidationError
from .models import types_of
from .outcome import Outcome

__all__ = [
    "CLR_SCHEMA",
    "OB_SCHEMA",
    "SCHEMA_DIR",
    "SchemaIntegrityError",
    "check_schema",
    "schema_for",
    "validator_for",
]

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
OB_SCHEMA = "ob-v3p0/ob_v3p0_achievementcredential_schema.json"
CLR_SCHEMA = "clr-v2p0/clr_v2p0_clrcredential_schema.json"


class SchemaIntegrityError(SijilError):
    """A vendored schema's bytes differ from the manifest (tampered or drifted package)."""

    code = "SCHEMA_INTEGRITY_ERROR"
    title = "Vendored JSON Schema failed its integrity check"
    http_status = 500


@cache
def _registry() -> tuple[referencing.Registry[Any], dict[str, dict[str, Any]]]:
    """All vendored schemas, hash-checked, keyed by their file path and ``$id``."""
    manifest = json.loads((SCHEMA_DIR / "manifest.json").read_text(encoding="utf-8"))
    by_file: dict[str, dict[str, Any]] = {}
    resources: list[tuple[str, referencing.Resource[Any]]] = []
    for rel, entry in manifest["schemas"].items():
        raw = (SCHEMA_DIR / rel).read_bytes()
        if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise SchemaIntegrityError(f"{rel} does not match its sha256 in the manifest")
        schema = json.loads(raw)
        by_file[rel] = schema
        resources.append((schema["$id"], DRAFT201909.create_resource(schema)))
    # No ``retrieve`` callable: an unknown $ref raises instead of reaching the network.
    registry: referencing.Registry[Any] = referencing.Registry()
    return registry.with_resources(resources).crawl(), by_file


@cache
def validator_for(rel: str) -> jsonschema.Draft201909Validator:
    """A draft 2019-09 validator for the vendored schema ``rel`` (offline registry)."""
    registry, by_file = _registry()
    return jsonschema.Draft201909Validator(by_file[rel], registry=registry)


def schema_for(document: Mapping[str, Any]) -> str | None:
    """The vendored schema path that applies to ``document``, or ``None``."""
    types = types_of(document)
    if "ClrCredential" in types:
        return CLR_SCHEMA
    if "OpenBadgeCredential" in types or "AchievementCredential" in types:
        return OB_SCHEMA
    return None


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _split_status(node: Any, pointer: str, extras: list[tuple[str, Any]]) -> Any:
    """``node`` with every ``credentialStatus`` list cut to its first entry; the others are
    appended to ``extras`` as ``(pointer, entry)`` (see the module docstring)."""
    if not isinstance(node, Mapping):
        return node
    out = dict(node)
    status = node.get("credentialStatus")
    if isinstance(status, list) and status:
        out["credentialStatus"] = status[0]
        extras.extend(
            (f"{pointer}/credentialStatus/{index}", entry)
            for index, entry in enumerate(status[1:], start=1)
        )
    subject = node.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("verifiableCredential"), list):
        inner = dict(subject)
        inner["verifiableCredential"] = [
            _split_status(vc, f"{pointer}/credentialSubject/verifiableCredential/{index}", extras)
            for index, vc in enumerate(subject["verifiableCredential"])
        ]
        out["credentialSubject"] = inner
    return out


@cache
def _status_validator(rel: str) -> jsonschema.Draft201909Validator:
    registry, by_file = _registry()
    ref = {"$ref": by_file[rel]["$id"] + "#/$defs/CredentialStatus"}
    return jsonschema.Draft201909Validator(ref, registry=registry)


def check_schema(document: Mapping[str, Any]) -> Outcome:
    """Validate ``document`` against its schema; raise ``SCHEMA_VALIDATION_ERROR``."""
    rel = schema_for(document)
    if rel is None:
        return Outcome(
            "Not an Open Badges or CLR credential, so no schema applies.", state="skipped"
        )
    validator = validator_for(rel)
    extras: list[tuple[str, Any]] = []
    single = _split_status(document, "", extras)
    try:
        # is_valid is the fast path; the (slower) best error is looked for only on failure.
        error = None if validator.is_valid(single) else best_match(validator.iter_errors(single))
        base = ""
        for entry_pointer, entry in extras:
            if error is not None:
                break
            error = best_match(_status_validator(rel).iter_errors(entry))
            base = entry_pointer
    except referencing.exceptions.Unresolvable as exc:
        raise SchemaValidationError(f"the schema refers to an unknown resource: {exc}") from None
    name = "CLR 2.0" if rel == CLR_SCHEMA else "Open Badges 3.0"
    if error is not None:
        pointer = base + _pointer(error.absolute_path)
        raise SchemaValidationError(
            f"The credential does not follow the {name} schema at {pointer or '/'}: "
            f"{error.message}",
            pointer=pointer,
            schema=Path(rel).name,
        )
    return Outcome(f"The credential follows the {name} JSON Schema.")
