"""Compact JSON-LD straight to pyld's node map: the fast path of canonicalization.

Why: turning a credential into RDF took three passes, each in pure Python: pyld's expansion
(a full copy of the document, then an expanded copy), the safe-mode walk over that copy, and
pyld's node map. Together they were ~80 % of a cold eddsa-rdfc-2022 sign or verify. The
credentials sijil signs and the ones verifiers are sent use a small part of JSON-LD: node
objects with ``@id`` and ``@type``, plain strings, numbers and booleans, typed literals
coerced by the context, IRIs coerced by ``@type: @id``/``@vocab``, ``@set`` and ``@graph``
containers, pinned contexts with type- and property-scoped contexts. For those one walk over
the compact document can build the node map directly.

What: :func:`node_map` returns the node map that pyld's expansion followed by
:class:`contexts.processor.NodeMapProcessor` builds for the same document, entry for entry:
same blank node labels (``_:b0``, ``_:b1``, ... issued in the same order), same nodes, same
values in the same order. It gets there by doing what pyld does, in pyld's order:

- every context decision is pyld's own code, called the way pyld's ``_expand`` calls it
  (``_process_context`` for property-, type- and embedded contexts with the same flags,
  ``_revert_to_previous_context`` under the same conditions, ``_prepare_nested_context``,
  ``_expand_iri`` for keys, ``@id``, ``@type`` and coerced values, ``get_context_value``),
  on the memoizing processor (:mod:`contexts.processor`);
- value expansion follows pyld's ``_expand_value`` branch for branch;
- blank node labels are issued in the order pyld's node map generation visits the expanded
  document: a node's own label first, then its properties in order of their expanded IRI
  (keys expanding to the same IRI in key order), values in document order, a ``@graph``
  container's graph node before the node inside it;
- values are added with :meth:`NodeMapProcessor._add_unique`, pyld's duplicate rule.

Whatever is outside that subset makes it decline (return None) instead of guessing: any
keyword other than ``@context``/``@id``/``@type`` (``@value``, ``@list``, ``@graph``,
``@reverse``, ``@included``, ``@nest``, ``@index``, ...), containers other than
``@set``/``@graph``, ``@json`` terms, reverse terms, language or direction defaults, null
values, empty or nested arrays, blank node identifiers written in the document, and every
case pyld's safe mode (:mod:`contexts.jsonld`) would refuse: a key that does not expand to
an absolute IRI, a relative or unsafe ``@id``/``@type``/datatype/IRI value, a blank node
predicate, a document that expands to nothing. pyld errors raised while processing contexts
decline too. The caller then takes the reference path (pyld expansion, safe-mode checks,
node map), which gives the answer or the error, so the fast path never accepts what the
reference refuses and never changes what the reference accepts.
``tests/test_contexts_fastrdf.py`` compares the two node maps over every vector and a
hypothesis corpus of mutated credentials.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from frozendict import frozendict
from pyld import jsonld as pyld_jsonld
from pyld.identifier_issuer import IdentifierIssuer

from contexts.processor import (
    PYLD_CRASHES,
    MemoizingProcessor,
    NodeMapProcessor,
    raised_inside_pyld,
)

__all__ = ["ABSOLUTE_IRI", "UNSAFE_IRI_CHARS", "clear_plans", "graph_triples", "node_map"]

_get = pyld_jsonld.JsonLdProcessor.get_context_value
_is_keyword = pyld_jsonld._is_keyword
_RDF_TYPE = pyld_jsonld.RDF_TYPE
_XSD_STRING = pyld_jsonld.XSD_STRING
_XSD_DOUBLE = pyld_jsonld.XSD_DOUBLE
#: pyld's own absolute-IRI test (``_is_absolute_iri``): a scheme, or a blank node label.
ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
#: Characters RDF 1.2 N-Triples excludes from IRIREF (canonical N-Quads would need UCHAR
#: escapes); safe mode refuses IRIs holding them.
UNSAFE_IRI_CHARS = re.compile('[\u0000-\u0020<>"{}|^`\\\\]')
_PLAIN_CONTAINERS = frozenset({"@set"})
_GRAPH_CONTAINERS = frozenset({"@graph"}), frozenset({"@graph", "@set"})
_NO_TYPE = (None, "@id", "@vocab", "@none")

#: What a key means in an active context, decided once (see :func:`_plan`).
_ID, _TYPE, _DECLINE = "id", "type", "decline"


class _OutsideSubsetError(Exception):
    """Internal: the document is outside the fast path's subset."""


def _safe_iri(value: Any) -> bool:
    """An absolute IRI safe mode accepts, not a blank node label."""
    return (
        type(value) is str
        and not value.startswith("_:")
        and ABSOLUTE_IRI.match(value) is not None
        and UNSAFE_IRI_CHARS.search(value) is None
    )


class _Property:
    """How the values of one key expand in one active context (pyld's decisions, once)."""

    __slots__ = ("expanded", "in_graph", "key", "term_ctx", "value_type")

    def __init__(
        self, key: str, expanded: str, term_ctx: Any, in_graph: bool, value_type: Any
    ) -> None:
        self.key = key
        self.expanded = expanded
        self.term_ctx = term_ctx
        self.in_graph = in_graph
        #: None/"@none" plain literal, "@id"/"@vocab" IRI for strings, else a datatype IRI.
        self.value_type = value_type


class _ContextPlans:
    """What the fast path has worked out about one active context (all pure functions of it)."""

    __slots__ = ("context", "keys", "nested")

    def __init__(self, context: Any) -> None:
        self.context = context  # held, so the id() it is filed under cannot be recycled
        self.keys: dict[str, Any] = {}
        # (local context, type entries) -> pyld _prepare_nested_context's result
        self.nested: dict[tuple[Any, ...], tuple[Any, Any]] = {}


#: Plans per active context, LRU. Bounded like the processed-context memo of
#: contexts.processor (whose immutable contexts these are): at most _MAX_CONTEXTS contexts
#: and _MAX_KEYS entries each, so hostile documents cannot grow it.
_PLANS: OrderedDict[int, _ContextPlans] = OrderedDict()
_MAX_CONTEXTS = 512
_MAX_KEYS = 1024


def clear_plans() -> None:
    """Forget every plan (tests and benchmarks start cold with it)."""
    _PLANS.clear()


def _plans_for(active_ctx: Any) -> _ContextPlans:
    plans = _PLANS.get(id(active_ctx))
    if plans is not None and plans.context is active_ctx:
        _PLANS.move_to_end(id(active_ctx))
        return plans
    plans = _ContextPlans(active_ctx)
    if type(active_ctx) is frozendict:  # pyld never mutates these
        _PLANS[id(active_ctx)] = plans
        if len(_PLANS) > _MAX_CONTEXTS:
            _PLANS.popitem(last=False)
    return plans


def _plan(p: MemoizingProcessor, plans: _ContextPlans, key: str, options: dict[str, Any]) -> Any:
    """_ID, _TYPE, _DECLINE or a :class:`_Property` for ``key`` in ``plans.context``."""
    plan = plans.keys.get(key)
    if plan is None:
        plan = _make_plan(p, plans.context, key, options)
        if len(plans.keys) < _MAX_KEYS:
            plans.keys[key] = plan
    return plan


def _make_plan(p: MemoizingProcessor, active_ctx: Any, key: str, options: dict[str, Any]) -> Any:
    """Everything here depends on the context and the key only, as in pyld's
    ``_expand_object`` and ``_expand_value``: the expanded key, the term's scoped context,
    its container, its type coercion, and whether safe mode or the fast path's subset rule
    it out."""
    expanded = p._expand_iri(active_ctx, key, vocab=True)
    if type(expanded) is not str:
        return _DECLINE  # dropped: an undefined keyword-like term or a term mapped to null
    if _is_keyword(expanded):
        return _ID if expanded == "@id" else _TYPE if expanded == "@type" else _DECLINE
    if not _safe_iri(expanded):
        return _DECLINE  # relative (undefined term), a blank node predicate, unsafe characters
    scoped = _get(active_ctx, key, "@context")
    term_ctx = (
        active_ctx
        if scoped is None
        else p._process_context(
            active_ctx, scoped, options, propagate=True, override_protected=True
        )
    )
    container = _get(active_ctx, key, "@container")
    if term_ctx is not active_ctx and _get(term_ctx, key, "@container") != container:
        return _DECLINE  # pyld reads the container of array values from term_ctx
    containers = frozenset(
        () if container is None else container if type(container) is list else [container]
    )
    in_graph = containers in _GRAPH_CONTAINERS
    if not (in_graph or containers <= _PLAIN_CONTAINERS):
        return _DECLINE
    if _get(active_ctx, key, "@type") == "@json":
        return _DECLINE
    mapping = term_ctx["mappings"].get(key)
    if mapping and mapping.get("reverse"):
        return _DECLINE
    # _expand_value, for scalar values (its checks use term_ctx)
    if _is_keyword(p._expand_iri(term_ctx, key, vocab=True)):
        return _DECLINE
    value_type = _get(term_ctx, key, "@type")
    if value_type not in _NO_TYPE and not _safe_iri(value_type):
        return _DECLINE  # a datatype safe mode refuses
    if value_type in (None, "@none") and (
        _get(term_ctx, key, "@language") is not None
        or _get(term_ctx, key, "@direction") is not None
    ):
        return _DECLINE  # language-tagged strings
    return _Property(key, expanded, term_ctx, in_graph, value_type)


class _Walker:
    """One walk over one compact document, building pyld's node map."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.p = MemoizingProcessor()
        self.options = options
        self.issuer = IdentifierIssuer("_:b")
        self.graphs: dict[str, dict[str, Any]] = {"@default": {}}
        # NodeMapProcessor._add_unique's index: (id(node), property) -> value keys
        self.seen: dict[tuple[int, str], set[Any]] = {}

    def iri(self, value: Any) -> str:
        if not _safe_iri(value):
            raise _OutsideSubsetError
        result: str = value
        return result

    def add(self, node: dict[str, Any], prop: str, value: Any, key: Any) -> None:
        """``NodeMapProcessor._add_unique`` with the value's key computed by the caller."""
        seen = self.seen.setdefault((id(node), prop), set())
        if key in seen:
            return
        seen.add(key)
        values = node.get(prop)
        if values is None:
            node[prop] = [value]
        else:
            values.append(value)

    def node(
        self,
        active_ctx: Any,
        active_property: str | None,
        element: Mapping[str, Any],
        graph: str,
        parent: tuple[dict[str, Any], str] | None,
    ) -> None:
        """pyld ``_expand`` of a node object, then its node map entry (see module docstring)."""
        p = self.p
        options = self.options
        # contexts, as pyld's _expand does for an object element outside lists and indexes
        property_scoped_ctx = _get(active_ctx, active_property, "@context")
        type_scoped_ctx = active_ctx if active_ctx.get("previousContext") else None
        must_revert = True
        if type_scoped_ctx and len(element) <= 2 and "@context" not in element:
            for key in sorted(element):
                expanded = p._expand_iri(type_scoped_ctx, key, vocab=True)
                if expanded == "@value":
                    raise _OutsideSubsetError
                if expanded == "@id" and len(element) == 1:
                    must_revert = False
                    break
        if must_revert:
            active_ctx = p._revert_to_previous_context(active_ctx)
        if property_scoped_ctx is not None:
            active_ctx = p._process_context(
                active_ctx, property_scoped_ctx, options, override_protected=True
            )
        active_ctx, type_scoped_ctx = self.prepare_nested(active_ctx, element)

        # keys, as pyld's _expand_object
        node_id: str | None = None
        types: list[tuple[str, str]] = []  # (key, expanded type)
        properties: list[tuple[str, str, _Property, Any]] = []
        plans = _plans_for(active_ctx)
        for key, value in element.items():
            if key == "@context":
                continue
            plan = _plan(p, plans, key, options)
            if type(plan) is _Property:
                properties.append((plan.expanded, key, plan, value))
            elif plan is _ID:
                if node_id is not None or type(value) is not str:
                    raise _OutsideSubsetError  # colliding keywords, or not a string
                node_id = self.iri(p._expand_iri(active_ctx, value, base=options["base"]))
            elif plan is _TYPE:
                values = value if type(value) is list else [value]
                if not values:
                    raise _OutsideSubsetError
                for type_ in values:
                    if type(type_) is not str:
                        raise _OutsideSubsetError
                    expanded_type = p._expand_iri(
                        type_scoped_ctx, type_, vocab=True, base=options["base"]
                    )
                    types.append((key, self.iri(expanded_type)))
            else:
                raise _OutsideSubsetError
        if parent is None and active_property is None and not types and not properties:
            raise _OutsideSubsetError  # top level with nothing (or only @id): expands to nothing

        # node map entry, as pyld's _create_node_map visits the expanded node
        if node_id is None:
            node_id = self.issuer.get_id(None)
        node = self.graphs.setdefault(graph, {}).setdefault(node_id, {"@id": node_id})
        if parent is not None:
            self.add(parent[0], parent[1], {"@id": node_id}, ("id", node_id))
        if types:
            types.sort(key=itemgetter(0))
            for _key, type_ in types:
                self.add(node, "@type", type_, ("p", False, type_))
        properties.sort(key=itemgetter(0, 1))
        for expanded, _key, plan, value in properties:
            values = value if type(value) is list else [value]
            if not values:
                raise _OutsideSubsetError
            for item in values:
                if type(item) is dict or isinstance(item, Mapping):
                    if plan.in_graph:
                        graph_id = self.issuer.get_id(None)
                        self.graphs[graph].setdefault(graph_id, {"@id": graph_id})
                        self.add(node, expanded, {"@id": graph_id}, ("id", graph_id))
                        self.graphs.setdefault(graph_id, {})
                        self.node(plan.term_ctx, plan.key, item, graph_id, None)
                    else:
                        self.node(plan.term_ctx, plan.key, item, graph, (node, expanded))
                elif plan.in_graph:
                    raise _OutsideSubsetError
                else:
                    self.scalar(plan, item, graph, node)

    def prepare_nested(self, active_ctx: Any, element: Mapping[str, Any]) -> tuple[Any, Any]:
        """pyld's ``_prepare_nested_context`` (embedded context, then type-scoped contexts),
        remembered per (active context, embedded context URLs, type entries).

        Returns (active context, type-scoped context). Only the embedded context and the
        entries that expand to ``@type`` enter pyld's function, so equal ones give the same
        result; an embedded context that is not a URL or a list of URLs is not remembered.
        """
        p = self.p
        local: Any = None
        if "@context" in element:
            local = element["@context"]
            if type(local) is list and all(type(url) is str for url in local):
                local = tuple(local)
            elif type(local) is not str:
                _ctx, _type_key, scoped = p._prepare_nested_context(
                    active_ctx, element, self.options
                )
                return _ctx, scoped
            local_ctx = p._process_context(active_ctx, element["@context"], self.options)
        else:
            local_ctx = active_ctx
        local_plans = _plans_for(local_ctx)
        entries: list[Any] = [local]
        for key in element:
            if key != "@context" and _plan(p, local_plans, key, self.options) is _TYPE:
                value = element[key]
                entries.append((key, tuple(value) if type(value) is list else value))
        signature = tuple(entries)
        plans = _plans_for(active_ctx)
        try:
            found = plans.nested.get(signature)
        except TypeError:  # an unhashable @type value: pyld decides (and refuses)
            found = None
            signature = None  # type: ignore[assignment]
        if found is None:
            result, _type_key, scoped = p._prepare_nested_context(active_ctx, element, self.options)
            found = (result, scoped)
            if signature is not None and len(plans.nested) < _MAX_KEYS:
                plans.nested[signature] = found
        return found

    def scalar(self, plan: _Property, value: Any, graph: str, node: dict[str, Any]) -> None:
        """pyld ``_expand_value``, then the value's node map entry."""
        kind = type(value)
        if kind is str:
            if plan.value_type in (None, "@none"):
                self.add(
                    node, plan.expanded, {"@value": value}, ("v", None, None, None, False, value)
                )
                return
            if plan.value_type in ("@id", "@vocab"):
                target = self.iri(
                    self.p._expand_iri(
                        plan.term_ctx,
                        value,
                        vocab=plan.value_type == "@vocab",
                        base=self.options["base"],
                    )
                )
                self.graphs[graph].setdefault(target, {"@id": target})
                self.add(node, plan.expanded, {"@id": target}, ("id", target))
                return
        elif kind is not int and kind is not float and kind is not bool:
            raise _OutsideSubsetError  # null, a nested array
        literal: dict[str, Any] = {}
        datatype = None
        if plan.value_type not in _NO_TYPE:
            literal["@type"] = datatype = plan.value_type
        literal["@value"] = value
        self.add(node, plan.expanded, literal, ("v", datatype, None, None, kind is bool, value))


def graph_triples(
    graph: dict[str, Any], issuer: IdentifierIssuer, processor: NodeMapProcessor, options: Any
) -> list[dict[str, Any]]:
    """The triples of one graph of a :func:`node_map` result, as pyld's ``_graph_to_rdf``
    gives them (same triples, same order). Every IRI in such a node map is already known to
    be absolute, so the per-value checks are skipped; literals other than strings go through
    pyld's own ``_object_to_rdf`` (numbers, booleans, doubles)."""
    triples: list[dict[str, Any]] = []
    object_to_rdf = processor._object_to_rdf
    rdf_type = {"type": "IRI", "value": _RDF_TYPE}
    # Component dicts are shared between triples: contexts.rdfc never mutates them.
    for id_, node in sorted(graph.items()):
        subject = {"type": "blank node" if id_.startswith("_:") else "IRI", "value": id_}
        for property_, items in sorted(node.items()):
            if property_ == "@type":
                for type_ in items:
                    triples.append(
                        {
                            "subject": subject,
                            "predicate": rdf_type,
                            "object": {
                                "type": "blank node" if type_.startswith("_:") else "IRI",
                                "value": type_,
                            },
                        }
                    )
                continue
            if property_ == "@id":
                continue
            predicate = {"type": "IRI", "value": property_}
            for item in items:
                target = item.get("@id")
                if target is not None:
                    object_ = {
                        "type": "blank node" if target.startswith("_:") else "IRI",
                        "value": target,
                    }
                else:
                    value = item["@value"]
                    datatype = item.get("@type")
                    if type(value) is str and datatype != _XSD_DOUBLE:
                        object_ = {
                            "type": "literal",
                            "value": value,
                            "datatype": datatype or _XSD_STRING,
                        }
                    else:
                        object_ = object_to_rdf(item, issuer, triples, options)
                triples.append({"subject": subject, "predicate": predicate, "object": object_})
    return triples


def node_map(doc: Any, options: dict[str, Any]) -> tuple[dict[str, Any], IdentifierIssuer] | None:
    """pyld's node map of ``doc`` (a compact JSON-LD object), or None to take the reference path.

    ``options`` are the expansion options of :mod:`contexts.jsonld` (offline loader, base
    None, JSON-LD 1.1). Returns the node map and the identifier issuer that labelled it.
    Turn it into RDF with :func:`graph_triples`. Call with pyld's lock held (its context
    caches are not thread-safe).
    """
    if type(doc) is not dict:
        return None
    options = {**options, "isFrame": False, "keepFreeFloatingNodes": False}
    walker = _Walker(options)
    try:
        walker.node(walker.p._get_initial_context(options), None, doc, "@default", None)
    except _OutsideSubsetError:
        return None
    except pyld_jsonld.JsonLdError:
        return None  # the reference path reports it, with its own mapping to a problem code
    except RecursionError:
        return None
    except PYLD_CRASHES as exc:
        if not raised_inside_pyld(exc):
            raise
        return None
    return walker.graphs, walker.issuer
