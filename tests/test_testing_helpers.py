"""The suite's own helpers (tests/conftest.py) keep the verdicts of what they speed up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import _numpy_assert_allclose, assert_allclose


def _verdict(check, actual, desired, **tolerances):
    try:
        check(actual, desired, **tolerances)
    except AssertionError:
        return "fails"
    return "passes"


DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint16])
ELEMENTS = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 2.0**53 + 1]))


@st.composite
def pairs(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    other_shape = draw(st.sampled_from([shape, (), (1,), (3,)]))
    desired = draw(hnp.arrays(np.float64, shape, elements=ELEMENTS))
    noise = draw(hnp.arrays(np.float64, other_shape, elements=st.sampled_from([0.0, 1e-15, -1e-12, 1e-9, 1e-3, 1.0, np.nan])))
    with np.errstate(all="ignore"):
        actual = desired * (1 + noise) if noise.shape == shape else noise
        actual = actual.astype(draw(DTYPES)) if np.isfinite(actual).all() and np.abs(actual).max(initial=0) < 100 else actual
        desired = desired.astype(draw(DTYPES)) if np.isfinite(desired).all() and np.abs(desired).max(initial=0) < 100 else desired
    return actual, desired


@settings(max_examples=80, deadline=None)
@given(pairs(), st.sampled_from([0, 1e-12, 1e-7, 1e-3]), st.sampled_from([0, 1e-15, 1e-9, 0.5]))
def test_fast_assert_allclose_agrees_with_numpy(pair, rtol, atol):
    actual, desired = pair
    with np.errstate(all="ignore"):
        assert _verdict(assert_allclose, actual, desired, rtol=rtol, atol=atol) == \
            _verdict(_numpy_assert_allclose, actual, desired, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "actual, desired, verdict",
    [
        ([1.0, 2.0], [1.0, 2.0 + 1e-6], "fails"),
        ([1.0, 2.0], [1.0, 2.0 + 1e-8], "passes"),
        ([1.0, np.nan], [1.0, np.nan], "passes"),  # numpy's: NaNs in the same places are equal
        ([np.inf], [np.inf], "passes"),
        ([np.inf], [-np.inf], "fails"),
        ([1.0, 2.0], [[1.0, 2.0]], "fails"),  # shapes differ
        (np.array([2**62], dtype=np.int64), np.array([-(2**62)], dtype=np.int64), "fails"),  # no integer wrap-around
        ([], [], "passes"),
    ],
)
def test_fast_assert_allclose_edge_cases(actual, desired, verdict):
    assert _verdict(assert_allclose, actual, desired) == _verdict(_numpy_assert_allclose, actual, desired) == verdict
    assert np.testing.assert_allclose is assert_allclose  # the suite uses it
