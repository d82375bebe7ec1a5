"""The VC-API exchange of an offer (W3C VC-API "exchanges"; the Learner Credential Wallet's flow).

Two forms, both answered at ``POST {BASE}/workflows/claim/exchanges/<id>``:

- *Direct* (default offers): the first ``POST {}`` answers ``{"verifiablePresentation":
  {"verifiableCredential": [...]}}`` with the awards as issued (they name the learner by the
  hashed e-mail already).
- *Holder-bound*: the first ``POST {}`` answers a ``verifiablePresentationRequest`` for
  ``DIDAuthentication`` with the offer's ``challenge`` and the issuer's ``domain``; the wallet
  POSTs ``{"verifiablePresentation": <DIDAuth presentation>}`` signed by its ``did:key`` (with
  ``Ed25519Signature2020``, as the Learner Credential Wallet does, or a Data Integrity proof);
  sijil checks purpose, challenge, domain and signature and answers with copies bound to that
  DID, signed with ``eddsa-rdfc-2022`` (the issuer's suite). Older wallet releases, reached
  through the ``request.html?...&vc_request_url=`` deep link, POST the bare presentation with
  the challenge from the link and no domain; that form is accepted too.

An exchange delivers once: a replay answers ``EXCHANGE_COMPLETE`` and issues nothing. A
presentation that fails any check changes nothing (the wallet may try again until the offer
expires).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from contexts import VC_V2
from issuer.services.runtime import Runtime
from issuer.wallet.binding import deliver
from issuer.wallet.errors import ExchangeCompleteError, InvalidPresentationError
from issuer.wallet.models import WalletOffer
from issuer.wallet.offers import load_offer, offer_links
from keys.dataintegrity import verify_proofs
from keys.dataintegrity.ed25519_signature_2020 import (
    PROOF_TYPE as ED25519_SIGNATURE_2020,
)
from keys.dataintegrity.ed25519_signature_2020 import verify_ed25519_signature_2020
from keys.dataintegrity.purposes import AUTHENTICATION, types_of

__all__ = ["ACCEPTED_CRYPTOSUITES", "exchange_domain", "exchange_step", "verify_did_auth"]

#: What a DIDAuth presentation may be signed with (the request lists them for the wallet).
ACCEPTED_CRYPTOSUITES: Final = ("eddsa-rdfc-2022", ED25519_SIGNATURE_2020)


def exchange_domain(base_url: str) -> str:
    """The ``domain`` a DIDAuth proof must name: the issuer's host (and port)."""
    return urlsplit(base_url).netloc


def _presentation_request(rt: Runtime, offer: WalletOffer) -> dict[str, Any]:
    links = offer_links(rt.settings.base_url, offer.id)
    return {
        "verifiablePresentationRequest": {
            "query": [
                {
                    "type": "DIDAuthentication",
                    "acceptedMethods": [{"method": "key"}],
                    "acceptedCryptosuites": [{"cryptosuite": c} for c in ACCEPTED_CRYPTOSUITES],
                }
            ],
            "challenge": offer.challenge,
            "domain": exchange_domain(rt.settings.base_url),
            "interact": {
                "service": [
                    {
                        "type": "UnmediatedHttpPresentationService2021",
                        "serviceEndpoint": links.exchange_url,
                    }
                ]
            },
        }
    }


def verify_did_auth(rt: Runtime, presentation: Any, *, challenge: str, domain: str | None) -> str:
    """The DID that signed the DIDAuth ``presentation`` (its ``holder``), after checking the
    proof's purpose (``authentication``), ``challenge``, ``domain`` (when given) and signature.

    Raises ``INVALID_PRESENTATION`` for a presentation of the wrong shape or holder, and the
    proof errors (``PROOF_VERIFICATION_ERROR``, ``INVALID_CHALLENGE_ERROR``,
    ``INVALID_DOMAIN_ERROR``, ``MISMATCHED_PROOF_PURPOSE_ERROR``, ...) otherwise.
    """
    if not isinstance(presentation, Mapping) or "VerifiablePresentation" not in types_of(
        presentation
    ):
        raise InvalidPresentationError(
            "send a VerifiablePresentation signed for DID Authentication",
            pointer="/verifiablePresentation",
        )
    holder = presentation.get("holder")
    holder = holder.get("id") if isinstance(holder, Mapping) else holder
    if not isinstance(holder, str) or not holder.startswith("did:key:"):
        raise InvalidPresentationError(
            "the presentation's holder must be the wallet's did:key", pointer="/holder"
        )
    proof = presentation.get("proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if len(proofs) != 1 or not isinstance(proofs[0], Mapping):
        raise InvalidPresentationError("the presentation needs exactly one proof", pointer="/proof")
    if proofs[0].get("type") == ED25519_SIGNATURE_2020:
        key = verify_ed25519_signature_2020(
            presentation,
            rt.resolver,
            expected_purpose=AUTHENTICATION,
            challenge=challenge,
            domain=domain,
        )
        signer = key.controller
    else:
        results = verify_proofs(
            presentation,
            rt.resolver,
            expected_purpose=AUTHENTICATION,
            challenge=challenge,
            domain=domain,
        )
        signer = results[0].controller if results else None
    if signer != holder:
        raise InvalidPresentationError(
            "the presentation was not signed by its holder", pointer="/proof/verificationMethod"
        )
    return holder


def _presentation_in(body: Any) -> tuple[Any, bool]:
    """The presentation a POST carries, and whether it came wrapped (VC-API form)."""
    if not isinstance(body, Mapping):
        return None, True
    if "verifiablePresentation" in body:
        return body["verifiablePresentation"], True
    if "VerifiablePresentation" in types_of(body):
        return body, False
    return None, True


def exchange_step(rt: Runtime, offer_id: str, body: Any) -> dict[str, Any]:
    """Answer one POST to offer ``offer_id``'s exchange (see the module docstring).

    Raises ``NOT_FOUND``, ``OFFER_EXPIRED``, ``EXCHANGE_COMPLETE``, ``AWARD_NOT_DELIVERABLE`` and
    the DIDAuth errors of :func:`verify_did_auth`.
    """
    at = rt.now()
    with rt.reading() as session:
        offer = load_offer(session, offer_id, at=at)
        if offer.completed_at is not None:
            raise ExchangeCompleteError("this exchange already delivered its credentials")
        bind_holder, challenge = offer.bind_holder, offer.challenge
        if bind_holder:
            presentation, wrapped = _presentation_in(body)
            if presentation is None:
                return _presentation_request(rt, offer)
    holder = None
    if bind_holder:
        domain = exchange_domain(rt.settings.base_url) if wrapped else None
        holder = verify_did_auth(rt, presentation, challenge=challenge, domain=domain)
    with rt.transaction() as session:
        offer = load_offer(session, offer_id, at=at, lock=True)
        if offer.completed_at is not None:
            raise ExchangeCompleteError("this exchange already delivered its credentials")
        credentials = deliver(
            rt,
            session,
            offer,
            protocol="vcapi",
            fmt="ldp_vc" if holder is not None else "original",
            holder=holder,
            at=at,
        )
        offer.completed_at = at
    return {
        "verifiablePresentation": {
            "@context": [VC_V2],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": credentials,
        }
    }
