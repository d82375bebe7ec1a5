"""``sijil-verify``: check a credential, a presentation or a baked badge from the shell.

::

    sijil-verify [--json] [--now ISO8601] [--no-issuer-binding] [--trust FILE] [--policy FILE]
                 [--challenge C --domain D] [--controller-document F]... [--status-list F]... FILE
    sijil-verify serve --host H --port P [--certfile CERT.pem --keyfile KEY.pem]
    sijil-verify credit-transfer --policy P.json [--json] [--now ISO8601] FILES...
    sijil-verify formats [--json]

``FILE`` (``-`` for stdin) may be a JSON-LD credential or presentation, a VC-JWT or an OB 3.0
baked PNG/SVG. Exit status: 0 verified, 1 not verified, 2 input unreadable or unparseable.
Without ``--json`` the verdict, one line per check and ``CODE: detail`` per error are printed.
Contexts never come from the network (only pinned ones); keys and status lists come through
the SSRF-guarded fetcher (``SIJIL_ALLOW_LOCAL_FETCH=1`` allows loopback, for development).

A thin shell: it parses arguments, calls :func:`verifier.report.Verifier.verify` or
:func:`verifier.transfer.evaluate_transfer` and renders the result.
"""

from __future__ import annotations

import json
import ssl
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click

from contexts.errors import ParsingError, SijilError
from keys.formats import FORMATS

from .fetchers import MappingFetcher
from .models import parse_datetime
from .report import VerificationReport, Verifier
from .settings import VerifierSettings
from .transfer import TransferPolicy, TransferResult, evaluate_transfer, load_policy
from .trust import TrustList, load_trust_list

__all__ = ["cli", "main"]

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_UNREADABLE = 2


class _DefaultGroup(click.Group):
    """A group whose first argument falls back to ``verify`` when it is not a subcommand."""

    default_command = "verify"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def _fail(code: str, detail: str) -> NoReturn:
    click.echo(f"{code}: {detail}", err=True)
    sys.exit(EXIT_UNREADABLE)


def _read(path: str, max_bytes: int) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with Path(path).open("rb") as handle:
                data = handle.read(max_bytes + 1)
    except OSError as exc:
        _fail("PARSING_ERROR", f"cannot read {path}: {exc.strerror}")
    if len(data) > max_bytes:
        _fail("PARSING_ERROR", f"{path} is larger than {max_bytes} bytes")
    return data


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_datetime(value, "--now")
    except SijilError as exc:
        _fail(exc.code, exc.detail)


def _load_json_file(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _fail("PARSING_ERROR", f"cannot read JSON from {path}: {exc}")


def _build_verifier(
    settings: VerifierSettings,
    trust_file: str | None,
    controller_documents: Sequence[str],
    status_lists: Sequence[str],
) -> Verifier:
    trust: TrustList | None = None
    try:
        if trust_file is not None:
            trust = load_trust_list(trust_file)
        fetcher = settings.build_fetcher()
        pinned: dict[str, Any] = {}
        for path in status_lists:
            document = _load_json_file(path)
            if not isinstance(document, dict) or not isinstance(document.get("id"), str):
                _fail("PARSING_ERROR", f"{path} is not a status list credential with an id")
            pinned[document["id"]] = document
        verifier = settings.build_verifier(
            trust=trust, fetcher=MappingFetcher(pinned, fallback=fetcher) if pinned else fetcher
        )
        for path in controller_documents:
            verifier.resolver.add_document(_load_json_file(path))
    except SijilError as exc:
        _fail(exc.code, exc.detail)
    return verifier


def _print_report(report: VerificationReport, indent: str = "") -> None:
    click.echo(f"{indent}{report.verdict.upper()}: {report.headline}")
    if report.credential is not None:
        summary = report.credential
        facts = [
            f"issuer {summary.issuer_label}",
            f"learner {summary.learner_name}" if summary.learner_name else "",
            f"achievement {summary.achievement_name}" if summary.achievement_name else "",
            f"{summary.credits} credits" if summary.credits is not None else "",
        ]
        click.echo(f"{indent}  {summary.award_type}: " + "; ".join(f for f in facts if f))
    for name, check in report.checks.items():
        click.echo(f"{indent}  {name}: {check.status} - {check.message}")
    for error in report.errors:
        click.echo(f"{indent}{error['code']}: {error['detail']}")
    for warning in report.warnings:
        click.echo(f"{indent}warning {warning['code']}: {warning['detail']}")


def _fmt(value: Decimal | None) -> str:
    return "0" if value is None else format(value.normalize(), "f")


def _print_transfer(result: TransferResult) -> None:
    for learner in result.learners or ((result.learner,) if result.learner else ()):
        click.echo(f"LEARNER: {learner.label}" + (f" ({learner.id})" if learner.id else ""))
    for decision in result.decisions:
        label = decision.achievement_name or decision.credential_id or "credential"
        if decision.accepted:
            click.echo(f"ACCEPTED {decision.course} {_fmt(decision.credits)} credits: {label}")
        else:
            click.echo(f"{decision.code}: {decision.reason}")
    for course in result.courses:
        click.echo(f"  {course.course}: {_fmt(course.credits)} credits")
    click.echo(f"TOTAL: {_fmt(result.transferred)} of at most {_fmt(result.cap)} credits")


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sijil")
def cli() -> None:
    """Verify credentials, presentations and baked badges (default command: verify)."""


_PIN_OPTIONS = [
    click.option(
        "--controller-document",
        "controller_documents",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Pin a DID / controller document (JSON) instead of fetching it.",
    ),
    click.option(
        "--status-list",
        "status_lists",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Pin a status list credential (JSON) instead of fetching it.",
    ),
]


@cli.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--now", metavar="ISO8601", help="Verify as of this time (default: now).")
@click.option("--no-issuer-binding", is_flag=True, help="Do not require signer == issuer.")
@click.option("--trust", "trust_file", type=click.Path(dir_okay=False), help="Trust list JSON.")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False), help="Transfer policy.")
@click.option("--challenge", help="The challenge a presentation must carry.")
@click.option("--domain", help="The domain a presentation must carry.")
@click.option("--no-status", is_flag=True, help="Do not check revocation/suspension.")
@_PIN_OPTIONS[0]
@_PIN_OPTIONS[1]
@click.argument("file")
def verify_command(
    as_json: bool,
    now: str | None,
    no_issuer_binding: bool,
    trust_file: str | None,
    policy_file: str | None,
    challenge: str | None,
    domain: str | None,
    no_status: bool,
    controller_documents: tuple[str, ...],
    status_lists: tuple[str, ...],
    file: str,
) -> None:
    """Verify FILE: a credential, presentation, VC-JWT or baked PNG/SVG badge."""
    try:
        settings = VerifierSettings.from_env()
        policy: TransferPolicy | None = load_policy(policy_file) if policy_file else None
    except SijilError as exc:
        _fail(exc.code, exc.detail)
    at = _parse_now(now)
    data = _read(file, settings.max_input_bytes)
    verifier = _build_verifier(settings, trust_file, controller_documents, status_lists)
    try:
        report = verifier.verify(
            data,
            at=at,
            issuer_binding=not no_issuer_binding,
            challenge=challenge,
            domain=domain,
            check_status=not no_status,
            allow_unsigned_presentation=bool(policy and policy.allow_unsigned_presentations),
            require_holder_binding=policy is not None,
        )
    except ParsingError as exc:
        _fail(exc.code, exc.detail)
    transfer = evaluate_transfer([report], policy, at=at) if policy is not None else None
    if as_json:
        out = report.to_dict()
        if transfer is not None:
            out["transfer"] = transfer.to_dict()
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        _print_report(report)
        for part in report.parts:
            _print_report(part, indent="    ")
        if transfer is not None:
            _print_transfer(transfer)
    sys.exit(EXIT_VERIFIED if report.verified else EXIT_NOT_VERIFIED)


@cli.command("credit-transfer")
@click.option("--policy", "policy_file", required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
@click.option("--now", metavar="ISO8601", help="Evaluate as of this time (default: now).")
@click.option("--trust", "trust_file", type=click.Path(dir_okay=False), help="Trust list JSON.")
@click.option("--challenge", help="The challenge a presentation must carry.")
@click.option("--domain", help="The domain a presentation must carry.")
@_PIN_OPTIONS[0]
@_PIN_OPTIONS[1]
@click.argument("files", nargs=-1, required=True)
def credit_transfer_command(
    policy_file: str,
    as_json: bool,
    now: str | None,
    trust_file: str | None,
    challenge: str | None,
    domain: str | None,
    controller_documents: tuple[str, ...],
    status_lists: tuple[str, ...],
    files: tuple[str, ...],
) -> None:
    """Evaluate FILES (MMS, COAs, presentations) for credit transfer under a policy."""
    try:
        settings = VerifierSettings.from_env()
        policy = load_policy(policy_file)
    except SijilError as exc:
        _fail(exc.code, exc.detail)
    at = _parse_now(now)
    verifier = _build_verifier(settings, trust_file, controller_documents, status_lists)
    reports: list[VerificationReport] = []
    for path in files:
        try:
            reports.append(
                verifier.verify(
                    _read(path, settings.max_input_bytes),
                    at=at,
                    challenge=challenge,
                    domain=domain,
                    allow_unsigned_presentation=policy.allow_unsigned_presentations,
                    # Credit transfer credits the presenter: their own credentials only.
                    require_holder_binding=True,
                )
            )
        except ParsingError as exc:
            _fail(exc.code, f"{path}: {exc.detail}")
    result = evaluate_transfer(reports, policy, at=at)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_transfer(result)
    sys.exit(EXIT_VERIFIED)


@cli.command("formats")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def formats_command(as_json: bool) -> None:
    """List the credential formats this verifier checks (from the format registry)."""
    rows = [
        {
            "name": fmt.name,
            "mediaType": fmt.media_type,
            "keyTypes": list(fmt.key_types),
            "description": fmt.description,
        }
        for fmt in FORMATS.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']}: {row['mediaType']} ({', '.join(row['keyTypes'])})")


def _server_tls(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    """The server's TLS context (TLS 1.2+), or ``None`` for plain HTTP; exits 2 on bad files."""
    if certfile is None and keyfile is None:
        return None
    if certfile is None or keyfile is None:
        _fail("SETTINGS_ERROR", "give both --certfile and --keyfile to serve HTTPS")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        _fail("SETTINGS_ERROR", f"cannot load the TLS certificate and key: {exc}")
    return context


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int, help="0: any free port.")
@click.option(
    "--certfile",
    type=click.Path(dir_okay=False),
    help="PEM certificate (chain) to serve HTTPS with; needs --keyfile.",
)
@click.option("--keyfile", type=click.Path(dir_okay=False), help="PEM private key of --certfile.")
def serve_command(host: str, port: int, certfile: str | None, keyfile: str | None) -> None:
    """Run the verifier's web service (VC-API and the QR page) on its own.

    With ``--certfile``/``--keyfile`` it serves HTTPS directly (TLS 1.2 or later), with no
    proxy in front. The first line printed is the address it listens on.
    """
    from werkzeug.serving import make_server  # lazy: the verify path never needs a server

    from verifier.web import create_app  # lazy: the CLI's verify path never needs Flask views
    from webplatform.logs import configure_logging, log_format_from_env, log_level_from_env

    tls = _server_tls(certfile, keyfile)
    try:
        configure_logging(log_format_from_env(default="text"), log_level_from_env())
        app = create_app()
    except SijilError as exc:
        _fail(exc.code, exc.detail)
    try:
        server = make_server(host, port, app, threaded=True, ssl_context=tls)
    except OSError as exc:
        _fail("SETTINGS_ERROR", f"cannot listen on {host}:{port}: {exc.strerror}")
    scheme = "https" if tls is not None else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"sijil-verify serving on {scheme}://{shown}:{server.server_port}/", err=False)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``sijil-verify``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="sijil-verify")
