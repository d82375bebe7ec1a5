"""Issuers: profiles, DIDs (did:web or did:key) and the signing-key lifecycle.

Each issuer has one active signing key; private keys live only in the encrypted key store
(``rt.keystore``, under ``<instance>/keys``); the database keeps the public key, the verification
method id, the key store name and the key's state (:mod:`issuer.db.keylifecycle`: ``staged``,
``active``, ``previous``, ``retired``).

Rotation is two steps, so instances with separate key stores never sign with a key they lack:
:func:`rotate_key` *stages* a new key (published in the DID document at once, not used for
signing), and :func:`issuer.services.keylifecycle.activate_key` switches signing to it once
every instance holds the key file. Keys that signed before stay published (``previous``) so every
credential they signed still verifies (Flask's ``SECRET_KEY_FALLBACKS`` idea), until retired.
:func:`signing_key` never selects a key this instance's key store does not hold: it keeps
signing with the newest ``previous`` key it holds, logs a WARNING and notes it in
``rt.key_warnings`` (``/readyz`` shows it).

did:web DIDs derive from ``SIJIL_BASE_URL``: the default issuer is the base URL itself
(``/.well-known/did.json``), others are ``{BASE}/issuers/{slug}`` (``/issuers/{slug}/did.json``).
A did:key issuer's DID *is* its key, so it cannot rotate (``KEY_ROTATION_UNSUPPORTED``).

Each issuer may carry a brand (Malay display name, primary and accent colours, a stored logo;
rules in :mod:`issuer.domain.branding`, storage in :mod:`issuer.services.branding`), set with
the other profile members through :func:`issuer_spec_from_json` and :func:`update_issuer`. An
uploaded logo becomes the Profile ``image`` (served at ``/issuers/<slug>/logo``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from contexts.errors import MalformedValueError, SijilError
from issuer.db.branding import IssuerBrandRow
from issuer.db.keylifecycle import KEY_STATES, IssuerKeyState, KeyState
from issuer.db.models import Issuer, IssuerKey
from issuer.domain.branding import BrandChanges, brand_changes_from_json, did_web_domain
from issuer.domain.catalogue import IssuerProfile
from issuer.services import audit
from issuer.services.branding import apply_brand
from issuer.services.errors import ConflictError, NotFoundError
from issuer.services.runtime import Runtime
from keys.dataintegrity import SUITES
from keys.didkey import did_key_for
from keys.didweb import build_did_document, did_web_for, did_web_url
from keys.keypair import KeyPair, KeyType
from keys.keystore import KeyNotFoundError, KeystoreBadPassphraseError, KeystoreError

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
    "key_states",
    "list_issuers",
    "published_keys",
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

log = logging.getLogger(__name__)


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
    #: brand members (checked when parsed: see :func:`issuer_spec_from_json`).
    brand: BrandChanges = field(default_factory=BrandChanges)

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
    #: the verification method the database names for signing (the ``active`` key).
    verification_method: str
    #: every published verification method: active first, then staged, then previous keys
    #: (newest first); retired keys are not published.
    verification_methods: tuple[str, ...]
    #: the brand: Malay display name, colours (``None``: defaults) and the did:web host.
    name_ms: str | None = None
    primary_colour: str | None = None
    accent_colour: str | None = None
    domain: str | None = None

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
            "nameMs": self.name_ms,
            "primaryColor": self.primary_colour,
            "accentColor": self.accent_colour,
            "domain": self.domain,
        }


_KNOWN_STATES: dict[str, KeyState] = {state: state for state in KEY_STATES}


def key_states(session: Session, keys: Iterable[IssuerKey]) -> dict[int, KeyState]:
    """Each key's lifecycle state (a key without a state row: ``active`` or ``previous``)."""
    rows = list(keys)
    found = {
        key_id: state
        for key_id, state in session.execute(
            select(IssuerKeyState.key_id, IssuerKeyState.state).where(
                IssuerKeyState.key_id.in_([k.id for k in rows])
            )
        )
    }
    return {
        k.id: _KNOWN_STATES.get(found.get(k.id, ""), "active" if k.active else "previous")
        for k in rows
    }


_PUBLISHED_ORDER: dict[str, int] = {"active": 0, "staged": 1, "previous": 2}


def published_keys(session: Session, row: Issuer) -> list[IssuerKey]:
    """The issuer's keys its DID document lists: active, then staged, then previous (newest
    first within each); retired keys are withdrawn."""
    states = key_states(session, row.keys)
    return sorted(
        (k for k in row.keys if states[k.id] != "retired"),
        key=lambda k: (_PUBLISHED_ORDER[states[k.id]], -k.id),
    )


def _view(session: Session, row: Issuer) -> IssuerView:
    keys = published_keys(session, row)
    if not keys or not keys[0].active:
        raise ConflictError(f"issuer {row.slug!r} has no active signing key")
    brand = session.get(IssuerBrandRow, row.id)
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
        name_ms=brand.name_ms if brand is not None else None,
        primary_colour=brand.primary_colour if brand is not None else None,
        accent_colour=brand.accent_colour if brand is not None else None,
        domain=did_web_domain(row.did),
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


def _new_key_row(
    rt: Runtime, key_type: KeyType, did: str | None, *, active: bool = True
) -> tuple[str, IssuerKey]:
    """Generate a key, store it encrypted (key store id = its VM id); returns (DID, row).

    With ``did=None`` the DID is the key's did:key. The caller adds the row, flushes, then
    records its state (:func:`_record_state`).
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
        active=active,
        created_at=rt.now(),
    )
    return did, row


def _record_state(session: Session, key: IssuerKey, state: KeyState, at: datetime) -> None:
    """Give a freshly flushed key its state row."""
    session.add(
        IssuerKeyState(
            key_id=key.id,
            state=state,
            staged_at=at,
            activated_at=at if state == "active" else None,
        )
    )


def state_row(session: Session, key: IssuerKey) -> IssuerKeyState:
    """The key's state row, created from ``IssuerKey.active`` when missing."""
    found = session.get(IssuerKeyState, key.id)
    if found is None:
        found = IssuerKeyState(
            key_id=key.id,
            state="active" if key.active else "previous",
            staged_at=key.created_at,
            activated_at=key.created_at,
            deactivated_at=key.retired_at,
        )
        session.add(found)
    return found


def activate_in(
    session: Session, row: Issuer, new: IssuerKey, at: datetime, *, actor: str
) -> list[IssuerKey]:
    """Make ``new`` the issuer's signing key in ``session`` (the caller holds the issuer's row
    lock); the keys that signed before become ``previous``. Audited ``key.activate``. Returns
    the keys that signed before."""
    old = [k for k in row.keys if k.active and k.id != new.id]
    for k in old:
        k.active = False
        k.retired_at = at
        state = state_row(session, k)
        state.state = "previous"
        state.deactivated_at = at
    new.active = True
    new.retired_at = None
    state = state_row(session, new)
    state.state = "active"
    state.activated_at = at
    row.key_type = new.key_type
    audit.record(
        session,
        at=at,
        actor=actor,
        action="key.activate",
        target_type="issuer",
        target_id=row.slug,
        detail={"new": new.verification_method, "previous": [k.verification_method for k in old]},
    )
    return old


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
        _record_state(session, key_row, "active", now)
        apply_brand(session, row, spec.brand, base_url=rt.settings.base_url, at=now)
        audit.record(
            session,
            at=now,
            actor=actor,
            action="issuer.create",
            target_type="issuer",
            target_id=spec.slug,
            detail={
                "did": row.did,
                "verificationMethod": key_row.verification_method,
                **spec.brand.to_audit(),
            },
        )
        return _view(session, row)


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
        return _view(session, _issuer_row(session, slug))


def list_issuers(rt: Runtime) -> list[IssuerView]:
    """Every issuer, default first."""
    with rt.reading() as session:
        rows = session.scalars(select(Issuer).order_by(Issuer.is_default.desc(), Issuer.id))
        return [_view(session, r) for r in rows]


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
    brand: BrandChanges | None = None,
) -> IssuerView:
    """Change an issuer's profile, brand (``brand``: checked members, see
    :func:`issuer.domain.branding.brand_changes_from_json`) or signing suite (new awards only).
    Raises ``NOT_FOUND``, ``MALFORMED_VALUE_ERROR``."""
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
        if brand is not None:
            apply_brand(session, row, brand, base_url=rt.settings.base_url, at=now)
            session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            action="issuer.update",
            target_type="issuer",
            target_id=slug,
            detail={**changes, **(brand.to_audit() if brand is not None else {})},
        )
        return _view(session, row)


def _key_type(value: str) -> KeyType:
    if value == "P-256":
        return "P-256"
    if value == "P-384":
        return "P-384"
    return "Ed25519"


def rotate_key(
    rt: Runtime,
    slug: str | None = None,
    *,
    actor: str,
    key_type: KeyType | None = None,
    activate: bool = False,
) -> IssuerView:
    """Stage a new signing key: published in the DID document at once, not used for signing
    until :func:`issuer.services.keylifecycle.activate_key` (or ``activate=True``, for a single
    instance whose key store is the only one). The view's ``verification_methods`` lists the
    staged key second, after the key still signing.

    Raises ``NOT_FOUND``, ``KEY_ROTATION_UNSUPPORTED`` (did:key issuers) and the key store's
    errors (``KEYSTORE_ERROR`` when the store cannot be written). The issuer row is locked, so
    concurrent rotations serialize.
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
        _, new = _new_key_row(rt, new_type, row.did, active=False)
        row.keys.append(new)
        session.flush()
        _record_state(session, new, "staged", now)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=actor,
            action="key.rotate",
            target_type="issuer",
            target_id=row.slug,
            detail={"new": new.verification_method, "keyType": new_type},
        )
        if activate:
            activate_in(session, row, new, now, actor=actor)
        session.flush()
        return _view(session, row)


def did_document(rt: Runtime, slug: str | None = None) -> dict[str, Any]:
    """The issuer's DID document listing every published key (active, staged, previous;
    retired keys are withdrawn), active first (did:web and did:key)."""
    with rt.reading() as session:
        row = _issuer_row(session, slug)
        keys = [
            KeyPair.from_public_multibase(k.public_key_multibase, id=k.verification_method)
            for k in published_keys(session, row)
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
    """The private key to sign with now (``id`` = its verification method), decrypted once per
    runtime from the encrypted key store.

    Reads the keys from the database on each call, so a rotation by another process is picked
    up. The ``active`` key when this instance's key store holds it; otherwise the newest
    ``previous`` (still published) key it holds, with a WARNING logged and a note in
    ``rt.key_warnings[slug]`` (cleared once the active key is held): an instance never signs
    with a key it lacks and never stops signing because a key file has not arrived yet. Staged
    and retired keys are never selected.

    Raises ``CONFLICT`` (no active key), ``KEYSTORE_KEY_NOT_FOUND`` (this key store holds none
    of the issuer's usable keys), ``KEYSTORE_BAD_PASSPHRASE`` and ``KEYSTORE_ERROR``.
    """
    with rt.reading() as session:
        keys = list(
            session.scalars(
                select(IssuerKey).where(IssuerKey.issuer_id == issuer.id).order_by(IssuerKey.id)
            )
        )
        states = key_states(session, keys)
    active = [k.verification_method for k in keys if k.active and states[k.id] == "active"]
    if not active:
        raise ConflictError(f"issuer {issuer.slug!r} has no active signing key")
    fallbacks = [
        k.verification_method for k in reversed(keys) if not k.active and states[k.id] == "previous"
    ]
    misses: list[str] = []
    for vm in active + fallbacks:
        try:
            key = rt.private_key(vm)
        except KeystoreBadPassphraseError:
            raise
        except KeystoreError as exc:  # absent, or not a complete key file yet
            misses.append(f"{vm} ({exc.code})")
            continue
        _note_signing_key(rt, issuer.slug, active[0], vm, misses)
        return key
    raise KeyNotFoundError(
        f"this instance's key store ({rt.keystore.directory}) holds none of issuer "
        f"{issuer.slug!r}'s signing keys: {'; '.join(misses)}. Copy the key file of "
        f"{active[0]} into the key store"
    )


def _note_signing_key(rt: Runtime, slug: str, active: str, used: str, misses: list[str]) -> None:
    """Say (once per change) when this instance signs with another key than the active one."""
    if used == active:
        if rt.key_warnings.pop(slug, None) is not None:
            log.warning("issuer %s: signing with the active key %s again", slug, active)
        return
    note = (
        f"issuer {slug}: the active key {active} is not in this instance's key store; "
        f"signing with the previous key {used} until its key file arrives"
    )
    if rt.key_warnings.get(slug) != note:
        rt.key_warnings[slug] = note
        log.warning("%s (%s)", note, "; ".join(misses))


def issuer_spec_from_json(value: Any, *, pointer: str = "") -> IssuerSpec:
    """``{"slug", "name", "url", "email", "image"?, "didMethod"?: "web"|"key", "cryptosuite"?,
    "keyType"?: "Ed25519"|"P-256"|"P-384", "isDefault"?: bool, "nameMs"?, "primaryColor"?,
    "accentColor"?, "logo"?: data: URL}`` (brand members: :func:`brand_changes_from_json`);
    raises ``MALFORMED_VALUE_ERROR``.
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
        brand=brand_changes_from_json(value, pointer=pointer),
    )
    spec.validate()
    return spec
