"""VC Data Model structural checks (``issuer.vcdm``) run before the issuer signs anything."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contexts.errors import MalformedValueError
from issuer.vcdm import VC1_CONTEXT, VC2_CONTEXT, issuer_id, parse_datetime, validate_credential


def v2(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [VC2_CONTEXT, "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject", "alumniOf": "Example U"},
    }
    doc.update(extra)
    return doc


def v1(**extra: Any) -> dict[str, Any]:
    doc = v2(**{"@context": [VC1_CONTEXT], "issuanceDate": "2026-01-01T00:00:00Z"})
    doc.update(extra)
    return doc


def _pointer(doc: Any, **kwargs: bool) -> str | None:
    with pytest.raises(MalformedValueError) as info:
        validate_credential(doc, **kwargs)
    return info.value.pointer


def test_minimal_credentials_of_both_versions_pass() -> None:
    assert validate_credential(v2()) == "2.0"
    assert validate_credential(v1()) == "1.1"
    assert validate_credential(v2(**{"@context": VC2_CONTEXT})) == "2.0"
    assert validate_credential(v2(type="VerifiableCredential")) == "2.0"
    assert validate_credential(v2(issuer={"id": "https://uni.example", "name": "U"})) == "2.0"
    assert (
        validate_credential(
            v2(validFrom="2026-01-01T00:00:00+08:00", validUntil="2026-01-01T00:00:00Z")
        )
        == "2.0"
    )


def test_issuer_may_be_left_out_when_the_signer_fills_it() -> None:
    doc = v2()
    del doc["issuer"]
    assert _pointer(doc) == "/issuer"
    assert validate_credential(doc, issuer_required=False) == "2.0"
    assert _pointer(v2(issuer=42), issuer_required=False) == "/issuer"


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ([], ""),
        (v2(**{"@context": []}), "/@context"),
        (v2(**{"@context": [VC2_CONTEXT, VC1_CONTEXT]}), "/@context/1"),
        (v2(**{"@context": [VC2_CONTEXT, 7]}), "/@context/1"),
        (v2(**{"@context": [VC2_CONTEXT, "relative/ctx"]}), "/@context/1"),
        (v2(type=[]), "/type"),
        (v2(type=["VerifiableCredential", ""]), "/type"),
        (v2(type=[1]), "/type"),
        (v2(credentialSubject=[]), "/credentialSubject"),
        (v2(credentialSubject=[{"a": 1}, "x"]), "/credentialSubject/1"),
        (v2(credentialSubject={"id": "no scheme"}), "/credentialSubject/id"),
        (v2(validFrom="2026-02-30T00:00:00Z"), "/validFrom"),
        (v2(validFrom="2026-01-01"), "/validFrom"),
        (v2(validFrom=20260101), "/validFrom"),
        (v1(issuanceDate=None), "/issuanceDate"),
        (v1(expirationDate="2020-01-01T00:00:00Z"), "/expirationDate"),
        (v1(validFrom="2026-01-01T00:00:00Z") | {"@context": [VC1_CONTEXT]}, None),
        (v2(credentialSchema={"type": "JsonSchema"}), "/credentialSchema/id"),
        (v2(evidence=[{"id": "https://e.example"}]), "/evidence/0/type"),
        (v2(termsOfUse={"type": ["T"], "id": "not a url"}), "/termsOfUse/id"),
    ],
    ids=[
        "not-object",
        "empty-context",
        "mixed-contexts",
        "context-number",
        "context-relative",
        "empty-type",
        "empty-type-string",
        "type-number",
        "no-subjects",
        "subject-not-object",
        "subject-id-not-url",
        "impossible-date",
        "date-only",
        "date-number",
        "v1-without-issuance-date",
        "v1-expired-before-issued",
        "v1-with-valid-from-ok",
        "schema-without-id",
        "evidence-without-type",
        "terms-id-not-url",
    ],
)
def test_refusals_point_at_the_culprit(doc: Any, pointer: str | None) -> None:
    if pointer is None:
        # VC 1.1 says nothing about validFrom; it is left to JSON-LD (not a structural error)
        assert validate_credential(doc) == "1.1"
        return
    if isinstance(doc, dict) and doc.get("issuanceDate", "") is None:
        del doc["issuanceDate"]
    assert _pointer(doc) == pointer


def test_issuer_id_reads_string_and_object_forms() -> None:
    assert issuer_id(v2()) == "did:example:issuer"
    assert issuer_id(v2(issuer={"id": "https://u.example"})) == "https://u.example"


def test_parse_datetime_keeps_the_offset() -> None:
    at = parse_datetime("2026-11-29T08:00:00+08:00", "/validFrom")
    assert at.utcoffset() is not None
    assert at.isoformat() == "2026-11-29T08:00:00+08:00"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=10,
)
MEMBERS = st.sampled_from(
    [
        "@context",
        "type",
        "issuer",
        "credentialSubject",
        "validFrom",
        "validUntil",
        "id",
        "issuanceDate",
        "expirationDate",
        "credentialStatus",
        "credentialSchema",
        "proof",
    ]
)


@given(changes=st.dictionaries(MEMBERS, JSON, max_size=4))
def test_any_mutation_passes_or_raises_malformed_value(changes: dict[str, Any]) -> None:
    """Whatever a caller sends, the checks answer a version or MALFORMED_VALUE_ERROR, never
    another exception (a TypeError here would be a 500 in the API)."""
    doc = v2(**changes)
    error: MalformedValueError | None = None
    version: str | None = None
    try:
        version = validate_credential(doc)
    except MalformedValueError as exc:
        error = exc
    if error is None:
        assert version in ("2.0", "1.1")
    else:
        assert error.code == "MALFORMED_VALUE_ERROR"
        assert error.pointer is not None
