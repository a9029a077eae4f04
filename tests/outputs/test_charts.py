"""Chart data and figures built from result objects."""

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.analyse import analyse
from rfm.outputs.charts import (
    distribution_data,
    distribution_figure,
    ledger_steps,
    ledger_waterfall,
    ledger_waterfall_spec,
)
from rfm.reading.files import read_transactions

TEXT = b"""Invoice,Customer ID,InvoiceDate,Quantity,Price
1,A,2024-01-01,2,5
2,,2024-01-02,1,5
C3,A,2024-01-03,-1,5
4,B,2024-01-04,1,99
"""


def _analysis():
    return analyse(read_transactions(TEXT, "t.csv"))


def test_ledger_steps_go_from_rows_read_to_rows_kept():
    steps = ledger_steps(_analysis().report)
    assert steps["step"].tolist() == ["Rows read", "missing customer id", "cancelled invoice", "Rows kept"]
    assert steps["rows"].tolist() == [4, -1, -1, 2]
    assert steps["measure"].tolist() == ["absolute", "relative", "relative", "total"]


def test_waterfall_figure_carries_the_steps():
    figure = ledger_waterfall(_analysis().report)
    assert list(figure.data[0].x) == ["Rows read", "missing customer id", "cancelled invoice", "Rows kept"]
    assert list(figure.data[0].y) == [4, -1, -1, 2]


def test_the_data_pages_waterfall_spec_steps_down_from_rows_read_to_rows_kept():
    spec = ledger_waterfall_spec(_analysis().report)
    bars = spec["data"]["values"]
    assert [(b["step"], b["start"], b["end"], b["kind"]) for b in bars] == [
        ("Rows read", 0, 4, "read"), ("missing customer id", 4, 3, "removed"), ("cancelled invoice", 3, 2, "removed"),
        ("Rows kept", 0, 2, "kept"),
    ]
    assert [b["label"] for b in bars] == ["4 (100.0%)", "1 (25.0%)", "1 (25.0%)", "2 (50.0%)"]
    assert spec["title"] == "Cleaning ledger: where the rows went"
    assert spec["layer"][0]["encoding"]["x"]["sort"] is None  # the ledger's order, not alphabetical


def test_distribution_log_scale_uses_log1p_and_keeps_readable_ticks():
    table = pd.DataFrame({schema.MONETARY: [0.0, 9.0, 99.0]})
    assert distribution_data(table, schema.MONETARY, True).round(6).tolist() == [0.0, 1.0, 2.0]
    figure = distribution_figure(table, schema.MONETARY, log_scale=True)
    assert list(figure.layout.xaxis.ticktext)[:3] == ["0", "1", "10"]
    assert list(distribution_figure(table, schema.MONETARY, log_scale=False).data[0].x) == [0.0, 9.0, 99.0]


def _segmented():
    # Hand-made: three customers with scores already known.
    return pd.DataFrame(
        {
            schema.RECENCY: [1, 30, 300],
            schema.FREQUENCY: [5, 2, 1],
            schema.MONETARY: [500.0, 100.0, 20.0],
            "r_score": [3, 2, 1],
            "f_score": [3, 2, 2],
            "segment": ["Champions", "At Risk", "At Risk"],
        },
        index=pd.Index(["a", "b", "c"], name=schema.CUSTOMER_ID),
    )


def test_heatmap_data_is_mean_monetary_and_count_per_cell():
    from rfm.outputs.charts import score_heatmap_data

    mean, count = score_heatmap_data(_segmented(), n_bins=3)
    assert list(mean.index) == [3, 2, 1] and list(mean.columns) == [1, 2, 3]
    assert mean.loc[3, 3] == 500.0 and mean.loc[2, 2] == 100.0 and mean.loc[1, 2] == 20.0
    assert count.loc[3, 3] == 1 and count.loc[1, 1] == 0
    assert pd.isna(mean.loc[1, 1])


def test_segment_share_bars_and_treemap():
    from rfm.outputs.charts import segment_share_figure
    from rfm.scoring.classic import segment_summary

    summary = segment_summary(_segmented(), ["Champions", "At Risk"])
    bars = segment_share_figure(summary)
    assert [trace.name for trace in bars.data] == ["share of customers", "share of revenue"]
    assert list(bars.data[0].y) == ["Champions", "At Risk"]
    assert list(bars.data[1].x) == pytest.approx([500 / 620, 120 / 620])
    treemap = segment_share_figure(summary, "treemap")
    assert list(treemap.data[0].values) == [1, 2]


def test_scatter_has_one_trace_per_segment_in_rule_order():
    from rfm.outputs.charts import recency_frequency_scatter

    figure = recency_frequency_scatter(_segmented(), ["Champions", "At Risk", "Lost"])
    assert [trace.name for trace in figure.data] == ["Champions", "At Risk"]
    assert list(figure.data[1].x) == [30, 300]


def test_score_distribution_shows_every_score_even_empty():
    from rfm.outputs.charts import score_distribution_figure
    from rfm.scoring.scores import compute_scores

    table = pd.DataFrame({schema.RECENCY: [1, 2, 3, 4], schema.FREQUENCY: [1, 1, 1, 9], schema.MONETARY: [1.0, 2.0, 3.0, 4.0]})
    figure = score_distribution_figure(compute_scores(table, n_bins=3))
    frequency = figure.data[1]
    assert list(frequency.x) == [1, 2, 3]
    # The three one-order customers have nobody worse -> F=1; 9 orders has 3 worse -> 1 + floor(9 / 4) = 3.
    assert list(frequency.y) == [3, 0, 1]
