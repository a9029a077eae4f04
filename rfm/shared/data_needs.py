"""How much data each step needs: the thresholds in one place, and the message that says what is missing.

In: nothing (constants), or a threshold and what the data has. Out: the sentence a user sees, and the
:class:`~rfm.errors.TooLittleDataError` that carries it. Every step may use this module; it uses none of them.

Each step that needs more data than it has raises :class:`~rfm.errors.TooLittleDataError` (a
:class:`~rfm.errors.RFMInputError`), whose message names the threshold, the count the data has and how many
more are missing; the app shows it as a warning and shows no fitted model, the CLI prints it and exits with 2.
"""

from __future__ import annotations

from rfm.errors import TooLittleDataError

#: Fewest customers a purchase model (BG/NBD, MBG/NBD, Pareto/NBD) is fitted on: each has four parameters, and a
#: handful of customers cannot pin four down.
MIN_MODEL_CUSTOMERS = 10
#: Fewest repeat buyers with a positive spend the spend model (Gamma-Gamma) is fitted on: it has three
#: parameters and learns only from customers who bought again, so it needs as many of them as a purchase model
#: needs customers.
MIN_REPEAT_BUYERS = 10
#: Fewest days from the first order to the end of the data for the holdout check: one day to fit on and at
#: least one day to hold out.
MIN_HOLDOUT_SPAN_DAYS = 2
#: Fewest customers with an order on or before a backtest's cut: below 20, one customer is 5% or more of those
#: ranked, so the AUC and the top-20% revenue share swing with a single customer.
MIN_CUSTOMERS_AT_CUT = 20
#: Fewest customers in a cohort before a warning says its shares are fragile: below 20, one customer moves a
#: cohort's retention by 5 points or more.
MIN_COHORT_CUSTOMERS = 20
#: Fewest calendar months with data for cohort retention: a first month, and one after it.
MIN_COHORT_MONTHS = 2
#: Fewest distinct customers (distinct feature rows) for clustering: the silhouette needs at least two clusters
#: and fewer clusters than points.
MIN_DISTINCT_CUSTOMERS_TO_CLUSTER = 3
#: Fewest repeat customers (two orders or more) whose gaps between orders set the lifecycle stages' thresholds:
#: the long gap is their 90th percentile, and below 20 customers that is set by the one or two longest gaps alone.
#: With fewer, the stages use fixed default thresholds and a warning says they are not the store's own figures.
MIN_REPEAT_CUSTOMERS_FOR_STAGES = 20


def more_needed(threshold: int, have: int) -> str:
    """``"(13 more needed)"``: the shortfall between ``have`` and ``threshold``, said in words."""
    return f"({max(threshold - have, 0):,} more needed)"


def too_little(subject: str, threshold: int, what: str, have: int, *, advice: str = "") -> TooLittleDataError:
    """The error to raise when ``have`` is under ``threshold``.

    >>> str(too_little("BG/NBD", 10, "customers to fit", 7))
    'BG/NBD needs at least 10 customers to fit; got 7 (3 more needed).'
    """
    message = f"{subject} needs at least {threshold:,} {what}; got {have:,} {more_needed(threshold, have)}."
    return TooLittleDataError(f"{message} {advice}" if advice else message)


__all__ = [
    "MIN_COHORT_CUSTOMERS",
    "MIN_COHORT_MONTHS",
    "MIN_CUSTOMERS_AT_CUT",
    "MIN_DISTINCT_CUSTOMERS_TO_CLUSTER",
    "MIN_HOLDOUT_SPAN_DAYS",
    "MIN_MODEL_CUSTOMERS",
    "MIN_REPEAT_BUYERS",
    "MIN_REPEAT_CUSTOMERS_FOR_STAGES",
    "TooLittleDataError",
    "more_needed",
    "too_little",
]
