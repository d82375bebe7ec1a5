"""Add and verify Data Integrity proofs: single proofs, proof sets and proof chains.

Data Integrity 1.0 section 4.2 "Add Proof", 4.3 "Add Proof Set/Chain", 4.4 "Verify
Proof" and 4.5 "Verify Proof Sets and Chains". The cryptography of each suite lives in
its own module (:mod:`keys.dataintegrity.eddsa_rdfc_2022`, ...); this module handles
what is common: the proof options, proof sets (``proof`` becomes a list), chains
(``previousProof``: a chained proof signs the document *with* the proofs it names),
the VC 1.1 context, purpose / challenge / domain / time checks, resolving the
verification method for its purpose and issuer binding.

Issuer binding (VC DM 2.0 section 4.7, DI 1.0 section 4.5): every proof of a set or chain
must verify, and at least one must be by the issuer (a presentation's: by the holder);
the others may be by anyone (an endorsement, a notary, a countersignature).

Verification always runs over the document as given (never a re-serialized model).
Time and key resolution are injected (``at``, ``resolver``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from contexts import jsonld
from contexts.errors import (
    CryptosuiteError,
    MalformedValueError,
    ProofGenerationError,
    ProofVerificationError,
)
from contexts.jsoncopy import copy_json
from keys.dataintegrity.errors import (
    InvalidProofDatetimeError,
    IssuerBindingError,
    MalformedProofError,
    ProofExpiredError,
)
from keys.dataintegrity.purposes import (
    ASSERTION_METHOD,
    check_challenge,
    check_domain,
    check_issuer_binding,
    check_proof_purpose,
)
from keys.dataintegrity.registry import get_suite
from keys.dataintegrity.suite import DATA_INTEGRITY_PROOF, Cryptosuite, check_datetime_stamp
from keys.didkey import did_key_for
from keys.keypair import KeyPair

__all__ = [
    "CREDENTIALS_V1_CONTEXT",
    "DATA_INTEGRITY_V2_CONTEXT",
    "ProofResult",
    "VerificationMethodResolver",
    "add_proof",
    "format_created",
    "require_bound_proof",
    "verify_proofs",
]

CREDENTIALS_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2_CONTEXT = "https://w3id.org/security/data-integrity/v2"


class VerificationMethodResolver(Protocol):
    """What :func:`verify_proofs` needs of :class:`keys.resolve.Resolver`."""

    def resolve_verification_method(
        self, vm_id: str, purpose: str
    ) -> tuple[KeyPair, Mapping[str, Any]]:
        """The public key of ``vm_id`` and its controller document, once the controller
        document lists it under ``purpose`` (else INVALID_VERIFICATION_METHOD)."""
        ...


@dataclass(frozen=True)
class ProofResult:
    """One verified proof: which suite, which key, on whose behalf."""

    cryptosuite: str
    verification_method: str
    #: id of the controller document that authorized the verification method.
    controller: str | None
    proof_purpose: str
    key_type: str
    created: str | None
    proof_id: str | None
    previous_proof: tuple[str, ...] = ()
    proof: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary for a verification report."""
        return {
            "cryptosuite": self.cryptosuite,
            "verificationMethod": self.verification_method,
            "controller": self.controller,
            "proofPurpose": self.proof_purpose,
            "keyType": self.key_type,
            "created": self.created,
            "id": self.proof_id,
            "previousProof": list(self.previous_proof),
        }


# -- time -----------------------------------------------------------------------------

_FRACTION = re.compile(r"\.([0-9]+)")


def format_created(value: str | datetime | None) -> str:
    """The ``created`` string: now (UTC, second precision, ``Z``) for ``None``, a
    timezone-aware datetime converted to UTC the same way, or a dateTimeStamp string
    unchanged. Raises INVALID_PROOF_DATETIME for a naive datetime or a malformed string.
    """
    if value is None:
        value = datetime.now(UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidProofDatetimeError("created must be a timezone-aware datetime")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return check_datetime_stamp(value, "created")


def _parse_datetime_stamp(value: Any, name: str) -> datetime:
    """A dateTimeStamp as an aware datetime. INVALID_PROOF_DATETIME."""
    text = check_datetime_stamp(value, name)
    # Python's parser takes at most microseconds and no year > 9999 or 24:00:00.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidProofDatetimeError(
            f"proof {name} {value!r} is out of the supported range", pointer=f"/proof/{name}"
        ) from exc


# -- shapes ---------------------------------------------------------------------------


def _proofs_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The proofs of a secured document as a list (a single proof is a set of one)."""
    value = document.get("proof")
    if value is None:
        return []
    proofs = value if isinstance(value, list) else [value]
    for i, proof in enumerate(proofs):
        if not isinstance(proof, Mapping):
            raise MalformedProofError(
                "each proof must be a JSON object",
                pointer="/proof" + (f"/{i}" if isinstance(value, list) else ""),
            )
    return proofs


def _id_list(value: Any, what: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise MalformedProofError(f"{what} must be a string or a list of strings")
    return list(values)


def _chain_input(
    unsecured: Mapping[str, Any], all_proofs: Sequence[Mapping[str, Any]], previous: list[str]
) -> dict[str, Any]:
    """DI 1.0 sections 4.3 and 4.5: the document with ``proof`` = the proofs whose
    ``id`` is in ``previous`` (in the order they appear), every named id present.
    """
    found = {p.get("id") for p in all_proofs}
    missing = [pid for pid in previous if pid not in found]
    if missing:
        raise ProofVerificationError(
            f"previousProof names {missing!r}, which the document does not contain",
            pointer="/proof",
        )
    matching = [dict(p) for p in all_proofs if p.get("id") in previous]
    return {**unsecured, "proof": matching}


def _with_vc1_data_integrity_context(document: dict[str, Any]) -> None:
    """A VC 1.1 credential knows no DataIntegrityProof: append the data-integrity/v2
    context when securing it (Data Integrity 1.0 section 2.4, VC 1.1 compatibility).
    """
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if CREDENTIALS_V1_CONTEXT in contexts and DATA_INTEGRITY_V2_CONTEXT not in contexts:
        document["@context"] = [*contexts, DATA_INTEGRITY_V2_CONTEXT]


def _context_validation(suite: Cryptosuite, document: Mapping[str, Any]) -> None:
    """DI 1.0 section 4.6 "Context Validation" for suites that do not canonicalize as
    RDF: a JCS-secured JSON-LD document must still use only pinned contexts and defined
    terms, so the issuer never signs (and the verifier never accepts) a term the
    contexts do not define. RDFC suites get the same check from canonicalization.
    Raises CONTEXT_NOT_PINNED, DATA_LOSS_DETECTION_ERROR.
    """
    if not suite.uses_rdf and "@context" in document:
        jsonld.check_safe(dict(document))


# -- add ------------------------------------------------------------------------------


def add_proof(
    doc: Mapping[str, Any],
    key: KeyPair,
    *,
    cryptosuite: str = "eddsa-rdfc-2022",
    verification_method: str | None = None,
    proof_purpose: str = ASSERTION_METHOD,
    created: str | datetime | None = None,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    previous_proof: str | Sequence[str] | None = None,
    proof_id: str | None = None,
    expires: str | datetime | None = None,
) -> dict[str, Any]:
    """Secure ``doc`` with a new Data Integrity proof (DI 1.0 sections 4.2 and 4.3).

    Returns a new document; ``doc`` is not changed. ``verification_method`` defaults to
    ``key.id`` or else ``did:key:X#X`` for the key. ``created`` defaults to now (UTC,
    second precision). If ``doc`` already has proofs, the result has a proof set (a
    list); with ``previous_proof`` the new proof is chained to the named proofs and
    signs the document together with them. A VC 1.1 document gets the
    data-integrity/v2 context appended.

    Raises CryptosuiteError for an unknown suite or a key of the wrong type,
    PROOF_GENERATION_ERROR (no private key, unknown previous proof),
    INVALID_PROOF_DATETIME, DATA_LOSS_DETECTION_ERROR and CONTEXT_NOT_PINNED.
    """
    if not isinstance(doc, Mapping):
        raise ProofGenerationError("the document to secure must be a JSON object")
    suite = get_suite(cryptosuite)
    suite.check_key(key)
    if not key.has_private:
        raise ProofGenerationError("the signing key has no private key")

    secured: dict[str, Any] = copy_json(dict(doc))
    _with_vc1_data_integrity_context(secured)
    existing = [dict(p) for p in _proofs_of(secured)]
    unsecured: dict[str, Any] = {k: v for k, v in secured.items() if k != "proof"}

    options: dict[str, Any] = {"type": DATA_INTEGRITY_PROOF}
    if proof_id is not None:
        options["id"] = proof_id
    options["cryptosuite"] = suite.name
    options["created"] = format_created(created)
    if expires is not None:
        options["expires"] = (
            format_created(expires)
            if isinstance(expires, datetime)
            else check_datetime_stamp(expires, "expires")
        )
    if verification_method is None:
        verification_method = key.id
    if verification_method is None:
        did = did_key_for(key)
        verification_method = f"{did}#{key.public_key_multibase}"
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain if isinstance(domain, str) else list(domain)

    signing_input: dict[str, Any] = unsecured
    if previous_proof is not None:
        previous = [previous_proof] if isinstance(previous_proof, str) else list(previous_proof)
        options["previousProof"] = previous_proof if isinstance(previous_proof, str) else previous
        try:
            signing_input = _chain_input(unsecured, existing, previous)
        except ProofVerificationError as exc:
            raise ProofGenerationError(exc.detail, pointer=exc.pointer) from exc

    _context_validation(suite, signing_input)
    proof = suite.create_proof(signing_input, options, key)
    secured["proof"] = [*existing, proof] if existing else proof
    return secured


# -- verify ---------------------------------------------------------------------------


def _required_str(proof: Mapping[str, Any], name: str) -> str:
    value = proof.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedProofError(
            f"proof {name} is missing or not a string", pointer=f"/proof/{name}"
        )
    return value


def verify_proofs(
    doc: Mapping[str, Any],
    resolver: VerificationMethodResolver,
    *,
    expected_purpose: str = ASSERTION_METHOD,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    issuer_binding: bool = True,
    at: datetime | None = None,
) -> list[ProofResult]:
    """Verify every Data Integrity proof of ``doc`` (DI 1.0 sections 4.4 and 4.5).

    Every proof of a proof set must verify; a proof with ``previousProof`` is checked
    over the document holding exactly the proofs it names (all of which must be
    present). Per proof: type ``DataIntegrityProof`` with a supported cryptosuite,
    ``proofPurpose == expected_purpose``, challenge / domain when expected (an
    ``authentication`` proof always needs a challenge), ``created`` / ``expires``
    well-formed and ``expires`` after ``at`` (default now), the verification method
    resolved through ``resolver`` for the purpose, a key of the suite's type, the
    signature; then (``issuer_binding``) at least one proof's controller is the
    credential's issuer or the presentation's holder (:func:`require_bound_proof`).

    Returns one :class:`ProofResult` per proof, in document order, or raises the first
    failure: MALFORMED_PROOF_ERROR, CryptosuiteError, MISMATCHED_PROOF_PURPOSE_ERROR,
    INVALID_CHALLENGE_ERROR, INVALID_DOMAIN_ERROR, INVALID_PROOF_DATETIME,
    PROOF_EXPIRED, INVALID_VERIFICATION_METHOD, PROOF_VERIFICATION_ERROR,
    DATA_LOSS_DETECTION_ERROR, CONTEXT_NOT_PINNED, ISSUER_BINDING_ERROR.
    """
    if not isinstance(doc, Mapping):
        raise MalformedValueError("the secured document must be a JSON object")
    proofs = _proofs_of(doc)
    if not proofs:
        raise MalformedProofError("the document has no proof", pointer="/proof")
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    validated_context = False
    results: list[ProofResult] = []
    for proof in proofs:
        # Structure first (cheap), then purpose and time, then the key, then crypto.
        if proof.get("type") != DATA_INTEGRITY_PROOF:
            raise CryptosuiteError(
                f"unsupported proof type {proof.get('type')!r} (expected DataIntegrityProof)",
                pointer="/proof/type",
            )
        suite = get_suite(proof.get("cryptosuite"))
        vm_id = _required_str(proof, "verificationMethod")
        purpose = _required_str(proof, "proofPurpose")
        if "proofValue" not in proof:
            raise MalformedProofError("proof has no proofValue", pointer="/proof/proofValue")
        check_proof_purpose(proof, expected_purpose)
        check_challenge(proof, challenge, expected_purpose)
        check_domain(proof, domain)
        created = proof.get("created")
        if created is not None:
            _parse_datetime_stamp(created, "created")
        if "expires" in proof and _parse_datetime_stamp(proof["expires"], "expires") <= at:
            raise ProofExpiredError(
                f"the proof expired at {proof['expires']}", pointer="/proof/expires"
            )
        previous: list[str] = []
        document: Mapping[str, Any] = unsecured
        if "previousProof" in proof:
            previous = _id_list(proof["previousProof"], "previousProof")
            document = _chain_input(unsecured, proofs, previous)

        key, controller_doc = resolver.resolve_verification_method(vm_id, purpose)
        suite.check_key(key)
        if not suite.uses_rdf and not validated_context:
            _context_validation(suite, unsecured)
            validated_context = True
        suite.verify_proof(document, proof, key)

        controller_id = controller_doc.get("id")
        controller = controller_id if isinstance(controller_id, str) else key.controller
        proof_id = proof.get("id")
        results.append(
            ProofResult(
                cryptosuite=suite.name,
                verification_method=vm_id,
                controller=controller,
                proof_purpose=purpose,
                key_type=key.key_type,
                created=created if isinstance(created, str) else None,
                proof_id=proof_id if isinstance(proof_id, str) else None,
                previous_proof=tuple(previous),
                proof=proof,
            )
        )
    if issuer_binding:
        require_bound_proof(doc, results)
    return results


def require_bound_proof(doc: Mapping[str, Any], results: Sequence[ProofResult]) -> None:
    """At least one verified proof is by the party ``doc`` speaks for.

    A credential: one proof's controller is the ``issuer``; a presentation: one
    ``authentication`` proof's controller is the ``holder`` (see
    :func:`keys.dataintegrity.purposes.check_issuer_binding`). Further proofs by other
    keys (endorsements, notaries) are allowed: they were verified like every other proof.
    Raises ISSUER_BINDING_ERROR (the first proof's reason) when none is bound, or when
    ``results`` is empty.
    """
    first: IssuerBindingError | None = None
    for result in results:
        try:
            check_issuer_binding(doc, result.controller, result.proof_purpose)
        except IssuerBindingError as exc:
            first = first or exc
            continue
        return
    raise first or IssuerBindingError("no verified proof to bind to the issuer", pointer="/proof")
