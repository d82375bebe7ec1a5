"""The one outbound HTTP client: an SSRF-guarded fetcher for DID documents and status lists
(and the staff sign-in provider: its metadata by GET, its token endpoint by a form POST).

Verifying a credential makes sijil fetch URLs an untrusted document names (did:web
documents, controller documents, status lists). :class:`SafeFetcher` is the only code
that opens those connections, and it refuses to be pointed at the machine or network
it runs on:

* ``https`` only (plain ``http`` only to loopback, and only with ``allow_local``);
  no user-info in URLs; no proxies from the environment (stdlib ``http.client``).
* The host name is resolved here, **every** resolved address is checked, and the
  connection goes to the checked address (no second lookup, so DNS rebinding cannot
  swap the address between check and connect). TLS still sends SNI for, and verifies
  the certificate against, the host name.
* Refused: private, loopback, link-local (including the cloud metadata address
  ``169.254.169.254``), multicast, reserved, unspecified, shared (CGNAT) and every
  other non-global range, IPv4-mapped IPv6 forms of those, and ``fd00:ec2::254``.
  ``allow_local=True`` (development and tests only; logged as a WARNING) lets
  loopback through, nothing else.
* Redirects are followed by hand (at most ``max_redirects``) and every hop is checked
  again from the start.
* Per-operation socket ``timeout`` plus an overall deadline per fetch (``total_timeout``,
  default 3 x ``timeout``); every socket operation waits at most until that deadline
  (DNS lookups use the system resolver's own timeout); a body cap (``max_bytes``)
  enforced from ``Content-Length`` and while streaming; compressed bodies are not
  accepted (``Accept-Encoding: identity``).
* :meth:`SafeFetcher.scoped` gives a view with a smaller body cap (controller documents)
  and/or an absolute deadline shared by several fetches (one verification's deadline);
  :class:`ScopedFetcher` is that ability as a protocol, for wrappers that forward it.

Errors (all :class:`FetchError`, code ``FETCH_ERROR`` unless noted):
``FETCH_FORBIDDEN_ADDRESS``, ``FETCH_TOO_LARGE``, ``FETCH_TIMEOUT``,
``FETCH_UNEXPECTED_CONTENT_TYPE``; a non-2xx answer is ``FETCH_ERROR`` with ``status``.
"""

from __future__ import annotations

import copy
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode, urljoin, urlsplit

from contexts.errors import SijilError

__all__ = [
    "DEFAULT_JSON_ACCEPT",
    "FetchError",
    "FetchResponse",
    "FetchTimeoutError",
    "Fetcher",
    "ForbiddenAddressError",
    "ResponseTooLargeError",
    "SafeFetcher",
    "ScopedFetcher",
    "UnexpectedContentTypeError",
    "is_forbidden_address",
    "system_resolve",
]

log = logging.getLogger(__name__)

DEFAULT_JSON_ACCEPT = "application/did+json, application/ld+json, application/json;q=0.9"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_EXTRA_FORBIDDEN = (
    ipaddress.ip_network("169.254.169.254/32"),  # cloud metadata (also link-local)
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS IPv6 metadata (also ULA)
    ipaddress.ip_network("100.64.0.0/10"),  # shared address space (CGNAT)
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)


class FetchError(SijilError):
    """A URL could not be fetched (network, TLS, HTTP status, redirects, body)."""

    code = "FETCH_ERROR"
    title = "Fetch failed"
    http_status = 502


class ForbiddenAddressError(FetchError):
    """The URL's scheme or host (after DNS, on any hop) is not allowed (SSRF guard)."""

    code = "FETCH_FORBIDDEN_ADDRESS"
    title = "Fetch refused: forbidden address"
    http_status = 400


class ResponseTooLargeError(FetchError):
    """The response body is larger than the fetcher's ``max_bytes``."""

    code = "FETCH_TOO_LARGE"
    title = "Fetched response too large"


class FetchTimeoutError(FetchError):
    """The server did not answer within the fetcher's timeouts."""

    code = "FETCH_TIMEOUT"
    title = "Fetch timed out"
    http_status = 504


class UnexpectedContentTypeError(FetchError):
    """The response's media type is not what the caller asked for (e.g. HTML for JSON)."""

    code = "FETCH_UNEXPECTED_CONTENT_TYPE"
    title = "Fetched response has an unexpected media type"


@dataclass(frozen=True)
class FetchResponse:
    """A complete response. ``headers`` keys are lower-case; ``url`` is the final URL."""

    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def media_type(self) -> str:
        """The ``Content-Type`` without parameters, lower-case ('' when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@runtime_checkable
class Fetcher(Protocol):
    """What the core needs from the network. Tests and the issuer may pass their own."""

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """The parsed JSON document at ``url``. Raises ``FetchError`` subclasses."""
        ...

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """The response at ``url`` (2xx only). Raises ``FetchError`` subclasses."""
        ...


@runtime_checkable
class ScopedFetcher(Fetcher, Protocol):
    """A :class:`Fetcher` that can give a narrower view of itself.

    ``scoped(deadline=..., max_bytes=...)`` returns a fetcher whose fetches end by
    ``deadline`` (a :func:`time.monotonic` value) and refuse bodies over ``max_bytes``;
    ``None`` keeps the current value, and a view never widens its parent's limits.
    """

    def scoped(self, *, deadline: float | None = None, max_bytes: int | None = None) -> Fetcher:
        """A view of this fetcher with the tighter of its own and the given limits."""
        ...


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_forbidden_address(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """True when ``address`` is not a public unicast address (see module docstring)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_forbidden_address(mapped, allow_loopback=allow_loopback)
        if address.teredo is not None:
            return True
    if allow_loopback and address.is_loopback:
        return False
    if any(address in net for net in _EXTRA_FORBIDDEN):
        return True
    return not address.is_global or address.is_multicast


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for ``host`` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    out: list[str] = []
    for *_, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in out:
            out.append(addr)
    return out


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a pre-checked address; the ``Host`` header keeps the URL's host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a pre-checked address; SNI and certificate checks use the host name."""

    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except OSError:
            sock.close()
            raise


class SafeFetcher:
    """The SSRF-guarded :class:`Fetcher` (see the module docstring for the policy).

    ``resolve`` replaces the system resolver (``(host, port) -> [address, ...]``), for
    tests that point a public-looking name at a private address. ``cafile`` adds a CA
    bundle to trust (tests' self-signed servers); the system roots are used otherwise.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        max_bytes: int = 1_000_000,
        allow_local: bool = False,
        max_redirects: int = 3,
        total_timeout: float | None = None,
        cafile: str | None = None,
        resolve: Callable[[str, int], list[str]] | None = None,
        user_agent: str = "sijil/0.1 (+https://w3id.org/sijil)",
    ) -> None:
        self.timeout = timeout
        self.total_timeout = total_timeout if total_timeout is not None else 3 * timeout
        self.max_bytes = max_bytes
        self.allow_local = allow_local
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self._resolve = resolve or system_resolve
        self._deadline: float | None = None
        self._tls = ssl.create_default_context(cafile=cafile)
        self._tls.minimum_version = ssl.TLSVersion.TLSv1_2
        if allow_local:
            log.warning(
                "SafeFetcher(allow_local=True): loopback addresses and plain http to "
                "loopback are ALLOWED. Never use this in production."
            )

    # -- public ------------------------------------------------------------------------

    def scoped(self, *, deadline: float | None = None, max_bytes: int | None = None) -> SafeFetcher:
        """A view sharing this fetcher's policy and TLS context, with the tighter deadline
        (``time.monotonic()`` value) and body cap. See :class:`ScopedFetcher`."""
        view = copy.copy(self)
        if deadline is not None:
            view._deadline = deadline if self._deadline is None else min(self._deadline, deadline)
        if max_bytes is not None:
            view.max_bytes = min(self.max_bytes, max_bytes)
        return view

    def get_json(self, url: str, *, accept: str = DEFAULT_JSON_ACCEPT) -> Any:
        """GET ``url`` and parse JSON; the media type must be JSON (``*/json``, ``*+json``).

        Raises the ``FetchError`` family; a body that is not JSON is ``FETCH_ERROR``.
        """
        response = self.get_bytes(url, accept=accept)
        media = response.media_type
        if not (media == "application/json" or media.endswith("+json")):
            raise UnexpectedContentTypeError(
                f"{response.url} answered {media or 'no media type'!r}, expected JSON",
                url=response.url,
            )
        try:
            return json.loads(response.body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise FetchError(f"{response.url} did not answer usable JSON: {exc}") from exc

    def get_bytes(self, url: str, *, accept: str = "*/*") -> FetchResponse:
        """GET ``url``, following checked redirects; 2xx responses only."""
        deadline = self._operation_deadline()
        current = url
        for _hop in range(self.max_redirects + 1):
            response = self._get_once(current, accept=accept, deadline=deadline)
            if response.status in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(f"{current} redirected without a Location", url=current)
                current = urljoin(current, location)
                continue
            if not 200 <= response.status < 300:
                raise FetchError(
                    f"{current} answered HTTP {response.status}",
                    url=current,
                    status=response.status,
                )
            return response
        raise FetchError(f"{url}: more than {self.max_redirects} redirects", url=url)

    def post_form(
        self,
        url: str,
        fields: Mapping[str, str],
        *,
        headers: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> FetchResponse:
        """POST ``fields`` as ``application/x-www-form-urlencoded`` to ``url`` (an OAuth token
        endpoint): the same address policy, pinned connection, deadline and body cap as a GET.
        Redirects are not followed (a 3xx is returned like any other answer); the caller
        judges the status, so it can report a provider's error body. ``FetchError`` family.
        """
        deadline = self._operation_deadline()
        body = urlencode(fields).encode("ascii")
        extra = {
            **(headers or {}),
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body)),
        }
        return self._get_once(
            url, accept=accept, deadline=deadline, method="POST", body=body, headers=extra
        )

    # -- one hop -----------------------------------------------------------------------

    def _operation_deadline(self) -> float:
        """When one fetch or post must be done: ``total_timeout`` from now, or the scoped
        view's shared deadline if that comes first."""
        deadline = time.monotonic() + self.total_timeout
        return deadline if self._deadline is None else min(deadline, self._deadline)

    def _check_url(self, url: str) -> tuple[str, str, int, str, list[str]]:
        """(scheme, host, port, request target, checked addresses) or FETCH_FORBIDDEN_ADDRESS."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ForbiddenAddressError(f"invalid URL {url!r}: {exc}", url=url) from exc
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in ("https", "http"):
            raise ForbiddenAddressError(f"only https URLs may be fetched, not {url!r}", url=url)
        if not host:
            raise ForbiddenAddressError(f"URL has no host: {url!r}", url=url)
        if parts.username is not None or parts.password is not None:
            raise ForbiddenAddressError("URLs with user information are refused", url=url)
        port = port or (443 if scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self._resolve(host, port)
            except (OSError, UnicodeError) as exc:
                raise FetchError(f"cannot resolve {host!r}: {exc}", url=url) from exc
            if not addresses:
                raise FetchError(f"{host!r} has no addresses", url=url)
        checked: list[IPAddress] = []
        for addr in addresses:
            try:
                ip = ipaddress.ip_address(addr.split("%", 1)[0])
            except ValueError as exc:
                raise FetchError(f"resolver returned a non-address {addr!r}", url=url) from exc
            if is_forbidden_address(ip, allow_loopback=self.allow_local):
                raise ForbiddenAddressError(
                    f"{host!r} resolves to the forbidden address {ip}", url=url, address=str(ip)
                )
            checked.append(ip)
        if scheme == "http" and not (self.allow_local and all(ip.is_loopback for ip in checked)):
            raise ForbiddenAddressError(f"only https URLs may be fetched, not {url!r}", url=url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return scheme, host, port, target, [str(ip) for ip in checked]

    def _get_once(
        self,
        url: str,
        *,
        accept: str,
        deadline: float,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResponse:
        scheme, host, port, target, addresses = self._check_url(url)
        last_error: OSError | None = None
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchTimeoutError(f"{url}: timed out", url=url)
            conn: http.client.HTTPConnection
            if scheme == "https":
                conn = _PinnedHTTPSConnection(
                    host,
                    port,
                    address=address,
                    timeout=min(self.timeout, remaining),
                    context=self._tls,
                )
            else:
                conn = _PinnedHTTPConnection(
                    host, port, address=address, timeout=min(self.timeout, remaining)
                )
            try:
                return self._exchange(conn, url, target, accept, deadline, method, body, headers)
            except TimeoutError as exc:
                raise FetchTimeoutError(f"{url}: timed out", url=url) from exc
            except ssl.SSLError as exc:
                raise FetchError(f"{url}: TLS failed: {exc}", url=url) from exc
            except ConnectionRefusedError as exc:
                last_error = exc
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}", url=url) from exc
            finally:
                conn.close()
        raise FetchError(f"{url}: cannot connect: {last_error}", url=url)

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        url: str,
        target: str,
        accept: str,
        deadline: float,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResponse:
        conn.request(
            method,
            target,
            body=body,
            headers={
                **(headers or {}),
                "Accept": accept,
                "Accept-Encoding": "identity",
                "User-Agent": self.user_agent,
                "Connection": "close",
            },
        )
        sock = conn.sock
        self._wait_at_most(sock, url, deadline)
        resp = conn.getresponse()
        try:
            return self._read(resp, url, deadline, sock)
        finally:
            # With "Connection: close" the response owns the socket; close it here.
            resp.close()

    def _wait_at_most(self, sock: socket.socket | None, url: str, deadline: float) -> None:
        """Let the next socket operation wait no longer than ``timeout`` or the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeoutError(f"{url}: timed out", url=url)
        if sock is not None:
            sock.settimeout(min(self.timeout, remaining))

    def _read(
        self,
        resp: http.client.HTTPResponse,
        url: str,
        deadline: float,
        sock: socket.socket | None = None,
    ) -> FetchResponse:
        headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.status in _REDIRECTS:
            return FetchResponse(url=url, status=resp.status, headers=headers)
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise FetchError(f"{url}: compressed response ({encoding}) refused", url=url)
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
            raise ResponseTooLargeError(
                f"{url}: Content-Length {int(length)} exceeds {self.max_bytes} bytes", url=url
            )
        chunks: list[bytes] = []
        total = 0
        while True:
            if time.monotonic() > deadline:
                raise FetchTimeoutError(f"{url}: timed out reading the body", url=url)
            self._wait_at_most(sock, url, deadline)
            chunk = resp.read1(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > self.max_bytes:
                raise ResponseTooLargeError(f"{url}: body exceeds {self.max_bytes} bytes", url=url)
            chunks.append(chunk)
        return FetchResponse(url=url, status=resp.status, headers=headers, body=b"".join(chunks))
