"""R, F and M scores: rank-based bins (or thresholds the user sets), with their cut points."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError
from rfm.schema import F_SCORE, M_SCORE, R_SCORE, RFM_CELL
from rfm.shared.numeric import is_int

SCORE_COLUMNS = {schema.RECENCY: R_SCORE, schema.FREQUENCY: F_SCORE, schema.MONETARY: M_SCORE}
SCORE_LETTERS = {schema.RECENCY: "R", schema.FREQUENCY: "F", schema.MONETARY: "M"}
MIN_BINS, MAX_BINS, DEFAULT_BINS = 3, 10, 5

#: How rank scores are given, in words for the page that shows the cut points (see :func:`rank_scores`).
SCORING_RULE = (
    "Customers are ranked from worst to best on recency, frequency and monetary value (for recency, the longest "
    "time since the last purchase is worst). A score counts the customers someone beats: with 5 scores, beating "
    "under 20% of customers gives 1, at least 20% gives 2, 40% gives 3, 60% gives 4 and 80% gives 5. "
    "Customers with the same value share a score, so the worst always get 1; a value held by many customers "
    "can leave the scores above it empty."
)


@dataclass(frozen=True)
class ScoreBin:
    """One score of one metric: the values it holds and how many customers."""

    score: int
    low: float | None  # smallest value holding this score (None when the score holds nobody)
    high: float | None
    customers: int
    label: str  # e.g. "last purchase ≤ 12 days ago"


@dataclass(frozen=True)
class MetricCuts:
    """How one metric was scored: by ranks (``thresholds`` empty) or by the user's thresholds."""

    metric: str  # recency_days, frequency or monetary
    bins: tuple[ScoreBin, ...]  # score 1 .. n
    thresholds: tuple[float, ...] = ()  # the user's upper bounds, ascending, when set
    warnings: tuple[str, ...] = ()

    @property
    def letter(self) -> str:
        return SCORE_LETTERS[self.metric]


@dataclass(frozen=True)
class ScoreResult:
    """Scores per customer (indexed like the RFM table) and the cut points of each metric."""

    scores: pd.DataFrame  # r_score, f_score, m_score (int) and rfm_cell (str)
    cuts: tuple[MetricCuts, ...]
    n_bins: int

    def cuts_frame(self) -> pd.DataFrame:
        """Cut points as a table: metric, score, label, customers, share."""
        total = len(self.scores)
        rows = [
            {
                "metric": f"{cut.letter} ({schema.RFM_LABELS[cut.metric]})",
                "score": b.score,
                "holds": b.label,
                "customers": b.customers,
                "share": b.customers / total if total else 0.0,
            }
            for cut in self.cuts
            for b in reversed(cut.bins)
        ]
        return pd.DataFrame(rows)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for cut in self.cuts for w in cut.warnings)


def rank_scores(values: pd.Series, n_bins: int, higher_is_better: bool = True) -> pd.Series:
    """Score values 1..n_bins by how many customers hold a strictly worse value.

    A customer's score is ``1 + floor(n_bins * worse / N)``, where ``worse`` counts the customers with a
    strictly worse value and ``N`` all customers (the "min" rank, from worst to best). So tied values always
    share one score, the worst value always gets 1, and the best value gets ``n_bins`` whenever at most
    ``N / n_bins`` customers hold it. A value held by many customers takes the score where its block starts
    and leaves the scores its block spans empty (e.g. 60% of customers with frequency 1 all get F=1 of 5, and
    F=2 and F=3 hold no one); if every customer has the same value, all get 1. Row order plays no part.

    Parameters
    ----------
    values : Series
        One metric per customer.
    n_bins : int
        Number of scores.
    higher_is_better : bool
        False for recency, where a small number of days is best: the largest recency gets 1.

    Returns
    -------
    Series
        int64 scores 1..n_bins, indexed like ``values``.

    Examples
    --------
    >>> rank_scores(pd.Series([1, 1, 1, 2, 5]), 5).tolist()
    [1, 1, 1, 4, 5]
    >>> rank_scores(pd.Series([0, 0, 30, 90]), 4, higher_is_better=False).tolist()
    [3, 3, 2, 1]
    """
    if values.empty:
        return pd.Series(dtype="int64", index=values.index)
    # rank "min" counts the values strictly before a value, plus one; ascending=False ranks the largest first.
    worse = values.rank(method="min", ascending=higher_is_better).to_numpy().astype("int64") - 1
    scores = 1 + (n_bins * worse) // len(values)
    return pd.Series(scores, index=values.index, dtype="int64")


def threshold_scores(values: pd.Series, thresholds: Sequence[float], higher_is_better: bool = True) -> pd.Series:
    """Score by upper bounds: ``value <= thresholds[0]`` is the lowest band, above the last the highest."""
    bands = np.searchsorted(np.asarray(thresholds, dtype="float64"), values.to_numpy(dtype="float64"), side="left") + 1
    n_bins = len(thresholds) + 1
    scores = bands if higher_is_better else n_bins + 1 - bands
    return pd.Series(scores.astype("int64"), index=values.index)


def check_bins(n_bins: int) -> int:
    """Validate a number of scores per metric: a whole number from 3 to 10."""
    if not is_int(n_bins) or not MIN_BINS <= n_bins <= MAX_BINS:
        raise RFMInputError(f"n_bins={n_bins} should be between {MIN_BINS} and {MAX_BINS}.")
    return int(n_bins)


def check_thresholds(metric: str, thresholds: Sequence[float | str], n_bins: int) -> tuple[float, ...]:
    """Validate a user's thresholds: ``n_bins - 1`` finite numbers, strictly ascending."""
    label = schema.RFM_LABELS[metric]
    numbers: list[float] = []
    for threshold in thresholds:
        try:
            numbers.append(float(threshold))
        except (TypeError, ValueError):
            raise RFMInputError(
                f"{label}: {threshold!r} is not a number; write thresholds like 30, 90, 180, 365."
            ) from None
    values = tuple(numbers)
    if len(values) != n_bins - 1:
        raise RFMInputError(f"{label}: {n_bins} scores need {n_bins - 1} thresholds; got {len(values)} ({list(values)}).")
    if not all(np.isfinite(values)) or any(b <= a for a, b in pairwise(values)):
        raise RFMInputError(f"{label}: thresholds must be numbers in increasing order; got {list(values)}.")
    return values


def parse_thresholds(metric: str, text: str, n_bins: int) -> tuple[float, ...]:
    """Thresholds typed as text ("30, 90, 180, 365"), checked by :func:`check_thresholds`."""
    parts = [part for part in re.split(r"[,;\s]+", text.strip()) if part]
    return check_thresholds(metric, parts, n_bins)


def compute_scores(
    table: pd.DataFrame, n_bins: int = DEFAULT_BINS, thresholds: Mapping[str, Sequence[float]] | None = None
) -> ScoreResult:
    """R, F and M scores for an RFM table.

    Parameters
    ----------
    table : DataFrame
        The RFM table (:func:`rfm.cleaning.table.rfm_table`), indexed by customer id.
    n_bins : int
        Number of scores per metric, 3 to 10.
    thresholds : mapping, optional
        Metric (``recency_days``, ``frequency``, ``monetary``) -> ``n_bins - 1`` ascending upper
        bounds, replacing the rank-based bins for that metric.

    Returns
    -------
    ScoreResult
        ``scores``: ``r_score``, ``f_score``, ``m_score`` (1 = worst, n_bins = best; a recent
        purchase is a high R) and ``rfm_cell`` ("545"); ``cuts``: per metric, what each score
        holds and how many customers, with a warning for every score no customer reaches.

    Examples
    --------
    >>> t = pd.DataFrame({"recency_days": [1, 5, 9], "frequency": [1, 1, 4], "monetary": [5.0, 9.0, 40.0]})
    >>> scores = compute_scores(t, n_bins=3).scores
    >>> scores["f_score"].tolist()  # the two one-order customers tie at the bottom: both get 1
    [1, 1, 3]
    >>> scores["r_score"].tolist()  # the most recent purchase (1 day ago) is the best
    [3, 2, 1]
    """
    n_bins = check_bins(n_bins)
    thresholds = dict(thresholds or {})
    scores = pd.DataFrame(index=table.index)
    cuts = []
    for metric, column in SCORE_COLUMNS.items():
        higher_is_better = metric != schema.RECENCY
        values = table[metric].astype("float64")
        if thresholds.get(metric):
            bounds = check_thresholds(metric, thresholds[metric], n_bins)
            scores[column] = threshold_scores(values, bounds, higher_is_better)
        else:
            bounds = ()
            scores[column] = rank_scores(values, n_bins, higher_is_better)
        cuts.append(_describe(metric, values, scores[column], n_bins, bounds))
    scores[RFM_CELL] = rfm_cells(scores, n_bins)
    return ScoreResult(scores=scores, cuts=tuple(cuts), n_bins=n_bins)


def cell_separator(n_bins: int) -> str:
    """How R, F and M join in an RFM cell: "545" while every score is one digit, "10-3-7" with 10 scores."""
    return "" if n_bins < 10 else "-"


def rfm_cells(scores: pd.DataFrame, n_bins: int) -> pd.Series:
    """The R, F and M scores of each customer as one label (see :func:`cell_separator`)."""
    separator = cell_separator(n_bins)
    return scores[R_SCORE].astype(str) + separator + scores[F_SCORE].astype(str) + separator + scores[M_SCORE].astype(str)


def value_bounds(cuts: MetricCuts) -> tuple[float, ...]:
    """Upper bounds, in ascending value order, that give every value of the scored table its score again.

    For the user's thresholds these are the thresholds. For rank scores the bound of each ascending slot is
    the largest value in it (an empty slot repeats the bound before it, so nothing lands in it; an empty
    first slot lies just below the smallest value). With :func:`threshold_scores` they score new customers
    the way this table was scored.
    """
    if cuts.thresholds:
        return tuple(cuts.thresholds)
    ascending = list(cuts.bins) if cuts.metric != schema.RECENCY else list(reversed(cuts.bins))
    lows = [b.low for b in ascending if b.low is not None]
    bound = (min(lows) - 1.0) if lows else 0.0
    bounds = []
    for held in ascending[:-1]:
        if held.high is not None:
            bound = held.high
        bounds.append(float(bound))
    return tuple(bounds)


def _describe(metric: str, values: pd.Series, scores: pd.Series, n_bins: int, thresholds: tuple[float, ...]) -> MetricCuts:
    bins = []
    for score in range(1, n_bins + 1):
        held = values[scores == score]
        if held.empty:
            bins.append(ScoreBin(score, None, None, 0, "no customer"))
        else:
            low, high = float(held.min()), float(held.max())
            bins.append(ScoreBin(score, low, high, len(held), _label(metric, low, high, score, n_bins)))
    empty = [b.score for b in bins if not b.customers]
    letter = SCORE_LETTERS[metric]
    if empty and not thresholds and len(values) > 1 and values.nunique() == 1:
        # One value for everyone: one warning that says so, not one per empty score.
        warnings = [
            f"Every customer has {_value_words(metric, float(values.iloc[0]))}: {letter} cannot tell them apart, "
            f"so all get {letter}=1."
        ]
    elif len(values) < n_bins and empty and not thresholds:
        # Fewer customers than scores: one warning, not one per empty score.
        listed = ", ".join(f"{letter}={score}" for score in empty)
        warnings = [f"Only {len(values)} customer(s) for {n_bins} scores: {listed} hold no customer."]
    elif thresholds and empty:
        listed = _listed(letter, empty)
        warnings = [f"{listed} {'holds' if len(empty) == 1 else 'hold'} no customer: no {_NOUNS[metric]} falls between those thresholds."]
    else:
        # One warning per tie block, naming every score it swallowed ("F=2 and F=3 cannot be reached: ...").
        swallowed: dict[float, list[int]] = {}
        for score in empty:
            swallowed.setdefault(_tie_block(metric, score, values, n_bins), []).append(score)
        warnings = []
        for value, lost in swallowed.items():
            tied = values == value
            warnings.append(
                f"{_listed(letter, lost)} cannot be reached: {tied.mean():.0%} of customers share "
                f"{_value_words(metric, value)}, so they all get {letter}={int(scores[tied].iloc[0])}."
            )
    return MetricCuts(metric=metric, bins=tuple(bins), thresholds=thresholds, warnings=tuple(warnings))


def _listed(letter: str, scores: list[int]) -> str:
    """ "R=2", "R=2 and R=3", "R=2, R=3 and R=4"."""
    named = [f"{letter}={score}" for score in scores]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"


def _tie_block(metric: str, score: int, values: pd.Series, n_bins: int) -> float:
    """The value whose tie block took the empty rank score ``score``.

    Score s belongs to the customers who beat at least (s - 1) / n_bins of all customers. With at least n_bins
    customers that share holds a position; s is empty when the tie block at its first position began lower down,
    and so took the lower score of its first customer.
    """
    worst_first = np.sort(values.to_numpy())
    if metric == schema.RECENCY:
        worst_first = worst_first[::-1]
    first = -(-(score - 1) * len(values) // n_bins)  # ceil((s - 1) * N / n_bins)
    return float(worst_first[first])


_NOUNS = {schema.RECENCY: "recency (days)", schema.FREQUENCY: "frequency", schema.MONETARY: "monetary value"}


def _value_words(metric: str, value: float) -> str:
    """A value with its metric, e.g. "recency 0 days", "frequency 1", "monetary value 20.00"."""
    if metric == schema.RECENCY:
        return f"recency {_number(metric, value)} day{'' if value == 1 else 's'}"
    return f"{_NOUNS[metric]} {_number(metric, value)}"


def _number(metric: str, value: float) -> str:
    if metric == schema.MONETARY:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _label(metric: str, low: float, high: float, score: int, n_bins: int) -> str:
    """Words for a score's values, e.g. "last purchase ≤ 12 days ago", "2–3 orders", "spent ≥ 1,000.00"."""
    lo, hi = _number(metric, low), _number(metric, high)
    best = score == n_bins
    worst = score == 1
    if metric == schema.RECENCY:
        if best:
            return f"last purchase ≤ {hi} days ago"
        if worst:
            return f"last purchase ≥ {lo} days ago"
        return f"last purchase {lo}–{hi} days ago" if lo != hi else f"last purchase {lo} days ago"
    if metric == schema.FREQUENCY:
        if lo == hi:
            return f"{lo} order{'s' if low != 1 else ''}"
        return f"≥ {lo} orders" if best else f"{lo}–{hi} orders"
    if best:
        return f"spent ≥ {lo}"
    if worst:
        return f"spent ≤ {hi}"
    return f"spent {lo}–{hi}" if lo != hi else f"spent {lo}"
