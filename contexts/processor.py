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
from typing import Any

from frozendict import frozendict
from pyld import jsonld as pyld_jsonld

from contexts.loader import pinned_urls

__all__ = ["MemoizingProcessor", "clear_memo", "memo_size"]

_MAX_ENTRIES = 512

_lock = threading.Lock()
# key -> (active context, local context, result); LRU order
_memo: OrderedDict[tuple[Any, ...], tuple[Any, Any, Any]] = OrderedDict()


def clear_memo() -> None:
    """Forget every memoized context (tests and benchmarks start cold with it)."""
    with _lock:
        _memo.clear()


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


class MemoizingProcessor(pyld_jsonld.JsonLdProcessor):  # type: ignore[misc]
    """``JsonLdProcessor`` whose context processing is memoized (see module docstring)."""

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
