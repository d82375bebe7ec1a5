"""``copy_json`` is a deep copy: equal to the original, sharing no container with it."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contexts.jsoncopy import FastCopyDict, copy_json

JSON = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


def _containers(value: Any) -> list[int]:
    found: list[int] = []
    if isinstance(value, dict):
        found.append(id(value))
        for item in value.values():
            found.extend(_containers(item))
    elif isinstance(value, list):
        found.append(id(value))
        for item in value:
            found.extend(_containers(item))
    return found


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_copy_is_equal_and_independent(value: Any) -> None:
    copied = copy_json(value)
    assert json.dumps(copied) == json.dumps(value)
    assert not set(_containers(copied)) & set(_containers(value))


@settings(max_examples=100, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), JSON, max_size=5))
def test_pyld_copy_of_a_fast_copy_dict_is_a_plain_equal_dict(value: dict[str, Any]) -> None:
    copied = copy.deepcopy(FastCopyDict(value))
    assert type(copied) is dict
    assert copied == value
    assert not set(_containers(copied)) & set(_containers(value))


def test_other_types_fall_back_to_deepcopy() -> None:
    inner = {"a": [1]}
    value = {"tuple": (inner,), "set": frozenset({1})}
    copied = copy_json(value)
    assert copied == value
    assert copied["tuple"][0] is not inner
