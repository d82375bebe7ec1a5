"""RDFC-1.0 (RDF Dataset Canonicalization, W3C Recommendation 2024) over pyld's algorithm.

Why not pyld's ``URDNA2015`` as is: pyld 3.3.0 writes N-Quads literals with only
``\\\\ \\t \\n \\r \\"`` escaped and every other control character raw. RDFC-1.0 section 4.7
("serialized canonical form") requires canonical N-Quads (RDF 1.2 N-Triples, "Canonical
N-Triples"): in literals U+0008 ``\\b``, U+0009 ``\\t``, U+000A ``\\n``, U+000C ``\\f``,
U+000D ``\\r``, U+0022 ``\\"`` and U+005C ``\\\\`` as ECHAR, every other character in
U+0000..U+001F and U+007F as UCHAR ``\\uXXXX`` (upper-case hex), everything else raw
UTF-8. That is what the JavaScript stack (rdf-canonize) and other RDFC-1.0
implementations produce; with pyld's form a credential whose text holds e.g. U+0001 or
U+0008 would hash differently and fail verification elsewhere. The serialization is
used both for the output and inside "Hash First Degree Quads" (section 4.6), exactly
where pyld uses its own. For any dataset without such characters the output is
byte-identical to pyld's (tested).

IRIs are written raw: :mod:`contexts.jsonld` safe mode rejects IRIs containing
characters that canonical N-Quads would have to escape.

Work limit (section 4.4.3 "Algorithm": implementations MUST defend against denial of
service by raising an exception and terminating early; appendix "Dataset Poisoning"
suggests limits on recursive steps and on permutations of long lists). Labelling is graph
isomorphism: a complete graph of n blank nodes costs about n! steps of "Hash N-Degree
Quads" (section 4.8). Two limits, both raising ``CANONICALIZATION_LIMIT_EXCEEDED``:

* :data:`MAX_BLANK_NODES` blank nodes per dataset, checked before any hashing;
* a work budget for step 5 of section 4.4.3. Work is counted in units proportional to
  what each step touches: a call of Hash N-Degree Quads costs 1 + the quads of its blank
  node (step 3 hashes each of them), a permutation examined (step 5.4) costs 1 + its
  length + the identifiers its issuer copy holds. The budget is :data:`WORK_PER_BLANK_NODE`
  units per blank node that shares its first-degree hash with another (the spec's note:
  "more than a couple of iterations ... per blank node would be unusual"), and at least
  :data:`MIN_WORK`, so it never exceeds ``WORK_PER_BLANK_NODE * MAX_BLANK_NODES``.

The limit is a property of the dataset, never of the machine or the clock: the same
credential canonicalizes (or is refused) everywhere. Measured: a credential with 50
embedded credentials (754 blank nodes) uses about 4,000 units; the RDF canonicalization
test suite's "poison - evil" graphs (test044-046) use 26,028 and still canonicalize; a
complete graph of 5 or more blank nodes (5: 37,530 units, 7: 4.1 million) is refused
after at most :data:`MIN_WORK` units, in milliseconds.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pyld.canon import URDNA2015, permutations
from pyld.identifier_issuer import IdentifierIssuer

from contexts.errors import SijilError

__all__ = [
    "HASH_ALGORITHMS",
    "MAX_BLANK_NODES",
    "MIN_WORK",
    "WORK_PER_BLANK_NODE",
    "CanonicalizationLimitError",
    "canonical_nquads",
    "escape_literal",
]

#: Most blank nodes one dataset may hold (a credential embedding 50 others has 754).
MAX_BLANK_NODES = 5_000
#: Work units allowed per blank node without a unique first-degree hash.
WORK_PER_BLANK_NODE = 64
#: The work budget never goes below this (small symmetric structures stay cheap to label).
MIN_WORK = 32_768


class CanonicalizationLimitError(SijilError):
    """RDFC-1.0 stopped early: the dataset exceeds a work limit (a poison dataset)."""

    code = "CANONICALIZATION_LIMIT_EXCEEDED"
    title = "Canonicalization work limit exceeded"
    http_status = 422


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_NEEDS_ESCAPE = re.compile('[\u0000-\u001f\u007f"\\\\]')
_ESCAPES: dict[int, str] = {code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F]}
_ESCAPES.update(
    {
        0x08: "\\b",
        0x09: "\\t",
        0x0A: "\\n",
        0x0C: "\\f",
        0x0D: "\\r",
        0x22: '\\"',
        0x5C: "\\\\",
    }
)


def escape_literal(value: str) -> str:
    """The canonical N-Quads form of a literal's lexical value (without the quotes)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return value.translate(_ESCAPES)


def _term(component: dict[str, Any]) -> str:
    """A subject, object or graph name in canonical N-Quads form (blank nodes by label)."""
    kind = component["type"]
    if kind == "IRI":
        return f"<{component['value']}>"
    if kind == "blank node":
        label: str = component["value"]
        return label
    text = f'"{escape_literal(component["value"])}"'
    datatype = component["datatype"]
    if datatype == _RDF_LANGSTRING:
        if component.get("language"):
            text += "@" + component["language"]
    elif datatype != _XSD_STRING:
        text += f"^^<{datatype}>"
    return text


class _Template:
    """One quad's canonical N-Quads text with its blank nodes left open.

    Serializing a quad is most of RDFC-1.0's own time: each is written once per blank node
    it holds ("Hash First Degree Quads") and once at the end. The IRIs and literals are
    written here once; only blank node labels change between those writings.
    """

    __slots__ = ("graph", "graph_label", "middle", "object_label", "subject", "subject_label")

    def __init__(self, quad: dict[str, Any], subjects: dict[int, str]) -> None:
        s, o = quad["subject"], quad["object"]
        name = quad.get("name")
        self.subject_label = s["value"] if s["type"] == "blank node" else None
        if self.subject_label:
            self.subject = ""
        else:  # a subject dict shared by several quads is written once (``subjects``)
            written = subjects.get(id(s))
            if written is None:
                written = subjects[id(s)] = _term(s)
            self.subject = written
        self.object_label = o["value"] if o["type"] == "blank node" else None
        obj = "" if self.object_label else _term(o)
        # " <predicate> " + object text when the object is not a blank node
        self.middle = f" <{quad['predicate']['value']}> {obj}"
        self.graph_label = name["value"] if name and name["type"] == "blank node" else None
        self.graph = "" if name is None or self.graph_label else " " + _term(name)

    def text(self, label: Any) -> str:
        """The quad with each blank node written as ``label(its label)``."""
        subject = label(self.subject_label) if self.subject_label else self.subject
        middle = self.middle + label(self.object_label) if self.object_label else self.middle
        graph = " " + label(self.graph_label) if self.graph_label else self.graph
        return f"{subject}{middle}{graph} .\n"


def _copy_issuer(issuer: IdentifierIssuer) -> IdentifierIssuer:
    """A copy of an identifier issuer (step 5.4.1); its state is strings, ints and the two
    containers, so copying those is a deep copy (``copy.deepcopy`` is several times slower)."""
    clone = IdentifierIssuer(issuer.prefix)
    clone.counter = issuer.counter
    clone.existing = dict(issuer.existing)
    clone.order = list(issuer.order)
    return clone


class _Rdfc10(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 steps with the canonical N-Quads serialization above.

    The dataset's quads and their component dicts are never mutated (a quad only gains its
    ``name``), so callers may share one component dict between quads.

    Only the two methods that serialize quads are replaced; the blank node labelling
    (sections 4.4-4.9) is pyld's. ``hash_name`` is RDFC-1.0's "hash algorithm"
    parameter (section 4.4): SHA-256 by default; ecdsa-rdfc-2019 with P-384 uses SHA-384.
    """

    def __init__(
        self,
        hash_name: str,
        *,
        max_blank_nodes: int = MAX_BLANK_NODES,
        work_per_blank_node: int = WORK_PER_BLANK_NODE,
        min_work: int = MIN_WORK,
    ) -> None:
        super().__init__()
        self._hash_name = hash_name
        self._max_blank_nodes = max_blank_nodes
        self._work_per_blank_node = work_per_blank_node
        self._min_work = min_work
        self._work_left = min_work
        self.work_done = 0
        self._templates: dict[int, _Template] = {}  # id(quad) -> its template; quads are held

    def _charge(self, units: int) -> None:
        """Spend ``units`` of Hash N-Degree Quads work; raise when the budget is spent."""
        self.work_done += units
        self._work_left -= units
        if self._work_left < 0:
            raise CanonicalizationLimitError(
                "the credential's blank nodes are too symmetric to label within the "
                "RDFC-1.0 work limit; refusing a possible poison dataset",
                work=self.work_done,
            )

    def create_hash(self) -> Any:
        return hashlib.new(self._hash_name)

    def canonicalize(self, dataset: dict[str, list[dict[str, Any]]]) -> str:
        """RDFC-1.0 section 4.4 "Canonicalization Algorithm", steps 1-7, as N-Quads."""
        # 2) blank node to quads map
        templates = self._templates
        subjects: dict[int, str] = {}  # id(subject dict) -> its text; the quads hold them
        for graph_name, triples in dataset.items():
            for quad in triples:
                if graph_name != "@default":
                    kind = "blank node" if graph_name.startswith("_:") else "IRI"
                    quad["name"] = {"type": kind, "value": graph_name}
                self.quads.append(quad)
                template = _Template(quad, subjects)
                templates[id(quad)] = template
                # one entry per blank node component (a quad linking a node to itself twice)
                for label in (template.subject_label, template.object_label, template.graph_label):
                    if label is not None:
                        self.blank_node_info.setdefault(label, {"quads": []})["quads"].append(quad)

        if len(self.blank_node_info) > self._max_blank_nodes:
            raise CanonicalizationLimitError(
                f"the credential has {len(self.blank_node_info)} blank nodes; at most "
                f"{self._max_blank_nodes} are canonicalized",
                blank_nodes=len(self.blank_node_info),
            )

        # 3)-5) issue canonical identifiers for blank nodes with unique first-degree hashes
        non_normalized = set(self.blank_node_info)
        simple = True
        while simple:
            simple = False
            hash_to_blank_nodes: dict[str, list[str]] = {}
            self.hash_to_blank_nodes = hash_to_blank_nodes
            for id_ in non_normalized:
                hash_to_blank_nodes.setdefault(self.hash_first_degree_quads(id_), []).append(id_)
            for hash_, id_list in sorted(self.hash_to_blank_nodes.items()):
                if len(id_list) > 1:
                    continue
                self.canonical_issuer.get_id(id_list[0])
                non_normalized.remove(id_list[0])
                del self.hash_to_blank_nodes[hash_]
                simple = True

        # 6) the rest by Hash N-Degree Quads, within the work budget (module docstring)
        shared = sum(len(ids) for ids in self.hash_to_blank_nodes.values())
        self._work_left = max(self._min_work, self._work_per_blank_node * shared)
        for _hash, id_list in sorted(self.hash_to_blank_nodes.items()):
            hash_path_list = []
            for id_ in id_list:
                if self.canonical_issuer.has_id(id_):
                    continue
                issuer = IdentifierIssuer("_:b")
                issuer.get_id(id_)
                hash_path_list.append(self.hash_n_degree_quads(id_, issuer))
            for result in sorted(hash_path_list, key=lambda r: r["hash"]):
                for existing in result["issuer"].order:
                    self.canonical_issuer.get_id(existing)

        # 7) relabel and serialize (section 4.7)
        canonical = self.canonical_issuer.get_id
        normalized = [templates[id(quad)].text(canonical) for quad in self.quads]
        normalized.sort()
        return "".join(normalized)

    def hash_first_degree_quads(self, id_: str) -> str:
        """RDFC-1.0 section 4.6 "Hash First Degree Quads" with canonical N-Quads."""
        info = self.blank_node_info[id_]
        if "hash" in info:
            cached: str = info["hash"]
            return cached

        def label(value: str) -> str:
            return "_:a" if value == id_ else "_:z"

        templates = self._templates
        nquads = sorted(templates[id(quad)].text(label) for quad in info["quads"])
        digest: str = self.hash_nquads(nquads)
        info["hash"] = digest
        return digest

    def hash_n_degree_quads(self, id_: str, issuer: IdentifierIssuer) -> dict[str, Any]:
        """RDFC-1.0 section 4.8 "Hash N-Degree Quads", charging the work budget.

        pyld's steps unchanged (same permutation order, same pruning in steps 5.4.4.3 and
        5.4.5.5, so the same result), plus one unit per call and per permutation examined
        (step 5.4). Raises ``CANONICALIZATION_LIMIT_EXCEEDED``.
        """
        self._charge(1 + len(self.blank_node_info[id_]["quads"]))
        # 1)-3) hash to related blank nodes map
        hash_to_related = self.create_hash_to_related(id_, issuer)
        # 4) data to hash
        md = self.create_hash()
        # 5) related hashes in order
        for hash_, blank_nodes in sorted(hash_to_related.items()):
            md.update(hash_.encode("utf8"))
            chosen_path = ""
            chosen_issuer = None
            # 5.4) every permutation of the related blank nodes
            for permutation in permutations(blank_nodes):
                self._charge(1 + len(permutation) + len(issuer.order))
                issuer_copy = _copy_issuer(issuer)
                path = ""
                recursion_list = []
                skip = False
                for related in permutation:
                    if self.canonical_issuer.has_id(related):
                        path += self.canonical_issuer.get_id(related)
                    else:
                        if not issuer_copy.has_id(related):
                            recursion_list.append(related)
                        path += issuer_copy.get_id(related)
                    # 5.4.4.3) prune: this path can no longer be the shortest
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                # 5.4.5) recurse into the related nodes without an identifier
                for related in recursion_list:
                    result = self.hash_n_degree_quads(related, issuer_copy)
                    path += issuer_copy.get_id(related)
                    path += "<" + result["hash"] + ">"
                    issuer_copy = result["issuer"]
                    # 5.4.5.5) prune
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                # 5.4.6) keep the smallest path
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            # 5.5)-5.6)
            md.update(chosen_path.encode("utf8"))
            issuer = chosen_issuer
        # 6)
        return {"hash": md.hexdigest(), "issuer": issuer}


HASH_ALGORITHMS = frozenset({"sha256", "sha384"})


def canonical_nquads(dataset: dict[str, list[dict[str, Any]]], hash_name: str = "sha256") -> str:
    """RDFC-1.0 canonical N-Quads of a pyld RDF dataset (the dataset is consumed).

    ``hash_name`` must be one of :data:`HASH_ALGORITHMS` (checked by the caller).
    Raises ``CANONICALIZATION_LIMIT_EXCEEDED`` for a dataset over the work limits (module
    docstring).
    """
    return _Rdfc10(hash_name).canonicalize(dataset)
