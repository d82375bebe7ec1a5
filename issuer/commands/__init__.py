"""Subcommands of ``sijil-issuer``; each module exposes one Click command or group."""

from __future__ import annotations

import importlib
import pkgutil

import click

__all__ = ["register_all"]


def register_all(group: click.Group) -> None:
    """Attach every command a module in this package exposes as ``COMMAND`` (or ``COMMANDS``)."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            group.add_command(command)
        if hasattr(module, "COMMAND"):
            group.add_command(module.COMMAND)
