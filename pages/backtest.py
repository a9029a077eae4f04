"""Backtest page: does this segmentation predict what customers do next? Fitted on the history up to a cut, measured
on the days after it."""

import datetime as dt

import streamlit as st

import ui
from rfm.backtest.run import DEFAULT_HOLDOUT_DAYS, MAX_HOLDOUT_DAYS
from rfm.outputs.charts import GAINS_TARGETS, gains_figure
from rfm.schema import ALGORITHMS

ui.require_router()
st.title("Backtest")
st.caption(
    "Does this segmentation predict next quarter? The history is cut the chosen number of days before its last date. "
    "Scores, rule segments, clusters (with this session's settings) and the purchase models are fitted on the orders "
    "up to the cut only; then each is judged on what the customers did after it, which none of them saw."
)
holdout_days = st.number_input(
    "Holdout (days before the last date)", 1, MAX_HOLDOUT_DAYS, DEFAULT_HOLDOUT_DAYS, step=1, key="backtest_holdout_days",
    help="The last N days are held out: everything is fitted on the days before them and judged on them.",
)
with st.spinner("Cutting the history and fitting scores, clusters and purchase models on the part before the cut…"):
    result = ui.shown_or_none(lambda: ui.current_backtest(int(holdout_days)), too_little_data=True)
if result is None:
    st.stop()

clusters = (
    "" if result.k is None
    else f"; {result.k} clusters with {ALGORITHMS.get(result.algorithm, result.algorithm)}, the k picked on the Clusters page or "
    "else the sweep's at the cut"
)
st.caption(
    f"Cut on **{result.cut}**: fitted on the orders up to and including that day ({result.customers_at_cut:,} customers "
    f"had ordered by then{clusters}), judged on their orders from {result.cut + dt.timedelta(days=1)} to "
    f"{result.last_day}. Customers whose first order came after the cut are not counted."
)
cards = st.columns(3)
cards[0].metric("Customers at the cut", f"{result.customers_at_cut:,}", help="Customers with an order on or before the cut.")
cards[1].metric(
    "Bought again after it", f"{result.bought_again:,} ({result.bought_again_rate:.1%})",
    help="Of the customers at the cut, those with at least one order after it.",
)
cards[2].metric("Their revenue after the cut", ui.money(result.revenue_after))

st.success(result.verdict(), icon=":material/verified:")
below = result.model_below_rfm()
if below is not None:
    st.warning(below, icon=":material/warning:")
for warning in result.warnings:
    st.caption(warning)

st.subheader("Rankings")
rankings = result.rankings.reset_index(drop=True).rename(columns={"label": "ordering"})
rankings["top20_revenue_share"] = (rankings["top20_revenue_share"] * 100).round(1)
st.dataframe(
    rankings, hide_index=True, width="stretch", key="backtest_rankings",
    column_config={
        "auc": st.column_config.NumberColumn(
            "AUC (bought again)", format="%.3f",
            help="The chance that a customer who bought again is ranked above one who did not (0.5: no better than chance).",
        ),
        "top20_revenue_share": st.column_config.NumberColumn(
            "Top 20%'s share of revenue", format="%.1f%%", help="Share of the revenue after the cut held by the best 20% by this ordering.",
        ),
    },
)
of = st.radio("Gains of", list(GAINS_TARGETS), format_func=GAINS_TARGETS.get, horizontal=True, key="backtest_gains_of")
st.plotly_chart(gains_figure(result, of), width="stretch", key="backtest_gains")
st.caption("The further a line bows above the dashed diagonal (customers in a random order), the better that ordering predicts.")

st.subheader("Per segment")
segments = result.segments.assign(
    kind=result.segments["kind"].map({"rfm": "RFM segment", "cluster": "Cluster"}),
    bought_again_rate=(result.segments["bought_again_rate"] * 100).round(1),
    revenue_per_customer=result.segments["revenue_per_customer"].round(2),
)
st.dataframe(
    segments, hide_index=True, width="stretch", key="backtest_segments", height=35 * (len(segments) + 1) + 3,
    column_config={
        "kind": "kind",
        "customers": st.column_config.NumberColumn("customers at the cut", format="localized"),
        "bought_again_rate": st.column_config.NumberColumn("bought again", format="%.1f%%"),
        "revenue_per_customer": ui.fitted_number_column(segments["revenue_per_customer"], "revenue per customer after"),
        "lift": st.column_config.NumberColumn("lift", format="%.2f", help="The segment's bought-again rate divided by every customer's."),
    },
)
