"""The credential-format registry: every way sijil secures a credential, in one place.

A *format* is how a credential is secured: each Data Integrity cryptosuite (an embedded
``proof``, media type ``application/vc``) and VC-JWT (the credential as a compact JWS,
``application/vc+jwt``; the Open Badges 3.0 JWT proof format for Open Badges types). Each
entry names its key types and its sign and verify entry points, so the lists shown to
people (the ``sign`` command's ``--suite``, the VC-API's options, metadata documents) and
the verifier's dispatch are read from here instead of being spelled out again. Formats to
come (SD-JWT VC, ``ecdsa-sd-2023``) are one more :class:`CredentialFormat` each.

Entry points share one shape: :data:`Signer` ``(credential, key, *, verification_method,
created) -> secured`` and :data:`SecuredVerifier` ``(secured, resolver, *, at,
issuer_binding) -> VerifiedCredential``. :func:`verify_secured` picks the format of a
secured credential (:func:`format_of`) and runs its verifier.

Errors: ``UNSUPPORTED_FORMAT`` (a name that is not registered, or a key type the format does
not sign with) and whatever the format's own entry points raise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from contexts.errors import MalformedValueError
from keys.dataintegrity import ProofResult, VerificationMethodResolver, add_proof, verify_proofs
from keys.dataintegrity.errors import MalformedProofError
from keys.dataintegrity.registry import SUITES_BY_NAME
from keys.jose import ALLOWED_ALGORITHMS, sign_vc_jwt, verify_vc_jwt
from keys.keypair import KeyPair, KeyType

__all__ = [
    "DATA_INTEGRITY_MEDIA_TYPE",
    "FAMILY_VERIFIERS",
    "FORMATS",
    "FORMAT_NAMES",
    "VC_JWT",
    "VC_JWT_MEDIA_TYPE",
    "CredentialFormat",
    "FormatFamily",
    "SecuredVerifier",
    "Signer",
    "UnsupportedFormatError",
    "VerifiedCredential",
    "family_of",
    "format_of",
    "formats_for_key",
    "get_format",
    "sign_credential",
    "verify_secured",
]

#: VC DM 2.0 section 6.3: a credential secured with an embedded proof.
DATA_INTEGRITY_MEDIA_TYPE = "application/vc"
#: VC-JOSE-COSE section 6.1.1.
VC_JWT_MEDIA_TYPE = "application/vc+jwt"
#: The registry name of the VC-JWT format.
VC_JWT = "vc-jwt"

FormatFamily = Literal["data-integrity", "jose"]


class UnsupportedFormatError(MalformedValueError):
    """A format name sijil does not implement, or a key it cannot sign that format with."""

    code = "UNSUPPORTED_FORMAT"
    title = "Unsupported credential format"


@dataclass(frozen=True)
class VerifiedCredential:
    """What a format's verifier returns: the credential and, for embedded proofs, each proof."""

    format: str
    #: the credential as verified: the document itself, or a VC-JWT's payload.
    credential: Mapping[str, Any]
    proofs: tuple[ProofResult, ...] = ()


Signer = Callable[..., "dict[str, Any] | str"]
"""``(credential, key, *, verification_method=None, created=None) -> secured credential``."""

SecuredVerifier = Callable[..., VerifiedCredential]
"""``(secured, resolver, *, at=None, issuer_binding=True) -> VerifiedCredential``."""


@dataclass(frozen=True)
class CredentialFormat:
    """One registered format: its name, media type, key types and entry points."""

    name: str
    family: FormatFamily
    media_type: str
    key_types: tuple[KeyType, ...]
    sign: Signer
    verify: SecuredVerifier
    #: a short human description for help texts and metadata.
    description: str

    def check_key(self, key: KeyPair) -> None:
        """Raise ``UNSUPPORTED_FORMAT`` unless this format signs with ``key``'s type."""
        if key.key_type not in self.key_types:
            raise UnsupportedFormatError(
                f"{self.name} signs with {' or '.join(self.key_types)} keys, not {key.key_type}"
            )


def _data_integrity_signer(suite: str) -> Signer:
    def sign(
        credential: Mapping[str, Any],
        key: KeyPair,
        *,
        verification_method: str | None = None,
        created: str | datetime | None = None,
    ) -> dict[str, Any]:
        return add_proof(
            credential,
            key,
            cryptosuite=suite,
            verification_method=verification_method,
            created=created,
        )

    return sign


def _verify_data_integrity(
    secured: Mapping[str, Any] | str,
    resolver: VerificationMethodResolver,
    *,
    at: datetime | None = None,
    issuer_binding: bool = True,
) -> VerifiedCredential:
    """Every proof of the set/chain (each by its own suite), at least one by the issuer."""
    if not isinstance(secured, Mapping):
        raise MalformedValueError("a Data Integrity secured credential is a JSON object")
    results = verify_proofs(secured, resolver, at=at, issuer_binding=issuer_binding)
    return VerifiedCredential(
        format=results[0].cryptosuite, credential=secured, proofs=tuple(results)
    )


def _sign_vc_jwt(
    credential: Mapping[str, Any],
    key: KeyPair,
    *,
    verification_method: str | None = None,
    created: str | datetime | None = None,
) -> str:
    del created  # a JWS has no proof creation time; nbf mirrors validFrom instead
    return sign_vc_jwt(credential, key, kid=verification_method)


def _verify_vc_jwt(
    secured: Mapping[str, Any] | str,
    resolver: VerificationMethodResolver,
    *,
    at: datetime | None = None,
    issuer_binding: bool = True,
) -> VerifiedCredential:
    if not isinstance(secured, str):
        raise MalformedValueError("a VC-JWT is a compact JWS string")
    payload = verify_vc_jwt(secured, resolver, at=at, issuer_binding=issuer_binding)
    return VerifiedCredential(format=VC_JWT, credential=payload)


def _registry() -> dict[str, CredentialFormat]:
    formats: dict[str, CredentialFormat] = {}
    for name, suite in SUITES_BY_NAME.items():
        formats[name] = CredentialFormat(
            name=name,
            family="data-integrity",
            media_type=DATA_INTEGRITY_MEDIA_TYPE,
            key_types=tuple(t for t in ("Ed25519", "P-256", "P-384") if t in suite.key_types),
            sign=_data_integrity_signer(name),
            verify=_verify_data_integrity,
            description=f"Data Integrity proof, cryptosuite {name}",
        )
    jwt_key_types: tuple[KeyType, ...] = ("Ed25519", "P-256", "P-384", "RSA")
    if set(jwt_key_types) != set(ALLOWED_ALGORITHMS.values()):
        raise RuntimeError("VC-JWT key types and the JOSE algorithm allowlist disagree")
    formats[VC_JWT] = CredentialFormat(
        name=VC_JWT,
        family="jose",
        media_type=VC_JWT_MEDIA_TYPE,
        key_types=jwt_key_types,
        sign=_sign_vc_jwt,
        verify=_verify_vc_jwt,
        description="VC-JWT (compact JWS; the Open Badges 3.0 JWT proof format for badges)",
    )
    return formats


#: Every supported format by name, Data Integrity suites first (preference order).
FORMATS: Mapping[str, CredentialFormat] = MappingProxyType(_registry())
#: The names of :data:`FORMATS`, in order.
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)


def get_format(name: Any) -> CredentialFormat:
    """The format called ``name``; ``UNSUPPORTED_FORMAT`` if there is none."""
    found = FORMATS.get(name) if isinstance(name, str) else None
    if found is None:
        raise UnsupportedFormatError(
            f"unsupported credential format {name!r} (supported: {', '.join(FORMAT_NAMES)})"
        )
    return found


def formats_for_key(key_type: str) -> tuple[CredentialFormat, ...]:
    """The formats that can sign with a key of ``key_type``, in registry order."""
    return tuple(f for f in FORMATS.values() if key_type in f.key_types)


def format_of(secured: Mapping[str, Any] | str) -> CredentialFormat:
    """The format a secured credential is in: a string is a VC-JWT; an object is in the
    format of its (first) proof's cryptosuite. ``MALFORMED_PROOF_ERROR`` for an object
    without a proof, ``UNSUPPORTED_FORMAT`` for an unknown cryptosuite.
    """
    if isinstance(secured, str):
        return FORMATS[VC_JWT]
    proof = secured.get("proof")
    first = proof[0] if isinstance(proof, list) and proof else proof
    if not isinstance(first, Mapping):
        raise MalformedProofError("the document has no proof", pointer="/proof")
    return get_format(first.get("cryptosuite"))


def sign_credential(
    credential: Mapping[str, Any],
    key: KeyPair,
    format_name: str,
    *,
    verification_method: str | None = None,
    created: str | datetime | None = None,
) -> dict[str, Any] | str:
    """Secure ``credential`` in the format ``format_name`` (checked against ``key``)."""
    fmt = get_format(format_name)
    fmt.check_key(key)
    return fmt.sign(credential, key, verification_method=verification_method, created=created)


def family_of(secured: Mapping[str, Any] | str) -> FormatFamily:
    """How ``secured`` is secured: a string is a JWS (``jose``); an object carries embedded
    proofs (``data-integrity``), whichever suites they use."""
    return "jose" if isinstance(secured, str) else "data-integrity"


#: One verifier per family: a proof set may mix Data Integrity suites, so every suite of the
#: family shares the verifier that checks each proof with its own suite.
FAMILY_VERIFIERS: Mapping[FormatFamily, SecuredVerifier] = MappingProxyType(
    {fmt.family: fmt.verify for fmt in FORMATS.values()}
)


def verify_secured(
    secured: Mapping[str, Any] | str,
    resolver: VerificationMethodResolver,
    *,
    at: datetime | None = None,
    issuer_binding: bool = True,
) -> VerifiedCredential:
    """Verify a secured credential with its family's registered verifier.

    Raises what that verifier raises (the Data Integrity codes of
    :func:`keys.dataintegrity.verify_proofs`, the JOSE codes of :func:`keys.jose.verify_vc_jwt`).
    """
    verify = FAMILY_VERIFIERS[family_of(secured)]
    return verify(secured, resolver, at=at, issuer_binding=issuer_binding)
