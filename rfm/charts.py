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
