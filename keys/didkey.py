"""did:key: a DID that is its own public key (W3C CCG "The did:key Method v0.7").

``did:key:`` + ``publicKeyMultibase``. Resolution needs no network: the DID document
is generated from the key, in the current Multikey form (the form
@digitalbazaar/did-method-key 5.x produces, see
``vectors/did-key/generated/multikey-did-documents.json``): one ``Multikey``
verification method with id ``did:key:X#X``, referenced from ``authentication``,
``assertionMethod``, ``capabilityDelegation`` and ``capabilityInvocation``. No
``keyAgreement`` (X25519) key is derived: sijil only signs and verifies.

Only Ed25519, P-256 and P-384 keys are accepted; any other multicodec or a malformed
DID is ``INVALID_DID`` (a ``MALFORMED_VALUE_ERROR`` subclass).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from contexts import loader
from contexts.errors import MalformedValueError
from keys.keypair import KeyPair

__all__ = [
    "DID_KEY_CONTEXTS",
    "DID_KEY_PREFIX",
    "MULTIKEY_CONTEXT",
    "InvalidDidError",
    "dereference_did_key",
    "did_key_for",
    "install_did_key_loader",
    "key_for_did_key",
    "resolve_did_key",
]

DID_KEY_PREFIX = "did:key:"
DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
DID_KEY_CONTEXTS = (DID_V1_CONTEXT, MULTIKEY_CONTEXT)

_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityDelegation",
    "capabilityInvocation",
)


class InvalidDidError(MalformedValueError):
    """A DID is not well-formed for its method (DID Resolution ``invalidDid``)."""

    code = "INVALID_DID"
    title = "Invalid DID"


def did_key_for(key: KeyPair) -> str:
    """The did:key DID of ``key`` (``did:key:`` + its ``publicKeyMultibase``)."""
    return DID_KEY_PREFIX + key.public_key_multibase


def _split(did_or_url: str) -> tuple[str, str, str | None]:
    """(did, multibase, fragment) of a did:key DID or DID URL. INVALID_DID."""
    if not isinstance(did_or_url, str) or not did_or_url.startswith(DID_KEY_PREFIX):
        raise InvalidDidError(f"not a did:key DID: {did_or_url!r}")
    did, _, fragment = did_or_url.partition("#")
    if "?" in did or "/" in did:
        raise InvalidDidError(f"did:key DID URLs with a path or query are not supported: {did!r}")
    mb = did[len(DID_KEY_PREFIX) :]
    if ":" in mb or not mb.startswith("z"):
        raise InvalidDidError(f"did:key method-specific id must be a 'z' multibase key: {did!r}")
    return did, mb, (fragment if "#" in did_or_url else None)


def key_for_did_key(did_or_url: str) -> KeyPair:
    """The public key of a did:key, with ``id`` = ``did:key:X#X`` and ``controller`` = DID.

    Raises ``INVALID_DID`` for a malformed DID, an unsupported key type or a fragment
    other than the key's own.
    """
    did, mb, fragment = _split(did_or_url)
    if fragment is not None and fragment != mb:
        raise InvalidDidError(f"did:key verification method fragment must be #{mb}")
    try:
        key = KeyPair.from_public_multibase(mb, id=f"{did}#{mb}", controller=did)
    except MalformedValueError as exc:
        raise InvalidDidError(f"did:key does not encode a supported key: {exc.detail}") from exc
    return key


def resolve_did_key(did_or_url: str) -> dict[str, Any]:
    """The Multikey-form DID document of a did:key DID (a fragment is ignored if it is
    the key's own). Raises ``INVALID_DID``.

    A pure function of its argument, resolved once per distinct DID (bounded cache; a
    fresh copy each call, refusals are not cached).
    """
    if not isinstance(did_or_url, str):
        return _did_key_document(did_or_url)  # refused there, with INVALID_DID
    document: dict[str, Any] = json.loads(_did_key_document_text(did_or_url))
    return document


@lru_cache(maxsize=1024)
def _did_key_document_text(did_or_url: str) -> str:
    return json.dumps(_did_key_document(did_or_url))


def _did_key_document(did_or_url: str) -> dict[str, Any]:
    key = key_for_did_key(did_or_url)
    did = key.controller
    vm_id = key.id
    return {
        "@context": list(DID_KEY_CONTEXTS),
        "id": did,
        "verificationMethod": [
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key_multibase,
            }
        ],
        **{rel: [vm_id] for rel in _RELATIONSHIPS},
    }


def dereference_did_key(did_or_url: str) -> dict[str, Any]:
    """What a JSON-LD document loader returns for a did:key URL.

    A DID URL ``did:key:X#X`` dereferences to its verification method with
    ``"@context": MULTIKEY_CONTEXT`` (as @digitalbazaar/did-method-key does); a bare DID
    to the whole DID document. Raises ``INVALID_DID``.
    """
    _, _, fragment = _split(did_or_url)
    doc = resolve_did_key(did_or_url)
    if fragment is None:
        return doc
    vm: dict[str, Any] = {"@context": MULTIKEY_CONTEXT, **doc["verificationMethod"][0]}
    return vm


def _loader_resolver(url: str) -> dict[str, Any] | None:
    try:
        return dereference_did_key(url)
    except InvalidDidError:
        return None  # the loader then answers CONTEXT_NOT_PINNED


def install_did_key_loader() -> None:
    """Serve ``did:key:`` URLs from :func:`contexts.loader.document_loader` (idempotent).

    Called when this module is imported, so any use of :mod:`keys` makes did:key
    documents dereferenceable offline by pyld.
    """
    loader.register_document(DID_KEY_PREFIX, _loader_resolver)


install_did_key_loader()
