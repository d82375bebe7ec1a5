"""Bitstring Status List codec (BSL 1.0 sections 3.1-3.4): spec examples, vectors, properties."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_dir import VECTORS

from contexts.errors import MalformedValueError
from verifier.bitstring import (
    MAX_LIST_BYTES,
    MIN_ENTRIES,
    Bitstring,
    decode_list,
    encode_list,
)
from verifier.errors import RangeError, StatusListLengthError

BSL = VECTORS / "bitstring-status-list"
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_spec_example_decodes_to_the_minimum_all_zero_list() -> None:
    bits = decode_list(SPEC_EXAMPLE)
    assert len(bits.data) == 16_384
    assert bits.entries() == MIN_ENTRIES
    assert not any(bits.data)
    bits.check_length()


@pytest.mark.parametrize(
    "name", sorted(p.name for p in BSL.glob("L*.json") if "encodedList" in p.read_text())
)
def test_spec_examples_encoded_lists_decode(name: str) -> None:
    doc = json.loads((BSL / name).read_text())
    subject = doc["credentialSubject"]
    bits = decode_list(subject["encodedList"])
    assert bits.entries() >= MIN_ENTRIES


def test_generated_list_sets_exactly_bits_7_and_94567() -> None:
    doc = json.loads((BSL / "generated" / "statuslist.json").read_text())
    bits = decode_list(doc["credentialSubject"]["encodedList"])
    assert [i for i in range(bits.bit_length) if bits.is_set(i)] == [7, 94567]
    assert not bits.is_set(12345)


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = Bitstring.zeros().with_bits([0])
    assert bits.data[0] == 0x80
    assert Bitstring.zeros().with_bits([7]).data[0] == 0x01
    assert Bitstring.zeros().with_bits([8]).data[1] == 0x80


def test_multi_bit_entries_read_msb_first() -> None:
    bits = Bitstring.zeros(MIN_ENTRIES, 2).with_values([(0, 2), (1, 1), (5, 3)], 2)
    assert bits.data[0] == 0b10_01_00_00
    assert [bits.get(i, 2) for i in (0, 1, 2, 5)] == [2, 1, 0, 3]


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=50))
def test_encode_decode_round_trip(indices: set[int]) -> None:
    bits = Bitstring.zeros().with_bits(indices)
    decoded = decode_list(encode_list(bits))
    assert decoded == bits
    assert {i for i in indices if decoded.is_set(i)} == indices


def test_encoding_is_deterministic() -> None:
    assert encode_list(Bitstring.zeros().with_bits([3])) == encode_list(
        Bitstring.zeros().with_bits([3])
    )


def test_short_list_is_length_error() -> None:
    with pytest.raises(StatusListLengthError):
        decode_list(encode_list(Bitstring.zeros(1024))).check_length()


def test_index_outside_is_range_error() -> None:
    bits = Bitstring.zeros()
    with pytest.raises(RangeError) as caught:
        bits.get(MIN_ENTRIES)
    assert caught.value.code == "RANGE_ERROR"
    with pytest.raises(RangeError):
        bits.get(-1)


@pytest.mark.parametrize(
    "value",
    [
        "zH4sIAAAA",  # base58btc, not base64url
        "u" + base64.urlsafe_b64encode(b"not gzip at all").decode().rstrip("="),
        "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384))[:-12]).decode().rstrip("="),
        "",
        42,
    ],
    ids=["not-base64url", "not-gzip", "truncated-gzip", "empty", "not-a-string"],
)
def test_malformed_encoded_list(value: object) -> None:
    with pytest.raises(MalformedValueError):
        decode_list(value)


def test_gzip_bomb_is_capped() -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(MAX_LIST_BYTES + 1))).decode()
    with pytest.raises(MalformedValueError):
        decode_list(bomb.rstrip("="))
