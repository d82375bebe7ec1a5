"""The staff console at ``/console/``: server-rendered pages over the services the API uses.

Every page works without JavaScript. Who may see or do what is declared once per view with
:func:`requires` (a :data:`~issuer.console.roles.Permission`, ``SIGNED_IN`` or ``PUBLIC``) and
recorded on the view, so the test suite walks every console route as every role. The session
lives in Flask's signed session cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the
issuer's base URL is https, path ``/console``) and ends after the idle timeout or the absolute
lifetime (:mod:`issuer.console.sessions`). Every POST carries the session's CSRF token (checked
before the view runs: ``CSRF_TOKEN_INVALID``, 400). Changes go through the same services as the
API, audited as ``staff:<email>``.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import wraps
from importlib.resources import files
from typing import Any, Final, TypeVar, cast
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_template,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from contexts.errors import MalformedValueError, ParsingError, SijilError
from issuer.console.i18n import LANGUAGES, translate
from issuer.console.oidc import (
    OIDC_EXTENSION,
    OidcNotConfiguredError,
    OidcProviderError,
    OidcSettings,
    OidcUserNotMappedError,
    begin,
    check_state,
    discover,
    exchange_code,
    map_role,
    validate_id_token,
)
from issuer.console.progressview import preview_rows
from issuer.console.queries import (
    AuditFilter,
    AwardFilter,
    audit_page,
    award_history,
    award_page,
    dashboard,
    learner_detail,
    learner_ids,
    search_learners,
    stacked_in,
)
from issuer.console.roles import ROLES, ConsoleForbiddenError, Permission, is_allowed
from issuer.console.sessions import SessionState, check_csrf, new_csrf_token
from issuer.console.staff import (
    StaffView,
    add_staff,
    get_staff,
    issue_sign_in_link,
    list_staff,
    record_sign_out,
    redeem_sign_in_link,
    set_locale,
    sign_in_staff,
    sign_in_url,
)
from issuer.delivery.notify import queue_resend
from issuer.domain.jsonforms import (
    micro_credential_from_json,
    micro_credential_to_json,
    programme_from_json,
    programme_to_json,
)
from issuer.domain.progress import parse_progress_csv
from issuer.exports.formats import EXPORT_FORMATS, render_award
from issuer.services.audit import AuditView
from issuer.services.awards import get_award
from issuer.services.branding import issuer_brand
from issuer.services.catalogue import (
    get_learner,
    get_micro_credential,
    get_programme,
    list_micro_credentials,
    list_programmes,
    upsert_micro_credential,
    upsert_programme,
)
from issuer.services.csvimport import ImportSummary, import_progress
from issuer.services.errors import NotFoundError
from issuer.services.issuers import did_document, list_issuers, rotate_key
from issuer.services.keylifecycle import activate_key, list_keys, retire_key
from issuer.services.reissue import reissue, reissue_candidates
from issuer.services.runtime import Runtime, as_utc
from issuer.services.status import change_status, set_suspension_enabled, suspension_switches
from issuer.services.tokens import SCOPES, create_token, list_tokens, revoke_token
from issuer.web.admin import MICRO_CREDENTIAL, PROGRAMME
from issuer.web.endpoint import RUNTIME_EXTENSION
from issuer.web.requestbody import validate
from keys.fetch import FetchError, SafeFetcher

__all__ = [
    "PERMISSION_ATTRIBUTE",
    "PUBLIC",
    "SIGNED_IN",
    "console",
    "oidc_settings",
    "requires",
]

PUBLIC: Final = "public"
SIGNED_IN: Final = "signed-in"
PERMISSION_ATTRIBUTE: Final = "__console_permission__"
#: Who creates or updates a staff account from an OpenID Connect sign-in, in the audit log.
OIDC_ACTOR: Final = "oidc"
STATUS_ACTIONS: Final = ("revoke", "suspend", "unsuspend", "reissue")
#: Largest CSV the console reads (the app caps whole requests at 16 MiB).
MAX_CSV_BYTES: Final = 8 * 1024 * 1024
#: Imports with more rows than this answer a streamed page with a progress bar.
STREAM_ROWS: Final = 2000
#: The dashboard flags an active signing key older than this for rotation.
KEY_ROTATION_DAYS: Final = 365

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

console = Blueprint("console", __name__, url_prefix="/console")


@console.record_once
def _configure(state: BlueprintSetupState) -> None:
    """Session cookie rules for the console (no other part of the issuer uses the session)."""
    runtime = cast(Runtime, state.app.extensions[RUNTIME_EXTENSION])
    state.app.config.update(
        SESSION_COOKIE_NAME="sijil_console",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=runtime.settings.base_url.startswith("https://"),
    )
    state.app.extensions.setdefault(OIDC_EXTENSION, OidcSettings.from_env(os.environ))


def _rt() -> Runtime:
    return cast(Runtime, current_app.extensions[RUNTIME_EXTENSION])


def _staff() -> StaffView | None:
    return cast(StaffView | None, g.get("console_staff"))


def _me() -> StaffView:
    staff = _staff()
    if staff is None:  # pragma: no cover - requires() runs first
        raise ConsoleForbiddenError("sign in first")
    return staff


def requires(permission: Permission | str) -> Callable[[F], F]:
    """Declare what a view needs: a :data:`Permission`, :data:`SIGNED_IN` or :data:`PUBLIC`.

    A signed-out visitor is sent to the sign-in page (GET) or refused (401); a role without the
    permission gets ``FORBIDDEN`` (403)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if permission != PUBLIC:
                staff = _staff()
                if staff is None:
                    if request.method == "GET":
                        after = request.full_path.rstrip("?")
                        if g.get("session_expired"):
                            return redirect(url_for("console.sign_in", next=after, expired=1))
                        return redirect(url_for("console.sign_in", next=after))
                    return _page("console/problem.html", 401, title="Sign in", code="UNAUTHORIZED")
                if permission != SIGNED_IN and not is_allowed(
                    staff.role, cast(Permission, permission)
                ):
                    raise ConsoleForbiddenError(
                        f"the {staff.role} role may not use {request.method} {request.path}"
                    )
            return view(*args, **kwargs)

        setattr(wrapper, PERMISSION_ATTRIBUTE, permission)
        return cast(F, wrapper)

    return decorate


def _page(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(template, **context), status


@console.before_request
def _load_session() -> ResponseReturnValue | None:
    """Read the session (expired: dropped), make a CSRF token, check it on every POST."""
    rt = _rt()
    g.console_staff = None
    g.session_expired = False
    state = SessionState.from_cookie(session)
    if state is not None:
        at = rt.now()
        staff: StaffView | None = None
        if not state.is_expired(at):
            try:
                staff = get_staff(rt, state.staff_id)
            except NotFoundError:
                staff = None
        else:
            g.session_expired = True
        if staff is None or staff.disabled:
            for key in ("staff", "started", "seen"):
                session.pop(key, None)
        else:
            g.console_staff = staff
            session.update(state.touched(at).to_cookie())
    if "csrf" not in session:
        session["csrf"] = new_csrf_token()
    staff_now = _staff()
    g.console_locale = staff_now.locale if staff_now else session.get("lang", "en")
    if request.method == "POST":
        check_csrf(session.get("csrf"), request.form.get("csrf"))
    return None


@console.app_template_filter("console_dt")
def _format_datetime(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if hasattr(value, "strftime") else str(value)


@console.context_processor
def _template_context() -> dict[str, Any]:
    locale = str(g.get("console_locale", "en"))
    staff = _staff()

    def can(permission: str) -> bool:
        return staff is not None and is_allowed(staff.role, cast(Permission, permission))

    def t(text: str) -> str:
        return translate(text, locale)

    return {
        "t": t,
        "can": can,
        "staff": staff,
        "locale": locale,
        "languages": LANGUAGES,
        "csrf_token": session.get("csrf", ""),
    }


@console.errorhandler(SijilError)
def _problem(exc: SijilError) -> ResponseReturnValue:
    """Errors as a readable page with the stable code (the API answers problem+json)."""
    return _page(
        "console/problem.html",
        exc.http_status,
        title=exc.title,
        code=exc.code,
        detail=exc.detail,
        pointer=exc.pointer,
    )


def _actor() -> str:
    return _me().actor


# --- sign-in, sign-out, language ------------------------------------------------------------


@console.get("/sign-in")
@requires(PUBLIC)
def sign_in() -> ResponseReturnValue:
    """How to sign in: the OpenID Connect button when configured, else ask for a link."""
    return _page(
        "console/sign_in.html",
        expired=g.session_expired or request.args.get("expired") == "1",
        oidc=oidc_settings() is not None,
        next=_safe_next(request.args.get("next")),
    )


def _safe_next(value: str | None) -> str:
    """Only a console path is a place to go after sign-in (no open redirect)."""
    if value and value.startswith("/console/") and "//" not in value and "\\" not in value:
        return value
    return "/console/"


@console.get("/sign-in/<token>")
@requires(PUBLIC)
def sign_in_link(token: str) -> ResponseReturnValue:
    """Confirm before using the link (mail scanners that open links do not use it up)."""
    return _page("console/sign_in_link.html", token=token)


def start_session(staff: StaffView) -> None:
    """A fresh session for ``staff`` (new CSRF token: no fixation)."""
    lang = session.get("lang")
    session.clear()
    at = _rt().now()
    session.update(SessionState(staff.id, at, at).to_cookie())
    session["csrf"] = new_csrf_token()
    if lang:
        session["lang"] = lang


@console.post("/sign-in/<token>")
@requires(PUBLIC)
def sign_in_link_use(token: str) -> ResponseReturnValue:
    """Use a one-time link: sign in."""
    staff = redeem_sign_in_link(_rt(), token)
    start_session(staff)
    return redirect(url_for("console.audit_log" if staff.role == "auditor" else "console.home"))


@console.post("/sign-out")
@requires(PUBLIC)
def sign_out() -> ResponseReturnValue:
    """End the session (audited ``staff.sign_out``)."""
    staff = _staff()
    if staff is not None:
        record_sign_out(_rt(), staff)
    session.clear()
    return redirect(url_for("console.sign_in"))


@console.post("/language")
@requires(PUBLIC)
def language() -> ResponseReturnValue:
    """Switch English / Malay; remembered on the staff account (or this browser's session)."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        raise MalformedValueError("unknown language", pointer="/lang")
    staff = _staff()
    if staff is not None:
        set_locale(_rt(), staff.id, lang)
    session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


@console.get("/assets/console.css")
@requires(PUBLIC)
def stylesheet() -> Response:
    """The console's only stylesheet."""
    css = (files("issuer.web") / "static" / "console" / "console.css").read_bytes()
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- dashboard ----------------------------------------------------------------------------


@console.get("/")
@requires(SIGNED_IN)
def home() -> ResponseReturnValue:
    """Dashboard (auditors go to the audit log, the only page they may read)."""
    staff = _me()
    if not is_allowed(staff.role, "read"):
        return redirect(url_for("console.audit_log"))
    rt = _rt()
    figures = dashboard(rt)
    months = sorted({m for m, _k, _n in figures.per_month}, reverse=True)
    table = {(m, k): n for m, k, n in figures.per_month}
    now = rt.now()
    active_keys = [
        (i.slug, k, (now - as_utc(k.activated_at or k.created_at)).days)
        for i in list_issuers(rt)
        for k in list_keys(rt, i.slug)
        if k.state == "active"
    ]
    return _page(
        "console/dashboard.html",
        figures=figures,
        months=months,
        table=table,
        candidates=reissue_candidates(rt),
        active_keys=active_keys,
        rotation_days=KEY_ROTATION_DAYS,
    )


# --- awards -------------------------------------------------------------------------------


def _award_filter() -> AwardFilter:
    a = request.args
    return AwardFilter(
        award_type=a.get("type", ""),
        status=a.get("status", ""),
        issuer=a.get("issuer", ""),
        learner=a.get("learner", ""),
        achievement=a.get("achievement", ""),
        since=a.get("since", ""),
        until=a.get("until", ""),
        programme=a.get("programme", ""),
    )


@console.get("/awards")
@requires("read")
def awards() -> ResponseReturnValue:
    """Awards, newest first, filtered and keyset-paginated."""
    filters = _award_filter()
    page = award_page(_rt(), filters, cursor=request.args.get("after") or None)
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    next_url = (
        f"{url_for('console.awards')}?{urlencode({**args, 'after': page.next_cursor})}"
        if page.next_cursor
        else None
    )
    return _page(
        "console/awards.html",
        page=page,
        filters=filters,
        issuers=list_issuers(_rt()),
        programmes=list_programmes(_rt()),
        next_url=next_url,
        first_url=f"{url_for('console.awards')}?{urlencode(args)}"
        if request.args.get("after")
        else None,
    )


@console.get("/awards/<award_id>")
@requires("read")
def award(award_id: str) -> ResponseReturnValue:
    """An award: facts, signed JSON, downloads, status history, actions."""
    rt = _rt()
    view = get_award(rt, award_id)
    learner = get_learner(rt, view.learner)
    history: list[AuditView] = award_history(rt, view.id)
    pretty = json.dumps(view.credential(), indent=2, ensure_ascii=False)
    return _page(
        "console/award.html",
        award=view,
        learner=learner,
        history=history,
        credential_text=pretty,
        formats=EXPORT_FORMATS,
        stacked=stacked_in(rt, view.id),
    )


@console.get("/awards/<award_id>/download/<fmt>")
@requires("read")
def award_download(award_id: str, fmt: str) -> ResponseReturnValue:
    """The award as JSON (verbatim signed bytes), baked PNG/SVG or PDF certificate."""
    rt = _rt()
    award = get_award(rt, award_id)
    rendered = render_award(
        award, fmt, verifier_url=rt.settings.verifier_url, brand=issuer_brand(rt, award.issuer)
    )
    response = Response(rendered.data, mimetype=rendered.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    return response


def _action(action: str) -> str:
    if action not in STATUS_ACTIONS:
        raise NotFoundError(f"no award action {action!r}")
    return action


@console.get("/awards/<award_id>/<action>")
@requires("awards.write")
def award_action_confirm(award_id: str, action: str) -> ResponseReturnValue:
    """The confirmation step: what the action does and what else it affects."""
    rt = _rt()
    view = get_award(rt, award_id)
    return _page(
        "console/award_action.html",
        award=view,
        action=_action(action),
        stacked=stacked_in(rt, view.id) if action in ("revoke", "suspend") else [],
        reason=request.args.get("reason", ""),
    )


@console.post("/awards/<award_id>/<action>")
@requires("awards.write")
def award_action(award_id: str, action: str) -> ResponseReturnValue:
    """Revoke, suspend, unsuspend or re-issue with a reason (audited as the staff member)."""
    rt = _rt()
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise MalformedValueError("a reason is required", pointer="/reason")
    if _action(action) == "reissue":
        outcome = reissue(rt, award_id, reason=reason, actor=_actor())
        flash(f"re-issued as {outcome.award.id}")
        return redirect(url_for("console.award", award_id=outcome.award.id))
    changes = change_status(rt, [award_id], cast(Any, action), reason=reason, actor=_actor())
    for change in changes:
        flash(f"{change.award_id}: {change.before} → {change.after}")
        for mms in change.stacked_in:
            flash(f"affected MMS {mms}")
    return redirect(url_for("console.award", award_id=award_id))


# --- learners -----------------------------------------------------------------------------


@console.get("/learners")
@requires("read")
def learners() -> ResponseReturnValue:
    """Search learners by name, student id or e-mail."""
    q = request.args.get("q", "")
    return _page("console/learners.html", q=q, found=search_learners(_rt(), q))


@console.get("/learners/<external_id>")
@requires("read")
def learner(external_id: str) -> ResponseReturnValue:
    """A learner: progress per micro-credential (what is missing), programmes, awards."""
    return _page("console/learner.html", detail=learner_detail(_rt(), external_id))


@console.post("/learners/<external_id>/resend")
@requires("learners.write")
def learner_resend(external_id: str) -> ResponseReturnValue:
    """Queue a fresh claim-link mail for the learner."""
    queued = queue_resend(_rt(), external_id, actor=_actor())
    flash("claim link queued" if queued else "a claim link was already queued today")
    return redirect(url_for("console.learner", external_id=external_id))


# --- progress import ----------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _csv_text() -> str:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise MalformedValueError("the CSV is larger than 8 MiB", pointer="/file")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParsingError(f"the file is not UTF-8: {exc}") from exc
    return request.form.get("text", "").removeprefix("\ufeff")


@console.get("/progress")
@requires("read")
def progress() -> ResponseReturnValue:
    """Upload or paste a progress CSV."""
    return _page("console/progress.html")


def _preview(text: str, status: int = 200, **extra: Any) -> ResponseReturnValue:
    rt = _rt()
    parsed = parse_progress_csv(text.splitlines(keepends=True))
    catalogue = {m.code: m for m in list_micro_credentials(rt)}
    known = learner_ids(rt, [e.learner for _l, e in parsed.events])
    result = preview_rows(parsed, catalogue, known)
    return _page(
        "console/progress_preview.html",
        status,
        preview=result,
        text=text,
        digest=_digest(text),
        **extra,
    )


@console.post("/progress/preview")
@requires("progress.write")
def progress_preview() -> ResponseReturnValue:
    """Check every row (format and catalogue references) before anything is stored."""
    text = _csv_text()
    if not text.strip():
        raise MalformedValueError("upload a CSV file or paste its text", pointer="/text")
    return _preview(text)


@dataclass
class _Outcome:
    """What the streamed import's template reads after its progress loop."""

    summary: ImportSummary | None = None
    error: SijilError | None = None


def _import_updates(
    rt: Runtime, text: str, actor: str, chunk: int, outcome: _Outcome
) -> Iterator[int]:
    """Run the import on a worker thread; yield the rows done after each chunk."""
    updates: queue.Queue[int | None] = queue.Queue()

    def work() -> None:
        try:
            outcome.summary = import_progress(
                rt, text, actor=actor, chunk=chunk, on_progress=updates.put
            )
        except SijilError as exc:
            outcome.error = exc
        finally:
            updates.put(None)

    worker = threading.Thread(target=work, name="console-import", daemon=True)
    worker.start()
    done = 0
    while (step := updates.get()) is not None:
        done += step
        yield done
    worker.join()


@console.post("/progress/import")
@requires("progress.write")
def progress_import() -> ResponseReturnValue:
    """Import exactly the previewed text; a changed text goes back to the preview.

    A large file (more rows than ``SIJIL_CONSOLE_STREAM_ROWS``, default 2,000) answers a
    streamed page whose progress bar grows as chunks are stored, then the summary: no
    JavaScript needed."""
    text = request.form.get("text", "")
    if _digest(text) != request.form.get("digest", ""):
        return _preview(text, 409, outdated=True)
    rows = max(text.count("\n") - 1, 0)
    threshold = int(current_app.config.get("SIJIL_CONSOLE_STREAM_ROWS", STREAM_ROWS))
    if rows <= threshold:
        summary = import_progress(_rt(), text, actor=_actor())
        return _page("console/progress_done.html", summary=summary)
    outcome = _Outcome()
    chunk = max(50, rows // 40)
    updates = _import_updates(_rt(), text, _actor(), chunk, outcome)
    page = stream_template(
        "console/progress_running.html", total=rows, updates=updates, outcome=outcome
    )
    return Response(page, mimetype="text/html")


# --- catalogue ----------------------------------------------------------------------------


@console.get("/catalogue")
@requires("read")
def catalogue() -> ResponseReturnValue:
    """Micro-credentials and programmes."""
    rt = _rt()
    return _page(
        "console/catalogue.html",
        micro_credentials=list_micro_credentials(rt),
        programmes=list_programmes(rt),
    )


_MC_TEMPLATE: Final = {
    "code": "",
    "title": "",
    "description": "",
    "credits": 1,
    "sltHours": 40,
    "mqfLevel": 6,
    "deliveryMode": "online",
    "category": "stand-alone",
    "learningOutcomes": [],
    "materials": [{"code": "M1", "title": ""}],
    "assessments": [{"code": "A1", "title": "", "passMark": 50}],
}
_PROGRAMME_TEMPLATE: Final = {
    "code": "",
    "title": "",
    "description": "",
    "mqfLevel": 6,
    "components": [],
}


def _catalogue_form(kind: str, text: str, status: int = 200, **extra: Any) -> ResponseReturnValue:
    return _page("console/catalogue_form.html", status, kind=kind, text=text, **extra)


@console.get("/catalogue/micro-credentials/<code>")
@requires("read")
def micro_credential(code: str) -> ResponseReturnValue:
    """A micro-credential as the API describes it (editable by registrars and admins)."""
    spec = get_micro_credential(_rt(), code)
    text = json.dumps(micro_credential_to_json(spec), indent=2, ensure_ascii=False)
    return _catalogue_form("micro-credential", text, spec=spec)


@console.get("/catalogue/new-micro-credential")
@requires("catalogue.write")
def micro_credential_new() -> ResponseReturnValue:
    """A blank micro-credential form."""
    return _catalogue_form("micro-credential", json.dumps(_MC_TEMPLATE, indent=2))


@console.get("/catalogue/programmes/<code>")
@requires("read")
def programme(code: str) -> ResponseReturnValue:
    """A programme as the API describes it."""
    spec = get_programme(_rt(), code)
    text = json.dumps(programme_to_json(spec), indent=2, ensure_ascii=False)
    return _catalogue_form("programme", text, spec=spec)


@console.get("/catalogue/new-programme")
@requires("catalogue.write")
def programme_new() -> ResponseReturnValue:
    """A blank programme form."""
    return _catalogue_form("programme", json.dumps(_PROGRAMME_TEMPLATE, indent=2))


def _json_form(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ParsingError(f"not JSON: {exc}") from exc


@console.post("/catalogue/<kind>")
@requires("catalogue.write")
def catalogue_save(kind: str) -> ResponseReturnValue:
    """Create or update, with the API's JSON Schema and the catalogue's own validation."""
    if kind not in ("micro-credential", "programme"):
        raise NotFoundError(f"no catalogue kind {kind!r}")
    text = request.form.get("json", "")
    rt = _rt()
    try:
        data = _json_form(text)
        if kind == "micro-credential":
            validate(data, MICRO_CREDENTIAL)
            issuer = data.pop("issuer", None) if isinstance(data, dict) else None
            spec = upsert_micro_credential(
                rt, micro_credential_from_json(data), actor=_actor(), issuer=issuer
            )
            flash(f"saved {spec.code}")
            return redirect(url_for("console.micro_credential", code=spec.code))
        validate(data, PROGRAMME)
        issuer = data.pop("issuer", None) if isinstance(data, dict) else None
        prog = upsert_programme(rt, programme_from_json(data), actor=_actor(), issuer=issuer)
        flash(f"saved {prog.code}")
        return redirect(url_for("console.programme", code=prog.code))
    except SijilError as exc:
        return _catalogue_form(kind, text, 422, error=exc)


# --- issuers and keys ---------------------------------------------------------------------


@console.get("/issuers")
@requires("read")
def issuers() -> ResponseReturnValue:
    """Issuers, their DID documents and keys."""
    rt = _rt()
    views = list_issuers(rt)
    return _page(
        "console/issuers.html",
        issuers=views,
        documents={
            i.slug: json.dumps(did_document(rt, i.slug), indent=2, ensure_ascii=False)
            for i in views
        },
        keys={i.slug: list_keys(rt, i.slug) for i in views},
        suspension=suspension_switches(rt),
    )


@console.post("/issuers/<slug>/rotate")
@requires("issuers.write")
def issuer_rotate(slug: str) -> ResponseReturnValue:
    """Stage a new signing key (published at once; activate it from the CLI or API when every
    instance holds it, or here with "activate now" for a single instance)."""
    view = rotate_key(_rt(), slug, actor=_actor(), activate=request.form.get("activate") == "1")
    flash(f"{view.slug}: new key {view.verification_methods[-1]}")
    return redirect(url_for("console.issuers"))


@console.post("/issuers/<slug>/activate")
@requires("issuers.write")
def issuer_activate(slug: str) -> ResponseReturnValue:
    """Sign with the newest staged key from now on (once every instance holds it)."""
    view = activate_key(_rt(), slug, request.form.get("key") or None, actor=_actor())
    flash(f"{view.slug}: signing with {view.verification_method}")
    return redirect(url_for("console.issuers"))


@console.post("/issuers/<slug>/retire")
@requires("issuers.write")
def issuer_retire(slug: str) -> ResponseReturnValue:
    """Withdraw a key from the DID document (its proofs stop verifying)."""
    outcome = retire_key(
        _rt(),
        slug,
        request.form.get("key", ""),
        actor=_actor(),
        revoke_signed=request.form.get("revoke_signed") == "1",
        reason=request.form.get("reason") or None,
    )
    flash(f"{slug}: key retired; {len(outcome.signed)} awards were signed by it")
    return redirect(url_for("console.issuers"))


@console.post("/issuers/<slug>/suspension")
@requires("issuers.write")
def issuer_suspension(slug: str) -> ResponseReturnValue:
    """Switch suspension status entries on or off for credentials signed from now on."""
    enabled = request.form.get("enabled") == "1"
    set_suspension_enabled(_rt(), slug, enabled, actor=_actor())
    flash(f"{slug}: suspension {'on' if enabled else 'off'} for new credentials")
    return redirect(url_for("console.issuers"))


# --- API tokens ---------------------------------------------------------------------------


@console.get("/tokens")
@requires("read")
def tokens() -> ResponseReturnValue:
    """API tokens (prefixes and scopes; secrets are shown once, when created)."""
    return _page(
        "console/tokens.html", tokens=list_tokens(_rt()), scopes=SCOPES, issuers=list_issuers(_rt())
    )


@console.post("/tokens")
@requires("tokens.write")
def token_create() -> ResponseReturnValue:
    """Create a token; its secret is shown on this answer only."""
    scopes = request.form.getlist("scope")
    view, secret = create_token(
        _rt(),
        scopes,
        label=request.form.get("label", "")[:200],
        actor=_actor(),
        issuer=request.form.get("issuer") or None,
    )
    return _page(
        "console/tokens.html",
        tokens=list_tokens(_rt()),
        scopes=SCOPES,
        issuers=list_issuers(_rt()),
        created=view,
        secret=secret,
    )


@console.post("/tokens/<int(max=2147483647):token_id>/revoke")
@requires("tokens.write")
def token_revoke(token_id: int) -> ResponseReturnValue:
    """Revoke a token."""
    revoke_token(_rt(), token_id, actor=_actor())
    flash(f"token {token_id} revoked")
    return redirect(url_for("console.tokens"))


# --- staff --------------------------------------------------------------------------------


@console.get("/staff")
@requires("read")
def staff() -> ResponseReturnValue:
    """Staff members and their roles."""
    return _page("console/staff.html", members=list_staff(_rt()), roles=ROLES)


@console.post("/staff")
@requires("staff.write")
def staff_add() -> ResponseReturnValue:
    """Add a staff member (or change a role) and show a one-time sign-in link to pass on."""
    rt = _rt()
    member = add_staff(
        rt, request.form.get("email", ""), request.form.get("role", ""), actor=_actor()
    )
    link = sign_in_url(rt.settings.base_url, issue_sign_in_link(rt, member.email, actor=_actor()))
    return _page("console/staff.html", members=list_staff(rt), roles=ROLES, link=link, added=member)


# --- audit log ----------------------------------------------------------------------------


@console.get("/audit")
@requires("audit")
def audit_log() -> ResponseReturnValue:
    """The audit log, filtered by actor, action, target and date."""
    a = request.args
    filters = AuditFilter(
        actor=a.get("actor", ""),
        action=a.get("action", ""),
        target=a.get("target", ""),
        since=a.get("since", ""),
        until=a.get("until", ""),
    )
    before_text = a.get("before", "")
    if before_text and not before_text.isdigit():
        raise MalformedValueError("bad page cursor", pointer="/before")
    page = audit_page(_rt(), filters, before=int(before_text) if before_text else None)
    args = {k: v for k, v in a.items() if k != "before" and v}
    next_url = (
        f"{url_for('console.audit_log')}?{urlencode({**args, 'before': page.next_cursor})}"
        if page.next_cursor
        else None
    )
    return _page("console/audit.html", page=page, filters=filters, next_url=next_url)


# --- OpenID Connect -----------------------------------------------------------------------


def oidc_settings() -> OidcSettings | None:
    """The app's OpenID Connect settings (``None``: sign-in by one-time link only)."""
    return cast(OidcSettings | None, current_app.extensions.get(OIDC_EXTENSION))


def _oidc() -> OidcSettings:
    settings = oidc_settings()
    if settings is None:
        raise OidcNotConfiguredError("sign in with a one-time link from an administrator")
    return settings


def _redirect_uri() -> str:
    return f"{_rt().settings.base_url}/console/oidc/callback"


def _oidc_fetcher(settings: OidcSettings) -> SafeFetcher:
    return SafeFetcher(allow_local=settings.allow_local)


@console.get("/oidc/start")
@requires(PUBLIC)
def oidc_start() -> ResponseReturnValue:
    """Send the browser to the OpenID Provider (authorization code + PKCE, state, nonce)."""
    settings = _oidc()
    started = begin(settings, discover(_oidc_fetcher(settings), settings.issuer), _redirect_uri())
    session["oidc"] = {
        "state": started.state,
        "nonce": started.nonce,
        "verifier": started.verifier,
        "next": _safe_next(request.args.get("next")),
    }
    return redirect(started.url)


@console.get("/oidc/callback")
@requires(PUBLIC)
def oidc_callback() -> ResponseReturnValue:
    """The provider's answer: check state, exchange the code, validate the ID token, map the
    user to a role (creating or updating the staff account), sign in."""
    settings = _oidc()
    pending = session.pop("oidc", None)
    if not isinstance(pending, dict):
        pending = {}
    check_state(pending.get("state"), request.args.get("state"))
    if "error" in request.args:
        raise OidcProviderError(
            f"{request.args.get('error', '')[:100]}: "
            f"{request.args.get('error_description', '')[:300]}"
        )
    code = request.args.get("code", "")
    if not code:
        raise OidcProviderError("the provider answered without a code")
    fetcher = _oidc_fetcher(settings)
    discovery = discover(fetcher, settings.issuer)
    token = exchange_code(
        settings,
        discovery,
        code=code,
        verifier=str(pending.get("verifier", "")),
        redirect_uri=_redirect_uri(),
        fetcher=fetcher,
    )
    try:
        jwks = fetcher.get_json(discovery.jwks_uri)
    except FetchError as exc:
        raise OidcProviderError(f"cannot read the provider's keys: {exc.detail}") from exc
    if not isinstance(jwks, dict):
        raise OidcProviderError("the provider's JWKS is not a JSON object")
    rt = _rt()
    claims = validate_id_token(
        token,
        jwks,
        issuer=discovery.issuer,
        client_id=settings.client_id,
        nonce=str(pending.get("nonce", "")),
        at=rt.now(),
    )
    email = str(claims.get("email", "")).strip().lower()
    role = map_role(settings.roles, claims)
    known = {m.email: m for m in list_staff(rt)}.get(email)
    if role is None and (known is None or claims.get("email_verified") is False):
        raise OidcUserNotMappedError(f"{email or 'this account'} is not mapped to a console role")
    if role is not None and (known is None or known.role != role):
        add_staff(rt, email, role, actor=OIDC_ACTOR)
    staff = sign_in_staff(rt, email, method="oidc")
    start_session(staff)
    return redirect(str(pending.get("next") or url_for("console.home")))
