"""Charts of customers over time and of predicted value, each built from a small hand-made result object:
the migration Sankey, segment sizes over time, the value heat maps and boxes, the holdout bars and the
crosstab heat map."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

from rfm import schema
from rfm.outputs.charts import (
    _stacked_positions,
    crosstab_heatmap,
    holdout_figure,
    migration_sankey,
    sizes_over_time_figure,
    state_colours,
    value_box,
    value_heatmap,
)
from rfm.trends.migration import FROM, NEW, TO, Migration
from rfm.trends.timeline import LEFT
from rfm.value.predict import Holdout

GREEN, GREY = "#2CA02C", "#7F7F7F"
PALETTE = px.colors.qualitative.Bold + px.colors.qualitative.Pastel

# Eight customers between two dates; "Lost" is a state of the model nobody is in at either date.
MOVES = {
    "c1": ("Champions", "Champions"),
    "c2": ("Champions", "At Risk"),
    "c3": ("Champions", "At Risk"),
    "c4": ("At Risk", LEFT),
    "c5": (NEW, "Champions"),
    "c6": (NEW, "Champions"),
    "c7": (NEW, "At Risk"),
    "c8": ("At Risk", "At Risk"),
}
REVENUE = {"c1": 50.0, "c2": 0.0, "c3": 10.0, "c4": 0.0, "c5": 30.0, "c6": 20.0, "c7": 5.0, "c8": 7.0}
SOURCES = [NEW, "Champions", "At Risk", "Lost"]
TARGETS = ["Champions", "At Risk", "Lost", LEFT]
# Flows written out by hand: (from, to, customers).
FLOWS = [
    (NEW, "Champions", 2),
    (NEW, "At Risk", 1),
    ("Champions", "At Risk", 2),
    ("Champions", "Champions", 1),
    ("At Risk", "At Risk", 1),
    ("At Risk", LEFT, 1),
]


def _migration() -> Migration:
    customers = pd.DataFrame(
        {FROM: [m[0] for m in MOVES.values()], TO: [m[1] for m in MOVES.values()], "revenue_between": list(REVENUE.values())},
        index=pd.Index(list(MOVES), name=schema.CUSTOMER_ID),
    )
    matrix = pd.crosstab(customers[FROM], customers[TO]).reindex(index=SOURCES, columns=TARGETS, fill_value=0)
    matrix.index.name, matrix.columns.name = FROM, TO
    flows = pd.DataFrame(FLOWS, columns=[FROM, TO, "customers"])
    flows["share_of_from"] = flows["customers"] / flows.groupby(FROM)["customers"].transform("sum")
    flows["revenue_between"] = [
        sum(REVENUE[c] for c, move in MOVES.items() if move == (a, b)) for a, b in zip(flows[FROM], flows[TO])
    ]
    return Migration(dt.date(2024, 3, 31), dt.date(2024, 6, 30), "segment", 60, customers, matrix, flows, still_gone=0)


def _rgb(colour: str) -> tuple[int, int, int]:
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(part) for part in colour[colour.index("(") + 1 : colour.index(")")].split(","))


def _alpha(rgba: str) -> float:
    assert rgba.startswith("rgba(")
    return float(rgba[rgba.index("(") + 1 : rgba.index(")")].split(",")[3])


# --------------------------------------------------------------------------------------------- Sankey


def test_state_colours():
    colours = state_colours([NEW, "Champions", LEFT, "At Risk", "Other"])
    assert colours[NEW] == GREEN and colours[LEFT] == GREY
    assert colours["Champions"] == PALETTE[0] and colours["At Risk"] == PALETTE[1]
    assert colours["Other"] == "#9E9E9E"


def test_stacked_positions():
    assert _stacked_positions([1, 1, 2]) == pytest.approx([0.1325, 0.3775, 0.745], abs=1e-12)
    assert _stacked_positions([5]) == pytest.approx([0.5])
    assert _stacked_positions([0, 0]) == pytest.approx([0.01, 0.01])


def test_migration_sankey_nodes_and_links():
    migration = _migration()
    figure = migration_sankey(migration)
    assert len(figure.data) == 1
    sankey = figure.data[0]
    assert sankey.type == "sankey"
    labels = list(sankey.node.label)
    # Empty states ("Lost") have no node; both columns keep the model's order.
    left = [f"{NEW} (3)", "Champions (3)", "At Risk (2)"]
    right = ["Champions (3)", "At Risk (4)", f"{LEFT} (1)"]
    assert labels == left + right
    names = [label.rsplit(" (", 1)[0] for label in labels]
    assert list(sankey.node.x) == [0.001] * 3 + [0.999] * 3

    pairs = [(names[s], names[t]) for s, t in zip(sankey.link.source, sankey.link.target)]
    assert pairs == [(a, b) for a, b, _ in FLOWS]
    assert all(s < 3 <= t for s, t in zip(sankey.link.source, sankey.link.target))
    assert list(sankey.link.value) == [n for _, _, n in FLOWS]
    # Every node's size is what its links carry.
    for i, label in enumerate(labels):
        carried = sum(v for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value) if i in (s, t))
        assert label.endswith(f"({carried})")

    y = list(sankey.node.y)
    assert y[:3] == pytest.approx([0.01 + 0.98 * c for c in (3 / 16, 9 / 16, 14 / 16)], abs=1e-12)
    assert y[3:] == pytest.approx([0.01 + 0.98 * c for c in (3 / 16, 10 / 16, 15 / 16)], abs=1e-12)
    for column in (y[:3], y[3:]):
        assert all(0 < v < 1 for v in column)
        assert column == sorted(column) and len(set(column)) == len(column)

    colours = list(sankey.node.color)
    assert colours[0] == GREEN and colours[5] == GREY
    assert colours[1] == colours[3] == PALETTE[0]  # Champions on both sides
    assert colours[2] == colours[4] == PALETTE[1]  # At Risk on both sides
    # Links take their first-date state's colour, half see-through when nothing is highlighted.
    for a, colour in zip([f[0] for f in FLOWS], sankey.link.color):
        expected = GREEN if a == NEW else PALETTE[["Champions", "At Risk"].index(a)]
        assert colour == "rgba({}, {}, {}, 0.4)".format(*_rgb(expected))
    share = [row[2] for row in sankey.link.customdata]
    assert share == pytest.approx([2 / 3, 1 / 3, 2 / 3, 1 / 3, 0.5, 0.5])
    assert "2024-03-31" in figure.layout.title.text and "2024-06-30" in figure.layout.title.text


def test_migration_sankey_highlight():
    figure = migration_sankey(_migration(), highlight=("Champions", "At Risk"))
    alphas = [_alpha(colour) for colour in figure.data[0].link.color]
    # The chosen flow stands out as the others fade; it stays translucent so the labels over it stay readable.
    assert alphas == [0.12, 0.12, 0.6, 0.12, 0.12, 0.12]
    assert figure.data[0].textfont.color == "#111111"
    # A highlight that is not a flow fades every link.
    faded = migration_sankey(_migration(), highlight=("Lost", LEFT))
    assert [_alpha(colour) for colour in faded.data[0].link.color] == [0.12] * len(FLOWS)


# --------------------------------------------------------------------------------------------- sizes over time


SIZES = pd.DataFrame(
    {"Champions": [4, 6, 5], "At Risk": [1, 3, 0], LEFT: [0, 1, 5]},
    index=pd.Index([dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)], name="day"),
)


def test_sizes_over_time_counts():
    figure = sizes_over_time_figure(SIZES)
    assert [trace.name for trace in figure.data] == ["Champions", "At Risk", LEFT]
    for trace, state in zip(figure.data, SIZES.columns):
        assert trace.stackgroup == "one"
        assert list(trace.y) == SIZES[state].tolist()
        assert list(trace.customdata) == SIZES[state].tolist()
        assert [pd.Timestamp(x) for x in trace.x] == [pd.Timestamp(d) for d in SIZES.index]
    assert figure.data[2].line.color == GREY
    assert figure.data[0].line.color == PALETTE[0]
    assert figure.layout.yaxis.title.text == "customers"


def test_sizes_over_time_shares():
    with_empty = pd.concat([SIZES, pd.DataFrame({"Champions": [0], "At Risk": [0], LEFT: [0]}, index=[dt.date(2024, 4, 30)])])
    figure = sizes_over_time_figure(with_empty, shares=True)
    values = np.array([list(trace.y) for trace in figure.data])  # states x snapshots
    np.testing.assert_allclose(values[:, :3].sum(axis=0), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(values[:, 0], [0.8, 0.2, 0.0])
    np.testing.assert_allclose(values[:, 1], [0.6, 0.3, 0.1])
    assert values[:, 3].tolist() == [0.0, 0.0, 0.0]  # nobody yet: zeros, not NaN
    assert [list(trace.customdata) for trace in figure.data] == [with_empty[c].tolist() for c in with_empty.columns]
    assert figure.layout.yaxis.tickformat == ".0%"
    assert "share" in figure.layout.title.text


# --------------------------------------------------------------------------------------------- predicted value


def _grid() -> pd.DataFrame:
    grid = pd.DataFrame([[1.0, 0.9, 0.7], [1.0, 0.5, 0.2]], index=[0, 100], columns=[0, 1, 2])
    grid.index.name, grid.columns.name = "days since last purchase", "repeat purchases"
    return grid


def test_value_heatmap_share():
    figure = value_heatmap(_grid(), "P(alive)", "P(alive)", share=True)
    heat = figure.data[0]
    assert heat.zmin == 0 and heat.zmax == 1
    assert heat.colorbar.tickformat == ".0%"
    assert heat.colorbar.title.text == "P(alive)"
    assert list(heat.x) == [0, 1, 2] and list(heat.y) == [0, 100]
    np.testing.assert_array_equal(np.array(heat.z), _grid().to_numpy())
    assert figure.layout.xaxis.title.text == "repeat purchases"
    assert figure.layout.yaxis.title.text == "days since last purchase"
    assert figure.layout.title.text == "P(alive)"


def test_value_heatmap_counts():
    figure = value_heatmap(_grid() * 3, "Expected purchases", "purchases")
    heat = figure.data[0]
    assert heat.zmin is None and heat.zmax is None
    assert heat.colorbar.tickformat == ".2f"
    assert np.array(heat.z).max() == pytest.approx(3.0)


def test_value_box():
    index = pd.Index([f"c{i}" for i in range(7)], name=schema.CUSTOMER_ID)
    values = pd.Series([100.0, 0.0, 250.0, -5.0, 40.0, 60.0, 10.0], index=index)
    segments = pd.Series(["A", "A", "A", "B", "B", "C", "C"], index=index)
    order = ["C", "A", "B", "D"]
    figure = value_box(values, segments, order, "CLV by segment", "predicted CLV")
    assert [trace.name for trace in figure.data] == order
    assert all(trace.type == "box" for trace in figure.data)
    assert [list(trace.y) for trace in figure.data] == [[60.0, 10.0], [100.0, 250.0], [40.0], []]
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.title.text == "predicted CLV"
    # Only powers of ten are labelled, with separators ("1,000"): plotly's minor labels read "2, 1000, 5, 2, 100".
    assert (figure.layout.yaxis.dtick, figure.layout.yaxis.tickformat) == (1, ",.0f")
    assert [trace.marker.color for trace in figure.data] == PALETTE[:4]

    linear = value_box(values, segments, order, "P(alive)", "P(alive)", log_scale=False)
    assert [list(trace.y) for trace in linear.data] == [[60.0, 10.0], [100.0, 0.0, 250.0], [-5.0, 40.0], []]
    assert linear.layout.yaxis.type == "linear"


def test_holdout_figure():
    table = pd.DataFrame(
        {
            "group": ["0", "1", "2", "7+"],
            "customers": [50, 20, 10, 3],
            "actual": [0.4, 1.1, 1.9, 6.0],
            "predicted": [0.5, 1.0, 2.1, 5.5],
        }
    )
    check = Holdout(dt.date(2011, 4, 7), dt.date(2011, 12, 9), table, 0.1, 82.0, 80.0, {"r": 1.0})
    figure = holdout_figure(check)
    assert figure.layout.xaxis.type == "category"
    assert [trace.type for trace in figure.data] == ["bar", "bar"]
    actual, predicted = figure.data
    assert actual.name == "actual" and predicted.name.startswith("predicted")
    assert list(actual.x) == list(predicted.x) == ["0", "1", "2", "7+"]
    assert list(actual.y) == [0.4, 1.1, 1.9, 6.0]
    assert list(predicted.y) == [0.5, 1.0, 2.1, 5.5]
    assert list(actual.customdata) == [50, 20, 10, 3]
    assert figure.layout.barmode == "group"
    assert "2011-04-07" in figure.layout.title.text and "2011-12-09" in figure.layout.title.text


def test_crosstab_heatmap_with_custom_titles():
    migration = _migration()
    shares = migration.shares
    figure = crosstab_heatmap(
        shares, migration.matrix, title="Moves", x_title="second date", y_title="first date", share_title="share of the first date's group"
    )
    heat = figure.data[0]
    assert figure.layout.title.text == "Moves"
    assert figure.layout.xaxis.title.text == "second date"
    assert figure.layout.yaxis.title.text == "first date"
    assert heat.colorbar.title.text == "share of the first date's group"  # not "share of first date"
    assert list(heat.x) == TARGETS and list(heat.y) == SOURCES
    np.testing.assert_allclose(np.array(heat.z)[1], [1 / 3, 2 / 3, 0, 0])
    assert np.array(heat.customdata).tolist()[2] == [0, 1, 0, 1]
    assert next(list(row) for row in heat.text) == ["2", "1", "", ""]
    default = crosstab_heatmap(shares, migration.matrix)
    assert default.data[0].colorbar.title.text == "share of the segment"
    assert default.layout.xaxis.title.text == "cluster"


def test_value_box_takes_segment_labels_that_are_not_text():
    figure = value_box(pd.Series([1.0, 2.0, 3.0]), pd.Series([0, 1, 1]), [0, 1], "t", "a")
    assert [list(box.y) for box in figure.data] == [[1.0], [2.0, 3.0]]


def test_a_clickable_matrix_has_a_point_on_every_non_empty_cell():
    counts = pd.DataFrame([[2, 0], [1, 3]], index=["Champions", "Left"], columns=["Champions", "At Risk"])
    shares = counts.div(counts.sum(axis=1), axis=0)
    heatmap, points = crosstab_heatmap(shares, counts, clickable=True).data
    assert heatmap.hoverinfo == "skip"
    assert list(zip(points.y, points.x)) == [("Champions", "Champions"), ("Left", "Champions"), ("Left", "At Risk")]
    assert [list(c) for c in points.customdata] == [["Champions", "Champions", 2, 1.0], ["Left", "Champions", 1, 0.25], ["Left", "At Risk", 3, 0.75]]
    assert len(crosstab_heatmap(shares, counts).data) == 1  # not clickable: the heat map alone


def _cohorts():
    """Two cohorts of a data set ending mid-March (see tests/trends/test_cohorts.py for hand-computed tables)."""
    from rfm.cleaning.orders import DATE, VALUE, tidy_orders
    from rfm.trends.cohorts import cohort_table

    rows = [("a", "2024-01-05", 10.0), ("b", "2024-01-20", 30.0), ("a", "2024-02-03", 20.0), ("c", "2024-02-10", 5.0), ("b", "2024-03-15", 4.0)]
    return cohort_table(tidy_orders(pd.DataFrame(rows, columns=[schema.CUSTOMER_ID, DATE, VALUE])))


def test_cohort_heatmap_retention():
    from rfm.outputs.charts import cohort_heatmap

    figure = cohort_heatmap(_cohorts())
    heat = figure.data[0]
    assert list(heat.y) == ["2024-01", "2024-02"] and list(heat.x) == [0, 1, 2]
    np.testing.assert_allclose(np.array(heat.z, dtype=float), [[1.0, 0.5, 0.5], [1.0, 0.0, np.nan]])
    # Month 0 (always 100%) does not take the colour scale: it ends at the highest later month.
    assert heat.zmin == 0 and heat.zmax == 0.5 and heat.colorbar.tickformat == ".0%"
    # Retention as %, the partial last month (March) starred, the future blank.
    assert [list(row) for row in heat.text] == [["100%", "50%", "50%*"], ["100%", "0%*", ""]]
    assert "%{customdata[0]:,} customers" in heat.hovertemplate and "%{customdata[1]:,} of them bought" in heat.hovertemplate
    assert np.array(heat.customdata)[:, :, 0].tolist() == [[2, 2, 2], [1, 1, 1]]  # cohort size on hover
    assert heat.hoverongaps is False
    assert figure.layout.yaxis.autorange == "reversed" and figure.layout.xaxis.title.text == "months since the first order"


def test_cohort_heatmap_revenue():
    from rfm.outputs.charts import cohort_heatmap

    heat = cohort_heatmap(_cohorts(), "revenue").data[0]
    np.testing.assert_allclose(np.array(heat.z, dtype=float), [[20.0, 30.0, 32.0], [5.0, 5.0, np.nan]])
    assert heat.zmax == pytest.approx(np.percentile([20.0, 30.0, 32.0, 5.0, 5.0], 95))
    assert heat.colorbar.title.text == "revenue per customer"
    assert [list(row) for row in heat.text] == [["20.00", "30.00", "32.00*"], ["5.00", "5.00*", ""]]
    with pytest.raises(ValueError, match="measure='orders' should be one of retention, revenue"):
        cohort_heatmap(_cohorts(), "orders")
