"""contexts.fastrdf: the one-pass path gives pyld's node map exactly, or declines.

The fast path must never change an answer: where it answers, its node map (labels, order,
values) equals the one pyld's safe-mode expansion and node map give; where the reference
refuses a document, the fast path declines and the refusal is the reference's own. Checked
over the vectors, sijil's own credentials, hand-written edge cases and a hypothesis corpus of
mutated credentials (undefined terms, keywords, nulls, relative and unsafe IRIs, inline and
unpinned contexts, literals of every JSON type, nested and empty arrays).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld.identifier_issuer import IdentifierIssuer
from test_contexts_processor import VECTOR_DOCUMENTS, VECTORS, credentials
from verifier_fixtures import Learner, build_mms, coa_for, key_from_seed, sign

from contexts import VC_V2, fastrdf, jsonld
from contexts.errors import SijilError
from contexts.processor import NodeMapProcessor

ISSUER = key_from_seed(11)
LEARNER = Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt")


def _fast_map(doc: Any) -> dict[str, Any] | None:
    found = fastrdf.node_map(doc, jsonld._processor_options())
    return None if found is None else found[0]


def _reference_map(doc: Any) -> dict[str, Any]:
    expanded = jsonld.expand(doc, memoize=False)
    node_map: dict[str, Any] = {"@default": {}}
    NodeMapProcessor()._create_node_map(expanded, node_map, "@default", IdentifierIssuer("_:b"))
    return node_map


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", call())
    except SijilError as exc:
        return ("error", exc.code, exc.detail, exc.pointer)


def _same_answer(doc: Any) -> bool:
    """Assert fast == reference for ``doc``; return whether the fast path answered."""
    reference = _outcome(lambda: jsonld.canonize(doc, memoize=False))
    assert _outcome(lambda: jsonld.canonize(doc, cache=False)) == reference
    assert _outcome(lambda: jsonld.check_safe(doc)) == (
        ("ok", None) if reference[0] == "ok" else reference
    )
    fast = _fast_map(doc)
    if fast is not None:
        assert reference[0] == "ok", "the fast path accepted what the reference refuses"
        assert fast == _reference_map(doc)
    return fast is not None


@pytest.mark.parametrize(
    "doc", [doc for _, doc in VECTOR_DOCUMENTS], ids=[name for name, _ in VECTOR_DOCUMENTS]
)
def test_vectors_give_the_reference_node_map(doc: dict[str, Any]) -> None:
    _same_answer(doc)


def test_official_credentials_take_the_fast_path() -> None:
    for name in ("openbadges-3.0/unsigned.json", "eddsa-rdfc-2022/unsigned.json"):
        path = VECTORS / name
        if path.exists():
            doc = json.loads(path.read_text(encoding="utf-8"))
            assert _same_answer(doc), name
    served = sum(_fast_map(doc) is not None for _, doc in VECTOR_DOCUMENTS)
    assert served >= len(VECTOR_DOCUMENTS) // 2


def test_sijil_credentials_take_the_fast_path() -> None:
    coas = [coa_for(ISSUER, LEARNER, f"FR{i}", f"Unit {i}", serial=i + 1) for i in range(3)]
    mms = sign(build_mms(ISSUER, LEARNER, coas), ISSUER)
    for doc in (*coas, mms, {k: v for k, v in mms.items() if k != "proof"}):
        assert _same_answer(doc)
    assert jsonld.fast_dataset(mms) == jsonld._reference_dataset(mms, memoize=False)


BASE: dict[str, Any] = {
    "@context": [VC_V2, {"note": "https://sijil.example/vocab#note"}],
    "id": "https://sijil.example/credentials/1",
    "type": ["VerifiableCredential"],
    "issuer": "https://sijil.example",
    "validFrom": "2026-11-29T00:00:00Z",
    "credentialSubject": {"id": "did:example:1", "note": "hello"},
}


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


EDGE_CASES: dict[str, tuple[Any, bool]] = {
    # (document, does the fast path answer?)
    "plain": (BASE, True),
    "undefined term": (_with(("credentialSubject", "nope"), "x"), False),
    "keyword-like key": (_with(("credentialSubject", "@nope"), "x"), False),
    "null value": (_with(("credentialSubject", "note"), None), False),
    "value object": (_with(("credentialSubject", "note"), {"@value": "x"}), False),
    "null value object": (_with(("credentialSubject", "note"), {"@value": None}), False),
    "language-tagged": (
        _with(("credentialSubject", "note"), {"@value": "x", "@language": "ms"}),
        False,
    ),
    "list object": (_with(("credentialSubject", "note"), {"@list": ["a", "b"]}), False),
    "set object": (_with(("credentialSubject", "note"), {"@set": ["a"]}), False),
    "nested array": (_with(("credentialSubject", "note"), [["a"], "b"]), False),
    "empty array": (_with(("credentialSubject", "note"), []), False),
    "relative id": (_with(("credentialSubject", "id"), "learners/1"), False),
    "id with a space": (_with(("credentialSubject", "id"), "https://x.example/a b"), False),
    "id with <": (_with(("credentialSubject", "id"), "https://x.example/<a>"), False),
    "blank node id": (_with(("credentialSubject", "id"), "_:learner"), False),
    "number id": (_with(("credentialSubject", "id"), 5), False),
    "colliding ids": (_with(("credentialSubject", "@id"), "did:example:2"), False),
    "undefined type": (_with(("credentialSubject", "type"), ["Nope"]), False),
    "number type": (_with(("credentialSubject", "type"), 5), False),
    "empty type": (_with(("credentialSubject", "type"), []), False),
    "absolute IRI key": (_with(("credentialSubject", "https://x.example/p"), "v"), True),
    "compact IRI key, unknown prefix": (_with(("credentialSubject", "ex:p"), "v"), True),
    "blank node predicate": (_with(("credentialSubject", "_:p"), "v"), False),
    "integer": (_with(("credentialSubject", "note"), 42), True),
    "huge integer": (_with(("credentialSubject", "note"), 10**22), True),
    "float": (_with(("credentialSubject", "note"), 1.5), True),
    "integral float": (_with(("credentialSubject", "note"), 2.0), True),
    "boolean": (_with(("credentialSubject", "note"), True), True),
    "duplicates": (_with(("credentialSubject", "note"), ["a", "a", 1, True, 1.0]), True),
    "control characters": (_with(("credentialSubject", "note"), 'a\u0000\u0008\u007f"\\'), True),
    "inline context on a node": (
        _with(
            ("credentialSubject",),
            {
                "@context": {"extra": "https://x.example/extra"},
                "id": "did:example:1",
                "extra": "v",
            },
        ),
        True,
    ),
    "protected term redefined": (
        _with(("credentialSubject", "@context"), {"type": "https://evil.example/type"}),
        False,
    ),
    "unpinned context": (
        _with(("credentialSubject", "@context"), "https://unpinned.example/ctx"),
        False,
    ),
    "context as keyword redefinition": (
        _with(("credentialSubject", "@context"), {"@context": {}}),
        False,
    ),
    "@graph": (_with(("credentialSubject", "@graph"), [{"id": "did:example:3"}]), False),
    "@included": (_with(("credentialSubject", "@included"), [{"id": "did:example:3"}]), False),
    "@reverse": (
        _with(("credentialSubject", "@reverse"), {"https://x.example/r": {"id": "did:e:4"}}),
        False,
    ),
    "@nest": (_with(("credentialSubject", "@nest"), {"note": "x"}), False),
    "@index": (_with(("credentialSubject", "@index"), "i"), False),
    "only @context and id": ({"@context": VC_V2, "id": "https://x.example/1"}, False),
    "only @context": ({"@context": VC_V2}, False),
    "only a type": ({"@context": VC_V2, "type": "VerifiableCredential"}, True),
    "top-level array": ([BASE], False),
    "proof graph": (
        {
            **BASE,
            "proof": {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "created": "2026-11-29T00:00:00Z",
                "verificationMethod": "did:example:1#k",
                "proofPurpose": "assertionMethod",
                "proofValue": "z1",
            },
        },
        True,
    ),
    "empty proof": ({**BASE, "proof": {}}, True),
    "string in a graph container": ({**BASE, "proof": "https://x.example/p"}, False),
    "relative IRI value": ({**BASE, "evidence": "plain"}, False),
    "embedded credentials": (
        {
            **BASE,
            "credentialSubject": {"id": "did:example:1", "note": "x"},
            "evidence": [{"id": "https://x.example/e", "note": "n"}, "https://x.example/e2"],
        },
        True,
    ),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases(name: str) -> None:
    doc, answers = EDGE_CASES[name]
    assert _same_answer(doc) is answers


# -- hypothesis: mutated credentials ----------------------------------------------------------

MUTATIONS: list[tuple[str, Any]] = [
    ("nope", "x"),
    ("@nope", "x"),
    ("name", None),
    ("name", {"@value": "x", "@language": "ms"}),
    ("name", {"@value": None}),
    ("name", [["x"]]),
    ("name", []),
    ("name", 1.25),
    ("name", 10**21),
    ("name", False),
    ("description", ["a", "a", 7, 7.0, True]),
    ("id", "relative"),
    ("id", "_:b0"),
    ("id", "https://x.example/a b"),
    ("id", 3),
    ("@id", "https://x.example/other"),
    ("type", ["Undefined"]),
    ("type", "Achievement"),
    ("type", [{"x": 1}]),
    ("https://x.example/p", "v"),
    ("ex:p", "v"),
    ("_:p", "v"),
    ("@graph", [{"id": "https://x.example/g"}]),
    ("@reverse", {"https://x.example/r": {"id": "https://x.example/y"}}),
    ("@context", {"name": "https://evil.example/name"}),
    ("@context", {"extra": "https://x.example/extra"}),
    ("@context", "https://unpinned.example/ctx"),
    ("@context", VC_V2),
    ("verifiableCredential", {"id": "https://x.example/vc", "name": "inner"}),
    ("proof", {"type": "DataIntegrityProof", "proofValue": "z9"}),
]


def _node_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every object outside @context values."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        found.append(path)
        for key, value in node.items():
            if key != "@context":
                found.extend(_node_paths(value, (*path, key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_node_paths(item, (*path, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(credentials(pyld_compatible=False))
    for _ in range(draw(st.integers(0, 3))):
        paths = _node_paths(doc)
        path = paths[draw(st.integers(0, len(paths) - 1))]
        key, value = draw(st.sampled_from(MUTATIONS))
        target: Any = doc
        for step in path:
            target = target[step]
        target[key] = copy.deepcopy(value)
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_credentials_same_answer(doc: dict[str, Any]) -> None:
    _same_answer(doc)


def test_plans_are_bounded() -> None:
    fastrdf.clear_plans()
    for index in range(fastrdf._MAX_CONTEXTS + 40):
        inline = {**BASE, "@context": [*BASE["@context"], {f"t{index}": "https://x.example/t"}]}
        jsonld.canonize(inline, cache=False)
    assert 0 < len(fastrdf._PLANS) <= fastrdf._MAX_CONTEXTS
    wide = {**BASE, "credentialSubject": {f"https://x.example/p{i}": i for i in range(3000)}}
    assert _same_answer(wide)
    assert all(len(plans.keys) <= fastrdf._MAX_KEYS for plans in fastrdf._PLANS.values())
