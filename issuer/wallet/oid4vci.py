"""OpenID for Verifiable Credential Issuance 1.0 (Final), pre-authorized code flow.

The issuer is its own authorization server. A wallet given an offer (``credential_offer_uri``)
reads the Credential Offer, redeems its pre-authorized code (and transaction code, when the
offer has one) at the token endpoint for a short-lived access token, fetches a ``c_nonce``
from the nonce endpoint, and asks the credential endpoint for each offered configuration with
a key proof (``openid4vci-proof+jwt``, EdDSA or ES256, the key named by a ``did:key`` ``kid``
or a ``jwk``). The credential is bound to that key: ``credentialSubject.id`` is the ``did:key``,
or ``did:jwk:...`` of the JWK.

Single use everywhere: a pre-authorized code is redeemed once (a second attempt also withdraws
the access token it produced, RFC 6749 section 4.1.2), a nonce proves one request, an access
token receives each configuration once. Errors are the OAuth 2.0 / OpenID4VCI codes
(:mod:`issuer.wallet.errors`); nothing is issued when any check fails.

Sections cited: 4.1.1 (Credential Offer), 6 (Token Endpoint), 7 (Nonce Endpoint), 8 (Credential
Endpoint), 8.2.1.1 and appendix F.1 (JWT key proof), 12.2 (Credential Issuer Metadata).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contexts.errors import SijilError
from issuer.db.models import Award
from issuer.services import audit
from issuer.services.issuers import get_issuer, signing_key
from issuer.services.runtime import Runtime, as_utc
from issuer.wallet.binding import deliver
from issuer.wallet.configurations import (
    CONFIGURATIONS,
    PROOF_SIGNING_ALGORITHMS,
    configuration_ids_for,
    configurations_supported,
)
from issuer.wallet.errors import (
    AwardNotDeliverableError,
    CredentialRequestDeniedError,
    InvalidCredentialRequestError,
    InvalidGrantError,
    InvalidNonceError,
    InvalidOAuthRequestError,
    InvalidProofError,
    InvalidTokenError,
    UnknownConfigurationError,
    UnsupportedGrantTypeError,
)
from issuer.wallet.models import WalletNonce, WalletOffer
from issuer.wallet.offers import (
    MAX_TX_CODE_ATTEMPTS,
    PRE_AUTHORIZED_GRANT,
    credential_offer,
    load_offer,
    secret_hash,
)
from keys.dataintegrity.purposes import AUTHENTICATION
from keys.keypair import KeyPair
from verifier import parse_json_text

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "NONCE_LIFETIME",
    "PROOF_JWT_TYP",
    "authorization_server_metadata",
    "credential_issuer_metadata",
    "issue_credential",
    "new_nonce",
    "offer_by_reference",
    "redeem_pre_authorized_code",
    "verify_key_proof",
]

ACCESS_TOKEN_LIFETIME: Final = timedelta(minutes=5)
NONCE_LIFETIME: Final = timedelta(minutes=5)
#: OpenID4VCI 1.0 section 8.2.1.1: the ``typ`` of a JWT key proof.
PROOF_JWT_TYP: Final = "openid4vci-proof+jwt"
#: How far a key proof's ``iat`` may lie from our clock.
_IAT_PAST: Final = timedelta(minutes=5)
_IAT_FUTURE: Final = timedelta(minutes=1)
_KEY_TYPE_OF_ALG: Final = {"EdDSA": "Ed25519", "ES256": "P-256"}


def _endpoint(rt: Runtime, path: str) -> str:
    return f"{rt.settings.base_url}{path}"


def credential_issuer_metadata(rt: Runtime) -> dict[str, Any]:
    """``/.well-known/openid-credential-issuer`` (section 12.2): endpoints, display and the
    configurations the default issuer signs (from the format registry)."""
    issuer = get_issuer(rt)
    key = signing_key(rt, issuer)
    return {
        "credential_issuer": rt.settings.base_url,
        "credential_endpoint": _endpoint(rt, "/oid4vci/credential"),
        "nonce_endpoint": _endpoint(rt, "/oid4vci/nonce"),
        "display": [{"name": issuer.name, "locale": "en"}, {"name": issuer.name, "locale": "ms"}],
        "credential_configurations_supported": configurations_supported(
            key_type=issuer.key_type, jose_alg=key.jose_alg, cryptosuite=issuer.cryptosuite
        ),
    }


def authorization_server_metadata(rt: Runtime) -> dict[str, Any]:
    """``/.well-known/oauth-authorization-server`` (RFC 8414; OpenID4VCI section 12.3)."""
    return {
        "issuer": rt.settings.base_url,
        "token_endpoint": _endpoint(rt, "/oid4vci/token"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],
    }


def offer_by_reference(rt: Runtime, offer_id: str) -> dict[str, Any]:
    """The Credential Offer behind ``credential_offer_uri`` (``NOT_FOUND``, ``OFFER_EXPIRED``)."""
    with rt.reading() as session:
        offer = load_offer(session, offer_id, at=rt.now())
        return credential_offer(rt, session, offer)


def redeem_pre_authorized_code(rt: Runtime, form: Mapping[str, str]) -> dict[str, Any]:
    """The token endpoint (section 6): a pre-authorized code (and ``tx_code``) for an access
    token. Raises ``invalid_request``, ``unsupported_grant_type`` or ``invalid_grant``."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidOAuthRequestError("grant_type is required")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise UnsupportedGrantTypeError(f"only {PRE_AUTHORIZED_GRANT} is supported")
    code = form.get("pre-authorized_code")
    if not code:
        raise InvalidOAuthRequestError("pre-authorized_code is required")
    at = rt.now()
    refusal: SijilError | None = None
    token = secrets.token_urlsafe(32)
    with rt.transaction() as session:
        offer = session.scalar(
            select(WalletOffer)
            .where(WalletOffer.pre_authorized_code_hash == secret_hash(code))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if offer is None:
            raise InvalidGrantError("unknown pre-authorized code")
        if as_utc(offer.expires_at) <= at:
            raise InvalidGrantError("the offer has expired; ask for a new one")
        if offer.code_used_at is not None:
            offer.access_token_hash = None  # a replayed code withdraws what it obtained
            refusal = InvalidGrantError("this pre-authorized code was already used")
        elif offer.tx_code_hash is not None:
            sent = form.get("tx_code", "")
            if offer.tx_code_attempts >= MAX_TX_CODE_ATTEMPTS:
                refusal = InvalidGrantError("too many wrong transaction codes; ask for a new offer")
            elif not sent or not hmac.compare_digest(secret_hash(sent), offer.tx_code_hash):
                offer.tx_code_attempts += 1
                refusal = InvalidGrantError("missing or wrong transaction code (tx_code)")
        if refusal is None:
            offer.code_used_at = at
            offer.access_token_hash = secret_hash(token)
            offer.access_token_expires_at = at + ACCESS_TOKEN_LIFETIME
            audit.record(
                session,
                at=at,
                actor=f"wallet:{offer.id[:8]}",
                action="wallet.token",
                target_type="wallet_offer",
                target_id=offer.id[:8],
            )
    if refusal is not None:  # raised after the commit, so attempts and withdrawals stick
        raise refusal
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


def new_nonce(rt: Runtime) -> dict[str, Any]:
    """The nonce endpoint (section 7): a fresh single-use ``c_nonce``."""
    at = rt.now()
    value = secrets.token_urlsafe(24)
    with rt.transaction() as session:
        session.execute(delete(WalletNonce).where(WalletNonce.expires_at < at))
        session.add(WalletNonce(value_hash=secret_hash(value), expires_at=at + NONCE_LIFETIME))
    return {"c_nonce": value}


def _b64url_json(segment: str, what: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return parse_json_text(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, SijilError) as exc:
        raise InvalidProofError(f"the key proof's {what} is not base64url JSON") from exc


@dataclass(frozen=True)
class _KeyProof:
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes


def _parse_jwt(token: Any) -> _KeyProof:
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidProofError("the key proof must be a compact JWT")
    head, body, sig = token.split(".")
    header, claims = _b64url_json(head, "header"), _b64url_json(body, "payload")
    if not isinstance(header, Mapping) or not isinstance(claims, Mapping):
        raise InvalidProofError("the key proof's header and payload must be JSON objects")
    try:
        signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except binascii.Error as exc:
        raise InvalidProofError("the key proof's signature is not base64url") from exc
    return _KeyProof(header, claims, f"{head}.{body}".encode("ascii"), signature)


def _did_jwk(jwk: Mapping[str, Any]) -> str:
    public = {k: jwk[k] for k in ("crv", "kty", "x", "y") if k in jwk}
    text = json.dumps(public, separators=(",", ":"), sort_keys=True)
    return "did:jwk:" + base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode()


def _proof_key(rt: Runtime, header: Mapping[str, Any]) -> tuple[KeyPair, str]:
    """The key a proof names and the holder id it binds to."""
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None) or "x5c" in header:
        raise InvalidProofError("the key proof must name its key by exactly one of kid or jwk")
    if jwk is not None:
        if not isinstance(jwk, Mapping) or "d" in jwk:
            raise InvalidProofError("jwk must be a public JWK object")
        try:
            return KeyPair.from_jwk(jwk), _did_jwk(jwk)
        except SijilError as exc:
            raise InvalidProofError(f"unusable jwk: {exc.detail}") from exc
    if not isinstance(kid, str) or not kid.startswith("did:key:") or "#" not in kid:
        raise InvalidProofError("kid must be a did:key verification method URL")
    try:
        key, _ = rt.resolver.resolve_verification_method(kid, AUTHENTICATION)
    except SijilError as exc:
        raise InvalidProofError(f"cannot resolve kid: {exc.detail}") from exc
    return key, kid.split("#", 1)[0]


def verify_key_proof(rt: Runtime, session: Session, token: Any, *, at: datetime) -> str:
    """Check a ``jwt`` key proof (appendix F.1) and consume its nonce; return the holder id.

    Raises ``invalid_proof`` (shape, type, algorithm, audience, time, signature) or
    ``invalid_nonce``.
    """
    proof = _parse_jwt(token)
    if proof.header.get("typ") != PROOF_JWT_TYP:
        raise InvalidProofError(f"the key proof's typ must be {PROOF_JWT_TYP}")
    alg = proof.header.get("alg")
    if alg not in PROOF_SIGNING_ALGORITHMS:
        raise InvalidProofError(f"alg must be one of {', '.join(PROOF_SIGNING_ALGORITHMS)}")
    key, holder = _proof_key(rt, proof.header)
    if key.key_type != _KEY_TYPE_OF_ALG[alg]:
        raise InvalidProofError(f"alg {alg} does not match the {key.key_type} key")
    aud = proof.claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if rt.settings.base_url not in audiences:
        raise InvalidProofError(f"aud must be the credential issuer {rt.settings.base_url}")
    iat = proof.claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidProofError("iat (a NumericDate) is required")
    now = at.timestamp()
    if not now - _IAT_PAST.total_seconds() <= iat <= now + _IAT_FUTURE.total_seconds():
        raise InvalidProofError("the key proof's iat is too far from the issuer's clock")
    try:
        key.verify(proof.signature, proof.signing_input)
    except SijilError as exc:
        raise InvalidProofError("the key proof's signature does not verify") from exc
    nonce = proof.claims.get("nonce")
    row = (
        session.get(WalletNonce, secret_hash(nonce), with_for_update=True)
        if isinstance(nonce, str)
        else None
    )
    if row is None or row.used_at is not None or as_utc(row.expires_at) <= at:
        raise InvalidNonceError("unknown, used or expired nonce; get a fresh c_nonce")
    row.used_at = at
    return holder


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("send the access token as Authorization: Bearer <token>")
    return token.strip()


def _proof_jwt(body: Mapping[str, Any]) -> Any:
    """The one ``jwt`` key proof of a credential request (``proofs`` of 1.0, or the earlier
    drafts' single ``proof``)."""
    proofs, single = body.get("proofs"), body.get("proof")
    if proofs is not None and single is not None:
        raise InvalidCredentialRequestError("send either proofs or proof, not both")
    if isinstance(proofs, Mapping):
        jwts = proofs.get("jwt")
        if set(proofs) != {"jwt"} or not isinstance(jwts, list) or len(jwts) != 1:
            raise InvalidProofError('proofs must be {"jwt": [one key proof]}')
        return jwts[0]
    if isinstance(single, Mapping) and single.get("proof_type") == "jwt":
        return single.get("jwt")
    raise InvalidProofError("a jwt key proof is required")


def issue_credential(rt: Runtime, authorization: str | None, body: Any) -> dict[str, Any]:
    """The credential endpoint (section 8): the offered awards of one configuration, bound to
    the proof's key. Raises the OAuth / OpenID4VCI errors of the module."""
    token = _bearer(authorization)
    if not isinstance(body, Mapping):
        raise InvalidCredentialRequestError("the credential request must be a JSON object")
    if "credential_identifier" in body:
        raise InvalidCredentialRequestError("credential_identifier is not used by this issuer")
    config_id = body.get("credential_configuration_id")
    if not isinstance(config_id, str):
        raise InvalidCredentialRequestError("credential_configuration_id is required")
    jwt = _proof_jwt(body)
    at = rt.now()
    with rt.transaction() as session:
        offer = session.scalar(
            select(WalletOffer)
            .where(WalletOffer.access_token_hash == secret_hash(token))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        expires = offer.access_token_expires_at if offer is not None else None
        if offer is None or expires is None or as_utc(expires) <= at:
            raise InvalidTokenError("unknown or expired access token")
        award_types = [
            t
            for (t,) in session.execute(
                select(Award.award_type).where(Award.id.in_(offer.award_ids))
            )
        ]
        config = CONFIGURATIONS.get(config_id)
        if config is None or config_id not in configuration_ids_for(award_types):
            raise UnknownConfigurationError(f"{config_id!r} is not offered to this token")
        if config_id in offer.configurations_delivered:
            raise CredentialRequestDeniedError(f"{config_id} was already delivered to this token")
        holder = verify_key_proof(rt, session, jwt, at=at)
        try:
            credentials = deliver(
                rt,
                session,
                offer,
                protocol="oid4vci",
                fmt=config.format,
                holder=holder,
                at=at,
                award_types=sorted(config.award_types),
            )
        except AwardNotDeliverableError as exc:
            raise CredentialRequestDeniedError(exc.detail) from exc
        offer.configurations_delivered = [*offer.configurations_delivered, config_id]
    return {"credentials": [{"credential": c} for c in credentials]}
