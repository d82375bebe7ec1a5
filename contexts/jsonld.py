"""Safe-mode JSON-LD expansion and RDFC-1.0 canonicalization: sijil's one pyld facade.

Why safe mode: pyld (like the JSON-LD algorithms) silently drops a term no context
defines, and silently resolves or drops relative IRIs. A dropped value is never signed,
so a verifier would accept a credential whose visible JSON says something its proof does
not cover. Safe mode turns every such loss into ``DATA_LOSS_DETECTION_ERROR`` (Data
Integrity 1.0, section 4.2 / "Processing Errors"), for signing and verifying alike. The
checks mirror jsonld.js's ``safe: true`` mode (the JavaScript stack most verifiers use):

- a property that expands to nothing or to a non-absolute IRI (undefined term,
  keyword-like term, term mapped to ``null``);
- ``@id`` values that are relative IRIs (no base IRI is ever applied);
- ``@type`` values (node types and literal datatypes) that are not absolute IRIs;
- blank-node predicates, and a document that expands to nothing at all;
- ``{"@value": null}``.

All pyld calls go through :func:`_processor_options`, which installs the offline
:func:`contexts.loader.document_loader` and a private context cache, so nothing here
can fetch a context or be affected by another user of pyld in the same process.

Errors: ``DATA_LOSS_DETECTION_ERROR`` (safe mode), ``CONTEXT_NOT_PINNED`` (a context URL
that is not pinned), ``CONTEXT_INTEGRITY_ERROR`` (tampered pinned file),
``MALFORMED_VALUE_ERROR`` (any other JSON-LD error, e.g. a protected term redefinition;
pyld's own code in ``extra["jsonld_code"]``).

One strict path from JSON-LD failures to problem codes: pyld reports most bad input as its
``JsonLdError``, but some it does not recognise as errors crash inside pyld with a plain
``KeyError`` (``{"@vocab": null}`` in a top-level context), ``ValueError`` (a relative IRI
such as ``"x y"`` as an inner ``@context``) or ``TypeError``. Those three are translated to
``MALFORMED_VALUE_ERROR`` (``jsonld_code`` ``"invalid JSON-LD"``) only when the innermost
frame that raised them is pyld's own code (:func:`raised_inside_pyld`), so a bug of ours
still surfaces as a bug and never as "bad input".

Speed, never at the cost of a different answer: context processing and IRI expansion are
memoized (:mod:`contexts.processor`), pyld's copy of its input takes a JSON fast path
(:mod:`contexts.jsoncopy`), and :func:`canonize` reuses the canonical N-Quads of a document
with the same content (:mod:`contexts.canonical_cache`; only successes are kept). Each is
compared with plain pyld and with the uncached path in the tests.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cachetools import LRUCache
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from contexts.canonical_cache import CanonicalCache, content_key
from contexts.errors import DataLossDetectionError, MalformedValueError, SijilError
from contexts.fastrdf import ABSOLUTE_IRI as _ABSOLUTE_IRI
from contexts.fastrdf import UNSAFE_IRI_CHARS as _UNSAFE_IRI_CHARS
from contexts.fastrdf import graph_triples
from contexts.fastrdf import node_map as fast_node_map
from contexts.jsoncopy import FastCopyDict
from contexts.loader import document_loader
from contexts.processor import (
    PYLD_CRASHES,
    MemoizingProcessor,
    NodeMapProcessor,
    raised_inside_pyld,
)
from contexts.rdfc import HASH_ALGORITHMS, canonical_nquads

__all__ = [
    "JsonLdProcessingError",
    "canonize",
    "check_safe",
    "clear_canonical_cache",
    "expand",
    "fast_dataset",
]

# Shared cache of resolved contexts for our ContextResolver; pinned contexts are
# tagged "static" by the loader and so live here for the life of the process. Private
# to this module so another pyld user (with another loader) can never inject into it.
_RESOLVED_CONTEXT_CACHE: LRUCache[str, Any] = LRUCache(maxsize=256)
# pyld's context caches (cachetools LRUs, also inside each ResolvedContext) are not
# thread-safe; the work is CPU-bound under the GIL anyway, so one lock costs nothing.
_PYLD_LOCK = threading.Lock()

_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")


class JsonLdProcessingError(MalformedValueError):
    """The document is not valid JSON-LD (pyld raised; its code is in ``jsonld_code``)."""


def _processor_options() -> dict[str, Any]:
    return {
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_RESOLVED_CONTEXT_CACHE, document_loader),
        # None, not "": with "" pyld resolves relative IRIs against
        # http://example.org/base/ and they would be signed as that. With None they stay
        # relative and safe mode rejects them.
        "base": None,
        "processingMode": "json-ld-1.1",
        "extractAllScripts": False,
    }


class _DroppedPropertyError(Exception):
    """Internal: raised from pyld's property-dropped hook to stop expansion at once."""

    def __init__(self, expanded_property: str | None) -> None:
        super().__init__(expanded_property)
        self.expanded_property = expanded_property


def _on_property_dropped(expanded_property: str | None) -> None:
    raise _DroppedPropertyError(expanded_property)


def _translate(exc: BaseException) -> SijilError:
    """Find the SijilError pyld wrapped (loader errors), else wrap pyld's error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, SijilError):
            return seen
        seen = seen.__cause__ or seen.__context__
    code = None
    seen = exc
    while seen is not None:
        code = getattr(seen, "code", None) or code
        seen = seen.__cause__
    return JsonLdProcessingError(
        f"invalid JSON-LD: {exc}".splitlines()[0][:300], jsonld_code=code or "unknown"
    )


def _pyld_crash_error(exc: BaseException) -> JsonLdProcessingError:
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    return JsonLdProcessingError(
        f"invalid JSON-LD: the JSON-LD processor rejected the document "
        f"({type(exc).__name__}: {message})".splitlines()[0][:300],
        jsonld_code="invalid JSON-LD",
    )


def _has_null_value(node: Any) -> bool:
    """``{"@value": null}`` is dropped by expansion without any hook firing."""
    if isinstance(node, dict):
        if "@value" in node and node["@value"] is None and node.get("@type") != "@json":
            return True
        return any(
            _has_null_value(value)
            for key, value in node.items()
            if key != "@context" and isinstance(value, dict | list)
        )
    if isinstance(node, list):
        return any(_has_null_value(item) for item in node if isinstance(item, dict | list))
    return False


def _expand_raw(doc: Mapping[str, Any] | list[Any], memoize: bool) -> list[dict[str, Any]]:
    """Expand with our loader; raise DATA_LOSS_DETECTION_ERROR on the first dropped term."""
    if not isinstance(doc, dict | list):
        raise MalformedValueError("a JSON-LD document must be a JSON object or array")
    if _has_null_value(doc):
        raise DataLossDetectionError(
            "a @value is null and would be dropped",
            pointer=_unique_pointer(doc, lambda key, value: key == "@value" and value is None),
        )
    processor = (
        MemoizingProcessor(on_property_dropped=_on_property_dropped)
        if memoize
        else pyld_jsonld.JsonLdProcessor(on_property_dropped=_on_property_dropped)
    )
    # pyld deep-copies its input first; a plain dict is handed over as FastCopyDict so
    # that copy takes the fast JSON path (same copy, a fraction of the time).
    given = FastCopyDict(doc) if type(doc) is dict else doc
    try:
        with _PYLD_LOCK:
            expanded = processor.expand(given, _processor_options())
    except _DroppedPropertyError as dropped:
        raise _dropped_property_error(doc, dropped.expanded_property) from None
    except pyld_jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    except PYLD_CRASHES as exc:
        if not raised_inside_pyld(exc):
            raise
        raise _pyld_crash_error(exc) from exc
    result: list[dict[str, Any]] = expanded
    return result


def _nesting_error() -> MalformedValueError:
    return MalformedValueError("the document is nested too deeply to process")


def _dropped_property_error(
    doc: Mapping[str, Any] | list[Any], expanded_property: str | None
) -> DataLossDetectionError:
    if expanded_property is not None:
        term = expanded_property
        pointer = _unique_pointer(doc, lambda key, _value: key == term)
        return DataLossDetectionError(
            f"term {term!r} is not defined by any context and would be dropped",
            pointer=pointer,
            term=term,
        )
    # pyld passes None for keyword-like keys ("@foo") and terms mapped to null.
    pointer = _unique_pointer(
        doc, lambda key, _value: bool(_KEYWORD_LIKE.match(key)) and key not in _KEYWORDS
    )
    return DataLossDetectionError(
        "a property is a reserved (keyword-like) term or a term mapped to null and would "
        "be dropped",
        pointer=pointer,
    )


_KEYWORDS = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@default",
        "@direction",
        "@embed",
        "@explicit",
        "@first",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@omitDefault",
        "@prefix",
        "@preserve",
        "@propagate",
        "@protected",
        "@requireAll",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)


def _escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Yield (pointer, key, value) for every object member in ``node``, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}/{_escape_pointer(str(key))}"
            yield child, str(key), value
            yield from _walk(value, child)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}/{index}")


def _unique_pointer(doc: Any, predicate: Any) -> str | None:
    """The JSON pointer of the only member matching ``predicate``, if exactly one does."""
    found: list[str] = []
    for pointer, key, value in _walk(doc, ""):
        if predicate(key, value):
            found.append(pointer)
            if len(found) > 1:
                return None
    return found[0] if found else None


def _pointer_to_string(doc: Any, text: str) -> str | None:
    return _unique_pointer(
        doc,
        lambda _key, value: value == text or (isinstance(value, list) and text in value),
    )


def _is_absolute(value: Any) -> bool:
    return isinstance(value, str) and bool(_ABSOLUTE_IRI.match(value))


def _check_iri(iri: str, doc: Any, what: str) -> None:
    """Reject IRIs canonical N-Quads would have to escape (pyld writes them raw)."""
    if _UNSAFE_IRI_CHARS.search(iri) is not None:
        raise DataLossDetectionError(
            f"{what} {iri!r} contains characters not allowed in an IRI",
            pointer=_pointer_to_string(doc, iri),
            value=iri,
        )


def _check_expanded(doc: Mapping[str, Any] | list[Any], expanded: list[dict[str, Any]]) -> None:
    """Safe-mode checks on pyld's expanded output (see the module docstring)."""
    if not expanded and _has_content(doc):
        raise DataLossDetectionError(
            "the document expands to nothing (a free-floating value or an object with only @id)"
        )
    # IRIs already found safe in this document: each is checked once, not at every use.
    passed: set[str] = set()  # absolute IRIs that need no escaping (@id, @type values)
    properties: set[str] = set()  # property IRIs that need no escaping
    stack: list[Any] = list(expanded)
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        is_value = "@value" in node
        for key, value in node.items():
            if key == "@id":
                if type(value) is str and value in passed:
                    continue
                if not _is_absolute(value):
                    raise DataLossDetectionError(
                        f"@id {value!r} is not an absolute IRI (relative IRIs are never resolved)",
                        pointer=_pointer_to_string(doc, value),
                        value=value,
                    )
                _check_iri(value, doc, "@id")
                passed.add(value)
            elif key == "@type":
                for type_ in value if isinstance(value, list) else [value]:
                    if type_ == "@json" and is_value:
                        continue
                    if type(type_) is str and type_ in passed:
                        continue
                    if not _is_absolute(type_):
                        raise DataLossDetectionError(
                            f"type {type_!r} is not defined by any context (not an absolute IRI)",
                            pointer=_pointer_to_string(doc, type_),
                            type=type_,
                        )
                    _check_iri(type_, doc, "type")
                    passed.add(type_)
            elif key == "@value":
                if value is None:
                    raise DataLossDetectionError("a @value is null and would be dropped")
                # never descend into literal values (@json literals are opaque)
            elif key.startswith("@"):
                stack.append(value)
            else:
                if key not in properties:
                    if key.startswith("_:"):
                        raise DataLossDetectionError(
                            f"blank node predicate {key!r} would be dropped", term=key
                        )
                    _check_iri(key, doc, "property")
                    properties.add(key)
                stack.append(value)


def _has_content(doc: Any) -> bool:
    if isinstance(doc, list):
        return any(_has_content(item) for item in doc)
    if isinstance(doc, dict):
        return any(key != "@context" for key in doc)
    return doc is not None


def expand(doc: Mapping[str, Any] | list[Any], *, memoize: bool = True) -> list[dict[str, Any]]:
    """Safe-mode JSON-LD expansion of ``doc`` with the pinned contexts only.

    ``memoize=False`` uses pyld's context processing unmodified (for tests and
    benchmarks; the result is the same, see :mod:`contexts.processor`).
    Raises ``DATA_LOSS_DETECTION_ERROR`` (with a JSON pointer where one can be found),
    ``CONTEXT_NOT_PINNED``, ``CONTEXT_INTEGRITY_ERROR`` or ``MALFORMED_VALUE_ERROR``.
    """
    try:
        expanded = _expand_raw(doc, memoize)
        _check_expanded(doc, expanded)
    except RecursionError:
        raise _nesting_error() from None
    return expanded


def check_safe(doc: Mapping[str, Any] | list[Any]) -> None:
    """Raise what :func:`expand` raises; return None when ``doc`` loses nothing.

    A document the fast path (:mod:`contexts.fastrdf`) turns into RDF passes safe mode, so
    only the ones it declines are expanded by pyld."""
    with _PYLD_LOCK:
        found = fast_node_map(doc, _processor_options())
    if found is None:
        expand(doc)


def _to_dataset(expanded: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """JSON-LD 1.1 "Deserialize JSON-LD to RDF" (section 8.1) from already-expanded input.

    Same steps as pyld's ``JsonLdProcessor.to_rdf`` after its own expansion, so the
    dataset is identical; expanding once saves a second pass over the document.
    """
    processor = NodeMapProcessor()  # pyld's node map without its quadratic duplicate checks
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    processor._create_node_map(expanded, node_map, "@default", issuer)
    return _node_map_to_dataset(
        node_map, lambda graph, options: processor._graph_to_rdf(graph, issuer, options)
    )


def _node_map_to_dataset(
    node_map: dict[str, Any], graph_to_rdf: Callable[[Any, dict[str, Any]], list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """The RDF dataset of a node map, as pyld's ``to_rdf`` makes it (section 8.1 step 1):
    each graph named by an absolute IRI or a blank node, turned into triples by
    ``graph_to_rdf(graph, options)``."""
    options = _processor_options()
    options["produceGeneralizedRdf"] = False
    return {
        graph_name: graph_to_rdf(graph, options)
        for graph_name, graph in sorted(node_map.items())
        if graph_name == "@default" or _is_absolute(graph_name)
    }


def fast_dataset(doc: Mapping[str, Any] | list[Any]) -> dict[str, list[dict[str, Any]]] | None:
    """The RDF dataset of ``doc`` by the one-pass fast path (:mod:`contexts.fastrdf`), or None
    where it declines. When it answers, the dataset is the one :func:`expand` then
    :func:`_to_dataset` would give, and safe mode would have passed the document."""
    with _PYLD_LOCK:
        found = fast_node_map(doc, _processor_options())
    if found is None:
        return None
    node_map, issuer = found
    processor = NodeMapProcessor()
    return _node_map_to_dataset(
        node_map, lambda graph, options: graph_triples(graph, issuer, processor, options)
    )


#: Results of :func:`canonize` by document content (see :mod:`contexts.canonical_cache`).
_CANONICAL_CACHE = CanonicalCache()


def clear_canonical_cache() -> None:
    """Forget every cached canonicalization (benchmarks measure cold with it)."""
    _CANONICAL_CACHE.clear()


def canonize(
    doc: Mapping[str, Any] | list[Any],
    *,
    hash_name: str = "sha256",
    memoize: bool = True,
    cache: bool = True,
) -> str:
    """RDFC-1.0 canonical N-Quads of ``doc`` (safe mode first).

    The "canonicalize" step of the -rdfc- cryptosuites (eddsa-rdfc-2022 section 3.3.1,
    ecdsa-rdfc-2019 section 3.3.1). ``hash_name`` is RDFC-1.0's hash algorithm:
    ``"sha256"`` (default) or ``"sha384"`` (ecdsa-rdfc-2019 with P-384); it only
    changes blank node labels. Output equals pyld 3.3.0's except that literals with
    control characters are escaped as RDFC-1.0 requires (see :mod:`contexts.rdfc`).
    ``memoize`` as for :func:`expand`. ``cache``: reuse the result of an earlier call on
    the same content (:mod:`contexts.canonical_cache`; only successes are kept, so a
    refused document is refused afresh, with the same error, every time); with
    ``memoize=False`` nothing is cached either. Raises what :func:`expand` raises, and
    ``MALFORMED_VALUE_ERROR`` for an unknown ``hash_name``.
    """
    if hash_name not in HASH_ALGORITHMS:
        raise MalformedValueError(f"RDFC-1.0 hash algorithm {hash_name!r} is not supported")
    key = content_key(doc, hash_name) if cache and memoize else None
    if key is not None:
        cached = _CANONICAL_CACHE.get(key)
        if cached is not None:
            return cached
    nquads = _canonize_uncached(doc, hash_name, memoize)
    if key is not None:
        _CANONICAL_CACHE.put(key, nquads)
    return nquads


def _canonize_uncached(doc: Mapping[str, Any] | list[Any], hash_name: str, memoize: bool) -> str:
    dataset = fast_dataset(doc) if memoize else None
    if dataset is None:
        dataset = _reference_dataset(doc, memoize)
    return canonical_nquads(dataset, hash_name)


def _reference_dataset(
    doc: Mapping[str, Any] | list[Any], memoize: bool
) -> dict[str, list[dict[str, Any]]]:
    """Safe-mode expansion, then pyld's node map: the reference path (and every error)."""
    expanded = expand(doc, memoize=memoize)
    try:
        with _PYLD_LOCK:
            return _to_dataset(expanded)
    except pyld_jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    except PYLD_CRASHES as exc:
        if not raised_inside_pyld(exc):
            raise
        raise _pyld_crash_error(exc) from exc
    except RecursionError:
        raise _nesting_error() from None
