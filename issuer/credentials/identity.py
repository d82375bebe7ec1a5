"""The learner as an OB 3.0 ``IdentityObject`` pair: salted email hash and plain name.

Open Badges 3.0, section "IdentityObject": ``identityHash`` is ``sha256$`` + hex digest of the
identifier concatenated with ``salt``. The email is lower-cased first so a verifier holding the
learner's address can recompute it. The salt is fixed per learner (see the ``learners`` table) so
all of a learner's awards carry the same hash and an MMS can check its COAs name the same person.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["email_identity", "identity_hash", "learner_identifiers", "name_identity"]


def identity_hash(email: str, salt: str) -> str:
    """``sha256$<hex>`` of the lower-cased, trimmed email followed by the salt."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def email_identity(email: str, salt: str) -> dict[str, Any]:
    """The hashed ``emailAddress`` IdentityObject."""
    return {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": identity_hash(email, salt),
        "salt": salt,
    }


def name_identity(name: str) -> dict[str, Any]:
    """The unhashed ``name`` IdentityObject (the name printed on the certificate)."""
    return {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": name}


def learner_identifiers(email: str, name: str, salt: str) -> list[dict[str, Any]]:
    """``credentialSubject.identifier`` for a learner: [email hash, name]."""
    return [email_identity(email, salt), name_identity(name)]
