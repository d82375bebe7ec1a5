"""What one database transaction remembers: values kept in ``session.info`` for the current
outermost transaction, forgotten on any rollback (a savepoint's too, which may have undone
what they name) and when that transaction ends.

Why: a bulk import's hot path reads the same rows again and again within one transaction
(the issuer's suspension switch, the open status lists, which learners were already
notified). Remembering them per transaction keeps every other transaction, process and
retry reading afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["transaction_memo"]

T = TypeVar("T")

_MEMOS: Final = "sijil.transaction_memos"


def transaction_memo(session: Session, key: str, factory: Callable[[], T]) -> T:
    """The value ``key`` names for ``session``'s current transaction, made by ``factory`` the
    first time. Outside a transaction there is nothing to keep: a fresh value every call."""
    root = session.get_transaction()
    if root is None:
        return factory()
    memos: tuple[SessionTransaction, dict[str, Any]] | None = session.info.get(_MEMOS)
    if memos is None or memos[0] is not root:
        memos = session.info[_MEMOS] = (root, {})
    values = memos[1]
    if key not in values:
        values[key] = factory()
    value: T = values[key]
    return value


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    session.info.pop(_MEMOS, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_MEMOS, None)
