"""Shared plumbing of the ``sijil-issuer`` subcommands: settings, runtime, error printing."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import click

from contexts.errors import ParsingError, SijilError
from issuer.services.bootstrap import open_runtime
from issuer.services.runtime import Runtime
from issuer.settings import Settings

__all__ = ["CLI_ACTOR", "cli_errors", "runtime"]

CLI_ACTOR = "cli"
P = ParamSpec("P")
R = TypeVar("R")


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a ``SijilError`` as ``CODE: detail`` on stderr and exit 1 (2 for unreadable input)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SijilError as exc:
            click.echo(f"{exc.code}: {exc.detail}", err=True)
            sys.exit(2 if isinstance(exc, ParsingError) else 1)

    return wrapper


@contextmanager
def runtime() -> Iterator[Runtime]:
    """A runtime from the ``SIJIL_*`` environment, closed at the end."""
    rt = open_runtime(Settings.from_env(), status_lists=True)
    try:
        yield rt
    finally:
        rt.close()
