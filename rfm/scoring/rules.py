"""Named segments from R/F/M score rules: the rules are data, first match wins, "Other" otherwise."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from rfm.errors import RFMInputError
from rfm.schema import F_SCORE, M_SCORE, R_SCORE
from rfm.scoring.scores import DEFAULT_BINS

OTHER = "Other"
OTHER_DESCRIPTION = "No rule matched this customer's scores."
OTHER_ACTION = "Review the segment rules: add a rule that covers these scores."


@dataclass(frozen=True)
class SegmentRule:
    """Customers whose scores fall in every range (inclusive) belong to ``segment``."""

    segment: str
    r_min: int
    r_max: int
    f_min: int
    f_max: int
    m_min: int
    m_max: int
    description: str = ""
    action: str = ""

    def matches(self, scores: pd.DataFrame) -> pd.Series:
        return (
            scores[R_SCORE].between(self.r_min, self.r_max)
            & scores[F_SCORE].between(self.f_min, self.f_max)
            & scores[M_SCORE].between(self.m_min, self.m_max)
        )


# The widely used segment map on the 5x5 grid of R and F scores (M is open, 1-5, and can be
# narrowed by the user). The eleven rules cover the grid exactly once, so with the defaults no
# customer is "Other" and every segment can be reached; order still matters once rules are edited.
_DEFAULT_RULES_5 = (
    SegmentRule("Champions", 5, 5, 4, 5, 1, 5,
                "Bought very recently and buy often: your best customers.",
                "Reward them: early access to new products, loyalty perks; ask for reviews and referrals."),
    SegmentRule("Loyal Customers", 3, 4, 4, 5, 1, 5,
                "Buy often and fairly recently; they respond to promotions.",
                "Upsell higher-value products and invite them to the loyalty programme."),
    SegmentRule("Potential Loyalist", 4, 5, 2, 3, 1, 5,
                "Recent customers with a few orders.",
                "Offer membership or a loyalty programme; recommend related products."),
    SegmentRule("New Customers", 5, 5, 1, 1, 1, 5,
                "First and only order very recently.",
                "Onboard them: welcome series, early support, a reason to come back."),
    SegmentRule("Promising", 4, 4, 1, 1, 1, 5,
                "One order, fairly recently.",
                "Build awareness: a second-order offer or a free trial of another line."),
    SegmentRule("Need Attention", 3, 3, 3, 3, 1, 5,
                "Average recency and frequency.",
                "Limited-time offers based on past purchases; reactivate them before they slip."),
    SegmentRule("About To Sleep", 3, 3, 1, 2, 1, 5,
                "Few orders, and the last one is getting old.",
                "Share popular products and a discount; reconnect before they lapse."),
    SegmentRule("At Risk", 1, 2, 3, 4, 1, 5,
                "Used to buy regularly, but not for a long time.",
                "Personalised win-back: emails about what they bought, renewals, helpful resources."),
    SegmentRule("Can't Lose Them", 1, 2, 5, 5, 1, 5,
                "Were among the most frequent buyers, now long gone.",
                "Win them back personally: call or write, special offers; don't lose them to a competitor."),
    SegmentRule("Hibernating", 2, 2, 1, 2, 1, 5,
                "Few orders, a long time ago.",
                "Offer relevant products and special discounts; recreate the brand's value for them."),
    SegmentRule("Lost", 1, 1, 1, 2, 1, 5,
                "Few orders, the longest time ago.",
                "Revive with a low-cost reach-out campaign, or stop spending on them."),
)

RULE_COLUMNS = [
    "segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max", "description", "action",
]


def default_rules(n_bins: int = DEFAULT_BINS) -> tuple[SegmentRule, ...]:
    """The default rules for scores 1..n_bins (defined on 1-5 and stretched onto other bin counts)."""
    if n_bins == DEFAULT_BINS:
        return _DEFAULT_RULES_5

    def low(score: int) -> int:
        return math.floor((score - 1) * n_bins / DEFAULT_BINS) + 1

    def high(score: int) -> int:
        return math.ceil(score * n_bins / DEFAULT_BINS)

    return tuple(
        SegmentRule(
            rule.segment, low(rule.r_min), high(rule.r_max), low(rule.f_min), high(rule.f_max),
            low(rule.m_min), high(rule.m_max), rule.description, rule.action,
        )
        for rule in _DEFAULT_RULES_5
    )


def rules_frame(rules: Iterable[SegmentRule]) -> pd.DataFrame:
    """The rules as an editable table, one row per rule in order."""
    return pd.DataFrame([asdict(rule) for rule in rules], columns=RULE_COLUMNS)


def rules_from_frame(frame: pd.DataFrame, n_bins: int = DEFAULT_BINS) -> tuple[SegmentRule, ...]:
    """Rules from an edited table, checked: names present, whole-number ranges within 1..n_bins, min <= max.

    Raises
    ------
    RFMInputError
        Naming the rule (row), the column and the value at fault.
    """
    missing = [c for c in RULE_COLUMNS[:7] if c not in frame.columns]
    if missing:
        raise RFMInputError(f"The rules table lacks column(s) {missing}; it needs {RULE_COLUMNS}.")
    rules = []
    for position, row in enumerate(frame.to_dict("records"), start=1):
        name = str(row.get("segment") or "").strip()
        if not name or name.lower() == "nan":
            if all(_blank(row.get(c)) for c in RULE_COLUMNS[1:7]):
                continue  # an empty row the editor added
            raise RFMInputError(f"Rule {position} has no segment name: {_row_text(row)}.")
        if name == OTHER:
            raise RFMInputError(f"Rule {position}: '{OTHER}' is kept for customers no rule matches; choose another name.")
        bounds = {}
        for column in RULE_COLUMNS[1:7]:
            value = row.get(column)
            score = _whole_number(value)
            if score is None or not 1 <= score <= n_bins:
                raise RFMInputError(
                    f"Rule {position} ({name}): {column} should be a whole score from 1 to {n_bins}; got {value!r}."
                )
            bounds[column] = score
        for metric in "rfm":
            if bounds[f"{metric}_min"] > bounds[f"{metric}_max"]:
                raise RFMInputError(
                    f"Rule {position} ({name}): {metric}_min={bounds[f'{metric}_min']} is above {metric}_max={bounds[f'{metric}_max']}."
                )
        rules.append(
            SegmentRule(name, **bounds, description=_text(row.get("description")), action=_text(row.get("action")))
        )
    if not rules:
        raise RFMInputError("The rules table is empty: add at least one rule, or reset to the defaults.")
    return tuple(rules)


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip())


def _whole_number(value) -> int | None:
    """``value`` as an int when it is a whole number (3, 3.0, "3"), else None (blank, 2.5, "x", inf)."""
    if _blank(value) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def _text(value) -> str:
    return "" if _blank(value) else str(value).strip()


def _row_text(row: dict) -> str:
    return ", ".join(f"{k}={row.get(k)!r}" for k in RULE_COLUMNS[:7])


def assign_segments(scores: pd.DataFrame, rules: Iterable[SegmentRule]) -> pd.Series:
    """The first rule each customer's scores match, or ``"Other"``.

    Parameters
    ----------
    scores : DataFrame
        ``r_score``, ``f_score``, ``m_score`` per customer (:func:`rfm.scoring.scores.compute_scores`).
    rules : iterable of SegmentRule
        In order; the first match wins.

    Returns
    -------
    Series of segment names, indexed like ``scores``.
    """
    r, f, m = (scores[column].to_numpy() for column in (R_SCORE, F_SCORE, M_SCORE))
    return pd.Series(segment_array(r, f, m, rules), index=scores.index, dtype="str")


def segment_array(r: np.ndarray, f: np.ndarray, m: np.ndarray, rules: Iterable[SegmentRule]) -> np.ndarray:
    """:func:`assign_segments` on plain arrays of R, F and M scores (an object array of names).

    numpy, not pandas: the what-if page scores on every slider move, and with pandas' per-rule overhead
    (eleven rules, six comparisons each) a call took many times as long (see bench/RESULTS.md).
    """
    segment = np.full(len(r), OTHER, dtype=object)
    unassigned = np.ones(len(r), dtype=bool)
    for rule in rules:
        hit = (
            unassigned
            & (r >= rule.r_min) & (r <= rule.r_max)
            & (f >= rule.f_min) & (f <= rule.f_max)
            & (m >= rule.m_min) & (m <= rule.m_max)
        )
        segment[hit] = rule.segment
        unassigned &= ~hit
    return segment


def segment_info(rules: Iterable[SegmentRule]) -> pd.DataFrame:
    """Description and recommended action per segment, in rule order, "Other" last."""
    rows: dict[str, tuple[str, str]] = {}
    for rule in rules:
        rows.setdefault(rule.segment, (rule.description, rule.action))
    rows[OTHER] = (OTHER_DESCRIPTION, OTHER_ACTION)
    return pd.DataFrame([(k, *v) for k, v in rows.items()], columns=["segment", "description", "action"]).set_index("segment")
