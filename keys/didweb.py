"""did:web: DIDs hosted as ``did.json`` on the controller's own HTTPS origin.

Mapping (W3C CCG "did:web Method Specification", section "Read (Resolve)"):
``did:web:example.com`` -> ``https://example.com/.well-known/did.json``;
``did:web:example.com:u:alice`` -> ``https://example.com/u/alice/did.json``;
a port is percent-encoded in the host part: ``did:web:localhost%3A8443``.

This module only maps names and builds documents; fetching goes through
:class:`keys.fetch.SafeFetcher` in :mod:`keys.resolve`. Malformed DIDs and URLs raise
``INVALID_DID``.

Key rotation: :func:`build_did_document` publishes every key it is given. The issuer
passes its current signing key first and keeps retired (not compromised) keys in the
list, still under ``assertionMethod``, so credentials signed with them keep verifying.
A compromised key is removed from the document altogether.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from contexts.errors import MalformedValueError
from keys.didkey import DID_KEY_CONTEXTS, InvalidDidError
from keys.keypair import KeyPair

__all__ = [
    "DEFAULT_RELATIONSHIPS",
    "DID_WEB_CONTEXTS",
    "DID_WEB_PREFIX",
    "build_did_document",
    "did_web_for",
    "did_web_url",
]

DID_WEB_PREFIX = "did:web:"
#: The same contexts as the did:key documents: DID v1 + Multikey v1 (both pinned).
DID_WEB_CONTEXTS = DID_KEY_CONTEXTS
DEFAULT_RELATIONSHIPS = ("assertionMethod", "authentication")

_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$")


def _check_host(host: str, port: str | None, what: str) -> None:
    if not _HOST.match(host):
        raise InvalidDidError(f"{what}: {host!r} is not a valid host name")
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        raise InvalidDidError(f"{what}: invalid port {port!r}")


def did_web_url(did: str) -> str:
    """The HTTPS URL of the DID document of a did:web DID. Raises ``INVALID_DID``."""
    if not isinstance(did, str) or not did.startswith(DID_WEB_PREFIX):
        raise InvalidDidError(f"not a did:web DID: {did!r}")
    if any(c in did for c in "#?/"):
        raise InvalidDidError(f"did:web DID must not contain '#', '?' or '/': {did!r}")
    host_part, *segments = did[len(DID_WEB_PREFIX) :].split(":")
    host_port = re.sub("%3[Aa]", ":", host_part)
    host, _, port = host_port.partition(":")
    _check_host(host, port if ":" in host_port else None, did)
    for seg in segments:
        if not _SEGMENT.match(seg) or seg in (".", ".."):
            raise InvalidDidError(f"did:web path segment {seg!r} is not allowed in {did!r}")
    path = "/" + "/".join(segments) + "/did.json" if segments else "/.well-known/did.json"
    return f"https://{host_port.lower()}{path}"


def did_web_for(base_url: str) -> str:
    """The did:web DID whose document lives under ``base_url`` (inverse of :func:`did_web_url`).

    ``https://example.com`` -> ``did:web:example.com``;
    ``https://example.com:8443/u/alice/`` -> ``did:web:example.com%3A8443:u:alice``.
    Raises ``INVALID_DID`` for a non-https URL, user info, a query or a fragment.
    """
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise InvalidDidError(f"invalid URL {base_url!r}: {exc}") from exc
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidDidError(f"did:web needs an https URL with a host: {base_url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidDidError("did:web base URL must not have user info, query or fragment")
    host = parts.hostname
    _check_host(host, str(port) if port is not None else None, base_url)
    ident = host + (f"%3A{port}" if port is not None else "")
    segments = [s for s in parts.path.split("/") if s]
    if segments[-2:] == [".well-known", "did.json"] or segments[-1:] == ["did.json"]:
        raise InvalidDidError("pass the base URL, not the did.json URL")
    for seg in segments:
        if not _SEGMENT.match(seg) or seg in (".", ".."):
            raise InvalidDidError(f"path segment {seg!r} cannot be part of a did:web DID")
    return ":".join([DID_WEB_PREFIX + ident, *segments])


def build_did_document(
    did: str,
    keys: Sequence[KeyPair],
    *,
    relationships: Sequence[str] = DEFAULT_RELATIONSHIPS,
) -> dict[str, Any]:
    """The DID document publishing ``keys`` (public parts only) as ``Multikey`` methods.

    Each key's verification method id is its ``id`` when that is ``did#fragment``, else
    ``did#`` + its ``publicKeyMultibase``. Keys are listed in the order given (current
    signing key first by convention) and referenced from each of ``relationships``.
    Raises ``INVALID_DID`` for a bad DID and ``MALFORMED_VALUE_ERROR`` for a key id
    under another DID or a duplicate id.
    """
    if did.startswith(DID_WEB_PREFIX):
        did_web_url(did)
    elif not did.startswith("did:") or "#" in did:
        raise InvalidDidError(f"not a DID: {did!r}")
    methods: list[dict[str, Any]] = []
    seen: set[str] = set()
    for key in keys:
        vm_id = key.id or f"{did}#{key.public_key_multibase}"
        if not vm_id.startswith(did + "#") or vm_id == did + "#":
            raise MalformedValueError(f"key id {vm_id!r} is not a fragment of {did}")
        if vm_id in seen:
            raise MalformedValueError(f"duplicate verification method id {vm_id!r}")
        seen.add(vm_id)
        methods.append(
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key_multibase,
            }
        )
    doc: dict[str, Any] = {
        "@context": list(DID_WEB_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
    }
    for rel in relationships:
        doc[rel] = [m["id"] for m in methods]
    return doc
