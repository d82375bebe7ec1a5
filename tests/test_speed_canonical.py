"""The canonicalization cache never changes a result, only how fast it comes.

Cached and uncached canonical N-Quads are compared on the official vectors and on
hypothesis-generated credentials (control characters, non-ASCII, many blank nodes); refused
documents are refused again with the same code; documents that are not plain JSON are not
cached; and the cache stays within its bounds.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld
from pyld.identifier_issuer import IdentifierIssuer
from shared_dir import VECTORS

from contexts import jsonld, processor
from contexts.canonical_cache import CanonicalCache, content_key
from contexts.errors import DataLossDetectionError, SijilError
from contexts.rdfc import CanonicalizationLimitError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
CHARS = st.characters(exclude_categories=["Cs"])


def _vector_documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(VECTORS.rglob("*.json")):
        doc = json.loads(path.read_text("utf-8"))
        if not (isinstance(doc, dict) and "@context" in doc and "proof" not in doc):
            continue
        try:
            jsonld.canonize(doc, cache=False)
        except SijilError:
            continue  # vectors of other formats, not canonicalizable as they are
        found.append((str(path.relative_to(VECTORS)), doc))
    return found


VECTOR_DOCUMENTS = _vector_documents()


def test_the_vectors_are_found() -> None:
    assert len(VECTOR_DOCUMENTS) >= 10


def _credential(names: list[str], notes: list[str]) -> dict[str, Any]:
    """A VC DM 2.0 credential with one blank-node subject per name (blank-node heavy)."""
    return {
        "@context": [VC_V2, {"note": "https://sijil.example/vocab#note"}],
        "type": ["VerifiableCredential"],
        "issuer": "https://sijil.example/issuer",
        "validFrom": "2026-07-01T00:00:00Z",
        "credentialSubject": [{"name": name, "note": notes} for name in names],
    }


@pytest.mark.parametrize(
    "doc", [doc for _, doc in VECTOR_DOCUMENTS], ids=[name for name, _ in VECTOR_DOCUMENTS]
)
@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_vector_cached_equals_uncached(doc: dict[str, Any], hash_name: str) -> None:
    reference = jsonld.canonize(doc, hash_name=hash_name, cache=False)
    first = jsonld.canonize(doc, hash_name=hash_name)
    second = jsonld.canonize(doc, hash_name=hash_name)
    assert first == second == reference


def test_official_canonical_form_from_a_warm_cache() -> None:
    doc = json.loads((VECTORS / "openbadges-3.0" / "unsigned.json").read_text("utf-8"))
    expected = (VECTORS / "openbadges-3.0" / "document-canon.txt").read_text("utf-8")
    jsonld.canonize(doc)
    assert jsonld.canonize(doc) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.text(CHARS, min_size=0, max_size=12), min_size=1, max_size=8),
    notes=st.lists(st.text(CHARS, max_size=8), max_size=3),
)
def test_cached_equals_uncached_for_generated_credentials(
    names: list[str], notes: list[str]
) -> None:
    doc = _credential(names, notes)
    reference = jsonld.canonize(doc, cache=False, memoize=False)
    assert jsonld.canonize(doc) == reference
    assert jsonld.canonize(doc) == reference
    assert jsonld.canonize(doc, hash_name="sha384") == jsonld.canonize(
        doc, hash_name="sha384", cache=False
    )


def test_hash_algorithm_is_part_of_the_key() -> None:
    doc = _credential(["a", "a", "b"], [])
    assert content_key(doc, "sha256") != content_key(doc, "sha384")


def test_member_order_and_number_types_give_distinct_keys() -> None:
    assert content_key({"a": 1, "b": 2}, "sha256") != content_key({"b": 2, "a": 1}, "sha256")
    assert content_key({"a": 1}, "sha256") != content_key({"a": 1.0}, "sha256")
    assert content_key({"a": True}, "sha256") != content_key({"a": 1}, "sha256")


def test_non_json_values_are_not_cached() -> None:
    assert content_key({"a": ("x",)}, "sha256") is None
    assert content_key({"a": float("inf")}, "sha256") is None
    assert content_key({1: "x"}, "sha256") is None
    assert content_key({"a": {"b": [None, "c", 2]}}, "sha256") is not None


def test_undefined_term_is_refused_every_time() -> None:
    doc = {**_credential(["a"], []), "undefinedTerm": "x"}
    for _ in range(2):
        with pytest.raises(DataLossDetectionError) as caught:
            jsonld.canonize(doc)
        assert caught.value.code == "DATA_LOSS_DETECTION_ERROR"


def test_poison_dataset_is_refused_every_time() -> None:
    """A complete graph of 6 blank nodes exceeds the work limit, cached or not."""
    nodes = [f"_:n{i}" for i in range(6)]
    graph = [
        {"@id": node, "https://x.example/p": [{"@id": other} for other in nodes if other != node]}
        for node in nodes
    ]
    for _ in range(2):
        with pytest.raises(CanonicalizationLimitError):
            jsonld.canonize({"@graph": graph})


def test_cache_is_bounded_in_characters() -> None:
    cache = CanonicalCache(max_chars=100, max_entry_chars=60)
    cache.put(b"big", "x" * 61)
    assert cache.get(b"big") is None
    for index in range(5):
        cache.put(bytes([index]), "y" * 40)
    assert len(cache) == 2
    assert cache.get(bytes([4])) == "y" * 40
    assert cache.get(bytes([0])) is None
    cache.clear()
    assert len(cache) == 0


def test_iri_memo_is_used_bounded_and_cleared() -> None:
    processor.clear_memo()
    assert processor.iri_memo_size() == 0
    doc = json.loads((VECTORS / "openbadges-3.0" / "unsigned.json").read_text("utf-8"))
    expected = (VECTORS / "openbadges-3.0" / "document-canon.txt").read_text("utf-8")
    assert jsonld.canonize(doc, cache=False) == expected
    assert 0 < processor.iri_memo_size() <= 8192
    assert jsonld.canonize(doc, cache=False) == expected
    processor.clear_memo()
    assert processor.iri_memo_size() == 0


def _graphs_to_rdf(processor: Any, graph: dict[str, Any], generalized: bool) -> Any:
    options = {"produceGeneralizedRdf": generalized, "processingMode": "json-ld-1.1"}
    return processor._graph_to_rdf(copy.deepcopy(graph), IdentifierIssuer("_:b"), options)


GRAPH_TO_RDF_CASES: dict[str, dict[str, Any]] = {
    "lists, values, relative and blank-node IRIs": {
        "_:b0": {
            "@id": "_:b0",
            "@type": ["https://x.example/T", "relative-type"],
            "https://x.example/list": [
                {"@list": [{"@value": "a"}, {"@id": "_:b1"}, {"@value": 2.5}]}
            ],
            "https://x.example/empty": [{"@list": []}],
            "_:predicate": [{"@value": "kept only in generalized RDF"}],
            "relative": [{"@value": "never an RDF triple"}],
            "https://x.example/json": [{"@value": {"b": [1, 2], "a": None}, "@type": "@json"}],
            "https://x.example/n": [{"@value": 10**21}, {"@value": True}, {"@value": 7}],
        },
        "relative-subject": {"@id": "relative-subject", "https://x.example/p": [{"@value": 1}]},
        "https://x.example/s": {
            "@id": "https://x.example/s",
            "https://x.example/ref": [{"@id": "_:b0"}, {"@id": "relative-object"}],
            "@index": "ignored",
        },
    },
}


@pytest.mark.parametrize("generalized", [False, True])
@pytest.mark.parametrize("name", sorted(GRAPH_TO_RDF_CASES))
def test_graph_to_rdf_equals_pyld(name: str, generalized: bool) -> None:
    graph = GRAPH_TO_RDF_CASES[name]
    ours = _graphs_to_rdf(processor.NodeMapProcessor(), graph, generalized)
    plain = _graphs_to_rdf(pyld_jsonld.JsonLdProcessor(), graph, generalized)
    assert ours == plain
    assert len(ours) >= 10
