"""The one jwcrypto facade: JSON Web Keys (RFC 7517 / RFC 8037) to and from pyca keys.

Everything in sijil that touches jwcrypto's key object goes through here, so the
translation of its exceptions (to ``MALFORMED_VALUE_ERROR``) and the set of key types
we accept (Ed25519, P-256, P-384, and RSA of 2048 to 8192 bits for ``RS256``) live in one
place. :mod:`keys.keypair` builds on
these functions for ``KeyPair.to_jwk`` / ``KeyPair.from_jwk``; :mod:`keys.jose` uses
:func:`to_jwcrypto` to hand keys to jwcrypto's JWS code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto import jwk as _jwk
from jwcrypto.common import JWException

from contexts.errors import MalformedValueError

__all__ = [
    "RSA_MAX_BITS",
    "RSA_MIN_BITS",
    "PrivateKey",
    "PublicKey",
    "export_jwk",
    "import_jwk",
    "to_jwcrypto",
]

#: Smallest RSA modulus accepted (RFC 7518 section 3.3: 2048 bits or larger MUST be used).
RSA_MIN_BITS = 2048
#: Largest RSA modulus accepted (bounds the work a hostile key can cause).
RSA_MAX_BITS = 8192

PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

_ALLOWED = {("OKP", "Ed25519"), ("EC", "P-256"), ("EC", "P-384"), ("RSA", None)}
#: JWK members kept, by kty (RFC 7518 section 6); jwcrypto's extras (``kid``, ...) dropped.
_MEMBERS = {
    "OKP": ("kty", "crv", "x", "d"),
    "EC": ("kty", "crv", "x", "y", "d"),
    "RSA": ("kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"),
}
_PUBLIC_MEMBERS = {"OKP": ("x",), "EC": ("x", "y"), "RSA": ("n", "e")}


def to_jwcrypto(key: PrivateKey | PublicKey) -> Any:
    """The ``jwcrypto.jwk.JWK`` for a pyca key (private keys keep their private part)."""
    return _jwk.JWK.from_pyca(key)


def export_jwk(key: PrivateKey | PublicKey, *, private: bool = False) -> dict[str, str]:
    """The JWK members of ``key`` (``kty``, ``crv``, ``x`` [, ``y``] [, ``d``]; RSA: ``kty``,
    ``n``, ``e`` [, ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``]).

    ``private=True`` needs a private key and adds ``d``; otherwise only the public members
    are returned, even for a private key.
    """
    obj = to_jwcrypto(key)
    if private:
        if not obj.has_private:
            raise MalformedValueError("cannot export a private JWK from a public key")
        out = obj.export_private(as_dict=True)
    else:
        out = obj.export_public(as_dict=True)
    # jwcrypto adds a thumbprint ``kid``; the caller names keys itself (``kid`` = VM id).
    keep = _MEMBERS.get(str(out.get("kty")), ())
    return {str(k): str(v) for k, v in out.items() if k in keep}


def import_jwk(jwk: Mapping[str, Any]) -> PrivateKey | PublicKey:
    """The pyca key for a JWK: a private key when ``d`` is present, else a public key.

    Accepts only OKP/Ed25519, EC/P-256, EC/P-384 (the curves sijil signs with) and RSA of
    :data:`RSA_MIN_BITS` to :data:`RSA_MAX_BITS` bits (``RS256``).
    Raises ``MALFORMED_VALUE_ERROR`` for anything else or an invalid key.
    """
    if not isinstance(jwk, Mapping):
        raise MalformedValueError("JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if (kty, crv) not in _ALLOWED:
        raise MalformedValueError(f"unsupported JWK key type kty={kty!r} crv={crv!r}")
    members = {k: v for k, v in jwk.items() if k in _MEMBERS[str(kty)]}
    if not all(isinstance(v, str) for v in members.values()):
        raise MalformedValueError("JWK members must be strings")
    try:
        obj = _jwk.JWK(**members)
        key = obj.get_op_key("sign" if obj.has_private else "verify")
    except (JWException, ValueError, TypeError) as exc:
        raise MalformedValueError(f"invalid JWK: {exc}") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        public = export_jwk(key.public_key())
        if any(members.get(m) != public.get(m) for m in _PUBLIC_MEMBERS[str(kty)] if m in public):
            raise MalformedValueError("private JWK: the public members do not belong to d")
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if not RSA_MIN_BITS <= key.key_size <= RSA_MAX_BITS:
            raise MalformedValueError(
                f"RSA JWK has {key.key_size} bits; {RSA_MIN_BITS} to {RSA_MAX_BITS} are accepted"
            )
        return key
    if not isinstance(
        key,
        ed25519.Ed25519PrivateKey
        | ed25519.Ed25519PublicKey
        | ec.EllipticCurvePrivateKey
        | ec.EllipticCurvePublicKey,
    ):
        raise MalformedValueError("JWK is not an Ed25519, NIST curve or RSA key")
    return key
