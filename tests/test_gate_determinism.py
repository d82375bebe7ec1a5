"""The gate passes or fails the same way every run: property tests are derandomized.

``tests/conftest.py`` loads the ``ci`` Hypothesis profile unless
``SIJIL_HYPOTHESIS_PROFILE=random`` asks for exploration; a test module's own ``@settings``
inherits it, so no property test draws fresh random examples in the gate.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

_RANDOM = os.environ.get("SIJIL_HYPOTHESIS_PROFILE") == "random"
_DRAWN: list[list[int]] = []


@pytest.mark.skipif(_RANDOM, reason="exploratory run: SIJIL_HYPOTHESIS_PROFILE=random")
def test_default_profile_is_derandomized_without_a_database() -> None:
    profile = settings.default
    assert profile is not None
    assert profile.derandomize is True
    assert profile.database is None


@pytest.mark.skipif(_RANDOM, reason="exploratory run: SIJIL_HYPOTHESIS_PROFILE=random")
def test_a_module_level_settings_decorator_inherits_the_profile() -> None:
    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.integers()))
    def draw(values: list[int]) -> None:
        _DRAWN.append(values)

    draw()
    first = list(_DRAWN)
    _DRAWN.clear()
    draw()
    assert first == _DRAWN
    assert len(first) == 15
