"""Signed COAs, COCs, MMSs and status lists in sijil's format, built for the verifier tests.

Follows ARCHITECTURE.md "Credential formats" without importing :mod:`issuer` (the verifier's
tests must not depend on the issuer). Keys come from fixed seeds, so runs are reproducible;
issuers are did:keys (resolved locally, no network).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from keys.dataintegrity import add_proof
from keys.didkey import did_key_for
from keys.keypair import Ed25519KeyPair, KeyPair
from verifier.bitstring import Bitstring, encode_list

__all__ = [
    "BASE",
    "COA_CONTEXT",
    "MMS_CONTEXT",
    "Learner",
    "build_coa",
    "build_mms",
    "coa_for",
    "key_from_seed",
    "sign",
    "status_entry",
    "status_list",
    "vm_of",
]

BASE = "https://registry.example.edu.my"
VC2 = "https://www.w3.org/ns/credentials/v2"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR201 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
SIJIL = "https://w3id.org/sijil/v1"
COA_CONTEXT = [VC2, OB303, SIJIL]
MMS_CONTEXT = [VC2, CLR201, OB303, SIJIL]
CREATED = "2026-01-15T00:00:00Z"


def key_from_seed(seed: int) -> KeyPair:
    """A deterministic Ed25519 key (32 bytes of ``seed``)."""
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    return Ed25519KeyPair(private)


def vm_of(key: KeyPair) -> str:
    """The did:key verification method id of ``key``."""
    did = did_key_for(key)
    return f"{did}#{key.public_key_multibase}"


def sign(doc: dict[str, Any], key: KeyPair, **options: Any) -> dict[str, Any]:
    """``doc`` with an eddsa-rdfc-2022 proof by ``key`` (did:key verification method)."""
    return add_proof(doc, key, verification_method=vm_of(key), created=CREATED, **options)


@dataclass(frozen=True)
class Learner:
    """A learner: name, email, constant salt and optional DID."""

    name: str
    email: str
    salt: str
    did: str | None = None

    def identifiers(self) -> list[dict[str, Any]]:
        """The two OB 3.0 IdentityObjects of ARCHITECTURE.md."""
        digest = hashlib.sha256((self.email.lower() + self.salt).encode()).hexdigest()
        return [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": "sha256$" + digest,
                "salt": self.salt,
            },
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": self.name,
            },
        ]

    def subject(self, subject_type: str) -> dict[str, Any]:
        """The start of a credentialSubject for this learner."""
        out: dict[str, Any] = {"type": [subject_type], "identifier": self.identifiers()}
        if self.did is not None:
            out["id"] = self.did
        return out


def issuer_profile(key: KeyPair, name: str = "Universiti Contoh Malaysia") -> dict[str, Any]:
    """The issuer Profile for ``key``'s did:key."""
    return {
        "id": did_key_for(key),
        "type": ["Profile"],
        "name": name,
        "url": "https://www.example.edu.my",
        "email": "registrar@example.edu.my",
    }


def status_entry(list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """A BitstringStatusListEntry."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list(
    key: KeyPair,
    list_url: str,
    *,
    set_bits: Sequence[int] = (),
    purpose: str = "revocation",
    entries: int = 131_072,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A signed BitstringStatusListCredential by ``key``'s did:key."""
    bits = Bitstring.zeros(entries).with_bits(set_bits)
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encode_list(bits),
    }
    if extra:
        subject.update(extra)
    doc = {
        "@context": [VC2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did_key_for(key),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subject,
    }
    return sign(doc, key)


def achievement_id(code: str, award: str = "coa") -> str:
    """``{BASE}/achievements/{code}/{award}``."""
    return f"{BASE}/achievements/{code}/{award}"


def build_coa(
    key: KeyPair,
    learner: Learner,
    code: str,
    name: str,
    *,
    credits: int = 3,
    credits_earned: int | None = None,
    score: str = "78",
    mqf_level: int = 6,
    programme: tuple[str, str] | None = ("DSP", "Professional Certificate in Data Science"),
    award: str = "COA",
    valid_from: str = "2026-01-15T00:00:00Z",
    valid_until: str | None = None,
    status: list[dict[str, Any]] | None = None,
    serial: int = 1,
) -> dict[str, Any]:
    """An unsigned COA (or COC with ``award="COC"``) in sijil's format."""
    result_id = f"{achievement_id(code)}/results/final"
    alignment: list[dict[str, Any]] = [
        {
            "type": ["Alignment"],
            "targetName": f"MQF Level {mqf_level}",
            "targetUrl": "https://www2.mqa.gov.my/mqf",
            "targetType": "ext:MQFLevel",
        },
        {
            "type": ["Alignment"],
            "targetName": f"Apply {name.lower()}",
            "targetUrl": f"{achievement_id(code)}#lo1",
            "targetType": "ext:LearningOutcome",
        },
    ]
    if programme is not None:
        alignment.append(
            {
                "type": ["Alignment"],
                "targetName": programme[1],
                "targetUrl": achievement_id(programme[0], "mms"),
                "targetCode": programme[0],
                "targetType": "ext:Programme",
            }
        )
    achievement: dict[str, Any] = {
        "id": achievement_id(code, "coa" if award == "COA" else "coc"),
        "type": ["Achievement"],
        "achievementType": "MicroCredential" if award == "COA" else "CertificateOfCompletion",
        "name": name,
        "description": f"{name}: a micro-credential of {credits} credits.",
        "criteria": {"narrative": "Pass the final assessment with at least 50%."},
        "humanCode": code,
        "creditsAvailable": credits,
        "sltHours": credits * 40,
        "mqfLevel": mqf_level,
        "deliveryMode": "online",
        "microCredentialCategory": "programme-based" if programme else "stand-alone",
        "alignment": alignment,
        "resultDescription": [
            {
                "id": result_id,
                "type": ["ResultDescription"],
                "name": "Final assessment",
                "resultType": "Percent",
                "requiredValue": "50",
            }
        ],
    }
    subject = learner.subject("AchievementSubject")
    subject["achievement"] = achievement
    if award == "COA":
        subject["creditsEarned"] = credits if credits_earned is None else credits_earned
        subject["result"] = [
            {
                "type": ["Result"],
                "resultDescription": result_id,
                "value": score,
                "status": "Completed",
            }
        ]
    label = "Certificate of Achievement" if award == "COA" else "Certificate of Completion"
    doc: dict[str, Any] = {
        "@context": list(COA_CONTEXT),
        "id": f"{BASE}/credentials/00000000-0000-4000-8000-{serial:012d}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{label}: {name}",
        "awardType": award,
        "issuer": issuer_profile(key),
        "validFrom": valid_from,
        "credentialSubject": subject,
    }
    if valid_until is not None:
        doc["validUntil"] = valid_until
    if status is not None:
        # OB 3.0 / CLR 2.0 allow one credentialStatus object; a list only when there are two.
        doc["credentialStatus"] = status[0] if len(status) == 1 else status
    return doc


def coa_for(
    key: KeyPair, learner: Learner, code: str, name: str, serial: int, **kw: Any
) -> dict[str, Any]:
    """A signed COA."""
    return sign(build_coa(key, learner, code, name, serial=serial, **kw), key)


def build_mms(
    key: KeyPair,
    learner: Learner,
    coas: Sequence[dict[str, Any]],
    *,
    programme_code: str = "DSP",
    programme_name: str = "Professional Certificate in Data Science",
    components: Sequence[dict[str, Any]] | None = None,
    credits_available: int | None = None,
    status: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An unsigned MMS stacking ``coas``; ``components`` defaults to their achievements."""
    component_achievements = [
        copy.deepcopy(c["credentialSubject"]["achievement"])
        for c in (components if components is not None else coas)
    ]
    programme_id = achievement_id(programme_code, "mms")
    total = sum(int(a["creditsAvailable"]) for a in component_achievements)
    programme = {
        "id": programme_id,
        "type": ["Achievement"],
        "achievementType": "LearningProgram",
        "name": programme_name,
        "description": f"{programme_name}, stacked from {len(component_achievements)} COAs.",
        "criteria": {"narrative": "Earn every component Certificate of Achievement."},
        "humanCode": programme_code,
        "creditsAvailable": total if credits_available is None else credits_available,
        "programmeCode": programme_code,
        "mqfLevel": 6,
    }
    subject = learner.subject("ClrSubject")
    subject["achievement"] = [programme, *component_achievements]
    subject["verifiableCredential"] = [copy.deepcopy(c) for c in coas]
    subject["association"] = [
        {
            # CLR 2.0's schema wants the single IRI here, not an array.
            "type": "Association",
            "associationType": "isChildOf",
            "sourceId": a["id"],
            "targetId": programme_id,
        }
        for a in component_achievements
    ]
    doc: dict[str, Any] = {
        "@context": list(MMS_CONTEXT),
        "id": f"{BASE}/credentials/00000000-0000-4000-9000-000000000001",
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Micro-credential Mastery Statement: {programme_name}",
        "awardType": "MMS",
        "issuer": issuer_profile(key),
        "validFrom": "2026-06-01T00:00:00Z",
        "credentialSubject": subject,
    }
    if status is not None:
        # OB 3.0 / CLR 2.0 allow one credentialStatus object; a list only when there are two.
        doc["credentialStatus"] = status[0] if len(status) == 1 else status
    return doc
