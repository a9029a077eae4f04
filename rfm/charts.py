"""Plotly figures built from result objects; the data behind each chart comes from its own function."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfm import schema
from rfm.clean import CleaningReport

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


def ledger_waterfall(report: CleaningReport):
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


def distribution_data(table: pd.DataFrame, column: str, log_scale: bool) -> pd.Series:
    """Values behind a histogram; with ``log_scale`` they are shown as log10(1 + value)."""
    values = table[column].astype("float64")
    return np.log10(values.clip(lower=0) + 1) if log_scale else values


def distribution_figure(table: pd.DataFrame, column: str, log_scale: bool = False, bins: int = 40):
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

def segment_colours(segments) -> dict[str, str]:
    """A stable colour per segment name, in the order given ("Other" grey)."""
    import plotly.express as px

    palette = px.colors.qualitative.Bold + px.colors.qualitative.Pastel
    colours = {}
    for segment in dict.fromkeys(segments):
        colours[segment] = "#9E9E9E" if segment == "Other" else palette[len(colours) % len(palette)]
    return colours


def segment_share_figure(summary: pd.DataFrame, kind: str = "bar"):
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


def score_heatmap(customers: pd.DataFrame, n_bins: int):
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


def score_distribution_figure(scores) -> object:
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


def recency_frequency_scatter(customers: pd.DataFrame, segment_order, segment: str = "segment", max_points: int = 20_000):
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
