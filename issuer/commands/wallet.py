"""``sijil-issuer awards wallet-offer``: an offer registrar staff send to a learner's wallet."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.wallet.offers import OFFER_LIFETIME, create_offer

__all__ = ["wallet_offer"]


@click.command("wallet-offer")
@click.argument("award_id")
@click.option(
    "--bind-holder", is_flag=True, help="The wallet proves a DID and receives a copy bound to it."
)
@click.option(
    "--no-tx-code",
    is_flag=True,
    help="Do not require a transaction code (only for offers shown to the learner directly).",
)
@click.option(
    "--minutes",
    type=click.IntRange(1, 7 * 24 * 60),
    default=int(OFFER_LIFETIME.total_seconds() // 60),
    show_default=True,
    help="How long the offer can be taken.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the offer as JSON.")
@cli_errors
def wallet_offer(
    award_id: str, bind_holder: bool, no_tx_code: bool, minutes: int, as_json: bool
) -> None:
    """Offer AWARD_ID (award or credential id) to the learner's wallet.

    Prints the interaction URL (VC-API and OpenID4VCI in one) and the OpenID4VCI credential
    offer; send the transaction code to the learner by another channel than the offer.
    """
    with runtime() as rt:
        offer = create_offer(
            rt,
            learner=None,
            award_ids=[award_id],
            bind_holder=bind_holder,
            actor=CLI_ACTOR,
            lifetime=timedelta(minutes=minutes),
            with_tx_code=not no_tx_code,
        )
    if as_json:
        click.echo(json.dumps(offer.to_dict(), indent=2))
        return
    click.echo(f"interaction URL:  {offer.links.interaction_url}")
    click.echo(f"credential offer: {offer.links.credential_offer_uri}")
    if offer.tx_code is not None:
        click.echo(f"transaction code: {offer.tx_code}  (send it separately)")
    click.echo(f"expires at:       {offer.expires_at.isoformat()}")
