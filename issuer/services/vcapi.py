"""Status of credentials signed through the VC-API: record them at issue, change them later.

``POST /credentials/issue`` allocates status entries for a credential sent without its own
``credentialStatus`` (:func:`record_vcapi_credential` keeps which entries, inside the issue's
transaction). ``POST /credentials/status`` (VC-API "Update Status") names the credential by
its ``id`` and asks for one or more purposes to be set or cleared
(:func:`update_credential_status`): the entries' bits are written and their lists re-signed in
one transaction, audited as ``credential.status``.

Transitions follow Bitstring Status List v1.0: a ``revocation`` bit once set is never cleared
(``STATUS_TRANSITION_NOT_ALLOWED``); ``suspension`` can be set and cleared unless the credential
is revoked, and only for a credential issued with a suspension entry. Repeats are idempotent.

Errors: ``NOT_FOUND`` (404, no credential with that id was issued through the VC-API),
``MALFORMED_VALUE_ERROR`` (400), ``STATUS_TRANSITION_NOT_ALLOWED`` (409).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError
from issuer.db.models import StatusEntry
from issuer.db.vcapi import VcapiCredential
from issuer.services import audit
from issuer.services.errors import NotFoundError
from issuer.services.runtime import Runtime
from issuer.services.status import StatusTransitionError, list_id_from_url, set_entry_values

__all__ = [
    "PURPOSES",
    "StatusRequest",
    "StatusUpdate",
    "record_vcapi_credential",
    "status_requests_from_json",
    "update_credential_status",
]

Purpose = Literal["revocation", "suspension"]
PURPOSES: Final[tuple[Purpose, ...]] = ("revocation", "suspension")


def record_vcapi_credential(
    rt: Runtime,
    session: Session,
    issuer_id: int,
    credential_id: str | None,
    entries: Sequence[Mapping[str, Any]],
    *,
    at: datetime,
) -> VcapiCredential:
    """Keep a VC-API credential and the status entries allocated for it (caller's
    transaction). ``entries`` are the ``credentialStatus`` objects the allocator returned."""
    row = VcapiCredential(
        id=str(uuid.uuid4()),
        credential_id=credential_id,
        issuer_id=issuer_id,
        status="active",
        issued_at=at,
    )
    for entry in entries:
        list_id = list_id_from_url(rt.settings.base_url, str(entry.get("statusListCredential")))
        index = str(entry.get("statusListIndex"))
        if list_id is None or not index.isdigit():
            continue
        entry_id = session.scalar(
            select(StatusEntry.id).where(
                StatusEntry.list_id == list_id, StatusEntry.index == int(index)
            )
        )
        if entry.get("statusPurpose") == "revocation":
            row.revocation_entry_id = entry_id
        elif entry.get("statusPurpose") == "suspension":
            row.suspension_entry_id = entry_id
    session.add(row)
    return row


@dataclass(frozen=True)
class StatusRequest:
    """One requested change: set (``True``) or clear (``False``) the ``purpose`` bit."""

    purpose: Purpose
    value: bool


@dataclass(frozen=True)
class StatusUpdate:
    """What :func:`update_credential_status` did."""

    credential_id: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        """``False`` for an idempotent repeat."""
        return self.before != self.after

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "credentialId": self.credential_id,
            "before": self.before,
            "status": self.after,
            "changed": self.changed,
        }


def status_requests_from_json(items: Any) -> list[StatusRequest]:
    """The VC-API ``credentialStatus`` array: ``[{"type": "BitstringStatusListEntry",
    "status": true|false, "statusPurpose": "revocation"|"suspension"}]``.

    Raises ``MALFORMED_VALUE_ERROR`` with a pointer.
    """
    if not isinstance(items, list) or not items:
        raise MalformedValueError(
            "credentialStatus must be a non-empty array", pointer="/credentialStatus"
        )
    out: list[StatusRequest] = []
    for index, item in enumerate(items):
        pointer = f"/credentialStatus/{index}"
        if not isinstance(item, Mapping):
            raise MalformedValueError("each status change must be an object", pointer=pointer)
        if item.get("type", "BitstringStatusListEntry") != "BitstringStatusListEntry":
            raise MalformedValueError(
                "only BitstringStatusListEntry status can be changed", pointer=pointer + "/type"
            )
        purpose = item.get("statusPurpose", "revocation")
        if purpose not in PURPOSES:
            raise MalformedValueError(
                "statusPurpose must be revocation or suspension",
                pointer=pointer + "/statusPurpose",
            )
        value = item.get("status")
        if value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            raise MalformedValueError("status must be true or false", pointer=pointer + "/status")
        out.append(StatusRequest("revocation" if purpose == "revocation" else "suspension", value))
    return out


def _after(status: str, request: StatusRequest, has_suspension: bool, ident: str) -> str:
    """The status after ``request`` (pure); raises ``STATUS_TRANSITION_NOT_ALLOWED``."""
    if request.purpose == "revocation":
        if request.value:
            return "revoked"
        if status == "revoked":
            raise StatusTransitionError(f"credential {ident} is revoked; revocation is final")
        return status
    if status == "revoked":
        raise StatusTransitionError(f"credential {ident} is revoked; it cannot be suspended")
    if not has_suspension:
        raise StatusTransitionError(
            f"credential {ident} was issued without a suspension entry; it can only be revoked"
        )
    return "suspended" if request.value else "active"


def update_credential_status(
    rt: Runtime,
    credential_id: str,
    requests: Sequence[StatusRequest],
    *,
    actor: str,
    reason: str = "VC-API status update",
) -> StatusUpdate:
    """Apply ``requests`` to every VC-API credential with ``id`` ``credential_id``, all or none.

    Raises ``NOT_FOUND``, ``MALFORMED_VALUE_ERROR`` and ``STATUS_TRANSITION_NOT_ALLOWED``.
    """
    if not credential_id:
        raise MalformedValueError("credentialId is required", pointer="/credentialId")
    if not requests:
        raise MalformedValueError("no status change given", pointer="/credentialStatus")
    with rt.transaction() as session:
        rows = list(
            session.scalars(
                select(VcapiCredential)
                .where(VcapiCredential.credential_id == credential_id)
                .order_by(VcapiCredential.id)
                .with_for_update()
            )
        )
        if not rows:
            raise NotFoundError(f"no credential {credential_id!r} was issued through the VC-API")
        at = rt.now()
        before = rows[0].status
        changes: list[tuple[StatusEntry, int]] = []
        for row in rows:
            status = row.status
            for request in requests:
                status = _after(status, request, row.suspension_entry_id is not None, credential_id)
            if status == row.status:
                continue
            # Revoking leaves the suspension bit as it was (the revocation bit decides).
            entry_id, value = (
                (row.revocation_entry_id, 1)
                if status == "revoked"
                else (row.suspension_entry_id, int(status == "suspended"))
            )
            entry = None if entry_id is None else session.get(StatusEntry, entry_id)
            if entry is not None and entry.value != value:
                changes.append((entry, value))
            audit.record(
                session,
                at=at,
                actor=actor,
                action="credential.status",
                target_type="credential",
                target_id=credential_id,
                detail={"reason": reason, "before": row.status, "status": status},
            )
            row.status = status
            row.status_reason = reason
            row.status_changed_at = at
        if changes:
            set_entry_values(rt, session, changes, at=at)
        return StatusUpdate(credential_id, before, rows[0].status)
