"""Signed test credentials for the verifier's web tests (never imports :mod:`issuer`).

A COA in sijil's format (ARCHITECTURE.md "Credential formats"), issued by a did:key and signed
with :func:`keys.dataintegrity.add_proof`, and a helper to tamper with it. (Status lists and
MMSs come from ``verifier_fixtures``, the core's test builders.)
"""

from __future__ import annotations

import copy
import struct
import uuid
import zlib
from typing import Any

from keys.dataintegrity import add_proof
from keys.didkey import did_key_for
from keys.keypair import KeyPair

__all__ = [
    "ACHIEVEMENT_NAME",
    "ISSUER_NAME",
    "LEARNER_NAME",
    "TINY_SVG",
    "coa",
    "issuer_key",
    "sign",
    "tampered",
    "tiny_png",
]

ISSUER_NAME = "Universiti Contoh Malaysia"
LEARNER_NAME = "Nur Aisyah binti Ahmad"
ACHIEVEMENT_NAME = "Data Analytics Fundamentals"
CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://w3id.org/sijil/v1",
]
BASE = "https://sijil.example.my"


def issuer_key() -> KeyPair:
    """A fresh Ed25519 issuer key whose controller is its did:key."""
    key = KeyPair.generate("Ed25519")
    did = did_key_for(key)
    return KeyPair.from_multikey(
        {**key.to_multikey(include_secret=True), "id": f"{did}#{did[8:]}", "controller": did}
    )


def coa(
    key: KeyPair,
    *,
    valid_from: str = "2026-01-15T00:00:00Z",
    valid_until: str | None = None,
    status: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An unsigned Certificate of Achievement from ``key``'s did:key (``status``: one entry
    object, as the OB 3.0 schema allows, or a list)."""
    did = did_key_for(key)
    doc: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": f"{BASE}/credentials/{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Certificate of Achievement: {ACHIEVEMENT_NAME}",
        "awardType": "COA",
        "issuer": {
            "id": did,
            "type": ["Profile"],
            "name": ISSUER_NAME,
            "url": "https://uni.example.my",
        },
        "validFrom": valid_from,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": "sha256$"
                    "3f2d7b1c2a3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd",
                    "salt": "pepper-1",
                },
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": LEARNER_NAME,
                },
            ],
            "achievement": {
                "id": f"{BASE}/achievements/DAF101/coa",
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": ACHIEVEMENT_NAME,
                "description": "Descriptive statistics, data cleaning and visualisation.",
                "criteria": {"narrative": "Pass the final assessment with at least 50%."},
                "humanCode": "DAF101",
                "creditsAvailable": 3,
                "sltHours": 120,
                "mqfLevel": 6,
                "deliveryMode": "online",
                "microCredentialCategory": "stand-alone",
            },
            "creditsEarned": 3,
        },
    }
    if valid_until is not None:
        doc["validUntil"] = valid_until
    if status is not None:
        doc["credentialStatus"] = status
    return doc


def sign(doc: dict[str, Any], key: KeyPair) -> dict[str, Any]:
    """``doc`` secured with an eddsa-rdfc-2022 proof by ``key``."""
    return add_proof(doc, key, created="2026-01-15T00:00:00Z")


def tampered(signed: dict[str, Any]) -> dict[str, Any]:
    """``signed`` with the learner's credits changed after signing."""
    out = copy.deepcopy(signed)
    out["credentialSubject"]["creditsEarned"] = 30
    return out


def tiny_png() -> bytes:
    """A valid 1x1 white PNG (for baking)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="#0b4f8a"/></svg>'
)
