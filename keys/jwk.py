"""The one jwcrypto facade: JSON Web Keys (RFC 7517 / RFC 8037) to and from pyca keys.

Everything in sijil that touches jwcrypto's key object goes through here, so the
translation of its exceptions (to ``MALFORMED_VALUE_ERROR``) and the set of key types
we accept (Ed25519, P-256, P-384) live in one place. :mod:`keys.keypair` builds on
these functions for ``KeyPair.to_jwk`` / ``KeyPair.from_jwk``; :mod:`keys.jose` uses
:func:`to_jwcrypto` to hand keys to jwcrypto's JWS code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwcrypto import jwk as _jwk
from jwcrypto.common import JWException

from contexts.errors import MalformedValueError

__all__ = ["PrivateKey", "PublicKey", "export_jwk", "import_jwk", "to_jwcrypto"]

PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

_ALLOWED = {("OKP", "Ed25519"), ("EC", "P-256"), ("EC", "P-384")}


def to_jwcrypto(key: PrivateKey | PublicKey) -> Any:
    """The ``jwcrypto.jwk.JWK`` for a pyca key (private keys keep their private part)."""
    return _jwk.JWK.from_pyca(key)


def export_jwk(key: PrivateKey | PublicKey, *, private: bool = False) -> dict[str, str]:
    """The JWK members of ``key`` (``kty``, ``crv``, ``x`` [, ``y``] [, ``d``]).

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
    return {str(k): str(v) for k, v in out.items() if k in ("kty", "crv", "x", "y", "d")}


def import_jwk(jwk: Mapping[str, Any]) -> PrivateKey | PublicKey:
    """The pyca key for a JWK: a private key when ``d`` is present, else a public key.

    Accepts only OKP/Ed25519 and EC/P-256, EC/P-384 (the curves sijil signs with).
    Raises ``MALFORMED_VALUE_ERROR`` for anything else or an invalid key.
    """
    if not isinstance(jwk, Mapping):
        raise MalformedValueError("JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if (kty, crv) not in _ALLOWED:
        raise MalformedValueError(f"unsupported JWK key type kty={kty!r} crv={crv!r}")
    members = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "d")}
    if not all(isinstance(v, str) for v in members.values()):
        raise MalformedValueError("JWK members must be strings")
    try:
        obj = _jwk.JWK(**members)
        key = obj.get_op_key("sign" if obj.has_private else "verify")
    except (JWException, ValueError, TypeError) as exc:
        raise MalformedValueError(f"invalid JWK: {exc}") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        public = export_jwk(key.public_key())
        if any(members.get(m) != public.get(m) for m in ("x", "y") if m in public):
            raise MalformedValueError("private JWK: x/y do not belong to d")
    if not isinstance(
        key,
        ed25519.Ed25519PrivateKey
        | ed25519.Ed25519PublicKey
        | ec.EllipticCurvePrivateKey
        | ec.EllipticCurvePublicKey,
    ):
        raise MalformedValueError("JWK is not an Ed25519 or NIST curve key")
    return key
