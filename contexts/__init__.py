"""Pinned JSON-LD contexts, the offline document loader, safe-mode JSON-LD and canonicalization.

Left-most layer: imports nothing else of sijil. Public modules: :mod:`contexts.loader`
(pinned contexts, ``document_loader``), :mod:`contexts.jsonld` (``expand``, ``canonize``,
``check_safe``, ``clear_canonical_cache``), :mod:`contexts.jcs` (``canonicalize``),
:mod:`contexts.jsoncopy` (``copy_json``), :mod:`contexts.errors`. Internal:
:mod:`contexts.canonical_cache` (canonicalization results by content), :mod:`contexts.rdfc`,
:mod:`contexts.processor`.
"""

from __future__ import annotations

from contexts.loader import (
    BSL_V1,
    CID_V1,
    CLR_V2P0,
    DATA_INTEGRITY_V1,
    DATA_INTEGRITY_V2,
    MULTIKEY_V1,
    OB_V3P0,
    SIJIL_CONTEXT_URL,
    VC_V1,
    VC_V2,
)

__all__ = [
    "BSL_V1",
    "CID_V1",
    "CLR_V2P0",
    "DATA_INTEGRITY_V1",
    "DATA_INTEGRITY_V2",
    "MULTIKEY_V1",
    "OB_V3P0",
    "SIJIL_CONTEXT_URL",
    "VC_V1",
    "VC_V2",
]
