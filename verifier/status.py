"""The status check: Bitstring Status List v1.0 entries, verified and cached.

For every ``BitstringStatusListEntry`` of a credential, :class:`StatusListClient` follows
BSL 1.0 section 3.2 ("Validate Algorithm"):

1. fetch ``statusListCredential`` through the injected :class:`keys.fetch.Fetcher`
   (:class:`keys.fetch.SafeFetcher` in production); failure is ``STATUS_RETRIEVAL_ERROR``;
2. verify it: its Data Integrity proof, type ``BitstringStatusListCredential``, its validity
   period, its issuer being the credential's issuer, and ``statusPurpose`` matching the
   entry's; any failure is ``STATUS_VERIFICATION_ERROR``;
3. expand ``encodedList`` (:mod:`verifier.bitstring`): ``MALFORMED_VALUE_ERROR``,
   ``STATUS_LIST_LENGTH_ERROR`` (fewer than 131,072 entries), ``RANGE_ERROR`` (index outside);
   ``statusListIndex`` must be a decimal string (``MALFORMED_VALUE_ERROR``);
4. read the entry: a set revocation bit raises ``CREDENTIAL_REVOKED``, a set suspension bit
   ``CREDENTIAL_SUSPENDED``; a ``message`` purpose reports its ``statusMessage``.

A list that cannot be fetched or verified is never read as "not revoked": the report says
"could not check status". Verified lists are cached per URL for the list's ``ttl``
(milliseconds, section 2.2), else ``default_ttl`` seconds, and never past its ``validUntil``.
The clock for the cache is injected (``clock``, seconds).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contexts.errors import MalformedValueError, SijilError
from keys.dataintegrity import VerificationMethodResolver, verify_proofs
from keys.fetch import Fetcher, FetchError

from .bitstring import Bitstring, decode_list
from .errors import (
    CredentialRevokedError,
    CredentialSuspendedError,
    StatusRetrievalError,
    StatusVerificationError,
    UnsupportedStatusTypeError,
)
from .models import Credential, StatusEntry, as_list, parse_credential, types_of
from .outcome import Outcome
from .validity import CLOCK_SKEW, format_date

__all__ = [
    "STATUS_LIST_ACCEPT",
    "StatusList",
    "StatusListClient",
    "parse_status_index",
]

STATUS_LIST_ACCEPT = "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8"
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class StatusList:
    """A fetched, verified status list credential, decoded."""

    url: str
    issuer: str
    purposes: frozenset[str]
    bits: Bitstring
    valid_until: datetime | None
    ttl_seconds: float | None
    messages: tuple[Mapping[str, Any], ...] = ()


def parse_status_index(value: Any, pointer: str) -> int:
    """``statusListIndex`` as an int; it must be a decimal string (BSL 1.0 section 2.1)."""
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise MalformedValueError(
            f"statusListIndex must be a decimal string, not {value!r}.",
            pointer=pointer + "/statusListIndex",
        )
    return int(value)


def _status_size(entry: StatusEntry) -> int:
    size = entry.status_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size > 16:
        raise MalformedValueError(
            f"statusSize must be an integer from 1 to 16, not {size!r}.",
            pointer=entry.pointer + "/statusSize",
        )
    return size


class StatusListClient:
    """Fetches, verifies, decodes and caches status list credentials.

    Thread-safe (the web app shares one). ``issuer_binding`` is applied to the list's own
    proof as to the credential's.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        resolver: VerificationMethodResolver,
        *,
        default_ttl: float = 300.0,
        max_entries: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetcher = fetcher
        self._resolver = resolver
        self._default_ttl = default_ttl
        self._max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[tuple[str, bool], tuple[float, StatusList]] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cached list."""
        with self._lock:
            self._cache.clear()

    def _cached(self, key: tuple[str, bool], at: datetime) -> StatusList | None:
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            expires, status_list = hit
            if self._clock() >= expires or (
                status_list.valid_until is not None and at >= status_list.valid_until
            ):
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return status_list

    def _store(self, key: tuple[str, bool], status_list: StatusList) -> None:
        ttl = status_list.ttl_seconds if status_list.ttl_seconds is not None else self._default_ttl
        with self._lock:
            self._cache[key] = (self._clock() + ttl, status_list)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)

    def get_list(self, url: str, *, at: datetime, issuer_binding: bool = True) -> StatusList:
        """The verified list at ``url`` (cached). Raises ``STATUS_RETRIEVAL_ERROR`` /
        ``STATUS_VERIFICATION_ERROR`` / ``MALFORMED_VALUE_ERROR``."""
        key = (url, issuer_binding)
        cached = self._cached(key, at)
        if cached is not None:
            return cached
        try:
            document = self._fetcher.get_json(url, accept=STATUS_LIST_ACCEPT)
        except FetchError as exc:
            raise StatusRetrievalError(
                f"Could not fetch the status list {url}: {exc.detail}",
                status_list=url,
                cause=exc.code,
            ) from None
        status_list = self._verify_list(url, document, at=at, issuer_binding=issuer_binding)
        self._store(key, status_list)
        return status_list

    def _verify_list(
        self, url: str, document: Any, *, at: datetime, issuer_binding: bool
    ) -> StatusList:
        """BSL 1.0 section 3.2 steps on the status list credential itself."""
        if not isinstance(document, Mapping):
            raise StatusVerificationError(
                f"The status list {url} is not a JSON object.", status_list=url
            )
        if "BitstringStatusListCredential" not in types_of(document):
            raise StatusVerificationError(
                f"{url} is not a BitstringStatusListCredential.", status_list=url
            )
        try:
            verify_proofs(document, self._resolver, at=at, issuer_binding=issuer_binding)
            model = parse_credential(document)
        except SijilError as exc:
            raise StatusVerificationError(
                f"The status list {url} failed verification ({exc.code}: {exc.detail}).",
                status_list=url,
                cause=exc.code,
            ) from None
        if model.valid_from is not None and model.valid_from - at > CLOCK_SKEW:
            raise StatusVerificationError(
                f"The status list {url} is not valid until {format_date(model.valid_from)}.",
                status_list=url,
            )
        if model.valid_until is not None and at - model.valid_until >= CLOCK_SKEW:
            raise StatusVerificationError(
                f"The status list {url} expired on {format_date(model.valid_until)}.",
                status_list=url,
            )
        subject = model.subject.raw
        if "BitstringStatusList" not in types_of(subject):
            raise StatusVerificationError(
                f"The status list {url} has no BitstringStatusList subject.", status_list=url
            )
        purposes = frozenset(p for p in as_list(subject.get("statusPurpose")) if isinstance(p, str))
        bits = decode_list(subject.get("encodedList"))
        ttl = subject.get("ttl")
        ttl_seconds = (
            ttl / 1000.0
            if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl >= 0
            else None
        )
        messages = tuple(m for m in as_list(subject.get("statusMessage")) if isinstance(m, Mapping))
        return StatusList(
            url=url,
            issuer=model.issuer.id,
            purposes=purposes,
            bits=bits,
            valid_until=model.valid_until,
            ttl_seconds=ttl_seconds,
            messages=messages,
        )

    def check_entry(
        self, credential: Credential, entry: StatusEntry, *, at: datetime, issuer_binding: bool
    ) -> str:
        """Check one entry; returns a sentence, or raises (see module docstring)."""
        if "BitstringStatusListEntry" not in entry.type:
            raise UnsupportedStatusTypeError(
                f"Could not check status: the status type {', '.join(entry.type) or 'none'} "
                "is not supported.",
                pointer=entry.pointer,
            )
        purpose = entry.status_purpose
        if not purpose:
            raise MalformedValueError(
                "The status entry has no statusPurpose.", pointer=entry.pointer + "/statusPurpose"
            )
        url = entry.status_list_credential
        if not url:
            raise MalformedValueError(
                "The status entry has no statusListCredential URL.",
                pointer=entry.pointer + "/statusListCredential",
            )
        index = parse_status_index(entry.status_list_index, entry.pointer)
        size = _status_size(entry)
        status_list = self.get_list(url, at=at, issuer_binding=issuer_binding)
        if status_list.issuer != credential.issuer.id:
            raise StatusVerificationError(
                f"The status list {url} is issued by {status_list.issuer}, not by the "
                f"credential's issuer {credential.issuer.id}.",
                status_list=url,
            )
        if purpose not in status_list.purposes:
            raise StatusVerificationError(
                f"The status list {url} is for {', '.join(sorted(status_list.purposes))}, "
                f"not {purpose}.",
                status_list=url,
            )
        status_list.bits.check_length(size)
        value = status_list.bits.get(index, size)
        if purpose == "revocation":
            if value:
                raise CredentialRevokedError(
                    "The issuer has revoked this credential.", pointer=entry.pointer
                )
            return "not revoked"
        if purpose == "suspension":
            if value:
                raise CredentialSuspendedError(
                    "The issuer has suspended this credential.", pointer=entry.pointer
                )
            return "not suspended"
        label = f"0x{value:x}"
        for message in status_list.messages:
            if message.get("status") == label:
                return f"{purpose}: {message.get('message', label)}"
        return f"{purpose} status {label}"

    def check(
        self, credential: Credential, *, at: datetime, issuer_binding: bool = True
    ) -> Outcome:
        """Check every status entry of ``credential``.

        Raises the one error, or an ``ExceptionGroup`` when several entries fail (a revoked
        bit is reported even when another list could not be fetched).
        """
        if not credential.status_entries:
            return Outcome(
                "The credential has no status entry, so its issuer cannot revoke it.",
                state="skipped",
            )
        results: list[str] = []
        errors: list[SijilError] = []
        for entry in credential.status_entries:
            try:
                results.append(
                    self.check_entry(credential, entry, at=at, issuer_binding=issuer_binding)
                )
            except SijilError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ExceptionGroup("status", errors)
        return Outcome("Checked with the issuer's status list: " + ", ".join(results) + ".")
