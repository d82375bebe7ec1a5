"""Shared set-up for ``test_conformance_vcdm_*.py``: the VC DM 2.0 rules at verify time.

Every rule is exercised twice, through the core (:func:`verifier.report.verify_credential`) and
through the verifier's VC-API (``POST /credentials/verify``, ``POST /presentations/verify`` on
the real Flask app); both see the same trust list, so "verified" means what it says.
Credentials are signed for real (eddsa-rdfc-2022, did:key issuers, no network).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from flask import Flask
from flask.testing import FlaskClient
from verifier_fixtures import Learner, build_coa, key_from_seed, sign
from verifier_trust import trust_for

from keys.didkey import did_key_for
from keys.keypair import KeyPair
from verifier.report import VerificationReport, verify_credential
from verifier.settings import VerifierSettings
from verifier.web import create_app

__all__ = [
    "AT",
    "CHALLENGE",
    "DOMAIN",
    "HOLDER",
    "ISSUER",
    "LEARNER",
    "api_verify_credential",
    "api_verify_presentation",
    "badge",
    "core_verify",
    "signed_badge",
    "signed_presentation",
    "verifier_app",
]

AT: Final = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER: Final = key_from_seed(71)
HOLDER: Final = key_from_seed(72)
LEARNER: Final = Learner(
    "Siti Nurhaliza", "siti@example.com", "salt-siti", did=did_key_for(key_from_seed(73))
)
CHALLENGE: Final = "vcdm-conformance-challenge"
DOMAIN: Final = "https://verifier.example.edu.my"


def badge(serial: int = 1, **extra: Any) -> dict[str, Any]:
    """An unsigned COA of :data:`LEARNER` by :data:`ISSUER`, with ``extra`` members added."""
    doc = build_coa(ISSUER, LEARNER, f"VC2{serial:02d}", f"Unit {serial}", serial=serial)
    doc.update(extra)
    return doc


def core_verify(data: Any, **options: Any) -> VerificationReport:
    """The core's report, trusting :data:`ISSUER` (and checking presentations' challenge)."""
    options = {"challenge": CHALLENGE, "domain": DOMAIN} | options
    return verify_credential(data, at=AT, trust=trust_for(ISSUER), check_status=False, **options)


def verifier_app() -> Flask:
    settings = VerifierSettings()
    return create_app(settings, verifier=settings.build_verifier(trust=trust_for(ISSUER)))


def _post(client: FlaskClient, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    data: dict[str, Any] = response.get_json(force=True)
    return response.status_code, data


def api_verify_credential(client: FlaskClient, credential: Any) -> tuple[int, dict[str, Any]]:
    """``POST /credentials/verify`` at :data:`AT`: (status, body)."""
    return _post(
        client,
        "/credentials/verify",
        {"verifiableCredential": credential, "options": {"at": AT.isoformat()}},
    )


def api_verify_presentation(client: FlaskClient, presentation: Any) -> tuple[int, dict[str, Any]]:
    """``POST /presentations/verify`` with the challenge and domain at :data:`AT`."""
    options = {"challenge": CHALLENGE, "domain": DOMAIN, "at": AT.isoformat()}
    return _post(
        client,
        "/presentations/verify",
        {"verifiablePresentation": presentation, "options": options},
    )


def signed_presentation(
    credentials: list[Any], *, holder: KeyPair = HOLDER, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A presentation by ``holder`` (its did:key), signed for :data:`CHALLENGE` / :data:`DOMAIN`."""
    vp: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_key_for(holder),
        "verifiableCredential": credentials,
        **(extra or {}),
    }
    return sign(vp, holder, proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)


def signed_badge(serial: int = 1, **extra: Any) -> dict[str, Any]:
    """:func:`badge` signed by :data:`ISSUER`."""
    return sign(badge(serial, **extra), ISSUER)
