"""``sijil-issuer awards list|show|export|revoke|suspend|unsuspend|reissue|wallet-offer``: the
issued awards."""

from __future__ import annotations

from pathlib import Path

import click

from issuer.commands.shell import cli_errors, runtime
from issuer.commands.wallet import wallet_offer
from issuer.exports.formats import (
    EXPORT_FORMATS,
    export_award_files,
    parse_formats,
)
from issuer.services.awards import ReissueOffer, get_award, list_awards
from issuer.services.reissue import reissue, reissue_candidates
from issuer.services.status import Action, change_status

__all__ = ["COMMAND"]


@click.group("awards")
def awards() -> None:
    """Inspect and export issued awards."""


@awards.command("list")
@click.option("--learner", default=None, help="Only this learner (student id).")
@click.option("--type", "award_type", type=click.Choice(("COC", "COA", "MMS")), default=None)
@cli_errors
def list_command(learner: str | None, award_type: str | None) -> None:
    """One line per award: id, type, achievement, learner, status, issued at."""
    with runtime() as rt:
        for a in list_awards(rt, learner=learner, award_type=award_type, limit=None):
            click.echo(
                f"{a.id}\t{a.award_type}\t{a.achievement_code}\t{a.learner}\t{a.status}\t"
                f"{a.issued_at.isoformat()}"
            )


@awards.command("show")
@click.argument("award_id")
@cli_errors
def show(award_id: str) -> None:
    """Print the signed credential of AWARD_ID (UUID or credential URL), verbatim."""
    with runtime() as rt:
        click.echo(get_award(rt, award_id).credential_json)


@awards.command("export")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--formats",
    default="json",
    show_default=True,
    help=f"Comma-separated formats ({', '.join(EXPORT_FORMATS)}).",
)
@cli_errors
def export(directory: Path, formats: str) -> None:
    """Write each award into DIR in every format asked for: the signed credential as JSON, baked
    Open Badges PNG and SVG, and a printable PDF certificate whose QR code opens the verifier.
    """
    wanted = parse_formats(formats)
    with runtime() as rt:
        verifier_url = rt.settings.verifier_url
        paths = export_award_files(rt, directory, wanted, verifier_url=verifier_url)
    click.echo(f"exported {len(paths)} file(s) to {directory}")


def _status_command(action: Action, summary: str) -> None:
    @awards.command(action, help=summary)
    @click.argument("award_ids", nargs=-1, required=True)
    @click.option("--reason", required=True, help="Why (kept in the audit log).")
    @cli_errors
    def command(award_ids: tuple[str, ...], reason: str) -> None:
        with runtime() as rt:
            changes = change_status(rt, list(award_ids), action, reason=reason, actor="cli")
        for change in changes:
            note = "" if change.changed else " (unchanged)"
            click.echo(f"{change.award_id}\t{change.before} -> {change.after}{note}")
            for mms in change.stacked_in if change.after != "active" else ():
                click.echo(f"  MMS {mms} embeds it and now fails stacking checks")
            _echo_offers(change.reissue)


def _echo_offers(offers: tuple[ReissueOffer, ...] | list[ReissueOffer]) -> None:
    for offer in offers:
        click.echo(
            f"  MMS {offer.award_id} can be re-issued with the replacement COA(s): "
            f"sijil-issuer awards reissue {offer.award_id} --reason TEXT"
        )


_status_command(
    "revoke",
    "Revoke AWARD_IDS (UUIDs or credential URLs) for good; their status lists are re-signed.",
)
_status_command("suspend", "Suspend AWARD_IDS (reversible with unsuspend).")
_status_command("unsuspend", "Lift the suspension of AWARD_IDS.")


@awards.command("reissue")
@click.argument("award_ids", nargs=-1)
@click.option("--reason", default=None, help="Why (kept in the audit log).")
@click.option(
    "--candidates", is_flag=True, help="List the MMS awards offered for re-issue and stop."
)
@cli_errors
def reissue_command(award_ids: tuple[str, ...], reason: str | None, candidates: bool) -> None:
    """Re-issue AWARD_IDS: replace a revoked award whose rules are met again, or supersede an
    active MMS that embeds a revoked COA by one stacking the learner's current COAs (the old
    MMS is revoked). Each award is its own transaction; repeating a re-issue prints the
    existing replacement.
    """
    if candidates:
        if award_ids:
            raise click.UsageError("--candidates takes no award ids")
        with runtime() as rt:
            offers = reissue_candidates(rt)
        for offer in offers:
            click.echo(
                f"{offer.award_id}\t{offer.learner}\t{offer.achievement_code}\t"
                f"revoked {','.join(offer.revoked)}\treplaced by {','.join(offer.replacements)}"
            )
        click.echo(f"{len(offers)} MMS award(s) offered for re-issue", err=True)
        return
    if not award_ids or not reason:
        raise click.UsageError("give AWARD_IDS and --reason (or --candidates)")
    with runtime() as rt:
        for award_id in award_ids:
            outcome = reissue(rt, award_id, reason=reason, actor="cli")
            note = "re-issued" if outcome.created else "already re-issued"
            click.echo(f"{outcome.replaced}\t-> {outcome.award.id}\t({note})")
            if outcome.superseded:
                click.echo(f"  {outcome.replaced} revoked: superseded by {outcome.award.id}")
            _echo_offers(outcome.offers)


awards.add_command(wallet_offer)

COMMAND = awards
