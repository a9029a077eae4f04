"""The classic segmentation in one call: scores, named segments, outlier tiers and the summary table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from rfm import schema
from rfm.schema import LIFECYCLE_STAGE, SEGMENT, TIER
from rfm.scoring.lifecycle import LifecycleThresholds, lifecycle_stages, lifecycle_thresholds, stage_summary
from rfm.scoring.rules import OTHER, SegmentRule, assign_segments, default_rules, segment_info
from rfm.scoring.scores import DEFAULT_BINS, ScoreResult, check_bins, compute_scores
from rfm.scoring.tiers import DEFAULT_IQR_MULTIPLIER, TierResult, check_multiplier, outlier_tiers


@dataclass(frozen=True)
class SegmentSettings:
    """How to score and segment; frozen so it can key a cache.

    ``thresholds`` holds ``(metric, upper bounds)`` pairs for metrics scored by the user's
    thresholds; ``rules`` of ``None`` means the default rules for ``n_bins``; ``lifecycle`` of ``None`` means the
    lifecycle stages' thresholds from the data (:func:`rfm.scoring.lifecycle.lifecycle_thresholds`).
    """

    n_bins: int = DEFAULT_BINS
    thresholds: tuple[tuple[str, tuple[float, ...]], ...] = ()
    rules: tuple[SegmentRule, ...] | None = None
    iqr_multiplier: float = DEFAULT_IQR_MULTIPLIER
    lifecycle: LifecycleThresholds | None = None

    def effective_rules(self) -> tuple[SegmentRule, ...]:
        return self.rules if self.rules is not None else default_rules(self.n_bins)

    def check(self) -> None:
        """Raise :class:`~rfm.errors.RFMInputError` for a number of scores or an IQR multiplier out of range (before a
        long read of the file, where a command can)."""
        check_bins(self.n_bins)
        check_multiplier(self.iqr_multiplier)


@dataclass(frozen=True)
class Segmentation:
    """Everything the classic view shows."""

    customers: pd.DataFrame  # the RFM table plus r/f/m scores, rfm_cell, segment, tier and lifecycle_stage
    scores: ScoreResult
    rules: tuple[SegmentRule, ...]
    tiers: TierResult
    summary: pd.DataFrame  # see segment_summary
    info: pd.DataFrame  # description and action per segment
    warnings: tuple[str, ...]
    #: The thresholds the lifecycle stages were given with (the settings', else the data's).
    lifecycle: LifecycleThresholds | None = None

    def stage_summary(self) -> pd.DataFrame:
        """Customers and revenue per lifecycle stage (:func:`rfm.scoring.lifecycle.stage_summary`)."""
        return stage_summary(self.customers)


def segment_customers(table: pd.DataFrame, settings: SegmentSettings = SegmentSettings()) -> Segmentation:
    """Score, segment and tier every customer of an RFM table.

    Parameters
    ----------
    table : DataFrame
        The RFM table (:func:`rfm.cleaning.table.rfm_table`), indexed by customer id.
    settings : SegmentSettings

    Returns
    -------
    Segmentation
        ``customers`` has the RFM columns plus ``r_score``, ``f_score``, ``m_score``,
        ``rfm_cell``, ``segment``, ``tier`` and ``lifecycle_stage``, one row per customer, in the table's order.
    """
    scores = compute_scores(table, settings.n_bins, dict(settings.thresholds))
    rules = settings.effective_rules()
    tiers = outlier_tiers(table, settings.iqr_multiplier)
    customers = table.join(scores.scores)
    customers[SEGMENT] = assign_segments(scores.scores, rules)
    customers[TIER] = tiers.tiers
    lifecycle = settings.lifecycle or lifecycle_thresholds(table)
    customers[LIFECYCLE_STAGE] = lifecycle_stages(table, lifecycle)
    # A default-threshold warning stays on ``lifecycle`` (the RFM page shows it beside the stages), not among the
    # scores' warnings every page and command repeats.
    warnings = list(scores.warnings)
    others = int((customers[SEGMENT] == OTHER).sum())
    if others:
        warnings.append(f"{others:,} customer(s) match no rule and are '{OTHER}': extend the rules to cover their scores.")
    flagged = int((customers[TIER] != "Regular").sum())
    if len(customers) and flagged > 0.25 * len(customers):
        warnings.append(
            f"{flagged:,} of {len(customers):,} customers are above an outlier fence: the spread is narrow; "
            "raise the IQR multiplier to flag only real outliers."
        )
    return Segmentation(
        customers=customers,
        scores=scores,
        rules=rules,
        tiers=tiers,
        summary=segment_summary(customers, [rule.segment for rule in rules]),
        info=segment_info(rules),
        warnings=tuple(warnings),
        lifecycle=lifecycle,
    )


def segment_summary(customers: pd.DataFrame, order: Sequence[str] = (), by: str = SEGMENT) -> pd.DataFrame:
    """One row per segment: size, revenue and the typical customer.

    Parameters
    ----------
    customers : DataFrame
        RFM columns plus the ``by`` column.
    order : sequence of str
        Segments in the order to show them (segments without customers are left out; others last).

    Returns
    -------
    DataFrame indexed by segment with ``customers``, ``share``, ``revenue``, ``revenue_share``,
    ``mean_``/``median_`` recency_days, frequency and monetary, and ``avg_order_value``
    (the segment's revenue / its orders).
    """
    grouped = customers.groupby(by, sort=False)
    summary = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped[schema.MONETARY].sum(),
            "orders": grouped[schema.FREQUENCY].sum(),
        }
    )
    summary["share"] = summary["customers"] / summary["customers"].sum()
    summary["revenue_share"] = summary["revenue"] / summary["revenue"].sum()
    for metric in (schema.RECENCY, schema.FREQUENCY, schema.MONETARY):
        summary[f"mean_{metric}"] = grouped[metric].mean()
        summary[f"median_{metric}"] = grouped[metric].median()
    summary["avg_order_value"] = summary["revenue"] / summary["orders"]
    ranked = [s for s in dict.fromkeys(order) if s in summary.index] + sorted(s for s in summary.index if s not in order)
    columns = ["customers", "share", "revenue", "revenue_share"] + [
        f"{stat}_{metric}" for metric in (schema.RECENCY, schema.FREQUENCY, schema.MONETARY) for stat in ("mean", "median")
    ] + ["avg_order_value"]
    return summary.loc[ranked, columns].rename_axis(by)
