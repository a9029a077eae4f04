"""A random control group per audience, and what a later run says about it.

:func:`hold_out` draws the customers held back from a campaign: a share of the audience, chosen by a seeded hash of
each customer id, so that the same audience, share and seed always hold back the same people, whatever the order of
the list. :func:`compare_groups` then reads a later run of the same name and compares the customers contacted with
those held back: how many bought again after the audience's run, and what they spent since.

Definitions (stated on every page that shows them):

- **bought again**: the customer's last purchase in the later run is later than their last purchase in the run the
  audience was chosen from (so any purchase after the audience's data ended counts, whatever the analysis dates). A
  customer missing from the later run counts as not bought (a later file that leaves out customers who did not buy
  is the usual reason).
- **spend since**: the customer's spend in the later run minus their spend in the audience's run (0 for one missing
  from the later run). It is only shown when the later run's history starts no later than the audience's run, so
  that the later total includes the earlier one; otherwise it would mix in a different window and is left out.
- **lift**: the contacted group's bought-again rate minus the held-back group's, in percentage points, with the
  two-sided p-value of a two-proportion z-test (pooled), which says how often a lift at least this large would appear
  by chance if the campaign did nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError

CONTACTED, HELD_BACK = "Contacted", "Held back"
#: The largest share that may be held back: a control group larger than the contacted group wastes the campaign.
MAX_CONTROL_SHARE = 0.5


def hold_out(customer_ids: pd.Index | list[str], share: float, seed: int) -> pd.Series:
    """Whether each customer is held back (``True``) or contacted (``False``).

    ``round(share × customers)`` customers are held back: those with the smallest SHA-256 of ``"{seed}:{id}"``. The
    draw does not depend on the list's order, and a customer's chance is the same for every customer.

    Raises
    ------
    RFMInputError
        A share outside (0, 0.5].

    Examples
    --------
    >>> held = hold_out(["a", "b", "c", "d"], 0.5, seed=7)
    >>> int(held.sum()), held.equals(hold_out(["d", "c", "b", "a"], 0.5, seed=7).reindex(held.index))
    (2, True)
    """
    if not 0 < share <= MAX_CONTROL_SHARE:
        raise RFMInputError(
            f"A control group holds back between 0% and {MAX_CONTROL_SHARE:.0%} of the audience; {share:.0%} was asked."
        )
    ids = pd.Index([str(customer) for customer in customer_ids], name=schema.CUSTOMER_ID)
    keys = [hashlib.sha256(f"{int(seed)}:{customer}".encode()).digest() for customer in ids]
    count = round(share * len(ids))
    held = np.zeros(len(ids), dtype="bool")
    held[np.argsort(np.array(keys, dtype=object), kind="stable")[:count]] = True
    return pd.Series(held, index=ids, name="held_back")


def control_note(customers: int, held_back: int) -> str | None:
    """A warning when a control group is too small to tell anything (fewer than 30 held back), else ``None``."""
    if held_back == 0:
        return f"A control group of {customers:,} customers rounds to nobody held back: choose a larger share or audience."
    if held_back < 30:
        return (
            f"Only {held_back:,} customers are held back: a later comparison will be very uncertain (at least 30, better a "
            "few hundred, are needed to see a lift of a few points)."
        )
    return None


@dataclass(frozen=True, eq=False)
class ControlComparison:
    """Contacted against held back in a later run: ``table`` has one row per group (``Contacted``, ``Held back``)
    with ``customers``, ``in_later_run``, ``bought_again``, ``bought_again_rate`` and, when measurable,
    ``spend_since`` and ``spend_since_per_customer``; ``lift`` is the difference of the bought-again rates (contacted −
    held back) and ``p_value`` its two-sided p-value (``NaN`` when a group is empty); ``notes`` say what was left out."""

    table: pd.DataFrame
    lift: float
    p_value: float
    since: dt.date
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One sentence: the lift, and whether chance explains it."""
        if math.isnan(self.lift):
            return "No comparison: one of the groups is empty."
        rates = self.table["bought_again_rate"]
        verdict = "unlikely to be chance" if self.p_value < 0.05 else "could well be chance"
        return (
            f"Since {self.since:%Y-%m-%d}, {rates[CONTACTED]:.1%} of the contacted customers bought again against "
            f"{rates[HELD_BACK]:.1%} of those held back: a lift of {self.lift * 100:+.1f} points "
            f"(p = {self.p_value:.3f}, {verdict})."
        )


def compare_groups(held_back: pd.Series, base: pd.DataFrame, later: pd.DataFrame, since: dt.date) -> ControlComparison:
    """Compare the contacted customers of an audience with those held back, in a later run.

    Parameters
    ----------
    held_back : Series of bool
        The audience's customers (index: customer id) and whether each was held back (:func:`hold_out`).
    base : DataFrame
        The customers of the run the audience was chosen from (``last_purchase``, ``monetary``, ``first_purchase``).
    later : DataFrame
        The customers of a later run (the same columns).
    since : date
        The analysis date of the audience's run (said in the summary).
    """
    ids = held_back.index.astype(str)
    found = ids.isin(later.index.astype(str))
    last = pd.to_datetime(later[schema.LAST_PURCHASE]).reindex(ids)
    before = pd.to_datetime(base[schema.LAST_PURCHASE]).reindex(ids)
    bought = (last > before).to_numpy() & found
    notes: list[str] = []
    spend = None
    if _later_history_covers(base, later):
        spend = (later[schema.MONETARY].reindex(ids).fillna(0.0) - base[schema.MONETARY].reindex(ids).fillna(0.0)).clip(lower=0.0).to_numpy()
    else:
        notes.append(
            "Spend since is left out: the later run's history starts after the audience's run did, so its totals are "
            "not comparable."
        )
    if (~found).any():
        notes.append(f"{int((~found).sum()):,} of the audience's customers are not in the later run; they count as not bought.")
    rows = {}
    for group, mask in ((CONTACTED, ~held_back.to_numpy(dtype="bool")), (HELD_BACK, held_back.to_numpy(dtype="bool"))):
        size = int(mask.sum())
        row = {
            "customers": size,
            "in_later_run": int((found & mask).sum()),
            "bought_again": int((bought & mask).sum()),
            "bought_again_rate": float((bought & mask).sum() / size) if size else math.nan,
        }
        if spend is not None:
            row["spend_since"] = float(spend[mask].sum())
            row["spend_since_per_customer"] = float(spend[mask].mean()) if size else math.nan
        rows[group] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    lift, p_value = _two_proportion_test(table)
    return ControlComparison(table, lift, p_value, since, tuple(notes))


def _later_history_covers(base: pd.DataFrame, later: pd.DataFrame) -> bool:
    if schema.FIRST_PURCHASE not in base.columns or schema.FIRST_PURCHASE not in later.columns or base.empty or later.empty:
        return False
    return bool(pd.to_datetime(later[schema.FIRST_PURCHASE]).min() <= pd.to_datetime(base[schema.FIRST_PURCHASE]).min())


def _two_proportion_test(table: pd.DataFrame) -> tuple[float, float]:
    """The difference of the bought-again rates (contacted − held back) and its two-sided pooled z-test p-value."""
    n1, n2 = int(table.at[CONTACTED, "customers"]), int(table.at[HELD_BACK, "customers"])
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    x1, x2 = int(table.at[CONTACTED, "bought_again"]), int(table.at[HELD_BACK, "bought_again"])
    lift = x1 / n1 - x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return lift, 1.0
    return lift, math.erfc(abs(lift) / spread / math.sqrt(2))
