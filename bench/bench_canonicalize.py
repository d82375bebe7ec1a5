"""Benchmark: RDFC-1.0 canonicalizations per second, plain pyld vs sijil's facade.

Run: ``python bench/bench_canonicalize.py [--seconds 2]``. Not a test: one process, one
thread, warm caches (the first call of each variant is not timed); rates are per CPU
second of this process, so other load on the machine distorts them less. Documents: the
1EdTech Open Badges 3.0 vector (``openbadges-3.0/unsigned.json``) and its proof
configuration, and a sijil Certificate of Achievement (docs/ARCHITECTURE.md shape: VC 2.0
+ OB 3.0.3 + sijil v1, identifiers, achievement with sijil terms, alignments, results,
status entry).

Variants:
- ``pyld, loader not static``: ``pyld.jsonld.normalize`` with a loader that does not tag
  pinned contexts ``static`` (what a naive offline loader does);
- ``pyld, static loader``: ``pyld.jsonld.normalize`` with :func:`contexts.loader.document_loader`;
- ``sijil, memo off``: :func:`contexts.jsonld.canonize` (safe mode, expand once, RDFC-1.0
  escaping) with pyld's context processing unmodified;
- ``sijil``: :func:`contexts.jsonld.canonize` as used for signing and verifying.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyld import jsonld as pyld_jsonld

from contexts import BSL_V1, OB_V3P0, SIJIL_CONTEXT_URL, VC_V2, jsonld
from contexts.loader import document_loader

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "vectors"


def coa_credential() -> dict[str, Any]:
    """A realistic sijil Certificate of Achievement (unsigned)."""
    base = "https://sijil.example"
    return {
        "@context": [VC_V2, OB_V3P0, SIJIL_CONTEXT_URL],
        "id": f"{base}/credentials/7d3c6a0e-8e5e-4a4e-9c57-0a7f5b1e2c11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Certificate of Achievement: Data Analytics Fundamentals",
        "awardType": "COA",
        "issuer": {
            "id": "did:web:sijil.example",
            "type": ["Profile"],
            "name": "Universiti Contoh Malaysia",
            "url": base,
            "email": "registrar@sijil.example",
        },
        "validFrom": "2026-11-29T00:00:00Z",
        "credentialStatus": [
            {
                "id": f"{base}/status/1#94567",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "94567",
                "statusListCredential": f"{base}/status/1",
            }
        ],
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": "sha256$" + "c7ef86405ba71b85" * 4,
                    "salt": "per-learner-salt",
                },
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": "Nur Aisyah binti Ahmad",
                },
            ],
            "achievement": {
                "id": f"{base}/achievements/DAF101/coa",
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "Data Analytics Fundamentals",
                "description": "Foundations of data analytics with Python and SQL.",
                "criteria": {"narrative": "Pass every assessment with at least 50%."},
                "humanCode": "DAF101",
                "creditsAvailable": 3,
                "sltHours": 120,
                "mqfLevel": 6,
                "deliveryMode": "online",
                "microCredentialCategory": "programme-based",
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "MQF Level 6",
                        "targetUrl": "https://www2.mqa.gov.my/mqf/level6",
                        "targetType": "ext:MQFLevel",
                    },
                    {
                        "type": ["Alignment"],
                        "targetName": "Analyse datasets",
                        "targetUrl": f"{base}/outcomes/DAF101/1",
                        "targetType": "ext:LearningOutcome",
                    },
                    {
                        "type": ["Alignment"],
                        "targetName": "Bachelor of Data Science",
                        "targetUrl": f"{base}/achievements/BDS/mms",
                        "targetCode": "BDS",
                        "targetType": "ext:Programme",
                    },
                ],
                "resultDescription": [
                    {
                        "id": f"{base}/achievements/DAF101/results/final",
                        "type": ["ResultDescription"],
                        "name": "Final assessment",
                        "resultType": "Percent",
                        "requiredValue": "50",
                    }
                ],
            },
            "creditsEarned": 3,
            "result": [
                {
                    "type": ["Result"],
                    "resultDescription": f"{base}/achievements/DAF101/results/final",
                    "value": "78",
                    "status": "Completed",
                }
            ],
        },
    }


def proof_config(context: list[str]) -> dict[str, Any]:
    return {
        "@context": context,
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-11-29T00:00:00Z",
        "verificationMethod": "did:web:sijil.example#key-1",
        "proofPurpose": "assertionMethod",
    }


def _not_static_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    remote = document_loader(url)
    remote.pop("tag", None)
    return remote


def _pyld(loader: Callable[..., dict[str, Any]]) -> Callable[[dict[str, Any]], str]:
    def run(doc: dict[str, Any]) -> str:
        nquads: str = pyld_jsonld.normalize(
            doc,
            {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
        )
        return nquads

    return run


def rate(function: Callable[[], object], seconds: float) -> float:
    """Calls per CPU second of this process (robust on a machine shared with other jobs)."""
    function()  # warm caches
    count = 0
    start = time.process_time()
    deadline = start + seconds
    while True:
        function()
        count += 1
        now = time.process_time()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    ob = json.loads((VECTORS / "openbadges-3.0" / "unsigned.json").read_text("utf-8"))
    ob_proof = {
        "@context": ob["@context"],
        **json.loads((VECTORS / "openbadges-3.0" / "proofConfig.json").read_text("utf-8")),
    }
    coa = coa_credential()
    documents = {
        "OB 3.0 vector": ob,
        "OB 3.0 vector proof config": ob_proof,
        "sijil COA": coa,
        "sijil COA proof config": proof_config(coa["@context"]),
    }
    assert BSL_V1  # the status entry's terms come from VC v2 (no extra context needed)
    variants: dict[str, Callable[[dict[str, Any]], str]] = {
        "pyld, loader not static": _pyld(_not_static_loader),
        "pyld, static loader": _pyld(document_loader),
        "sijil, memo off": lambda doc: jsonld.canonize(doc, memoize=False),
        "sijil": jsonld.canonize,
    }
    for name, doc in documents.items():
        expected = jsonld.canonize(doc)
        print(f"{name} ({expected.count(chr(10))} quads)")
        for variant, function in variants.items():
            if function(doc) != expected:
                raise SystemExit(f"{variant} output differs for {name}")
            per_second = rate(lambda f=function, d=doc: f(d), args.seconds)  # type: ignore[misc]
            print(
                f"  {variant:<26} {per_second:8.0f} canonicalizations/s "
                f"({1000 / per_second:.2f} ms)"
            )
    both = rate(
        lambda: (jsonld.canonize(coa), jsonld.canonize(proof_config(coa["@context"]))), args.seconds
    )
    print(
        f"sijil COA document + proof config: {both:.0f}/s "
        f"(the canonicalization part of one eddsa-rdfc-2022 sign or verify)"
    )


if __name__ == "__main__":
    main()
