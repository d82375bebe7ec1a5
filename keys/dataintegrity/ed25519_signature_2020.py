"""The legacy ``Ed25519Signature2020`` proof, verified on DID Authentication presentations only.

Learner wallets built on the Digital Credentials Consortium stack (the Learner Credential
Wallet) sign their DIDAuth presentations with ``Ed25519Signature2020`` for a ``did:key``, not
with a Data Integrity cryptosuite. sijil never issues with it; it accepts it where a wallet
proves control of its DID, so a holder-bound credential can be delivered to those wallets.

The algorithm (W3C "Ed25519 Signature 2020", the suite's section "Representation:
Ed25519Signature2020" in VC Data Integrity EdDSA): the proof options are the proof without
``proofValue`` under the document's ``@context``; both are canonicalized with RDFC-1.0
(URDNA2015) and hashed with SHA-256; the signature is over ``hash(options) || hash(document)``
and ``proofValue`` is its base58btc multibase form. The document's ``@context`` must include the
suite context (``https://w3id.org/security/suites/ed25519-2020/v1``), which is pinned.

Errors: ``PROOF_VERIFICATION_ERROR`` (bad signature or shape), ``INVALID_VERIFICATION_METHOD``
(from the resolver), ``INVALID_CHALLENGE_ERROR`` / ``INVALID_DOMAIN_ERROR`` and the purpose
errors of :mod:`keys.dataintegrity.purposes`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from contexts import jsonld
from contexts.errors import MalformedValueError, ProofVerificationError
from keys import multibase
from keys.dataintegrity.proof import VerificationMethodResolver
from keys.dataintegrity.purposes import check_challenge, check_domain, check_proof_purpose
from keys.keypair import KeyPair

__all__ = [
    "PROOF_TYPE",
    "SUITE_CONTEXT",
    "verify_data",
    "verify_ed25519_signature_2020",
]

PROOF_TYPE: Final = "Ed25519Signature2020"
SUITE_CONTEXT: Final = "https://w3id.org/security/suites/ed25519-2020/v1"


def _contexts(document: Mapping[str, Any]) -> list[Any]:
    context = document.get("@context")
    return list(context) if isinstance(context, list) else [context]


def verify_data(document: Mapping[str, Any], proof: Mapping[str, Any]) -> bytes:
    """``sha256(canonical proof options) || sha256(canonical document)``: the bytes signed.

    ``document`` is without its proof; ``proof`` is the proof with or without ``proofValue``.
    """
    options = {k: v for k, v in proof.items() if k not in {"proofValue", "jws", "@context"}}
    options["@context"] = document.get("@context")
    options_hash = hashlib.sha256(jsonld.canonize(options).encode("utf-8")).digest()
    document_hash = hashlib.sha256(jsonld.canonize(dict(document)).encode("utf-8")).digest()
    return options_hash + document_hash


def _single_proof(document: Mapping[str, Any]) -> Mapping[str, Any]:
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, Mapping) or proof.get("type") != PROOF_TYPE:
        raise ProofVerificationError(f"expected one {PROOF_TYPE} proof", pointer="/proof")
    return proof


def verify_ed25519_signature_2020(
    document: Mapping[str, Any],
    resolver: VerificationMethodResolver,
    *,
    expected_purpose: str,
    challenge: str | None = None,
    domain: str | None = None,
) -> KeyPair:
    """Verify the one ``Ed25519Signature2020`` proof of ``document`` and return the key that
    made it (its ``controller`` is the signer's DID).

    ``challenge``/``domain``, when given, must equal the proof's (an ``authentication`` proof
    always needs a challenge). Raises as the module says.
    """
    proof = _single_proof(document)
    if SUITE_CONTEXT not in _contexts(document):
        raise ProofVerificationError(
            f"an {PROOF_TYPE} proof needs {SUITE_CONTEXT} in the document's @context",
            pointer="/@context",
        )
    check_proof_purpose(proof, expected_purpose)
    check_challenge(proof, challenge, expected_purpose)
    check_domain(proof, domain)
    proof_value = proof.get("proofValue")
    vm_id = proof.get("verificationMethod")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise ProofVerificationError("proofValue must be base58btc multibase", pointer="/proof")
    if not isinstance(vm_id, str):
        raise ProofVerificationError("the proof names no verificationMethod", pointer="/proof")
    try:
        signature = multibase.decode(proof_value)
    except MalformedValueError as exc:
        raise ProofVerificationError(f"proofValue is not multibase: {exc.detail}") from exc
    key, _controller = resolver.resolve_verification_method(vm_id, expected_purpose)
    if key.key_type != "Ed25519":
        raise ProofVerificationError(f"{PROOF_TYPE} needs an Ed25519 key, not {key.key_type}")
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    key.verify(signature, verify_data(unsigned, proof))
    return key
