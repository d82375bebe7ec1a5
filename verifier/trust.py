"""The verifier's list of recognised issuers, and the issuer-trust check.

File format (JSON)::

    {"issuers": [{"id": "did:web:registry.example.edu.my", "name": "Universiti Contoh"}]}

``id`` is the issuer's DID or URL exactly as credentials name it. With a list, a credential
from an unlisted issuer does not verify (``ISSUER_NOT_TRUSTED``: "signature valid; issuer not
on your list"); without one, it verifies with a warning (``ISSUER_TRUST_NOT_CONFIGURED``).

Errors: ``PARSING_ERROR`` / ``MALFORMED_VALUE_ERROR`` for a bad trust file,
``ISSUER_NOT_TRUSTED``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contexts.errors import MalformedValueError, ParsingError, SijilError

from .errors import IssuerNotTrustedError
from .models import IssuerRef
from .outcome import Outcome

__all__ = [
    "IssuerTrustNotConfiguredError",
    "TrustList",
    "TrustedIssuer",
    "check_issuer_trust",
    "load_trust_list",
]


class IssuerTrustNotConfiguredError(SijilError):
    """Warning, never an error: no trust list was given, so the issuer was not vetted."""

    code = "ISSUER_TRUST_NOT_CONFIGURED"
    title = "No list of recognised issuers"


@dataclass(frozen=True)
class TrustedIssuer:
    """One recognised issuer."""

    id: str
    name: str | None = None


@dataclass(frozen=True)
class TrustList:
    """Recognised issuers by id."""

    issuers: Mapping[str, TrustedIssuer]

    @classmethod
    def from_issuers(cls, issuers: Iterable[TrustedIssuer]) -> TrustList:
        """A list from :class:`TrustedIssuer` values."""
        return cls({issuer.id: issuer for issuer in issuers})

    @classmethod
    def from_dict(cls, data: Any) -> TrustList:
        """Parse ``{"issuers": [{"id", "name"}]}``; raises ``MALFORMED_VALUE_ERROR``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("issuers"), list):
            raise MalformedValueError(
                'a trust list is {"issuers": [{"id": ..., "name": ...}]}', pointer="/issuers"
            )
        found: list[TrustedIssuer] = []
        for index, entry in enumerate(data["issuers"]):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
                raise MalformedValueError(
                    "each trusted issuer needs a string id", pointer=f"/issuers/{index}/id"
                )
            name = entry.get("name")
            found.append(TrustedIssuer(entry["id"], name if isinstance(name, str) else None))
        return cls.from_issuers(found)

    def lookup(self, issuer_id: str) -> TrustedIssuer | None:
        """The entry for ``issuer_id``, or ``None`` when it is not on the list."""
        return self.issuers.get(issuer_id)

    def is_trusted(self, issuer_id: str) -> bool:
        """Whether ``issuer_id`` is on the list."""
        return issuer_id in self.issuers


def load_trust_list(path: str | Path) -> TrustList:
    """Read a trust list file; raises ``PARSING_ERROR`` / ``MALFORMED_VALUE_ERROR``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParsingError(f"cannot read trust list {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParsingError(f"trust list {path} is not JSON: {exc}") from None
    return TrustList.from_dict(data)


def check_issuer_trust(
    issuer: IssuerRef, trust: TrustList | None, *, signature_valid: bool = True
) -> Outcome:
    """Raise ``ISSUER_NOT_TRUSTED`` when a list is given and ``issuer`` is not on it.

    ``signature_valid`` only words the sentence ("signature valid; issuer not on your list").
    """
    label = f"{issuer.name} ({issuer.id})" if issuer.name else issuer.id
    if trust is None:
        warning = IssuerTrustNotConfiguredError(
            f"The issuer {label} was not checked against a list of recognised issuers."
        )
        return Outcome(warning.detail, state="warning", warnings=(warning,))
    entry = trust.lookup(issuer.id)
    if entry is None:
        prefix = "signature valid; " if signature_valid else ""
        raise IssuerNotTrustedError(
            f"{prefix}issuer not on your list ({label}).", pointer="/issuer"
        )
    return Outcome(f"The issuer is on your list as {entry.name or entry.id}.")
