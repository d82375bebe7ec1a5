"""Wallet clients written from the protocol specs, for the wallet tests (not from our server).

:class:`VcApiWallet` behaves like the Learner Credential Wallet: it follows an interaction URL
(``?iuv=1``) to the VC-API exchange, POSTs ``{}``, answers a ``DIDAuthentication`` request with
a presentation signed ``Ed25519Signature2020`` for a fresh ``did:key`` (the legacy suite,
implemented here from its specification with pyld directly), and keeps the credentials of
``verifiablePresentation.verifiableCredential``. :class:`Oid4vciWallet` runs the OpenID4VCI 1.0
pre-authorized code flow: offer by reference, issuer metadata, token, nonce and credential
endpoints, JWT key proofs (EdDSA with a did:key ``kid``, ES256 with a ``jwk``).

HTTP is plain ``urllib``; keys are ``cryptography``'s; canonicalization is pyld's URDNA2015 over
the pinned published contexts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import base58
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyld import jsonld

from contexts.loader import document_loader

__all__ = [
    "HttpAnswer",
    "Oid4vciWallet",
    "VcApiWallet",
    "did_key_of",
    "http",
    "sign_ed25519_2020",
]

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
VC_V1 = "https://www.w3.org/2018/credentials/v1"


@dataclass(frozen=True)
class HttpAnswer:
    """Status, headers and parsed JSON body (``None`` when not JSON) of one request."""

    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.text)


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpAnswer:
    """One real HTTP request; 4xx/5xx answers are returned, not raised."""
    data = None
    sent = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode("utf-8")
        sent.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode("ascii")
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return HttpAnswer(
                response.status, dict(response.headers), response.read().decode("utf-8")
            )
    except urllib.error.HTTPError as err:
        with err:
            return HttpAnswer(err.code, dict(err.headers), err.read().decode("utf-8"))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def did_key_of(key: Ed25519PrivateKey) -> str:
    """``did:key`` of an Ed25519 key: multicodec ``0xed01`` + key, base58btc (did:key spec)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "did:key:z" + base58.b58encode(b"\xed\x01" + raw).decode("ascii")


def _canonical(doc: dict[str, Any]) -> bytes:
    nquads = jsonld.normalize(
        doc,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader,
        },
    )
    return str(nquads).encode("utf-8")


def sign_ed25519_2020(
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    *,
    verification_method: str,
    purpose: str,
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """``document`` with an ``Ed25519Signature2020`` proof (the suite's algorithm: SHA-256 of the
    canonical proof options then of the canonical document, signed, base58btc multibase)."""
    contexts = document["@context"]
    doc = dict(document)
    if ED25519_2020_CONTEXT not in contexts:
        doc["@context"] = [*contexts, ED25519_2020_CONTEXT]
    proof: dict[str, Any] = {
        "type": "Ed25519Signature2020",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "proofPurpose": purpose,
    }
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    options = {"@context": doc["@context"], **proof}
    data = hashlib.sha256(_canonical(options)).digest() + hashlib.sha256(_canonical(doc)).digest()
    proof["proofValue"] = "z" + base58.b58encode(key.sign(data)).decode("ascii")
    return {**doc, "proof": proof}


@dataclass
class VcApiWallet:
    """A Learner-Credential-Wallet-like VC-API client with its own did:key."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    stored: list[Any] = field(default_factory=list)

    @property
    def did(self) -> str:
        """The wallet's DID."""
        return did_key_of(self.key)

    @property
    def verification_method(self) -> str:
        """``did:key:X#X``."""
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def exchange_url(self, interaction_url: str) -> str:
        """Follow an interaction URL: it must carry ``iuv=1`` and list a ``vcapi`` protocol."""
        assert "iuv=1" in urllib.parse.urlsplit(interaction_url).query
        answer = http("GET", interaction_url, headers={"Accept": "application/json"})
        assert answer.status == 200, answer.text
        return str(answer.json()["protocols"]["vcapi"])

    def did_auth(self, request: dict[str, Any], *, wrapped: bool = True) -> dict[str, Any]:
        """The DIDAuth presentation for a ``verifiablePresentationRequest``."""
        presentation = {
            "@context": [VC_V1],
            "type": ["VerifiablePresentation"],
            "holder": self.did,
        }
        return sign_ed25519_2020(
            presentation,
            self.key,
            verification_method=self.verification_method,
            purpose="authentication",
            challenge=request.get("challenge"),
            domain=request.get("domain") if wrapped else None,
        )

    def run(self, interaction_url: str) -> HttpAnswer:
        """The whole exchange; stores what it receives and returns the last answer."""
        url = self.exchange_url(interaction_url)
        answer = http("POST", url, json_body={})
        if answer.status != 200:
            return answer
        body = answer.json()
        if "verifiablePresentationRequest" in body:
            request = body["verifiablePresentationRequest"]
            assert request["query"][0]["type"] == "DIDAuthentication"
            assert request["challenge"]
            assert request["domain"]
            next_url = request["interact"]["service"][0]["serviceEndpoint"]
            presentation = self.did_auth(request)
            answer = http("POST", next_url, json_body={"verifiablePresentation": presentation})
            if answer.status != 200:
                return answer
            body = answer.json()
        self.stored.extend(body["verifiablePresentation"]["verifiableCredential"])
        return answer


def _es256_signature(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@dataclass
class Oid4vciWallet:
    """An OpenID4VCI 1.0 wallet (pre-authorized code flow) with an Ed25519 and a P-256 key."""

    ed_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    ec_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credentials: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def did(self) -> str:
        """The DID of the Ed25519 key."""
        return did_key_of(self.ed_key)

    def ec_jwk(self) -> dict[str, str]:
        """The public P-256 key as a JWK."""
        numbers = self.ec_key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }

    def key_proof(self, *, issuer: str, nonce: str, alg: str = "EdDSA") -> str:
        """A ``openid4vci-proof+jwt`` for ``issuer`` and ``nonce`` (appendix F.1)."""
        header: dict[str, Any] = {"typ": "openid4vci-proof+jwt", "alg": alg}
        if alg == "EdDSA":
            header["kid"] = f"{self.did}#{self.did.removeprefix('did:key:')}"
        else:
            header["jwk"] = self.ec_jwk()
        claims = {"aud": issuer, "iat": int(time.time()), "nonce": nonce}
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        if alg == "EdDSA":
            signature = self.ed_key.sign(signing_input.encode("ascii"))
        else:
            signature = _es256_signature(self.ec_key, signing_input.encode("ascii"))
        return signing_input + "." + _b64url(signature)

    @staticmethod
    def offer(credential_offer: str) -> dict[str, Any]:
        """Resolve an ``openid-credential-offer://`` URI (by value or by reference)."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(credential_offer).query)
        if "credential_offer" in query:
            return dict(json.loads(query["credential_offer"][0]))
        answer = http("GET", query["credential_offer_uri"][0])
        assert answer.status == 200, answer.text
        return dict(answer.json())

    @staticmethod
    def metadata(issuer: str) -> dict[str, Any]:
        """The Credential Issuer Metadata (section 12.2.2: well-known suffix on the host)."""
        answer = http("GET", f"{issuer}/.well-known/openid-credential-issuer")
        assert answer.status == 200, answer.text
        return dict(answer.json())

    @staticmethod
    def token(issuer: str, code: str, tx_code: str | None) -> HttpAnswer:
        """Redeem the pre-authorized code at the token endpoint."""
        server = http("GET", f"{issuer}/.well-known/oauth-authorization-server").json()
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": code,
        }
        if tx_code is not None:
            form["tx_code"] = tx_code
        return http("POST", server["token_endpoint"], form=form)

    def request(
        self, metadata: dict[str, Any], access_token: str, config_id: str, *, alg: str
    ) -> HttpAnswer:
        """One credential request with a fresh nonce and a key proof."""
        nonce = http("POST", metadata["nonce_endpoint"]).json()["c_nonce"]
        proof = self.key_proof(issuer=metadata["credential_issuer"], nonce=nonce, alg=alg)
        return http(
            "POST",
            metadata["credential_endpoint"],
            json_body={"credential_configuration_id": config_id, "proofs": {"jwt": [proof]}},
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def run(self, credential_offer: str, tx_code: str | None) -> list[HttpAnswer]:
        """Take every configuration of the offer: ldp_vc with the did:key, jwt_vc_json with the
        P-256 JWK. Returns each credential answer."""
        offer = self.offer(credential_offer)
        metadata = self.metadata(offer["credential_issuer"])
        grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        token = self.token(offer["credential_issuer"], grant["pre-authorized_code"], tx_code)
        assert token.status == 200, token.text
        access_token = token.json()["access_token"]
        answers = []
        for config_id in offer["credential_configuration_ids"]:
            config = metadata["credential_configurations_supported"][config_id]
            alg = "EdDSA" if config["format"] == "ldp_vc" else "ES256"
            answer = self.request(metadata, access_token, config_id, alg=alg)
            answers.append(answer)
            if answer.status == 200:
                self.credentials[config_id] = [
                    c["credential"] for c in answer.json()["credentials"]
                ]
        return answers
