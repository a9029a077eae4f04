"""Cluster charts: each built from a result object on tiny, hand-made data."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from rfm import schema
from rfm.clustering.profiles import PCAProjection
from rfm.clustering.sweep import SweepResult
from rfm.outputs.charts import (
    actionability_figure,
    centers_heatmap,
    cluster_colours,
    cluster_name,
    crosstab_heatmap,
    pca_scatter,
    rfm_3d_scatter,
    snake_plot,
    stability_figure,
    sweep_figure,
)


def _sweep(**changes) -> SweepResult:
    fields = dict(
        ks=(2, 3, 4),
        inertia=(50.0, 20.0, 15.0),
        silhouette=(0.40, 0.55, 0.45),
        calinski_harabasz=(100.0, 180.0, 150.0),
        davies_bouldin=(0.9, 0.6, 0.8),
        stability=(0.95, 0.90, 0.60),
        recommended_k=3,
        reason="k=3: highest silhouette (0.55) among the ks whose stability is ≥ 0.8 (2, 3); the elbow is at k=3.",
        method="KMeans",
        n_customers=600,
        silhouette_sample=600,
        elbow_k=3,
    )
    return SweepResult(**{**fields, **changes})


CUSTOMERS = pd.DataFrame(
    {
        schema.RECENCY: [1, 5, 300, 320],
        schema.FREQUENCY: [10, 12, 1, 2],
        schema.MONETARY: [900.0, 1100.0, 20.0, 35.0],
    },
    index=pd.Index(["c1", "c2", "c3", "c4"], name=schema.CUSTOMER_ID),
)
LABELS = pd.Series([0, 0, 1, 1], index=CUSTOMERS.index)
NAMES = pd.Series({0: "Champions", 1: "Lost"})


def test_cluster_name_and_colours():
    assert cluster_name(NAMES, 1) == "Lost"
    assert cluster_name(NAMES, -1) == "Noise"
    assert cluster_name({-1: "Outliers"}, -1) == "Outliers"
    assert cluster_name(None, 7) == "cluster 7"
    colours = cluster_colours([1, -1, 0, 1])
    assert list(colours) == [0, 1, -1] and colours[-1] == "#9E9E9E"
    assert colours[0] != colours[1]


def test_sweep_figure_has_four_panels_and_marks_the_recommended_k():
    figure = sweep_figure(_sweep())
    lines = [t for t in figure.data if t.mode == "lines+markers"]
    stars = [t for t in figure.data if t.mode == "markers"]
    assert len(lines) == 4 and len(stars) == 4
    assert [list(t.y) for t in lines] == [
        [50.0, 20.0, 15.0], [0.40, 0.55, 0.45], [100.0, 180.0, 150.0], [0.9, 0.6, 0.8]
    ]
    assert [(t.x[0], t.y[0]) for t in stars] == [(3, 20.0), (3, 0.55), (3, 180.0), (3, 0.6)]
    assert [t.showlegend for t in stars] == [True, False, False, False]
    titles = [a.text for a in figure.layout.annotations]
    assert titles[:4] == [
        "Inertia (elbow): lower is tighter",
        "Silhouette: higher is better",
        "Calinski–Harabasz: higher is better",
        "Davies–Bouldin: lower is better",
    ]
    assert figure.layout.xaxis.title.text == "k (clusters)"
    assert not any("stratified sample" in (a.text or "") for a in figure.layout.annotations)
    assert figure.layout.shapes[0].x0 == 3  # the elbow line on the inertia panel


def test_sweep_figure_captions_sampled_metrics():
    figure = sweep_figure(_sweep(n_customers=100_000, silhouette_sample=10_000, method="MiniBatchKMeans"))
    captions = [a.text for a in figure.layout.annotations if "stratified sample" in (a.text or "")]
    assert len(captions) == 1 and "10,000 of 100,000 customers" in captions[0]
    assert figure.layout.title.text == "Choosing k (MiniBatchKMeans, 100,000 customers)"


def test_sweep_and_stability_figures_on_an_empty_sweep_say_why():
    nothing = dict(ks=(), inertia=(), silhouette=(), calinski_harabasz=(), davies_bouldin=(), stability=())
    empty = _sweep(**nothing, recommended_k=0, reason="Only 1 distinct customer(s) among 1",
                   warnings=("Only 1 distinct customer(s) among 1",), elbow_k=None)
    for figure in (sweep_figure(empty), stability_figure(empty)):
        assert len(figure.data) == 0
        assert "Only 1 distinct customer(s) among 1" in figure.layout.annotations[0].text


def test_stability_figure_bars_threshold_and_highlight():
    figure = stability_figure(_sweep())
    (bars,) = figure.data
    assert list(bars.x) == [2, 3, 4] and list(bars.y) == [0.95, 0.90, 0.60]
    assert list(bars.text) == ["0.95", "0.90", "0.60"]
    assert bars.marker.color[1] != bars.marker.color[0] == bars.marker.color[2]
    assert figure.layout.shapes[0].y0 == 0.8
    assert figure.layout.yaxis.range == (0.0, 1.1)
    assert stability_figure(_sweep(stability=(0.5, -0.2, 0.1))).layout.yaxis.range == (-0.2, 1.1)


def _projection() -> PCAProjection:
    coords = np.array([[-2.0, 0.1], [-1.8, -0.1], [2.0, 0.0], [1.8, 0.0]])
    centres = np.array([[-1.9, 0.0], [1.9, 0.0]])
    return PCAProjection(coords=coords, center_coords=centres, explained_variance_ratio=(0.875, 0.125))


def test_pca_scatter_one_trace_per_cluster_plus_centroids():
    figure = pca_scatter(_projection(), LABELS, NAMES, CUSTOMERS)
    assert [t.name for t in figure.data] == ["Champions", "Lost", "centroids"]
    champions = figure.data[0]
    assert list(champions.x) == [-2.0, -1.8]
    assert list(champions.text) == ["c1", "c2"]  # the ids, on hover
    assert champions.customdata.tolist() == [[1, 10, 900.0], [5, 12, 1100.0]]
    assert champions.customdata.dtype == float  # numbers only: plotly copies it at C speed, not object by object
    assert champions.hovertemplate.startswith("customer %{text}<br>recency %{customdata[0]} days, %{customdata[1]} orders")
    assert list(figure.data[2].text) == ["Champions", "Lost"] and figure.data[2].marker.symbol == "x"
    assert figure.layout.xaxis.title.text == "PC1 (87.5% of variance)"
    assert figure.layout.yaxis.title.text == "PC2 (12.5% of variance)"


def test_pca_scatter_samples_large_data_keeping_every_cluster_and_shows_warnings():
    n = 30
    labels = pd.Series([0] * (n - 1) + [1], index=[f"c{i}" for i in range(n)])
    customers = pd.DataFrame({schema.RECENCY: range(n), schema.FREQUENCY: 1, schema.MONETARY: 1.0}, index=labels.index)
    projection = PCAProjection(np.zeros((n, 2)), np.zeros((2, 2)), (math.nan, math.nan), ("No variance to project",))
    figure = pca_scatter(projection, labels, {}, customers, max_points=10)
    assert [len(t.x) for t in figure.data[:2]] == [9, 1]
    # A short title (it shares half a page) and what is shown in the subtitle, warnings included.
    assert figure.layout.title.text == "Clusters on two principal components"
    assert figure.layout.title.subtitle.text.startswith("10 of 30 customers shown (every cluster kept).")
    assert "No variance to project" in figure.layout.title.subtitle.text
    assert figure.layout.xaxis.title.text == "PC1"


def test_rfm_3d_scatter_uses_log_axes_only_when_values_are_positive():
    figure = rfm_3d_scatter(CUSTOMERS, LABELS, NAMES)
    assert [t.type for t in figure.data] == ["scatter3d", "scatter3d"]
    assert list(figure.data[1].z) == [20.0, 35.0]
    scene = figure.layout.scene
    assert (scene.xaxis.type, scene.yaxis.type, scene.zaxis.type) == ("linear", "log", "log")
    assert (scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text) == ("recency, days", "orders (log)", "spend (log)")
    assert scene.zaxis.dtick == 1 and scene.xaxis.dtick is None  # log axes: powers of ten only
    refunded = CUSTOMERS.assign(**{schema.MONETARY: [900.0, 1100.0, 0.0, 35.0]})
    assert rfm_3d_scatter(refunded, LABELS, NAMES).layout.scene.zaxis.type == "linear"


CENTRES = np.array([[-1.0, 1.5, 1.2], [1.0, -1.5, -1.2]])
FEATURES = [schema.RECENCY, schema.FREQUENCY, schema.MONETARY]


def test_centers_heatmap_rows_are_clusters_columns_features():
    figure = centers_heatmap(CENTRES, FEATURES, ["Champions", "Lost"])
    (heatmap,) = figure.data
    assert [list(row) for row in heatmap.z] == CENTRES.tolist()
    assert list(heatmap.x) == ["Recency (days)", "Frequency (invoices)", "Monetary (revenue)"]
    assert list(heatmap.y) == ["Champions", "Lost"]
    assert heatmap.zmid == 0
    assert heatmap.text[1] == ["+1.00", "-1.50", "-1.20"]


def test_snake_plot_one_line_per_cluster():
    figure = snake_plot(CENTRES, FEATURES, ["Champions", "Lost"])
    assert [t.name for t in figure.data] == ["Champions", "Lost"]
    assert list(figure.data[1].y) == [1.0, -1.5, -1.2]
    assert list(figure.data[0].x) == ["Recency (days)", "Frequency (invoices)", "Monetary (revenue)"]
    assert figure.layout.yaxis.title.text == "scaled value (0 = typical customer)"


def test_crosstab_heatmap_colours_shares_and_prints_counts():
    counts = pd.DataFrame([[2, 0], [1, 3]], index=["Champions", "Lost"], columns=[0, "noise"])
    shares = counts.div(counts.sum(axis=1), axis=0)
    figure = crosstab_heatmap(shares, counts)
    (heatmap,) = figure.data
    assert [list(row) for row in heatmap.z] == [[1.0, 0.0], [0.25, 0.75]]
    assert list(heatmap.x) == ["0", "noise"] and list(heatmap.y) == ["Champions", "Lost"]
    assert [list(row) for row in heatmap.text] == [["2", ""], ["1", "3"]]
    assert figure.layout.xaxis.title.text == "cluster"


def test_cluster_names_and_colours_give_noise_its_one_label():
    from rfm.outputs.charts import cluster_colours, cluster_name

    names = {0: "Champions", 1: "At risk"}
    assert [cluster_name(names, label) for label in (0, 1, 2, schema.NOISE)] == ["Champions", "At risk", "cluster 2", schema.NOISE_NAME]
    assert cluster_name({**names, schema.NOISE: "Outliers"}, schema.NOISE) == "Outliers"
    colours = cluster_colours([1, schema.NOISE, 0, 1])
    assert list(colours) == [0, 1, schema.NOISE] and colours[schema.NOISE] == "#9E9E9E"


GOLDEN = Path(__file__).parent / "data" / "sweep_charts_golden.json"
#: Sweeps whose charts were drawn by the call-by-call plotly code (``make_subplots``, ``add_scatter(row=, col=)``,
#: ``add_vline``...) into ``GOLDEN``; the charts built from plain dicts must give the very same figures.
GOLDEN_SWEEPS = {
    "plain": _sweep,
    "sampled_separation": lambda: _sweep(
        n_customers=100_000, silhouette_sample=10_000, method="MiniBatchKMeans", elbow_k=None, recommended_k=4,
        smallest_share=(0.2, 0.1, 0.02), largest_share=(0.6, 0.45, 0.4), separation=(0.05, math.nan, 0.12),
        reason="k=4: " + "a long reason that wraps over the line " * 6,
    ),
    "not_recommended_in_ks": lambda: _sweep(
        recommended_k=7, elbow_k=2, smallest_share=(0.2, 0.1, 0.02), largest_share=(0.6, 0.45, 0.4)
    ),
}


@pytest.mark.parametrize("case", sorted(GOLDEN_SWEEPS))
@pytest.mark.parametrize("chart", [sweep_figure, stability_figure, actionability_figure], ids=lambda f: f.__name__)
def test_sweep_charts_are_the_figures_plotly_built_call_by_call(case, chart):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[case][chart.__name__]
    spec = json.loads(pio.to_json(chart(GOLDEN_SWEEPS[case]()), validate=False))
    assert spec["layout"].pop("template")["layout"]  # the default template, as before
    assert spec == golden
