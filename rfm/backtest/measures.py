"""How well an ordering of customers predicts what they did after the cut: rank AUC, cumulative gains, the top
share of revenue, and the outcome per segment.

Every measure treats tied scores as a random order of the tied customers, averaged: the AUC counts a tied
(buyer, non-buyer) pair as one half (Mann-Whitney), and the gains curve runs straight across a block of ties, so
an ordering that cannot tell customers apart earns no credit for the order they happen to be stored in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import rankdata

#: The share of customers at the top of an ordering whose share of revenue is reported.
TOP_SHARE = 0.2
#: Points of a gains curve, evenly spaced over the share of customers (0 to 1).
GAINS_POINTS = 201


def auc(scores: ArrayLike, positive: ArrayLike) -> float:
    """Area under the ROC curve of ``scores`` (higher = more likely) for the boolean ``positive``.

    The Mann-Whitney statistic: the share of (positive, negative) pairs in which the positive scores higher, a
    tie counting one half. NaN when either class is empty.

    Examples
    --------
    >>> auc([3, 2, 2, 1], [True, True, False, False])
    0.875
    """
    score = np.asarray(scores, dtype="float64")
    hit = np.asarray(positive, dtype=bool)
    n_positive, n_negative = int(hit.sum()), int((~hit).sum())
    if n_positive == 0 or n_negative == 0:
        return float("nan")
    ranks = rankdata(score)  # average ranks: ties share the mean of their places
    return float((ranks[hit].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def _tie_blocks(scores: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative (share of customers, share of target) at the end of each block of equal scores, best first,
    starting at (0, 0)."""
    score = np.asarray(scores, dtype="float64")
    value = np.asarray(target, dtype="float64")
    order = np.argsort(-score, kind="stable")
    ranked_score, ranked_value = score[order], value[order]
    ends = np.flatnonzero(np.r_[ranked_score[1:] != ranked_score[:-1], True]) + 1
    total = value.sum()
    share_of_target = np.cumsum(ranked_value)[ends - 1] / total if total > 0 else np.zeros(len(ends))
    return np.r_[0.0, ends / len(score)], np.r_[0.0, share_of_target]


def top_share(scores: ArrayLike, target: ArrayLike, top: float = TOP_SHARE) -> float:
    """The share of ``target`` (e.g. revenue after the cut) held by the ``top`` share of customers by ``scores``.

    A block of tied scores that straddles the line contributes in proportion to the part of it inside (the
    average over random orders of the tie). NaN when the target sums to 0 or there are no customers.

    Examples
    --------
    >>> top_share([5, 4, 3, 2, 1], [10, 0, 0, 0, 30])
    0.25
    """
    value = np.asarray(target, dtype="float64")
    if len(value) == 0 or value.sum() <= 0:
        return float("nan")
    customers, captured = _tie_blocks(scores, value)
    return float(np.interp(top, customers, captured))


def gains_curve(scores: ArrayLike, target: ArrayLike, points: int = GAINS_POINTS) -> np.ndarray:
    """Cumulative gains: the share of ``target`` held by the best x of customers by ``scores``, at ``points`` evenly
    spaced shares x from 0 to 1 (ties averaged, as in :func:`top_share`). Zeros when the target sums to 0."""
    customers, captured = _tie_blocks(scores, target)
    return np.interp(np.linspace(0.0, 1.0, points), customers, captured)


def segment_outcomes(labels: pd.Series, bought_again: pd.Series, revenue_after: pd.Series, kind: str) -> pd.DataFrame:
    """What each segment's customers did after the cut.

    Parameters
    ----------
    labels : Series
        Each customer's segment, indexed by customer id.
    bought_again : Series of bool
        Whether each customer ordered after the cut, same index.
    revenue_after : Series of float
        Each customer's revenue after the cut (0 for none), same index.
    kind : str
        ``"rfm"`` or ``"cluster"``, copied into the ``kind`` column.

    Returns
    -------
    DataFrame, one row per segment, most customers first: ``segment``, ``kind``, ``customers`` (int),
    ``bought_again_rate``, ``revenue_per_customer`` and ``lift`` (the segment's bought-again rate divided by every
    customer's; NaN when nobody bought again).
    """
    frame = pd.DataFrame({"segment": labels.astype("str"), "bought": bought_again.astype(bool), "revenue": revenue_after})
    table = frame.groupby("segment", sort=False).agg(
        customers=("bought", "size"), bought_again_rate=("bought", "mean"), revenue_per_customer=("revenue", "mean")
    )
    overall = float(frame["bought"].mean()) if len(frame) else float("nan")
    table["lift"] = table["bought_again_rate"] / overall if overall > 0 else float("nan")
    table = table.sort_values("customers", ascending=False, kind="stable").reset_index()
    table.insert(1, "kind", kind)
    return table.astype({"customers": "int64"})
