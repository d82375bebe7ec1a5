"""Deliver an offer's awards: the originals, or holder-bound signed copies.

A holder-bound copy is the award's credential with ``credentialSubject.id`` set to the wallet's
DID and a fresh ``id`` (``urn:uuid:...``), signed now with the issuer's current key, either with
a Data Integrity proof (``ldp_vc``) or as an Open Badges 3.0 JWT (``jwt_vc_json``). It keeps the
award's ``validFrom`` and its ``credentialStatus``: every copy shares the award's revocation
entry, so revoking the award revokes every copy. An MMS copy keeps its embedded COAs verbatim;
the learner's identity hash still ties them together, so stacking holds.

Every copy is self-verified like every credential the issuer signs (a revoked or suspended
award therefore cannot be delivered) and recorded with the wallet's DID
(:class:`~issuer.wallet.models.WalletDelivery`, audited as ``award.wallet_delivery``).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.db.models import Award, Issuer
from issuer.services import audit
from issuer.services.issuance import pin_issuer_documents, secure_credential, verify_own
from issuer.services.issuers import get_issuer, signing_key
from issuer.services.runtime import Runtime
from issuer.wallet.errors import AwardNotDeliverableError
from issuer.wallet.models import WalletDelivery, WalletOffer
from keys.jose import sign_vc_jwt

__all__ = ["DeliveryFormat", "deliver", "deliveries_of"]

DeliveryFormat = Literal["original", "ldp_vc", "jwt_vc_json"]


def _unsigned_copy(credential: dict[str, Any], holder: str) -> dict[str, Any]:
    unsigned = {k: copy.deepcopy(v) for k, v in credential.items() if k != "proof"}
    unsigned["id"] = f"urn:uuid:{uuid.uuid4()}"
    subject = unsigned.get("credentialSubject")
    if isinstance(subject, dict):
        subject["id"] = holder
    return unsigned


def _bound_copy(
    rt: Runtime,
    session: Session,
    award: Award,
    holder: str,
    fmt: Literal["ldp_vc", "jwt_vc_json"],
    at: datetime,
) -> tuple[str, dict[str, Any] | str]:
    issuer_row = session.get(Issuer, award.issuer_id)
    if issuer_row is None:  # a foreign key guarantees it; a clear error if the row vanished
        raise AwardNotDeliverableError(f"award {award.id} has no issuer")
    issuer = get_issuer(rt, issuer_row.slug)
    unsigned = _unsigned_copy(json.loads(award.credential_json), holder)
    if fmt == "ldp_vc":
        return unsigned["id"], secure_credential(rt, issuer, unsigned, at=at, session=session)
    key = signing_key(rt, issuer)
    token = sign_vc_jwt(unsigned, key, kid=key.id or issuer.verification_method)
    pin_issuer_documents(rt, [issuer])
    verify_own(rt, token, at=at, session=session)
    return unsigned["id"], token


def deliver(
    rt: Runtime,
    session: Session,
    offer: WalletOffer,
    *,
    protocol: str,
    fmt: DeliveryFormat,
    holder: str | None,
    at: datetime,
    award_types: Sequence[str] | None = None,
) -> list[dict[str, Any] | str]:
    """The credentials ``offer`` delivers now, recorded in ``session`` (the caller commits).

    ``fmt`` ``original`` delivers the stored signed credentials; ``ldp_vc``/``jwt_vc_json``
    sign copies bound to ``holder``. ``award_types`` limits the awards (an OpenID4VCI
    configuration covers some types). Awards no longer active are skipped; none left raises
    ``AWARD_NOT_DELIVERABLE``.
    """
    query = select(Award).where(Award.id.in_(offer.award_ids)).order_by(Award.issued_at)
    awards = [
        a
        for a in session.scalars(query)
        if a.status == "active" and (award_types is None or a.award_type in award_types)
    ]
    if not awards:
        raise AwardNotDeliverableError(
            "the offered credentials are no longer active (revoked or suspended since the offer)"
        )
    out: list[dict[str, Any] | str] = []
    for award in awards:
        if fmt == "original":
            credential_id, credential = award.credential_id, json.loads(award.credential_json)
        else:
            if holder is None:
                raise AwardNotDeliverableError("a holder-bound copy needs the wallet's DID")
            credential_id, credential = _bound_copy(rt, session, award, holder, fmt, at)
        text = credential if isinstance(credential, str) else json.dumps(credential)
        session.add(
            WalletDelivery(
                id=str(uuid.uuid4()),
                offer_id=offer.id,
                award_id=award.id,
                protocol=protocol,
                format=fmt,
                holder=holder,
                credential_id=credential_id,
                credential=text,
                delivered_at=at,
            )
        )
        audit.record(
            session,
            at=at,
            actor=f"wallet:{offer.id[:8]}",
            action="award.wallet_delivery",
            target_type="award",
            target_id=award.id,
            detail={"protocol": protocol, "format": fmt, "holder": holder, "copy": credential_id},
        )
        out.append(credential)
    return out


def deliveries_of(rt: Runtime, award_id: str) -> list[dict[str, Any]]:
    """Which wallets received award ``award_id`` and when (newest first), for award views."""
    with rt.reading() as session:
        rows = session.scalars(
            select(WalletDelivery)
            .where(WalletDelivery.award_id == award_id)
            .order_by(WalletDelivery.delivered_at.desc())
        )
        return [
            {
                "holder": row.holder,
                "protocol": row.protocol,
                "format": row.format,
                "credentialId": row.credential_id,
                "deliveredAt": row.delivered_at.isoformat(),
            }
            for row in rows
        ]
