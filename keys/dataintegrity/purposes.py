"""Proof purposes: what a verifier checks beyond the signature.

Data Integrity 1.0 section 2.2 "Proof Purposes" and section 4.4 "Verify Proof"
(steps on ``expectedProofPurpose``, ``domain``, ``challenge``), and the binding between
the signer and the subject of the document that VC Data Model 2.0 implies: the
``issuer`` of a credential is the party that secures it (section 4.7 "Issuer"), and the
``holder`` of a presentation is the party that authenticates with it. Each check
returns or raises; none returns a bool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from keys.dataintegrity.errors import (
    InvalidChallengeError,
    InvalidDomainError,
    IssuerBindingError,
    MismatchedProofPurposeError,
)

__all__ = [
    "ASSERTION_METHOD",
    "AUTHENTICATION",
    "check_challenge",
    "check_domain",
    "check_issuer_binding",
    "check_proof_purpose",
    "node_id",
    "types_of",
]

ASSERTION_METHOD = "assertionMethod"
AUTHENTICATION = "authentication"


def types_of(document: Mapping[str, Any]) -> list[str]:
    """The ``type`` value of a JSON-LD node as a list of strings (non-strings dropped)."""
    value = document.get("type", [])
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def node_id(value: Any) -> str | None:
    """The id of a value that is either an IRI string or an object with ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def check_proof_purpose(proof: Mapping[str, Any], expected_purpose: str) -> None:
    """DI 1.0 section 4.4: ``proof.proofPurpose`` must be the expected purpose.

    Raises MISMATCHED_PROOF_PURPOSE_ERROR.
    """
    if proof.get("proofPurpose") != expected_purpose:
        raise MismatchedProofPurposeError(
            f"proof purpose is {proof.get('proofPurpose')!r}, expected {expected_purpose!r}",
            pointer="/proof/proofPurpose",
        )


def check_challenge(
    proof: Mapping[str, Any], expected_challenge: str | None, expected_purpose: str
) -> None:
    """DI 1.0 section 4.4: the proof's ``challenge`` must equal the verifier's.

    An ``authentication`` proof is only meaningful against a challenge the verifier
    issued, so verifying one without an expected challenge is refused too (as
    jsonld-signatures' AuthenticationProofPurpose does). Raises INVALID_CHALLENGE_ERROR.
    """
    if expected_challenge is None:
        if expected_purpose == AUTHENTICATION:
            raise InvalidChallengeError(
                "an authentication proof needs a verifier-supplied challenge to check against"
            )
        return
    if proof.get("challenge") != expected_challenge:
        raise InvalidChallengeError(
            "proof challenge does not match the expected challenge",
            pointer="/proof/challenge",
        )


def check_domain(proof: Mapping[str, Any], expected_domain: str | Sequence[str] | None) -> None:
    """DI 1.0 section 4.4: the proof's ``domain`` (a string or a list of strings) must
    include the expected domain (or, for a list of acceptable domains, one of them).

    Raises INVALID_DOMAIN_ERROR.
    """
    if expected_domain is None:
        return
    acceptable = [expected_domain] if isinstance(expected_domain, str) else list(expected_domain)
    value = proof.get("domain")
    domains = value if isinstance(value, list) else [value]
    if not any(isinstance(d, str) and d in acceptable for d in domains):
        raise InvalidDomainError(
            f"proof domain {value!r} does not match the expected domain {expected_domain!r}",
            pointer="/proof/domain",
        )


def check_issuer_binding(
    document: Mapping[str, Any], controller: str | None, proof_purpose: str
) -> None:
    """The signer must be the party the document speaks for.

    For a credential (``type`` includes ``VerifiableCredential``) the controller of the
    verification method must be the ``issuer`` (the string, or ``issuer.id``); for a
    presentation with an ``authentication`` proof and a ``holder``, it must be the holder.
    Other documents are not bound. Raises ISSUER_BINDING_ERROR.
    """
    types = types_of(document)
    if "VerifiableCredential" in types:
        issuer = node_id(document.get("issuer"))
        if issuer is None:
            raise IssuerBindingError("the credential has no issuer id", pointer="/issuer")
        if controller != issuer:
            raise IssuerBindingError(
                f"the proof is by {controller!r}, not by the issuer {issuer!r}",
                pointer="/issuer",
            )
        return
    if "VerifiablePresentation" in types and proof_purpose == AUTHENTICATION:
        if "holder" not in document:
            return
        holder = node_id(document.get("holder"))
        if holder is None or controller != holder:
            raise IssuerBindingError(
                f"the presentation proof is by {controller!r}, not by the holder {holder!r}",
                pointer="/holder",
            )
