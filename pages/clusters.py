"""Clusters page: choose the features, tune k with evidence, fit, and compare algorithms."""

import streamlit as st

import ui
from rfm import schema
from rfm.charts import stability_figure, sweep_figure
from rfm.clustering import ALGORITHMS, ClusterSettings
from rfm.features import FEATURE_CHOICES

ui.require_router()
st.title("Clusters")
st.caption(
    "K-Means groups customers whose (log-scaled, standardised) recency, frequency and monetary value are alike. "
    "Choose what to cluster on, then pick k with the evidence below."
)
settings = ui.current_cluster_settings()
labels = {feature: schema.RFM_LABELS[feature] for feature in FEATURE_CHOICES}

with st.expander("Features, transform and outliers", expanded=False), st.form("cluster_options"):
    features = st.multiselect("Features", FEATURE_CHOICES, default=list(settings.features), format_func=labels.get, key="features")
    log_features = st.multiselect(
        "Take the log (log1p) of", FEATURE_CHOICES, default=list(settings.log_features), format_func=labels.get, key="log_features",
        help="Skewed values (orders, spend) dominate distances unless taken on a log scale.",
    )
    scaler = st.radio("Scaler", ["standard", "robust"], index=["standard", "robust"].index(settings.scaler), horizontal=True, key="scaler",
                      format_func={"standard": "Standard (mean, sd)", "robust": "Robust (median, IQR)"}.get)
    exclude = st.checkbox("Leave the outlier tiers (High Spenders, Power Shoppers, Elite VIPs) out of the fit", settings.exclude_outliers, key="exclude_outliers")
    outliers_as = st.radio(
        "Then the outliers", ["nearest", "own_tier"], index=["nearest", "own_tier"].index(settings.outliers_as), horizontal=True,
        format_func={"nearest": "join their nearest cluster", "own_tier": "stay as their own tier groups"}.get, key="outliers_as",
    )
    k_range = st.slider("Range of k to try", 2, 15, (settings.k_min, settings.k_max), key="k_range")
    if st.form_submit_button("Apply"):
        if not features:
            st.error("Choose at least one feature.")
        else:
            ui.update_cluster_settings(
                ClusterSettings(
                    features=tuple(features), log_features=tuple(f for f in log_features if f in features), scaler=scaler,
                    exclude_outliers=exclude, outliers_as=outliers_as, k_min=k_range[0], k_max=k_range[1],
                )
            )
            st.rerun()

with st.spinner("Trying every k…"):
    sweep = ui.current_sweep()
for warning in sweep.warnings:
    st.warning(warning)
if not sweep.ks:
    st.stop()
st.info(f"**Recommended k = {sweep.recommended_k}.** {sweep.reason}")
if sweep.sampled:
    st.caption(f"Silhouette, Calinski–Harabasz and Davies–Bouldin were computed on a stratified sample of {sweep.silhouette_sample:,} of {sweep.n_customers:,} customers (every cluster kept). Fits: {sweep.method}.")
st.plotly_chart(sweep_figure(sweep), width="stretch", key="sweep")
st.plotly_chart(stability_figure(sweep), width="stretch", key="stability")

st.markdown("#### Fit")
k_now, algorithm_now = ui.current_pick()
pick_column, algorithm_column = st.columns([3, 2])
k = pick_column.slider("k (number of clusters)", min(sweep.ks), max(sweep.ks), min(max(k_now, min(sweep.ks)), max(sweep.ks)), key="k")
algorithm = algorithm_column.selectbox("Algorithm", list(ALGORITHMS), index=list(ALGORITHMS).index(algorithm_now), format_func=ALGORITHMS.get, key="algorithm",
                                       help="DBSCAN and HDBSCAN find their own number of clusters and mark noise.")
ui.set_pick(k, algorithm)
result = ui.current_clusters()
for warning in result.warnings:
    st.warning(warning)
sizes = result.customers["cluster_name"].value_counts()
columns = st.columns(min(len(sizes), 6) or 1)
for column, (name, size) in zip(columns * (len(sizes) // len(columns) + 1), sizes.items()):
    column.metric(str(name), f"{size:,}", f"{size / len(result.customers):.1%}", delta_color="off", delta_arrow="off")
st.page_link("pages/cluster_segments.py", label="See the segments: profiles, names and actions", icon="➡️")

if st.toggle("Compare algorithms on the same features", key="compare"):
    with st.spinner("Fitting each algorithm…"):
        comparison = ui.algorithm_comparison(k)
    st.dataframe(
        comparison.rename(index=ALGORITHMS),
        width="stretch",
        column_config={
            "noise_share": st.column_config.NumberColumn("noise", format="percent"),
            "silhouette": st.column_config.NumberColumn(format="%.3f"),
            "calinski_harabasz": st.column_config.NumberColumn("Calinski–Harabasz", format="%.0f"),
            "davies_bouldin": st.column_config.NumberColumn("Davies–Bouldin", format="%.3f"),
            "seconds": st.column_config.NumberColumn(format="%.2f"),
        },
        key="comparison",
    )
    st.caption("Silhouette and Calinski–Harabasz: higher is better; Davies–Bouldin: lower is better. DBSCAN's eps is in the scaled space.")
