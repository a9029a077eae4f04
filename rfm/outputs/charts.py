"""Plotly figures built from result objects; the data behind each chart comes from its own function."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfm import schema
from rfm.cleaning.ledger import CleaningReport
from rfm.clustering.sweep import STABLE_ARI

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from rfm.backtest.run import Backtest
    from rfm.clustering.profiles import PCAProjection
    from rfm.clustering.sweep import SweepResult
    from rfm.scoring.scores import ScoreResult
    from rfm.trends.cohorts import CohortTable
    from rfm.trends.migration import Migration
    from rfm.value.predict import Holdout

_KEPT_COLOUR = "#2E6FDB"
_REMOVED_COLOUR = "#D9534F"
_READ_COLOUR = "#6C757D"


def ledger_steps(report: CleaningReport) -> pd.DataFrame:
    """The ledger as waterfall steps: rows read, minus each rule with rows, equals rows kept.

    Returns a frame with ``step`` (label), ``rows`` (signed: removals negative) and ``measure``
    (plotly's ``absolute``/``relative``/``total``).
    """
    steps = [("Rows read", report.rows_read, "absolute")]
    steps += [(line.rule, -line.rows, "relative") for line in report.ledger if line.rows]
    steps.append(("Rows kept", report.rows_clean, "total"))
    return pd.DataFrame(steps, columns=["step", "rows", "measure"])


def ledger_waterfall(report: CleaningReport) -> go.Figure:
    """Waterfall chart of the cleaning ledger (rows)."""
    import plotly.graph_objects as go

    steps = ledger_steps(report)
    share = steps["rows"].abs() / max(report.rows_read, 1)
    figure = go.Figure(
        go.Waterfall(
            x=steps["step"],
            y=steps["rows"],
            measure=steps["measure"],
            text=[f"{abs(r):,}<br>({s:.1%})" for r, s in zip(steps["rows"], share)],
            textposition="outside",
            connector={"line": {"color": "#BBBBBB"}},
            decreasing={"marker": {"color": _REMOVED_COLOUR}},
            increasing={"marker": {"color": _READ_COLOUR}},
            totals={"marker": {"color": _KEPT_COLOUR}},
            hovertemplate="%{x}: %{y:,} rows<extra></extra>",
        )
    )
    figure.update_layout(
        title="Cleaning ledger: where the rows went",
        yaxis_title="rows",
        showlegend=False,
        margin={"t": 60, "b": 40},
        height=420,
    )
    figure.update_yaxes(range=[0, report.rows_read * 1.15])
    return figure


def ledger_waterfall_spec(report: CleaningReport) -> dict[str, Any]:
    """The same waterfall as a Vega-Lite specification (plain data: the Data page draws it with Streamlit's own
    Vega-Lite, so that opening the app does not load plotly in the browser or on the server).

    Each step is a bar from ``start`` to ``end`` rows: rows read from 0, each rule down from the running total, rows
    kept from 0; the label gives the rows and their share of the rows read.
    """
    steps = ledger_steps(report)
    read = max(report.rows_read, 1)
    records, total = [], 0
    for step, rows, measure in steps.itertuples(index=False):
        start, end = (0, int(rows)) if measure != "relative" else (total, total + int(rows))
        total = end
        kind = {"absolute": "read", "relative": "removed", "total": "kept"}[measure]
        records.append({
            "step": str(step), "start": start, "end": end, "top": max(start, end), "rows": abs(int(rows)), "kind": kind,
            "label": f"{abs(int(rows)):,} ({abs(int(rows)) / read:.1%})",
        })
    x = {"field": "step", "type": "nominal", "sort": None, "title": None, "axis": {"labelAngle": 0, "labelLimit": 140}}
    return {
        "title": "Cleaning ledger: where the rows went",
        "height": 420,
        "data": {"values": records},
        "layer": [
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "start", "type": "quantitative", "title": "from", "axis": {"title": "rows"},
                        "scale": {"domain": [0, report.rows_read * 1.15]},
                    },
                    "y2": {"field": "end", "title": "to"},
                    "color": {
                        "field": "kind", "type": "nominal", "legend": None,
                        "scale": {"domain": ["read", "removed", "kept"], "range": [_READ_COLOUR, _REMOVED_COLOUR, _KEPT_COLOUR]},
                    },
                    "tooltip": [{"field": "step", "title": "step"}, {"field": "rows", "title": "rows", "format": ","}],
                },
            },
            {
                "mark": {"type": "text", "dy": -8, "fontSize": 11},
                "encoding": {"x": x, "y": {"field": "top", "type": "quantitative"}, "text": {"field": "label"}},
            },
        ],
    }


def distribution_data(table: pd.DataFrame, column: str, log_scale: bool) -> pd.Series:
    """Values behind a histogram; with ``log_scale`` they are shown as log10(1 + value)."""
    values = table[column].astype("float64")
    return np.log10(values.clip(lower=0) + 1) if log_scale else values


def distribution_figure(table: pd.DataFrame, column: str, log_scale: bool = False, bins: int = 40) -> go.Figure:
    """Histogram of one RFM column (``recency_days``, ``frequency`` or ``monetary``)."""
    import plotly.graph_objects as go

    label = schema.RFM_LABELS.get(column, column)
    values = distribution_data(table, column, log_scale)
    figure = go.Figure(
        go.Histogram(
            x=values,
            nbinsx=bins,
            marker_color=_KEPT_COLOUR,
            hovertemplate="%{y:,} customers<extra></extra>",
        )
    )
    median = float(table[column].median())
    figure.add_vline(
        x=float(distribution_data(pd.DataFrame({column: [median]}), column, log_scale).iloc[0]),
        line_dash="dash",
        line_color="#444444",
        annotation_text=f"median {median:,.0f}",
        annotation_position="top right",
        annotation_yshift=12,
    )
    figure.update_layout(
        title=label,
        xaxis_title=f"{label} (log scale)" if log_scale else label,
        yaxis_title="customers",
        bargap=0.05,
        margin={"t": 70, "b": 40},
        height=340,
    )
    if log_scale:
        # Bins are even in log10(1 + x); the ticks still read in the column's own units.
        top = float(table[column].max())
        ticks = [0.0] + [10.0**p for p in range(0, int(np.log10(max(top, 1))) + 2)]
        figure.update_xaxes(tickvals=[np.log10(t + 1) for t in ticks], ticktext=[f"{t:,.0f}" for t in ticks])
    return figure


# --- the classic segmentation -----------------------------------------------------------------

def segment_colours(segments: Iterable[str]) -> dict[str, str]:
    """A stable colour per segment name, in the order given ("Other" grey)."""
    import plotly.express as px

    palette = px.colors.qualitative.Bold + px.colors.qualitative.Pastel
    colours: dict[str, str] = {}
    for segment in dict.fromkeys(segments):
        colours[segment] = "#9E9E9E" if segment == "Other" else palette[len(colours) % len(palette)]
    return colours


#: A colour per lifecycle stage, from fresh (green) to gone (grey).
STAGE_COLOURS: dict[str, str] = {
    schema.STAGE_NEW: "#5BC0DE",
    schema.STAGE_ACTIVE: "#2E9E5B",
    schema.STAGE_AT_RISK: "#F0AD4E",
    schema.STAGE_LAPSED: _REMOVED_COLOUR,
    schema.STAGE_LOST: _READ_COLOUR,
}


def stage_counts_figure(summary: pd.DataFrame) -> go.Figure:
    """Customers per lifecycle stage, in stage order, each bar labelled with its count and share.

    ``summary``: :func:`rfm.scoring.lifecycle.stage_summary` (``customers``, ``share``, ``revenue``, ``revenue_share``
    per stage).
    """
    import plotly.graph_objects as go

    stages = [str(stage) for stage in summary.index]
    figure = go.Figure(
        go.Bar(
            x=stages,
            y=summary["customers"],
            marker_color=[STAGE_COLOURS.get(stage, _KEPT_COLOUR) for stage in stages],
            text=[f"{count:,} ({share:.1%})" for count, share in zip(summary["customers"], summary["share"])],
            textposition="outside",
            customdata=summary[["share", "revenue_share"]].to_numpy(),
            hovertemplate="%{x}: %{y:,} customers (%{customdata[0]:.1%}), %{customdata[1]:.1%} of revenue<extra></extra>",
        )
    )
    figure.update_layout(
        title="Customers per lifecycle stage",
        xaxis={"title": "lifecycle stage", "categoryorder": "array", "categoryarray": stages},
        yaxis={"title": "customers", "rangemode": "tozero"},
        margin={"t": 50, "l": 10, "r": 10},
        height=380,
        showlegend=False,
    )
    return figure


def segment_share_figure(summary: pd.DataFrame, kind: str = "bar") -> go.Figure:
    """Segment sizes and revenue: share of customers beside share of revenue (``bar``), or a
    treemap sized by customers and coloured by share of revenue (``treemap``)."""
    import plotly.graph_objects as go

    segments = list(summary.index)
    if kind == "treemap":
        figure = go.Figure(
            go.Treemap(
                labels=segments,
                parents=[""] * len(segments),
                values=summary["customers"],
                marker={"colors": summary["revenue_share"], "colorscale": "Blues", "colorbar": {"title": "revenue share", "tickformat": ".0%"}},
                customdata=summary[["share", "revenue_share", "revenue"]].to_numpy(),
                texttemplate="<b>%{label}</b><br>%{value:,} customers<br>%{customdata[1]:.1%} of revenue",
                hovertemplate="%{label}<br>%{value:,} customers (%{customdata[0]:.1%})<br>revenue %{customdata[2]:,.2f} (%{customdata[1]:.1%})<extra></extra>",
            )
        )
        figure.update_layout(title="Segments: size (area) and share of revenue (colour)", margin={"t": 50, "l": 10, "r": 10, "b": 10}, height=460)
        return figure
    figure = go.Figure()
    for column, name, colour in (("share", "share of customers", _READ_COLOUR), ("revenue_share", "share of revenue", _KEPT_COLOUR)):
        figure.add_bar(
            y=segments,
            x=summary[column],
            name=name,
            orientation="h",
            marker_color=colour,
            text=[f"{v:.1%}" for v in summary[column]],
            textposition="outside",
            hovertemplate="%{y}: %{x:.1%} " + name + "<extra></extra>",
        )
    figure.update_layout(
        title="Segments: share of customers and of revenue",
        barmode="group",
        xaxis={"tickformat": ".0%", "title": "share"},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 50, "l": 10, "r": 40},
        height=max(360, 40 * len(segments) + 120),
    )
    return figure


def score_heatmap_data(customers: pd.DataFrame, n_bins: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean monetary and customer count per (R score, F score) cell; R rows high to low, F columns low to high."""
    grid = customers.pivot_table(index="r_score", columns="f_score", values=schema.MONETARY, aggfunc=["mean", "size"])
    scores = list(range(1, n_bins + 1))
    mean = grid["mean"].reindex(index=scores[::-1], columns=scores)
    count = grid["size"].reindex(index=scores[::-1], columns=scores).fillna(0).astype(int)
    return mean, count


def score_heatmap(customers: pd.DataFrame, n_bins: int) -> go.Figure:
    """R×F score grid coloured by the mean monetary value of its customers (count in each cell)."""
    import plotly.graph_objects as go

    mean, count = score_heatmap_data(customers, n_bins)
    text = [[f"{c:,}" if c else "" for c in row] for row in count.to_numpy()]
    figure = go.Figure(
        go.Heatmap(
            z=mean.to_numpy(),
            x=[f"F={f}" for f in mean.columns],
            y=[f"R={r}" for r in mean.index],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            colorbar={"title": "mean monetary"},
            customdata=count.to_numpy(),
            hovertemplate="%{y}, %{x}: %{customdata:,} customers, mean monetary %{z:,.2f}<extra></extra>",
        )
    )
    figure.update_layout(
        title="R × F scores: customers (number), mean monetary (colour)",
        yaxis={"autorange": "reversed"},
        margin={"t": 50},
        height=420,
    )
    return figure


def score_distribution_figure(scores: ScoreResult) -> go.Figure:
    """Customers per score for R, F and M side by side (an empty score is a visible gap)."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=len(scores.cuts), subplot_titles=[f"{c.letter} score" for c in scores.cuts], shared_yaxes=True)
    for column, cut in enumerate(scores.cuts, start=1):
        figure.add_bar(
            x=[b.score for b in cut.bins],
            y=[b.customers for b in cut.bins],
            customdata=[b.label for b in cut.bins],
            marker_color=_KEPT_COLOUR,
            hovertemplate=f"{cut.letter}=%{{x}}: %{{y:,}} customers<br>%{{customdata}}<extra></extra>",
            showlegend=False,
            row=1,
            col=column,
        )
        figure.update_xaxes(dtick=1, title_text="score", row=1, col=column)
    figure.update_yaxes(title_text="customers", row=1, col=1)
    figure.update_layout(title="Customers per score", margin={"t": 70}, height=340)
    return figure


def recency_frequency_scatter(
    customers: pd.DataFrame, segment_order: Sequence[str], segment: str = "segment", max_points: int = 5_000
) -> go.Figure:
    """Recency against frequency, one dot per customer coloured by segment (log frequency axis)."""
    import plotly.graph_objects as go

    shown = customers if len(customers) <= max_points else customers.sample(max_points, random_state=0)
    colours = segment_colours(segment_order)
    figure = go.Figure()
    for name in colours:
        part = shown[shown[segment] == name]
        if part.empty:
            continue
        figure.add_scattergl(
            x=part[schema.RECENCY],
            y=part[schema.FREQUENCY],
            mode="markers",
            name=name,
            marker={"color": colours[name], "size": 6, "opacity": 0.7},
            customdata=list(zip(part.index, part[schema.MONETARY])),
            hovertemplate="customer %{customdata[0]}<br>recency %{x} days, %{y} orders<br>monetary %{customdata[1]:,.2f}<extra>" + name + "</extra>",
        )
    title = "Recency vs frequency by segment" + (f" ({max_points:,} of {len(customers):,} customers shown)" if len(shown) < len(customers) else "")
    figure.update_layout(
        title=title,
        xaxis_title=schema.RFM_LABELS[schema.RECENCY],
        yaxis={"title": schema.RFM_LABELS[schema.FREQUENCY], "type": "log", "dtick": 1},
        legend={"title": "segment"},
        margin={"t": 50},
        height=480,
    )
    return figure


# --- clusters ---------------------------------------------------------------------------------------

_RECOMMENDED_COLOUR = "#E8A33D"


def cluster_name(names: Mapping[int, str] | pd.Series, label: int) -> str:
    """The name of cluster ``label`` in ``names`` (a mapping or Series by cluster); noise
    (:data:`rfm.schema.NOISE`) is :data:`rfm.schema.NOISE_NAME` unless named, and an unnamed cluster is
    "cluster <label>"."""
    names = {} if names is None else dict(names)
    if label in names:
        return str(names[label])
    return schema.NOISE_NAME if label == schema.NOISE else f"cluster {label}"


def cluster_colours(labels: Iterable[int]) -> dict[int, str]:
    """A stable colour per cluster label, in ascending order; noise grey."""
    import plotly.express as px

    palette = px.colors.qualitative.Bold + px.colors.qualitative.Pastel
    present = set(labels)
    ordered = sorted(present - {schema.NOISE}) + ([schema.NOISE] if schema.NOISE in present else [])
    return {lab: "#9E9E9E" if lab == schema.NOISE else palette[i % len(palette)] for i, lab in enumerate(ordered)}


def _no_data_figure(title: str, message: str):
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=300)
    return figure


@lru_cache(maxsize=8)
def _grid_layout(rows: int, cols: int, titles: tuple[str, ...], horizontal_spacing: float, vertical_spacing: float | None) -> str:
    """``make_subplots``' axes and subplot titles, as layout JSON (cached: ``make_subplots`` is slow, and the layout is the same for every figure of a grid)."""
    from plotly.subplots import make_subplots

    spacing = {} if vertical_spacing is None else {"vertical_spacing": vertical_spacing}
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=horizontal_spacing, **spacing)
    layout = figure.layout.to_plotly_json()
    layout.pop("template", None)
    return json.dumps(layout)


def _grid(rows: int, cols: int, titles: Sequence[str], horizontal_spacing: float, vertical_spacing: float | None = None) -> dict:
    """A fresh copy of :func:`_grid_layout`, to add to."""
    return json.loads(_grid_layout(rows, cols, tuple(titles), horizontal_spacing, vertical_spacing))


def _figure(data: list[dict], layout: dict):
    """The figure of plain ``data`` and ``layout`` dicts, validated once: the same figure as one built call by call
    (``add_scatter(row=, col=)``, ``add_vline``...), which validates at every call and took ten times longer."""
    import plotly.graph_objects as go

    return go.Figure({"data": data, "layout": layout})


def _axis(n: int) -> str:
    """The suffix of the n-th subplot's axes: ``""``, ``"2"``..."""
    return "" if n == 1 else str(n)


def sweep_figure(result: SweepResult) -> go.Figure:
    """The four sweep metrics against k (inertia with its elbow, silhouette, Calinski-Harabasz,
    Davies-Bouldin), the recommended k starred on each; a caption says when metrics were sampled."""
    title = f"Choosing k ({result.method}, {result.n_customers:,} customers)"
    if not result.ks:
        return _no_data_figure(title, "No k could be tried: " + "; ".join(result.warnings))
    panels = (
        ("inertia", "Inertia (elbow): lower is tighter"),
        ("silhouette", "Silhouette: higher is better"),
        ("calinski_harabasz", "Calinski–Harabasz: higher is better"),
        ("davies_bouldin", "Davies–Bouldin: lower is better"),
    )
    layout = _grid(2, 2, [t for _, t in panels], 0.12, 0.18)
    ks = list(result.ks)
    data = []
    for i, (metric, _) in enumerate(panels):
        axes = {"xaxis": "x" + _axis(i + 1), "yaxis": "y" + _axis(i + 1)}
        values = list(getattr(result, metric))
        data.append({
            "type": "scatter", "x": ks, "y": values, "mode": "lines+markers", "name": metric,
            "marker": {"color": _KEPT_COLOUR}, "showlegend": False,
            "hovertemplate": "k=%{x}: %{y:,.3f}<extra>" + metric + "</extra>", **axes,
        })
        if result.recommended_k in ks:
            at = ks.index(result.recommended_k)
            data.append({
                "type": "scatter", "x": [result.recommended_k], "y": [values[at]], "mode": "markers",
                "name": f"recommended k={result.recommended_k}", "showlegend": i == 0,
                "marker": {"symbol": "star", "size": 16, "color": _RECOMMENDED_COLOUR},
                "hovertemplate": "recommended k=%{x}: %{y:,.3f}<extra></extra>", **axes,
            })
        layout["xaxis" + _axis(i + 1)].update(title={"text": "k (clusters)"}, dtick=1)
    if result.elbow_k is not None:  # what add_vline(row=1, col=1, annotation_text="elbow") adds
        layout["shapes"] = [{
            "type": "line", "x0": result.elbow_k, "x1": result.elbow_k, "xref": "x", "y0": 0, "y1": 1,
            "yref": "y domain", "line": {"color": "#888888", "dash": "dot"},
        }]
        layout["annotations"].append({
            "text": "elbow", "showarrow": False, "x": result.elbow_k, "xanchor": "left", "xref": "x", "y": 1,
            "yanchor": "top", "yref": "y domain",
        })
    import textwrap

    caption = "<br>".join(textwrap.wrap(result.reason, 130))  # plotly does not wrap: a long reason would run off
    if result.sampled:
        caption += (
            f"<br>Silhouette, Calinski–Harabasz and Davies–Bouldin on a stratified sample of "
            f"{result.silhouette_sample:,} of {result.n_customers:,} customers; inertia on all of them."
        )
    layout["annotations"].append({
        "text": caption, "showarrow": False, "x": 0, "y": -0.2, "xref": "paper", "yref": "paper", "xanchor": "left",
        "align": "left",
    })
    layout.update(
        title={"text": title},
        legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        margin={"t": 90, "b": 90 + 18 * caption.count("<br>")},
        height=600 + 18 * caption.count("<br>"),
    )
    return _figure(data, layout)


def stability_figure(result: SweepResult) -> go.Figure:
    """Seed stability (mean adjusted Rand index between fits) per k, the 0.8 line and the recommended k."""
    title = "Stability: do different seeds find the same clusters?"
    if not result.ks:
        return _no_data_figure(title, "No k could be tried: " + "; ".join(result.warnings))
    colours = [_RECOMMENDED_COLOUR if k == result.recommended_k else _KEPT_COLOUR for k in result.ks]
    lowest = min([0.0, *(v for v in result.stability if np.isfinite(v))])  # ARI can dip below 0
    data = [{
        "type": "bar", "x": list(result.ks), "y": list(result.stability), "marker": {"color": colours},
        "text": [f"{v:.2f}" for v in result.stability], "textposition": "outside",
        "hovertemplate": "k=%{x}: mean ARI %{y:.3f}<extra></extra>",
    }]
    layout = {  # the line and its label: what add_hline(annotation_text=...) adds
        "shapes": [{
            "type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": STABLE_ARI, "y1": STABLE_ARI, "yref": "y",
            "line": {"color": "#444444", "dash": "dash"},
        }],
        "annotations": [{
            "text": f"stable ≥ {STABLE_ARI:g}", "showarrow": False, "x": 1, "xanchor": "right", "xref": "x domain",
            "y": STABLE_ARI, "yanchor": "bottom", "yref": "y",
        }],
        "title": {"text": title},
        "xaxis": {"title": {"text": "k (clusters)"}, "dtick": 1},
        "yaxis": {"title": {"text": "mean adjusted Rand index between seeds"}, "range": [lowest, 1.1]},
        "margin": {"t": 60},
        "height": 360,
    }
    return _figure(data, layout)


def actionability_figure(result: SweepResult) -> go.Figure:
    """Can a marketer act on each k? Left: the smallest and the largest cluster's share of the customers, against
    the 3% and 50% bounds the recommendation keeps to. Right: the predictive separation (the spread of the
    bought-again rate between the best and the worst cluster in a backtest), when it was measured."""
    from rfm.clustering.sweep import LARGEST_SEGMENT_SHARE, SMALLEST_SEGMENT_SHARE

    title = "Segments to act on: sizes and what they predict"
    if not result.ks:
        return _no_data_figure(title, "No k could be tried: " + "; ".join(result.warnings))
    layout: dict[str, Any] = _grid(1, 2, ("Smallest and largest cluster (share of customers)", "Predictive separation (next 90 days)"), 0.14)
    ks = list(result.ks)
    colours = [_RECOMMENDED_COLOUR if k == result.recommended_k else _KEPT_COLOUR for k in ks]
    data: list[dict[str, Any]] = []
    for metric, symbol, label in (("smallest_share", "triangle-down", "smallest"), ("largest_share", "triangle-up", "largest")):
        data.append({
            "type": "scatter", "x": ks, "y": list(getattr(result, metric)), "mode": "markers+lines",
            "name": f"{label} cluster", "marker": {"symbol": symbol, "size": 11, "color": colours},
            "line": {"color": "#B0B0B0", "dash": "dot"}, "hovertemplate": f"k=%{{x}}: {label} cluster %{{y:.1%}}<extra></extra>",
            "xaxis": "x", "yaxis": "y",
        })
    layout["shapes"] = [{  # what add_hrect(row=1, col=1) adds
        "type": "rect", "x0": 0, "x1": 1, "xref": "x domain", "y0": SMALLEST_SEGMENT_SHARE, "y1": LARGEST_SEGMENT_SHARE,
        "yref": "y", "fillcolor": "#2CA02C", "opacity": 0.08, "line": {"width": 0},
    }]
    if result.separation_measured:
        data.append({
            "type": "bar", "x": ks, "y": list(result.separation), "marker": {"color": colours}, "name": "separation",
            "showlegend": False, "text": [f"{v:.0%}" if np.isfinite(v) else "" for v in result.separation],
            "textposition": "outside",
            "hovertemplate": "k=%{x}: best minus worst cluster's bought-again rate %{y:.1%}<extra></extra>",
            "xaxis": "x2", "yaxis": "y2",
        })
    else:
        layout["annotations"].append(
            {"text": "not measured (see the notes)", "showarrow": False, "xref": "x2 domain", "yref": "y2 domain", "x": 0.5, "y": 0.5}
        )
    for axis in ("xaxis", "xaxis2"):
        layout[axis].update(title={"text": "k (clusters)"}, dtick=1)
    layout["yaxis"].update(tickformat=".0%", rangemode="tozero")
    layout["yaxis2"].update(tickformat=".0%", range=[0, 1.1])
    layout.update(title={"text": title}, margin={"t": 80}, height=380, legend={"orientation": "h", "y": -0.25})
    return _figure(data, layout)


def _shown_positions(labels: np.ndarray, max_points: int) -> np.ndarray:
    """Positions to draw: all, or a stratified sample that keeps every cluster."""
    if len(labels) <= max_points:
        return np.arange(len(labels))
    from rfm.clustering.estimator import stratified_sample_indices

    return stratified_sample_indices(labels, max_points, random_state=0)


def pca_scatter(
    projection: PCAProjection, labels: pd.Series, names: Mapping[int, str] | pd.Series, customers: pd.DataFrame, max_points: int = 5_000
) -> go.Figure:
    """Customers on the first two principal components, coloured by cluster, centroids marked.

    ``labels`` is indexed by customer id in the row order of ``projection.coords``; ``customers`` (the RFM
    table) gives the recency, frequency and monetary shown on hover; row ``i`` of
    ``projection.center_coords`` is cluster ``i``. Above ``max_points`` customers a stratified sample that
    keeps every cluster is drawn (the title says how many).
    """
    import plotly.graph_objects as go

    label_values = np.asarray(labels)
    shown = _shown_positions(label_values, max_points)
    rfm_values = customers.reindex(labels.index)[[schema.RECENCY, schema.FREQUENCY, schema.MONETARY]].to_numpy()
    figure = go.Figure()
    for label, colour in cluster_colours(label_values).items():
        rows = shown[label_values[shown] == label]
        name = cluster_name(names, label)
        figure.add_scattergl(
            x=projection.coords[rows, 0], y=projection.coords[rows, 1], mode="markers", name=name,
            marker={"color": colour, "size": 6, "opacity": 0.7},
            # The ids as text and the numbers apart: plotly copies one array of Python objects (ids and numbers
            # together) item by item, on every draw (bench/RESULTS.md).
            text=np.asarray(labels.index[rows].astype(str), dtype=str), customdata=rfm_values[rows],
            hovertemplate="customer %{text}<br>recency %{customdata[0]} days, %{customdata[1]} orders<br>"
            "monetary %{customdata[2]:,.2f}<extra>" + name + "</extra>",
        )
    centre_names = [cluster_name(names, i) for i in range(len(projection.center_coords))]
    figure.add_scatter(
        x=projection.center_coords[:, 0], y=projection.center_coords[:, 1], mode="markers+text", name="centroids",
        text=centre_names, textposition="top center",
        marker={"symbol": "x", "size": 14, "color": "#222222", "line": {"width": 2}},
        hovertemplate="centroid of %{text}<extra></extra>",
    )
    ratio = projection.explained_variance_ratio
    axis = [f"PC{i + 1}" + (f" ({r:.1%} of variance)" if r == r else "") for i, r in enumerate(ratio)]
    figure.update_layout(
        # A short title and a subtitle: the chart often gets half a page, where a long title is cut off.
        title={"text": "Clusters on two principal components", "subtitle": {"text": _sample_note(shown, label_values, projection.warnings)}},
        xaxis_title=axis[0], yaxis_title=axis[1], legend={"title": "cluster", "orientation": "h", "y": -0.18},
        margin={"t": 80}, height=560,
    )
    return figure


def _sample_note(shown: np.ndarray, labels: np.ndarray, warnings=()) -> str:
    """What a scatter shows: every customer, or a sample that keeps every cluster; then any warnings."""
    shown_text = (
        f"{len(shown):,} of {len(labels):,} customers shown (every cluster kept)" if len(shown) < len(labels)
        else f"all {len(labels):,} customers"
    )
    return " ".join([shown_text + ".", *warnings])


def rfm_3d_scatter(customers: pd.DataFrame, labels: pd.Series, names: Mapping[int, str] | pd.Series, max_points: int = 3_000) -> go.Figure:
    """Recency, frequency and monetary in 3-D, coloured by cluster (log axes for F and M when all positive).

    ``labels`` is indexed by customer id (the ids of ``customers``)."""
    import plotly.graph_objects as go

    table = customers.reindex(labels.index)
    label_values = np.asarray(labels)
    shown = _shown_positions(label_values, max_points)
    figure = go.Figure()
    for label, colour in cluster_colours(label_values).items():
        rows = shown[label_values[shown] == label]
        part = table.iloc[rows]
        name = cluster_name(names, label)
        figure.add_scatter3d(
            x=part[schema.RECENCY], y=part[schema.FREQUENCY], z=part[schema.MONETARY], mode="markers", name=name,
            marker={"color": colour, "size": 3, "opacity": 0.7}, customdata=part.index.astype(str),
            hovertemplate="customer %{customdata}<br>recency %{x} days, %{y} orders<br>"
            "monetary %{z:,.2f}<extra>" + name + "</extra>",
        )

    def axis(column: str, may_log: bool) -> dict:
        # Short titles and few ticks: 3-D axis labels overlap one another at any length.
        log = may_log and bool((table[column] > 0).all())
        title = _SHORT_AXIS_TITLES[column] + (" (log)" if log else "")
        return {"title": {"text": title, "font": {"size": 12}}, "type": "log" if log else "linear", "nticks": 5,
                "tickfont": {"size": 10}, **({"dtick": 1} if log else {})}

    figure.update_layout(
        title={"text": "Clusters in R, F and M", "subtitle": {"text": _sample_note(shown, label_values)}},
        scene={
            "xaxis": axis(schema.RECENCY, False),
            "yaxis": axis(schema.FREQUENCY, True),
            "zaxis": axis(schema.MONETARY, True),
            "camera": {"eye": {"x": 1.6, "y": 1.6, "z": 0.9}},
        },
        legend={"title": "cluster", "orientation": "h", "y": -0.05}, margin={"t": 80, "l": 0, "r": 0, "b": 0}, height=620,
    )
    return figure


_SHORT_AXIS_TITLES = {schema.RECENCY: "recency, days", schema.FREQUENCY: "orders", schema.MONETARY: "spend"}


def _feature_labels(feature_names) -> list[str]:
    return [schema.RFM_LABELS.get(f, f) for f in feature_names]


def centers_heatmap(centers_scaled: np.ndarray, feature_names: Sequence[str], names: Sequence[str]) -> go.Figure:
    """Cluster centres in the scaled space (0 = the typical customer), one row per cluster (``names`` in
    the order of the rows of ``centers_scaled``), diverging colours around 0."""
    import plotly.graph_objects as go

    centres = np.asarray(centers_scaled, dtype="float64")
    rows = list(names)
    figure = go.Figure(
        go.Heatmap(
            z=centres, x=_feature_labels(feature_names), y=rows, zmid=0, colorscale="RdBu_r",
            text=[[f"{v:+.2f}" for v in row] for row in centres], texttemplate="%{text}",
            colorbar={"title": "scaled"}, hovertemplate="%{y}, %{x}: %{z:+.2f}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Cluster centres (scaled features: 0 is the typical customer)",
        yaxis={"autorange": "reversed"}, margin={"t": 50}, height=max(300, 45 * len(rows) + 120),
    )
    return figure


def snake_plot(centers_scaled: np.ndarray, feature_names: Sequence[str], names: Sequence[str]) -> go.Figure:
    """One line per cluster across the scaled features (the marketing "snake plot")."""
    import plotly.graph_objects as go

    centres = np.asarray(centers_scaled, dtype="float64")
    labels = _feature_labels(feature_names)
    colours = cluster_colours(range(len(centres)))
    figure = go.Figure()
    for i, (name, row) in enumerate(zip(names, centres)):
        figure.add_scatter(
            x=labels, y=row, mode="lines+markers", name=str(name), line={"color": colours[i]},
            hovertemplate="%{x}: %{y:+.2f}<extra>" + str(name) + "</extra>",
        )
    figure.add_hline(y=0, line_color="#BBBBBB")
    figure.update_layout(
        title="Snake plot: cluster centres across the features",
        xaxis_title="feature", yaxis_title="scaled value (0 = typical customer)",
        legend={"title": "cluster"}, margin={"t": 50}, height=420,
    )
    return figure


def crosstab_heatmap(
    shares: pd.DataFrame,
    counts: pd.DataFrame,
    title: str = "Named segments × clusters: where each segment's customers went",
    x_title: str = "cluster",
    y_title: str = "segment",
    clickable: bool = False,
    share_title: str = "share of the segment",
) -> go.Figure:
    """Groups (rows) against groups (columns): colour is each row's share in each column (rows sum to 100%),
    the number is customers. Named RFM segments × clusters, or first-date × second-date segments.

    ``shares`` and ``counts`` come from ``rfm.clustering.profiles.segment_crosstab`` (rename their columns to the
    cluster names first to show names instead of numbers) or :class:`rfm.trends.migration.Migration`.

    ``share_title`` names the colour bar (what a row is: "share of the segment", "share of the group").

    ``clickable`` lays a point on every non-empty cell (nearly transparent, with the row and column as
    ``customdata``), so that clicking a cell selects it (``st.plotly_chart(on_select=...)`` reports points,
    not heat-map cells)."""
    import plotly.graph_objects as go

    columns = [str(c) for c in shares.columns]
    numbers = counts.reindex(index=shares.index, columns=shares.columns).fillna(0).astype(int).to_numpy()
    hover = "%{y} → %{x}: %{customdata:,} customers (%{z:.1%} of the row)<extra></extra>"
    figure = go.Figure(
        go.Heatmap(
            z=shares.to_numpy(dtype="float64"), x=columns, y=[str(s) for s in shares.index], zmin=0, zmax=1,
            colorscale="Blues", colorbar={"title": share_title, "tickformat": ".0%"},
            text=[[f"{c:,}" if c else "" for c in row] for row in numbers], texttemplate="%{text}", customdata=numbers,
            hovertemplate=hover, hoverinfo="skip" if clickable else None,
        )
    )
    if clickable:
        rows, cols = np.nonzero(numbers)
        names = [str(s) for s in shares.index]
        figure.add_scatter(
            x=[columns[j] for j in cols], y=[names[i] for i in rows], mode="markers", showlegend=False,
            marker={"symbol": "square", "size": 28, "opacity": 0.01, "color": "#000000"},
            customdata=[[names[i], columns[j], int(numbers[i, j]), float(shares.iat[i, j])] for i, j in zip(rows, cols)],
            hovertemplate="%{customdata[0]} → %{customdata[1]}: %{customdata[2]:,} customers "
            "(%{customdata[3]:.1%} of the row). Click to list them.<extra></extra>",
        )
    figure.update_layout(
        title=title,
        xaxis_title=x_title, yaxis={"title": y_title, "autorange": "reversed"},
        margin={"t": 50}, height=max(340, 34 * len(shares.index) + 140),
    )
    return figure


# --- customers over time --------------------------------------------------------------------

_NEW_COLOUR = "#2CA02C"
_LEFT_COLOUR = "#7F7F7F"


def state_colours(states: Iterable[str]) -> dict[str, str]:
    """Segment colours (:func:`segment_colours`) with new customers green and customers who left grey."""
    from rfm.trends.migration import NEW
    from rfm.trends.timeline import LEFT

    colours = segment_colours([s for s in states if s not in (NEW, LEFT)])
    return {**colours, NEW: _NEW_COLOUR, LEFT: _LEFT_COLOUR}


def _translucent(colour: str, alpha: float) -> str:
    if colour.startswith("#"):
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    else:  # "rgb(r, g, b)"
        red, green, blue = (int(float(part)) for part in colour[colour.index("(") + 1 : colour.index(")")].split(","))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def migration_sankey(migration: Migration, highlight: tuple[str, str] | None = None) -> go.Figure:
    """Flows of customers from their first-date state (left) to their second-date state (right).

    New customers enter from a green node, customers who left end in a grey one. ``highlight`` (a flow's
    ``(from, to)``) is drawn stronger than the rest.
    """
    import plotly.graph_objects as go

    flows = migration.flows
    sources, targets = list(migration.matrix.index), list(migration.matrix.columns)
    colours = state_colours([*sources, *targets])
    totals_from, totals_to = migration.matrix.sum(axis=1), migration.matrix.sum(axis=0)
    sources = [s for s in sources if totals_from[s] > 0]
    targets = [t for t in targets if totals_to[t] > 0]
    labels = [f"{s} ({totals_from[s]:,})" for s in sources] + [f"{t} ({totals_to[t]:,})" for t in targets]
    position = {("from", s): i for i, s in enumerate(sources)} | {("to", t): len(sources) + i for i, t in enumerate(targets)}
    strong = [highlight is not None and (a, b) == tuple(highlight) for a, b in zip(flows["from"], flows["to"])]
    # The chosen flow stands out because the others fade, not by an opaque band: node labels are drawn over the
    # bands, and must stay readable over the chosen one too.
    link_colours = [
        _translucent(colours.get(a, _LEFT_COLOUR), 0.6 if bold else (0.12 if highlight is not None else 0.4))
        for a, bold in zip(flows["from"], strong)
    ]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            textfont={"color": "#111111", "size": 12, "shadow": "0 0 3px #ffffff, 0 0 3px #ffffff"},
            node={
                "label": labels, "pad": 14, "thickness": 16,
                # Both columns in the model's order (best segments on top, new and left at the ends), not plotly's.
                "x": [0.001] * len(sources) + [0.999] * len(targets),
                "y": _stacked_positions([totals_from[s] for s in sources]) + _stacked_positions([totals_to[t] for t in targets]),
                "color": [colours.get(s, _LEFT_COLOUR) for s in sources] + [colours.get(t, _LEFT_COLOUR) for t in targets],
                "hovertemplate": "%{label}<extra></extra>",
            },
            link={
                "source": [position[("from", a)] for a in flows["from"]],
                "target": [position[("to", b)] for b in flows["to"]],
                "value": flows["customers"].tolist(),
                "color": link_colours,
                "customdata": np.column_stack([flows["from"], flows["to"], flows["share_of_from"]]),
                "hovertemplate": "%{customdata[0]} → %{customdata[1]}: %{value:,} customers "
                "(%{customdata[2]:.1%} of %{customdata[0]})<extra></extra>",
            },
        )
    )
    figure.update_layout(
        title=f"Where customers went: {migration.from_date} (left) → {migration.to_date} (right)",
        margin={"t": 50, "l": 10, "r": 10, "b": 10}, height=max(420, 26 * max(len(sources), len(targets)) + 120),
    )
    return figure


def _stacked_positions(sizes: list[int]) -> list[float]:
    """Centres of nodes stacked top to bottom in proportion to their sizes, inside (0, 1)."""
    total = float(sum(sizes)) or 1.0
    ends = np.cumsum(sizes) / total
    centres = ends - np.asarray(sizes) / total / 2
    return [float(0.01 + 0.98 * c) for c in centres]


def sizes_over_time_figure(sizes: pd.DataFrame, shares: bool = False) -> go.Figure:
    """Customers per segment at each snapshot, stacked (``shares``: as a share of the customers then)."""
    import plotly.graph_objects as go

    values = sizes.div(sizes.sum(axis=1).where(lambda total: total > 0), axis=0).fillna(0.0) if shares else sizes
    colours = state_colours(sizes.columns)
    figure = go.Figure()
    for state in sizes.columns:
        figure.add_scatter(
            x=[pd.Timestamp(day) for day in sizes.index], y=values[state], name=str(state), mode="lines",
            stackgroup="one", line={"width": 0.5, "color": colours.get(state, _LEFT_COLOUR)},
            customdata=sizes[state].to_numpy(),
            hovertemplate=f"{state}: " + ("%{y:.1%} (%{customdata:,})" if shares else "%{y:,}") + "<extra>%{x|%Y-%m-%d}</extra>",
        )
    figure.update_layout(
        title="Segment sizes over time" + (" (share of customers)" if shares else ""),
        yaxis={"title": "share of customers" if shares else "customers", "tickformat": ".0%" if shares else ","},
        xaxis_title="snapshot", hovermode="x unified", legend={"orientation": "h", "y": -0.2},
        margin={"t": 50}, height=460,
    )
    return figure


_COHORT_TEXT_COLUMNS = 36  # wider than this, the numbers no longer fit in the cells: colour and hover only


def cohort_heatmap(cohorts: CohortTable, measure: str = "retention") -> go.Figure:
    """Cohorts (rows, oldest on top) × months since the first order: the share of each cohort buying in that month
    (``"retention"``, as %) or the cumulative revenue per customer (``"revenue"``); cohort size on hover.

    Months not yet in the data are blank. Month 0 (always 100%) would take the whole colour scale, so retention's
    colours end at the highest later month, and revenue's at the 95th percentile of the cells (the numbers in the
    cells and on hover are exact); a partial last month is marked ``*``.
    """
    import plotly.graph_objects as go

    from rfm.trends.cohorts import MEASURES

    if measure not in MEASURES:
        raise ValueError(f"measure={measure!r} should be one of {', '.join(MEASURES)}")
    values = cohorts.retention if measure == "retention" else cohorts.revenue
    grid = values.to_numpy(dtype="float64")
    small = measure == "revenue" and np.nanmax(grid) < 100  # then cents tell cohorts apart
    number = ".0%" if measure == "retention" else ",.2f" if small else ",.0f"
    partial = cohorts.partial.to_numpy()
    text = [
        [("" if np.isnan(v) else f"{v:{number}}" + ("*" if p else "")) for v, p in zip(row, marks)]
        for row, marks in zip(grid, partial)
    ]
    sizes = cohorts.sizes.to_numpy()
    active = cohorts.active.to_numpy(dtype="float64")
    customdata = np.dstack([np.repeat(sizes[:, None], grid.shape[1], axis=1), np.nan_to_num(active), partial])
    top = _cohort_colour_top(grid, measure)
    detail = "%{customdata[1]:,} of them bought (%{z:.1%})" if measure == "retention" else "%{z:,.2f} per customer so far"
    figure = go.Figure(
        go.Heatmap(
            z=grid, x=[int(m) for m in values.columns], y=[str(c) for c in values.index],
            zmin=0, zmax=top or None, colorscale="Blues",
            colorbar={"title": "customers buying" if measure == "retention" else "revenue per customer", "tickformat": number},
            text=text, texttemplate="%{text}" if grid.shape[1] <= _COHORT_TEXT_COLUMNS else None,
            customdata=customdata, hoverongaps=False,
            hovertemplate="Cohort %{y} (%{customdata[0]:,} customers), month %{x}: " + detail + "<extra></extra>",
        )
    )
    what = "share of each cohort buying" if measure == "retention" else "cumulative revenue per customer"
    # The months run along the top, as in a cohort table; the title sits above their axis title, not on it.
    figure.update_layout(
        title={"text": f"Cohorts by month of first order: {what}, month by month", "y": 0.99, "yanchor": "top"},
        xaxis={"title": {"text": "months since the first order", "standoff": 6}, "dtick": 1, "side": "top"},
        yaxis={"title": "cohort (month of the first order)", "autorange": "reversed", "type": "category"},
        margin={"t": 110}, height=max(380, 22 * len(values.index) + 180), plot_bgcolor="rgba(0,0,0,0)",
    )
    return figure


def _cohort_colour_top(grid: np.ndarray, measure: str) -> float | None:
    """Where a cohort heat map's colours end: retention's at the highest month after month 0 (which is always 100%),
    revenue's at the 95th percentile, so one big cohort (often the first: it holds the customers from before the
    data) does not wash out the rest."""
    if measure != "retention":
        return float(np.nanpercentile(grid, 95))
    later = grid[:, 1:]
    return float(np.nanmax(later)) if np.isfinite(later).any() else None


def distance_bars(distances: pd.Series, chosen: str | None = None) -> go.Figure:
    """Distance from one customer to each cluster centre (scaled space), nearest first; ``chosen`` highlighted."""
    import plotly.graph_objects as go

    ordered = distances.sort_values(ascending=False)  # plotly draws horizontal bars bottom-up: nearest on top
    colours = [_RECOMMENDED_COLOUR if name == chosen else _KEPT_COLOUR for name in ordered.index]
    figure = go.Figure(
        go.Bar(
            x=ordered.to_numpy(), y=[str(name) for name in ordered.index], orientation="h", marker_color=colours,
            text=[f"{value:.2f}" for value in ordered], textposition="auto",
            hovertemplate="%{y}: distance %{x:.2f}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Distance to each segment's centre (standardised units; nearest wins)",
        xaxis_title="distance", height=max(220, 60 + 36 * len(ordered)), margin={"t": 50, "l": 10},
    )
    return figure


def with_point(figure: go.Figure | dict, point: tuple[float, float], label: str) -> go.Figure:
    """A scatter (e.g. :func:`pca_scatter`, as a figure or its ``to_dict()``) with one customer marked as a star.

    Built without re-validating the base figure's traces: the what-if panel redraws this on every slider
    move, and validating a scatter of thousands of points again would cost several times the redraw itself
    (see bench/RESULTS.md).
    """
    import plotly.graph_objects as go

    base = figure if isinstance(figure, dict) else figure.to_dict()
    star = {
        "type": "scatter", "x": [point[0]], "y": [point[1]], "mode": "markers+text", "name": "this customer",
        "text": [label], "textposition": "bottom center",
        "marker": {"symbol": "star", "size": 22, "color": "#E8A33D", "line": {"width": 2, "color": "#222222"}},
        "hovertemplate": "this customer: %{text}<extra></extra>",
    }
    return go.Figure({"data": [*base["data"], star], "layout": base["layout"]}, _validate=False)


# --- predicted value ------------------------------------------------------------------------


def value_heatmap(grid: pd.DataFrame, title: str, colour_title: str, share: bool = False) -> go.Figure:
    """A model's prediction over repeat purchases (columns) × days since the last purchase (rows)
    (:func:`rfm.value.predict.alive_matrix`, :func:`rfm.value.predict.purchases_matrix`)."""
    import plotly.graph_objects as go

    number = ".0%" if share else ".2f"
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype="float64"), x=[int(c) for c in grid.columns], y=[int(i) for i in grid.index],
            colorscale="RdYlGn" if share else "Blues", zmin=0 if share else None, zmax=1 if share else None,
            colorbar={"title": colour_title, "tickformat": number},
            hovertemplate=f"%{{x}} repeat purchases, last one %{{y:,}} days ago: %{{z:{number}}}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title, xaxis_title=grid.columns.name, yaxis={"title": grid.index.name, "autorange": "reversed"},
        margin={"t": 50}, height=440,
    )
    return figure


def value_box(
    values: pd.Series, segments: pd.Series, order: Sequence[str], title: str, axis_title: str, log_scale: bool = True
) -> go.Figure:
    """The distribution of a value per segment (box per segment, in ``order``); a log axis for money."""
    import plotly.graph_objects as go

    order = [str(segment) for segment in order]
    colours = segment_colours(order)
    frame = pd.DataFrame({"segment": segments.reindex(values.index).astype("str"), "value": values})
    figure = go.Figure()
    for segment in order:
        shown = frame.loc[frame["segment"] == segment, "value"]
        if log_scale:
            shown = shown[shown > 0]
        figure.add_box(
            y=shown, name=str(segment), marker_color=colours[segment], boxmean=True, boxpoints=False,
            hovertemplate=f"{segment}: %{{y:,.2f}}<extra></extra>",
        )
    # On a log axis only powers of ten are labelled ("10", "100", "1,000"): plotly's own minor labels ("2", "5")
    # read as a jumble of numbers.
    log_axis = {"type": "log", "dtick": 1, "tickformat": ",.0f"} if log_scale else {"type": "linear"}
    figure.update_layout(
        title=title, yaxis={"title": axis_title, **log_axis},
        showlegend=False, margin={"t": 50}, height=440,
    )
    return figure


def holdout_figure(holdout: Holdout) -> go.Figure:
    """Mean purchases per customer in the holdout period, actual beside predicted, per calibration frequency group."""
    import plotly.graph_objects as go

    table = holdout.table
    figure = go.Figure()
    for column, name, colour in (("actual", "actual", _READ_COLOUR), ("predicted", "predicted (BG/NBD)", _KEPT_COLOUR)):
        figure.add_bar(
            x=table["group"], y=table[column], name=name, marker_color=colour, customdata=table["customers"],
            hovertemplate="%{x} repeat purchases before: %{y:.2f} " + name + " (%{customdata:,} customers)<extra></extra>",
        )
    figure.update_layout(
        title=f"Holdout check: fitted up to {holdout.calibration_end}, predicted to {holdout.observation_end}",
        barmode="group", xaxis={"title": "repeat purchases in the fitting period", "type": "category"},
        yaxis_title="purchases per customer in the holdout", legend={"orientation": "h", "y": -0.2},
        margin={"t": 50}, height=420,
    )
    return figure


#: What a gains chart counts: the customers who bought again, or the revenue after the cut.
GAINS_TARGETS: dict[str, str] = {"buyers": "customers who bought again", "revenue": "revenue after the cut"}


def gains_figure(result: Backtest, of: str = "buyers") -> go.Figure:
    """Cumulative gains of every ordering in ``result`` on one chart, with the random ordering's diagonal: of the
    best x% of customers by each ordering, the share of ``of`` (:data:`GAINS_TARGETS`) they hold."""
    import plotly.graph_objects as go

    if of not in GAINS_TARGETS:
        raise ValueError(f"of should be one of {sorted(GAINS_TARGETS)}; got {of!r}.")
    gains = result.gains if of == "buyers" else result.revenue_gains
    figure = go.Figure()
    figure.add_scatter(
        x=[0, 100], y=[0, 100], mode="lines", name="random order", line={"dash": "dash", "color": _READ_COLOUR},
        hoverinfo="skip",
    )
    share = gains.index.to_numpy() * 100
    for key in gains.columns:
        label = result.rankings.at[key, "label"]
        figure.add_scatter(
            x=share, y=gains[key].to_numpy() * 100, mode="lines", name=label,
            hovertemplate=f"{label}: the best %{{x:.0f}}% hold %{{y:.1f}}% of the {GAINS_TARGETS[of]}<extra></extra>",
        )
    figure.update_layout(
        title=f"Cumulative gains: {GAINS_TARGETS[of]} ({result.holdout_days:,} days after {result.cut})",
        xaxis={"title": "customers, best first by each ordering (%)", "range": [0, 100]},
        yaxis={"title": f"share of the {GAINS_TARGETS[of]} (%)", "range": [0, 100]},
        legend={"orientation": "h", "y": -0.2}, margin={"t": 50}, height=480,
    )
    return figure
