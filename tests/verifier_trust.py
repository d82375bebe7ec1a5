"""Trust lists for the tests: a verifier recognises only the issuers it is told to.

Without a trust list every good signature reads ``unknown_issuer`` (never ``valid``), so tests
that expect ``valid`` pass the trust list of their test issuer, built here from its key, its DID
or the credentials themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keys.didkey import did_key_for
from keys.keypair import KeyPair
from verifier.trust import TrustedIssuer, TrustList, trust_list_json

__all__ = ["ISSUER_NAME", "issuer_of", "trust_file", "trust_for"]

#: The name the test credentials give their issuer (verifier_web_credentials, verifier_fixtures).
ISSUER_NAME = "Universiti Contoh Malaysia"


def issuer_of(item: KeyPair | str | Mapping[str, Any]) -> str:
    """The issuer id for a key (its did:key), a DID / URL, or a credential's ``issuer``."""
    if isinstance(item, KeyPair):
        return did_key_for(item)
    if isinstance(item, str):
        return item
    issuer = item.get("issuer")
    found = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not isinstance(found, str):
        raise ValueError("the credential names no issuer")
    return found


def trust_for(*items: KeyPair | str | Mapping[str, Any], name: str = ISSUER_NAME) -> TrustList:
    """A trust list recognising the issuers of ``items`` under ``name``."""
    return TrustList.from_issuers(TrustedIssuer(issuer_of(i), name) for i in items)


def trust_file(
    directory: Path, *items: KeyPair | str | Mapping[str, Any], name: str = ISSUER_NAME
) -> Path:
    """``trust_for(...)`` written as sijil's trust file in ``directory``; returns its path."""
    path = directory / "trusted-issuers.json"
    path.write_text(trust_list_json(trust_for(*items, name=name).issuers.values()), "utf-8")
    return path
