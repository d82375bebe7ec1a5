"""VC-JOSE-COSE and the Open Badges 3.0 JSON Web Token proof format: a credential as a JWS.

Spec: W3C "Securing Verifiable Credentials using JOSE and COSE" 1.0, section 3.1.1
"Securing JSON-LD Verifiable Credentials with JOSE" (the unsecured credential *is* the
JWS payload; ``typ`` ``vc+jwt``; ``cty``, when present, ``vc``), appendix "JOSE Header
Parameters and JWT Claims" (``vc`` / ``vp`` claims MUST NOT be present; ``iss`` must
not conflict with ``issuer``; ``exp`` is the signature's expiry) and section
"Key Discovery" (``kid`` names the verification method, possibly relative to the
issuer). JWS itself: RFC 7515 compact serialization; algorithms RFC 7518 / RFC 8037.

Open Badges 3.0 section 8.2 "JSON Web Token Proof Format" (also CLR 2.0) narrows this for
``OpenBadgeCredential`` / ``AchievementCredential`` / ``EndorsementCredential`` /
``ClrCredential``: JOSE header ``alg`` (``RS256`` the minimum), ``kid`` (a URI dereferencing
to the public key) or ``jwk`` (the public key, never ``d``), ``typ`` ``"JWT"`` if present,
no other header; the payload is the credential plus the claims ``iss`` = ``issuer.id``,
``jti`` = ``id``, ``sub`` = ``credentialSubject.id``, ``nbf`` = ``validFrom`` and ``exp`` =
``validUntil`` (NumericDate, when the credential has one). :func:`sign_vc_jwt` writes that
profile for those types and the plain VC-JOSE-COSE form (payload = credential, ``typ``
``vc+jwt``) for any other credential; :func:`verify_vc_jwt` checks the claims: any claim
present must agree with the credential, and for the Open Badges types the claims the
profile requires must be there.

The parser is strict and our own (no library decides which algorithm to use): three
canonical unpadded base64url segments, JSON objects without duplicate members, an
algorithm allowlist (``EdDSA`` for Ed25519, ``ES256`` for P-256, ``ES384`` for P-384,
``RS256`` for RSA of 2048 bits or more, and it must match the resolved key), never
``none`` and never HMAC (``HS*``, the algorithm-confusion attack with a public key as the
secret). Signatures are checked by :class:`keys.keypair.KeyPair`, which takes the raw JWS
forms (Ed25519 64 bytes; ECDSA ``r||s``; RSA PKCS#1 v1.5).

A ``jwk`` header never supplies the key on its own (a token must not vouch for itself): with
a ``kid`` it must equal the key the ``kid`` resolves to; without one it is accepted only for
a ``did:key`` issuer, whose DID is that very key.

Errors: PARSING_ERROR (malformed token), JWT_ALGORITHM_NOT_ALLOWED (ours),
MALFORMED_VALUE_ERROR (claims missing or in conflict), INVALID_VERIFICATION_METHOD (from the
resolver; a ``jwk`` that is not the issuer's key), PROOF_VERIFICATION_ERROR (bad signature),
PROOF_EXPIRED (``exp`` passed), ISSUER_BINDING_ERROR, and DATA_LOSS_DETECTION_ERROR /
CONTEXT_NOT_PINNED from the JSON-LD context validation of the payload.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from contexts import jsonld
from contexts.errors import (
    InvalidVerificationMethodError,
    MalformedValueError,
    ParsingError,
    ProofGenerationError,
    ProofVerificationError,
)
from contexts.jsontext import loads_strict
from keys import multibase
from keys.dataintegrity.errors import (
    IssuerBindingError,
    JwtAlgorithmNotAllowedError,
    ProofExpiredError,
)
from keys.dataintegrity.proof import VerificationMethodResolver
from keys.dataintegrity.purposes import ASSERTION_METHOD, node_id, types_of
from keys.didkey import DID_KEY_PREFIX, did_key_for
from keys.keypair import KeyPair

__all__ = [
    "ALLOWED_ALGORITHMS",
    "JWT_CLAIMS",
    "OB_JWT_TYP",
    "OB_JWT_TYPES",
    "VC_JWT_TYP",
    "decode_vc_jwt",
    "is_open_badges_profile",
    "jwt_claims_for",
    "sign_vc_jwt",
    "verify_vc_jwt",
]

VC_JWT_TYP = "vc+jwt"
#: ``typ`` of the Open Badges 3.0 JSON Web Token proof format.
OB_JWT_TYP = "JWT"
#: Credential types whose VC-JWT follows the Open Badges 3.0 / CLR 2.0 JWT proof format.
OB_JWT_TYPES = frozenset(
    {"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential", "ClrCredential"}
)
_TYP_VALUES = frozenset({"vc+jwt", "application/vc+jwt", "jwt"})
_CTY_VALUES = frozenset({"vc", "application/vc"})
#: JOSE ``alg`` -> the key type it is allowed with.
ALLOWED_ALGORITHMS: Mapping[str, str] = {
    "EdDSA": "Ed25519",
    "ES256": "P-256",
    "ES384": "P-384",
    "RS256": "RSA",
}
_DATE_TIME = re.compile(
    r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
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


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParsingError(f"JWS {what} is not UTF-8: {exc}") from exc
    value = loads_strict(text, what=f"JWS {what}")
    try:
        # An escaped lone surrogate ("\\ud800") parses, but is not Unicode text: nothing
        # built from it could be encoded as UTF-8 again (RFC 7493 section 2.1).
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError) as exc:
        raise ParsingError(f"JWS {what} is not Unicode JSON: {exc}") from exc
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


def is_open_badges_profile(credential: Mapping[str, Any]) -> bool:
    """Whether ``credential``'s JWT follows the Open Badges 3.0 JWT proof format (its type)."""
    return any(t in OB_JWT_TYPES for t in types_of(credential))


def _numeric_date_of(value: Any, name: str) -> int:
    """An XSD dateTime string as a NumericDate (whole seconds, fraction dropped)."""
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise MalformedValueError(f"{name} is not an XSD dateTime", pointer=f"/{name}")
    text = re.sub(r"\.([0-9]+)", lambda m: "." + (m.group(1) + "000000")[:6], value, count=1)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return math.floor(moment.timestamp())
    except (ValueError, OverflowError) as exc:
        raise MalformedValueError(
            f"{name} is out of the supported range", pointer=f"/{name}"
        ) from exc


def jwt_claims_for(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT claims that mirror ``credential`` (Open Badges 3.0 section 8.2.3).

    ``iss`` = ``issuer.id`` (or the issuer string), ``jti`` = ``id``, ``sub`` =
    ``credentialSubject.id`` (one subject), ``nbf`` = ``validFrom`` (VC 1.1:
    ``issuanceDate``), ``exp`` = ``validUntil`` (VC 1.1: ``expirationDate``); each only
    when the credential has the value. MALFORMED_VALUE_ERROR for a malformed date.
    """
    claims: dict[str, Any] = {}
    issuer = node_id(credential.get("issuer"))
    if issuer is not None:
        claims["iss"] = issuer
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    for claim, names in (
        ("nbf", ("validFrom", "issuanceDate")),
        ("exp", ("validUntil", "expirationDate")),
    ):
        for name in names:
            if name in credential:
                claims[claim] = _numeric_date_of(credential[name], name)
                break
    return claims


def sign_vc_jwt(
    credential: Mapping[str, Any],
    key: KeyPair,
    *,
    kid: str | None = None,
    include_jwk: bool = False,
) -> str:
    """Secure ``credential`` as a compact JWS.

    Open Badges / CLR credentials (:data:`OB_JWT_TYPES`) follow the Open Badges 3.0 JWT
    proof format: header ``{"alg", "kid", "typ": "JWT"}`` (plus the public ``jwk`` with
    ``include_jwk``), payload = the credential plus :func:`jwt_claims_for`'s claims. Any
    other credential: header ``{"alg", "kid", "typ": "vc+jwt"}``, payload = the credential
    (VC-JOSE-COSE section 3.1.1). ``alg`` is the key's: ``EdDSA``, ``ES256``, ``ES384`` or
    ``RS256``; ``kid`` defaults to ``key.id`` or else ``did:key:X#X``. ECDSA signatures are
    RFC 6979 deterministic; RSA PKCS#1 v1.5 is deterministic too.

    Raises PROOF_GENERATION_ERROR (no private key, ``vc``/``vp`` members, a JWT claim in the
    credential that disagrees with it, not an object), MALFORMED_VALUE_ERROR (a malformed
    date), DATA_LOSS_DETECTION_ERROR / CONTEXT_NOT_PINNED (the credential's JSON-LD).
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
    payload: dict[str, Any] = dict(credential)
    header: dict[str, Any] = {"alg": key.jose_alg, "kid": kid, "typ": VC_JWT_TYP}
    if is_open_badges_profile(credential):
        header["typ"] = OB_JWT_TYP
        for claim, value in jwt_claims_for(credential).items():
            if claim in payload and payload[claim] != value:
                raise ProofGenerationError(
                    f"the credential's {claim!r} member disagrees with the credential"
                )
            payload[claim] = value
    if include_jwk:
        header["jwk"] = key.to_jwk()
    signing_input = (
        _b64url_encode(json.dumps(header, separators=(",", ":")).encode("ascii"))
        + "."
        + _b64url_encode(
            json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        )
    )
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + _b64url_encode(signature)


def decode_vc_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Parse (not verify) a vc+jwt: ``(header, payload, signing_input, signature)``.

    Checks the compact form, the header (allowed ``alg``, ``typ`` ``vc+jwt`` or (Open
    Badges 3.0) ``JWT`` when present, ``cty`` ``vc`` if present, ``jwk`` an object if
    present, no ``crit``) and that the payload is a JSON object without ``vc``
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
    if "typ" in header and (not isinstance(typ, str) or typ.lower() not in _TYP_VALUES):
        raise ParsingError(f"JWS header typ must be {VC_JWT_TYP!r} or 'JWT', got {typ!r}")
    if "jwk" in header and not isinstance(header["jwk"], dict):
        raise ParsingError("JWS header jwk must be a JSON object")
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


def _header_key(
    header: Mapping[str, Any], issuer: str | None, resolver: VerificationMethodResolver
) -> tuple[KeyPair, Mapping[str, Any], str]:
    """The issuer's key for the token: from ``kid`` (resolved), or for a ``jwk``-only
    header of a did:key issuer, from the DID itself. A ``jwk`` must be that same key.
    """
    kid = header.get("kid")
    jwk = header.get("jwk")
    if isinstance(jwk, Mapping) and "d" in jwk:
        raise MalformedValueError("JWS header jwk contains a private key", pointer="/jwk")
    if kid is None and isinstance(jwk, Mapping):
        if issuer is None or not issuer.startswith(DID_KEY_PREFIX):
            raise InvalidVerificationMethodError(
                "the token names its key only by an embedded jwk; without a kid the key "
                "cannot be tied to the issuer (only a did:key issuer is its own key)"
            )
        kid = issuer + "#" + issuer[len(DID_KEY_PREFIX) :]
    if not isinstance(kid, str) or not kid:
        raise MalformedValueError("JWS header has no kid to find the issuer's key", pointer="/kid")
    if kid.startswith("#"):
        if issuer is None:
            raise MalformedValueError("a relative kid needs a credential issuer", pointer="/kid")
        kid = issuer + kid
    key, controller_doc = resolver.resolve_verification_method(kid, ASSERTION_METHOD)
    if isinstance(jwk, Mapping):
        try:
            embedded = KeyPair.from_jwk(jwk)
        except MalformedValueError as exc:
            raise MalformedValueError(f"JWS header jwk: {exc.detail}", pointer="/jwk") from exc
        if (embedded.key_type, embedded.public_key_bytes) != (key.key_type, key.public_key_bytes):
            raise InvalidVerificationMethodError(
                f"the header's jwk is not the key of {kid!r}", pointer="/jwk"
            )
    return key, controller_doc, kid


def _check_claims(payload: Mapping[str, Any]) -> set[str]:
    """Each registered claim present agrees with the credential; the Open Badges profile's
    required claims are present. Returns the claims that mirror the credential.
    MALFORMED_VALUE_ERROR (pointer: the claim).
    """
    expected = jwt_claims_for(payload)
    mirrored: set[str] = set()
    for claim, value in expected.items():
        if claim in payload:
            if payload[claim] != value:
                raise MalformedValueError(
                    f"JWT claim {claim} {payload[claim]!r} disagrees with the credential "
                    f"({value!r})",
                    pointer=f"/{claim}",
                )
            mirrored.add(claim)
        elif is_open_badges_profile(payload):
            raise MalformedValueError(
                f"an Open Badges JWT must carry the {claim} claim ({value!r})",
                pointer=f"/{claim}",
            )
    for claim in ("iss", "sub", "jti"):
        if claim in payload and claim not in expected:
            raise MalformedValueError(
                f"JWT claim {claim} has nothing in the credential to match", pointer=f"/{claim}"
            )
    return mirrored


def verify_vc_jwt(
    token: str,
    resolver: VerificationMethodResolver,
    *,
    issuer_binding: bool = True,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Verify a VC-JWT (VC-JOSE-COSE or the Open Badges 3.0 profile); return the payload.

    Steps: strict parse (:func:`decode_vc_jwt`); the key from ``kid`` (absolute, or
    ``#fragment`` relative to the issuer) resolved through ``resolver`` for
    ``assertionMethod`` (a ``jwk`` header must be that key; see the module docstring);
    ``alg`` must be the key's own algorithm; signature; the registered claims agree with
    the credential (``iss``, ``jti``, ``sub``, ``nbf``, ``exp``; required for the Open
    Badges types); ``exp`` after ``at`` (default now) and ``nbf`` not after it, unless they
    mirror ``validUntil`` / ``validFrom`` (then the validity check, with its clock-skew
    allowance, reports expiry); the payload's JSON-LD contexts pinned and terms defined;
    issuer binding (the key's controller is the issuer) unless ``issuer_binding=False``.

    Raises PARSING_ERROR, JWT_ALGORITHM_NOT_ALLOWED, MALFORMED_VALUE_ERROR,
    INVALID_VERIFICATION_METHOD, PROOF_VERIFICATION_ERROR, PROOF_EXPIRED,
    ISSUER_BINDING_ERROR, DATA_LOSS_DETECTION_ERROR, CONTEXT_NOT_PINNED.
    """
    header, payload, signing_input, signature = decode_vc_jwt(token)
    alg = str(header["alg"])
    issuer = node_id(payload.get("issuer"))
    key, controller_doc, kid = _header_key(header, issuer, resolver)
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
    mirrored = _check_claims(payload)
    now = at if at is not None else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    exp = _numeric_date(payload, "exp")
    if exp is not None and exp <= now and "exp" not in mirrored:
        raise ProofExpiredError(f"the JWT expired at {exp.isoformat()}", pointer="/exp")
    nbf = _numeric_date(payload, "nbf")
    if nbf is not None and nbf > now and "nbf" not in mirrored:
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
