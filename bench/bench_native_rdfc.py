"""Benchmark: would a native RDFC-1.0 (pyoxigraph) pay? (not a test; needs ``pyoxigraph``).

Run: ``.venv/bin/pip install pyoxigraph && .venv/bin/python bench/bench_native_rdfc.py``.

For a sijil COA and MMSs stacking 3 and 20 COAs, from the same safe-mode-expanded document:

- pure Python: pyld's node map to an RDF dataset, then :func:`contexts.rdfc.canonical_nquads`;
- native: ``json.dumps`` of the expanded document, pyoxigraph's JSON-LD parser, its
  ``RDFC_1_0`` canonicalization and N-Quads serializer (lines sorted);
- the pre-check a bounded native path would need (pyoxigraph has no work limit): do all blank
  nodes have distinct first-degree signatures, i.e. would RDFC-1.0 never reach "Hash
  N-Degree Quads"?

It prints CPU milliseconds per call, whether the outputs are byte-identical, and the pre-check's
verdict, beside the cost of safe-mode expansion (which the native path cannot replace: safe
mode is pyld's).
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from verifier_fixtures import Learner, build_mms, coa_for, key_from_seed, sign  # noqa: E402

from contexts import jsonld  # noqa: E402
from contexts.rdfc import canonical_nquads  # noqa: E402

try:
    pyoxigraph: Any = importlib.import_module("pyoxigraph")
except ImportError:
    raise SystemExit("needs pyoxigraph: .venv/bin/pip install pyoxigraph") from None

ISSUER = key_from_seed(5)
LEARNER = Learner("Nur Aisyah binti Ahmad", "aisyah@example.com", "salt")


def _cpu_ms(fn: Callable[[], object], calls: int) -> float:
    fn()
    start = time.thread_time()
    for _ in range(calls):
        fn()
    return (time.thread_time() - start) / calls * 1e3


def _native(expanded: list[dict[str, Any]]) -> str:
    text = json.dumps(expanded, ensure_ascii=False)
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.JSON_LD))
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    out = pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS)
    assert isinstance(out, bytes)
    return "".join(sorted(line + "\n" for line in out.decode("utf-8").split("\n") if line))


def _first_degree_unique(expanded: list[dict[str, Any]]) -> bool:
    text = json.dumps(expanded, ensure_ascii=False)
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.JSON_LD))
    blank = pyoxigraph.BlankNode
    quads_of: dict[str, list[tuple[Any, ...]]] = {}
    for quad in dataset:
        terms = (quad.subject, quad.predicate, quad.object, quad.graph_name)
        for label in {term.value for term in terms if type(term) is blank}:
            quads_of.setdefault(label, []).append(terms)
    seen: set[tuple[str, ...]] = set()
    for label, quads in quads_of.items():
        signature = tuple(
            sorted(
                " ".join(
                    ("_:a" if t.value == label else "_:z") if type(t) is blank else str(t)
                    for t in terms
                )
                for terms in quads
            )
        )
        if signature in seen:
            return False
        seen.add(signature)
    return True


def _row(name: str, doc: dict[str, Any]) -> None:
    expanded = jsonld.expand(doc)
    calls = 200 if name == "COA" else 10
    expand_ms = _cpu_ms(lambda: jsonld.expand(doc), calls)
    copy_ms = _cpu_ms(lambda: copy.deepcopy(expanded), calls)
    python_ms = (
        _cpu_ms(lambda: canonical_nquads(jsonld._to_dataset(copy.deepcopy(expanded))), calls)
        - copy_ms
    )
    native_ms = _cpu_ms(lambda: _native(expanded), calls)
    check_ms = _cpu_ms(lambda: _first_degree_unique(expanded), calls)
    reference = canonical_nquads(jsonld._to_dataset(copy.deepcopy(expanded)))
    identical = _native(expanded) == reference
    trivial = _first_degree_unique(expanded)
    print(
        f"{name:<14}{expand_ms:>9.2f}{python_ms:>9.2f}{native_ms:>9.2f}{check_ms:>11.2f}"
        f"{identical!s:>11}{trivial!s:>9}"
    )


def main() -> None:
    coas = [coa_for(ISSUER, LEARNER, f"BM{i}", f"Unit {i}", serial=i + 1) for i in range(20)]
    docs = {
        "COA": coas[0],
        "MMS, 3 COAs": sign(build_mms(ISSUER, LEARNER, coas[:3]), ISSUER),
        "MMS, 20 COAs": sign(build_mms(ISSUER, LEARNER, coas), ISSUER),
    }
    print(f"pyoxigraph {pyoxigraph.__version__}; CPU ms per call")
    print(
        f"{'document':<14}{'expand':>9}{'python':>9}{'native':>9}{'pre-check':>11}"
        f"{'identical':>11}{'trivial':>9}"
    )
    for name, signed in docs.items():
        _row(name, {k: v for k, v in signed.items() if k != "proof"})


if __name__ == "__main__":
    main()
