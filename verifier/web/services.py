"""The verifier core as the web layer sees it: one object per app, built once.

:class:`VerifierServices` holds what every request shares: the settings and one
:class:`verifier.report.Verifier` (SSRF-guarded fetcher, caching key resolver, status-list
cache, trust list), so keys and status lists stay cached between requests. Each method is a
call into the core; nothing here decides validity. The one thing added here is bounding:
everything that reaches the core from the network or an upload has passed the size and JSON
nesting caps of :mod:`.jsonbody` first. Views reach it with :func:`services`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from contexts.errors import ParsingError, SijilError
from contexts.loader import load_context, pinned_urls
from keys.fetch import FetchError, UnexpectedContentTypeError
from keys.stale import StaleUse, collect_stale_uses
from verifier.baked import is_png, is_svg, unbake
from verifier.inputs import is_compact_jws
from verifier.report import Verifier
from verifier.settings import VerifierSettings
from verifier.transfer import TransferPolicy, evaluate_transfer
from verifier.transferpolicies import PublishedPolicy, load_published_policies
from webplatform.jsonbody import DEFAULT_MAX_JSON_DEPTH, check_json_depth, parse_json_bytes

__all__ = [
    "CREDENTIAL_ACCEPT",
    "CredentialNotFoundError",
    "VerifierServices",
    "services",
    "with_stale_uses",
]

#: What ``GET /verify?url=`` asks a credential URL for (a JSON-LD VC first, then a VC-JWT).
CREDENTIAL_ACCEPT = (
    "application/vc+ld+json, application/vc, application/ld+json;q=0.9, "
    "application/json;q=0.8, application/vc+jwt;q=0.7"
)
_READINESS_CONTEXT = "https://www.w3.org/ns/credentials/v2"
_JWT_MEDIA_TYPES = frozenset({"application/vc+jwt", "application/jwt", "text/plain"})


class CredentialNotFoundError(SijilError):
    """The credential link's server answered 404 or 410: the issuer no longer serves it."""

    code = "CREDENTIAL_NOT_FOUND"
    title = "Credential not found at the issuer"
    http_status = 404


def with_stale_uses(report: dict[str, Any], uses: Sequence[StaleUse]) -> dict[str, Any]:
    """``report`` with the last-known copies it relied on: a ``stale`` list (kind, url,
    ``age_seconds``) and a ``STALE_STATUS_LIST`` / ``STALE_KEY_DOCUMENT`` warning each."""
    if not uses:
        return report
    report["stale"] = [
        {"kind": u.kind, "url": u.url, "age_seconds": round(u.age_seconds), "cause": u.cause}
        for u in uses
    ]
    warnings = list(report.get("warnings") or [])
    for use in uses:
        code = "STALE_STATUS_LIST" if use.kind == "status_list" else "STALE_KEY_DOCUMENT"
        warnings.append(
            {
                "code": code,
                "title": "Last-known copy used",
                "detail": f"{use.url} could not be fetched ({use.cause}); used the copy "
                f"fetched {round(use.age_seconds)} s ago.",
            }
        )
    report["warnings"] = warnings
    return report


@dataclass
class VerifierServices:
    """Shared, thread-safe collaborators of the verifier's views."""

    settings: VerifierSettings
    verifier: Verifier
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    #: The credit-transfer policies published on the page, by key (read once at startup).
    policies: dict[str, PublishedPolicy] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls,
        settings: VerifierSettings | None = None,
        *,
        verifier: Verifier | None = None,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
    ) -> VerifierServices:
        """Build the shared verifier from ``settings`` (default: the ``SIJIL_*`` environment).

        Raises ``SETTINGS_ERROR``, the trust-list loading errors and, in production without
        a trust source (and without ``SIJIL_TRUST_ANY_ISSUER=1``), ``TRUST_SOURCE_REQUIRED``
        at startup, not later.
        """
        if settings is None:
            settings = VerifierSettings.from_env()
        if verifier is None:
            verifier = settings.build_verifier()
        settings.require_trust_source(verifier.trust)
        policies = load_published_policies(settings.transfer_policies_dir, settings.transfer_policy)
        return cls(
            settings=settings,
            verifier=verifier,
            max_json_depth=max_json_depth,
            policies=policies,
        )

    def verify_credential(
        self,
        credential: Mapping[str, Any] | str | bytes,
        *,
        at: datetime | None = None,
        challenge: str | None = None,
        domain: str | None = None,
    ) -> dict[str, Any]:
        """The core's report (``to_dict()``) for a credential, VC-JWT, presentation or image."""
        with collect_stale_uses() as stale:
            report = self.verifier.verify(credential, at=at, challenge=challenge, domain=domain)
        return with_stale_uses(report.to_dict(), stale)

    def verify_presentation(
        self,
        presentation: Mapping[str, Any] | str,
        *,
        at: datetime | None = None,
        challenge: str | None = None,
        domain: str | None = None,
    ) -> dict[str, Any]:
        """The core's report for a presentation checked against ``challenge``/``domain``."""
        with collect_stale_uses() as stale:
            report = self.verifier.verify(presentation, at=at, challenge=challenge, domain=domain)
        return with_stale_uses(report.to_dict(), stale)

    def evaluate_transfer(
        self,
        policy: Mapping[str, Any] | TransferPolicy,
        *,
        credentials: Sequence[Mapping[str, Any] | str | bytes] | None,
        presentation: Mapping[str, Any] | str | None,
        at: datetime | None = None,
        challenge: str | None = None,
        domain: str | None = None,
    ) -> dict[str, Any]:
        """Verify each input, then the core's credit-transfer evaluation (``to_dict()``).

        Raises ``MALFORMED_VALUE_ERROR`` for a malformed policy and the input errors of
        :meth:`verify_credential`.
        """
        parsed = policy if isinstance(policy, TransferPolicy) else TransferPolicy.from_dict(policy)
        moment = at if at is not None else datetime.now(UTC)
        inputs: list[Mapping[str, Any] | str | bytes] = (
            [presentation] if presentation is not None else list(credentials or [])
        )
        reports = [
            self.verifier.verify(
                item,
                at=moment,
                challenge=challenge,
                domain=domain,
                allow_unsigned_presentation=parsed.allow_unsigned_presentations,
                # Credits go to the holder: a presentation must be about its holder.
                require_holder_binding=presentation is not None,
            )
            for item in inputs
        ]
        return evaluate_transfer(reports, parsed, at=moment).to_dict()

    def fetch_credential(self, url: str, *, max_bytes: int) -> Mapping[str, Any] | str:
        """Fetch a credential (JSON-LD or VC-JWT) from ``url`` with the SSRF-guarded fetcher.

        Raises the ``FETCH_*`` family (public HTTPS only unless ``SIJIL_ALLOW_LOCAL_FETCH``),
        ``REQUEST_TOO_LARGE``, ``JSON_TOO_DEEP`` and ``PARSING_ERROR``.
        """
        try:
            response = self.verifier.fetcher.get_bytes(url, accept=CREDENTIAL_ACCEPT)
        except FetchError as exc:
            if exc.extra.get("status") in (404, 410):
                raise CredentialNotFoundError(
                    f"The issuer answered HTTP {exc.extra['status']} for {url}: it no longer "
                    "serves this credential.",
                    url=url,
                ) from None
            raise
        media = response.media_type
        if media in _JWT_MEDIA_TYPES:
            token = response.body.strip().decode("ascii", errors="replace")
            if is_compact_jws(token):
                return token
        if not (media in ("application/json", "application/vc") or media.endswith("+json")):
            raise UnexpectedContentTypeError(
                f"{response.url} answered {media or 'no media type'!r}, not a credential",
                url=response.url,
            )
        document = parse_json_bytes(
            response.body, max_bytes=max_bytes, max_depth=self.max_json_depth
        )
        if not isinstance(document, (dict, str)):
            raise ParsingError(f"{response.url} did not answer a credential (a JSON object)")
        return document

    def check_image(self, data: bytes) -> None:
        """Bound the credential baked into a PNG/SVG before the core parses it.

        Raises ``BAKED_CREDENTIAL_NOT_FOUND``, ``PARSING_ERROR`` and ``JSON_TOO_DEEP``.
        """
        if is_png(data) or is_svg(data):
            check_json_depth(unbake(data), self.max_json_depth)

    def readiness_problem(self) -> str | None:
        """``None`` when ready to verify, else why not (the pinned contexts must load)."""
        if not pinned_urls():
            return "no pinned JSON-LD contexts"
        try:
            load_context(_READINESS_CONTEXT)
        except SijilError as exc:
            return str(exc)
        return None


def services() -> VerifierServices:
    """The current app's :class:`VerifierServices`."""
    found: VerifierServices = current_app.extensions["sijil_verifier"]
    return found
