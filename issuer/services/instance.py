"""The instance remembers its public base URL, so no command issues under a wrong one.

Credential ids, did:web DIDs, status list URLs and claim links are all built from the base URL.
``sijil-issuer init`` stores the base URL it was given (:func:`remember_base_url`); every runtime
then settles its base URL (:func:`settle_base_url`) before issuing anything:

- ``SIJIL_BASE_URL`` unset: the stored base URL is used (an instance created with
  ``https://credentials.example.edu.my`` keeps issuing https URLs from any shell);
- ``SIJIL_BASE_URL`` set and different from the stored one: ``BASE_URL_MISMATCH``;
- nothing stored (an instance made before this table, or never initialised): the base URL must
  still be the one every did:web issuer's DID was derived from (``BASE_URL_MISMATCH``
  otherwise); in production it is taken from the default issuer's did:web DID, and with no
  issuer either, ``SETTINGS_ERROR`` asks for ``SIJIL_BASE_URL`` and ``init``. Development
  falls back to its documented ``http://localhost:<port>`` default.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from contexts.errors import SijilError
from issuer.db.instance_settings import BASE_URL_SETTING, InstanceSetting
from issuer.db.models import Issuer
from issuer.services.runtime import Runtime
from issuer.settings import InsecureSettingsError
from keys.didweb import did_web_for
from webplatform.settings import SettingsError

__all__ = [
    "BaseUrlMismatchError",
    "remember_base_url",
    "settle_base_url",
    "stored_base_url",
]


class BaseUrlMismatchError(SijilError):
    """The base URL in use differs from the one the instance and its DIDs were created with."""

    code = "BASE_URL_MISMATCH"
    title = "Base URL differs from the instance's"
    http_status = 500


def stored_base_url(session: Session) -> str | None:
    """The base URL ``init`` stored in this instance, or ``None``."""
    return session.scalar(
        select(InstanceSetting.value).where(InstanceSetting.name == BASE_URL_SETTING)
    )


def _expected_did(base_url: str, row: Issuer) -> str:
    """The did:web an issuer created under ``base_url`` has (the rule of ``create_issuer``)."""
    https_url = urlsplit(base_url)._replace(scheme="https").geturl().rstrip("/")
    if not row.is_default:
        https_url += f"/issuers/{row.slug}"
    return did_web_for(https_url)


def _base_url_of_did(did: str) -> str:
    """``did:web:example.edu%3A8443:sijil`` -> ``https://example.edu:8443/sijil``."""
    ident, *path = did.removeprefix("did:web:").split(":")
    return "/".join([f"https://{ident.replace('%3A', ':')}", *path])


def _web_issuers(session: Session) -> list[Issuer]:
    return list(
        session.scalars(
            select(Issuer).where(Issuer.did_method == "web").order_by(Issuer.is_default.desc())
        )
    )


def _check_dids(base_url: str, issuers: list[Issuer]) -> None:
    for row in issuers:
        if row.did != _expected_did(base_url, row):
            raise BaseUrlMismatchError(
                f"the base URL is {base_url} but issuer {row.slug!r} is {row.did}, which does "
                f"not live under it: set SIJIL_BASE_URL={_base_url_of_did(row.did)} (or unset "
                "it), or use a new instance folder / database for the new URL"
            )


def settle_base_url(rt: Runtime) -> None:
    """Replace ``rt.settings.base_url`` by the one this instance must use (see module doc).

    Reads the database; does nothing to it. Raises ``BASE_URL_MISMATCH`` and, in production,
    ``SETTINGS_ERROR`` (no base URL anywhere) or ``INSECURE_SETTINGS`` (a stored http URL).
    """
    settings = rt.settings
    tables = set(inspect(rt.engine).get_table_names())
    with rt.reading() as session:
        stored = stored_base_url(session) if InstanceSetting.__tablename__ in tables else None
        issuers = _web_issuers(session) if Issuer.__tablename__ in tables else []
    given = settings.base_url if settings.base_url_given else None
    if given is not None and stored is not None and given != stored:
        raise BaseUrlMismatchError(
            f"SIJIL_BASE_URL={given} but this instance was created with {stored}: unset "
            f"SIJIL_BASE_URL (the stored one is used) or set it to {stored}"
        )
    base = given or stored
    if base is None and settings.is_production:
        default = next((row for row in issuers if row.is_default), None)
        if default is None:
            raise SettingsError(
                "SIJIL_BASE_URL is not set and this instance has no base URL stored: run "
                "`SIJIL_BASE_URL=https://<public host> sijil-issuer init` once"
            )
        base = _base_url_of_did(default.did)
    base = base or settings.base_url
    _check_dids(base, issuers)
    if settings.is_production and not base.startswith("https://"):
        raise InsecureSettingsError(f"production needs an https:// base URL, not {base}")
    if base != settings.base_url:
        rt.settings = replace(settings, base_url=base)


def remember_base_url(rt: Runtime) -> str:
    """Store the settled base URL in the instance unless one is stored; returns the stored one.

    Run by ``init`` (and the dev server) after :func:`settle_base_url`, so a stored value that
    differs has already been refused (``BASE_URL_MISMATCH``).
    """
    with rt.transaction() as session:
        stored = stored_base_url(session)
        if stored is not None:
            return stored
        session.add(InstanceSetting(name=BASE_URL_SETTING, value=rt.settings.base_url))
    return rt.settings.base_url
