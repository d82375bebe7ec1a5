"""The credit-transfer policies a receiving university publishes on its verifier.

A folder (``SIJIL_TRANSFER_POLICIES_DIR``) of ``*.json`` policy files in the format of
:mod:`verifier.transfer`, each with a ``name`` a person picks from (else the programme's name,
else the file name), plus optionally one default file (``SIJIL_TRANSFER_POLICY``). Policies are
read and checked once, at startup, so a malformed file stops the service instead of failing
the first request. The key of a policy is its file name without ``.json``.

Errors: ``PARSING_ERROR`` / ``MALFORMED_VALUE_ERROR`` (the file named) for a bad file,
``POLICY_NOT_FOUND`` (404) for a key that is not published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contexts.errors import MalformedValueError, ParsingError, SijilError

from .transfer import TransferPolicy

__all__ = [
    "PolicyNotFoundError",
    "PublishedPolicy",
    "load_published_policies",
    "pick_policy",
]


class PolicyNotFoundError(SijilError):
    """The page asked for a policy that is not published here."""

    code = "POLICY_NOT_FOUND"
    title = "Unknown credit-transfer policy"
    http_status = 404


@dataclass(frozen=True)
class PublishedPolicy:
    """One published policy: its key (file name), the name shown, the parsed policy and the
    document as published (for the decision's record)."""

    key: str
    name: str
    policy: TransferPolicy
    document: Mapping[str, Any]


def _read(path: Path) -> PublishedPolicy:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParsingError(f"cannot read policy {path.name}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParsingError(f"policy {path.name} is not JSON: {exc}") from None
    try:
        policy = TransferPolicy.from_dict(data)
    except MalformedValueError as exc:
        raise MalformedValueError(
            f"policy {path.name}: {exc.detail}", pointer=exc.pointer
        ) from None
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise MalformedValueError(f"policy {path.name}: name must be a string", pointer="/name")
    programme_name = policy.programme.get("name")
    shown = name or (programme_name if isinstance(programme_name, str) else "") or path.stem
    return PublishedPolicy(key=path.stem, name=shown, policy=policy, document=data)


def load_published_policies(
    directory: Path | None, default: Path | None = None
) -> dict[str, PublishedPolicy]:
    """Every policy of ``directory`` (``*.json``, sorted by name) and ``default``, by key;
    the default first. Raises ``PARSING_ERROR`` / ``MALFORMED_VALUE_ERROR``."""
    found: dict[str, PublishedPolicy] = {}
    if default is not None:
        published = _read(default)
        found[published.key] = published
    if directory is not None:
        if not directory.is_dir():
            raise ParsingError(f"the policy folder {directory.name} does not exist")
        for path in sorted(directory.glob("*.json")):
            published = _read(path)
            found.setdefault(published.key, published)
    return found


def pick_policy(policies: Mapping[str, PublishedPolicy], key: str) -> PublishedPolicy:
    """The published policy ``key``; ``POLICY_NOT_FOUND`` when there is none."""
    found = policies.get(key)
    if found is None:
        raise PolicyNotFoundError(f"no published credit-transfer policy {key!r}")
    return found
