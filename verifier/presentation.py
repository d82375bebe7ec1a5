"""Verifiable Presentations: the holder's proof, replay protection, and the credentials inside.

Called by :class:`verifier.report.Verifier` for input whose ``type`` includes
``VerifiablePresentation``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from keys.dataintegrity import (
    ProofResult,
    VerificationMethodResolver,
    require_bound_proof,
    verify_proofs,
)

from .collector import CheckCollector, aggregate_check, is_verified
from .errors import HolderMismatchError, PresentationNotSignedError, UnsupportedInputError
from .inputs import LoadedInput
from .models import parse_presentation
from .outcome import Outcome
from .result import (
    CHECK_NAMES,
    VERDICT_ORDER,
    CheckResult,
    Verdict,
    VerificationReport,
    VerifyOptions,
)
from .validity import format_date

__all__ = ["check_holder_binding", "verify_presentation"]


def check_holder_binding(holder: str | None, parts: Sequence[VerificationReport]) -> None:
    """Verifier policy: every credential with a subject id is about the presentation's holder.

    Not part of plain verification: VC DM 2.0 section 4.13 lets anyone present a credential
    (a parent, an agent, a registrar passing on a transcript). Credit transfer and other
    callers that need "the learner presents their own credential" opt in
    (``require_holder_binding``). A presentation without ``holder`` cannot satisfy it.
    Raises ``HOLDER_MISMATCH`` (one per credential, grouped when several).
    """
    models = [part.model for part in parts if part.model is not None]
    mismatched = [
        m for m in models if m.subject.id is not None and (holder is None or m.subject.id != holder)
    ]
    if not mismatched:
        return
    errors = [
        HolderMismatchError(
            f"The credential {m.id or m.name} is about {m.subject.id}, not the presenter "
            f"{holder or '(the presentation names no holder)'}.",
            credential=m.id,
        )
        for m in mismatched
    ]
    if len(errors) == 1:
        raise errors[0]
    raise ExceptionGroup("holder", errors)


def verify_presentation(
    loaded: LoadedInput,
    options: VerifyOptions,
    *,
    resolver: VerificationMethodResolver,
    verify_embedded: Callable[[Any], VerificationReport],
) -> VerificationReport:
    """Verify a presentation (VC DM 2.0 section 4.13) and each credential it holds.

    The holder's proof must be an ``authentication`` proof carrying the verifier's challenge
    and domain (Data Integrity 1.0 section 4.5: a wrong one is ``INVALID_CHALLENGE_ERROR`` /
    ``INVALID_DOMAIN_ERROR``, so a captured presentation cannot be replayed), made by the
    ``holder`` (``ISSUER_BINDING_ERROR``; further proofs by other keys are allowed). A
    credential about another subject than the holder is accepted (VC DM 2.0 allows
    holder != subject) unless ``options.require_holder_binding`` (then ``HOLDER_MISMATCH``,
    see :func:`check_holder_binding`). Without a proof: ``PRESENTATION_NOT_SIGNED``, unless
    ``options.allow_unsigned_presentation`` (then a warning). Each credential is verified by
    ``verify_embedded``; the presentation's checks summarise theirs.
    """
    if loaded.document is None:
        raise UnsupportedInputError("a presentation must be a JSON object")
    document = loaded.document
    collector = CheckCollector()
    presentation = parse_presentation(document)
    found: dict[str, Any] = {}

    def proof() -> Outcome:
        if not presentation.has_proof:
            if options.allow_unsigned_presentation:
                warning = PresentationNotSignedError(
                    "The presentation is not signed; accepted because your policy allows "
                    "unsigned presentations."
                )
                return Outcome(warning.detail, state="warning", warnings=(warning,))
            raise PresentationNotSignedError(
                "The presentation is not signed by its holder, so it could be a copy made "
                "by anyone."
            )
        results = verify_proofs(
            document,
            resolver,
            expected_purpose="authentication",
            challenge=options.challenge,
            domain=options.domain,
            issuer_binding=False,
            at=options.at,
        )
        found["proofs"] = results
        return Outcome("The holder's signature on the presentation is valid.")

    proof_ok = collector.run("proof", proof)
    parts = tuple(verify_embedded(raw) for raw in presentation.credentials)

    def binding() -> Outcome:
        results: list[ProofResult] = found.get("proofs", [])
        if results:
            require_bound_proof(document, results)
        if options.require_holder_binding:
            check_holder_binding(presentation.holder, parts)
        if not results:
            return Outcome("Not checked: the presentation is not signed.", state="skipped")
        return Outcome(f"The presentation was signed by its holder, {presentation.holder}.")

    if proof_ok:
        collector.run("issuer_binding", binding)
    else:
        collector.skip(
            "issuer_binding", "Not checked, because the presentation's signature failed."
        )
    holder_ok = proof_ok and collector.checks["issuer_binding"].status != "failed"
    for name in CHECK_NAMES[:2]:
        # The holder's signature says nothing about the credentials' own signatures.
        inner = aggregate_check(name, parts)
        outer = collector.checks[name]
        if inner.status == "failed" and outer.status != "failed":
            collector.checks[name] = CheckResult(
                "failed", inner.message, tuple(dict.fromkeys(outer.codes + inner.codes))
            )
    for name in CHECK_NAMES[2:]:
        collector.checks[name] = aggregate_check(name, parts)
    for part in parts:
        collector.errors.extend(part.errors)
        collector.warnings.extend(part.warnings)

    checks = collector.ordered()
    if checks["proof"].status == "failed" or checks["issuer_binding"].status == "failed":
        verdict: Verdict = "invalid"
    elif checks["proof"].status == "unknown":
        # The holder's key could not be fetched: that says nothing about forgery.
        verdict = "could_not_check"
    elif parts:
        verdict = min((p.verdict for p in parts), key=VERDICT_ORDER.index)
    else:
        verdict = "valid"
    return VerificationReport(
        verified=is_verified(checks) and all(p.verified for p in parts),
        verdict=verdict,
        checks=checks,
        errors=tuple(collector.errors),
        warnings=tuple(collector.warnings),
        kind="presentation",
        presentation_accepted=holder_ok,
        format=loaded.format,
        document=document,
        holder=presentation.holder,
        parts=parts,
        proofs=tuple(r.to_dict() for r in found.get("proofs", [])),
        checked_at=format_date(options.at),
    )
