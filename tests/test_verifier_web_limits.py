"""Bounded JSON parsing and credential links (webplatform.jsonbody, verifier.links)."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.errors import SijilError
from verifier.links import pack_credential, unpack_credential, verification_link
from webplatform.jsonbody import JsonTooDeepError, check_json_depth, parse_json_bytes

CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"name": "Nur Aisyah binti Ahmad", "note": '[{"quoted"}]'},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def code_of(excinfo: pytest.ExceptionInfo[SijilError]) -> str:
    return excinfo.value.code


def test_parse_json_bytes_accepts_a_credential() -> None:
    assert parse_json_bytes(json.dumps(CREDENTIAL).encode()) == CREDENTIAL


def test_too_large_body_is_request_too_large() -> None:
    with pytest.raises(SijilError) as excinfo:
        parse_json_bytes(b"[" + b"0," * 600 + b"0]", max_bytes=1000)
    assert code_of(excinfo) == "REQUEST_TOO_LARGE"
    assert excinfo.value.http_status == 413


def test_deep_nesting_is_refused_before_parsing() -> None:
    bomb = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(SijilError) as excinfo:
        parse_json_bytes(bomb, max_bytes=10**6, max_depth=64)
    assert code_of(excinfo) == "JSON_TOO_DEEP"


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    check_json_depth(json.dumps({"a": '[[[[[[[[[[\\"{{{{{{{{'}), 2)
    with pytest.raises(SijilError):
        check_json_depth('{"a": [[1]]}', 2)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"a": 1, "a": 2}', "PARSING_ERROR"),
        (b'{"a": NaN}', "PARSING_ERROR"),
        (b'{"a": Infinity}', "PARSING_ERROR"),
        (b"\xff\xfe{}", "PARSING_ERROR"),
        (b'{"a": ', "PARSING_ERROR"),
        (b"1" * 5000, "PARSING_ERROR"),
    ],
    ids=["duplicate_key", "nan", "infinity", "bad_utf8", "truncated", "huge_integer"],
)
def test_unacceptable_json_is_parsing_error(raw: bytes, code: str) -> None:
    with pytest.raises(SijilError) as excinfo:
        parse_json_bytes(raw)
    assert code_of(excinfo) == code


@given(json_values)
def test_parse_json_bytes_round_trips(value: object) -> None:
    assert parse_json_bytes(json.dumps(value).encode()) == value


def test_pack_unpack_round_trip_and_deterministic() -> None:
    packed = pack_credential(CREDENTIAL)
    assert packed == pack_credential(CREDENTIAL)
    assert "=" not in packed
    assert unpack_credential(packed) == CREDENTIAL


def test_pack_unpack_vc_jwt() -> None:
    token = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZSJ9.c2ln"
    assert unpack_credential(pack_credential(token)) == token


def test_verification_link_carries_the_packed_credential() -> None:
    link = verification_link("https://verify.example.my/", CREDENTIAL)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "verify.example.my", "/verify")
    assert unpack_credential(parse_qs(parts.query)["c"][0]) == CREDENTIAL


def test_gzip_bomb_stops_at_the_cap() -> None:
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]", mtime=0)
    packed = base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    assert len(packed) < 20_000
    with pytest.raises(SijilError) as excinfo:
        unpack_credential(packed, max_bytes=1024 * 1024)
    assert code_of(excinfo) == "REQUEST_TOO_LARGE"


@pytest.mark.parametrize(
    ("packed", "code"),
    [
        ("not base64!", "MALFORMED_VALUE_ERROR"),
        ("", "MALFORMED_VALUE_ERROR"),
        (base64.urlsafe_b64encode(b"plain, not gzip").decode(), "PARSING_ERROR"),
        (pack_credential(CREDENTIAL)[:-12], "PARSING_ERROR"),
        (
            base64.urlsafe_b64encode(gzip.compress(b"{not json", mtime=0)).decode(),
            "PARSING_ERROR",
        ),
    ],
    ids=["not_base64url", "empty", "not_gzip", "truncated_gzip", "not_json"],
)
def test_broken_links_raise_their_codes(packed: str, code: str) -> None:
    with pytest.raises(SijilError) as excinfo:
        unpack_credential(packed)
    assert code_of(excinfo) == code


def _depth_by_characters(text: str, max_depth: int) -> bool:
    """The character-by-character scan (the reference): does ``text`` nest too deep?"""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif ch in "]}":
            depth -= 1
    return False


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='[]{}"\\a\n', max_size=80), st.integers(0, 6))
def test_depth_check_equals_the_character_scan(text: str, max_depth: int) -> None:
    try:
        check_json_depth(text, max_depth)
        refused = False
    except JsonTooDeepError:
        refused = True
    assert refused is _depth_by_characters(text, max_depth)
