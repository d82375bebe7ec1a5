"""Wallet offers: one record per offer, reachable through every wallet protocol.

An offer names a learner's active awards (one, or "all my credentials") and whether the
wallet must prove control of a DID (``bind_holder``). It is reached through its interaction
URL (``{BASE}/interactions/<id>?iuv=1``), which lists the protocols: the VC-API exchange URL
and the OpenID4VCI credential offer (by reference). Offers expire (:data:`OFFER_LIFETIME`
unless told otherwise) and are single-use: the VC-API exchange completes once, the
pre-authorized code is redeemed once.

The pre-authorized code is derived from the offer id with the instance's secret key (HMAC), so
the offer can be served by reference without storing the code; the database keeps only its
hash. The optional transaction code (a PIN sent to the learner by another channel) is stored
hashed and allows :data:`MAX_TX_CODE_ATTEMPTS` wrong tries.

Errors: ``NOT_FOUND`` (unknown learner, award or offer), ``AWARD_NOT_DELIVERABLE`` (an award
that is not active or not the learner's), ``OFFER_EXPIRED``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from issuer.db.models import Award, Learner
from issuer.services import audit
from issuer.services.errors import NotFoundError
from issuer.services.runtime import Runtime, as_utc
from issuer.wallet.configurations import configuration_ids_for
from issuer.wallet.errors import AwardNotDeliverableError, OfferExpiredError
from issuer.wallet.models import WalletOffer

__all__ = [
    "MAX_TX_CODE_ATTEMPTS",
    "OFFER_LIFETIME",
    "PRE_AUTHORIZED_GRANT",
    "CreatedOffer",
    "OfferLinks",
    "create_offer",
    "credential_offer",
    "load_offer",
    "offer_links",
    "pre_authorized_code",
    "secret_hash",
]

#: How long an offer can be taken (the learner scans it right away).
OFFER_LIFETIME: Final = timedelta(minutes=15)
#: Wrong transaction codes tolerated before the offer's code stops working.
MAX_TX_CODE_ATTEMPTS: Final = 5
#: OpenID4VCI 1.0 section 4.1.1 grant type.
PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
_TX_CODE_LENGTH: Final = 6


def secret_hash(value: str) -> str:
    """The SHA-256 hex digest under which a wallet-presented secret is stored."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def pre_authorized_code(secret_key: str, offer_id: str) -> str:
    """The offer's pre-authorized code: ``HMAC-SHA256(secret key, offer id)``, base64url."""
    mac = hmac.new(secret_key.encode("utf-8"), f"oid4vci:{offer_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class OfferLinks:
    """Every way to reach one offer."""

    interaction_url: str
    exchange_url: str
    credential_offer_url: str
    credential_offer_uri: str
    lcw_request: str
    lcw_legacy_request: str | None

    def protocols(self) -> dict[str, Any]:
        """The interaction URL's JSON answer (VC-API "interaction URL" protocols object)."""
        return {"protocols": {"vcapi": self.exchange_url, "oid4vci-1.0": self.credential_offer_uri}}


def offer_links(base_url: str, offer_id: str, *, challenge: str | None = None) -> OfferLinks:
    """The links of offer ``offer_id`` on the issuer at ``base_url``.

    ``lcw_request`` is the Learner Credential Wallet's deep link carrying a credential request
    with the VC-API protocol (``https://lcw.app/request?request=...``). ``lcw_legacy_request``
    (holder-bound offers only: it needs ``challenge``) is the older
    ``request.html?issuer=...&vc_request_url=...`` form, whose wallets POST a DIDAuth
    presentation straight to the exchange URL.
    """
    exchange_url = f"{base_url}/workflows/claim/exchanges/{offer_id}"
    offer_url = f"{base_url}/oid4vci/offers/{offer_id}"
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    request = json.dumps(
        {"credentialRequestOrigin": origin, "protocols": {"vcapi": exchange_url}},
        separators=(",", ":"),
    )
    legacy = None
    if challenge is not None:
        legacy = "https://lcw.app/request.html?" + urlencode(
            {
                "issuer": origin,
                "auth_type": "bearer",
                "challenge": challenge,
                "vc_request_url": exchange_url,
            }
        )
    return OfferLinks(
        interaction_url=f"{base_url}/interactions/{offer_id}?iuv=1",
        exchange_url=exchange_url,
        credential_offer_url=offer_url,
        credential_offer_uri="openid-credential-offer://?credential_offer_uri="
        + quote(offer_url, safe=""),
        lcw_request="https://lcw.app/request?request=" + quote(request, safe=""),
        lcw_legacy_request=legacy,
    )


@dataclass(frozen=True)
class CreatedOffer:
    """A new offer: its links, and the transaction code (shown once; ``None`` when not needed)."""

    id: str
    learner: str
    award_ids: tuple[str, ...]
    bind_holder: bool
    expires_at: datetime
    links: OfferLinks
    tx_code: str | None

    def to_dict(self) -> dict[str, Any]:
        """What ``awards wallet-offer --json`` prints (plus the other links)."""
        return {
            "interactionUrl": self.links.interaction_url,
            "credentialOffer": self.links.credential_offer_uri,
            "txCode": self.tx_code,
            "id": self.id,
            "learner": self.learner,
            "awards": list(self.award_ids),
            "bindHolder": self.bind_holder,
            "expiresAt": self.expires_at.isoformat(),
            "exchangeUrl": self.links.exchange_url,
            "lcwRequest": self.links.lcw_request,
            "lcwLegacyRequest": self.links.lcw_legacy_request,
        }


def _award_named(wanted: str) -> ColumnElement[bool]:
    """An award by its id or its credential URL (as the other ``awards`` commands take)."""
    return or_(Award.id == wanted, Award.credential_id == wanted)


def _awards_for(session: Session, learner: Learner, award_ids: Sequence[str] | None) -> list[Award]:
    query = select(Award).where(Award.learner_id == learner.id)
    if award_ids is None:
        rows = list(
            session.scalars(query.where(Award.status == "active").order_by(Award.issued_at))
        )
        if not rows:
            raise AwardNotDeliverableError(f"learner {learner.external_id} has no active award")
        return rows
    rows = []
    for wanted in award_ids:
        row = session.scalar(select(Award).where(_award_named(wanted)))
        if row is None:
            raise NotFoundError(f"no award {wanted!r}")
        if row.learner_id != learner.id:
            raise AwardNotDeliverableError(f"award {wanted} is not {learner.external_id}'s")
        if row.status != "active":
            raise AwardNotDeliverableError(f"award {wanted} is {row.status}; only active awards")
        rows.append(row)
    return rows


def create_offer(
    rt: Runtime,
    *,
    learner: str | None,
    award_ids: Sequence[str] | None,
    bind_holder: bool,
    actor: str,
    lifetime: timedelta = OFFER_LIFETIME,
    with_tx_code: bool = False,
) -> CreatedOffer:
    """Offer the learner's awards ``award_ids`` (``None``: every active award) to a wallet.

    ``learner`` (external id) may be ``None`` when ``award_ids`` names awards: the learner is
    then theirs. Audited as ``wallet.offer``. Raises as the module says.
    """
    if learner is None and not award_ids:
        raise NotFoundError("name a learner or at least one award")
    at = rt.now()
    with rt.transaction() as session:
        if learner is None:
            first_id = next(iter(award_ids or ()), "")
            first = session.scalar(select(Award).where(_award_named(first_id)))
            if first is None:
                raise NotFoundError(f"no award {first_id!r}")
            row = session.get(Learner, first.learner_id)
        else:
            row = session.scalar(select(Learner).where(Learner.external_id == learner))
        if row is None:
            raise NotFoundError(f"no learner {learner!r}")
        awards = _awards_for(session, row, award_ids)
        offer_id = secrets.token_urlsafe(24)
        tx_code = (
            "".join(str(secrets.randbelow(10)) for _ in range(_TX_CODE_LENGTH))
            if with_tx_code
            else None
        )
        offer = WalletOffer(
            id=offer_id,
            learner_id=row.id,
            award_ids=[a.id for a in awards],
            bind_holder=bind_holder,
            created_by=actor,
            created_at=at,
            expires_at=at + lifetime,
            challenge=secrets.token_urlsafe(24),
            completed_at=None,
            pre_authorized_code_hash=secret_hash(
                pre_authorized_code(rt.settings.secret_key, offer_id)
            ),
            tx_code_hash=secret_hash(tx_code) if tx_code is not None else None,
            tx_code_attempts=0,
            code_used_at=None,
            access_token_hash=None,
            access_token_expires_at=None,
            configurations_delivered=[],
        )
        session.add(offer)
        audit.record(
            session,
            at=at,
            actor=actor,
            action="wallet.offer",
            target_type="learner",
            target_id=row.external_id,
            detail={
                "offer": offer_id[:8],
                "awards": offer.award_ids,
                "bindHolder": bind_holder,
                "txCode": tx_code is not None,
            },
        )
        learner_id = row.external_id
    return CreatedOffer(
        id=offer_id,
        learner=learner_id,
        award_ids=tuple(offer.award_ids),
        bind_holder=bind_holder,
        expires_at=offer.expires_at,
        links=offer_links(
            rt.settings.base_url, offer_id, challenge=offer.challenge if bind_holder else None
        ),
        tx_code=tx_code,
    )


def load_offer(session: Session, offer_id: str, *, at: datetime, lock: bool = False) -> WalletOffer:
    """The offer ``offer_id`` (row-locked with ``lock`` on PostgreSQL).

    Raises ``NOT_FOUND`` (unknown) or ``OFFER_EXPIRED``.
    """
    query = select(WalletOffer).where(WalletOffer.id == offer_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    offer = session.scalar(query)
    if offer is None:
        raise NotFoundError("no such offer: it may have been mistyped or withdrawn")
    if as_utc(offer.expires_at) <= at:
        raise OfferExpiredError(
            "this offer has expired; open your credentials page and add to your wallet again"
        )
    return offer


def credential_offer(rt: Runtime, session: Session, offer: WalletOffer) -> dict[str, Any]:
    """The OpenID4VCI 1.0 Credential Offer (section 4.1.1) of ``offer``."""
    types = [
        award_type
        for (award_type,) in session.execute(
            select(Award.award_type).where(Award.id.in_(offer.award_ids))
        )
    ]
    grant: dict[str, Any] = {
        "pre-authorized_code": pre_authorized_code(rt.settings.secret_key, offer.id)
    }
    if offer.tx_code_hash is not None:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": _TX_CODE_LENGTH,
            "description": "The code sent to you with this offer / Kod yang dihantar bersama "
            "tawaran ini",
        }
    return {
        "credential_issuer": rt.settings.base_url,
        "credential_configuration_ids": configuration_ids_for(types),
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }
