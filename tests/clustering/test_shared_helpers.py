"""The helpers clustering and value share (``rfm.shared.numeric``): the integer check and the distinct rows."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rfm.shared.numeric import DISTINCT_PROBE_ROWS, count_distinct_rows, distinct_rows, is_int

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True)
# Few values, so that rows repeat often.
SMALL_MATRICES = hnp.arrays(
    np.float64,
    st.tuples(st.integers(0, 30), st.integers(1, 3)),
    elements=st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0]),
)


@pytest.mark.parametrize("value", [0, 3, -2, np.int64(7), np.int32(1), np.uint8(4)])
def test_is_int_accepts_python_and_numpy_integers(value):
    assert is_int(value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, np.float64(2), "3", None, [1]])
def test_is_int_refuses_bools_floats_and_the_rest(value):
    assert not is_int(value)


@PROPERTY
@given(SMALL_MATRICES, st.integers(1, 8))
def test_count_distinct_rows_is_exact_below_the_cap_and_the_cap_above(matrix, cap):
    exact = len(np.unique(matrix + 0.0, axis=0))  # + 0.0: -0.0 is the same customer as 0.0
    assert count_distinct_rows(matrix, cap) == min(exact, cap)


def test_count_distinct_rows_looks_past_the_probe_when_the_head_is_all_alike():
    matrix = np.zeros((DISTINCT_PROBE_ROWS + 3, 2))
    matrix[-3:] = [[1.0, 0.0], [2.0, 0.0], [2.0, 0.0]]
    assert count_distinct_rows(matrix, cap=10) == 3
    assert count_distinct_rows(matrix, cap=2) == 2


def test_count_distinct_rows_of_no_row_one_row_and_one_repeated_row():
    assert count_distinct_rows(np.empty((0, 3)), cap=4) == 0
    assert count_distinct_rows(np.ones((1, 3)), cap=4) == 1
    assert count_distinct_rows(np.ones((50, 3)), cap=4) == 1


@PROPERTY
@given(SMALL_MATRICES)
def test_distinct_rows_are_the_rows_in_first_occurrence_order_with_their_counts(matrix):
    columns, counts = distinct_rows(*matrix.T)
    rows = [tuple(row) for row in (matrix + 0.0).tolist()]
    first_seen = list(dict.fromkeys(rows))
    assert [tuple(row) for row in zip(*(column.tolist() for column in columns))] == first_seen
    assert counts.tolist() == [float(rows.count(row)) for row in first_seen]
    assert counts.sum() == len(matrix)
    assert len(counts) == count_distinct_rows(matrix, cap=len(matrix) + 1)
