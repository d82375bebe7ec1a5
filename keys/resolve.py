"""Verification method retrieval: from a proof's ``verificationMethod`` to a public key.

Implements W3C Controlled Identifiers 1.0, section 3.3 "Retrieve Verification Method"
(the checks that stop a document from supplying its own key or claiming someone
else's): the controller document is dereferenced from the verification method id
without its fragment; its ``id`` must equal that URL; the method must be found in it
with exactly that (absolute) id; the method's ``controller`` must be the document's
``id``; and the method must be listed, by reference or by value, under the requested
verification relationship (``assertionMethod`` for credentials, ``authentication``
for presentations).

Where documents come from:

* ``did:key`` — generated locally (:mod:`keys.didkey`), never fetched;
* documents pinned with :meth:`Resolver.add_document` (e.g. the issuer's own DID
  document, or a vector's controller document) — never fetched;
* ``did:web`` — ``https://<host>/.well-known/did.json`` (or ``/<path>/did.json``) through
  the injected :class:`keys.fetch.Fetcher`;
* ``https:`` controller documents — the URL itself, through the fetcher.

Fetched documents are cached for ``ttl`` seconds of the injected ``clock`` (monotonic by
default) in a :class:`keys.cache.ExpiringCache` bounded in bytes (``max_cache_bytes``,
:data:`MAX_CACHE_BYTES`): entries are kept as their JSON text, so the bound is exact and a
hit parses a fresh copy. A fetched controller document may be at most
``max_document_bytes`` (:data:`MAX_DOCUMENT_BYTES`, 64 KiB; a real DID document is a few
KiB): the cap is passed to a :class:`keys.fetch.ScopedFetcher` so a larger body is refused
while downloading (``FETCH_TOO_LARGE``), before it is parsed. :meth:`Resolver.with_fetcher`
gives a view sharing the pinned documents and the cache but fetching through another
fetcher (one verification's budgeted fetcher). With ``stale_max_age > 0`` the last good
copy of each fetched document is also kept (:mod:`keys.stale`) and used, recorded as a
``key_document`` stale use, when a later fetch fails for an issuer outage. Without a
fetcher only did:key and pinned documents resolve. Fetch failures propagate as the
fetcher's own ``FetchError`` codes (``FETCH_FORBIDDEN_ADDRESS`` etc.) so a report says
why a did:web document was unreachable.

Error codes (all subclasses of ``InvalidVerificationMethodError``, so callers that
only care about "unusable key" catch one class): ``INVALID_VERIFICATION_METHOD_URL``,
``INVALID_CONTROLLED_IDENTIFIER_DOCUMENT``, ``INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID``,
``INVALID_VERIFICATION_METHOD``, ``INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD``
(wrong proof purpose).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from contexts.errors import InvalidVerificationMethodError, MalformedValueError
from keys.cache import ExpiringCache
from keys.didkey import DID_KEY_PREFIX, InvalidDidError, resolve_did_key
from keys.didweb import DID_WEB_PREFIX, did_web_url
from keys.fetch import Fetcher, FetchError, ResponseTooLargeError, ScopedFetcher
from keys.keypair import KeyPair
from keys.stale import StaleStore, StaleUse, is_outage, note_stale_use

__all__ = [
    "MAX_CACHE_BYTES",
    "MAX_DOCUMENT_BYTES",
    "VERIFICATION_RELATIONSHIPS",
    "InvalidControllerDocumentError",
    "InvalidControllerDocumentIdError",
    "InvalidRelationshipError",
    "InvalidVerificationMethodUrlError",
    "Resolver",
    "find_verification_method",
    "key_from_verification_method",
]

#: Largest fetched controller (DID) document accepted, in bytes.
MAX_DOCUMENT_BYTES = 64 * 1024
#: Bytes of fetched documents (as JSON text) one resolver keeps cached.
MAX_CACHE_BYTES = 4 * 1024 * 1024

VERIFICATION_RELATIONSHIPS = frozenset(
    {
        "assertionMethod",
        "authentication",
        "capabilityInvocation",
        "capabilityDelegation",
        "keyAgreement",
    }
)
_PRIVATE_MEMBERS = (
    "secretKeyMultibase",
    "privateKeyMultibase",
    "privateKeyJwk",
    "privateKeyBase58",
)


class InvalidVerificationMethodUrlError(InvalidVerificationMethodError):
    """The verification method id is not a URL we can dereference (CID 1.0 §3.3 step 1)."""

    code = "INVALID_VERIFICATION_METHOD_URL"
    title = "Invalid verification method URL"


class InvalidControllerDocumentError(InvalidVerificationMethodError):
    """The controller document is not a conforming document (CID 1.0 §3.3 step 5)."""

    code = "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT"
    title = "Invalid controlled identifier document"


class InvalidControllerDocumentIdError(InvalidVerificationMethodError):
    """The controller document's ``id`` is not the URL it was retrieved from (step 6)."""

    code = "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID"
    title = "Controlled identifier document id mismatch"


class InvalidRelationshipError(InvalidVerificationMethodError):
    """The method is not authorized for the requested purpose (CID 1.0 §3.3 step 11)."""

    code = "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"
    title = "Verification method not authorized for this purpose"


def _absolute(ref: str, doc_id: str) -> str:
    return doc_id + ref if ref.startswith("#") else ref


def find_verification_method(doc: Mapping[str, Any], vm_id: str) -> dict[str, Any]:
    """The verification method map with absolute id ``vm_id`` in controller document ``doc``.

    Looks in ``verificationMethod`` and in every verification relationship (embedded
    methods); relative ids (``#key-1``) are resolved against ``doc["id"]``. Two different
    maps with the same id make the document invalid. Raises ``INVALID_VERIFICATION_METHOD``
    when there is none and ``INVALID_CONTROLLED_IDENTIFIER_DOCUMENT`` when ambiguous.
    """
    doc_id = doc.get("id")
    if not isinstance(doc_id, str):
        raise InvalidControllerDocumentError("controller document has no string id")
    found: dict[str, Any] | None = None
    for prop in ("verificationMethod", *sorted(VERIFICATION_RELATIONSHIPS)):
        entries = doc.get(prop, [])
        if isinstance(entries, Mapping):
            entries = [entries]
        if not isinstance(entries, list):
            raise InvalidControllerDocumentError(f"controller document {prop} is not a list")
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            entry_id = entry.get("id")
            if isinstance(entry_id, str) and _absolute(entry_id, doc_id) == vm_id:
                if found is not None and found != dict(entry):
                    raise InvalidControllerDocumentError(
                        f"controller document has two different methods with id {vm_id!r}"
                    )
                found = dict(entry)
    if found is None:
        raise InvalidVerificationMethodError(
            f"verification method {vm_id!r} is not in its controller document {doc_id!r}"
        )
    return found


def key_from_verification_method(vm: Mapping[str, Any]) -> KeyPair:
    """The public key of a ``Multikey`` (``publicKeyMultibase``) or ``JsonWebKey`` /
    ``JsonWebKey2020`` (``publicKeyJwk``) verification method, or of a legacy
    ``Ed25519VerificationKey2020``. A method carrying private key material is refused.
    Raises ``INVALID_VERIFICATION_METHOD``.
    """
    vm_type = vm.get("type")
    if any(member in vm for member in _PRIVATE_MEMBERS):
        raise InvalidVerificationMethodError("verification method contains private key material")
    try:
        if vm_type in ("Multikey", "Ed25519VerificationKey2020"):
            value = vm.get("publicKeyMultibase")
            if not isinstance(value, str):
                raise InvalidVerificationMethodError(f"{vm_type} method has no publicKeyMultibase")
            key = KeyPair.from_public_multibase(value)
            if vm_type == "Ed25519VerificationKey2020" and key.key_type != "Ed25519":
                raise InvalidVerificationMethodError(
                    "Ed25519VerificationKey2020 with a non-Ed25519 key"
                )
            return key
        if vm_type in ("JsonWebKey", "JsonWebKey2020"):
            jwk = vm.get("publicKeyJwk")
            if not isinstance(jwk, Mapping):
                raise InvalidVerificationMethodError(f"{vm_type} method has no publicKeyJwk")
            if "d" in jwk:
                raise InvalidVerificationMethodError("publicKeyJwk contains a private key")
            return KeyPair.from_jwk(jwk)
    except MalformedValueError as exc:
        raise InvalidVerificationMethodError(
            f"unusable key in verification method: {exc.detail}"
        ) from exc
    raise InvalidVerificationMethodError(f"unsupported verification method type {vm_type!r}")


class Resolver:
    """Resolves verification method ids to keys, with pinned documents and a TTL cache.

    Thread-safe: the verifier app shares one instance between requests.
    """

    def __init__(
        self,
        fetcher: Fetcher | None = None,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_cache_bytes: int = MAX_CACHE_BYTES,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        stale_max_age: float = 0.0,
    ) -> None:
        self.fetcher = fetcher
        self.ttl = ttl
        self.max_document_bytes = max_document_bytes
        self._pinned: dict[str, dict[str, Any]] = {}
        self._cache: ExpiringCache[str, str] = ExpiringCache(
            max_bytes=max_cache_bytes, sizeof=len, clock=clock
        )
        #: Last good documents for an issuer outage (off unless ``stale_max_age > 0``).
        self._stale: StaleStore[str, str] = StaleStore(
            max_age=stale_max_age, max_bytes=max_cache_bytes, sizeof=len, clock=clock
        )
        self._lock = threading.Lock()

    def with_fetcher(self, fetcher: Fetcher | None) -> Resolver:
        """A view of this resolver that fetches through ``fetcher``.

        The view shares the pinned documents and the cache (what one fetches, the other
        finds); only where new documents come from differs.
        """
        view = copy.copy(self)
        view.fetcher = fetcher
        return view

    def add_document(self, doc: Mapping[str, Any]) -> None:
        """Pin a controller document (keyed by its ``id``); it is served without fetching
        and never expires. Raises ``INVALID_CONTROLLED_IDENTIFIER_DOCUMENT``.
        """
        if not isinstance(doc, Mapping) or not isinstance(doc.get("id"), str) or not doc["id"]:
            raise InvalidControllerDocumentError("a pinned controller document needs a string id")
        if "#" in doc["id"]:
            raise InvalidControllerDocumentError("a controller document id has no fragment")
        with self._lock:
            self._pinned[doc["id"]] = copy.deepcopy(dict(doc))

    def pinned_documents(self) -> list[dict[str, Any]]:
        """Copies of the pinned controller documents (what a worker process needs to resolve
        the same keys offline)."""
        with self._lock:
            return [copy.deepcopy(doc) for doc in self._pinned.values()]

    def clear_cache(self) -> None:
        """Forget fetched documents (pinned ones stay)."""
        with self._lock:
            self._cache.clear()
            self._stale.clear()

    # -- documents ---------------------------------------------------------------------

    def resolve_document(self, url: str) -> dict[str, Any]:
        """The controller document identified by ``url`` (a DID or an https URL, no fragment).

        Checks the document is a JSON object whose ``id`` equals ``url``. Raises the
        module's error codes or the fetcher's ``FetchError`` codes.
        """
        if url.startswith(DID_KEY_PREFIX):
            try:
                return resolve_did_key(url)
            except InvalidDidError as exc:
                raise InvalidVerificationMethodUrlError(exc.detail) from exc
        with self._lock:
            pinned = self._pinned.get(url)
            if pinned is not None:
                return copy.deepcopy(pinned)
        cached = self._cache.get(url)
        if cached is not None:
            parsed: dict[str, Any] = json.loads(cached)
            return parsed
        try:
            doc = self._fetch(url)
        except FetchError as exc:
            stale = self._stale.last_good(url) if is_outage(exc) else None
            if stale is None:
                raise
            text, age = stale
            note_stale_use(StaleUse("key_document", url, age, exc.code))
            last: dict[str, Any] = json.loads(text)
            return last
        text = json.dumps(doc, separators=(",", ":"))
        self._cache.put(url, text, self.ttl)
        self._stale.keep(url, text)
        return doc

    def _fetch(self, url: str) -> dict[str, Any]:
        if url.startswith(DID_WEB_PREFIX):
            try:
                location = did_web_url(url)
            except InvalidDidError as exc:
                raise InvalidVerificationMethodUrlError(exc.detail) from exc
        elif url.startswith("https://"):
            location = url
        else:
            raise InvalidVerificationMethodUrlError(
                f"cannot dereference {url!r}: only did:key, did:web and https controllers"
            )
        if self.fetcher is None:
            raise InvalidVerificationMethodUrlError(
                f"{url!r} needs a network fetch and this resolver has no fetcher"
            )
        if isinstance(self.fetcher, ScopedFetcher):
            doc = self.fetcher.scoped(max_bytes=self.max_document_bytes).get_json(location)
        else:
            doc = self.fetcher.get_json(location)
            size = len(json.dumps(doc, separators=(",", ":")))
            if size > self.max_document_bytes:
                raise ResponseTooLargeError(
                    f"{location}: controller document exceeds {self.max_document_bytes} bytes",
                    url=location,
                )
        if not isinstance(doc, dict):
            raise InvalidControllerDocumentError(
                f"controller document at {location} is not an object"
            )
        if doc.get("id") != url:
            raise InvalidControllerDocumentIdError(
                f"document at {location} has id {doc.get('id')!r}, expected {url!r}"
            )
        return doc

    # -- verification methods ----------------------------------------------------------

    def resolve_verification_method(
        self, vm_id: str, purpose: str = "assertionMethod"
    ) -> tuple[KeyPair, dict[str, Any]]:
        """CID 1.0 §3.3 "Retrieve Verification Method" for ``vm_id`` and ``purpose``.

        Returns the public key (``id`` = ``vm_id``, ``controller`` = the document id) and
        the controller document. Raises the module's error codes (see module docstring)
        or ``FetchError`` codes.
        """
        # Step 1-3: a URL with a fragment; the document URL is everything before it.
        if not isinstance(vm_id, str) or "#" not in vm_id:
            raise InvalidVerificationMethodUrlError(
                f"verification method id must be a URL with a fragment: {vm_id!r}"
            )
        doc_url, _, fragment = vm_id.partition("#")
        if not fragment or not (doc_url.startswith(("did:", "https://"))):
            raise InvalidVerificationMethodUrlError(f"unusable verification method id {vm_id!r}")
        if purpose not in VERIFICATION_RELATIONSHIPS:
            raise InvalidRelationshipError(f"unknown verification relationship {purpose!r}")
        # Steps 4-6: dereference; the document's id was checked against doc_url.
        doc = self.resolve_document(doc_url)
        if doc.get("id") != doc_url:
            raise InvalidControllerDocumentIdError(
                f"controller document id {doc.get('id')!r} is not {doc_url!r}"
            )
        # Steps 7-9: the method with exactly this id.
        vm = find_verification_method(doc, vm_id)
        # Step 10: the method names the document as its controller.
        controller = vm.get("controller")
        if not isinstance(controller, str) or _absolute(controller, doc_url) != doc_url:
            raise InvalidVerificationMethodError(
                f"verification method controller {controller!r} is not {doc_url!r}"
            )
        # Step 8 (conforming method): a public key we support.
        key = key_from_verification_method(vm)
        # Step 11: authorized for this purpose, by reference or embedded.
        refs = doc.get(purpose, [])
        if isinstance(refs, (str, Mapping)):
            refs = [refs]
        if not isinstance(refs, list) or not any(
            (isinstance(r, str) and _absolute(r, doc_url) == vm_id)
            or (
                isinstance(r, Mapping)
                and isinstance(r.get("id"), str)
                and _absolute(r["id"], doc_url) == vm_id
            )
            for r in refs
        ):
            raise InvalidRelationshipError(
                f"verification method {vm_id!r} is not authorized for {purpose} by {doc_url!r}",
                purpose=purpose,
            )
        return key.with_identity(id=vm_id, controller=doc_url), doc
