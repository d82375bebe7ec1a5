"""Which issuers this verifier recognises, and the issuer-trust check.

A good signature proves *who* signed (a DID or URL), not that the signer is a university. So a
credential is called genuine only when its issuer is on a trust source the verifier's operator
chose. Two file formats are read (both offline; the file is the source of truth):

1. sijil's own list::

       {"issuers": [{"id": "did:web:registry.example.edu.my", "name": "Universiti Contoh",
                     "url": "https://www.example.edu.my"}]}

2. the Digital Credentials Consortium's issuer registry (the "dcc-legacy" format that the DCC's
   Learner Credential Wallet and verifier read through ``@digitalcredentials/issuer-registry-
   client``; e.g. the DCC community and sandbox registries), keyed by DID::

       {"meta": {"created": "...", "updated": "..."},
        "registry": {"did:web:registry.example.edu.my": {"name": "Universiti Contoh",
                     "location": "Kuala Lumpur, Malaysia", "url": "https://www.example.edu.my",
                     "legalName": "..."}}}

   (older copies use ``entries`` instead of ``registry``; both are read). A university listed
   in such a registry can hand verifiers the same file.

Several files can be combined (:func:`load_trust_sources`); the first one naming a DID wins, as
in the DCC client, so list the most authoritative first.

The check (:func:`check_issuer_trust`): without a trust source every issuer is "not
recognised" (``ISSUER_TRUST_NOT_CONFIGURED``, a failed check: the verdict is
``unknown_issuer``, never valid); with one, an unlisted issuer is ``ISSUER_NOT_TRUSTED``; a
listed one passes under the list's name, with an ``ISSUER_NAME_MISMATCH`` warning when the
credential calls itself something else (one recognised issuer cannot borrow another's name).

The verified identity (:func:`issuer_identity`) is what the page always shows: the DID or URL
that signed, and for ``did:web`` / ``https`` issuers the domain that vouches for the key.

Errors: ``PARSING_ERROR`` / ``MALFORMED_VALUE_ERROR`` for a bad trust file,
``ISSUER_TRUST_NOT_CONFIGURED``, ``ISSUER_NOT_TRUSTED``; ``ISSUER_NAME_MISMATCH`` (warning).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from contexts.errors import MalformedValueError, ParsingError, SijilError

from .errors import IssuerNotTrustedError
from .models import IssuerRef
from .outcome import Outcome

__all__ = [
    "IssuerIdentity",
    "IssuerNameMismatchError",
    "IssuerTrustNotConfiguredError",
    "TrustList",
    "TrustedIssuer",
    "check_issuer_trust",
    "issuer_identity",
    "load_trust_list",
    "load_trust_sources",
    "trust_list_json",
]


class IssuerTrustNotConfiguredError(SijilError):
    """No trust source was given, so no issuer can be recognised (verdict ``unknown_issuer``)."""

    code = "ISSUER_TRUST_NOT_CONFIGURED"
    title = "Issuer not recognised: no list of recognised issuers"
    http_status = 422


class IssuerNameMismatchError(SijilError):
    """Warning: the credential's self-declared issuer name differs from the trust list's."""

    code = "ISSUER_NAME_MISMATCH"
    title = "Issuer name differs from the recognised name"
    http_status = 422


@dataclass(frozen=True)
class TrustedIssuer:
    """One recognised issuer: its id as credentials name it, and what the source says of it."""

    id: str
    name: str | None = None
    url: str | None = None
    location: str | None = None
    #: Where the entry comes from (a file name or registry name), shown to the reader.
    source: str | None = None


@dataclass(frozen=True)
class IssuerIdentity:
    """What the signature proves about the issuer: its id and, for did:web / https, a domain."""

    id: str
    domain: str | None

    @property
    def label(self) -> str:
        """``did:web:uni.example.my (uni.example.my)`` or the bare id."""
        if self.domain and self.domain not in self.id:
            return f"{self.id} ({self.domain})"
        return self.id


def issuer_identity(issuer_id: str) -> IssuerIdentity:
    """The verified identity of ``issuer_id``: did:web's domain (port decoded), an https
    URL's host, else no domain (did:key has none: anyone can make one)."""
    if issuer_id.startswith("did:web:"):
        host = issuer_id[len("did:web:") :].split(":", 1)[0]
        return IssuerIdentity(issuer_id, unquote(host).lower() or None)
    if issuer_id.startswith("https://"):
        return IssuerIdentity(issuer_id, (urlsplit(issuer_id).hostname or "").lower() or None)
    return IssuerIdentity(issuer_id, None)


def _text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class TrustList:
    """Recognised issuers by id (see the module docstring for the file formats)."""

    issuers: Mapping[str, TrustedIssuer]

    @classmethod
    def from_issuers(cls, issuers: Iterable[TrustedIssuer]) -> TrustList:
        """A list from :class:`TrustedIssuer` values (the first entry for an id wins)."""
        found: dict[str, TrustedIssuer] = {}
        for issuer in issuers:
            found.setdefault(issuer.id, issuer)
        return cls(found)

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> TrustList:
        """Parse sijil's ``{"issuers": [...]}`` or a DCC registry ``{"registry": {DID: ...}}``.

        Raises ``MALFORMED_VALUE_ERROR`` (with a pointer) for anything else.
        """
        if isinstance(data, Mapping) and isinstance(data.get("issuers"), list):
            return cls._from_sijil(data["issuers"], source)
        if isinstance(data, Mapping):
            for key in ("registry", "entries"):
                if isinstance(data.get(key), Mapping):
                    return cls._from_dcc(data[key], key, source)
        raise MalformedValueError(
            'a trust list is {"issuers": [{"id": ..., "name": ...}]} or a DCC issuer registry '
            '{"registry": {"did:...": {"name": ...}}}',
            pointer="",
        )

    @classmethod
    def _from_sijil(cls, entries: Sequence[Any], source: str | None) -> TrustList:
        found: list[TrustedIssuer] = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or not _text(entry, "id"):
                raise MalformedValueError(
                    "each trusted issuer needs a string id", pointer=f"/issuers/{index}/id"
                )
            found.append(
                TrustedIssuer(
                    id=entry["id"].strip(),
                    name=_text(entry, "name"),
                    url=_text(entry, "url"),
                    location=_text(entry, "location"),
                    source=source,
                )
            )
        return cls.from_issuers(found)

    @classmethod
    def _from_dcc(cls, registry: Mapping[str, Any], key: str, source: str | None) -> TrustList:
        found: list[TrustedIssuer] = []
        for did, entry in registry.items():
            pointer = f"/{key}/{did.replace('~', '~0').replace('/', '~1')}"
            if not isinstance(entry, Mapping) or not did.strip():
                raise MalformedValueError("each registry entry must be an object", pointer=pointer)
            found.append(
                TrustedIssuer(
                    id=did.strip(),
                    name=_text(entry, "name") or _text(entry, "legalName"),
                    url=_text(entry, "url"),
                    location=_text(entry, "location"),
                    source=source,
                )
            )
        return cls.from_issuers(found)

    def merged(self, other: TrustList) -> TrustList:
        """This list, then ``other``'s issuers not already on it."""
        return TrustList.from_issuers([*self.issuers.values(), *other.issuers.values()])

    def lookup(self, issuer_id: str) -> TrustedIssuer | None:
        """The entry for ``issuer_id``, or ``None`` when it is not on the list."""
        return self.issuers.get(issuer_id)

    def is_trusted(self, issuer_id: str) -> bool:
        """Whether ``issuer_id`` is on the list."""
        return issuer_id in self.issuers


def load_trust_list(path: str | Path) -> TrustList:
    """Read one trust file (either format); raises ``PARSING_ERROR`` / ``MALFORMED_VALUE_ERROR``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParsingError(f"cannot read trust list {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParsingError(f"trust list {path} is not JSON: {exc}") from None
    return TrustList.from_dict(data, source=Path(path).name)


def load_trust_sources(paths: Sequence[str | Path]) -> TrustList | None:
    """Read and merge several trust files, most authoritative first (``None`` for none)."""
    merged: TrustList | None = None
    for path in paths:
        loaded = load_trust_list(path)
        merged = loaded if merged is None else merged.merged(loaded)
    return merged


def trust_list_json(issuers: Iterable[TrustedIssuer]) -> str:
    """sijil's trust-file JSON for ``issuers`` (e.g. the dev server trusting its demo issuer)."""
    entries = [
        {k: v for k, v in (("id", i.id), ("name", i.name), ("url", i.url)) if v is not None}
        for i in issuers
    ]
    return json.dumps({"issuers": entries}, indent=2, ensure_ascii=False) + "\n"


def check_issuer_trust(
    issuer: IssuerRef,
    trust: TrustList | None,
    *,
    signature_valid: bool = True,
    bound: bool = True,
) -> Outcome:
    """Is the issuer recognised? Raises ``ISSUER_TRUST_NOT_CONFIGURED`` without a trust source
    and ``ISSUER_NOT_TRUSTED`` when it is not listed; a listed issuer passes, with an
    ``ISSUER_NAME_MISMATCH`` warning when its self-declared name differs from the list's.

    ``bound``: whether the signer was checked to be the issuer. Without that check (issuer
    binding turned off, for spec vectors) the named issuer is only a claim, so a listed one
    is still ``ISSUER_NOT_TRUSTED``. ``signature_valid`` only words the sentence. The
    sentences name the verified identity, never only the self-declared name.
    """
    identity = issuer_identity(issuer.id)
    prefix = "The signature is valid, but " if signature_valid else ""
    if trust is not None and not bound and trust.is_trusted(issuer.id):
        raise IssuerNotTrustedError(
            f"Issuer binding was turned off, so nothing shows that {identity.label} signed "
            "this credential: it cannot be recognised as that issuer.",
            pointer="/issuer",
            issuer=issuer.id,
            domain=identity.domain,
        )
    if trust is None:
        raise IssuerTrustNotConfiguredError(
            f"{prefix}the issuer {identity.label} is not recognised: this verifier has no "
            "list of recognised issuers.",
            pointer="/issuer",
            issuer=issuer.id,
            domain=identity.domain,
        )
    entry = trust.lookup(issuer.id)
    if entry is None:
        raise IssuerNotTrustedError(
            f"{prefix}the issuer {identity.label} is not on your list of recognised issuers.",
            pointer="/issuer",
            issuer=issuer.id,
            domain=identity.domain,
        )
    listed = entry.name or entry.id
    where = f" ({entry.source})" if entry.source else ""
    message = f"The issuer {identity.label} is on your list{where} as {listed}."
    claimed = (issuer.name or "").strip()
    if entry.name and claimed and claimed.casefold() != entry.name.strip().casefold():
        warning = IssuerNameMismatchError(
            f"The credential calls its issuer {claimed!r}, but your list names {identity.id} "
            f"{entry.name!r}; the listed name is shown.",
            pointer="/issuer/name",
            claimed=claimed,
            listed=entry.name,
        )
        return Outcome(message, state="warning", warnings=(warning,))
    return Outcome(message)
