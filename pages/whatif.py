"""What-if page: move one customer's recency, frequency and spend and see, at once, where the model puts them."""

import math
import time

import pandas as pd
import streamlit as st

import ui
from rfm import schema
from rfm.bundle.whatif import customer_values, input_ranges, levers, moves_up, predict
from rfm.outputs.charts import distance_bars, pca_scatter, with_point
from rfm.value.predict import what_if_value

ui.require_router()
st.title("What if")
st.caption(
    "Set a customer's recency, frequency and spend (and the model's other features) and see which segment the "
    "model puts them in, how far they are from every segment, their RFM scores, and the smallest change that "
    "would move them up."
)

with st.spinner("Fitting the clusters and labelling every customer…"):  # the k-sweep and fit, if not made yet
    run = ui.current_run()
bundle, customers, model_key = run.bundle, run.analysis.customers, "session"
saved = ui.saved_model()
if saved is not None:
    source = st.radio(
        "Model", ["session", "saved"], horizontal=True, key="whatif_model",
        format_func={"session": "This session's segments", "saved": f"Uploaded model ({saved.name})"}.get,
    )
    if source == "saved":
        bundle, model_key = ui.saved_bundle(), saved.digest
if model_key == "session":
    for warning in run.clusters.warnings:
        st.warning(warning)
features = levers(bundle)
ranges = input_ranges(customers, features)
lifecycle = bundle.lifecycle_for(customers)  # the model's thresholds (an older model's: this file's)

customer_id = st.text_input("Start from a customer id (empty: the median customer)", key="whatif_customer").strip()
if customer_id and customer_id not in customers.index:
    st.warning(f"No customer {customer_id!r} in {run.analysis.read_info.file_name}; starting from the median customer.")
    customer_id = ""
start = customer_values(customers, customer_id, features) if customer_id else {f: ranges[f].median for f in features}
start_key = (model_key, ui.current_dataset().digest, customer_id)


def _set(feature: str, value: float) -> None:
    """Put both inputs of ``feature`` at ``value`` (the slider clamped to its range)."""
    bounds = ranges[feature]
    value = round(value) if bounds.whole else round(float(value), 2)
    st.session_state[f"whatif_number_{feature}"] = value
    st.session_state[f"whatif_slider_{feature}"] = min(max(value, type(value)(bounds.low)), type(value)(bounds.high))


if st.session_state.get("whatif_start") != start_key or any(f"whatif_number_{f}" not in st.session_state for f in features):
    for feature, value in start.items():
        _set(feature, value)
    st.session_state["whatif_start"] = start_key

if model_key == "session":
    projection, labels = run.clusters.projection, run.clusters.customers["cluster"]
else:  # the uploaded model places this file's customers itself (and says so if it cannot)
    projection, labels = ui.guarded(lambda: (bundle.projection(customers), bundle.score(customers)["cluster"]))
value_model, value_settings = ui.value_model_or_none(), ui.current_value_settings()
start_tenure = float(customers.loc[customer_id, schema.TENURE] if customer_id else customers[schema.TENURE].median())
background = pca_scatter(projection, labels, bundle.names["name"], customers, max_points=2_500).to_dict()


@st.fragment
@ui.safely
def panel() -> None:
    """Reruns on its own when a slider moves: only this panel is recomputed and redrawn."""
    started = time.perf_counter()
    inputs, answer = st.columns([2, 3])
    values = {}
    with inputs:
        for feature in features:
            bounds = ranges[feature]
            cast = int if bounds.whole else float
            label = schema.RFM_LABELS[feature]
            slide, number = st.columns([3, 2])
            slide.slider(
                label, cast(bounds.low), cast(bounds.high), step=cast(bounds.step), key=f"whatif_slider_{feature}",
                on_change=lambda f=feature: _set(f, st.session_state[f"whatif_slider_{f}"]),
            )
            number.number_input(
                label, min_value=cast(min(0, bounds.low)), step=cast(bounds.step), key=f"whatif_number_{feature}",
                on_change=lambda f=feature: _set(f, st.session_state[f"whatif_number_{f}"]),
                label_visibility="hidden", help="Type any value, also beyond the slider's range.",
            )
            values[feature] = float(st.session_state[f"whatif_number_{feature}"])
    prediction = predict(bundle, values, lifecycle)
    moves = moves_up(bundle, values, ranges)
    with answer:
        st.metric("Segment", prediction.name)
        st.markdown(f"**What to do:** {prediction.action}")
        scores = prediction.scores
        st.markdown(
            f"**RFM scores** R={scores['r_score']}, F={scores['f_score']}, M={scores['m_score']} "
            f"(cell {prediction.rfm_cell}) → **{prediction.segment}**: {prediction.segment_action}"
        )
        st.markdown(
            f"**Lifecycle stage:** {prediction.stage} ({values[schema.RECENCY]:,.0f} days since the last order, "
            f"{values[schema.FREQUENCY]:,.0f} order{'' if values[schema.FREQUENCY] == 1 else 's'}; thresholds "
            f"{lifecycle.active_days}/{lifecycle.at_risk_days}/{lifecycle.lost_days} days, {lifecycle.new_days} for a new customer)"
        )
        if prediction.tier != "Regular":
            st.markdown(f"**Outlier tier:** {prediction.tier}")
        if value_model is not None:
            worth = what_if_value(value_model, values, values.get(schema.TENURE, start_tenure), value_settings)
            clv = worth[schema.PREDICTED_CLV]
            st.markdown(
                f"**Predicted value:** P(alive) {worth[schema.P_ALIVE]:.0%}, "
                f"{worth[schema.EXPECTED_PURCHASES]:.2f} purchases expected in the next {value_settings.horizon_days} days"
                + ("" if math.isnan(clv) else f", CLV over {value_settings.months} months {ui.money(clv)}")
                + f" (first purchase {values.get(schema.TENURE, start_tenure):,.0f} days ago; settings on the Value page)."
            )
            next_order = worth[schema.EXPECTED_NEXT_ORDER]
            churn = worth[schema.CHURN_PROBABILITY]
            judged = (
                f"{worth[schema.CHURN_RISK]} ({churn:.0%} likely to have stopped buying, {value_model.purchase_model_name})"
                if not pd.isna(churn) else
                f"not judged ({value_model.purchase_model_name} calls everyone without a repeat order alive: its customers "
                "can stop only after buying again; the lifecycle stage above says how long ago they bought)"
            )
            st.markdown(
                f"**Churn risk:** {judged}; {worth[schema.PREDICTED_ORDERS_365D]:.2f} orders predicted "
                "over the next 365 days; "
                + ("fewer than one order expected in a year, so no next-order date." if pd.isna(next_order)
                   else f"next order expected around {next_order:%Y-%m-%d}.")
            )
        st.markdown("##### What moves this customer up")
        if not moves:
            st.success("Nothing within reach is better: this customer is already in the best group the model has for them.")
        for position, move in enumerate(moves):
            kind = "segment" if move.kind == "segment" else "RFM segment"
            text, button = st.columns([5, 1])
            text.markdown(f"- {move.describe()} ({kind})")
            button.button("Try", key=f"whatif_try_{position}", on_click=_set, args=(move.feature, move.target))
    charts_left, charts_right = st.columns(2)
    charts_left.plotly_chart(distance_bars(prediction.distances, prediction.name), width="stretch", key="whatif_distances")
    charts_right.plotly_chart(with_point(background, prediction.point, prediction.name), width="stretch", key="whatif_pca")
    st.caption(f"Answered in {1000 * (time.perf_counter() - started):.0f} ms on the server.")


panel()
