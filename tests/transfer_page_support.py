"""Shared builders of the credit-transfer page tests: an issuer, two learners, the README's MQA
example policy and signed MMSs (never imports :mod:`issuer`)."""

from __future__ import annotations

from typing import Any

from verifier_fixtures import Learner, build_mms, coa_for, key_from_seed, sign

__all__ = ["ALI", "CODES", "ISSUER", "SITI", "coas_of", "mms_of", "mqa_policy"]

ISSUER = key_from_seed(81)
SITI = Learner("Siti Nurhaliza binti Tarudin", "siti@example.com", "salt-siti")
ALI = Learner("Ali bin Abu", "ali@example.com", "salt-ali")
CODES = ["DS101", "DS102", "DS103"]


def mqa_policy(**overrides: Any) -> dict[str, Any]:
    """The README's MQA example policy."""
    policy: dict[str, Any] = {
        "name": "BSc Data Science (MQA credit transfer, 30 %)",
        "programme": {
            "id": "https://uni-b.example.my/programmes/BSCDS",
            "name": "BSc Data Science",
        },
        "totalCredits": 120,
        "maxTransferShare": 0.30,
        "minMqfLevel": 6,
        "minGrade": "B",
        "maxAgeYears": 5,
        "notionalHoursPerCredit": 40,
        "courseMapping": [
            {"achievement": "DS101", "course": "BDS1013", "credits": 3},
            {"achievement": "DS102", "course": "BDS1023", "credits": 3},
            {"achievement": "DS103", "course": "BDS1033", "credits": 3},
            {"achievement": "SA201", "course": "BDS2011", "credits": 1},
            {"achievement": "SA202", "course": "BDS2022", "credits": 2},
        ],
    }
    policy.update(overrides)
    return policy


def coas_of(learner: Learner, serial: int = 1) -> list[dict[str, Any]]:
    return [
        coa_for(ISSUER, learner, code, f"Unit {code}", serial=serial + i)
        for i, code in enumerate(CODES)
    ]


def mms_of(learner: Learner, serial: int = 1) -> dict[str, Any]:
    return sign(build_mms(ISSUER, learner, coas_of(learner, serial)), ISSUER)
