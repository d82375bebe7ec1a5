"""Issuers: profiles, DIDs (did:web or did:key) and the signing-key lifecycle.

Each issuer has one active signing key and any number of retired ones. Private keys live only in
the encrypted key store (``rt.keystore``, under ``<instance>/keys``); the database keeps the
public key, the verification method id and the key store name. Rotation (:func:`rotate_key`)
adds a new key and retires the old one, which stays published in the DID document so every
credential signed before still verifies (Flask's ``SECRET_KEY_FALLBACKS`` idea).

did:web DIDs derive from ``SIJIL_BASE_URL``: the default issuer is the base URL itself
(``/.well-known/did.json``), others are ``{BASE}/issuers/{slug}`` (``/issuers/{slug}/did.json``).
A did:key issuer's DID *is* its key, so it cannot rotate (``KEY_ROTATION_UNSUPPORTED``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError, SijilError
from issuer.db.models import Issuer, IssuerKey
from issuer.domain.catalogue import IssuerProfile
from issuer.services import audit
from issuer.services.errors import ConflictError, NotFoundError
from issuer.services.runtime import Runtime
from keys.dataintegrity import SUITES
from keys.didkey import did_key_for
from keys.didweb import build_did_document, did_web_for, did_web_url
from keys.keypair import KeyPair, KeyType

__all__ = [
    "DEFAULT_SUITE",
    "IssuerSpec",
    "IssuerView",
    "KeyRotationUnsupportedError",
    "create_issuer",
    "did_document",
    "did_document_for_path",
    "did_document_path",
    "ensure_default_issuer",
    "get_issuer",
    "issuer_spec_from_json",
    "list_issuers",
    "rotate_key",
    "signing_key",
    "update_issuer",
]

DEFAULT_SUITE = "eddsa-rdfc-2022"
_SUITE_KEY_TYPES: dict[str, tuple[KeyType, ...]] = {
    "eddsa-rdfc-2022": ("Ed25519",),
    "eddsa-jcs-2022": ("Ed25519",),
    "ecdsa-rdfc-2019": ("P-256", "P-384"),
    "ecdsa-jcs-2019": ("P-256", "P-384"),
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class KeyRotationUnsupportedError(SijilError):
    """A did:key issuer's DID is its key: rotating would change the issuer."""

    code = "KEY_ROTATION_UNSUPPORTED"
    title = "This issuer's keys cannot be rotated"
    http_status = 409


@dataclass(frozen=True)
class IssuerSpec:
    """What an admin supplies to create an issuer."""

    slug: str
    name: str
    url: str
    email: str
    image: str | None = None
    did_method: Literal["web", "key"] = "web"
    cryptosuite: str = DEFAULT_SUITE
    key_type: KeyType = "Ed25519"
    is_default: bool = False

    def validate(self) -> None:
        """Raise ``MALFORMED_VALUE_ERROR`` (with a pointer) for a bad spec."""
        if not _SLUG.match(self.slug):
            raise MalformedValueError("slug: lower-case letters, digits, '-'", pointer="/slug")
        if not self.name.strip() or len(self.name) > 300:
            raise MalformedValueError("name must be 1..300 characters", pointer="/name")
        if not self.url.startswith(("https://", "http://")):
            raise MalformedValueError("url must be http(s)", pointer="/url")
        if "@" not in self.email:
            raise MalformedValueError("email is not an address", pointer="/email")
        if self.did_method not in ("web", "key"):
            raise MalformedValueError("didMethod must be 'web' or 'key'", pointer="/didMethod")
        allowed = _SUITE_KEY_TYPES.get(self.cryptosuite)
        if allowed is None or self.cryptosuite not in SUITES:
            raise MalformedValueError(
                f"cryptosuite must be one of {', '.join(_SUITE_KEY_TYPES)}", pointer="/cryptosuite"
            )
        if self.key_type not in allowed:
            raise MalformedValueError(
                f"{self.cryptosuite} signs with {' or '.join(allowed)} keys, not {self.key_type}",
                pointer="/keyType",
            )


@dataclass(frozen=True)
class IssuerView:
    """An issuer as services hand it out."""

    id: int
    slug: str
    name: str
    url: str
    email: str
    image: str | None
    did: str
    did_method: str
    cryptosuite: str
    key_type: str
    is_default: bool
    #: current signing key's verification method id.
    verification_method: str
    #: every published verification method (current first).
    verification_methods: tuple[str, ...]

    @property
    def profile(self) -> IssuerProfile:
        """The OB 3.0 Profile of this issuer."""
        return IssuerProfile(
            did=self.did, name=self.name, url=self.url, email=self.email, image=self.image
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "slug": self.slug,
            "name": self.name,
            "url": self.url,
            "email": self.email,
            "image": self.image,
            "did": self.did,
            "didMethod": self.did_method,
            "cryptosuite": self.cryptosuite,
            "keyType": self.key_type,
            "isDefault": self.is_default,
            "verificationMethod": self.verification_method,
            "verificationMethods": list(self.verification_methods),
        }


def _ordered_keys(row: Issuer) -> list[IssuerKey]:
    """Active key first, then retired ones newest first."""
    return sorted(row.keys, key=lambda k: (not k.active, -k.id))


def _view(row: Issuer) -> IssuerView:
    keys = _ordered_keys(row)
    if not keys or not keys[0].active:
        raise ConflictError(f"issuer {row.slug!r} has no active signing key")
    return IssuerView(
        id=row.id,
        slug=row.slug,
        name=row.name,
        url=row.url,
        email=row.email,
        image=row.image,
        did=row.did,
        did_method=row.did_method,
        cryptosuite=row.cryptosuite,
        key_type=row.key_type,
        is_default=row.is_default,
        verification_method=keys[0].verification_method,
        verification_methods=tuple(k.verification_method for k in keys),
    )


def _did_web(base_url: str, slug: str | None) -> str:
    """did:web for the base URL (http allowed for local development, same DID shape)."""
    parts = urlsplit(base_url)
    https_url = parts._replace(scheme="https").geturl()
    if slug is not None:
        https_url = https_url.rstrip("/") + f"/issuers/{slug}"
    return did_web_for(https_url)


def _issuer_row(session: Session, slug: str | None) -> Issuer:
    query = select(Issuer)
    query = (
        query.where(Issuer.is_default.is_(True))
        if slug is None
        else query.where(Issuer.slug == slug)
    )
    row = session.scalars(query.order_by(Issuer.id)).first()
    if row is None:
        raise NotFoundError(
            "no default issuer (run `sijil-issuer init`)" if slug is None else f"no issuer {slug!r}"
        )
    return row


def _new_key_row(rt: Runtime, key_type: KeyType, did: str | None) -> tuple[str, IssuerKey]:
    """Generate a key, store it encrypted (key store id = its VM id); returns (DID, row).

    With ``did=None`` the DID is the key's did:key.
    """
    key = KeyPair.generate(key_type)
    did = did or did_key_for(key)
    vm = f"{did}#{key.public_key_multibase}"
    rt.keystore.add(key.with_identity(id=vm, controller=did), created=rt.now())
    row = IssuerKey(
        verification_method=vm,
        key_type=key_type,
        public_key_multibase=key.public_key_multibase,
        keystore_name=vm,
        active=True,
        created_at=rt.now(),
    )
    return did, row


def create_issuer(rt: Runtime, spec: IssuerSpec, *, actor: str) -> IssuerView:
    """Create an issuer with a fresh signing key (stored encrypted).

    Raises ``MALFORMED_VALUE_ERROR`` for a bad spec and ``CONFLICT`` when the slug exists or a
    second default issuer is asked for.
    """
    spec.validate()
    now = rt.now()
    with rt.transaction() as session:
        if session.scalar(select(Issuer.id).where(Issuer.slug == spec.slug)) is not None:
            raise ConflictError(f"issuer {spec.slug!r} exists")
        has_default = session.scalar(select(Issuer.id).where(Issuer.is_default.is_(True)))
        if spec.is_default and has_default is not None:
            raise ConflictError("there is already a default issuer")
        is_default = spec.is_default or has_default is None
        row = Issuer(
            slug=spec.slug,
            name=spec.name,
            url=spec.url,
            email=spec.email,
            image=spec.image,
            did="",
            did_method=spec.did_method,
            cryptosuite=spec.cryptosuite,
            key_type=spec.key_type,
            is_default=is_default,
            created_at=now,
        )
        web_did = _did_web(rt.settings.base_url, None if is_default else spec.slug)
        row.did, key_row = _new_key_row(
            rt, spec.key_type, web_did if spec.did_method == "web" else None
        )
        row.keys.append(key_row)
        session.add(row)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            action="issuer.create",
            target_type="issuer",
            target_id=spec.slug,
            detail={"did": row.did, "verificationMethod": key_row.verification_method},
        )
        return _view(row)


def ensure_default_issuer(
    rt: Runtime,
    *,
    actor: str,
    name: str = "Universiti Sijil (development)",
    url: str | None = None,
    email: str = "registrar@example.edu.my",
) -> IssuerView:
    """The default issuer, created (did:web, Ed25519, eddsa-rdfc-2022) when there is none."""
    try:
        return get_issuer(rt)
    except NotFoundError:
        pass
    spec = IssuerSpec(
        slug="default", name=name, url=url or rt.settings.base_url, email=email, is_default=True
    )
    return create_issuer(rt, spec, actor=actor)


def get_issuer(rt: Runtime, slug: str | None = None) -> IssuerView:
    """An issuer by slug (``None``: the default issuer). Raises ``NOT_FOUND``."""
    with rt.reading() as session:
        return _view(_issuer_row(session, slug))


def list_issuers(rt: Runtime) -> list[IssuerView]:
    """Every issuer, default first."""
    with rt.reading() as session:
        rows = session.scalars(select(Issuer).order_by(Issuer.is_default.desc(), Issuer.id))
        return [_view(r) for r in rows]


def update_issuer(
    rt: Runtime,
    slug: str,
    *,
    actor: str,
    name: str | None = None,
    url: str | None = None,
    email: str | None = None,
    image: str | None = None,
    cryptosuite: str | None = None,
) -> IssuerView:
    """Change an issuer's profile or signing suite (new awards only). Raises ``NOT_FOUND``,
    ``MALFORMED_VALUE_ERROR``."""
    now = rt.now()
    with rt.transaction() as session:
        row = _issuer_row(session, slug)
        changes: dict[str, Any] = {
            k: v
            for k, v in {
                "name": name,
                "url": url,
                "email": email,
                "image": image,
                "cryptosuite": cryptosuite,
            }.items()
            if v is not None
        }
        candidate = IssuerSpec(
            slug=row.slug,
            name=changes.get("name", row.name),
            url=changes.get("url", row.url),
            email=changes.get("email", row.email),
            did_method="web" if row.did_method == "web" else "key",
            cryptosuite=changes.get("cryptosuite", row.cryptosuite),
            key_type=_key_type(row.key_type),
        )
        candidate.validate()
        for attr, value in changes.items():
            setattr(row, attr, value)
        audit.record(
            session,
            at=now,
            actor=actor,
            action="issuer.update",
            target_type="issuer",
            target_id=slug,
            detail=changes,
        )
        return _view(row)


def _key_type(value: str) -> KeyType:
    if value == "P-256":
        return "P-256"
    if value == "P-384":
        return "P-384"
    return "Ed25519"


def rotate_key(
    rt: Runtime, slug: str | None = None, *, actor: str, key_type: KeyType | None = None
) -> IssuerView:
    """Add a new active signing key; the old one is retired but stays in the DID document.

    Raises ``NOT_FOUND`` and ``KEY_ROTATION_UNSUPPORTED`` (did:key issuers). On PostgreSQL the
    issuer row is locked, so concurrent rotations serialize.
    """
    now = rt.now()
    with rt.transaction() as session:
        row = _issuer_row(session, slug)
        session.refresh(row, with_for_update=True)
        if row.did_method != "web":
            raise KeyRotationUnsupportedError(
                f"issuer {row.slug!r} uses did:key; its DID is its key"
            )
        new_type = key_type or _key_type(row.key_type)
        if new_type not in _SUITE_KEY_TYPES[row.cryptosuite]:
            raise MalformedValueError(
                f"{row.cryptosuite} cannot sign with a {new_type} key", pointer="/keyType"
            )
        old = [k for k in row.keys if k.active]
        for k in old:
            k.active = False
            k.retired_at = now
        _, new = _new_key_row(rt, new_type, row.did)
        row.key_type = new_type
        row.keys.append(new)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            action="key.rotate",
            target_type="issuer",
            target_id=row.slug,
            detail={
                "new": new.verification_method,
                "retired": [k.verification_method for k in old],
            },
        )
        return _view(row)


def did_document(rt: Runtime, slug: str | None = None) -> dict[str, Any]:
    """The issuer's DID document listing every key, current first (did:web and did:key)."""
    with rt.reading() as session:
        row = _issuer_row(session, slug)
        keys = [
            KeyPair.from_public_multibase(k.public_key_multibase, id=k.verification_method)
            for k in _ordered_keys(row)
        ]
        return build_did_document(row.did, keys)


def did_document_path(view: IssuerView) -> str | None:
    """URL path at which the web layer serves a did:web issuer's document (``None`` for did:key).

    ``/.well-known/did.json`` for a DID without path, else ``/<segments>/did.json``.
    """
    if view.did_method != "web":
        return None
    return urlsplit(did_web_url(view.did)).path


def did_document_for_path(rt: Runtime, path: str) -> dict[str, Any]:
    """The DID document served at ``path`` (see :func:`did_document_path`). Raises ``NOT_FOUND``."""
    for view in list_issuers(rt):
        if did_document_path(view) == path:
            return did_document(rt, view.slug)
    raise NotFoundError(f"no DID document at {path}")


def signing_key(rt: Runtime, issuer: IssuerView) -> KeyPair:
    """The issuer's current private key (``id`` = its verification method), decrypted once per
    runtime from the encrypted key store. Reads the active key from the database, so a rotation
    by another process is picked up."""
    with rt.reading() as session:
        vm = session.scalar(
            select(IssuerKey.verification_method).where(
                IssuerKey.issuer_id == issuer.id, IssuerKey.active.is_(True)
            )
        )
    if vm is None:
        raise ConflictError(f"issuer {issuer.slug!r} has no active signing key")
    return rt.private_key(vm)


def issuer_spec_from_json(value: Any, *, pointer: str = "") -> IssuerSpec:
    """``{"slug", "name", "url", "email", "image"?, "didMethod"?: "web"|"key", "cryptosuite"?,
    "keyType"?: "Ed25519"|"P-256"|"P-384", "isDefault"?: bool}``; raises ``MALFORMED_VALUE_ERROR``.
    """
    if not isinstance(value, dict):
        raise MalformedValueError("must be a JSON object", pointer=pointer or "/")
    strings = {}
    for key in ("slug", "name", "url", "email"):
        item = value.get(key)
        if not isinstance(item, str):
            raise MalformedValueError("must be a string", pointer=f"{pointer}/{key}")
        strings[key] = item
    image = value.get("image")
    if image is not None and not isinstance(image, str):
        raise MalformedValueError("must be a string", pointer=f"{pointer}/image")
    method = value.get("didMethod", "web")
    if method not in ("web", "key"):
        raise MalformedValueError("must be 'web' or 'key'", pointer=f"{pointer}/didMethod")
    suite = value.get("cryptosuite", DEFAULT_SUITE)
    if not isinstance(suite, str):
        raise MalformedValueError("must be a string", pointer=f"{pointer}/cryptosuite")
    key_type = value.get("keyType", "Ed25519")
    if key_type not in ("Ed25519", "P-256", "P-384"):
        raise MalformedValueError(
            "must be 'Ed25519', 'P-256' or 'P-384'", pointer=f"{pointer}/keyType"
        )
    is_default = value.get("isDefault", False)
    if not isinstance(is_default, bool):
        raise MalformedValueError("must be a boolean", pointer=f"{pointer}/isDefault")
    spec = IssuerSpec(
        slug=strings["slug"],
        name=strings["name"],
        url=strings["url"],
        email=strings["email"],
        image=image,
        did_method="key" if method == "key" else "web",
        cryptosuite=suite,
        key_type=_key_type(key_type),
        is_default=is_default,
    )
    spec.validate()
    return spec
