"""``sijil-issuer issuers``: issuer settings.

- ``suspension [--issuer SLUG] [--enable|--disable]``: the suspension status switch;
- ``brand [--issuer SLUG] [--name-ms TEXT] [--primary #rrggbb] [--accent #rrggbb]
  [--logo FILE.png|FILE.svg | --no-logo]``: show or set the issuer's brand (colours must carry
  white text at WCAG AA; the logo is checked and stored, then served at
  ``/issuers/<slug>/logo``).
"""

from __future__ import annotations

from pathlib import Path

import click

from contexts.errors import MalformedValueError
from issuer.commands.shell import CLI_ACTOR, cli_errors, runtime
from issuer.domain.branding import (
    LOGO_MAX_BYTES,
    BrandChanges,
    Logo,
    check_colour,
    logo_from_bytes,
)
from issuer.services.branding import issuer_brand
from issuer.services.issuers import get_issuer, update_issuer
from issuer.services.status import set_suspension_enabled, suspension_switches

__all__ = ["COMMAND"]


@click.group("issuers")
def issuers_group() -> None:
    """Issuer settings."""


@issuers_group.command("suspension")
@click.option("--issuer", "slug", default=None, help="Issuer slug (default: the default issuer).")
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="Give credentials signed from now on a suspension status entry (or not).",
)
@cli_errors
def suspension(slug: str | None, enabled: bool | None) -> None:
    """Show or set whether new credentials get a ``suspension`` status entry besides
    ``revocation``. Credentials already issued keep the entries they were signed with."""
    with runtime() as rt:
        view = get_issuer(rt, slug)
        if enabled is None:
            value = suspension_switches(rt)[view.slug]
        else:
            value = set_suspension_enabled(rt, view.slug, enabled, actor=CLI_ACTOR)
    click.echo(f"issuer {view.slug}: suspension {'enabled' if value else 'disabled'}")


_LOGO_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}


def _read_logo(path: Path) -> Logo:
    media_type = _LOGO_TYPES.get(path.suffix.lower())
    if media_type is None:
        raise MalformedValueError("the logo file must end in .png or .svg", pointer="/logo")
    with path.open("rb") as handle:
        data = handle.read(LOGO_MAX_BYTES + 1)
    return logo_from_bytes(data, media_type)


@issuers_group.command("brand")
@click.option("--issuer", "slug", default=None, help="Issuer slug (default: the default issuer).")
@click.option("--name-ms", default=None, help="Display name in Malay.")
@click.option("--primary", default=None, help="Primary colour, #rrggbb (white text on it).")
@click.option("--accent", default=None, help="Accent colour, #rrggbb (white text on it).")
@click.option(
    "--logo",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Logo file: PNG or SVG, at most 100 KiB.",
)
@click.option("--no-logo", is_flag=True, help="Remove the stored logo.")
@cli_errors
def brand(
    slug: str | None,
    name_ms: str | None,
    primary: str | None,
    accent: str | None,
    logo: Path | None,
    no_logo: bool,
) -> None:
    """Show or set the issuer's brand (learner page, PDF certificate, badge images). Credentials
    issued after a logo upload name it as the issuer's image."""
    changes = BrandChanges(
        name_ms=name_ms,
        primary_colour=None if primary is None else check_colour(primary, pointer="/primary"),
        accent_colour=None if accent is None else check_colour(accent, pointer="/accent"),
        logo=None if logo is None else _read_logo(logo),
        remove_logo=no_logo,
    )
    with runtime() as rt:
        view = get_issuer(rt, slug)
        if not changes.is_empty:
            view = update_issuer(rt, view.slug, actor=CLI_ACTOR, brand=changes)
        shown = issuer_brand(rt, view.slug)
    click.echo(
        f"issuer {shown.slug}: {shown.name}" + (f" / {shown.name_ms}" if shown.name_ms else "")
    )
    click.echo(f"primary {shown.primary_colour}, accent {shown.accent_colour}")
    click.echo(f"logo {shown.logo_url or 'none'}")
    click.echo(f"verified domain {shown.domain or 'none (did:key)'}")


COMMAND = issuers_group
