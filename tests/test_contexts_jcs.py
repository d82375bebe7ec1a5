"""contexts.jcs: RFC 8785 against the -jcs- suites' vectors, and the numbers JCS rejects."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contexts import jcs
from contexts.errors import MalformedValueError

VECTORS = Path(__file__).resolve().parent / "vectors"

# (input JSON, expected JCS file, hash file, hash name)
JCS_VECTORS = [
    ("eddsa-jcs-2022/unsigned.json", "eddsa-jcs-2022/canonDocJCS.txt", "docHashJCS.txt", "sha256"),
    (
        "eddsa-jcs-2022/proofConfigJCS.json",
        "eddsa-jcs-2022/proofCanonJCS.txt",
        "proofHashJCS.txt",
        "sha256",
    ),
    (
        "ecdsa-jcs-2019/p256/unsigned.json",
        "ecdsa-jcs-2019/p256/canonDocJCSECDSAP256.txt",
        "docHashJCSECDSAP256.txt",
        "sha256",
    ),
    (
        "ecdsa-jcs-2019/p256/proofConfigJCSECDSAP256.json",
        "ecdsa-jcs-2019/p256/proofCanonJCSECDSAP256.txt",
        "proofHashJCSECDSAP256.txt",
        "sha256",
    ),
    (
        "ecdsa-jcs-2019/p384/unsigned.json",
        "ecdsa-jcs-2019/p384/canonDocJCSECDSAP384.txt",
        "docHashJCSECDSAP384.txt",
        "sha384",
    ),
    (
        "ecdsa-jcs-2019/p384/proofConfigJCSECDSAP384.json",
        "ecdsa-jcs-2019/p384/proofCanonJCSECDSAP384.txt",
        "proofHashJCSECDSAP384.txt",
        "sha384",
    ),
]


@pytest.mark.parametrize(("source", "expected", "hash_file", "hash_name"), JCS_VECTORS)
def test_jcs_matches_vector_and_hash(
    source: str, expected: str, hash_file: str, hash_name: str
) -> None:
    doc = json.loads((VECTORS / source).read_text(encoding="utf-8"))
    canonical = jcs.canonicalize(doc)
    assert canonical == (VECTORS / expected).read_bytes()
    digest = hashlib.new(hash_name, canonical).hexdigest()
    hash_path = (VECTORS / expected).parent / hash_file
    assert digest == hash_path.read_text(encoding="utf-8").strip()


def test_jcs_sorts_keys_by_utf16_and_writes_numbers_as_es6() -> None:
    # RFC 8785 section 3.2.3 (UTF-16 code unit order) and 3.2.2.3 (ECMAScript numbers).
    value = {"\u20ac": 1, "\U0001f600": 2, "a": 1.0, "b": 1e21, "c": 0.000001, "d": -0.0}
    assert jcs.canonicalize(value) == (
        '{"a":1,"b":1e+21,"c":0.000001,"d":0,"\u20ac":1,"\U0001f600":2}'.encode()
    )


def test_jcs_escapes_only_what_json_requires() -> None:
    assert jcs.canonicalize('"\\\n\u0001\u007f\u00e9') == b'"\\"\\\\\\n\\u0001\x7f\xc3\xa9"'


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_jcs_rejects_non_finite_numbers(number: float) -> None:
    with pytest.raises(MalformedValueError) as caught:
        jcs.canonicalize({"value": number})
    assert caught.value.code == "MALFORMED_VALUE_ERROR"


def test_jcs_rejects_integers_beyond_ieee754_safe_range() -> None:
    with pytest.raises(MalformedValueError):
        jcs.canonicalize({"value": 2**53 + 1})


def test_jcs_rejects_non_string_keys() -> None:
    with pytest.raises(MalformedValueError):
        jcs.canonicalize({1: "x"})


def test_jcs_rejects_non_json_values() -> None:
    with pytest.raises(MalformedValueError):
        jcs.canonicalize({"value": object()})


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    # floats below 2**53 in magnitude: larger ones print as integers (ES6 form) that
    # Python parses back as ints beyond the IEEE 754 safe range.
    | st.floats(min_value=-(2.0**52), max_value=2.0**52)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_jcs_output_parses_back_to_the_same_value(value: Any) -> None:
    canonical = jcs.canonicalize(value)
    assert json.loads(canonical) == value
    assert jcs.canonicalize(json.loads(canonical)) == canonical
