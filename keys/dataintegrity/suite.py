"""The shape every Data Integrity cryptosuite shares, and its common steps.

A cryptosuite (Data Integrity 1.0, section "Cryptographic Suites") is a pair of
algorithms, *create proof* and *verify proof*, built from five steps that each
suite spec defines: **transformation** (canonicalize the document),
**proof configuration** (canonicalize the proof options), **hashing**
(``hash(canonicalProofConfig) || hash(transformedDocument)``, proof hash first),
**proof serialization** (sign) and **proof verification** (check the signature).
:class:`Cryptosuite` runs the steps in the spec's order; one module per suite id
(``eddsa_rdfc_2022.py``, ...) supplies the steps with the spec's section cited.

Suites are stateless singletons; they never resolve keys or read the clock: the key
and the proof options come from :mod:`keys.dataintegrity.proof`.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from contexts import jcs, jsonld
from contexts.errors import (
    CryptosuiteError,
    MalformedValueError,
    ProofGenerationError,
    ProofVerificationError,
)
from keys import multibase
from keys.dataintegrity.errors import (
    InvalidProofConfigurationError,
    InvalidProofDatetimeError,
    MalformedProofError,
    ProofTransformationError,
)
from keys.keypair import KeyPair

__all__ = [
    "DATA_INTEGRITY_PROOF",
    "XSD_DATETIME_STAMP",
    "Cryptosuite",
    "JcsCryptosuite",
    "check_datetime_stamp",
    "decode_proof_value",
    "encode_proof_value",
    "jcs_attached_proof",
    "jcs_proof_configuration",
    "jcs_transformation",
    "jcs_verification_document",
    "rdfc_proof_configuration",
    "rdfc_transformation",
]

DATA_INTEGRITY_PROOF = "DataIntegrityProof"

#: XML Schema 1.1 ``dateTimeStamp`` lexical form (a ``dateTime`` with a mandatory zone).
XSD_DATETIME_STAMP = re.compile(
    r"-?(?:[1-9][0-9]{3,}|0[0-9]{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)


def check_datetime_stamp(value: Any, name: str) -> str:
    """Return ``value`` if it is an XML Schema ``dateTimeStamp`` string.

    Data Integrity 1.0 section 2.1 requires ``created`` and ``expires`` to be
    dateTimeStamps (UTC ``Z`` or an offset). Raises ``INVALID_PROOF_DATETIME``.
    """
    if not isinstance(value, str) or XSD_DATETIME_STAMP.fullmatch(value) is None:
        raise InvalidProofDatetimeError(
            f"proof {name} must be an XML Schema dateTimeStamp, got {value!r}",
            pointer=f"/proof/{name}",
        )
    return value


def encode_proof_value(signature: bytes) -> str:
    """``proofValue`` = ``z`` + base58btc(signature) (eddsa/ecdsa suites)."""
    return multibase.encode(signature, "base58btc")


def decode_proof_value(proof_value: Any) -> bytes:
    """The signature bytes of a ``z`` (base58btc) ``proofValue``. MALFORMED_PROOF_ERROR."""
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise MalformedProofError(
            "proofValue must be a base58btc multibase string ('z' prefix)",
            pointer="/proof/proofValue",
        )
    try:
        return multibase.decode(proof_value)
    except MalformedValueError as exc:
        raise MalformedProofError(
            f"proofValue is not valid multibase: {exc.detail}", pointer="/proof/proofValue"
        ) from exc


def _with_document_context(
    options: Mapping[str, Any], unsecured_document: Mapping[str, Any]
) -> dict[str, Any]:
    proof_config = dict(options)
    if "@context" in unsecured_document:
        proof_config["@context"] = unsecured_document["@context"]
    return proof_config


def rdfc_transformation(unsecured_document: Mapping[str, Any], hash_name: str = "sha256") -> bytes:
    """RDFC-1.0 N-Quads (UTF-8) of the document, after the safe-mode check.

    ``hash_name`` is RDFC-1.0's hash algorithm: ``sha256`` (the default, every suite but
    one) or ``sha384`` (ecdsa-rdfc-2019 with P-384; the spec's P-384 "employ" vector has
    several blank nodes and only canonicalizes to its labels with SHA-384).
    Raises DATA_LOSS_DETECTION_ERROR (undefined term, relative IRI) and
    CONTEXT_NOT_PINNED from :mod:`contexts.jsonld`.
    """
    return jsonld.canonize(dict(unsecured_document), hash_name=hash_name).encode("utf-8")


def rdfc_proof_configuration(
    options: Mapping[str, Any], unsecured_document: Mapping[str, Any], hash_name: str = "sha256"
) -> bytes:
    """RDFC-1.0 N-Quads of the proof options with ``@context`` = the document's."""
    if "created" in options:
        check_datetime_stamp(options["created"], "created")
    return rdfc_transformation(_with_document_context(options, unsecured_document), hash_name)


def jcs_transformation(unsecured_document: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of the document."""
    return jcs.canonicalize(unsecured_document)


def jcs_proof_configuration(
    options: Mapping[str, Any], unsecured_document: Mapping[str, Any]
) -> bytes:
    """RFC 8785 (JCS) bytes of the proof options with ``@context`` = the document's."""
    if "created" in options:
        check_datetime_stamp(options["created"], "created")
    return jcs.canonicalize(_with_document_context(options, unsecured_document))


def jcs_attached_proof(
    options: Mapping[str, Any], unsecured_document: Mapping[str, Any]
) -> dict[str, Any]:
    """A JCS proof keeps the document's ``@context`` (vc-di-eddsa 3.3.1 Create Proof).

    So a verifier can tell which contexts the signer saw (signedJCS.json).
    """
    return _with_document_context(options, unsecured_document)


def jcs_verification_document(
    unsecured_document: Mapping[str, Any], options: Mapping[str, Any]
) -> Mapping[str, Any]:
    """vc-di-eddsa 3.3.2 Verify Proof: the proof's ``@context`` must be a prefix of the
    document's, and is then the ``@context`` hashed. PROOF_VERIFICATION_ERROR otherwise.
    """
    if "@context" not in options:
        return unsecured_document
    proof_ctx = _as_list(options["@context"])
    doc_ctx = _as_list(unsecured_document.get("@context"))
    if doc_ctx[: len(proof_ctx)] != proof_ctx:
        raise ProofVerificationError(
            "the proof's @context is not a prefix of the document's @context",
            pointer="/proof/@context",
        )
    return {**unsecured_document, "@context": options["@context"]}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class Cryptosuite(ABC):
    """A Data Integrity cryptosuite: the five spec steps plus create and verify.

    Subclasses set :attr:`name` (the ``cryptosuite`` string), :attr:`key_types` and
    implement the steps. ``unsecured_document`` never holds the proof being made or
    checked; for a chained proof it holds the earlier proofs named in
    ``previousProof`` (Data Integrity 1.0 section 4.3).
    """

    name: ClassVar[str]
    #: key types this suite signs with (``KeyPair.key_type`` values).
    key_types: ClassVar[frozenset[str]]
    #: whether the suite interprets the document as JSON-LD (RDFC) or as plain JSON (JCS).
    uses_rdf: ClassVar[bool]

    # -- the five steps -----------------------------------------------------------------

    @abstractmethod
    def transformation(
        self, unsecured_document: Mapping[str, Any], options: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """Canonical bytes of the document.

        ``key`` is the signing or resolved key: the specs derive the curve (and so the
        RDFC-1.0 hash of ecdsa-rdfc-2019) from ``options.verificationMethod``.
        """

    @abstractmethod
    def proof_configuration(
        self, options: Mapping[str, Any], unsecured_document: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """Canonical bytes of the proof options (``@context`` = document's)."""

    @abstractmethod
    def hashing(
        self, transformed_document: bytes, canonical_proof_config: bytes, key: KeyPair
    ) -> bytes:
        """``hashData`` = hash(proof config) || hash(document)."""

    @abstractmethod
    def proof_serialization(self, hash_data: bytes, key: KeyPair) -> bytes:
        """The signature over ``hash_data``."""

    @abstractmethod
    def proof_verification(self, hash_data: bytes, proof_bytes: bytes, key: KeyPair) -> None:
        """Return if ``proof_bytes`` is a valid signature, else PROOF_VERIFICATION_ERROR."""

    # -- helpers shared by the step implementations -----------------------------------

    def check_options(self, options: Mapping[str, Any], *, for_transformation: bool) -> None:
        """``type`` must be DataIntegrityProof and ``cryptosuite`` this suite's name.

        The suites raise PROOF_TRANSFORMATION_ERROR from the transformation step and
        INVALID_PROOF_CONFIGURATION from the proof configuration step.
        """
        if options.get("type") == DATA_INTEGRITY_PROOF and options.get("cryptosuite") == self.name:
            return
        detail = (
            f"proof options must have type {DATA_INTEGRITY_PROOF!r} and cryptosuite "
            f"{self.name!r}, got {options.get('type')!r} / {options.get('cryptosuite')!r}"
        )
        if for_transformation:
            raise ProofTransformationError(detail)
        raise InvalidProofConfigurationError(detail)

    def check_key(self, key: KeyPair) -> None:
        """The key's type must be one this suite signs with (CryptosuiteError)."""
        if key.key_type not in self.key_types:
            raise CryptosuiteError(
                f"{self.name} needs a {' or '.join(sorted(self.key_types))} key, got {key.key_type}"
            )

    @staticmethod
    def hash_pair(
        transformed_document: bytes, canonical_proof_config: bytes, hash_name: str
    ) -> bytes:
        """hash(proof config) || hash(document), both with ``hash_name``."""
        return (
            hashlib.new(hash_name, canonical_proof_config).digest()
            + hashlib.new(hash_name, transformed_document).digest()
        )

    # -- create / verify (the suite specs' "Create Proof" / "Verify Proof") -----------

    def attached_proof(
        self, options: Mapping[str, Any], unsecured_document: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The proof object as attached to the document, before ``proofValue``."""
        return dict(options)

    def create_proof(
        self, unsecured_document: Mapping[str, Any], options: Mapping[str, Any], key: KeyPair
    ) -> dict[str, Any]:
        """Create Proof (e.g. vc-di-eddsa section 3.2.1): the proof, with ``proofValue``.

        Raises PROOF_GENERATION_ERROR for a key without its private part or of the
        wrong type, and whatever the canonicalization raises (DATA_LOSS_DETECTION_ERROR,
        CONTEXT_NOT_PINNED).
        """
        if not key.has_private:
            raise ProofGenerationError("the signing key has no private key")
        self.check_key(key)
        proof = self.attached_proof(options, unsecured_document)
        proof_config = self.proof_configuration(proof, unsecured_document, key)
        transformed = self.transformation(unsecured_document, options, key)
        hash_data = self.hashing(transformed, proof_config, key)
        proof["proofValue"] = encode_proof_value(self.proof_serialization(hash_data, key))
        return proof

    def verify_proof(
        self, unsecured_document: Mapping[str, Any], proof: Mapping[str, Any], key: KeyPair
    ) -> None:
        """Verify Proof (e.g. vc-di-eddsa section 3.2.2) of one proof over a document.

        ``proof`` is the attached proof (with ``proofValue``); ``key`` the resolved,
        authorized public key. Returns or raises PROOF_VERIFICATION_ERROR (and
        subclasses), MALFORMED_PROOF_ERROR, DATA_LOSS_DETECTION_ERROR.
        """
        self.check_key(key)
        proof_bytes = decode_proof_value(proof.get("proofValue"))
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        document = self.verification_document(unsecured_document, options)
        transformed = self.transformation(document, options, key)
        proof_config = self.proof_configuration(options, document, key)
        hash_data = self.hashing(transformed, proof_config, key)
        self.proof_verification(hash_data, proof_bytes, key)

    def verification_document(
        self, unsecured_document: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The document the verify algorithm hashes (JCS suites adjust ``@context``)."""
        return unsecured_document


class JcsCryptosuite(Cryptosuite, ABC):
    """The steps every ``-jcs-`` suite shares (eddsa-jcs-2022 and ecdsa-jcs-2019 section 3.3).

    The document and proof options are canonicalized with RFC 8785 (JCS); the attached proof
    keeps the document's ``@context`` (3.3.1) and verification hashes the document with the
    proof's ``@context`` once it is checked to be a prefix of the document's (3.3.2). A
    subclass supplies the name, key types, hashing and the signature steps.
    """

    uses_rdf: ClassVar[bool] = False

    def transformation(
        self, unsecured_document: Mapping[str, Any], options: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """3.3.3 Transformation: JCS (RFC 8785) of the document.

        PROOF_TRANSFORMATION_ERROR if ``options`` name another type or suite.
        """
        self.check_options(options, for_transformation=True)
        return jcs_transformation(unsecured_document)

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured_document: Mapping[str, Any], key: KeyPair
    ) -> bytes:
        """3.3.5 Proof Configuration: JCS of the options with the document's
        ``@context``. INVALID_PROOF_CONFIGURATION, INVALID_PROOF_DATETIME.
        """
        self.check_options(options, for_transformation=False)
        return jcs_proof_configuration(options, unsecured_document)

    def attached_proof(
        self, options: Mapping[str, Any], unsecured_document: Mapping[str, Any]
    ) -> dict[str, Any]:
        """3.3.1 Create Proof: the proof carries the document's ``@context``."""
        return jcs_attached_proof(options, unsecured_document)

    def verification_document(
        self, unsecured_document: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """3.3.2 Verify Proof: hash with the proof's ``@context`` (a prefix of
        the document's, else PROOF_VERIFICATION_ERROR).
        """
        return jcs_verification_document(unsecured_document, options)
