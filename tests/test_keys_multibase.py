"""Multibase: round trips and strict decoding (CID 1.0 "Multibase")."""

from __future__ import annotations

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.errors import MalformedValueError
from keys import multibase


def test_known_values() -> None:
    assert multibase.encode(b"hello world") == "zStV1DL6CwTryKyV"
    assert multibase.encode(b"hello world", "base64url") == "uaGVsbG8gd29ybGQ"
    assert multibase.decode("zStV1DL6CwTryKyV") == b"hello world"
    assert multibase.decode("uaGVsbG8gd29ybGQ") == b"hello world"


def test_leading_zero_bytes_kept() -> None:
    assert multibase.encode(b"\x00\x00\x01") == "z112"
    assert multibase.decode("z112") == b"\x00\x00\x01"


@pytest.mark.parametrize(
    "bad",
    [
        "",  # empty
        "StV1DL6CwTryKyV",  # no prefix
        "mAAAA",  # base64 (standard) prefix unsupported
        "fdeadbeef",  # base16 unsupported
        "z0OIl",  # characters outside the base58 alphabet
        "zStV1DL6Cw TryKyV",  # whitespace
        "uaGVsbG8gd29ybGQ=",  # padding
        "uaGVsbG8+d29ybGQ",  # standard-alphabet character
        "uaGVsbG8gd29ybGR",  # non-zero trailing bits
        "uA",  # impossible length
    ],
)
def test_malformed_multibase_rejected(bad: str) -> None:
    with pytest.raises(MalformedValueError) as err:
        multibase.decode(bad)
    assert err.value.code == "MALFORMED_VALUE_ERROR"


def test_non_string_rejected() -> None:
    with pytest.raises(MalformedValueError):
        multibase.decode(b"zabc")  # type: ignore[arg-type]


def test_unknown_base_rejected() -> None:
    with pytest.raises(MalformedValueError):
        multibase.encode(b"x", "base32")  # type: ignore[arg-type]


@settings(max_examples=200)
@given(data=st.binary(max_size=300), base=st.sampled_from(["base58btc", "base64url"]))
def test_property_round_trip(data: bytes, base: multibase.Base) -> None:
    encoded = multibase.encode(data, base)
    assert encoded[0] == ("z" if base == "base58btc" else "u")
    assert multibase.decode(encoded) == data


@given(st.binary(max_size=100).map(lambda data: b"\0" * (data[:1] == b"\0") * 3 + data))
def test_base58_equals_the_base58_package(data: bytes) -> None:
    # An independent implementation: the same text for the same bytes, and back.
    text = base58.b58encode(data).decode("ascii")
    assert multibase.encode(data) == "z" + text
    assert multibase.decode("z" + text) == data
