"""``sijil-issuer staff add|list|link``: staff console accounts and one-time sign-in links."""

from __future__ import annotations

from email.message import EmailMessage

import click

from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.console.roles import ROLES
from issuer.console.staff import (
    LINK_LIFETIME,
    add_staff,
    issue_sign_in_link,
    list_staff,
    sign_in_url,
)
from issuer.delivery.mail import mailer_for
from issuer.services.runtime import Runtime

__all__ = ["COMMAND", "sign_in_message"]


@click.group("staff")
def staff() -> None:
    """Manage staff console accounts."""


def sign_in_message(sender: str, to: str, url: str) -> EmailMessage:
    """The sign-in mail (English and Malay)."""
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Your sijil staff console sign-in link"
    message.set_content(
        f"Sign in to the sijil staff console (works once, for {minutes} minutes):\n\n{url}\n\n"
        f"Log masuk ke konsol kakitangan sijil (sekali sahaja, dalam {minutes} minit):\n\n{url}\n"
    )
    return message


def _deliver(rt: Runtime, email: str, print_link: bool) -> None:
    url = sign_in_url(rt.settings.base_url, issue_sign_in_link(rt, email, actor=CLI_ACTOR))
    if print_link:
        click.echo(url)
        return
    mailer = mailer_for(rt.settings)
    mailer.send(sign_in_message(mailer.sender, email, url))
    click.echo(f"sign-in link mailed to {email}")


@staff.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the member may do.")
@click.option(
    "--print-link", is_flag=True, help="Print the one-time sign-in URL instead of mailing it."
)
@cli_errors
def add(email: str, role: str, print_link: bool) -> None:
    """Create staff member EMAIL with ROLE (or change their role) and send a sign-in link."""
    with runtime() as rt:
        member = add_staff(rt, email, role, actor=CLI_ACTOR)
        _deliver(rt, member.email, print_link)


@staff.command("link")
@click.argument("email")
@click.option(
    "--print-link", is_flag=True, help="Print the one-time sign-in URL instead of mailing it."
)
@cli_errors
def link(email: str, print_link: bool) -> None:
    """Send staff member EMAIL a fresh one-time sign-in link."""
    with runtime() as rt:
        _deliver(rt, email, print_link)


@staff.command("list")
@cli_errors
def list_command() -> None:
    """List staff members and roles."""
    with runtime() as rt:
        for member in list_staff(rt):
            state = "disabled" if member.disabled else "active"
            click.echo(f"{member.email}\t{member.role}\t{member.locale}\t{state}")


COMMAND = staff
