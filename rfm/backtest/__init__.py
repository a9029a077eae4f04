"""Backtest: the order table and the session's settings in; whether the segments and rankings predict the next
months out. The history is cut some days before its last date; scores, rule segments, clusters and every purchase
model are fitted on the orders up to the cut, and what customers did after it is measured per segment and per
ordering (AUC for "bought again", the top 20%'s share of revenue, cumulative gains), with a verdict. Uses:
``rfm.cleaning``, ``rfm.scoring``, ``rfm.clustering``, ``rfm.trends`` (the RFM table as of the cut) and
``rfm.value`` (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma).
"""

from rfm._exports import lazy_exports

__all__ = [
    "Backtest",
    "BacktestSettings",
    "auc",
    "backtest",
    "gains_curve",
    "segment_outcomes",
    "top_share",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Backtest": "run",
        "BacktestSettings": "run",
        "backtest": "run",
        "auc": "measures",
        "gains_curve": "measures",
        "segment_outcomes": "measures",
        "top_share": "measures",
    },
)
