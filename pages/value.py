"""Value page: who is likely still a customer, how much they will buy, and what they are worth (predictive CLV)."""

import math

import streamlit as st

import ui
from rfm import schema
from rfm.outputs.charts import holdout_figure, value_box, value_heatmap
from rfm.outputs.files import csv_bytes, export_file_name
from rfm.outputs.lists import SPLITS, segment_sizes, with_values
from rfm.schema import PURCHASE_MODEL_CHOICES
from rfm.trends.timeline import date_range
from rfm.value.predict import alive_matrix, churn_band_counts, purchases_matrix, value_by_segment

ui.require_router()
st.title("Value")
st.caption(
    "Classic models, fitted by maximum likelihood on this file's orders: for how often each customer buys and whether "
    "they are still a customer, BG/NBD (Fader, Hardie & Lee 2005), MBG/NBD (Batislam, Denizel & Filiztekin 2007) and "
    "Pareto/NBD (Schmittlein, Morrison & Colombo 1987), compared on a holdout check; for how much they spend per "
    "order, Gamma-Gamma (Fader & Hardie 2013). Together they give each customer's probability of being alive (and of "
    "having churned), expected purchases, the expected date of the next order and a predicted lifetime value."
)
with st.spinner("Fitting the clusters and labelling every customer…"):  # the k-sweep and fit, if not made yet
    run = ui.current_run()
settings = ui.current_value_settings()

model_column, horizon_column, months_column, discount_column, margin_column = st.columns([1.4, 1, 1, 1, 1])
chosen = model_column.selectbox(
    "Purchase model", list(PURCHASE_MODEL_CHOICES), list(PURCHASE_MODEL_CHOICES).index(settings.purchase_model),
    format_func=PURCHASE_MODEL_CHOICES.get, key="value_model",
    help="Auto uses the model whose predictions of the last third of the history, fitted without it, miss the least "
    "(the lowest BIC when the history is too short to hold any out). The Models tab compares them.",
)
horizon = horizon_column.slider("Expected purchases over the next (days)", 7, 365, settings.horizon_days, step=1, key="value_horizon")
months = months_column.slider("CLV over the next (months)", 1, 36, settings.months, key="value_months")
discount = discount_column.slider(
    "Yearly discount rate", 0.0, 0.30, settings.annual_discount_rate, step=0.01, format="%.2f", key="value_discount",
    help="Future revenue is worth less today: 0.10 discounts it by 10% a year.",
)
margin = margin_column.number_input(
    "Profit margin", 0.01, 1.0, settings.margin, step=0.01, format="%.2f", key="value_margin",
    help="Share of revenue that is profit; 1.00 gives CLV as revenue.",
)
ui.update_value_settings(purchase_model=chosen, horizon_days=horizon, months=months, annual_discount_rate=discount, margin=margin)
settings = ui.current_value_settings()
with st.spinner("Fitting BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma…"):
    model = ui.current_value_model()
st.markdown(f"**Purchase model: {model.purchase_model_name}.** {model.why()}")
for warning in model.warnings:
    st.warning(warning)
values = ui.current_values()
labelled = with_values(run.labelled, values)

metrics = st.columns(4)
metrics[0].metric("Customers", f"{len(values):,}")
metrics[1].metric("Likely still customers", f"{values[schema.P_ALIVE].mean():.0%}", help="Mean P(alive).")
metrics[2].metric(f"Purchases expected in {horizon} days", f"{values[schema.EXPECTED_PURCHASES].sum():,.0f}")
clv_total = values[schema.PREDICTED_CLV].sum(min_count=1)
metrics[3].metric(f"Predicted CLV, {months} months", "–" if math.isnan(clv_total) else ui.money(clv_total))
bands = churn_band_counts(values)
risk = st.columns(3)
for column, (band, customers) in zip(risk, bands.items()):
    column.metric(
        f"{band} churn risk", f"{customers:,}", f"{customers / max(len(values), 1):.0%} of customers", delta_color="off", delta_arrow="off"
    )
unjudged = int(values[schema.CHURN_PROBABILITY].isna().sum())
st.caption(
    f"Per customer: {settings.describe()}. Churn risk: the probability a customer has stopped buying (1 − P(alive)), "
    f"Low under 30%, High over 70%. Fitted on orders up to {model.observation_end}, time in days."
    + (f" {unjudged:,} customers without a repeat order have no churn risk: {model.purchase_model_name} calls them alive "
       "by construction (its customers can stop only after buying again). Choose MBG/NBD or Pareto/NBD to judge them, "
       "or see their lifecycle stage on the RFM page." if unjudged else "")
)

# Stateful tabs: the chosen one stays chosen, and the holdout check (a second fit) runs only when it is open.
segments_tab, customers_tab, alive_tab, purchases_tab, holdout_tab, model_tab = st.tabs(
    ["CLV by segment", "Customers", "P(alive)", "Expected purchases", "Holdout check", "Models"], key="value_tab", on_change="rerun"
)
with segments_tab:
    split = st.radio("Segments", list(SPLITS), format_func=SPLITS.get, horizontal=True, key="value_split")
    if values[schema.PREDICTED_CLV].isna().all():
        st.info("No spend model was fitted, so there is no CLV in money (see the warning above).")
    else:
        order = list(segment_sizes(labelled, split)["name"])
        st.plotly_chart(
            value_box(values[schema.PREDICTED_CLV], labelled[split], order, f"Predicted CLV over {months} months per segment", "predicted CLV (log scale)"),
            width="stretch", key="value_box",
        )
        table = value_by_segment(values, labelled[split])
        st.dataframe(
            table, width="stretch", key="value_segments",
            column_config={name: st.column_config.NumberColumn(format="%.2f") for name in ("total", "mean", "median")},
        )
with customers_tab:
    shown = labelled.sort_values(schema.PREDICTED_CLV, ascending=False, na_position="last")
    columns = [
        "segment_name", schema.PREDICTED_CLV, schema.P_ALIVE, schema.CHURN_RISK, schema.EXPECTED_PURCHASES,
        schema.PREDICTED_ORDERS_365D, schema.EXPECTED_NEXT_ORDER, schema.AVG_DAYS_BETWEEN_ORDERS, schema.EXPECTED_ORDER_VALUE,
        schema.RECENCY, schema.FREQUENCY, schema.MONETARY, "rfm_segment",
    ]
    st.dataframe(
        shown[[c for c in columns if c in shown.columns]], width="stretch", height=420, key="value_customers",
        column_config={
            schema.P_ALIVE: st.column_config.ProgressColumn("P(alive)", format="percent", min_value=0.0, max_value=1.0, width="small"),
            schema.EXPECTED_PURCHASES: st.column_config.NumberColumn(f"purchases in {horizon} days", format="%.2f"),
            schema.EXPECTED_ORDER_VALUE: st.column_config.NumberColumn("expected order value", format="%.2f"),
            schema.PREDICTED_CLV: st.column_config.NumberColumn(f"CLV {months} months", format="%.2f"),
            schema.MONETARY: st.column_config.NumberColumn(format="%.2f"),
            schema.CHURN_RISK: st.column_config.TextColumn("churn risk", width="small"),
            schema.PREDICTED_ORDERS_365D: st.column_config.NumberColumn("orders in 365 days", format="%.2f"),
            schema.EXPECTED_NEXT_ORDER: st.column_config.DateColumn("expected next order", format="YYYY-MM-DD"),
            schema.AVG_DAYS_BETWEEN_ORDERS: st.column_config.NumberColumn("days between orders", format="%.0f"),
        },
    )
    st.download_button(
        f"Every customer with their predicted value ({len(labelled):,}, CSV)", data=lambda: csv_bytes(labelled),
        file_name=export_file_name("customer-value", run.analysis.report.analysis_date, "csv"), mime="text/csv",
        on_click="ignore", icon=":material/download:", key="value_download",
    )
with alive_tab:
    st.plotly_chart(
        value_heatmap(alive_matrix(model), "Probability a customer is still active", "P(alive)", share=True),
        width="stretch", key="value_alive",
    )
    st.caption(
        f"For a customer whose first purchase was {model.summary['T'].max():,.0f} days ago (the longest tenure here). "
        "More repeat purchases with a long silence since the last one make a customer likely gone"
        + ("; BG/NBD counts a customer who never bought again as alive until they do." if model.purchase_model == "bgnbd" else ".")
    )
with purchases_tab:
    st.plotly_chart(
        value_heatmap(purchases_matrix(model, horizon), f"Expected purchases in the next {horizon} days", "purchases"),
        width="stretch", key="value_purchases",
    )
    st.caption("The frequency/recency matrix: the best customers bought often and recently (top right).")
with holdout_tab:
    period = (model.observation_end - date_range(run.analysis.orders)[0]).days
    days = st.slider(
        "Hold out the last (days)", 7, max(8, period - 30), min(max(7, period // 3), max(8, period - 30)), key="value_holdout_days",
        help="The model is fitted on the orders before these days and predicts them; compare with what happened.",
    )
    # This tab's own message when the check cannot be made: the other tabs stay as they are.
    check = ui.shown_or_none(lambda: ui.current_holdout(days, model.purchase_model), too_little_data=True) if holdout_tab.open else None
    if check is not None:
        st.plotly_chart(holdout_figure(check), width="stretch", key="value_holdout")
        share = check.predicted_total / check.actual_total - 1 if check.actual_total else float("nan")
        st.markdown(
            f"Over the {days:,} held-out days customers made **{check.actual_total:,.0f}** repeat purchases; {model.purchase_model_name}, "
            f"fitted without them, predicted **{check.predicted_total:,.0f}** ({share:+.0%}). Per customer the group means "
            f"miss by {check.error:.2f} purchases on average. Trust the predictions where the bars agree."
        )
        st.dataframe(check.table, hide_index=True, width="stretch", key="value_holdout_table")
with model_tab:
    if model.selection is not None:
        comparison = model.selection.table()
        comparison.insert(1, "used", comparison["model"] == model.purchase_model_name)
        st.dataframe(
            comparison, hide_index=True, width="stretch", key="value_comparison",
            column_config={
                "log_likelihood": st.column_config.NumberColumn("log-likelihood", format="%.1f"),
                "bic": st.column_config.NumberColumn("BIC", format="%.1f", help="Lower is better: all three have four parameters."),
                "holdout_error": st.column_config.NumberColumn(
                    "holdout error", format="%.3f",
                    help="Fitted without the last days, how far each model's predictions of them miss, in purchases per customer.",
                ),
                **{name: st.column_config.NumberColumn(format="%.4g") for name in ("r", "alpha", "a", "b", "s", "beta")},
            },
        )
        st.markdown(f"**Used: {model.purchase_model_name}.** {model.why()}")
        for warning in model.selection.warnings:
            st.caption(warning)
    st.dataframe(model.parameters(), hide_index=True, width="stretch", key="value_parameters")
    st.markdown(
        "- **BG/NBD**: while alive, a customer buys at a rate drawn from Gamma(r, α) (per day); after each repeat "
        "purchase they drop out with a probability drawn from Beta(a, b), so a customer who never bought again is "
        "alive.\n"
        "- **MBG/NBD**: as BG/NBD, but a customer may also drop out right after the first purchase, so one-time "
        "buyers can be gone.\n"
        "- **Pareto/NBD**: a customer buys at a rate from Gamma(r, α) and drops out at any time, after a lifetime "
        "drawn from an exponential whose rate comes from Gamma(s, β).\n"
        "- **Gamma-Gamma**: a customer's average order value varies around their own mean, drawn from a Gamma "
        "distribution with p, q, γ (v); it assumes spend does not depend on how often they buy.\n"
        "- Purchases on the same day count as one; the first purchase starts a customer's clock. The implementation "
        "reproduces the published CDNOW figures of BG/NBD, Gamma-Gamma and Pareto/NBD (tests/value)."
    )
