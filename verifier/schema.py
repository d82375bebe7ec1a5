"""The schema check: OB 3.0 and CLR 2.0 credentials against 1EdTech's JSON Schemas, offline.

The schemas ship in ``verifier/schemas/`` (byte copies of the official 1EdTech schemas) with a
sha256 manifest checked at load (pinned trust material, like the contexts). They are JSON Schema
draft 2019-09; every ``$ref`` resolves inside a local :class:`referencing.Registry` built from
the vendored files, and any other reference fails instead of touching the network.

Which schema: ``ClrCredential`` -> ``clr_v2p0_clrcredential_schema.json``;
``OpenBadgeCredential`` / ``AchievementCredential`` ->
``ob_v3p0_achievementcredential_schema.json``; other credentials are not schema-checked
(skipped).

The schemas are applied as they are, with no accommodation: OB 3.0 and CLR 2.0 allow at
most one ``credentialStatus`` object, so a credential with a list of status entries (which
VC DM 2.0 section 4.11 allows) does not follow them, as the 1EdTech validator would say
too. Each validator is compiled once per process (:func:`validator_for`) and reused.

Two validators, one verdict: :func:`fast_validator_for` compiles the same vendored schemas
with ``jsonschema-rs`` (a native draft 2019-09 validator, offline registry, formats not
asserted, as ``jsonschema``'s default), about 40 times faster. It only ever answers "valid":
a document it rejects goes to the reference validator (``jsonschema``), which decides and
names the violation, so error pointers and messages are the reference's. The two agree on a
property-based corpus of mutated credentials (``tests/test_speed_schema.py``); without
``jsonschema-rs`` installed the reference validator does everything.

Before the schema, every credential (Open Badges or not) gets the VC DM 2.0 data-model rules
that JSON Schema cannot express: ``relatedResource`` entries name a unique ``id`` and carry a
digest (:func:`verifier.related_resources.check_related_resources`, ``MALFORMED_VALUE_ERROR``).

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

try:
    import jsonschema_rs

    _NATIVE = True
except ImportError:  # pragma: no cover - the native validator is an optional speed-up
    _NATIVE = False

from contexts.errors import SijilError

from .errors import SchemaValidationError
from .models import types_of
from .outcome import Outcome
from .related_resources import check_related_resources

__all__ = [
    "CLR_SCHEMA",
    "OB_SCHEMA",
    "SCHEMA_DIR",
    "SchemaIntegrityError",
    "check_schema",
    "fast_validator_for",
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
    """The draft 2019-09 validator for the vendored schema ``rel`` (offline registry).

    Built once per process and shared (validators are stateless and thread-safe).
    """
    registry, by_file = _registry()
    return jsonschema.Draft201909Validator(by_file[rel], registry=registry)


def _not_vendored(uri: str) -> Any:
    """The native validator's retriever: every reference must be vendored (no network)."""
    raise SchemaIntegrityError(f"the schema refers to {uri}, which is not vendored")


@cache
def fast_validator_for(rel: str) -> Any:
    """The native (``jsonschema-rs``) validator for ``rel``, or ``None`` without the library.

    Same vendored, hash-checked schemas and offline registry as :func:`validator_for`;
    compiled once per process. Only its "valid" answers are used (module docstring).
    """
    if not _NATIVE:  # pragma: no cover
        return None
    _registry_ref, by_file = _registry()
    registry = jsonschema_rs.Registry(
        [(schema["$id"], schema) for schema in by_file.values()],
        draft=jsonschema_rs.Draft201909,
        retriever=_not_vendored,
    )
    return jsonschema_rs.Draft201909Validator(
        by_file[rel], registry=registry, retriever=_not_vendored, validate_formats=False
    )


def _fast_accepts(fast: Any, document: dict[str, Any]) -> bool:
    """Whether the native validator accepts ``document``; ``False`` (ask the reference) for
    a value it cannot read, e.g. a Python object no JSON parser produces."""
    try:
        return bool(fast.is_valid(document))
    except (ValueError, TypeError):
        return False


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


def check_schema(document: Mapping[str, Any]) -> Outcome:
    """Check the data-model rules, then validate ``document`` against its official schema.

    Raises ``MALFORMED_VALUE_ERROR`` (``relatedResource``) or ``SCHEMA_VALIDATION_ERROR`` (the
    deepest violation's pointer, the schema's file name in ``schema``).
    """
    check_related_resources(document)
    rel = schema_for(document)
    if rel is None:
        return Outcome(
            "Not an Open Badges or CLR credential, so no schema applies.", state="skipped"
        )
    fast = fast_validator_for(rel)
    name = "CLR 2.0" if rel == CLR_SCHEMA else "Open Badges 3.0"
    if fast is not None and isinstance(document, dict) and _fast_accepts(fast, document):
        return Outcome(f"The credential follows the {name} JSON Schema.")
    validator = validator_for(rel)
    try:
        # is_valid is the fast path; the (slower) best error is looked for only on failure.
        error = (
            None if validator.is_valid(document) else best_match(validator.iter_errors(document))
        )
    except referencing.exceptions.Unresolvable as exc:
        raise SchemaValidationError(f"the schema refers to an unknown resource: {exc}") from None
    if error is not None:
        pointer = _pointer(error.absolute_path)
        raise SchemaValidationError(
            f"The credential does not follow the {name} schema at {pointer or '/'}: "
            f"{error.message}",
            pointer=pointer,
            schema=Path(rel).name,
        )
    return Outcome(f"The credential follows the {name} JSON Schema.")
