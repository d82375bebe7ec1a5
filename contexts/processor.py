"""sijil's pyld processor: pyld 3.3.0 with memoized context processing.

Why: expanding an Open Badges credential re-processes the same type-scoped contexts
(``Achievement``, ``Alignment``, ``IdentityObject``, ...) for every node. pyld caches
processed contexts by the active context's ``_uuid``, but a type-scoped context is
applied to a fresh clone of the active context (``propagate: false``) with a fresh
uuid, so that cache never hits and every node pays for hundreds of term definitions,
a JCS canonicalization of the scoped context (its resolver cache key) and uuid1 calls.
That is more than half of canonicalization time.

What: :class:`MemoizingProcessor` overrides ``JsonLdProcessor._process_context`` and
returns the earlier result for the same (active context, local context, flags). This
is sound because in pyld 3.3.0:

- ``_process_context`` is a pure function of the active context, the local context,
  its flags and the options (always the same here: our loader, ``base`` None,
  JSON-LD 1.1); only contexts that are all pinned URLs (immutable, hash-checked) or
  context objects held by an earlier, cached result are memoized;
- the active contexts it is keyed on and the results it returns are ``frozendict``\\s
  that pyld never mutates (it clones before changing a context);
- each memo entry keeps strong references to its key objects and a hit checks them
  with ``is``, so a recycled ``id()`` can never produce a false hit.

Anything else (inline contexts in the document, unfrozen contexts, calls made while a
context is still being built) goes to pyld unchanged. Output is byte-identical to plain
pyld; ``tests/test_contexts_processor.py`` checks that over the vectors and
hypothesis-generated credentials.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType
from typing import Any

from frozendict import frozendict
from pyld import jsonld as pyld_jsonld

from contexts.loader import pinned_urls

__all__ = [
    "PYLD_CRASHES",
    "MemoizingProcessor",
    "NodeMapProcessor",
    "clear_memo",
    "iri_memo_size",
    "memo_size",
    "raised_inside_pyld",
]

#: Plain Python exceptions pyld lets escape on some malformed contexts (``{"@vocab": null}``
#: in a top-level context raises KeyError, ``"x y"`` as an inner ``@context`` ValueError).
PYLD_CRASHES = (KeyError, ValueError, TypeError)


def raised_inside_pyld(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc``'s traceback belongs to the pyld package, i.e.
    pyld crashed on bad input rather than our own code failing."""
    tb: TracebackType | None = exc.__traceback__
    last: TracebackType | None = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return False
    module = last.tb_frame.f_globals.get("__name__", "")
    return isinstance(module, str) and (module == "pyld" or module.startswith("pyld."))


_MAX_ENTRIES = 512

_lock = threading.Lock()
# key -> (active context, local context, result); LRU order
_memo: OrderedDict[tuple[Any, ...], tuple[Any, Any, Any]] = OrderedDict()


def clear_memo() -> None:
    """Forget every memoized context (tests and benchmarks start cold with it)."""
    with _lock:
        _memo.clear()
        _iri_memo.clear()


def iri_memo_size() -> int:
    """Number of memoized IRI expansions (at most ``_MAX_IRI_ENTRIES``)."""
    return len(_iri_memo)


def memo_size() -> int:
    """Number of memoized processed contexts."""
    with _lock:
        return len(_memo)


def _local_key(local_ctx: Any) -> Any:
    """A key for the local context, or None when it must not be memoized."""
    if isinstance(local_ctx, str):
        return ("url", local_ctx) if local_ctx in pinned_urls() else None
    if isinstance(local_ctx, list):
        pinned = pinned_urls()
        if local_ctx and all(isinstance(url, str) and url in pinned for url in local_ctx):
            return ("urls", tuple(local_ctx))
        return None
    if isinstance(local_ctx, dict | frozendict):
        # Identity: scoped contexts live inside cached, immutable processed contexts.
        return ("object", id(local_ctx))
    return None


#: Most memoized IRI expansions kept (the memo is emptied when it grows past this).
_MAX_IRI_ENTRIES = 8192
# (id(active context), value, base, vocab) -> (active context, expanded IRI)
_iri_memo: dict[tuple[int, str, Any, bool], tuple[Any, Any]] = {}


class MemoizingProcessor(pyld_jsonld.JsonLdProcessor):  # type: ignore[misc]
    """``JsonLdProcessor`` whose context processing and IRI expansion are memoized.

    Context processing: see the module docstring. IRI expansion ("IRI Expansion", JSON-LD
    1.1 API section 5.2): outside context processing (no local context, no ``defined``
    map) pyld's ``_expand_iri`` reads only the active context's ``mappings``, ``@vocab``
    and ``@base``, so for a frozen (immutable) active context its result is a pure
    function of (active context, value, base, vocab). Each entry holds the active context
    it was computed for and a hit checks it with ``is``; the memo is bounded
    (:data:`_MAX_IRI_ENTRIES`). Expanding a credential asks for the same few dozen terms
    hundreds of times.
    """

    def __init__(self, on_property_dropped: Callable[[str | None], None] | None = None) -> None:
        if on_property_dropped is None:
            super().__init__()
        else:
            super().__init__(on_property_dropped=on_property_dropped)

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        local_key = None
        if cycles is None and isinstance(active_ctx, frozendict):
            local_key = _local_key(local_ctx)
        if local_key is None:
            return super()._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected=override_protected,
                propagate=propagate,
                validate_scoped=validate_scoped,
                cycles=cycles,
            )
        key = (
            id(active_ctx),
            local_key,
            override_protected,
            propagate,
            validate_scoped,
            options.get("base"),
            options.get("processingMode"),
        )
        with _lock:
            hit = _memo.get(key)
            if (
                hit is not None
                and hit[0] is active_ctx
                and (local_key[0] != "object" or hit[1] is local_ctx)
            ):
                _memo.move_to_end(key)
                return hit[2]
        result = super()._process_context(
            active_ctx,
            local_ctx,
            options,
            override_protected=override_protected,
            propagate=propagate,
            validate_scoped=validate_scoped,
        )
        if isinstance(result, frozendict):
            with _lock:
                _memo[key] = (active_ctx, local_ctx, result)
                _memo.move_to_end(key)
                while len(_memo) > _MAX_ENTRIES:
                    _memo.popitem(last=False)
        return result

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        if (
            local_ctx is not None
            or defined is not None
            or type(value) is not str
            or not isinstance(active_ctx, frozendict)
            or not (base is None or type(base) is str)
        ):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (id(active_ctx), value, base, bool(vocab))
        hit = _iri_memo.get(key)
        if hit is not None and hit[0] is active_ctx:
            return hit[1]
        result = super()._expand_iri(active_ctx, value, base, vocab)
        if len(_iri_memo) >= _MAX_IRI_ENTRIES:
            _iri_memo.clear()
        _iri_memo[key] = (active_ctx, result)
        return result


# --- node map without quadratic duplicate checks -------------------------------------------


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a JSON value with the same ``==`` (``@json`` literals)."""
    if isinstance(value, dict | frozendict):
        return ("d", frozenset((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("l", tuple(_freeze(v) for v in value))
    return value


def _value_key(value: Any) -> Any:
    """The key under which pyld's ``compare_values`` finds ``value`` equal to another.

    Primitives: equal values, where a bool only equals a bool. Value objects: same
    ``@type``, ``@language``, ``@index`` and ``@value`` (the same bool rule). Node
    references: same ``@id``. Anything else (lists) equals nothing: ``None``.
    """
    if not pyld_jsonld._is_object(value):
        return ("p", isinstance(value, bool), value)
    if "@value" in value:
        literal = value["@value"]
        return (
            "v",
            value.get("@type"),
            value.get("@language"),
            value.get("@index"),
            isinstance(literal, bool),
            _freeze(literal),
        )
    if value.get("@id") is not None:
        return ("id", value["@id"])
    return None


class NodeMapProcessor(pyld_jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's "Node Map Generation" (JSON-LD 1.1 API section 7.2) with indexed duplicate checks.

    Why: pyld adds each value to a node's property with ``add_value(..., allowDuplicate=
    False)``, which scans every value already there, so a node with k values for one
    property costs k²/2 comparisons: a 200 KB credential whose subject lists 10,000 node
    references took 30 s to turn into RDF. Here the same steps run in the same order, but
    "is this value already there" is a set lookup keyed like pyld's ``compare_values``
    (:func:`_value_key`), so the node map (and the RDF dataset) is identical in linear
    time. Use one instance per node map.
    """

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[int, str], set[Any]] = {}
        self._absolute: dict[str, bool] = {}

    def _is_absolute(self, value: str) -> bool:
        """pyld's ``_is_absolute_iri`` test, computed once per distinct string."""
        known = self._absolute.get(value)
        if known is None:
            known = self._absolute[value] = bool(pyld_jsonld._is_absolute_iri(value))
        return known

    def _graph_to_rdf(
        self, graph: dict[str, Any], issuer: Any, options: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """pyld 3.3.0's ``_graph_to_rdf`` ("Deserialize JSON-LD to RDF", JSON-LD 1.1 API
        section 8.1, steps 1.3-1.4) with its per-value checks done once per node and
        property: the subject's and predicate's "is absolute IRI" and "is a blank-node
        predicate" do not depend on the value, so skipping them for every value of a
        property at once skips the same triples. Same triples, same order, same blank node
        identifiers (values of skipped properties are never converted, as in pyld).
        """
        triples: list[dict[str, Any]] = []
        generalized = options["produceGeneralizedRdf"]
        for id_, node in sorted(graph.items()):
            subject_type = "blank node" if id_.startswith("_:") else "IRI"
            subject_is_absolute = self._is_absolute(id_)
            for property_, items in sorted(node.items()):
                if property_ == "@type":
                    property_ = pyld_jsonld.RDF_TYPE
                elif pyld_jsonld._is_keyword(property_):
                    continue
                if not (subject_is_absolute and self._is_absolute(property_)):
                    continue
                if property_.startswith("_:"):
                    if not generalized:
                        continue
                    predicate_type = "blank node"
                else:
                    predicate_type = "IRI"
                for item in items:
                    object_ = self._object_to_rdf(item, issuer, triples, options)
                    if object_ is not None:
                        triples.append(
                            {
                                "subject": {"type": subject_type, "value": id_},
                                "predicate": {"type": predicate_type, "value": property_},
                                "object": object_,
                            }
                        )
        return triples

    def _add_unique(self, subject: dict[str, Any], prop: str, value: Any) -> None:
        """``add_value(subject, prop, value, propertyIsArray=True, allowDuplicate=False)``."""
        key = _value_key(value)
        seen = self._seen.setdefault((id(subject), prop), set())
        if prop in subject:
            if key is not None and key in seen:
                return
            subject[prop].append(value)
        else:
            subject[prop] = [value]
        if key is not None:
            seen.add(key)

    def _create_node_map(
        self,
        input_: Any,
        graph_map: dict[str, Any],
        active_graph: str,
        issuer: Any,
        active_subject: Any = None,
        active_property: Any = None,
        list_: Any = None,
    ) -> None:
        """pyld 3.3.0's ``_create_node_map``, step for step, with :meth:`_add_unique`."""
        if pyld_jsonld._is_array(input_):
            for e in input_:
                self._create_node_map(
                    e, graph_map, active_graph, issuer, active_subject, active_property, list_
                )
            return
        subject_node = (
            graph_map.setdefault(active_graph, {}).get(active_subject)
            if pyld_jsonld._is_string(active_subject)
            else None
        )
        if "@type" in input_:
            for type_ in input_["@type"]:
                if type_.startswith("_:"):
                    issuer.get_id(type_)
        if pyld_jsonld._is_value(input_):
            if "@type" in input_:
                type_ = input_["@type"]
                if type_.startswith("_:"):
                    type_ = input_["@type"] = issuer.get_id(type_)
            if list_:
                list_["@list"].append(input_)
            elif subject_node:
                self._add_unique(subject_node, active_property, input_)
            return
        if pyld_jsonld._is_list(input_):
            o: dict[str, Any] = {"@list": []}
            self._create_node_map(
                input_["@list"], graph_map, active_graph, issuer, active_subject, active_property, o
            )
            if list_:
                list_["@list"].append(o)
            elif subject_node:
                pyld_jsonld.JsonLdProcessor.add_value(
                    subject_node,
                    active_property,
                    o,
                    {"propertyIsArray": True, "allowDuplicate": True},
                )
            return
        id_ = input_.get("@id")
        if pyld_jsonld._is_bnode(input_):
            id_ = issuer.get_id(id_)
        node = graph_map.setdefault(active_graph, {}).setdefault(id_, {"@id": id_})
        if pyld_jsonld._is_object(active_subject):
            self._add_unique(node, active_property, active_subject)
        elif active_property:
            reference = {"@id": id_}
            if list_:
                list_["@list"].append(reference)
            elif subject_node:
                self._add_unique(subject_node, active_property, reference)
        for prop, objects in sorted(input_.items()):
            if prop == "@id":
                continue
            if prop == "@reverse":
                referenced_node = {"@id": id_}
                for reverse_property, items in input_["@reverse"].items():
                    for item in items:
                        self._create_node_map(
                            item,
                            graph_map,
                            active_graph,
                            issuer,
                            active_subject=referenced_node,
                            active_property=reverse_property,
                        )
                continue
            if prop == "@graph":
                graph_map.setdefault(id_, {})
                g = active_graph if active_graph == "@merged" else id_
                self._create_node_map(objects, graph_map, g, issuer)
                continue
            if prop == "@included":
                self._create_node_map(objects, graph_map, active_graph, issuer)
                continue
            if prop != "@type" and pyld_jsonld._is_keyword(prop):
                if (
                    prop == "@index"
                    and "@index" in node
                    and (
                        input_["@index"] != node["@index"]
                        or input_["@index"]["@id"] != node["@index"]["@id"]
                    )
                ):
                    raise pyld_jsonld.JsonLdError(
                        "Invalid JSON-LD syntax; conflicting @index property  detected.",
                        "jsonld.SyntaxError",
                        {"node": node},
                        code="conflicting indexes",
                    )
                node[prop] = input_[prop]
                continue
            if prop.startswith("_:"):
                prop = issuer.get_id(prop)
            if len(objects) == 0:
                pyld_jsonld.JsonLdProcessor.add_value(node, prop, [], {"propertyIsArray": True})
                continue
            for obj in objects:
                if prop == "@type":
                    obj = issuer.get_id(obj) if obj.startswith("_:") else obj
                    self._add_unique(node, prop, obj)
                else:
                    self._create_node_map(
                        obj,
                        graph_map,
                        active_graph,
                        issuer,
                        active_subject=id_,
                        active_property=prop,
                    )
