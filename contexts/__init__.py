"""Pinned JSON-LD contexts, the offline document loader, safe-mode JSON-LD and canonicalization.

Left-most layer: imports nothing else of sijil.
"""
