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
(milliseconds, section 2.2), else ``default_ttl`` seconds, and never past its ``validUntil``,
in a :class:`keys.cache.ExpiringCache` of at most ``max_cache_bytes`` (decoded lists).
The cache's clock is injected (``clock``, seconds) and monotonic by default, so a wall-clock
step back never makes a stale list look fresh. With ``stale_max_age > 0`` the last verified
copy of each list is also kept (:mod:`keys.stale`) and used, recorded as a ``status_list``
stale use, when a later fetch fails for an issuer outage (never past the list's
``validUntil``, never for a list that was never fetched).

Bounds: a credential with more than ``max_status_entries`` (:data:`MAX_STATUS_ENTRIES`)
entries is not checked at all (``STATUS_ENTRY_LIMIT_EXCEEDED``, read as "could not check
status": each entry may cost a fetch); a status list credential may be at most
:data:`MAX_STATUS_LIST_BYTES` (through a :class:`keys.fetch.ScopedFetcher`). An entry of a
type this verifier does not manage (VC Data Model 2.0 allows any ``credentialStatus``
type) is a warning, ``UNSUPPORTED_STATUS_TYPE``, not a failure.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contexts.errors import MalformedValueError, SijilError
from keys.cache import ExpiringCache
from keys.dataintegrity import VerificationMethodResolver, verify_proofs
from keys.fetch import Fetcher, FetchError, ScopedFetcher
from keys.stale import StaleStore, StaleUse, is_outage, note_stale_use

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
    "MAX_STATUS_CACHE_BYTES",
    "MAX_STATUS_ENTRIES",
    "MAX_STATUS_LIST_BYTES",
    "STATUS_LIST_ACCEPT",
    "StatusEntryLimitError",
    "StatusList",
    "StatusListClient",
    "parse_status_index",
]

#: Most ``credentialStatus`` entries checked for one credential.
MAX_STATUS_ENTRIES = 4
#: Largest status list credential fetched, in bytes (131,072 entries of 16 random bits
#: encode to about 350 KiB; an all-zero list to a few hundred bytes).
MAX_STATUS_LIST_BYTES = 512 * 1024
#: Decoded status lists one client keeps cached, in bytes.
MAX_STATUS_CACHE_BYTES = 16 * 1024 * 1024
_LIST_OVERHEAD = 1024


class StatusEntryLimitError(StatusRetrievalError):
    """More ``credentialStatus`` entries than this verifier checks for one credential.

    A retrieval error on purpose: the status is unknown ("could not check"), not bad.
    """

    code = "STATUS_ENTRY_LIMIT_EXCEEDED"
    title = "Too many status entries to check"


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
        max_cache_bytes: int = MAX_STATUS_CACHE_BYTES,
        max_status_entries: int = MAX_STATUS_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        stale_max_age: float = 0.0,
    ) -> None:
        self._fetcher = fetcher
        self._resolver = resolver
        self._default_ttl = default_ttl
        self.max_status_entries = max_status_entries
        self._cache: ExpiringCache[tuple[str, bool], StatusList] = ExpiringCache(
            max_bytes=max_cache_bytes,
            sizeof=lambda status_list: len(status_list.bits.data) + _LIST_OVERHEAD,
            clock=clock,
        )
        #: Last good lists for an issuer outage (off unless ``stale_max_age > 0``).
        self._stale: StaleStore[tuple[str, bool], StatusList] = StaleStore(
            max_age=stale_max_age,
            max_bytes=max_cache_bytes,
            sizeof=lambda status_list: len(status_list.bits.data) + _LIST_OVERHEAD,
            clock=clock,
        )

    @property
    def fetcher(self) -> Fetcher:
        """Where status lists come from."""
        return self._fetcher

    @property
    def resolver(self) -> VerificationMethodResolver:
        """Where the status lists' signing keys come from."""
        return self._resolver

    def with_fetcher(
        self,
        fetcher: Fetcher,
        resolver: VerificationMethodResolver,
        *,
        max_status_entries: int | None = None,
    ) -> StatusListClient:
        """A view sharing this client's cache that fetches lists through ``fetcher`` and
        their keys through ``resolver`` (one verification's budgeted fetcher)."""
        view = copy.copy(self)
        view._fetcher = fetcher
        view._resolver = resolver
        if max_status_entries is not None:
            view.max_status_entries = max_status_entries
        return view

    def clear(self) -> None:
        """Forget every cached list."""
        self._cache.clear()
        self._stale.clear()

    def _cached(self, key: tuple[str, bool], at: datetime) -> StatusList | None:
        status_list = self._cache.get(key)
        if status_list is None:
            return None
        if status_list.valid_until is not None and at >= status_list.valid_until:
            return None
        return status_list

    def _store(self, key: tuple[str, bool], status_list: StatusList) -> None:
        ttl = status_list.ttl_seconds if status_list.ttl_seconds is not None else self._default_ttl
        self._cache.put(key, status_list, ttl)

    def get_list(self, url: str, *, at: datetime, issuer_binding: bool = True) -> StatusList:
        """The verified list at ``url`` (cached). Raises ``STATUS_RETRIEVAL_ERROR`` /
        ``STATUS_VERIFICATION_ERROR`` / ``MALFORMED_VALUE_ERROR``."""
        key = (url, issuer_binding)
        cached = self._cached(key, at)
        if cached is not None:
            return cached
        fetcher = self._fetcher
        if isinstance(fetcher, ScopedFetcher):
            fetcher = fetcher.scoped(max_bytes=MAX_STATUS_LIST_BYTES)
        try:
            document = fetcher.get_json(url, accept=STATUS_LIST_ACCEPT)
        except FetchError as exc:
            stale = self._stale.last_good(key) if is_outage(exc) else None
            if stale is not None and not (
                stale[0].valid_until is not None and at >= stale[0].valid_until
            ):
                note_stale_use(StaleUse("status_list", url, stale[1], exc.code))
                return stale[0]
            raise StatusRetrievalError(
                f"Could not fetch the status list {url}: {exc.detail}",
                status_list=url,
                cause=exc.code,
            ) from None
        status_list = self._verify_list(url, document, at=at, issuer_binding=issuer_binding)
        self._store(key, status_list)
        self._stale.keep(key, status_list)
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
        bit is reported even when another list could not be fetched). More than
        ``max_status_entries`` entries raise ``STATUS_ENTRY_LIMIT_EXCEEDED`` before any
        fetch. Entries of a type other than ``BitstringStatusListEntry`` are warnings
        (``UNSUPPORTED_STATUS_TYPE``): the outcome is ``warning`` when nothing else failed.
        """
        entries = credential.status_entries
        if not entries:
            return Outcome(
                "The credential has no status entry, so its issuer cannot revoke it.",
                state="skipped",
            )
        if len(entries) > self.max_status_entries:
            raise StatusEntryLimitError(
                f"Could not check status: the credential has {len(entries)} status entries; "
                f"this verifier checks at most {self.max_status_entries}.",
                pointer="/credentialStatus",
                entries=len(entries),
            )
        results: list[str] = []
        errors: list[SijilError] = []
        unsupported: list[UnsupportedStatusTypeError] = []
        for entry in entries:
            if "BitstringStatusListEntry" not in entry.type:
                unsupported.append(
                    UnsupportedStatusTypeError(
                        "Cannot check this status type: "
                        f"{', '.join(entry.type) or 'none'} is not one this verifier manages.",
                        pointer=entry.pointer,
                    )
                )
                continue
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
        if not unsupported:
            return Outcome("Checked with the issuer's status list: " + ", ".join(results) + ".")
        skipped = f"{len(unsupported)} status entr{'y' if len(unsupported) == 1 else 'ies'} "
        skipped += "of a type this verifier cannot check"
        if results:
            message = f"Checked with the issuer's status list: {', '.join(results)}; {skipped}."
        else:
            message = f"Cannot check this status type: {skipped}."
        return Outcome(message, state="warning", warnings=tuple(unsupported))
