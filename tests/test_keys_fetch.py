"""The SSRF-guarded fetcher against real local HTTP(S) servers."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _https import LocalServer, Route, TLSFiles, make_tls

from keys.fetch import (
    Fetcher,
    FetchError,
    FetchTimeoutError,
    ForbiddenAddressError,
    ResponseTooLargeError,
    SafeFetcher,
    UnexpectedContentTypeError,
    is_forbidden_address,
)

DOC = {"id": "did:web:localhost", "hello": "wörld"}


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def server(tls: TLSFiles) -> Iterator[LocalServer]:
    with LocalServer(tls, {"/doc.json": Route.json(DOC)}) as srv:
        yield srv


def _local(tls: TLSFiles, **kwargs: float | int) -> SafeFetcher:
    return SafeFetcher(allow_local=True, cafile=tls.cafile, **kwargs)  # type: ignore[arg-type]


def _resolver(mapping: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        return mapping[host]

    return resolve


# -- happy paths ----------------------------------------------------------------------


def test_safe_fetcher_is_a_fetcher() -> None:
    assert isinstance(SafeFetcher(), Fetcher)


def test_fetch_json_over_real_tls(tls: TLSFiles, server: LocalServer) -> None:
    assert _local(tls).get_json(server.url("/doc.json")) == DOC
    assert server.requests == ["/doc.json"]


def test_allow_local_logs_a_warning(tls: TLSFiles, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="keys.fetch"):
        _local(tls)
    assert any("allow_local=True" in r.getMessage() for r in caplog.records)


def test_follows_redirect_within_policy(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/old"] = Route.redirect("/doc.json", status=301)
    response = _local(tls).get_bytes(server.url("/old"))
    assert response.status == 200
    assert response.url == server.url("/doc.json")
    assert server.requests == ["/old", "/doc.json"]


def test_did_json_media_type_accepted(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/did.json"] = Route.json(DOC, media_type="application/did+json")
    assert _local(tls).get_json(server.url("/did.json")) == DOC


def test_plain_http_to_loopback_allowed_only_with_allow_local() -> None:
    with LocalServer(None, {"/doc.json": Route.json(DOC)}) as srv:
        assert SafeFetcher(allow_local=True).get_json(srv.url("/doc.json")) == DOC
        with pytest.raises(ForbiddenAddressError):
            SafeFetcher().get_json(srv.url("/doc.json"))
        assert srv.requests == ["/doc.json"]


# -- forbidden targets (refused before any connection) --------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://127.1.2.3/x",
        "https://10.0.0.1/x",
        "https://172.16.5.4/x",
        "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
        "https://224.0.0.1/x",
        "https://255.255.255.255/x",
        "https://[::1]/x",
        "https://[::]/x",
        "https://[fe80::1]/x",
        "https://[fd00:ec2::254]/x",
        "https://[fc00::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://[2002:7f00:1::]/x",  # 6to4 wrapping 127.0.0.1
    ],
)
def test_forbidden_address_refused(url: str) -> None:
    with pytest.raises(ForbiddenAddressError) as err:
        SafeFetcher().get_bytes(url)
    assert err.value.code == "FETCH_FORBIDDEN_ADDRESS"


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/x",
        "https://192.168.1.1/x",
    ],
)
def test_allow_local_still_refuses_private_and_metadata(url: str, tls: TLSFiles) -> None:
    with pytest.raises(ForbiddenAddressError):
        _local(tls).get_bytes(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/did.json",
        "ftp://example.com/did.json",
        "file:///etc/passwd",
        "https://user:pw@example.com/did.json",
        "https:///nohost",
        "https://example.com:99999/",
    ],
)
def test_non_https_or_odd_urls_refused(url: str) -> None:
    with pytest.raises(ForbiddenAddressError):
        SafeFetcher(resolve=_resolver({"example.com": ["93.184.216.34"]})).get_bytes(url)


def test_public_looking_name_resolving_to_private_address_refused() -> None:
    fetcher = SafeFetcher(resolve=_resolver({"issuer.example": ["10.20.30.40"]}))
    with pytest.raises(ForbiddenAddressError) as err:
        fetcher.get_json("https://issuer.example/.well-known/did.json")
    assert err.value.extra["address"] == "10.20.30.40"


def test_name_with_one_private_address_among_public_ones_refused() -> None:
    fetcher = SafeFetcher(resolve=_resolver({"issuer.example": ["93.184.216.34", "127.0.0.1"]}))
    with pytest.raises(ForbiddenAddressError):
        fetcher.get_json("https://issuer.example/.well-known/did.json")


def test_localhost_name_refused_without_allow_local(server: LocalServer) -> None:
    with pytest.raises(ForbiddenAddressError):
        SafeFetcher().get_json(server.url("/doc.json"))
    assert server.requests == []


def test_pinned_address_is_the_checked_one(tls: TLSFiles, server: LocalServer) -> None:
    # A name the system resolver does not know reaches the server only through the
    # injected (checked) answer, and TLS still verifies the certificate for "localhost".
    fetcher = SafeFetcher(
        allow_local=True, cafile=tls.cafile, resolve=_resolver({"localhost": ["127.0.0.1"]})
    )
    assert fetcher.get_json(server.url("/doc.json")) == DOC


def test_certificate_for_another_name_rejected(tls: TLSFiles, server: LocalServer) -> None:
    fetcher = SafeFetcher(
        allow_local=True, cafile=tls.cafile, resolve=_resolver({"other.test": ["127.0.0.1"]})
    )
    with pytest.raises(FetchError) as err:
        fetcher.get_json(server.url("/doc.json", host="other.test"))
    assert err.value.code == "FETCH_ERROR"
    assert server.requests == []


def test_untrusted_certificate_rejected(server: LocalServer) -> None:
    with pytest.raises(FetchError):
        SafeFetcher(allow_local=True).get_json(server.url("/doc.json"))
    assert server.requests == []


# -- redirects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/internal",
        "https://metadata.internal/computeMetadata/v1/",
        "ftp://example.com/x",
    ],
)
def test_redirect_to_forbidden_target_refused(
    target: str, tls: TLSFiles, server: LocalServer
) -> None:
    server.routes["/hop"] = Route.redirect(target)
    fetcher = SafeFetcher(
        allow_local=True,
        cafile=tls.cafile,
        resolve=_resolver({"localhost": ["127.0.0.1"], "metadata.internal": ["169.254.169.254"]}),
    )
    with pytest.raises(ForbiddenAddressError):
        fetcher.get_bytes(server.url("/hop"))
    assert server.requests == ["/hop"]


def test_redirect_from_https_to_http_refused(tls: TLSFiles, server: LocalServer) -> None:
    with LocalServer(None, {"/doc.json": Route.json(DOC)}) as plain:
        server.routes["/hop"] = Route.redirect(plain.url("/doc.json").replace("127.0.0.1", "h"))
        fetcher = SafeFetcher(
            allow_local=True,
            cafile=tls.cafile,
            resolve=_resolver({"localhost": ["127.0.0.1"], "h": ["93.184.216.34"]}),
        )
        with pytest.raises(ForbiddenAddressError):
            fetcher.get_bytes(server.url("/hop"))
        assert plain.requests == []


def test_too_many_redirects(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/loop"] = Route.redirect("/loop")
    with pytest.raises(FetchError) as err:
        _local(tls, max_redirects=2).get_bytes(server.url("/loop"))
    assert err.value.code == "FETCH_ERROR"
    assert server.requests == ["/loop"] * 3


def test_redirect_without_location_is_error(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/bad"] = Route(status=302)
    with pytest.raises(FetchError):
        _local(tls).get_bytes(server.url("/bad"))


# -- responses ------------------------------------------------------------------------


def test_http_error_status(tls: TLSFiles, server: LocalServer) -> None:
    with pytest.raises(FetchError) as err:
        _local(tls).get_bytes(server.url("/missing"))
    assert err.value.extra["status"] == 404
    assert type(err.value) is FetchError


def test_oversize_body_with_length_refused(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/big"] = Route(body=b"x" * 5000)
    with pytest.raises(ResponseTooLargeError) as err:
        _local(tls, max_bytes=4096).get_bytes(server.url("/big"))
    assert err.value.code == "FETCH_TOO_LARGE"


def test_oversize_body_without_length_refused_while_streaming(
    tls: TLSFiles, server: LocalServer
) -> None:
    server.routes["/big"] = Route(body=b"x" * 300_000, send_length=False)
    with pytest.raises(ResponseTooLargeError):
        _local(tls, max_bytes=100_000).get_bytes(server.url("/big"))


def test_body_at_the_cap_accepted(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/exact"] = Route(body=b"y" * 4096, send_length=False)
    assert _local(tls, max_bytes=4096).get_bytes(server.url("/exact")).body == b"y" * 4096


def test_slow_server_times_out(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/slow"] = Route.json(DOC)
    server.routes["/slow"].delay = 5.0
    with pytest.raises(FetchTimeoutError) as err:
        _local(tls, timeout=0.3).get_json(server.url("/slow"))
    assert err.value.code == "FETCH_TIMEOUT"


def test_dripping_server_hits_the_overall_deadline(tls: TLSFiles, server: LocalServer) -> None:
    # Every byte arrives within the per-operation timeout; only the overall deadline stops it.
    server.routes["/drip"] = Route(body=b"x" * 200, drip=0.05)
    with pytest.raises(FetchTimeoutError):
        SafeFetcher(allow_local=True, cafile=tls.cafile, timeout=0.5, total_timeout=0.6).get_bytes(
            server.url("/drip")
        )


def test_html_for_json_refused(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/page"] = Route(body=b"<html></html>", headers={"Content-Type": "text/html"})
    with pytest.raises(UnexpectedContentTypeError):
        _local(tls).get_json(server.url("/page"))


def test_invalid_json_body_is_fetch_error(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/bad"] = Route(body=b"{nope", headers={"Content-Type": "application/json"})
    with pytest.raises(FetchError):
        _local(tls).get_json(server.url("/bad"))


def test_deeply_nested_json_is_fetch_error(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/deep"] = Route(
        body=b"[" * 100_000 + b"]" * 100_000, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(FetchError):
        _local(tls, max_bytes=300_000).get_json(server.url("/deep"))


def test_compressed_body_refused(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/gz"] = Route(
        body=b"\x1f\x8b", headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError):
        _local(tls).get_json(server.url("/gz"))


def test_connection_refused_is_fetch_error(tls: TLSFiles) -> None:
    with LocalServer(tls) as srv:
        url = srv.url("/x")
    with pytest.raises(FetchError):
        _local(tls, timeout=1.0).get_bytes(url)


# -- the address policy itself --------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("8.8.8.8", False),
        ("127.0.0.1", True),
        ("10.1.1.1", True),
        ("169.254.169.254", True),
        ("fd00:ec2::254", True),
        ("ff02::1", True),
        ("ff0e::1", True),
        ("::ffff:169.254.169.254", True),
        ("2001::1", True),  # Teredo
        ("192.0.2.1", True),  # TEST-NET
    ],
)
def test_is_forbidden_address(address: str, forbidden: bool) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is forbidden


def test_allow_loopback_allows_only_loopback() -> None:
    assert not is_forbidden_address(ipaddress.ip_address("127.0.0.1"), allow_loopback=True)
    assert not is_forbidden_address(ipaddress.ip_address("::1"), allow_loopback=True)
    assert is_forbidden_address(ipaddress.ip_address("10.0.0.1"), allow_loopback=True)


# -- form POST (the staff sign-in provider's token endpoint) ----------------------------


def test_post_form_sends_the_form_over_the_checked_connection(
    tls: TLSFiles, server: LocalServer
) -> None:
    server.routes["/token"] = Route.json({"id_token": "t"})
    response = _local(tls).post_form(
        server.url("/token"), {"code": "a b&c", "name": "é"}, headers={"Authorization": "Basic x"}
    )
    assert (response.status, response.body) == (200, b'{"id_token": "t"}')
    [(path, body, headers)] = server.posted
    assert (path, body) == ("/token", b"code=a+b%26c&name=%C3%A9")
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["authorization"] == "Basic x"
    assert headers["accept"] == "application/json"


def test_post_form_does_not_follow_redirects(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/token"] = Route.redirect("/elsewhere", status=307)
    response = _local(tls).post_form(server.url("/token"), {"code": "c"})
    assert response.status == 307
    assert server.requests == ["/token"]


def test_post_form_refuses_a_private_address() -> None:
    fetcher = SafeFetcher(resolve=_resolver({"idp.example": ["10.0.0.7"]}))
    with pytest.raises(ForbiddenAddressError):
        fetcher.post_form("https://idp.example/token", {"code": "c"})


def test_post_form_caps_the_answer(tls: TLSFiles, server: LocalServer) -> None:
    server.routes["/token"] = Route(body=b"x" * 5000)
    with pytest.raises(ResponseTooLargeError):
        _local(tls, max_bytes=1000).post_form(server.url("/token"), {"code": "c"})
