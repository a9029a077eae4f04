"""RFM page: one row per customer, with the distributions of recency, frequency and monetary value."""

import streamlit as st

import ui
from rfm import schema
from rfm.charts import distribution_figure
from rfm.table import CLV_FORMULA, repeat_rate

ui.require_router()
st.title("RFM table")
result = ui.current_analysis()
table = result.customers
dataset = ui.current_dataset()
st.caption(
    f"{'Demo data' if dataset.is_demo else dataset.name}: {len(table):,} customers. Recency is counted in whole days "
    f"from each customer's last purchase to the analysis date, {result.report.analysis_date}; frequency is the number "
    "of distinct invoices; monetary is the sum of line values after cleaning."
)

metrics = st.columns(4)
metrics[0].metric("Customers", f"{len(table):,}")
metrics[1].metric("Median recency", f"{table[schema.RECENCY].median():,.0f} days")
metrics[2].metric("Median frequency", f"{table[schema.FREQUENCY].median():,.0f} invoices")
metrics[3].metric("Median monetary", ui.money(table[schema.MONETARY].median()))

st.markdown("#### Distributions")
log_scale = st.toggle("Log scale (for skewed values)", value=True, key="log_scale")
charts = st.columns(3)
for chart_column, column in zip(charts, (schema.RECENCY, schema.FREQUENCY, schema.MONETARY)):
    chart_column.plotly_chart(distribution_figure(table, column, log_scale), width="stretch", key=f"hist_{column}")

st.markdown("#### Customers")
query = st.text_input("Search customer id", key="search", placeholder="e.g. 12346")
shown = table[table.index.str.contains(query.strip(), case=False, regex=False)] if query.strip() else table
st.caption(f"{len(shown):,} of {len(table):,} customers. Click a column header to sort.")
st.dataframe(
    shown,
    width="stretch",
    column_config={
        schema.RECENCY: st.column_config.NumberColumn(schema.RFM_LABELS[schema.RECENCY], format="%d"),
        schema.FREQUENCY: st.column_config.NumberColumn(schema.RFM_LABELS[schema.FREQUENCY], format="%d"),
        schema.MONETARY: st.column_config.NumberColumn(schema.RFM_LABELS[schema.MONETARY], format="%.2f"),
        schema.FIRST_PURCHASE: st.column_config.DatetimeColumn(schema.RFM_LABELS[schema.FIRST_PURCHASE], format="YYYY-MM-DD HH:mm"),
        schema.LAST_PURCHASE: st.column_config.DatetimeColumn(schema.RFM_LABELS[schema.LAST_PURCHASE], format="YYYY-MM-DD HH:mm"),
        schema.TENURE: st.column_config.NumberColumn(schema.RFM_LABELS[schema.TENURE], format="%d"),
        schema.AVG_ORDER_VALUE: st.column_config.NumberColumn(schema.RFM_LABELS[schema.AVG_ORDER_VALUE], format="%.2f"),
        schema.HISTORICAL_CLV: st.column_config.NumberColumn(schema.RFM_LABELS[schema.HISTORICAL_CLV], format="%.2f"),
    },
    key="rfm_table",
)

with st.expander("How the historical CLV is computed"):
    choices = ui.current_choices()
    st.write(CLV_FORMULA)
    rate = repeat_rate(table[schema.FREQUENCY])
    st.write(f"Here the repeat-purchase rate is {rate:.1%}, so the churn rate is {1 - rate:.1%}.")
    margin = st.number_input(
        "Profit margin", min_value=0.0, max_value=1.0, value=choices.profit_margin, step=0.01, format="%.2f", key="profit_margin"
    )
    if margin != choices.profit_margin:
        ui.update_choices(profit_margin=margin)
        st.rerun()
