"""Clusters page: choose the features, tune k with evidence, fit, and compare algorithms."""

from dataclasses import replace

import streamlit as st

import ui
from rfm import schema
from rfm.clustering.features import FEATURE_CHOICES
from rfm.outputs.charts import actionability_figure, stability_figure, sweep_figure
from rfm.schema import ALGORITHMS, DENSITY_ALGORITHMS, SCALERS

MAX_SIZE_CARDS = 12  # more groups than this are listed in a table: a wall of cards says nothing
CARDS_PER_ROW = 6
SHARE_CHOICES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


def percent(share: float) -> str:
    return f"{share:.1%}".replace(".0%", "%")


ui.require_router()
st.title("Clusters")
st.caption(
    "K-Means groups customers whose (log-scaled, standardised) recency, frequency and monetary value are alike. "
    "Choose what to cluster on, then pick k with the evidence below."
)
# scikit-learn takes seconds to import: the RFM page starts it in the background (ui.preload_clustering), and so does
# the Data page once the server is quiet after an upload (ui.prepare_clusters, with the sweep and the fit); a visit
# that comes first, or before it is done, says what it waits for.
with st.spinner("Loading the clustering library (scikit-learn)…"):
    from rfm.clustering.fit import MAX_CLUSTERS, ClusterSettings, smallest_cluster

    settings = ui.current_cluster_settings()
labels = {feature: schema.RFM_LABELS[feature] for feature in FEATURE_CHOICES}

with st.expander("Features, transform and outliers", expanded=False), st.form("cluster_options"):
    features = st.multiselect("Features", FEATURE_CHOICES, default=list(settings.features), format_func=labels.get, key="features")
    log_features = st.multiselect(
        "Take the log (log1p) of", FEATURE_CHOICES, default=list(settings.log_features), format_func=labels.get, key="log_features",
        help="Skewed values (orders, spend) dominate distances unless taken on a log scale.",
    )
    scaler = st.radio("Scaler", list(SCALERS), index=list(SCALERS).index(settings.scaler), horizontal=True, key="scaler", format_func=SCALERS.get)
    exclude = st.checkbox(
        "Leave the outlier tiers (High Spenders, Power Shoppers, Elite VIPs) out of the fit", settings.exclude_outliers, key="exclude_outliers"
    )
    outliers_as = st.radio(
        "Then the outliers", ["nearest", "own_tier"], index=["nearest", "own_tier"].index(settings.outliers_as), horizontal=True,
        format_func={"nearest": "join their nearest cluster", "own_tier": "stay as their own tier groups"}.get, key="outliers_as",
    )
    k_range = st.slider(
        "Range of k to try", 2, 15, (settings.k_min, settings.k_max), key="k_range",
        help="3 to 8 by default: two segments are too coarse to act on, more than eight too many campaigns.",
    )
    if st.form_submit_button("Apply"):
        if not features:
            st.error("Choose at least one feature.")
        else:
            ui.update_cluster_settings(
                ClusterSettings(
                    features=tuple(features), log_features=tuple(f for f in log_features if f in features), scaler=scaler,
                    exclude_outliers=exclude, outliers_as=outliers_as, k_min=k_range[0], k_max=k_range[1],
                    min_cluster_share=settings.min_cluster_share, eps=settings.eps,  # set in the Fit section
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
    st.caption(
        f"Silhouette, Calinski–Harabasz and Davies–Bouldin were computed on a stratified sample of {sweep.silhouette_sample:,} of "
        f"{sweep.n_customers:,} customers (every cluster kept). Fits: {sweep.method}."
    )
# The evidence in tabs drawn only when open, as on the RFM and Segments pages: each plotly chart costs the browser
# tenths of a second, and with all three a revisit took 1.1 s in Chromium against 0.2 s headless.
quality_tab, stability_tab, sizes_tab = st.tabs(
    ["Quality by k", "Stability", "Sizes and separation"], key="sweep_tab", on_change="rerun"
)
if quality_tab.open:
    quality_tab.plotly_chart(sweep_figure(sweep), width="stretch", key="sweep")
if stability_tab.open:
    stability_tab.plotly_chart(stability_figure(sweep), width="stretch", key="stability")
if sizes_tab.open:
    sizes_tab.plotly_chart(actionability_figure(sweep), width="stretch", key="actionability")
    sizes_tab.caption(
        "A segment worth a campaign holds 3%–50% of the customers (the green band). Predictive separation: clusters "
        "fitted on the history up to 90 days before the last date; how much more often the best cluster's customers "
        "ordered again after that cut than the worst cluster's. Wider is more useful. The full backtest is on the "
        "Backtest page."
    )
    for note in sweep.notes:
        if note.startswith("Predictive separation"):
            sizes_tab.caption(note)

st.markdown("#### Fit")
k_now, algorithm_now = ui.current_pick()
pick_column, algorithm_column = st.columns([3, 2])
k = pick_column.slider("k (number of clusters)", min(sweep.ks), max(sweep.ks), min(max(k_now, min(sweep.ks)), max(sweep.ks)), key="k")
algorithm = algorithm_column.selectbox("Algorithm", list(ALGORITHMS), index=list(ALGORITHMS).index(algorithm_now), format_func=ALGORITHMS.get, key="algorithm",
                                       help="DBSCAN and HDBSCAN find their own number of clusters (k does not apply) and mark noise.")
if algorithm in DENSITY_ALGORITHMS:
    share_column, eps_column = st.columns([3, 2])
    share = share_column.select_slider(
        "Smallest cluster (share of customers)", sorted({*SHARE_CHOICES, settings.min_cluster_share}), settings.min_cluster_share,
        format_func=percent, key="min_cluster_share",
        help="A dense group must hold at least this share of the customers (and at least 5) to be a cluster; smaller "
        f"groups are noise. Raise it for fewer, larger clusters: at most {MAX_CLUSTERS} clusters can be named and saved.",
    )
    eps = settings.eps
    if algorithm == "dbscan":
        eps = eps_column.number_input("Neighbourhood radius (eps)", 0.05, 5.0, settings.eps, 0.05, key="eps",
                                      help="In the scaled space (standard deviations with the standard scaler): wider joins more customers into each cluster.")
    if (share, eps) != (settings.min_cluster_share, settings.eps):
        settings = replace(settings, min_cluster_share=share, eps=eps)
        ui.update_cluster_settings(settings)
ui.set_pick(k, algorithm)
result = ui.current_clusters()
for warning in result.warnings:
    st.warning(warning)
for note in result.notes:
    st.caption(note)
if algorithm in DENSITY_ALGORITHMS:
    fitted = len(result.estimator.labels_)
    st.caption(f"Smallest cluster: {percent(settings.min_cluster_share)} of {fitted:,} customers = {smallest_cluster(settings, fitted):,}.")
sizes = result.customers["cluster_name"].value_counts()
if len(sizes) <= MAX_SIZE_CARDS:
    for start in range(0, len(sizes), CARDS_PER_ROW):
        row = sizes.iloc[start : start + CARDS_PER_ROW]
        for column, (name, size) in zip(st.columns(min(len(sizes), CARDS_PER_ROW)), row.items()):
            column.metric(str(name), f"{size:,}", f"{size / len(result.customers):.1%}", delta_color="off", delta_arrow="off")
else:
    st.caption(f"{len(sizes)} groups, largest first:")
    st.dataframe(
        sizes.rename("customers").to_frame().assign(share=sizes / len(result.customers)).rename_axis("cluster"),
        width="content",
        column_config={"customers": st.column_config.NumberColumn(format="localized"), "share": st.column_config.NumberColumn(format="percent")},
        key="cluster_sizes",
    )
st.page_link("pages/cluster_segments.py", label="See the segments: profiles, names and actions", icon=":material/arrow_forward:")

if st.toggle("Compare algorithms on the same features", key="compare"):
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
    st.caption(
        "Each row is the fit you get by choosing that algorithm above, with the same settings (k, smallest cluster, eps). "
        "Silhouette and Calinski–Harabasz: higher is better; Davies–Bouldin: lower is better. DBSCAN's eps is in the scaled space."
    )
