"""Development server: the whole demo on one machine with one command (``python3 dev.py run``).

``python -m issuer.devserver [--host 127.0.0.1] [--port 5000] [--verifier-port 5001] [--no-tls]``

0. Checks that both ports are free before touching anything (``PORT_IN_USE``, naming the
   option to change).
1. Sets development defaults (only where the variable is unset, and says so): instance folder
   ``./instance``, ``SIJIL_ALLOW_LOCAL_FETCH=1`` so the verifier may fetch from this machine,
   ``SIJIL_BASE_URL=https://localhost:<port>``.
2. did:web resolves over **HTTPS** only, so the issuer is served over TLS with a development CA
   made on first run in ``<instance>/dev-tls/`` (``ca.pem``; never use it anywhere else). The
   verifier started here trusts it through ``SSL_CERT_FILE`` pointing at a bundle of that CA
   plus the system roots; the printed ``sijil-verify`` commands do the same. ``--no-tls`` serves
   plain HTTP (credentials then verify only with a resolver that maps loopback did:web to http).
3. Migrates the database, remembers the base URL in the instance (a later run on another port
   or scheme with the same instance is refused with ``BASE_URL_MISMATCH`` and what to do),
   creates the default issuer and seeds the demo through the core
   services (idempotent: a second run issues nothing new), creates an admin API token, and
   mails the learners of newly issued awards their claim link into ``<instance>/outbox/`` as
   ``.eml`` files (always the outbox, never SMTP: the demo addresses are made up;
   ``SIJIL_NOTIFY_LEARNERS=0``: no mail).
4. Serves the issuer API and, when importable, the verifier web app on two ports (Werkzeug
   threaded servers in background threads) and prints the URLs to open. Ctrl-C (SIGINT) or
   SIGTERM stops both: the handlers are installed explicitly, so the server stops even when it
   was started with SIGINT ignored (as a background job of a non-interactive shell is).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from werkzeug.serving import BaseWSGIServer, make_server

from contexts.errors import SijilError
from issuer.console.staff import add_staff, issue_sign_in_link, sign_in_url
from issuer.delivery.mail import OutboxMailer
from issuer.delivery.notify import deliver_learner_mail, mail_worker
from issuer.delivery.service import claim_link
from issuer.devtls import DevTLS, ensure_dev_tls
from issuer.services.awards import AwardView
from issuer.services.bootstrap import open_runtime
from issuer.services.demo import DemoSummary, seed_demo
from issuer.services.instance import remember_base_url
from issuer.services.issuers import IssuerView
from issuer.services.runtime import Runtime
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app

__all__ = [
    "DEMO_LEARNER",
    "PortInUseError",
    "ServerThread",
    "check_ports_free",
    "credential_urls",
    "dev_environment",
    "main",
    "prepare",
    "write_dev_trust_file",
]

log = logging.getLogger("issuer.devserver")

#: The demo learner whose COC, COA and MMS the printed links point at.
DEMO_LEARNER: Final = "S1001"
#: The demo staff member the dev server prints a console sign-in link for.
DEMO_STAFF: Final = "registrar@example.edu.my"
_ACTOR: Final = "devserver"


class PortInUseError(SijilError):
    """A port the dev server needs is taken by another program."""

    code = "PORT_IN_USE"
    title = "Port in use"
    http_status = 500


def check_ports_free(host: str, ports: Mapping[str, int]) -> None:
    """Bind each ``{option: port}`` on ``host`` once (as the servers will) and release it.

    Raises ``PORT_IN_USE`` naming the option to change. Port 0 (any free port) is skipped.
    """
    for option, port in ports.items():
        if port == 0:
            continue
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
                raise PortInUseError(
                    f"port {port} on {host} is in use (or not allowed): stop what uses it, or "
                    f"choose another with {option} N"
                ) from None


def write_dev_trust_file(instance_dir: Path, issuer: IssuerView) -> Path:
    """``<instance>/dev-trust.json``: a trust list naming the demo issuer, so the verifier run
    here recognises it (and only it) as an issuer."""
    path = instance_dir / "dev-trust.json"
    entry = {"id": issuer.did, "name": issuer.name, "url": issuer.url}
    path.write_text(json.dumps({"issuers": [entry]}, indent=2) + "\n", encoding="utf-8")
    return path


def dev_environment(
    environ: Mapping[str, str], *, port: int, tls: bool
) -> tuple[dict[str, str], list[str]]:
    """``environ`` with development defaults filled in, and the names that were filled."""
    scheme = "https" if tls else "http"
    defaults = {
        "SIJIL_INSTANCE_DIR": str(Path("instance").resolve()),
        "SIJIL_ALLOW_LOCAL_FETCH": "1",
        "SIJIL_BASE_URL": f"{scheme}://localhost:{port}",
        "SIJIL_ENV": "development",
    }
    out = dict(environ)
    filled = [name for name in defaults if not out.get(name)]
    for name in filled:
        out[name] = defaults[name]
    return out, filled


class ServerThread:
    """A Werkzeug threaded server in a daemon thread; :meth:`stop` shuts it down cleanly."""

    def __init__(
        self, app: Any, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, ssl_context=ssl_context
        )
        self.port = self.server.server_port
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> ServerThread:
        """Begin serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, finish, close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def credential_urls(awards: Sequence[AwardView], learner: str) -> dict[str, str]:
    """``{"COC DAF101": url, ...}`` of one learner's awards, COC/COA first then MMS."""
    order = {"COC": 0, "COA": 1, "MMS": 2}
    mine = sorted(
        (a for a in awards if a.learner == learner),
        key=lambda a: (order.get(a.award_type, 9), a.achievement_code),
    )
    return {f"{a.award_type} {a.achievement_code}": a.credential_id for a in mine}


def _verifier_app() -> Any | None:
    """The verifier's Flask app when the verifier web package is importable and builds."""
    try:
        from verifier.web import create_app as create_verifier_app
    except ImportError as exc:
        log.warning("verifier web app not available (%s); serving the issuer only", exc)
        return None
    return create_verifier_app()


def _print_banner(
    *,
    settings: Settings,
    summary: DemoSummary,
    token: str,
    verifier_base: str | None,
    tls: DevTLS | None,
) -> None:
    base = settings.base_url
    urls = credential_urls(summary.awards, DEMO_LEARNER)
    lines = [
        "",
        "sijil development server (dev defaults: never use this setup in production)",
        f"  issuer API        {base}/   (OpenAPI: {base}/openapi.json)",
        f"  issuer DID        {summary.issuer.did}",
        f"  DID document      {base}/.well-known/did.json",
        f"  admin API token   {token}",
        f"                    (scope admin; e.g. curl -H 'Authorization: Bearer {token}' "
        f"{base}/awards)",
        "",
        f"Demo learner {DEMO_LEARNER}'s credentials:",
    ]
    for label, url in urls.items():
        lines.append(f"  {label:<12} {url}")
        if verifier_base is not None:
            lines.append(f"  {'':<12} verify: {verifier_base}/verify?url={quote(url, safe='')}")
    if verifier_base is not None:
        lines += ["", f"Verifier page: {verifier_base}/"]
    env_prefix = "SIJIL_ALLOW_LOCAL_FETCH=1"
    curl_ca = ""
    if tls is not None:
        env_prefix = f"SSL_CERT_FILE={tls.bundle} {env_prefix}"
        curl_ca = f" --cacert {tls.cafile}"
        lines += [
            "",
            f"TLS: the issuer uses a development CA ({tls.cafile}); the verifier here trusts "
            "it. A browser warns about it, and clicking through the warning silently cancels "
            "downloads: trust the CA in the browser instead (development only), e.g.",
            f"  Chromium/Chrome (Linux): certutil -d sql:$HOME/.pki/nssdb -A -t C,, "
            f"-n sijil-dev-ca -i {tls.cafile}",
            f"  Firefox: Settings > Privacy & Security > Certificates > View Certificates > "
            f"Authorities > Import {tls.cafile}",
            f"  macOS: security add-trusted-cert -r trustRoot -k "
            f"~/Library/Keychains/login.keychain-db {tls.cafile}",
            "  or serve plain HTTP with --no-tls (did:web credentials then do not verify).",
        ]
    trust = settings.instance_dir / "dev-trust.json"
    lines += ["", f"Check downloaded files with sijil-verify (trusting the demo issuer, {trust}):"]
    venv_bin = Path(sys.executable).parent
    for label, url in urls.items():
        name = label.lower().replace(" ", "-") + ".json"
        lines.append(f"  curl -s{curl_ca} -o {name} {url}")
        lines.append(f"  {env_prefix} {venv_bin / 'sijil-verify'} --trust {trust} {name}")
    lines += ["", "Ctrl-C stops both servers.", ""]
    print("\n".join(lines), flush=True)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m issuer.devserver", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5000, help="issuer port (default 5000)")
    parser.add_argument(
        "--verifier-port", type=int, default=5001, help="verifier port (default 5001)"
    )
    parser.add_argument(
        "--no-tls", action="store_true", help="serve the issuer over plain HTTP (see above)"
    )
    return parser.parse_args(argv)


def prepare(
    environ: Mapping[str, str], *, port: int, tls: bool
) -> tuple[Settings, Runtime, DemoSummary, str, DevTLS | None]:
    """Settings, runtime, seeded demo, an admin token and the TLS files (no servers yet).

    Mutates ``os.environ`` with the development defaults (the verifier reads it).
    """
    env, filled = dev_environment(environ, port=port, tls=tls)
    if filled:
        log.warning("development defaults: %s", ", ".join(f"{n}={env[n]}" for n in filled))
    scheme = "https://" if tls else "http://"
    if not env["SIJIL_BASE_URL"].startswith(scheme):
        log.warning(
            "SIJIL_BASE_URL=%s but the issuer is served over %s: credential and DID URLs will "
            "not resolve to this server",
            env["SIJIL_BASE_URL"],
            scheme.rstrip(":/"),
        )
    instance = Path(env["SIJIL_INSTANCE_DIR"])
    dev_tls = ensure_dev_tls(instance / "dev-tls") if tls else None
    if dev_tls is not None:
        env["SSL_CERT_FILE"] = str(dev_tls.bundle)
    os.environ.update(env)
    settings = Settings.from_env(env, port=port)
    rt = open_runtime(settings, status_lists=True)
    try:
        remember_base_url(rt)
        settings = rt.settings
        summary = seed_demo(rt, actor=_ACTOR)
        trust = write_dev_trust_file(settings.instance_dir, summary.issuer)
        if not os.environ.get("SIJIL_TRUST_FILE"):
            # The verifier started here trusts this demo issuer, and nobody else.
            log.warning("development defaults: SIJIL_TRUST_FILE=%s", trust)
            os.environ["SIJIL_TRUST_FILE"] = str(trust)
        if settings.notify_learners:
            outbox = settings.instance_dir / "outbox"
            deliver_learner_mail(rt, mailer=lambda: OutboxMailer(outbox))
        _view, token = create_token(rt, ["admin"], label="devserver", actor=_ACTOR)
    except BaseException:
        rt.close()
        raise
    return settings, rt, summary, token, dev_tls


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM; returns the exit status (1 with ``CODE: detail`` when the
    ports are taken or the instance belongs to another base URL)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parse_args(argv)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
    try:
        check_ports_free(args.host, {"--port": args.port, "--verifier-port": args.verifier_port})
        # QR codes on certificates and the learner page's share links open this verifier.
        os.environ.setdefault("SIJIL_VERIFIER_URL", f"http://{shown}:{args.verifier_port}")
        settings, rt, summary, token, dev_tls = prepare(
            os.environ, port=args.port, tls=not args.no_tls
        )
    except SijilError as exc:
        print(f"{exc.code}: {exc.detail}", file=sys.stderr, flush=True)
        return 1
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    # Explicit handlers: a process started with SIGINT ignored would otherwise never stop on it.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    servers: list[ServerThread] = []
    outbox = settings.instance_dir / "outbox"
    # Learner mail (claim requests, new awards) is delivered by the outbox worker, into
    # <instance>/outbox/ as .eml files unless SIJIL_SMTP_HOST names a server.
    worker = mail_worker(
        rt, mailer=None if settings.smtp_host else (lambda: OutboxMailer(outbox))
    ).start()
    try:
        ssl_context: ssl.SSLContext | None = None
        if dev_tls is not None:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(dev_tls.certfile, dev_tls.keyfile)
        servers.append(
            ServerThread(create_app(runtime=rt), args.host, args.port, ssl_context=ssl_context)
        )
        verifier_base: str | None = None
        verifier_app = _verifier_app()
        if verifier_app is not None:
            servers.append(ServerThread(verifier_app, args.host, args.verifier_port))
            verifier_base = f"http://{shown}:{servers[-1].port}"
        for server in servers:
            server.start()
        _print_banner(
            settings=settings,
            summary=summary,
            token=token,
            verifier_base=verifier_base,
            tls=dev_tls,
        )
        print(
            f"Demo learner {DEMO_LEARNER}'s page (claim link: downloads JSON, PNG, SVG, PDF):\n"
            f"  {claim_link(rt, DEMO_LEARNER)}\n"
            f"Claim-link mails to the demo learners (written when their awards were first "
            f"issued):\n  {settings.instance_dir / 'outbox'}/*.eml\n",
            flush=True,
        )
        add_staff(rt, DEMO_STAFF, "admin", actor=_ACTOR)
        console_link = sign_in_url(
            settings.base_url, issue_sign_in_link(rt, DEMO_STAFF, actor=_ACTOR)
        )
        print(
            f"Staff console ({DEMO_STAFF}, admin; one-time link, 15 minutes; a new one: "
            f"sijil-issuer staff link {DEMO_STAFF} --print-link):\n  {console_link}\n",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
        print("\nstopping...", flush=True)
    finally:
        worker.stop()
        for server in servers:
            server.stop()
        rt.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
