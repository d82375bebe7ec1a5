"""JSON-LD to RDF in linear time: the node map without pyld's quadratic duplicate checks.

The attack: a credential whose subject lists many node references under one property. pyld
checks each new value against every value already there, so 10,000 references (200 KB)
took 30 s of CPU and a 1 MiB body minutes. :class:`contexts.processor.NodeMapProcessor`
keeps the same node map with set lookups; these tests compare it with pyld's own.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld
from pyld.identifier_issuer import IdentifierIssuer
from verifier_fixtures import Learner, build_coa, build_mms, coa_for, key_from_seed, sign

from contexts import jsonld
from contexts.processor import NodeMapProcessor

VC2 = "https://www.w3.org/ns/credentials/v2"


def _node_maps(expanded: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    ours: dict[str, Any] = {"@default": {}}
    theirs: dict[str, Any] = {"@default": {}}
    NodeMapProcessor()._create_node_map(
        copy.deepcopy(expanded), ours, "@default", IdentifierIssuer("_:b")
    )
    pyld_jsonld.JsonLdProcessor()._create_node_map(
        copy.deepcopy(expanded), theirs, "@default", IdentifierIssuer("_:b")
    )
    return ours, theirs


DUPLICATES: list[dict[str, Any]] = [
    {
        "@id": "urn:s",
        "@type": ["urn:T", "urn:T", "_:t1"],
        "urn:p": [
            {"@value": 1},
            {"@value": 1.0},
            {"@value": True},
            {"@value": True},
            {"@value": "x"},
            {"@value": "x", "@language": "en"},
            {"@value": "x", "@language": "en"},
            {"@value": "1", "@type": "urn:int"},
            {"@value": {"a": 1}, "@type": "@json"},
            {"@value": {"a": 1}, "@type": "@json"},
            {"@value": {"a": True}, "@type": "@json"},
            {"@value": [1, {"b": [2]}], "@type": "@json"},
            {"@value": [1, {"b": [2]}], "@type": "@json"},
            {"@id": "urn:a"},
            {"@id": "urn:a"},
            {"@id": "_:x"},
            {"@list": [{"@id": "urn:a"}, {"@value": 1}]},
            {"@list": [{"@id": "urn:a"}, {"@value": 1}]},
            {"@value": "i", "@index": "k"},
            {"@value": "i", "@index": "k"},
        ],
        "@reverse": {"urn:r": [{"@id": "urn:o"}, {"@id": "urn:o"}]},
    },
    {"@id": "urn:s", "urn:p": [{"@id": "urn:a"}, {"@value": 1}], "urn:q": []},
    {"@id": "urn:g", "@graph": [{"@id": "urn:a", "urn:p": [{"@id": "urn:s"}, {"@id": "urn:s"}]}]},
]


def test_node_map_equals_pyld_with_every_kind_of_duplicate() -> None:
    ours, theirs = _node_maps(DUPLICATES)
    assert ours == theirs


def _credentials() -> list[dict[str, Any]]:
    key = key_from_seed(5)
    learner = Learner("Lim Wei", "lim@example.com", "salt-3")
    coas = [coa_for(key, learner, f"C{i}", f"Course {i}", serial=i + 1) for i in range(3)]
    return [
        build_coa(key, learner, "DS601", "Data Ethics"),
        sign(build_mms(key, learner, coas), key),
    ]


@pytest.mark.parametrize("index", [0, 1])
def test_node_map_equals_pyld_on_credentials(index: int) -> None:
    doc = _credentials()[index]
    ours, theirs = _node_maps(jsonld.expand(doc))
    assert ours == theirs


def test_many_references_under_one_property_become_rdf() -> None:
    # Quadratic before: 20,000 references took about two minutes of CPU.
    refs = 20_000
    doc = {
        "@context": [VC2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "urn:example:s",
            "type": "VerifiableCredential",
            "credentialSubject": [{"id": f"urn:example:{i}"} for i in range(refs)],
        },
    }
    nquads = jsonld.canonize(doc)
    assert (
        nquads.count("<urn:example:s> <https://www.w3.org/2018/credentials#credentialSubject>")
        == refs
    )


_IDS = st.sampled_from(["urn:a", "urn:b", "_:x", "_:y"])
_LITERALS = st.sampled_from([1, 1.0, True, False, 0, "x", "1", {"a": 1}, {"a": True}, [1, 2]])
_VALUES = st.one_of(
    st.builds(lambda v: {"@value": v}, _LITERALS),
    st.builds(
        lambda v, t: {"@value": v, "@type": t}, _LITERALS, st.sampled_from(["@json", "urn:t"])
    ),
    st.builds(lambda v: {"@value": v, "@language": "en"}, st.sampled_from(["x", "y"])),
    st.builds(lambda i: {"@id": i}, _IDS),
)


def _node(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda node_id, types, props: {
            "@id": node_id,
            "@type": types,
            **{p: v for p, v in props.items() if v},
        },
        _IDS,
        st.lists(st.sampled_from(["urn:T", "urn:U", "_:t"]), max_size=3),
        st.dictionaries(st.sampled_from(["urn:p", "urn:q"]), st.lists(children, max_size=6)),
    )


_EXPANDED = st.lists(_node(st.one_of(_VALUES, _node(_VALUES))), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(_EXPANDED)
def test_node_map_equals_pyld_on_generated_input(expanded: list[dict[str, Any]]) -> None:
    ours, theirs = _node_maps(expanded)
    assert ours == theirs
