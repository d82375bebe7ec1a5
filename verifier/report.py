"""``verify_credential``: every check, one report.

This is the one place that runs the checks and collects what they raise into a
:class:`VerificationReport`. Checks (in report order):

- ``proof``: every Data Integrity proof or the VC-JWT signature, through the credential-format
  registry (``keys.formats.verify_secured``); for a presentation, the holder's
  ``authentication`` proof with the verifier's challenge and domain (:mod:`verifier.presentation`);
- ``issuer_binding``: the signer's controller is the credential's ``issuer`` (a presentation's
  ``holder``); relaxed only by ``issuer_binding=False``;
- ``validity``: ``validFrom`` / ``validUntil`` against ``at`` with ``CLOCK_SKEW``;
- ``status``: Bitstring Status List entries (:mod:`verifier.status`);
- ``schema``: OB 3.0 / CLR 2.0 JSON Schema (:mod:`verifier.schema`);
- ``issuer_trust``: the issuer against the caller's trust list (:mod:`verifier.trust`);
- ``stacking``: for a CLR MMS, every embedded COA and the programme rules
  (:mod:`verifier.stacking`).

Each check result has ``status`` (passed | failed | warning | skipped | unknown), the error
``codes`` and a plain-language ``message``. ``verified`` is true when no check failed or is
unknown. ``verdict`` is the one word the human page shows: valid, revoked, suspended, expired,
not_yet_valid, invalid, unknown_issuer or status_unknown.

Input that cannot be read at all (not JSON, not a JWT, not a badge image, JSON that is neither a
credential nor a presentation) raises :class:`contexts.errors.ParsingError` (or a subclass)
instead of returning a report: there is nothing to report on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from contexts.errors import (
    MalformedValueError,
    ParsingError,
)
from keys.dataintegrity import ProofResult, require_bound_proof
from keys.dataintegrity.errors import IssuerBindingError
from keys.fetch import Fetcher, SafeFetcher
from keys.formats import verify_secured
from keys.jose import decode_vc_jwt
from keys.resolve import Resolver

from .budget import VerificationLimits, bind_budget
from .collector import CheckCollector, is_verified, verdict_of, verdict_reason
from .errors import (
    UnsupportedInputError,
)
from .inputs import LoadedInput, load_embedded_credential, load_input
from .models import (
    Credential,
    is_presentation,
    parse_credential,
    types_of,
)
from .outcome import CheckState, Outcome
from .pdf import check_printed_text
from .presentation import verify_presentation
from .result import (
    CHECK_NAMES,
    CheckResult,
    ComponentSummary,
    CredentialSummary,
    Verdict,
    VerificationReport,
    VerifyOptions,
)
from .schema import check_schema
from .stacking import EmbeddedResult, check_embedded, check_stacking
from .status import StatusListClient
from .trust import TrustList, check_issuer_trust
from .validity import CLOCK_SKEW, check_validity, format_date

__all__ = [
    "CHECK_NAMES",
    "CLOCK_SKEW",
    "CheckResult",
    "CheckState",
    "ComponentSummary",
    "CredentialSummary",
    "Verdict",
    "VerificationReport",
    "Verifier",
    "VerifyOptions",
    "verify_credential",
]

# --- the verifier ----------------------------------------------------------------------------


_MAX_DEPTH = 3


class Verifier:
    """Holds the long-lived parts (resolver, fetcher, status cache, trust list) for reuse.

    The web app builds one at startup (:meth:`verifier.settings.VerifierSettings.build_verifier`)
    so keys and status lists stay cached between requests; :func:`verify_credential` is the
    one-shot form.
    """

    def __init__(
        self,
        *,
        resolver: Resolver | None = None,
        fetcher: Fetcher | None = None,
        trust: TrustList | None = None,
        status_client: StatusListClient | None = None,
        clock_skew: timedelta = CLOCK_SKEW,
        limits: VerificationLimits | None = None,
    ) -> None:
        self.limits = limits if limits is not None else VerificationLimits()
        if fetcher is None:
            fetcher = resolver.fetcher if resolver is not None and resolver.fetcher else None
        if fetcher is None:
            fetcher = SafeFetcher()
        self.fetcher: Fetcher = fetcher
        self.resolver: Resolver = resolver if resolver is not None else Resolver(fetcher)
        self.trust = trust
        self.status_client = (
            status_client if status_client is not None else StatusListClient(fetcher, self.resolver)
        )
        self.clock_skew = clock_skew

    def verify(
        self,
        data: Mapping[str, Any] | str | bytes,
        *,
        at: datetime | None = None,
        issuer_binding: bool = True,
        challenge: str | None = None,
        domain: str | None = None,
        check_status: bool = True,
        check_schema: bool = True,
        allow_unsigned_presentation: bool = False,
        require_holder_binding: bool = False,
    ) -> VerificationReport:
        """See :func:`verify_credential`."""
        if at is None:
            at = datetime.now(UTC)
        elif at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        options = VerifyOptions(
            at=at.astimezone(UTC),
            issuer_binding=issuer_binding,
            challenge=challenge,
            domain=domain,
            check_status=check_status,
            check_schema=check_schema,
            allow_unsigned_presentation=allow_unsigned_presentation,
            require_holder_binding=require_holder_binding,
        )
        loaded = load_input(data)
        # One fetch budget and deadline for everything this verification fetches.
        run = copy.copy(self)
        run.resolver, run.status_client = bind_budget(
            self.limits.start(), self.resolver, self.status_client
        )
        if loaded.token is not None:
            decode_vc_jwt(loaded.token)  # unreadable tokens are input errors (PARSING_ERROR)
            return run._verify_credential(loaded, options, depth=0)
        assert loaded.document is not None  # load_input returns a document or a token
        types = types_of(loaded.document)
        if is_presentation(loaded.document):
            return verify_presentation(
                loaded,
                options,
                resolver=run.resolver,
                verify_embedded=lambda raw: run._verify_embedded(raw, options, depth=1),
            )
        if "VerifiableCredential" not in types:
            raise UnsupportedInputError(
                "the JSON is neither a Verifiable Credential nor a Verifiable Presentation "
                "(its type has neither)"
            )
        return run._verify_credential(loaded, options, depth=0)

    # -- credentials -----------------------------------------------------------------------

    def _proof_check(
        self, loaded: LoadedInput, options: VerifyOptions, found: dict[str, Any]
    ) -> Callable[[], Outcome]:
        def check() -> Outcome:
            if loaded.token is not None:
                # The credential-format registry (keys.formats) dispatches to the verifier.
                try:
                    payload = verify_secured(
                        loaded.token,
                        self.resolver,
                        issuer_binding=options.issuer_binding,
                        at=options.at,
                    ).credential
                except IssuerBindingError as exc:
                    found["binding_error"] = exc
                    payload = verify_secured(
                        loaded.token, self.resolver, issuer_binding=False, at=options.at
                    ).credential
                found["document"] = payload
                if loaded.printed_text is not None:
                    check_printed_text(loaded.printed_text, payload)
                return Outcome("The VC-JWT signature is valid.")
            assert loaded.document is not None
            results = list(
                verify_secured(
                    loaded.document, self.resolver, at=options.at, issuer_binding=False
                ).proofs
            )
            found["proofs"] = results
            if loaded.printed_text is not None:
                check_printed_text(loaded.printed_text, loaded.document)
            suites = ", ".join(dict.fromkeys(r.cryptosuite for r in results))
            count = "signature is" if len(results) == 1 else f"{len(results)} signatures are"
            return Outcome(f"The {count} valid ({suites}).")

        return check

    def _binding_check(
        self, document: Mapping[str, Any], found: Mapping[str, Any], options: VerifyOptions
    ) -> Callable[[], Outcome]:
        def check() -> Outcome:
            error = found.get("binding_error")
            if isinstance(error, IssuerBindingError):
                raise error
            results: list[ProofResult] = found.get("proofs", [])
            if results:
                # Every proof verified; one must be the issuer's, others may be anyone's.
                require_bound_proof(document, results)
            issuer = document.get("issuer")
            issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
            return Outcome(f"The credential was signed by its issuer, {issuer_id}.")

        return check

    def _verify_credential(
        self, loaded: LoadedInput, options: VerifyOptions, *, depth: int
    ) -> VerificationReport:
        collector = CheckCollector()
        found: dict[str, Any] = {}
        proof_ok = collector.run("proof", self._proof_check(loaded, options, found))
        document: Mapping[str, Any] | None = loaded.document
        if document is None:
            document = found.get("document")
        if document is None and loaded.token is not None:
            # The signature failed, but the payload is still worth summarising.
            document = decode_vc_jwt(loaded.token)[1]
        assert document is not None

        if not options.issuer_binding:
            collector.skip(
                "issuer_binding", "Not checked: issuer binding was turned off for this check."
            )
        elif not proof_ok:
            collector.skip(
                "issuer_binding", "Not checked, because the signature could not be verified."
            )
        else:
            collector.run("issuer_binding", self._binding_check(document, found, options))

        model: Credential | None = None
        model_error: MalformedValueError | None = None
        try:
            model = parse_credential(document)
        except MalformedValueError as exc:
            model_error = exc

        if model is None:
            assert model_error is not None
            error = model_error
            for name in ("validity", "status", "issuer_trust", "stacking"):
                collector.skip(name, "Not checked, because the credential is malformed.")

            def malformed() -> Outcome:
                raise error

            collector.run("schema", malformed)
            checks = collector.ordered()
            return VerificationReport(
                verified=False,
                verdict="invalid",
                checks=checks,
                errors=tuple(collector.errors),
                warnings=tuple(collector.warnings),
                format=loaded.format,
                document=document,
                proofs=tuple(r.to_dict() for r in found.get("proofs", [])),
                checked_at=format_date(options.at),
            )

        collector.run("validity", lambda: check_validity(model, options.at, skew=self.clock_skew))
        if not proof_ok:
            collector.skip("status", "Not checked, because the signature could not be verified.")
        elif options.check_status:
            collector.run(
                "status",
                lambda: self.status_client.check(
                    model, at=options.at, issuer_binding=options.issuer_binding
                ),
            )
        else:
            collector.skip("status", "Not checked: status checking was turned off.")
        if options.check_schema:
            collector.run("schema", lambda: check_schema(document))
        else:
            collector.skip("schema", "Not checked: schema checking was turned off.")
        collector.run(
            "issuer_trust",
            lambda: check_issuer_trust(
                model.issuer,
                self.trust,
                signature_valid=proof_ok,
                bound=options.issuer_binding,
            ),
        )

        parts: tuple[VerificationReport, ...] = ()
        components: tuple[ComponentSummary, ...] = ()
        if model.is_clr and depth < _MAX_DEPTH:
            parts = tuple(
                self._verify_embedded(raw, options, depth=depth + 1)
                for raw in model.subject.embedded
            )
            embedded = tuple(
                EmbeddedResult.from_report(index, part) for index, part in enumerate(parts)
            )
            if model.award_type == "MMS":
                collector.run("stacking", lambda: check_stacking(model, embedded, self.trust))
            else:
                collector.run("stacking", lambda: check_embedded(model, embedded))
            components = tuple(ComponentSummary.from_report(part) for part in parts)
        elif model.is_clr:
            collector.skip("stacking", "Not checked: credentials nested too deeply.")
        else:
            collector.skip("stacking", "Not a programme statement, so there is nothing stacked.")

        checks = collector.ordered()
        verdict = verdict_of(checks, collector.raised)
        return VerificationReport(
            verified=is_verified(checks),
            verdict=verdict,
            verdict_reason=verdict_reason(checks, verdict),
            checks=checks,
            errors=tuple(collector.errors),
            warnings=tuple(collector.warnings),
            credential=CredentialSummary.from_model(model, trust=self.trust, components=components),
            format=loaded.format,
            document=document,
            model=model,
            parts=parts,
            proofs=tuple(r.to_dict() for r in found.get("proofs", [])),
            checked_at=format_date(options.at),
        )

    def _embedded_input(self, raw: Any) -> LoadedInput:
        """An embedded credential: a JSON object, a VC-JWT string, or an enveloped VC."""
        return load_embedded_credential(raw)

    def _verify_embedded(
        self, raw: Any, options: VerifyOptions, *, depth: int
    ) -> VerificationReport:
        """Verify an embedded credential; unreadable ones become an invalid report."""
        try:
            loaded = self._embedded_input(raw)
            if loaded.token is not None:
                decode_vc_jwt(loaded.token)
            elif loaded.document is not None and "VerifiableCredential" not in types_of(
                loaded.document
            ):
                raise UnsupportedInputError("an embedded item is not a Verifiable Credential")
        except (ParsingError, MalformedValueError) as exc:
            collector = CheckCollector()
            collector.fail("proof", [exc])
            return VerificationReport(
                verified=False,
                verdict="invalid",
                checks=collector.ordered(),
                errors=tuple(collector.errors),
                document=raw if isinstance(raw, Mapping) else None,
                checked_at=format_date(options.at),
            )
        return self._verify_credential(loaded, options, depth=depth)


def verify_credential(
    data: Mapping[str, Any] | str | bytes,
    *,
    at: datetime | None = None,
    resolver: Resolver | None = None,
    fetcher: Fetcher | None = None,
    trust: TrustList | None = None,
    status_client: StatusListClient | None = None,
    issuer_binding: bool = True,
    challenge: str | None = None,
    domain: str | None = None,
    check_status: bool = True,
    check_schema: bool = True,
    allow_unsigned_presentation: bool = False,
    require_holder_binding: bool = False,
) -> VerificationReport:
    """Verify a credential or presentation and report every check.

    ``data``: a JSON-LD credential or presentation (dict or JSON text), a VC-JWT (compact, or
    ``data:application/vc+jwt,...``), or bytes of those or of a baked OB 3.0 PNG/SVG.
    ``at``: the verification time (default now, UTC). ``resolver`` / ``fetcher``: where keys
    and status lists come from (default :class:`keys.fetch.SafeFetcher`: public HTTPS only).
    ``trust``: recognised issuers (``None``: any issuer, with a warning). ``issuer_binding``:
    require the signer to be the issuer (``False`` only for spec vectors). ``challenge`` /
    ``domain``: what a presentation's ``authentication`` proof must carry.
    ``allow_unsigned_presentation``: accept a presentation without a proof (with a warning).
    ``require_holder_binding``: a verifier policy (e.g. credit transfer), off by default: every
    credential in a presentation must be about its holder (``HOLDER_MISMATCH``).

    Returns a :class:`VerificationReport`; raises ``PARSING_ERROR`` (or ``UNSUPPORTED_INPUT``,
    ``BAKED_CREDENTIAL_NOT_FOUND``) only when the input cannot be read as a credential or
    presentation at all. A one-shot call builds fresh caches; reuse a :class:`Verifier` (or pass
    ``resolver`` and ``status_client``) to keep keys and status lists cached.
    """
    verifier = Verifier(
        resolver=resolver, fetcher=fetcher, trust=trust, status_client=status_client
    )
    return verifier.verify(
        data,
        at=at,
        issuer_binding=issuer_binding,
        challenge=challenge,
        domain=domain,
        check_status=check_status,
        check_schema=check_schema,
        allow_unsigned_presentation=allow_unsigned_presentation,
        require_holder_binding=require_holder_binding,
    )
