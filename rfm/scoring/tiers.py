"""Outlier tiers: customers far above the rest in spend and/or orders are flagged, never dropped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError

REGULAR = "Regular"
HIGH_SPENDER = "High Spender"  # monetary above its fence only
POWER_SHOPPER = "Power Shopper"  # frequency above its fence only
ELITE_VIP = "Elite VIP"  # both
TIERS = (ELITE_VIP, HIGH_SPENDER, POWER_SHOPPER, REGULAR)
#: Cluster labels of the outlier tiers when they stay out of the fit as their own groups (-1 is noise).
TIER_GROUP_LABELS = {ELITE_VIP: -2, HIGH_SPENDER: -3, POWER_SHOPPER: -4}
DEFAULT_IQR_MULTIPLIER = 1.5


@dataclass(frozen=True)
class Fence:
    """The IQR fence of one metric: values above ``fence = q3 + multiplier × (q3 − q1)`` are outliers."""

    metric: str
    q1: float
    q3: float
    multiplier: float
    customers_above: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def fence(self) -> float:
        return self.q3 + self.multiplier * self.iqr


@dataclass(frozen=True)
class TierResult:
    """A tier per customer and the two fences behind it."""

    tiers: pd.Series  # indexed like the RFM table
    monetary: Fence
    frequency: Fence

    def counts(self) -> pd.Series:
        return self.tiers.value_counts().reindex(list(TIERS), fill_value=0)


def check_multiplier(multiplier: float) -> float:
    """Validate an IQR multiplier: a number >= 0 (NaN is refused too: it would flag nobody, silently)."""
    if not multiplier >= 0:
        raise RFMInputError(f"IQR multiplier={multiplier} should be a number >= 0.")
    return float(multiplier)


def fence_of(values: pd.Series, metric: str, multiplier: float) -> Fence:
    q1, q3 = (float(v) for v in values.quantile([0.25, 0.75]))
    fence = q3 + multiplier * (q3 - q1)
    return Fence(metric=metric, q1=q1, q3=q3, multiplier=multiplier, customers_above=int((values > fence).sum()))


def outlier_tiers(table: pd.DataFrame, multiplier: float = DEFAULT_IQR_MULTIPLIER) -> TierResult:
    """Flag customers above the IQR fence (Q3 + multiplier·IQR) in monetary and/or frequency.

    Parameters
    ----------
    table : DataFrame
        The RFM table, indexed by customer id.
    multiplier : float
        The fence's IQR multiplier (1.5 is Tukey's; 3 keeps only extreme outliers).

    Returns
    -------
    TierResult
        ``tiers``: "Elite VIP" (both above), "High Spender" (monetary only), "Power Shopper"
        (frequency only) or "Regular". Nobody is removed.
    """
    multiplier = check_multiplier(multiplier)
    monetary = fence_of(table[schema.MONETARY], schema.MONETARY, multiplier)
    frequency = fence_of(table[schema.FREQUENCY], schema.FREQUENCY, multiplier)
    tiers = tiers_above(table, monetary.fence, frequency.fence)
    return TierResult(tiers=tiers, monetary=monetary, frequency=frequency)


def tiers_above(table: pd.DataFrame, monetary_fence: float, frequency_fence: float) -> pd.Series:
    """The tier of each customer of an RFM table, given the two fences (a saved model's, or this table's)."""
    tiers = tier_array(table[schema.MONETARY].to_numpy(), table[schema.FREQUENCY].to_numpy(), monetary_fence, frequency_fence)
    return pd.Series(tiers, index=table.index, dtype="str")


def tier_array(monetary: np.ndarray, frequency: np.ndarray, monetary_fence: float, frequency_fence: float) -> np.ndarray:
    """:func:`tiers_above` on plain arrays (an object array of tier names)."""
    spends = monetary > monetary_fence
    shops = frequency > frequency_fence
    return np.select(
        [spends & shops, spends, shops], [ELITE_VIP, HIGH_SPENDER, POWER_SHOPPER], default=REGULAR
    ).astype(object)
