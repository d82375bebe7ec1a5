"""Fetchers for documents the verifier already holds: pinned status lists and DID documents.

:class:`MappingFetcher` implements :class:`keys.fetch.Fetcher` over a fixed URL -> document
map, optionally falling back to another fetcher. It is for offline verification of documents
an operator pinned on purpose (a status list shipped with an archive, a conformance vector
whose URLs point at hosts that do not exist); it never opens a connection itself.

Errors: ``FETCH_ERROR`` (URL not in the map and no fallback).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from keys.fetch import DEFAULT_JSON_ACCEPT, Fetcher, FetchError, FetchResponse, ScopedFetcher

__all__ = ["MappingFetcher"]


class MappingFetcher:
    """A :class:`keys.fetch.Fetcher` serving ``documents`` (URL -> parsed JSON)."""

    def __init__(self, documents: Mapping[str, Any], *, fallback: Fetcher | None = None) -> None:
        self._documents = dict(documents)
        self._fallback = fallback
        self.requests: list[str] = []

    def scoped(
        self, *, deadline: float | None = None, max_bytes: int | None = None
    ) -> MappingFetcher:
        """A view whose fallback (when it is a :class:`keys.fetch.ScopedFetcher`) has the
        given limits; pinned documents are served as they are. ``requests`` is shared."""
        view = copy.copy(self)
        if isinstance(self._fallback, ScopedFetcher):
            view._fallback = self._fallback.scoped(deadline=deadline, max_bytes=max_bytes)
        return view

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The pinned document for ``url`` (a deep copy), else the fallback's answer."""
        self.requests.append(url)
        if url in self._documents:
            return copy.deepcopy(self._documents[url])
        if self._fallback is not None:
            return self._fallback.get_json(url, accept=accept)
        raise FetchError(f"{url} is not one of the pinned documents", url=url)

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The pinned document for ``url`` as a JSON response, else the fallback's answer."""
        self.requests.append(url)
        if url in self._documents:
            body = json.dumps(self._documents[url]).encode("utf-8")
            return FetchResponse(
                url=url, status=200, headers={"content-type": "application/json"}, body=body
            )
        if self._fallback is not None:
            return self._fallback.get_bytes(url, accept=accept)
        raise FetchError(f"{url} is not one of the pinned documents", url=url)
