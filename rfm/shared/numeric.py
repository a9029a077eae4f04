"""Small numeric helpers that several steps share (clustering, value): an integer check and distinct rows.

Depends on numpy and pandas only, so any step may import it without depending on another step.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

# count_distinct_rows counts this many leading rows first: on real tables they already hold enough distinct
# customers, so the full (hash-based) count over every row is rarely needed.
DISTINCT_PROBE_ROWS = 4096


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python's or numpy's), a bool excluded.

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of equal-length columns and how often each occurs.

    Parameters
    ----------
    *columns : ndarray of shape (n,)
        Finite numbers (a row holding NaN is not counted).

    Returns
    -------
    (list of ndarray of float, ndarray of float)
        One array per column holding the distinct rows, in the order they first occur, and the number of
        times each occurs (summing to ``n``). The BTYD likelihoods use the counts as weights.

    Examples
    --------
    >>> rows, counts = distinct_rows(np.array([1.0, 2.0, 1.0]), np.array([5.0, 6.0, 5.0]))
    >>> [column.tolist() for column in rows], counts.tolist()
    ([[1.0, 2.0], [5.0, 6.0]], [2.0, 1.0])
    """
    counts = pd.DataFrame(dict(enumerate(columns))).value_counts(sort=False)
    distinct = [counts.index.get_level_values(i).to_numpy(dtype=float) for i in range(len(columns))]
    return distinct, counts.to_numpy(dtype=float)


def count_distinct_rows(matrix: np.ndarray, cap: int) -> int:
    """Number of distinct rows of a finite 2-D array: exact below ``cap``, ``cap`` at or above it.

    The cap lets a large table stop early: the leading :data:`DISTINCT_PROBE_ROWS` rows are counted first,
    and every row only when those hold fewer than ``cap`` distinct ones.

    Examples
    --------
    >>> count_distinct_rows(np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]), cap=5)
    2
    >>> count_distinct_rows(np.arange(20.0).reshape(10, 2), cap=4)
    4
    """
    if matrix.shape[0] == 0:
        return 0
    if np.all(matrix == matrix[0]):
        return 1
    head = matrix[:DISTINCT_PROBE_ROWS]
    n_distinct = _n_distinct_rows(head)
    if n_distinct < cap and len(head) < len(matrix):
        n_distinct = _n_distinct_rows(matrix)
    return min(n_distinct, cap)


def _n_distinct_rows(matrix: np.ndarray) -> int:
    return len(distinct_rows(*matrix.T)[1])
