"""Real local HTTP(S) servers for tests (reusable by every test module).

``make_tls(tmp_path)`` writes a throw-away CA and a server certificate for
``localhost`` / ``127.0.0.1`` / ``::1`` (plus any extra names); ``LocalServer`` serves
a mutable route table on a free port in a background thread::

    tls = make_tls(tmp_path)
    with LocalServer(tls, {"/.well-known/did.json": Route.json(doc)}) as server:
        fetcher = SafeFetcher(allow_local=True, cafile=tls.cafile)
        fetcher.get_json(server.url("/.well-known/did.json"))

``server.url(path)`` uses the host name ``localhost`` for HTTPS (so certificate checks
run for real) and ``127.0.0.1`` for plain HTTP. Routes may be changed while the server
runs (e.g. to point a redirect at the server's own port). Nothing here is mocked: the
fetcher opens real sockets and performs a real TLS handshake.
"""

from __future__ import annotations

import datetime
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from issuer.devtls import make_certificates

__all__ = ["LocalServer", "Route", "TLSFiles", "make_tls"]


@dataclass(frozen=True)
class TLSFiles:
    """PEM files: ``cafile`` to trust, ``certfile``/``keyfile`` for the server."""

    cafile: str
    certfile: str
    keyfile: str


def make_tls(
    directory: Path,
    *,
    names: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1", "::1"),
) -> TLSFiles:
    """Write a test CA and a server certificate for ``names`` and ``ips`` into ``directory``."""
    made = make_certificates(
        ca_common_name="sijil test CA",
        names=names,
        ips=ips,
        now=datetime.datetime.now(datetime.UTC),
        ca_lifetime=datetime.timedelta(days=1),
        cert_lifetime=datetime.timedelta(days=1),
    )
    directory.mkdir(parents=True, exist_ok=True)
    cafile = directory / "test-ca.pem"
    certfile = directory / "server-cert.pem"
    keyfile = directory / "server-key.pem"
    cafile.write_bytes(made.ca_pem)
    certfile.write_bytes(made.cert_pem)
    keyfile.write_bytes(made.key_pem)
    return TLSFiles(cafile=str(cafile), certfile=str(certfile), keyfile=str(keyfile))


@dataclass
class Route:
    """One canned answer. ``delay`` seconds pass before the answer; ``drip`` slows the body
    (both end early when the server stops)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True
    #: when set, the body is sent one byte at a time with this pause between bytes.
    drip: float = 0.0

    @classmethod
    def json(cls, doc: Any, *, media_type: str = "application/json", status: int = 200) -> Route:
        return cls(
            status=status, body=json.dumps(doc).encode(), headers={"Content-Type": media_type}
        )

    @classmethod
    def redirect(cls, location: str, *, status: int = 302) -> Route:
        return cls(status=status, headers={"Location": location})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    requests: list[str]
    posted: list[tuple[str, bytes, dict[str, str]]]
    stop: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (timeouts, size caps) are expected here."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path, Route(status=404, body=b"not found"))
        if route.delay and self.server.stop.wait(route.delay):
            return
        try:
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.send_length:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if not route.drip:
                self.wfile.write(route.body)
                return
            for i in range(len(route.body)):
                self.wfile.write(route.body[i : i + 1])
                self.wfile.flush()
                if self.server.stop.wait(route.drip):
                    return
        except OSError:
            return

    def do_POST(self) -> None:
        """Record the path, body and headers, then answer as for a GET."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.posted.append(
            (self.path, body, {k.lower(): v for k, v in self.headers.items()})
        )
        self.do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest output stays readable."""


class LocalServer:
    """A threaded HTTP(S) server on ``127.0.0.1`` and a free port, as a context manager."""

    def __init__(self, tls: TLSFiles | None, routes: dict[str, Route] | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = dict(routes or {})
        self._server.requests = []
        self._server.posted = []
        self._server.stop = threading.Event()
        self.tls = tls
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.certfile, tls.keyfile)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def routes(self) -> dict[str, Route]:
        return self._server.routes

    @property
    def requests(self) -> list[str]:
        """Request paths received so far (in order)."""
        return self._server.requests

    @property
    def posted(self) -> list[tuple[str, bytes, dict[str, str]]]:
        """POSTs received so far: (path, body, lower-cased headers)."""
        return self._server.posted

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        scheme = "https" if self.tls is not None else "http"
        name = host or ("localhost" if self.tls is not None else "127.0.0.1")
        return f"{scheme}://{name}:{self.port}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
