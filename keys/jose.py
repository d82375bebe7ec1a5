"""VC-JOSE-COSE: a credential secured as a compact JWS (``application/vc+jwt``).

Spec: W3C "Securing Verifiable Credentials using JOSE and COSE" 1.0, section 3.1.1
"Securing JSON-LD Verifiable Credentials with JOSE" (the unsecured credential *is* the
JWS payload; ``typ`` ``vc+jwt``; ``cty``, when present, ``vc``), appendix "JOSE Header
Parameters and JWT Claims" (``vc`` / ``vp`` claims MUST NOT be present; ``iss`` must
not conflict with ``issuer``; ``exp`` is the signature's expiry) and section
"Key Discovery" (``kid`` names the verification method, possibly relative to the
issuer). JWS itself: RFC 7515 compact serialization; algorithms RFC 7518 / RFC 8037.

The parser is strict and our own (no library decides which algorithm to use): three
canonical unpadded base64url segments, JSON objects without duplicate members, an
algorithm allowlist (``EdDSA`` for Ed25519, ``ES256`` for P-256, ``ES384`` for P-384,
and it must match the resolved key), never ``none`` and never HMAC (``HS*``, the
algorithm-confusion attack with a public key as the secret). Signatures are checked by
:class:`keys.keypair.KeyPair`, which takes the raw JWS forms (Ed25519 64 bytes; ECDSA
``r||s``).

Errors: PARSING_ERROR (malformed token), JWT_ALGORITHM_NOT_ALLOWED (ours),
MALFORMED_VALUE_ERROR (claims in conflict), INVALID_VERIFICATION_METHOD (from the
resolver), PROOF_VERIFICATION_ERROR (bad signature), PROOF_EXPIRED (``exp`` passed),
ISSUER_BINDING_ERROR, and DATA_LOSS_DETECTION_ERROR / CONTEXT_NOT_PINNED from the
JSON-LD context validation of the payload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from contexts import jsonld
from contexts.errors import (
    MalformedValueError,
    ParsingError,
    ProofGenerationError,
    ProofVerificationError,
)
from keys import multibase
from keys.dataintegrity.errors import (
    IssuerBindingError,
    JwtAlgorithmNotAllowedError,
    ProofExpiredError,
)
from keys.dataintegrity.proof import VerificationMethodResolver
from keys.dataintegrity.purposes import ASSERTION_METHOD, node_id
from keys.didkey import did_key_for
from keys.keypair import KeyPair

__all__ = [
    "ALLOWED_ALGORITHMS",
    "JWT_CLAIMS",
    "VC_JWT_TYP",
    "decode_vc_jwt",
    "sign_vc_jwt",
    "verify_vc_jwt",
]

VC_JWT_TYP = "vc+jwt"
_TYP_VALUES = frozenset({"vc+jwt", "application/vc+jwt"})
_CTY_VALUES = frozenset({"vc", "application/vc"})
#: JOSE ``alg`` -> the key type it is allowed with.
ALLOWED_ALGORITHMS: Mapping[str, str] = {"EdDSA": "Ed25519", "ES256": "P-256", "ES384": "P-384"}
_FORBIDDEN_CLAIMS = ("vc", "vp")
#: registered JWT claims (RFC 7519 section 4.1, RFC 7800) a payload may carry beside the
#: credential's JSON-LD; they are not JSON-LD terms, so context validation skips them.
JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf"})


def _context_validation(payload: Mapping[str, Any]) -> None:
    """The JSON-LD part of the payload uses only pinned contexts and defined terms.

    CONTEXT_NOT_PINNED, DATA_LOSS_DETECTION_ERROR.
    """
    if "@context" in payload:
        jsonld.check_safe({k: v for k, v in payload.items() if k not in JWT_CLAIMS})


def _b64url_encode(data: bytes) -> str:
    return multibase.encode(data, "base64url")[1:]


def _b64url_decode(segment: str, what: str) -> bytes:
    if not segment and what != "signature":
        raise ParsingError(f"JWS {what} segment is empty")
    try:
        return multibase.decode("u" + segment)
    except MalformedValueError as exc:
        raise ParsingError(f"JWS {what} is not canonical unpadded base64url") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ParsingError(f"duplicate JSON member {k!r}")
        out[k] = v
    return out


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
        # An escaped lone surrogate ("\\ud800") parses, but is not Unicode text: nothing
        # built from it could be encoded as UTF-8 again (RFC 7493 section 2.1).
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as exc:
        # ValueError: not UTF-8, not JSON, a lone surrogate, or an integer past Python's
        # digit limit (UnicodeDecodeError, JSONDecodeError, UnicodeEncodeError, ValueError).
        raise ParsingError(f"JWS {what} is not UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ParsingError(f"JWS {what} must be a JSON object")
    return cast(dict[str, Any], value)


def _check_algorithm(alg: Any) -> str:
    """Allowlist only; ``none`` and HMAC get their own explanation."""
    if not isinstance(alg, str):
        raise JwtAlgorithmNotAllowedError("JWS header alg is missing or not a string")
    if alg.lower() == "none":
        raise JwtAlgorithmNotAllowedError("unsecured JWS (alg none) is never accepted")
    if alg.upper().startswith("HS"):
        raise JwtAlgorithmNotAllowedError(
            f"HMAC algorithm {alg!r} refused: credentials are secured with public keys"
        )
    if alg not in ALLOWED_ALGORITHMS:
        raise JwtAlgorithmNotAllowedError(
            f"JWS algorithm {alg!r} not allowed (allowed: {', '.join(ALLOWED_ALGORITHMS)})"
        )
    return alg


def sign_vc_jwt(credential: Mapping[str, Any], key: KeyPair, *, kid: str | None = None) -> str:
    """Secure ``credential`` as a compact JWS with ``typ`` ``vc+jwt``.

    Header: ``{"alg": EdDSA|ES256|ES384, "kid": ..., "typ": "vc+jwt"}``; ``kid``
    defaults to ``key.id`` or else ``did:key:X#X``. The payload is the credential's JSON
    (UTF-8, compact). ECDSA signatures are RFC 6979 deterministic.

    Raises PROOF_GENERATION_ERROR (no private key, ``vc``/``vp`` members, not an object),
    DATA_LOSS_DETECTION_ERROR / CONTEXT_NOT_PINNED (the credential's JSON-LD).
    """
    if not isinstance(credential, Mapping):
        raise ProofGenerationError("the credential to secure must be a JSON object")
    if not key.has_private:
        raise ProofGenerationError("the signing key has no private key")
    for claim in _FORBIDDEN_CLAIMS:
        if claim in credential:
            raise ProofGenerationError(f"a vc+jwt payload must not have a {claim!r} member")
    _context_validation(credential)
    if kid is None:
        kid = key.id or f"{did_key_for(key)}#{key.public_key_multibase}"
    header = {"alg": key.jose_alg, "kid": kid, "typ": VC_JWT_TYP}
    signing_input = (
        _b64url_encode(json.dumps(header, separators=(",", ":")).encode("ascii"))
        + "."
        + _b64url_encode(
            json.dumps(credential, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        )
    )
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + _b64url_encode(signature)


def decode_vc_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Parse (not verify) a vc+jwt: ``(header, payload, signing_input, signature)``.

    Checks the compact form, the header (allowed ``alg``, ``typ`` ``vc+jwt``, ``cty``
    ``vc`` if present, no ``crit``) and that the payload is a JSON object without ``vc``
    / ``vp`` members. Raises PARSING_ERROR or JWT_ALGORITHM_NOT_ALLOWED.
    """
    if not isinstance(token, str):
        raise ParsingError("a vc+jwt must be a string")
    token = token.strip()
    if not token.isascii():
        raise ParsingError("a vc+jwt must be ASCII")
    parts = token.split(".")
    if len(parts) != 3:
        raise ParsingError(f"a compact JWS has 3 segments, got {len(parts)}")
    header = _json_object(_b64url_decode(parts[0], "header"), "header")
    _check_algorithm(header.get("alg"))
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _TYP_VALUES:
        raise ParsingError(f"JWS header typ must be {VC_JWT_TYP!r}, got {typ!r}")
    cty = header.get("cty")
    if cty is not None and (not isinstance(cty, str) or cty.lower() not in _CTY_VALUES):
        raise ParsingError(f"JWS header cty must be 'vc' when present, got {cty!r}")
    if "crit" in header:
        raise ParsingError("JWS header crit names extensions this verifier does not support")
    payload = _json_object(_b64url_decode(parts[1], "payload"), "payload")
    for claim in _FORBIDDEN_CLAIMS:
        if claim in payload:
            raise ParsingError(f"a vc+jwt payload must not have a {claim!r} claim")
    signature = _b64url_decode(parts[2], "signature")
    return header, payload, (parts[0] + "." + parts[1]).encode("ascii"), signature


def _numeric_date(payload: Mapping[str, Any], claim: str) -> datetime | None:
    value = payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedValueError(f"JWT claim {claim} must be a NumericDate", pointer=f"/{claim}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedValueError(
            f"JWT claim {claim} is out of range", pointer=f"/{claim}"
        ) from exc


def verify_vc_jwt(
    token: str,
    resolver: VerificationMethodResolver,
    *,
    issuer_binding: bool = True,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Verify a vc+jwt and return the credential (the payload).

    Steps: strict parse (:func:`decode_vc_jwt`); ``kid`` (absolute, or ``#fragment``
    relative to the issuer) resolved through ``resolver`` for ``assertionMethod``;
    ``alg`` must be the key's own algorithm; signature; ``iss`` (if any) equal to the
    issuer; ``exp`` after ``at`` (default now) and ``nbf`` not after it; the payload's
    JSON-LD contexts pinned and terms defined; issuer binding (the key's controller
    is the issuer) unless ``issuer_binding=False``.

    Raises PARSING_ERROR, JWT_ALGORITHM_NOT_ALLOWED, MALFORMED_VALUE_ERROR,
    INVALID_VERIFICATION_METHOD, PROOF_VERIFICATION_ERROR, PROOF_EXPIRED,
    ISSUER_BINDING_ERROR, DATA_LOSS_DETECTION_ERROR, CONTEXT_NOT_PINNED.
    """
    header, payload, signing_input, signature = decode_vc_jwt(token)
    alg = str(header["alg"])
    issuer = node_id(payload.get("issuer"))
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedValueError("JWS header has no kid to find the issuer's key", pointer="/kid")
    if kid.startswith("#"):
        if issuer is None:
            raise MalformedValueError("a relative kid needs a credential issuer", pointer="/kid")
        kid = issuer + kid

    key, controller_doc = resolver.resolve_verification_method(kid, ASSERTION_METHOD)
    if ALLOWED_ALGORITHMS[alg] != key.key_type:
        raise JwtAlgorithmNotAllowedError(
            f"JWS alg {alg} does not match the {key.key_type} key of {kid!r}"
        )
    key.verify(signature, signing_input)

    iss = payload.get("iss")
    if iss is not None and iss != issuer:
        raise MalformedValueError(
            f"JWT iss {iss!r} conflicts with the credential issuer {issuer!r}", pointer="/iss"
        )
    now = at if at is not None else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    exp = _numeric_date(payload, "exp")
    if exp is not None and exp <= now:
        raise ProofExpiredError(f"the JWT expired at {exp.isoformat()}", pointer="/exp")
    nbf = _numeric_date(payload, "nbf")
    if nbf is not None and nbf > now:
        raise ProofVerificationError(f"the JWT is not valid before {nbf.isoformat()}")
    _context_validation(payload)
    if issuer_binding:
        controller_id = controller_doc.get("id")
        controller = controller_id if isinstance(controller_id, str) else key.controller
        if issuer is None or controller != issuer:
            raise IssuerBindingError(
                f"the JWT is signed by {controller!r}, not by the issuer {issuer!r}",
                pointer="/issuer",
            )
    return payload
