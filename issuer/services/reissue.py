"""Re-issuing awards: explicit replacements of revoked awards, and superseding an MMS.

A revocation usually means "issued in error", so automatic evaluation never replaces a revoked
award (:func:`issuer.services.issuance.evaluate_learners` counts it as held). Replacing one is
an admin act, :func:`reissue`, of two kinds:

- **a revoked award** (COC, COA or MMS): the award rules are evaluated again on the learner's
  current progress (COC: every material completed; COA: and every assessment passed; MMS: an
  active COA for every component); when the award is due, a replacement is issued through the
  normal pipeline (new status entries, signed, self-verified) with ``replaces_id`` set,
  otherwise ``NOT_ELIGIBLE`` (409; the rules' own "not due" error, reused rather than a second
  code for the same fact);
- **an active MMS that embeds a revoked COA**, once the learner holds an active COA for every
  component it stacks (the issuer *offers* this: :func:`issuer.services.awards.reissue_offers`):
  in one transaction the old MMS is revoked with the reason ``superseded by <new id>`` and a new
  MMS stacking the current active COAs is issued with ``replaces_id`` = the old one. Without a
  replacement for every revoked component: ``REPLACEMENT_MISSING`` (409, ``missing`` lists
  the achievement codes).

Idempotent: re-issuing an award that already has a replacement returns that replacement
(``created=False``) and changes nothing. Each re-issue is audited (``award.reissue`` on the old
award, with the reason; the new award's ``award.issue`` entry names what it replaces). The
learner's row lock serializes a re-issue with evaluations and with a concurrent re-issue, and
the partial unique index (one unrevoked award per learner and achievement) backs it up.

Locks: the learner's row, then the award's own row (re-read under the lock), so a concurrent
revocation is either fully before (the re-issue sees it and stops with ``AWARD_CHANGED``: a
revoked award is never superseded, its reason never overwritten) or fully after.

Errors: ``NOT_FOUND``, ``MALFORMED_VALUE_ERROR`` (empty reason), ``AWARD_CHANGED``,
``NOT_ELIGIBLE``, ``REPLACEMENT_MISSING``, ``REISSUE_NOT_ALLOWED`` (an active COC/COA, a
suspended award, an MMS embedding no revoked COA, or another unrevoked award already holds the
achievement), and the issuing pipeline's errors (``SELF_VERIFICATION_FAILED``, ...).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError, SijilError
from issuer.db.models import Award, AwardComponent, Issuer, Learner
from issuer.domain.awards import (
    DueAward,
    NotEligibleError,
    is_coa_due,
    is_coc_due,
    is_mms_due,
)
from issuer.services import audit
from issuer.services.awards import (
    AwardView,
    ReissueOffer,
    award_view,
    reissue_offers,
    stack_checks,
    with_replacements,
)
from issuer.services.errors import NotFoundError
from issuer.services.issuance import Catalogue, issue_award_in, learner_progress, load_catalogue
from issuer.services.runtime import Runtime
from issuer.services.status import change_status_in

__all__ = [
    "AwardChangedError",
    "ReissueNotAllowedError",
    "ReissueOutcome",
    "ReplacementMissingError",
    "reissue",
    "reissue_candidates",
    "superseded_reason",
]


class ReissueNotAllowedError(SijilError):
    """The award is not one that can be re-issued (see :mod:`issuer.services.reissue`)."""

    code = "REISSUE_NOT_ALLOWED"
    title = "This award cannot be re-issued"
    http_status = 409


class AwardChangedError(SijilError):
    """The award's status changed between reading it and locking it (e.g. a concurrent revoke):
    the re-issue was decided on a state that no longer holds, so nothing is done."""

    code = "AWARD_CHANGED"
    title = "The award changed while the re-issue waited"
    http_status = 409


class ReplacementMissingError(SijilError):
    """An MMS embeds a revoked COA that has no active replacement yet (``missing``: codes)."""

    code = "REPLACEMENT_MISSING"
    title = "A component of this MMS has no active replacement"
    http_status = 409


def superseded_reason(new_award_id: str) -> str:
    """The revocation reason of an MMS replaced by ``new_award_id``."""
    return f"superseded by {new_award_id}"


@dataclass(frozen=True)
class ReissueOutcome:
    """What :func:`reissue` did: the replacement, and the offers it opened."""

    award: AwardView
    #: the award replaced.
    replaced: str
    #: ``False`` when an earlier re-issue's replacement is returned.
    created: bool
    #: the replaced award was an active MMS, revoked by this call as superseded.
    superseded: bool
    #: MMS awards now offered for re-issue (after a COA's replacement).
    offers: tuple[ReissueOffer, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the new award, plus ``created``, ``superseded`` and ``offers``."""
        return {
            **self.award.to_dict(),
            "replaces": self.replaced,
            "created": self.created,
            "superseded": self.superseded,
            "offers": [o.to_dict() for o in self.offers],
        }


def reissue_candidates(rt: Runtime) -> list[ReissueOffer]:
    """Every active MMS embedding a revoked COA whose learner now holds an active COA for each
    component: the awards :func:`reissue` would supersede. Oldest first."""
    with rt.reading() as session:
        return reissue_offers(session)


def _view(session: Session, row: Award) -> AwardView:
    learner = session.scalar(select(Learner.external_id).where(Learner.id == row.learner_id))
    slug = session.scalar(select(Issuer.slug).where(Issuer.id == row.issuer_id))
    return with_replacements(session, [award_view(row, learner or "", slug or "")])[0]


def _offers_for(session: Session, award: Award) -> tuple[ReissueOffer, ...]:
    """Offers to re-issue the MMS awards that embed ``award`` (a COA)."""
    if award.award_type != "COA":
        return ()
    mms = list(
        session.scalars(
            select(AwardComponent.award_id).where(AwardComponent.component_award_id == award.id)
        )
    )
    return tuple(reissue_offers(session, mms)) if mms else ()


def _due_award(catalogue: Catalogue, award: Award) -> DueAward:
    """The award rules' description of ``award`` (from the current catalogue)."""
    code = award.achievement_code
    if award.award_type == "MMS":
        # Catalogue codes cannot contain "/": a slash marks a per-unit MMS "PROG/UNIT".
        programme, _, unit = code.partition("/")
        if programme not in catalogue.programmes:
            raise NotEligibleError(f"programme {programme!r} is no longer in the catalogue")
        return DueAward("MMS", code, micro_credential=unit or None, programme=programme)
    if code not in catalogue.micro_credentials:
        raise NotEligibleError(f"micro-credential {code!r} is no longer in the catalogue")
    return DueAward("COC" if award.award_type == "COC" else "COA", code, micro_credential=code)


def _require_due(session: Session, catalogue: Catalogue, award: Award, due: DueAward) -> None:
    """Raise ``NOT_ELIGIBLE`` unless the rules make ``due`` due on the learner's progress now."""
    if due.award_type == "MMS":
        programme = catalogue.programmes[due.programme or due.achievement_code]
        active = set(
            session.scalars(
                select(Award.achievement_code).where(
                    Award.learner_id == award.learner_id,
                    Award.award_type == "COA",
                    Award.status == "active",
                )
            )
        )
        unit = due.micro_credential
        if unit in active if unit else is_mms_due(programme, active):
            return
        missing = [u for u in ((unit,) if unit else programme.components) if u not in active]
        raise NotEligibleError(
            f"no active COA for {', '.join(missing)}: {due.achievement_code} is not due"
        )
    mc = catalogue.micro_credentials[due.achievement_code]
    progress = learner_progress(session, catalogue, award.learner_id)
    if not (is_coc_due if due.award_type == "COC" else is_coa_due)(mc, progress):
        raise NotEligibleError(
            f"the learner's progress does not make the {due.award_type} for "
            f"{due.achievement_code} due"
        )


def reissue(rt: Runtime, award_id: str, *, reason: str, actor: str) -> ReissueOutcome:
    """Re-issue ``award_id`` (UUID or credential URL): replace a revoked award whose rules are
    met again, or supersede an active MMS that embeds revoked COAs (see the module docstring).

    One transaction; idempotent (an award already replaced gives its replacement back,
    ``created=False``); audited as ``award.reissue``. Raises ``NOT_FOUND``,
    ``MALFORMED_VALUE_ERROR``, ``NOT_ELIGIBLE``, ``REPLACEMENT_MISSING``,
    ``REISSUE_NOT_ALLOWED`` and the issuing pipeline's errors.
    """
    if not reason.strip():
        raise MalformedValueError("a reason is required", pointer="/reason")
    key = award_id.rstrip("/").rsplit("/", 1)[-1]
    with rt.reading() as session:
        catalogue = load_catalogue(session)
        seen = session.execute(
            select(Award.learner_id, Award.status).where(Award.id == key)
        ).first()
    if seen is None:
        raise NotFoundError(f"no award {award_id!r}")
    learner_id, seen_status = seen
    with rt.transaction() as session:
        # The learner's lock first (a concurrent re-issue has committed), then the award's own
        # lock, re-reading the row: a revocation that committed meanwhile is seen, never
        # overwritten (``populate_existing``: the identity map must not keep the old status).
        learner = session.get(Learner, learner_id, with_for_update=True)
        award = session.get(Award, key, with_for_update=True, populate_existing=True)
        if learner is None or award is None:
            raise NotFoundError(f"no award {award_id!r}")
        done = session.scalars(
            select(Award).where(Award.replaces_id == award.id).order_by(Award.issued_at)
        ).first()
        if done is not None:
            return ReissueOutcome(
                _view(session, done), award.id, False, False, _offers_for(session, award)
            )
        if award.status != seen_status:
            raise AwardChangedError(
                f"award {award.id} became {award.status} while this re-issue waited "
                f"(reason: {award.status_reason or 'none given'}); nothing was re-issued. "
                "Check the award, then re-run the re-issue if a replacement is still wanted",
                status=award.status,
            )
        due = _due_award(catalogue, award)
        superseded = award.award_type == "MMS" and award.status == "active"
        new_id = str(uuid.uuid4())
        if award.status == "revoked":
            _require_due(session, catalogue, award, due)
            current = session.scalar(
                select(Award.id).where(
                    Award.learner_id == award.learner_id,
                    Award.award_type == award.award_type,
                    Award.achievement_code == award.achievement_code,
                    Award.status != "revoked",
                )
            )
            if current is not None:
                raise ReissueNotAllowedError(
                    f"award {current} is already the learner's {award.award_type} for "
                    f"{award.achievement_code}"
                )
        elif superseded:
            check = stack_checks(session, [award.id]).get(award.id)
            if check is None:
                raise ReissueNotAllowedError(f"MMS {award.id} embeds no revoked COA")
            if check.missing:
                raise ReplacementMissingError(
                    f"MMS {award.id} embeds COAs with no active replacement: "
                    f"{', '.join(check.missing)}; re-issue those first",
                    missing=list(check.missing),
                )
            change_status_in(
                rt, session, [award.id], "revoke", reason=superseded_reason(new_id), actor=actor
            )
        else:
            raise ReissueNotAllowedError(
                f"award {award.id} is {award.status}: only a revoked award, or an active MMS "
                "embedding a revoked COA, can be re-issued"
            )
        issue_award_in(
            rt, session, catalogue, learner, due, actor=actor, award_id=new_id, replaces=award.id
        )
        audit.record(
            session,
            at=rt.now(),
            actor=actor,
            action="award.reissue",
            target_type="award",
            target_id=award.id,
            detail={
                "reason": reason,
                "replacement": new_id,
                "awardType": award.award_type,
                "superseded": superseded,
            },
        )
        row = session.get(Award, new_id)
        if row is None:
            raise NotFoundError(f"no award {new_id}")
        return ReissueOutcome(
            _view(session, row), award.id, True, superseded, _offers_for(session, award)
        )
