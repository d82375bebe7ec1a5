"""The signing-key lifecycle after rotation: list, activate, retire (with what the key signed).

:func:`issuer.services.issuers.rotate_key` stages a key; :func:`activate_key` switches signing
to it once every instance holds the key file (each instance's ``/readyz`` lists the staged keys
its key store lacks); :func:`retire_key` withdraws a key from the DID document, after which
proofs naming it no longer verify, and reports (optionally revokes) the awards it signed.

Errors: ``NOT_FOUND`` (issuer, key), ``KEY_ACTIVE`` (retiring the signing key), ``KEY_RETIRED``
(activating a withdrawn key), ``KEY_IN_USE`` (this instance still signs with the key it is
asked to retire), ``MALFORMED_VALUE_ERROR`` (empty reason), and the status service's errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError, SijilError
from issuer.db.keylifecycle import IssuerKeyState
from issuer.db.models import Award, Issuer, IssuerKey, StatusList
from issuer.services import audit
from issuer.services.errors import NotFoundError
from issuer.services.issuers import (
    IssuerView,
    activate_in,
    get_issuer,
    key_states,
    signing_key,
    state_row,
)
from issuer.services.runtime import Runtime, as_utc
from issuer.services.status import StatusChange, change_status_in
from keys.keystore import KeystoreError

__all__ = [
    "KeyActiveError",
    "KeyInUseError",
    "KeyRetiredError",
    "KeyView",
    "RetireOutcome",
    "activate_key",
    "list_keys",
    "retire_key",
    "retired_reason",
]


class KeyActiveError(SijilError):
    """The key to retire is the issuer's signing key."""

    code = "KEY_ACTIVE"
    title = "The active signing key cannot be retired"
    http_status = 409


class KeyRetiredError(SijilError):
    """The key was withdrawn from the DID document; it can never sign again."""

    code = "KEY_RETIRED"
    title = "The key is retired"
    http_status = 409


class KeyInUseError(SijilError):
    """This instance still signs with the key (it lacks the active key's file)."""

    code = "KEY_IN_USE"
    title = "This instance still signs with the key"
    http_status = 409


@dataclass(frozen=True)
class KeyView:
    """One key of an issuer, as this instance sees it."""

    verification_method: str
    key_type: str
    state: str
    created_at: datetime
    activated_at: datetime | None
    deactivated_at: datetime | None
    retired_at: datetime | None
    #: whether this instance's key store holds the private key.
    held: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""

        def iso(at: datetime | None) -> str | None:
            return as_utc(at).isoformat() if at is not None else None

        return {
            "verificationMethod": self.verification_method,
            "keyType": self.key_type,
            "state": self.state,
            "createdAt": iso(self.created_at),
            "activatedAt": iso(self.activated_at),
            "deactivatedAt": iso(self.deactivated_at),
            "retiredAt": iso(self.retired_at),
            "held": self.held,
        }


def _holds(rt: Runtime, vm: str) -> bool:
    try:
        rt.keystore.info(vm)
    except KeystoreError:
        return False
    return True


def _issuer(session: Session, slug: str | None, *, lock: bool = False) -> Issuer:
    query = select(Issuer).where(Issuer.slug == slug if slug else Issuer.is_default.is_(True))
    if lock:
        query = query.with_for_update()
    row = session.scalars(query.order_by(Issuer.id).limit(1)).first()
    if row is None:
        raise NotFoundError(f"no issuer {slug!r}" if slug else "no default issuer")
    return row


def _find_key(row: Issuer, key: str) -> IssuerKey:
    """The issuer's key named by its verification method id, or its ``#fragment``."""
    wanted = key.strip()
    for k in row.keys:
        if wanted in (k.verification_method, k.verification_method.partition("#")[2]):
            return k
    raise NotFoundError(f"issuer {row.slug!r} has no key {key!r}")


def list_keys(rt: Runtime, slug: str | None = None) -> list[KeyView]:
    """Every key of the issuer (``None``: default), newest first, with its state and whether
    this instance's key store holds it. Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        row = _issuer(session, slug)
        keys = sorted(row.keys, key=lambda k: -k.id)
        states = key_states(session, keys)
        rows = {
            s.key_id: s
            for s in session.scalars(
                select(IssuerKeyState).where(IssuerKeyState.key_id.in_([k.id for k in keys]))
            )
        }
    out = []
    for k in keys:
        state = rows.get(k.id)
        out.append(
            KeyView(
                verification_method=k.verification_method,
                key_type=k.key_type,
                state=states[k.id],
                created_at=as_utc(k.created_at),
                activated_at=state.activated_at if state else k.created_at,
                deactivated_at=state.deactivated_at if state else k.retired_at,
                retired_at=state.retired_at if state else None,
                held=_holds(rt, k.verification_method),
            )
        )
    return out


def activate_key(
    rt: Runtime, slug: str | None = None, key: str | None = None, *, actor: str
) -> IssuerView:
    """Switch the issuer's signing to ``key`` (default: the newest staged key); the key that
    signed before stays published as ``previous``. Idempotent (activating the active key
    changes nothing). Audited as ``key.activate``.

    Raises ``NOT_FOUND`` (issuer, key, or no staged key) and ``KEY_RETIRED``.
    """
    now = rt.now()
    with rt.transaction() as session:
        row = _issuer(session, slug, lock=True)
        session.refresh(row)
        states = key_states(session, row.keys)
        if key is None:
            staged = [k for k in row.keys if states[k.id] == "staged"]
            if not staged:
                raise NotFoundError(
                    f"issuer {row.slug!r} has no staged key (run `sijil-issuer keys rotate`)"
                )
            new = max(staged, key=lambda k: k.id)
        else:
            new = _find_key(row, key)
        if states[new.id] == "retired":
            raise KeyRetiredError(f"{new.verification_method} was retired; it cannot sign again")
        if states[new.id] != "active":
            activate_in(session, row, new, now, actor=actor)
            session.flush()
    return get_issuer(rt, row.slug)


def retired_reason(verification_method: str) -> str:
    """The revocation reason of an award revoked because its signing key was retired."""
    return f"signing key {verification_method} retired"


@dataclass(frozen=True)
class RetireOutcome:
    """What :func:`retire_key` did."""

    issuer: str
    verification_method: str
    #: ``False`` when the key was already retired.
    changed: bool
    #: awards whose proof names the key (all of them, whatever their status).
    signed: tuple[str, ...]
    #: the status changes made with ``revoke_signed``.
    revoked: tuple[StatusChange, ...] = ()

    @property
    def reissue(self) -> tuple[str, ...]:
        """Awards revoked here that the admin can now re-issue (signed by the active key)."""
        return tuple(c.award_id for c in self.revoked if c.changed)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "issuer": self.issuer,
            "verificationMethod": self.verification_method,
            "changed": self.changed,
            "signed": list(self.signed),
            "revoked": [c.to_dict() for c in self.revoked],
            "reissue": [
                {"award": a, "href": f"/awards/{a}/reissue", "method": "POST"} for a in self.reissue
            ],
        }


def _names_key(credential_json: str, vm: str) -> bool:
    """Whether a stored credential carries a proof whose verification method is ``vm``."""
    try:
        credential = json.loads(credential_json)
    except ValueError:
        return False
    proofs = credential.get("proof") if isinstance(credential, dict) else None
    items = proofs if isinstance(proofs, list) else [proofs]
    return any(isinstance(p, dict) and p.get("verificationMethod") == vm for p in items)


def signed_by(session: Session, issuer_id: int, vm: str) -> list[str]:
    """Ids of the issuer's awards whose proof names ``vm``, in issue order."""
    rows = session.execute(
        select(Award.id, Award.credential_json)
        .where(Award.issuer_id == issuer_id, Award.credential_json.contains(vm))
        .order_by(Award.issued_at, Award.id)
    )
    return [award_id for award_id, text in rows if _names_key(text, vm)]


def retire_key(
    rt: Runtime,
    slug: str | None,
    key: str,
    *,
    actor: str,
    revoke_signed: bool = False,
    reason: str | None = None,
) -> RetireOutcome:
    """Withdraw ``key`` (verification method id or ``#fragment``) from the issuer's DID
    document: proofs naming it stop verifying everywhere once verifiers refetch the document.
    Reports the awards it signed; with ``revoke_signed`` revokes them in the same transaction
    (``reason``, default :func:`retired_reason`) so the admin can re-issue each, signed by the
    active key (``awards reissue``). Status lists last signed by the key are re-signed by the
    active key (now for those the revocation touches, on their next fetch for the others).
    Idempotent; audited as ``key.retire``.

    Raises ``NOT_FOUND``, ``KEY_ACTIVE``, ``KEY_IN_USE``, ``MALFORMED_VALUE_ERROR`` (blank
    reason) and the status service's errors.
    """
    if reason is not None and not reason.strip():
        raise MalformedValueError("a reason must not be blank", pointer="/reason")
    now = rt.now()
    with rt.transaction() as session:
        row = _issuer(session, slug, lock=True)
        session.refresh(row)
        target = _find_key(row, key)
        vm = target.verification_method
        state = state_row(session, target)
        if state.state == "active" or target.active:
            raise KeyActiveError(
                f"{vm} is the active signing key: rotate and activate another key first"
            )
        signed = signed_by(session, row.id, vm)
        if state.state == "retired":
            return RetireOutcome(row.slug, vm, False, tuple(signed))
        slug_now = row.slug
        try:
            used = signing_key(rt, get_issuer(rt, slug_now)).id
        except KeystoreError:
            used = None  # this instance cannot sign at all, so not with this key either
        if used == vm:
            raise KeyInUseError(
                f"this instance signs with {vm} because its key store lacks the active key; "
                "copy the active key's file here first"
            )
        state.state = "retired"
        state.retired_at = now
        session.flush()
        changes: list[StatusChange] = []
        if revoke_signed and signed:
            changes = change_status_in(
                rt, session, signed, "revoke", reason=reason or retired_reason(vm), actor=actor
            )
        session.execute(
            update(StatusList)
            .where(StatusList.issuer_id == row.id, StatusList.signed_json.contains(vm))
            .values(version=StatusList.version + 1)
        )
        audit.record(
            session,
            at=now,
            actor=actor,
            action="key.retire",
            target_type="issuer",
            target_id=slug_now,
            detail={
                "verificationMethod": vm,
                "signed": len(signed),
                "revoked": [c.award_id for c in changes if c.changed],
            },
        )
        return RetireOutcome(slug_now, vm, True, tuple(signed), tuple(changes))
