"""Key material, Multikey, JWK, DIDs (did:key, did:web), the safe fetcher and Data Integrity.

Imports only :mod:`contexts`. Importing :mod:`keys` registers did:key with
:func:`contexts.loader.register_document`, so pyld can dereference did:key URLs offline.

Modules: :mod:`keys.multibase`, :mod:`keys.keypair`, :mod:`keys.jwk` (the one jwcrypto
facade), :mod:`keys.didkey`, :mod:`keys.didweb`, :mod:`keys.fetch` (the one outbound
HTTP client), :mod:`keys.resolve` (verification method retrieval), :mod:`keys.keystore`
(keys encrypted at rest), :mod:`keys.dataintegrity` and :mod:`keys.jose`.
"""

from __future__ import annotations

from keys.didkey import did_key_for, resolve_did_key
from keys.didweb import build_did_document, did_web_for, did_web_url
from keys.fetch import Fetcher, FetchError, FetchResponse, ForbiddenAddressError, SafeFetcher
from keys.keypair import EcdsaKeyPair, Ed25519KeyPair, KeyPair, KeyType, load_keypair
from keys.keystore import KeyStore
from keys.resolve import Resolver

__all__ = [
    "EcdsaKeyPair",
    "Ed25519KeyPair",
    "FetchError",
    "FetchResponse",
    "Fetcher",
    "ForbiddenAddressError",
    "KeyPair",
    "KeyStore",
    "KeyType",
    "Resolver",
    "SafeFetcher",
    "build_did_document",
    "did_key_for",
    "did_web_for",
    "did_web_url",
    "load_keypair",
    "resolve_did_key",
]
