"""Bitstring Status List, verifier side: vectors, a real HTTP server, failures.

The generated vectors (tests/vectors/bitstring-status-list/generated) name
``https://example.com/credentials/status/3``; they are served offline by
:class:`verifier.fetchers.MappingFetcher`. One end-to-end test serves a list re-signed with the
vector's issuer key from a real local HTTP server through :class:`keys.fetch.SafeFetcher`.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from _https import LocalServer, Route
from shared_dir import VECTORS
from verifier_fixtures import (
    Learner,
    coa_for,
    key_from_seed,
    sign,
    status_entry,
    status_list,
)
from verifier_trust import trust_for

from keys.fetch import SafeFetcher
from keys.keypair import KeyPair
from keys.resolve import Resolver
from verifier.fetchers import MappingFetcher
from verifier.report import VerificationReport, verify_credential
from verifier.status import StatusListClient

GENERATED = VECTORS / "bitstring-status-list/generated"
LIST_URL = "https://example.com/credentials/status/3"
AT = datetime(2026, 7, 1, tzinfo=UTC)
ISSUER = key_from_seed(21)
TRUST = trust_for(ISSUER)
LEARNER = Learner("Siti Nurhaliza", "siti@example.com", "salt-siti")
URL = "https://registry.example.edu.my/status/7"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GENERATED / name).read_text())
    return data


def _vector_fetcher(status_doc: dict[str, Any] | None = None) -> MappingFetcher:
    return MappingFetcher({LIST_URL: status_doc or _load("statuslist.json")})


def _verify(doc: dict[str, Any], fetcher: Any, **kw: Any) -> VerificationReport:
    kw.setdefault("trust", trust_for(doc))
    return verify_credential(doc, at=AT, resolver=Resolver(fetcher), fetcher=fetcher, **kw)


def _coa(index: int, purpose: str = "revocation", url: str = URL) -> dict[str, Any]:
    return coa_for(
        ISSUER,
        LEARNER,
        "DS101",
        "Data Analytics",
        serial=1,
        status=[status_entry(url, index, purpose)],
    )


def test_generated_vector_index_94567_is_revoked() -> None:
    report = _verify(_load("credential-index-94567.json"), _vector_fetcher())
    assert report.verdict == "revoked"
    assert not report.verified
    assert report.checks["status"].status == "failed"
    assert report.checks["status"].codes == ("CREDENTIAL_REVOKED",)
    assert report.checks["proof"].status == "passed"


def test_generated_vector_index_12345_is_valid() -> None:
    report = _verify(_load("credential-index-12345.json"), _vector_fetcher())
    assert report.verdict == "valid", report.to_dict()
    assert report.checks["status"].status == "passed"
    assert "not revoked" in report.checks["status"].message


def test_list_served_over_real_http_on_loopback() -> None:
    key = KeyPair.from_multikey(_load("issuer-key.json"))
    with LocalServer(None) as server:
        url = server.url("/status/3")
        server.routes["/status/3"] = Route.json(status_list(key, url, set_bits=[94567]))
        revoked = sign(
            _load("credential-index-94567-unsigned.json")
            | {"credentialStatus": status_entry(url, 94567)},
            key,
        )
        valid = sign(
            _load("credential-index-12345-unsigned.json")
            | {"credentialStatus": status_entry(url, 12345)},
            key,
        )
        fetcher = SafeFetcher(allow_local=True)
        resolver = Resolver(fetcher)
        client = StatusListClient(fetcher, resolver)
        trust = trust_for(revoked)
        first = verify_credential(
            revoked, at=AT, resolver=resolver, status_client=client, trust=trust
        )
        second = verify_credential(
            valid, at=AT, resolver=resolver, status_client=client, trust=trust
        )
        assert first.verdict == "revoked"
        assert second.verdict == "valid"
        assert server.requests == ["/status/3"]  # the second check used the cache


def test_loopback_refused_without_allow_local() -> None:
    with LocalServer(None) as server:
        url = server.url("/status/7")
        server.routes["/status/7"] = Route.json(status_list(ISSUER, url))
        fetcher = SafeFetcher()
        report = verify_credential(_coa(5, url=url), at=AT, fetcher=fetcher, trust=TRUST)
        assert report.verdict == "status_unknown"
        assert report.checks["status"].codes == ("STATUS_RETRIEVAL_ERROR",)
        assert server.requests == []


def test_server_error_is_could_not_check_status() -> None:
    with LocalServer(None) as server:
        url = server.url("/status/7")
        server.routes["/status/7"] = Route(status=500, body=b"boom")
        report = _verify(_coa(5, url=url), SafeFetcher(allow_local=True))
    assert report.verdict == "status_unknown"
    assert not report.verified
    assert report.checks["status"].status == "unknown"
    assert report.checks["status"].codes == ("STATUS_RETRIEVAL_ERROR",)
    assert report.checks["status"].message.startswith("Could not check status")


def test_tampered_list_is_status_verification_error() -> None:
    doc = status_list(ISSUER, URL, set_bits=[5])
    tampered = copy.deepcopy(doc)
    tampered["credentialSubject"]["encodedList"] = status_list(ISSUER, URL)["credentialSubject"][
        "encodedList"
    ]  # un-revoke after signing
    report = _verify(_coa(5), MappingFetcher({URL: tampered}))
    assert report.verdict == "status_unknown"
    assert report.checks["status"].codes == ("STATUS_VERIFICATION_ERROR",)


def test_list_signed_by_another_key_is_status_verification_error() -> None:
    stranger = key_from_seed(77)
    doc = status_list(stranger, URL)
    report = _verify(_coa(5), MappingFetcher({URL: doc}))
    assert report.verdict == "status_unknown"
    assert report.checks["status"].codes == ("STATUS_VERIFICATION_ERROR",)
    assert "not by the credential's issuer" in report.errors[0]["detail"]


def test_list_issuer_with_signature_by_another_key_fails_binding() -> None:
    stranger = key_from_seed(78)
    doc = status_list(ISSUER, URL)
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    report = _verify(_coa(5), MappingFetcher({URL: sign(unsigned, stranger)}))
    assert report.checks["status"].codes == ("STATUS_VERIFICATION_ERROR",)
    assert "ISSUER_BINDING_ERROR" in report.errors[0]["detail"]


def test_purpose_mismatch_is_status_verification_error() -> None:
    report = _verify(_coa(5, "suspension"), MappingFetcher({URL: status_list(ISSUER, URL)}))
    assert report.checks["status"].codes == ("STATUS_VERIFICATION_ERROR",)


def test_suspended_then_unsuspended() -> None:
    suspended = _verify(
        _coa(9, "suspension"),
        MappingFetcher({URL: status_list(ISSUER, URL, set_bits=[9], purpose="suspension")}),
    )
    assert suspended.verdict == "suspended"
    assert suspended.checks["status"].codes == ("CREDENTIAL_SUSPENDED",)
    cleared = _verify(
        _coa(9, "suspension"),
        MappingFetcher({URL: status_list(ISSUER, URL, purpose="suspension")}),
    )
    assert cleared.verdict == "valid"


def test_index_not_a_decimal_string_is_malformed() -> None:
    doc = _coa(5)
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    unsigned["credentialStatus"]["statusListIndex"] = 5
    report = _verify(sign(unsigned, ISSUER), MappingFetcher({URL: status_list(ISSUER, URL)}))
    assert report.checks["status"].codes == ("MALFORMED_VALUE_ERROR",)
    assert report.verdict == "invalid"


def test_list_shorter_than_minimum_is_length_error() -> None:
    short = status_list(ISSUER, URL, entries=1024)
    report = _verify(_coa(5), MappingFetcher({URL: short}))
    assert report.checks["status"].codes == ("STATUS_LIST_LENGTH_ERROR",)
    assert report.verdict == "invalid"


def test_index_beyond_list_is_range_error() -> None:
    report = _verify(_coa(131_072), MappingFetcher({URL: status_list(ISSUER, URL)}))
    assert report.checks["status"].codes == ("RANGE_ERROR",)


def test_unsupported_status_type_is_a_warning_not_a_failure() -> None:
    # VC DM 2.0 allows any credentialStatus type: one we do not manage cannot be checked,
    # which is said (a warning), but it does not make the credential's status unknown.
    doc = _coa(5)
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    unsigned["credentialStatus"] = {
        "id": URL + "#5",
        "type": "urn:example:UnknownStatusMethod",
    }
    fetcher = MappingFetcher({})
    report = _verify(sign(unsigned, ISSUER), fetcher)
    assert report.checks["status"].status == "warning"
    assert report.checks["status"].codes == ("UNSUPPORTED_STATUS_TYPE",)
    assert report.verdict not in ("status_unknown", "invalid")
    assert fetcher.requests == []


def test_revocation_wins_over_an_unreachable_suspension_list() -> None:
    other = "https://registry.example.edu.my/status/unreachable"
    unsigned = {k: v for k, v in _coa(5).items() if k != "proof"}
    unsigned["credentialStatus"] = [status_entry(URL, 5), status_entry(other, 5, "suspension")]
    report = _verify(
        sign(unsigned, ISSUER),
        MappingFetcher({URL: status_list(ISSUER, URL, set_bits=[5])}),
        # Two entries are VC DM 2.0, not OB 3.0 (one at most): this test is about status.
        check_schema=False,
    )
    assert set(report.checks["status"].codes) == {"CREDENTIAL_REVOKED", "STATUS_RETRIEVAL_ERROR"}
    assert report.verdict == "revoked"


def test_expired_status_list_is_status_verification_error() -> None:
    doc = status_list(ISSUER, URL)
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    unsigned["validUntil"] = "2026-02-01T00:00:00Z"
    report = _verify(_coa(5), MappingFetcher({URL: sign(unsigned, ISSUER)}))
    assert report.checks["status"].codes == ("STATUS_VERIFICATION_ERROR",)


def test_cache_honours_the_list_ttl() -> None:
    now = [1000.0]
    fetcher = MappingFetcher(
        {URL: status_list(ISSUER, URL, extra={"ttl": 60_000})}  # 60 s, in milliseconds
    )
    resolver = Resolver(fetcher)
    client = StatusListClient(fetcher, resolver, default_ttl=3600, clock=lambda: now[0])
    for _ in range(3):
        verify_credential(_coa(5), at=AT, resolver=resolver, status_client=client, trust=TRUST)
    assert fetcher.requests == [URL]
    now[0] += 61
    verify_credential(_coa(5), at=AT, resolver=resolver, status_client=client, trust=TRUST)
    assert fetcher.requests == [URL, URL]


@pytest.mark.parametrize("check_status", [False])
def test_status_check_can_be_turned_off(check_status: bool) -> None:
    report = _verify(_coa(5), MappingFetcher({}), check_status=check_status)
    assert report.checks["status"].status == "skipped"
    assert report.verified


def test_cache_never_outlives_the_list_valid_until() -> None:
    doc = status_list(ISSUER, URL)
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    unsigned["validUntil"] = "2026-08-01T00:00:00Z"
    fetcher = MappingFetcher({URL: sign(unsigned, ISSUER)})
    resolver = Resolver(fetcher)
    client = StatusListClient(fetcher, resolver, default_ttl=10**9)
    first = verify_credential(_coa(5), at=AT, resolver=resolver, status_client=client, trust=TRUST)
    assert first.verdict == "valid"
    later = datetime(2026, 9, 1, tzinfo=UTC)
    second = verify_credential(
        _coa(5), at=later, resolver=resolver, status_client=client, trust=TRUST
    )
    assert fetcher.requests == [URL, URL]
    assert second.checks["status"].codes == ("STATUS_VERIFICATION_ERROR",)
