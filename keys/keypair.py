"""Key pairs for Ed25519, P-256, P-384 and RSA, in Multikey and JWK form.

One :class:`KeyPair` per key; it may be public-only (a verifier's view of a
verification method) or hold the private key (an issuer's signing key). ``id`` and
``controller`` are the verification method id and its controller when known; they
never influence the cryptography.

Multikey encodings (W3C Controlled Identifiers 1.0, section "Multikey"; multicodec
table): ``publicKeyMultibase`` = ``z`` + base58btc(header + key) with headers
Ed25519 ``0xed01`` + 32 bytes, P-256 ``0x8024`` + 33-byte compressed point, P-384
``0x8124`` + 49-byte compressed point. ``secretKeyMultibase`` (older name
``privateKeyMultibase``): Ed25519 ``0x8026`` + 32-byte seed (the 64-byte seed||public
form of the 1EdTech vector is also read), P-256 ``0x8626`` + 32, P-384 ``0x8726`` + 48.

RSA (for JOSE ``RS256`` only: Open Badges 3.0 names it the minimum JWT algorithm) is
``rsa-pub`` ``0x8524`` + DER PKCS#1 RSAPublicKey and ``rsa-priv`` ``0x8526`` + DER PKCS#1
RSAPrivateKey (multicodec table, as did:key uses for RSA); moduli below 2048 bits
(:data:`RSA_MIN_BITS`) or above 8192 bits are refused everywhere a key is built.

Signatures: Ed25519 raw 64 bytes (RFC 8032). RSA: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518
section 3.3, ``RS256``). ECDSA signs ``data`` with the curve's hash
(P-256 SHA-256, P-384 SHA-384; Data Integrity ECDSA Cryptosuites 1.0, section 3.3),
deterministically per RFC 6979, encoded raw ``r||s`` (IEEE P1363), not DER.
Verification accepts high-S signatures, as the ECDSA cryptosuite vectors require.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, cast

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from contexts.errors import (
    MalformedValueError,
    ParsingError,
    ProofGenerationError,
    ProofVerificationError,
    SijilError,
)
from keys import jwk as _jwk
from keys import multibase

__all__ = [
    "PUBLIC_KEY_HEADERS",
    "RSA_MAX_BITS",
    "RSA_MIN_BITS",
    "SECRET_KEY_HEADERS",
    "EcdsaKeyPair",
    "Ed25519KeyPair",
    "KeyPair",
    "KeyType",
    "MissingPrivateKeyError",
    "RsaKeyPair",
    "load_keypair",
]

KeyType = Literal["Ed25519", "P-256", "P-384", "RSA"]
KEY_TYPES: tuple[KeyType, ...] = ("Ed25519", "P-256", "P-384", "RSA")

RSA_MIN_BITS = _jwk.RSA_MIN_BITS
RSA_MAX_BITS = _jwk.RSA_MAX_BITS

#: multicodec varint headers of ``publicKeyMultibase`` values, by key type.
PUBLIC_KEY_HEADERS: dict[KeyType, bytes] = {
    "Ed25519": b"\xed\x01",
    "P-256": b"\x80\x24",
    "P-384": b"\x81\x24",
    "RSA": b"\x85\x24",
}
#: multicodec varint headers of ``secretKeyMultibase`` values, by key type.
SECRET_KEY_HEADERS: dict[KeyType, bytes] = {
    "Ed25519": b"\x80\x26",
    "P-256": b"\x86\x26",
    "P-384": b"\x87\x26",
    "RSA": b"\x85\x26",
}
_PUBLIC_LENGTHS: dict[KeyType, tuple[int, ...]] = {"Ed25519": (32,), "P-256": (33,), "P-384": (49,)}
_SECRET_LENGTHS: dict[KeyType, tuple[int, ...]] = {
    "Ed25519": (32, 64),
    "P-256": (32,),
    "P-384": (48,),
}


class MissingPrivateKeyError(SijilError):
    """A signing operation or secret export was asked of a public-only key."""

    code = "MISSING_PRIVATE_KEY"
    title = "Key pair has no private key"


def _split_header(raw: bytes, headers: Mapping[KeyType, bytes], what: str) -> tuple[KeyType, bytes]:
    for key_type, header in headers.items():
        if raw.startswith(header):
            return key_type, raw[len(header) :]
    raise MalformedValueError(f"{what} has an unknown multicodec header {raw[:2].hex()!r}")


class KeyPair(ABC):
    """An Ed25519, P-256, P-384 or RSA key, public-only or with its private key.

    Use the classmethod constructors (:meth:`generate`, :meth:`from_multikey`,
    :meth:`from_public_multibase`, :meth:`from_jwk`); they return the right subclass.
    """

    key_type: KeyType
    #: JOSE ``alg`` of this key (RFC 7518 / RFC 8037).
    jose_alg: str
    #: hashlib name of the hash the Data Integrity suites use with this key.
    hash_name: str
    signature_length: int

    def __init__(self, *, id: str | None = None, controller: str | None = None) -> None:
        self.id = id
        self.controller = controller

    # -- key material -----------------------------------------------------------------

    @property
    @abstractmethod
    def public_key_bytes(self) -> bytes:
        """Raw public key: Ed25519 32 bytes; ECDSA compressed SEC1 point."""

    @property
    @abstractmethod
    def has_private(self) -> bool:
        """True when this key pair can sign."""

    @abstractmethod
    def secret_key_bytes(self) -> bytes:
        """Raw secret: Ed25519 32-byte seed; ECDSA big-endian scalar. MISSING_PRIVATE_KEY."""

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Signature over ``data`` (Ed25519 raw 64 bytes; ECDSA RFC 6979 raw r||s).

        Raises ``MISSING_PRIVATE_KEY`` for a public-only key.
        """

    @abstractmethod
    def verify(self, signature: bytes, data: bytes) -> None:
        """Return if ``signature`` is valid over ``data``; else ``PROOF_VERIFICATION_ERROR``."""

    @abstractmethod
    def _pyca_public(self) -> _jwk.PublicKey: ...

    @abstractmethod
    def _pyca_private(self) -> _jwk.PrivateKey: ...

    @abstractmethod
    def _copy(self, *, id: str | None, controller: str | None, private: bool) -> Self: ...

    # -- derived forms ----------------------------------------------------------------

    @functools.cached_property
    def public_key_multibase(self) -> str:
        """Multikey ``publicKeyMultibase`` (``z`` + base58btc(header + key))."""
        return multibase.encode(PUBLIC_KEY_HEADERS[self.key_type] + self.public_key_bytes)

    def secret_key_multibase(self) -> str:
        """Multikey ``secretKeyMultibase`` (Ed25519 always in the 32-byte seed form)."""
        return multibase.encode(SECRET_KEY_HEADERS[self.key_type] + self.secret_key_bytes())

    def to_multikey(self, include_secret: bool = False) -> dict[str, Any]:
        """The key as a CID 1.0 ``Multikey`` object (``id``/``controller`` when set)."""
        out: dict[str, Any] = {"type": "Multikey"}
        if self.id is not None:
            out["id"] = self.id
        if self.controller is not None:
            out["controller"] = self.controller
        out["publicKeyMultibase"] = self.public_key_multibase
        if include_secret:
            out["secretKeyMultibase"] = self.secret_key_multibase()
        return out

    def to_jwk(self, private: bool = False) -> dict[str, str]:
        """The key as a JWK (via jwcrypto); ``private=True`` adds ``d``."""
        if private:
            return _jwk.export_jwk(self._pyca_private(), private=True)
        return _jwk.export_jwk(self._pyca_public())

    def to_jwcrypto(self, private: bool = False) -> Any:
        """A ``jwcrypto.jwk.JWK`` for this key (for :mod:`keys.jose`)."""
        return _jwk.to_jwcrypto(self._pyca_private() if private else self._pyca_public())

    def with_identity(self, *, id: str | None, controller: str | None) -> Self:
        """A copy of this key pair with another verification method id and controller."""
        return self._copy(id=id, controller=controller, private=self.has_private)

    def public_only(self) -> Self:
        """A copy without the private key."""
        return self._copy(id=self.id, controller=self.controller, private=False)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(key_type={self.key_type!r}, "
            f"public_key_multibase={self.public_key_multibase!r}, id={self.id!r}, "
            f"has_private={self.has_private})"
        )

    def __eq__(self, other: object) -> bool:
        """Same key type, public key, id and controller (private part not compared)."""
        if not isinstance(other, KeyPair):
            return NotImplemented
        return (self.key_type, self.public_key_bytes, self.id, self.controller) == (
            other.key_type,
            other.public_key_bytes,
            other.id,
            other.controller,
        )

    def __hash__(self) -> int:
        return hash((self.key_type, self.public_key_bytes, self.id, self.controller))

    # -- constructors -----------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        key_type: KeyType = "Ed25519",
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> KeyPair:
        """A fresh random key pair of ``key_type``. MALFORMED_VALUE_ERROR for another type."""
        if key_type == "Ed25519":
            return Ed25519KeyPair(
                ed25519.Ed25519PrivateKey.generate(), id=id, controller=controller
            )
        if key_type in ("P-256", "P-384"):
            curve = EcdsaKeyPair.CURVES[key_type]
            return EcdsaKeyPair(ec.generate_private_key(curve), id=id, controller=controller)
        if key_type == "RSA":
            return RsaKeyPair.generate_rsa(id=id, controller=controller)
        raise MalformedValueError(f"unsupported key type {key_type!r}")

    @classmethod
    def from_public_multibase(
        cls,
        value: str,
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> KeyPair:
        """A public-only key from a ``publicKeyMultibase``. MALFORMED_VALUE_ERROR if invalid."""
        raw = multibase.decode(value)
        if not value.startswith("z"):
            raise MalformedValueError("publicKeyMultibase must be base58btc ('z')")
        key_type, body = _split_header(raw, PUBLIC_KEY_HEADERS, "publicKeyMultibase")
        if key_type == "RSA":
            return RsaKeyPair.from_der(body, private=False, id=id, controller=controller)
        if len(body) not in _PUBLIC_LENGTHS[key_type]:
            raise MalformedValueError(
                f"{key_type} publicKeyMultibase has {len(body)} key bytes, "
                f"expected {_PUBLIC_LENGTHS[key_type][0]}"
            )
        try:
            if key_type == "Ed25519":
                ed_pub = ed25519.Ed25519PublicKey.from_public_bytes(body)
                return Ed25519KeyPair(ed_pub, id=id, controller=controller)
            pub = ec.EllipticCurvePublicKey.from_encoded_point(EcdsaKeyPair.CURVES[key_type], body)
        except ValueError as exc:
            raise MalformedValueError(f"{key_type} public key is not a curve point") from exc
        return EcdsaKeyPair(pub, id=id, controller=controller)

    @classmethod
    def from_secret_multibase(
        cls,
        value: str,
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> KeyPair:
        """A key pair from a ``secretKeyMultibase`` alone. MALFORMED_VALUE_ERROR if invalid.

        The 64-byte Ed25519 form (seed || public key) must carry the public key its
        seed derives.
        """
        raw = multibase.decode(value)
        key_type, body = _split_header(raw, SECRET_KEY_HEADERS, "secretKeyMultibase")
        if key_type == "RSA":
            return RsaKeyPair.from_der(body, private=True, id=id, controller=controller)
        if len(body) not in _SECRET_LENGTHS[key_type]:
            raise MalformedValueError(
                f"{key_type} secretKeyMultibase has {len(body)} bytes, "
                f"expected {' or '.join(map(str, _SECRET_LENGTHS[key_type]))}"
            )
        if key_type == "Ed25519":
            priv = ed25519.Ed25519PrivateKey.from_private_bytes(body[:32])
            derived = priv.public_key().public_bytes_raw()
            if len(body) == 64 and body[32:] != derived:
                raise MalformedValueError(
                    "64-byte Ed25519 secretKeyMultibase: public half does not match the seed"
                )
            return Ed25519KeyPair(priv, id=id, controller=controller)
        try:
            ec_priv = ec.derive_private_key(
                int.from_bytes(body, "big"), EcdsaKeyPair.CURVES[key_type]
            )
        except ValueError as exc:
            raise MalformedValueError(f"{key_type} secret key is out of range") from exc
        return EcdsaKeyPair(ec_priv, id=id, controller=controller)

    @classmethod
    def from_multikey(cls, doc: Mapping[str, Any]) -> KeyPair:
        """A key pair from a Multikey object or a KEY.json file's content.

        Reads ``publicKeyMultibase`` and ``secretKeyMultibase`` (or the older
        ``privateKeyMultibase``), at least one of them, and optional ``id`` and
        ``controller``. When both keys are given they must belong together.
        Raises MALFORMED_VALUE_ERROR.
        """
        if not isinstance(doc, Mapping):
            raise MalformedValueError("Multikey must be a JSON object")
        if doc.get("type", "Multikey") != "Multikey":
            raise MalformedValueError(f"expected type Multikey, got {doc.get('type')!r}")
        id_, controller = doc.get("id"), doc.get("controller")
        for name, val in (("id", id_), ("controller", controller)):
            if val is not None and not isinstance(val, str):
                raise MalformedValueError(f"Multikey {name} must be a string")
        public = doc.get("publicKeyMultibase")
        secret = doc.get("secretKeyMultibase", doc.get("privateKeyMultibase"))
        if "secretKeyMultibase" in doc and "privateKeyMultibase" in doc:
            raise MalformedValueError(
                "Multikey has both secretKeyMultibase and privateKeyMultibase"
            )
        if public is not None and not isinstance(public, str):
            raise MalformedValueError("publicKeyMultibase must be a string")
        if secret is not None and not isinstance(secret, str):
            raise MalformedValueError("secretKeyMultibase must be a string")
        if secret is None:
            if public is None:
                raise MalformedValueError("Multikey has no publicKeyMultibase")
            return cls.from_public_multibase(public, id=id_, controller=controller)
        pair = cls.from_secret_multibase(secret, id=id_, controller=controller)
        if public is not None:
            expected = cls.from_public_multibase(public)
            if (expected.key_type, expected.public_key_bytes) != (
                pair.key_type,
                pair.public_key_bytes,
            ):
                raise MalformedValueError(
                    "publicKeyMultibase does not match the secret key",
                    pointer="/publicKeyMultibase",
                )
        return pair

    @classmethod
    def from_jwk(
        cls,
        jwk: Mapping[str, Any],
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> KeyPair:
        """A key pair from a JWK (private when it has ``d``). MALFORMED_VALUE_ERROR."""
        key = _jwk.import_jwk(jwk)
        if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            return Ed25519KeyPair(key, id=id, controller=controller)
        if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            return RsaKeyPair(key, id=id, controller=controller)
        return EcdsaKeyPair(key, id=id, controller=controller)


class Ed25519KeyPair(KeyPair):
    """An Ed25519 key (RFC 8032); signatures are deterministic raw 64 bytes."""

    jose_alg = "EdDSA"
    hash_name = "sha256"
    signature_length = 64

    def __init__(
        self,
        key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey,
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> None:
        super().__init__(id=id, controller=controller)
        self.key_type = "Ed25519"
        if isinstance(key, ed25519.Ed25519PrivateKey):
            self._private: ed25519.Ed25519PrivateKey | None = key
            self._public = key.public_key()
        else:
            self._private = None
            self._public = key

    @property
    def public_key_bytes(self) -> bytes:
        return self._public.public_bytes_raw()

    @property
    def has_private(self) -> bool:
        return self._private is not None

    def _require_private(self) -> ed25519.Ed25519PrivateKey:
        if self._private is None:
            raise MissingPrivateKeyError("this Ed25519 key pair has no private key")
        return self._private

    def secret_key_bytes(self) -> bytes:
        return self._require_private().private_bytes_raw()

    def sign(self, data: bytes) -> bytes:
        return self._require_private().sign(data)

    def verify(self, signature: bytes, data: bytes) -> None:
        if len(signature) != self.signature_length:
            raise ProofVerificationError(
                f"Ed25519 signature must be 64 bytes, got {len(signature)}"
            )
        try:
            self._public.verify(signature, data)
        except InvalidSignature as exc:
            raise ProofVerificationError("Ed25519 signature does not verify") from exc

    def _pyca_public(self) -> ed25519.Ed25519PublicKey:
        return self._public

    def _pyca_private(self) -> ed25519.Ed25519PrivateKey:
        return self._require_private()

    def _copy(self, *, id: str | None, controller: str | None, private: bool) -> Self:
        key = self._require_private() if private else self._public
        return type(self)(key, id=id, controller=controller)


class EcdsaKeyPair(KeyPair):
    """A P-256 (SHA-256, ES256) or P-384 (SHA-384, ES384) ECDSA key."""

    CURVES: ClassVar[dict[KeyType, ec.EllipticCurve]] = {
        "P-256": ec.SECP256R1(),
        "P-384": ec.SECP384R1(),
    }
    _BY_CURVE_NAME: ClassVar[dict[str, tuple[KeyType, str, int]]] = {
        "secp256r1": ("P-256", "ES256", 32),
        "secp384r1": ("P-384", "ES384", 48),
    }

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey,
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> None:
        super().__init__(id=id, controller=controller)
        spec = self._BY_CURVE_NAME.get(key.curve.name)
        if spec is None:
            raise MalformedValueError(f"unsupported ECDSA curve {key.curve.name!r}")
        self.key_type, self.jose_alg, self._size = spec
        self.signature_length = 2 * self._size
        self.hash_name = "sha256" if self.key_type == "P-256" else "sha384"
        self._hash: hashes.HashAlgorithm = (
            hashes.SHA256() if self.key_type == "P-256" else hashes.SHA384()
        )
        if isinstance(key, ec.EllipticCurvePrivateKey):
            self._private: ec.EllipticCurvePrivateKey | None = key
            self._public = key.public_key()
        else:
            self._private = None
            self._public = key
        self._public_bytes = self._public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    @property
    def curve(self) -> str:
        """``"P-256"`` or ``"P-384"`` (same as ``key_type``)."""
        return self.key_type

    @property
    def public_key_bytes(self) -> bytes:
        return self._public_bytes

    @property
    def has_private(self) -> bool:
        return self._private is not None

    def _require_private(self) -> ec.EllipticCurvePrivateKey:
        if self._private is None:
            raise MissingPrivateKeyError(f"this {self.key_type} key pair has no private key")
        return self._private

    def secret_key_bytes(self) -> bytes:
        scalar = self._require_private().private_numbers().private_value
        return scalar.to_bytes(self._size, "big")

    def sign(self, data: bytes) -> bytes:
        """RFC 6979 deterministic ECDSA with the curve's hash, raw ``r||s``."""
        try:
            der = self._require_private().sign(
                data, ec.ECDSA(self._hash, deterministic_signing=True)
            )
        except UnsupportedAlgorithm as exc:  # pragma: no cover - OpenSSL < 3.2
            raise ProofGenerationError(
                "this OpenSSL build cannot sign ECDSA deterministically (RFC 6979)"
            ) from exc
        r, s = decode_dss_signature(der)
        return r.to_bytes(self._size, "big") + s.to_bytes(self._size, "big")

    def verify(self, signature: bytes, data: bytes) -> None:
        """Accepts high-S signatures (no low-S normalization is demanded)."""
        if len(signature) != self.signature_length:
            raise ProofVerificationError(
                f"{self.key_type} signature must be {self.signature_length} raw r||s bytes, "
                f"got {len(signature)}"
            )
        r = int.from_bytes(signature[: self._size], "big")
        s = int.from_bytes(signature[self._size :], "big")
        try:
            self._public.verify(encode_dss_signature(r, s), data, ec.ECDSA(self._hash))
        except InvalidSignature as exc:
            raise ProofVerificationError(f"{self.key_type} signature does not verify") from exc

    def _pyca_public(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def _pyca_private(self) -> ec.EllipticCurvePrivateKey:
        return self._require_private()

    def _copy(self, *, id: str | None, controller: str | None, private: bool) -> Self:
        key = self._require_private() if private else self._public
        return type(self)(key, id=id, controller=controller)


class RsaKeyPair(KeyPair):
    """An RSA key (2048 to 8192 bits) for JOSE ``RS256`` (RSASSA-PKCS1-v1_5 with SHA-256).

    No Data Integrity cryptosuite signs with RSA; the Open Badges 3.0 JSON Web Token proof
    format names ``RS256`` as the algorithm every implementation supports.
    """

    jose_alg = "RS256"
    hash_name = "sha256"

    def __init__(
        self,
        key: rsa.RSAPrivateKey | rsa.RSAPublicKey,
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> None:
        super().__init__(id=id, controller=controller)
        self.key_type = "RSA"
        if not RSA_MIN_BITS <= key.key_size <= RSA_MAX_BITS:
            raise MalformedValueError(
                f"RSA keys must have {RSA_MIN_BITS} to {RSA_MAX_BITS} bits, not {key.key_size}"
            )
        if isinstance(key, rsa.RSAPrivateKey):
            self._private: rsa.RSAPrivateKey | None = key
            self._public = key.public_key()
        else:
            self._private = None
            self._public = key
        self.signature_length = (self._public.key_size + 7) // 8
        self._public_der = self._public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )

    @classmethod
    def generate_rsa(
        cls, bits: int = RSA_MIN_BITS, *, id: str | None = None, controller: str | None = None
    ) -> RsaKeyPair:
        """A fresh RSA key of ``bits`` (public exponent 65537). MALFORMED_VALUE_ERROR."""
        if not RSA_MIN_BITS <= bits <= RSA_MAX_BITS:
            raise MalformedValueError(
                f"RSA keys must have {RSA_MIN_BITS} to {RSA_MAX_BITS} bits, not {bits}"
            )
        return cls(
            rsa.generate_private_key(public_exponent=65537, key_size=bits),
            id=id,
            controller=controller,
        )

    @classmethod
    def from_der(
        cls,
        der: bytes,
        *,
        private: bool,
        id: str | None = None,
        controller: str | None = None,
    ) -> RsaKeyPair:
        """From DER PKCS#1 ``RSAPublicKey`` / ``RSAPrivateKey`` (the multicodec forms).

        Raises MALFORMED_VALUE_ERROR for anything else or a key outside the size bounds.
        """
        try:
            if private:
                loaded_private = serialization.load_der_private_key(der, password=None)
                if not isinstance(loaded_private, rsa.RSAPrivateKey):
                    raise MalformedValueError("rsa-priv does not hold an RSA private key")
                return cls(loaded_private, id=id, controller=controller)
            loaded_public = serialization.load_der_public_key(der)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise MalformedValueError("RSA key is not DER PKCS#1") from exc
        if not isinstance(loaded_public, rsa.RSAPublicKey):
            raise MalformedValueError("rsa-pub does not hold an RSA public key")
        return cls(loaded_public, id=id, controller=controller)

    @property
    def bits(self) -> int:
        """The modulus size in bits."""
        return self._public.key_size

    @property
    def public_key_bytes(self) -> bytes:
        """DER PKCS#1 ``RSAPublicKey``."""
        return self._public_der

    @property
    def has_private(self) -> bool:
        return self._private is not None

    def _require_private(self) -> rsa.RSAPrivateKey:
        if self._private is None:
            raise MissingPrivateKeyError("this RSA key pair has no private key")
        return self._private

    def secret_key_bytes(self) -> bytes:
        """DER PKCS#1 ``RSAPrivateKey``."""
        return self._require_private().private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def sign(self, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256 (deterministic)."""
        return self._require_private().sign(data, padding.PKCS1v15(), hashes.SHA256())

    def verify(self, signature: bytes, data: bytes) -> None:
        if len(signature) != self.signature_length:
            raise ProofVerificationError(
                f"RS256 signature must be {self.signature_length} bytes, got {len(signature)}"
            )
        try:
            self._public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise ProofVerificationError("RSA signature does not verify") from exc

    def _pyca_public(self) -> rsa.RSAPublicKey:
        return self._public

    def _pyca_private(self) -> rsa.RSAPrivateKey:
        return self._require_private()

    def _copy(self, *, id: str | None, controller: str | None, private: bool) -> Self:
        key = self._require_private() if private else self._public
        return type(self)(key, id=id, controller=controller)


def load_keypair(path: str | Path) -> KeyPair:
    """Read a KEY.json file: a Multikey pair (as in the spec vectors) or a private JWK.

    A JWK (an object with ``kty``; the only form for RSA keys) takes its verification
    method id from ``kid`` (or ``id``) and an optional ``controller``.
    Raises ``PARSING_ERROR`` when the file cannot be read or is not JSON, and
    ``MALFORMED_VALUE_ERROR`` when it is not a valid key.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParsingError(f"cannot read key file {str(path)!r}: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParsingError(f"key file {str(path)!r} is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise MalformedValueError(f"key file {str(path)!r} is not a JSON object")
    if "kty" in doc:
        key_id = doc.get("kid", doc.get("id"))
        controller = doc.get("controller")
        for name, value in (("kid", key_id), ("controller", controller)):
            if value is not None and not isinstance(value, str):
                raise MalformedValueError(f"key file {name} must be a string")
        return KeyPair.from_jwk(cast(dict[str, Any], doc), id=key_id, controller=controller)
    return KeyPair.from_multikey(cast(dict[str, Any], doc))
