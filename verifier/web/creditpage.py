"""The receiving university's credit-transfer page, ``/credit-transfer``.

* ``GET /credit-transfer`` - pick one of the published policies
  (:mod:`verifier.transferpolicies`) and upload a learner's credentials (JSON, baked PNG/SVG
  badges, certificate PDFs; several files) or one presentation.
* ``POST /credit-transfer`` - verify each file, evaluate the policy
  (:func:`verifier.transfer.evaluate_transfer`) and show each decision with the learner, grade,
  credits and reason, and the total. Credentials of two learners are refused as a whole
  (``LEARNER_MISMATCH``), shown as a plain message.
* ``POST /credit-transfer`` with ``format=json`` or ``format=pdf`` - the same evaluation
  answered as a JSON document or a text PDF (:mod:`verifier.textpdf`) to file.

Downloads are the form's "Download JSON" / "Download PDF" buttons: they run the same
evaluation on the uploaded files and answer the file, so it always says what this verifier
decided, never a copy a browser could have edited. Nothing is stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Response, render_template, request
from werkzeug.datastructures import FileStorage

from contexts.errors import ParsingError
from verifier.awardtypes import award_title
from verifier.textpdf import text_pdf
from verifier.transferpolicies import PublishedPolicy, pick_policy
from webplatform.jsonbody import RequestTooLargeError

from .pages import pages, read_credential_bytes
from .services import services
from .wording import credits_words, malaysia_time

__all__ = ["credit_transfer", "decision_lines", "evaluate_uploads"]

_FORM_OVERHEAD = 64 * 1024
_MAX_FILES = 12


def _is_presentation(item: object) -> bool:
    if not isinstance(item, Mapping):
        return False
    types = item.get("type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    return "VerifiablePresentation" in names


def _read_files(files: Sequence[FileStorage]) -> list[Mapping[str, Any] | str | bytes]:
    chosen = [f for f in files if f.filename]
    if not chosen:
        raise ParsingError("choose at least one credential file", pointer="/files")
    if len(chosen) > _MAX_FILES:
        raise RequestTooLargeError(f"upload at most {_MAX_FILES} files at a time")
    cap = services().settings.max_input_bytes
    out: list[Mapping[str, Any] | str | bytes] = []
    for upload in chosen:
        head = upload.stream.read(cap + 1)
        if len(head) > cap:
            raise RequestTooLargeError(f"{upload.filename} is larger than {cap} bytes")
        out.append(read_credential_bytes(head, max_bytes=cap))
    return out


def evaluate_uploads(
    published: PublishedPolicy,
    files: Sequence[FileStorage],
    *,
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """Verify the uploaded files and evaluate ``published`` on them (``to_dict()`` form, with
    ``policy`` (key and name) and ``evaluated_at`` added).

    One presentation alone is evaluated as a presentation: its holder must have signed it for
    ``challenge`` and ``domain`` (the values the university gave the learner when it asked for
    the presentation) and be the learner. Otherwise every file is a credential. Raises the
    page's input errors."""
    items = _read_files(files)
    presentations = [i for i in items if isinstance(i, Mapping) and _is_presentation(i)]
    if presentations and len(items) > 1:
        raise ParsingError("upload one presentation alone, or credentials without one")
    at = datetime.now(UTC)
    if presentations:
        result = services().evaluate_transfer(
            published.policy,
            credentials=None,
            presentation=presentations[0],
            at=at,
            challenge=challenge,
            domain=domain,
        )
    else:
        result = services().evaluate_transfer(
            published.policy, credentials=items, presentation=None, at=at
        )
    result["policy"] = {"key": published.key, "name": published.name}
    result["evaluated_at"] = at.isoformat().replace("+00:00", "Z")
    return result


def decision_lines(result: Mapping[str, Any]) -> list[str]:
    """The decision as lines of text (the PDF's content)."""
    policy = result.get("policy") or {}
    learner = result.get("learner") or {}
    evaluated = malaysia_time(datetime.fromisoformat(str(result["evaluated_at"])))
    lines = [
        "Credit transfer decision / Keputusan pemindahan kredit",
        f"Policy / Polisi: {policy.get('name', '')}",
        f"Evaluated / Dinilai: {evaluated}",
        f"Verifier / Pengesah: {services().settings.operator or 'sijil'}",
        "",
    ]
    if result.get("refused"):
        lines.append("Refused / Ditolak: the credentials are about more than one learner.")
        return lines
    lines.append(f"Learner / Pelajar: {learner.get('name') or learner.get('id') or '-'}")
    en, ms = credits_words(result.get("transferred"))
    lines.append(f"Total transferred / Jumlah dipindahkan: {en} / {ms} (cap {result.get('cap')})")
    lines.append("")
    for decision in result.get("decisions") or []:
        word = "ACCEPTED / DITERIMA" if decision.get("decision") == "accepted" else "REJECTED"
        award = award_title(str(decision.get("award_type") or ""))
        lines.append(f"{word}: {decision.get('achievement_name') or '-'} ({award})")
        if decision.get("course"):
            c_en, _ = credits_words(decision.get("credits"))
            lines.append(f"    course {decision['course']}, {c_en}")
        if decision.get("grade"):
            lines.append(f"    grade / gred: {decision['grade']}")
        lines.append(f"    {decision.get('reason', '')} [{decision.get('code', '')}]")
    return lines


def _policies() -> list[PublishedPolicy]:
    return list(services().policies.values())


def _evaluate_request() -> dict[str, Any]:
    request.max_content_length = _MAX_FILES * services().settings.max_input_bytes + _FORM_OVERHEAD
    published = pick_policy(services().policies, request.form.get("policy", ""))
    return evaluate_uploads(
        published,
        request.files.getlist("files"),
        challenge=request.form.get("challenge", "").strip() or None,
        domain=request.form.get("domain", "").strip() or None,
    )


@pages.get("/credit-transfer")
def credit_transfer() -> str:
    return render_template("transfer.html", policies=_policies(), result=None)


@pages.post("/credit-transfer")
def credit_transfer_post() -> str | Response:
    result = _evaluate_request()
    fmt = request.form.get("format", "page")
    if fmt == "json":
        return Response(
            json.dumps(result, ensure_ascii=False, indent=2),
            mimetype="application/json",
            headers={"Content-Disposition": 'attachment; filename="credit-transfer.json"'},
        )
    if fmt == "pdf":
        return Response(
            text_pdf(decision_lines(result), title="Credit transfer decision"),
            mimetype="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="credit-transfer.pdf"'},
        )
    chosen = str((result.get("policy") or {}).get("key", ""))
    return render_template(
        "transfer.html",
        policies=_policies(),
        result=result,
        chosen=chosen,
        evaluated=malaysia_time(datetime.fromisoformat(str(result["evaluated_at"]))),
    )
