"""What if: which segment one customer would fall into, and the smallest change that moves them up.

Everything is computed from a :class:`rfm.bundle.model.ModelBundle` -- the model the session fitted, or one loaded
from a file -- so the answer here is the answer scoring would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.bundle.model import ModelBundle
from rfm.schema import CLUSTER, CLUSTER_ACTION, CLUSTER_NAME, F_SCORE, LIFECYCLE_STAGE, M_SCORE, R_SCORE, SEGMENT, TIER
from rfm.scoring.lifecycle import LifecycleThresholds
from rfm.scoring.scores import cell_separator

#: The levers a user can move, in the order the page shows them.
LEVERS: tuple[str, ...] = (schema.RECENCY, schema.FREQUENCY, schema.MONETARY, schema.TENURE, schema.AVG_ORDER_VALUE)
WHOLE_NUMBERS = frozenset({schema.RECENCY, schema.FREQUENCY, schema.TENURE})
#: +1: a higher value is better; -1: a lower one (recency). Tenure is no lever to pull: it only grows.
BETTER_DIRECTION = {schema.RECENCY: -1, schema.FREQUENCY: 1, schema.MONETARY: 1, schema.AVG_ORDER_VALUE: 1}
_SEARCH_POINTS = 160


@dataclass(frozen=True)
class InputRange:
    """What a slider for one feature offers: the data's range and a starting value."""

    feature: str
    low: float
    high: float
    median: float
    whole: bool

    @property
    def step(self) -> float:
        if self.whole:
            return 1.0
        span = self.high - self.low
        return float(10 ** np.floor(np.log10(span / 500))) if span > 0 else 0.01


@dataclass(frozen=True)
class Prediction:
    """Where one customer lands."""

    values: dict  # feature -> value used
    cluster: int
    name: str
    action: str
    distances: pd.Series  # distance to each centre (scaled space), indexed by centre name
    point: tuple[float, float]  # PCA coordinates
    scores: dict  # r_score, f_score, m_score
    rfm_cell: str
    segment: str
    segment_action: str
    tier: str
    stage: str | None = None  # the lifecycle stage from recency and frequency; None without thresholds to stage by


@dataclass(frozen=True)
class Move:
    """The smallest change in one feature that moves the customer into a better group."""

    feature: str
    kind: str  # "segment" (the model's clusters) or "rfm" (the classic RFM segments)
    current: float
    target: float
    to: str  # the better group reached

    @property
    def change(self) -> float:
        return self.target - self.current

    def describe(self) -> str:
        """e.g. "2 more orders → Loyal", "spend 1,250.00 more → Champions"."""
        change = abs(self.change)
        if self.feature == schema.FREQUENCY:
            text = f"{change:,.0f} more order{'s' if change != 1 else ''}"
        elif self.feature == schema.RECENCY:
            text = f"a purchase {change:,.0f} day{'s' if change != 1 else ''} more recent (last one {self.target:,.0f} days ago)"
        elif self.feature == schema.MONETARY:
            text = f"spend {change:,.2f} more (total {self.target:,.2f})"
        elif self.feature == schema.AVG_ORDER_VALUE:
            text = f"an average order {change:,.2f} higher ({self.target:,.2f})"
        else:
            text = f"{schema.RFM_LABELS[self.feature].lower()} {self.target:,.0f}"
        return f"{text} → {self.to}"


def levers(bundle: ModelBundle) -> tuple[str, ...]:
    """The features a what-if offers for this model: R, F and M (they set the scores), then the model's others."""
    wanted = {schema.RECENCY, schema.FREQUENCY, schema.MONETARY, *bundle.features}
    return tuple(feature for feature in LEVERS if feature in wanted)


def input_ranges(customers: pd.DataFrame, features: Sequence[str]) -> dict[str, InputRange]:
    """Slider ranges from the data: 0 (or the minimum) to the 99.5th percentile or a bit above the median.

    The extreme top is left out so that the slider is usable; the number input next to it accepts more.
    """
    ranges = {}
    for feature in features:
        values = customers[feature].astype("float64")
        whole = feature in WHOLE_NUMBERS
        low = min(0.0, float(values.min())) if len(values) else 0.0
        high = float(values.quantile(0.995)) if len(values) else 1.0
        median = float(values.median()) if len(values) else 0.0
        high = max(high, median * 2, low + 1)
        if whole:
            low, high, median = np.floor(low), np.ceil(high), np.round(median)
        ranges[feature] = InputRange(feature, float(low), float(high), float(median), whole)
    return ranges


def customer_values(customers: pd.DataFrame, customer_id: str, features: Sequence[str]) -> dict[str, float]:
    """One customer's values of ``features`` (for starting the sliders at a real customer)."""
    row = customers.loc[str(customer_id)]
    return {feature: float(row[feature]) for feature in features}


def _columns(values: Mapping[str, float | np.ndarray]) -> dict[str, np.ndarray]:
    """Arrays per feature from lever values; features not given are derived (order value) or neutral (tenure)."""
    columns = {feature: np.atleast_1d(np.asarray(value, dtype="float64")) for feature, value in values.items()}
    columns[schema.FREQUENCY] = np.clip(columns[schema.FREQUENCY], 1, None)
    if schema.AVG_ORDER_VALUE not in values:
        columns[schema.AVG_ORDER_VALUE] = columns[schema.MONETARY] / columns[schema.FREQUENCY]
    if schema.TENURE not in values:
        columns[schema.TENURE] = columns[schema.RECENCY]
    return columns


def predict(bundle: ModelBundle, values: Mapping[str, float], lifecycle: LifecycleThresholds | None = None) -> Prediction:
    """The segment, scores, distances and PCA position of one customer with these values.

    Parameters
    ----------
    values : mapping
        At least ``recency_days``, ``frequency`` and ``monetary``; the model's other features when it uses
        them (the average order value defaults to monetary / frequency, tenure to recency).
    lifecycle : LifecycleThresholds, optional
        The thresholds of the lifecycle stage (default: the model's, :attr:`ModelBundle.lifecycle`; a model saved
        before it recorded them gives no stage unless they are given, e.g. ``bundle.lifecycle_for(customers)``).
    """
    columns = _columns(values)
    labels = bundle.label_columns(columns, lifecycle)
    scaled = labels["scaled"]
    x, y = bundle.project(scaled)[0]
    segment = str(labels[SEGMENT][0])
    scores = {column: int(labels[column][0]) for column in (R_SCORE, F_SCORE, M_SCORE)}
    return Prediction(
        values={feature: float(columns[feature][0]) for feature in levers(bundle)},
        cluster=int(labels[CLUSTER][0]),
        name=str(labels[CLUSTER_NAME][0]),
        action=str(labels[CLUSTER_ACTION][0]),
        distances=pd.Series(bundle.distances_scaled(scaled)[0], index=bundle.center_names(), name="distance"),
        point=(float(x), float(y)),
        scores=scores,
        rfm_cell=cell_separator(bundle.n_bins).join(str(score) for score in scores.values()),
        segment=segment,
        segment_action=str(bundle.segment_info["action"].get(segment, "")),
        tier=str(labels[TIER][0]),
        stage=str(labels[LIFECYCLE_STAGE][0]) if LIFECYCLE_STAGE in labels else None,
    )


def _candidates(feature: str, current: float, limit: float, points: int = _SEARCH_POINTS) -> np.ndarray:
    """Values from ``current`` towards ``limit`` (the improving direction), nearest first."""
    if BETTER_DIRECTION[feature] < 0:
        limit = max(0.0, limit)
        if current <= limit:
            return np.array([])
    elif limit <= current:
        return np.array([])
    if feature in WHOLE_NUMBERS:
        whole = np.arange(current + np.sign(limit - current), limit + np.sign(limit - current), np.sign(limit - current))
        if len(whole) > points:  # every step near the customer, coarser further away
            whole = np.unique(np.round(current + (limit - current) * np.linspace(0, 1, points + 1)[1:] ** 2))
            whole = whole[whole != current]
            whole = whole[np.argsort(np.abs(whole - current), kind="stable")]
        return whole.astype("float64")
    fractions = np.linspace(0, 1, points + 1)[1:] ** 2
    return current + (limit - current) * fractions


def _nice(value: float, current: float) -> float:
    """Round a money target up (away from ``current``) to 2 significant figures of the change."""
    change = value - current
    if change == 0:
        return value
    magnitude = 10 ** (np.floor(np.log10(abs(change))) - 1)
    return float(current + np.sign(change) * np.ceil(abs(change) / magnitude) * magnitude)


def moves_up(bundle: ModelBundle, values: Mapping[str, float], ranges: Mapping[str, InputRange]) -> list[Move]:
    """For each lever, the smallest change that puts the customer in a better segment, by the model.

    Two kinds: ``"segment"`` moves to a cluster (or outlier tier group) whose merit -- how its customers
    compare on recency, frequency and spend, see :func:`rfm.clustering.profiles.merit_scores` -- is higher than the
    current one's; ``"rfm"`` moves to an RFM segment listed earlier in the rules (the rules run from the
    best segment to the worst). The search walks each lever from its value towards the best end of its
    range (twice the slider's top), one step at a time for whole numbers and on a fine grid otherwise,
    with every other lever held still.

    Returns
    -------
    list of Move, nearest first within each kind; empty when nothing within reach is better.
    """
    columns = _columns(values)
    now = bundle.label_columns(columns)
    merit = bundle.names["merit"].to_dict()
    current_merit = merit.get(int(now[CLUSTER][0]), np.nan)
    current_merit = current_merit if np.isfinite(current_merit) else -np.inf
    rule_rank = {rule.segment: position for position, rule in enumerate(bundle.rules)}
    current_rank = rule_rank.get(str(now[SEGMENT][0]), len(rule_rank))

    moves: list[Move] = []
    for feature in levers(bundle):
        if feature not in BETTER_DIRECTION:
            continue
        current = float(columns[feature][0])
        limit = 0.0 if BETTER_DIRECTION[feature] < 0 else max(ranges[feature].high * 2, current)
        candidates = _candidates(feature, current, limit)
        if not len(candidates):
            continue
        varied = {name: np.repeat(column, len(candidates)) for name, column in columns.items()}
        varied[feature] = candidates
        if feature in (schema.MONETARY, schema.FREQUENCY) and schema.AVG_ORDER_VALUE not in values:
            varied[schema.AVG_ORDER_VALUE] = varied[schema.MONETARY] / np.clip(varied[schema.FREQUENCY], 1, None)
        labels = bundle.label_columns(varied)
        better_cluster = np.array([merit.get(label, np.nan) for label in labels[CLUSTER].tolist()]) > current_merit
        better_rfm = np.array([rule_rank.get(name, len(rule_rank)) for name in labels[SEGMENT]]) < current_rank
        for kind, better, reached in (("segment", better_cluster, labels[CLUSTER_NAME]), ("rfm", better_rfm, labels[SEGMENT])):
            if better.any():
                first = int(np.argmax(better))
                moves.append(_rounded(bundle, varied, feature, Move(feature, kind, current, float(candidates[first]), str(reached[first]))))
    return sorted(moves, key=lambda move: (move.kind != "segment", LEVERS.index(move.feature)))


def _rounded(bundle: ModelBundle, varied: Mapping[str, np.ndarray], feature: str, move: Move) -> Move:
    """The move with a money target rounded to a readable figure, when it still reaches the same group."""
    if feature in WHOLE_NUMBERS:
        return move
    target = _nice(move.target, move.current)
    changed = {name: column[:1].copy() for name, column in varied.items()}
    changed[feature] = np.array([target])
    if feature == schema.MONETARY and schema.AVG_ORDER_VALUE in changed:
        changed[schema.AVG_ORDER_VALUE] = changed[schema.MONETARY] / np.clip(changed[schema.FREQUENCY], 1, None)
    labels = bundle.label_columns(changed)
    reached = labels[CLUSTER_NAME][0] if move.kind == "segment" else labels[SEGMENT][0]
    return Move(feature, move.kind, move.current, target, move.to) if reached == move.to else move
