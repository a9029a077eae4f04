"""The Trends and Value pages, the campaign KPIs and the value columns elsewhere, headless (AppTest), checked
against the library's own figures for the same data and settings."""

import json
from functools import lru_cache

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.demo import DEMO_PATH
from rfm.segment_run import segment_kpis, segment_run
from rfm.trends.cohorts import cohort_table
from rfm.trends.migration import NEW, migrate
from rfm.trends.timeline import LEFT, default_dates
from rfm.value.predict import (
    ValueSettings,
    churn_band_counts,
    compare_purchase_models,
    customer_value,
    fit_value,
    holdout,
)
from tests.support.app import TINY, app_test, metric_values, open_page, open_tab, upload

pytestmark = pytest.mark.slow



@lru_cache(maxsize=1)
def _demo_run():
    """The library's run of the demo file with the app's defaults (k from the sweep, K-Means)."""
    return segment_run(analyse_file(DEMO_PATH))


def _count(text: str) -> int:
    return int(text.replace(",", ""))


# --- Trends ---------------------------------------------------------------------------------------------------


def test_trends_page_shows_the_libraries_migration():
    run = _demo_run()
    analysis = run.analysis
    from_date, to_date = default_dates(analysis.orders, analysis.report.analysis_date)
    expected = migrate(analysis.orders, run.bundle, from_date, to_date, "segment", 365, analysis_profit_margin(run))
    at = open_page("pages/trends.py")
    assert not at.exception
    metrics = metric_values(at)
    customers = expected.customers
    assert _count(metrics[f"On {from_date}"]) == (customers["from"] != NEW).sum() + expected.still_gone
    # Everyone who had bought by the analysis date: the count of the Data, RFM and Segments pages.
    assert _count(metrics[f"On {to_date}"]) == len(run.labelled) == expected.customers_at_to_date
    assert _count(metrics["New since"]) == (customers["from"] == NEW).sum() > 0
    assert _count(metrics[f"Left by {to_date}"]) == (customers["to"] == LEFT).sum() + expected.still_gone > 0
    # Per segment, the counts add up to the Segments page's once the customers counted as Left are added back.
    reconcile = next(df.value for df in at.dataframe if "counted_as_left" in df.value.columns)
    assert reconcile.drop(index="Total")["customers"].to_dict() == run.labelled["rfm_segment"].value_counts().to_dict()
    # One picture of the moves at a time: the matrix, and the Sankey diagram in its tab; the sizes have their own tab.
    [matrix] = at.get("plotly_chart")
    assert json.loads(matrix.proto.spec)["layout"]["title"]["text"].startswith("Migration matrix: where each group of")
    assert [tab.label for tab in at.tabs] == ["Who moved", "Matrix", "Flows", "Sizes over time", "Cohorts"]
    counts = next(df.value for df in at.dataframe if df.value.index.name == "from")
    pd.testing.assert_frame_equal(counts, expected.matrix)
    # The default flow is the largest move; its customers are listed and offered as a CSV.
    flow = at.selectbox(key="trends_flow").value
    moves = expected.flows[expected.flows["from"] != expected.flows["to"]]
    largest = moves.sort_values("customers", ascending=False, kind="stable").iloc[0]
    assert flow == (largest["from"], largest["to"])
    listing = next(df.value for df in at.dataframe if "orders_between" in df.value.columns)
    assert sorted(listing.index) == sorted(expected.flow_customers(*flow).index)
    labels = [button.proto.label for button in at.get("download_button")]
    assert f"{flow[0]} → {flow[1]} ({largest['customers']:,}, CSV)" in labels
    # What the customers of that move are worth: the Value page's model, summed over them.
    values = customer_value(fit_value(analysis.orders, analysis.report.analysis_date), ValueSettings(margin=analysis_profit_margin(run)))
    worth = values.loc[expected.flow_customers(*flow).index]
    assert listing[schema.PREDICTED_CLV].sum() == pytest.approx(worth[schema.PREDICTED_CLV].sum())
    [said] = [m.value for m in at.markdown if m.value.startswith("**What they are worth:**")]
    assert f"over 12 months {worth[schema.PREDICTED_CLV].sum():,.2f} in all" in said


def analysis_profit_margin(run) -> float:
    return run.bundle.profit_margin


def test_choosing_a_flow_lists_its_customers():
    at = open_page("pages/trends.py")
    options = at.selectbox(key="trends_flow").options
    stayed = next(option for option in options if "(stayed)" in option)
    at.selectbox(key="trends_flow").select_index(options.index(stayed)).run()
    assert not at.exception
    listing = next(df.value for df in at.dataframe if "orders_between" in df.value.columns)
    assert len(listing) > 0 and (listing["from"] == listing["to"]).all()
    assert stayed.startswith(f"{listing['from'].iloc[0]} (stayed)")


def test_the_moves_as_flows_and_the_sizes_over_time_in_their_tabs():
    at = open_page("pages/trends.py")
    flow = at.selectbox(key="trends_flow").value
    open_tab(at, "trends_picture", "Flows")
    assert not at.exception
    [sankey] = at.get("plotly_chart")
    assert json.loads(sankey.proto.spec)["data"][0]["type"] == "sankey"
    assert at.selectbox(key="trends_flow").value == flow  # the flow chosen below is the one highlighted
    open_tab(at, "trends_tab", "Sizes over time")
    assert not at.exception
    [sizes] = at.get("plotly_chart")
    assert json.loads(sizes.proto.spec)["layout"]["title"]["text"].startswith("Segment sizes over time")
    assert any(c.value.startswith("Customers are scored with the same model at the end of every month") for c in at.caption)


def test_trends_by_cluster_weekly_and_bad_dates():
    at = open_page("pages/trends.py")
    at.radio(key="trends_by").set_value("cluster_name").run()
    open_tab(at, "trends_tab", "Sizes over time")
    assert at.radio(key="trends_by").value == "cluster_name"  # the shared controls keep their values from tab to tab
    at.radio(key="trends_every").set_value("week").run()
    at.selectbox(key="trends_left").set_value(0).run()
    assert not at.exception
    assert any("weekly" not in c.value and "snapshots from" in c.value for c in at.caption)
    open_tab(at, "trends_tab", "Who moved")
    assert at.radio(key="trends_by").value == "cluster_name" and at.selectbox(key="trends_left").value == 0
    counts = next(df.value for df in at.dataframe if df.value.index.name == "from")
    names = set(_demo_run().labelled["segment_name"])
    assert set(counts.columns) <= names and LEFT not in counts.columns  # nobody leaves
    first, last = at.date_input(key="trends_dates").value
    at.date_input(key="trends_dates").set_value((last, first)).run()
    assert not at.exception
    assert at.warning[0].value == f"The first date ({last}) must be before the second ({first})."


def test_trends_cohorts_tab_shows_the_librarys_cohorts():
    """The Cohorts tab: the heat map, the table and the two files of :func:`rfm.trends.cohorts.cohort_table`."""
    analysis = analyse_file(DEMO_PATH)
    expected = cohort_table(analysis.orders, analysis.report.analysis_date)
    at = app_test().run()
    at.session_state["trends_tab"] = "Cohorts"  # straight to the tab: it needs no segments, clusters or model
    at.switch_page("pages/trends.py").run()
    assert [tab.label for tab in at.tabs] == ["Who moved", "Sizes over time", "Cohorts"]
    assert not at.exception and not at.error
    metrics = metric_values(at)
    assert _count(metrics["Cohorts"]) == len(expected.sizes) and _count(metrics["Customers"]) == 2999 == expected.sizes.sum()
    assert metrics["Bought again in month 1"] == f"{expected.average(1):.1%}"
    assert metrics["12-month revenue per customer"] == f"{expected.average(11, 'revenue'):,.2f}"
    assert [warning.value for warning in at.warning] == list(expected.warnings)
    [chart] = at.get("plotly_chart")  # only the open tab is drawn: no Sankey, matrix or sizes
    figure = json.loads(chart.proto.spec)
    assert figure["layout"]["title"]["text"].startswith("Cohorts by month of first order: share of each cohort buying")
    assert figure["data"][0]["y"] == [str(cohort) for cohort in expected.sizes.index]
    table = next(df.value for df in at.dataframe if "month_0" in df.value.columns)
    pd.testing.assert_frame_equal(table, expected.as_frames()["retention"])
    how = next(caption.value for caption in at.caption if caption.value.startswith("Read across a row"))
    assert "* marks a partial month" in how and "The data ends on 2011-12-09" in how
    labels = {button.proto.label: button.proto for button in at.get("download_button")}
    assert {"Retention by cohort (CSV)", "Revenue per customer by cohort (CSV)"} <= set(labels)
    at.radio(key="trends_cohort_measure").set_value("revenue").run()
    assert not at.exception
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "cumulative revenue per customer" in figure["layout"]["title"]["text"]
    table = next(df.value for df in at.dataframe if "month_0" in df.value.columns)
    pd.testing.assert_frame_equal(table, expected.as_frames()["revenue"])
    open_tab(at, "trends_tab", "Who moved")  # the other tabs are still whole
    assert not at.exception and len(at.get("plotly_chart")) == 1


def test_trends_cohorts_on_one_month_of_orders_warns():
    """TINY's orders are all in January 2024: the Cohorts tab says why there is nothing to follow, no error."""
    at = upload(app_test().run(), "tiny.csv", TINY)
    at.switch_page("pages/trends.py").run()
    open_tab(at, "trends_tab", "Cohorts")
    assert not at.exception and not at.error
    assert [warning.value for warning in at.warning] == [
        "Every order in this file is in 2024-01: cohort retention needs orders in at least two calendar months (a "
        "first month, and one after it)."
    ]
    assert not at.get("plotly_chart")


# --- Value ----------------------------------------------------------------------------------------------------


def test_value_page_shows_the_fitted_models_figures():
    analysis = _demo_run().analysis
    model = fit_value(analysis.orders, analysis.report.analysis_date)
    at = open_page("pages/value.py")
    assert not at.exception
    settings = ValueSettings(margin=analysis_profit_margin(_demo_run()))
    values = customer_value(model, settings)
    metrics = metric_values(at)
    assert _count(metrics["Customers"]) == len(values) == 2999
    assert metrics["Likely still customers"] == f"{values[schema.P_ALIVE].mean():.0%}"
    assert metrics["Purchases expected in 90 days"] == f"{values[schema.EXPECTED_PURCHASES].sum():,.0f}"
    assert metrics["Predicted CLV, 12 months"] == f"{values[schema.PREDICTED_CLV].sum():,.2f}"
    parameters = next(df.value for df in at.dataframe if "parameter" in df.value.columns)
    assert list(parameters["parameter"]) == [*model.purchases.params_, "p", "q", "v"]
    assert parameters["value"].iloc[0] == pytest.approx(model.purchases.params_["r"])
    assert len(at.get("plotly_chart")) == 3  # P(alive), expected purchases, CLV per segment: the holdout waits for its tab
    # The horizon slider changes the expected purchases, as the library computes them.
    at.slider(key="value_horizon").set_value(30).run()
    expected = customer_value(model, ValueSettings(horizon_days=30, margin=settings.margin))
    assert metric_values(at)["Purchases expected in 30 days"] == f"{expected[schema.EXPECTED_PURCHASES].sum():,.0f}"
    # The holdout tab, once open, is the library's holdout check.
    at.session_state["value_tab"] = "Holdout check"
    at.run()
    assert len(at.get("plotly_chart")) == 4
    table = next(df.value for df in at.dataframe if "predicted" in df.value.columns)
    check = holdout(analysis.orders, analysis.report.analysis_date, at.slider(key="value_holdout_days").value, model.purchase_model)
    pd.testing.assert_frame_equal(table.reset_index(drop=True), check.table)


def test_value_page_compares_the_models_and_takes_an_override():
    """The Models tab compares the three purchase models; auto's pick and why are said; choosing another model
    changes every figure to that model's, and the What-if page follows."""
    analysis = _demo_run().analysis
    orders, day = analysis.orders, analysis.report.analysis_date
    selection = compare_purchase_models(orders, day)
    margin = analysis_profit_margin(_demo_run())
    at = open_page("pages/value.py")
    assert not at.exception and not at.error
    assert at.selectbox(key="value_model").value == "auto"
    comparison = next(df.value for df in at.dataframe if "bic" in df.value.columns)
    expected = selection.table()
    assert comparison["model"].tolist() == ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
    assert comparison["used"].tolist() == [False, False, True]  # Pareto/NBD: the smallest holdout error on the demo
    pd.testing.assert_frame_equal(comparison.drop(columns="used"), expected)
    said = [m.value for m in at.markdown if m.value.startswith("**Purchase model:")]
    assert said == [f"**Purchase model: Pareto/NBD.** {selection.reason}"]
    values = customer_value(fit_value(orders, day, selection=selection), ValueSettings(margin=margin))
    metrics = metric_values(at)
    for band, customers in churn_band_counts(values).items():
        assert _count(metrics[f"{band} churn risk"]) == customers
    customers = next(df.value for df in at.dataframe if schema.CHURN_RISK in df.value.columns)
    for column in (schema.CHURN_RISK, schema.PREDICTED_ORDERS_365D, schema.EXPECTED_NEXT_ORDER, schema.AVG_DAYS_BETWEEN_ORDERS):
        assert column in customers.columns
    assert customers[schema.CHURN_RISK].astype(str).value_counts().to_dict() == values[schema.CHURN_RISK].astype(str).value_counts().to_dict()

    at.selectbox(key="value_model").set_value("bgnbd").run()
    assert not at.exception and not at.error
    bgnbd = customer_value(fit_value(orders, day, "bgnbd"), ValueSettings(margin=margin))
    assert metric_values(at)["Purchases expected in 90 days"] == f"{bgnbd[schema.EXPECTED_PURCHASES].sum():,.0f}"
    assert metric_values(at)["Predicted CLV, 12 months"] == f"{bgnbd[schema.PREDICTED_CLV].sum():,.2f}"
    said = [m.value for m in at.markdown if m.value.startswith("**Purchase model:")]
    assert said == ["**Purchase model: BG/NBD.** BG/NBD, as chosen. Auto would take Pareto/NBD (the smallest holdout error)."]
    comparison = next(df.value for df in at.dataframe if "bic" in df.value.columns)
    assert comparison["used"].tolist() == [True, False, False]
    parameters = next(df.value for df in at.dataframe if "parameter" in df.value.columns)
    assert parameters["model"].tolist()[:4] == ["BG/NBD"] * 4
    # BG/NBD calls every customer without a repeat order alive: they get no churn risk, and the page says so.
    unjudged = int(bgnbd[schema.CHURN_PROBABILITY].isna().sum())
    assert unjudged == int((bgnbd[schema.CHURN_RISK].isna()).sum()) > 0
    assert sum(churn_band_counts(bgnbd)) == len(bgnbd) - unjudged
    assert any(f"{unjudged:,} customers without a repeat order have no churn risk" in c.value for c in at.caption)

    at.switch_page("pages/whatif.py").run()
    assert not at.exception
    [churn] = [m.value for m in at.markdown if m.value.startswith("**Churn risk:**")]
    assert "BG/NBD" in churn and "orders predicted over the next 365 days" in churn
    at.slider(key="whatif_slider_frequency").set_value(1).run()  # a one-time buyer: BG/NBD cannot judge them
    [churn] = [m.value for m in at.markdown if m.value.startswith("**Churn risk:**")]
    assert churn.startswith("**Churn risk:** not judged (BG/NBD calls everyone without a repeat order alive") and "nan" not in churn


def test_a_holdout_that_cannot_be_fitted_leaves_the_other_tabs_whole(monkeypatch):
    """The holdout check failing (here: its fit does not converge) is said in its own tab; the models tab still
    shows the parameters."""
    import rfm.value.predict
    from rfm.errors import RFMInputError

    def no_convergence(*args, **kwargs):
        raise RFMInputError("BG/NBD did not converge: the optimiser stopped with 'ABNORMAL'.")

    monkeypatch.setattr(rfm.value.predict, "holdout", no_convergence)
    at = open_page("pages/value.py")
    at.session_state["value_tab"] = "Holdout check"
    at.run()
    assert not at.exception and not at.error
    assert any("did not converge" in warning.value for warning in at.warning)
    parameters = next(df.value for df in at.dataframe if "parameter" in df.value.columns)
    assert list(parameters["parameter"])[-3:] == ["p", "q", "v"]
    assert len(at.get("plotly_chart")) == 3  # CLV per segment, P(alive), expected purchases: all still drawn


def test_value_page_on_too_few_customers_says_why():
    at = upload(app_test().run(), "tiny.csv", TINY)
    at.switch_page("pages/value.py").run()
    assert not at.exception
    assert not at.error and "BG/NBD" in at.warning[0].value  # too little data: a warning, the page stops
    at.switch_page("pages/export.py").run()  # the other pages go on without the value columns
    assert not at.exception
    assert any(caption.value.startswith("No predicted value for this data:") for caption in at.caption)


# --- the KPIs and the value columns on other pages -------------------------------------------------------------


def test_segments_page_shows_the_campaign_kpis():
    run = _demo_run()
    expected = segment_kpis(run)
    at = open_page("pages/cluster_segments.py")
    assert not at.exception
    kpis = next(df.value for df in at.dataframe if "retention" in df.value.columns)
    pd.testing.assert_frame_equal(kpis, expected.table)
    assert kpis.index[-1] == "All customers" and kpis["customers"].iloc[-1] == 2999
    at.radio(key="kpi_split").set_value("rfm_segment").run()
    kpis = next(df.value for df in at.dataframe if "retention" in df.value.columns)
    assert "Champions" in kpis.index


def test_export_and_whatif_carry_the_predicted_value():
    at = open_page("pages/export.py")
    assert not at.exception
    options = set(at.multiselect(key="export_columns").options)
    assert set(schema.VALUE_LABELS.values()) <= options and set(schema.CHURN_LABELS.values()) <= options
    at.switch_page("pages/whatif.py").run()
    assert not at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("**Predicted value:**")]
    assert len(shown) == 1 and "P(alive)" in shown[0] and "CLV over 12 months" in shown[0]
    [churn] = [m.value for m in at.markdown if m.value.startswith("**Churn risk:**")]
    assert any(f"**Churn risk:** {band} (" in churn for band in ("Low", "Medium", "High"))
    assert "likely to have stopped buying, Pareto/NBD" in churn and "orders predicted over the next 365 days" in churn
    assert "next order expected around 20" in churn or "no next-order date" in churn


def test_trends_on_a_file_of_one_day_warns():
    one_day = b"Invoice,Customer ID,InvoiceDate,Quantity,Price\n1,A,2024-01-01 10:00,1,5\n2,B,2024-01-01 11:00,2,3\n"
    at = upload(app_test().run(), "one-day.csv", one_day)
    at.switch_page("pages/trends.py").run()
    assert not at.exception and not at.error
    assert at.warning[0].value == "Every order in this file is on 2024-01-01: there are no two dates to compare customers on."
    at.switch_page("pages/cluster_segments.py").run()
    assert not at.exception
    assert "no period to measure retention over" in at.info[-1].value


def test_trends_with_an_uploaded_model_label_both_dates_with_it():
    """Last quarter's model (here: one fitted on another file) labels this file's two dates."""
    from rfm.bundle.model import load_bundle

    other = analyse_file(TINY, "tiny.csv")
    model = segment_run(other, k=2).bundle.to_json()
    at = open_page("pages/score.py")
    at.file_uploader(key="model_upload").upload("model.json", model.encode(), "application/json")
    at.run()
    at.switch_page("pages/trends.py").run()
    assert not at.exception
    at.radio(key="trends_model").set_value("saved").run()
    assert not at.exception
    analysis = _demo_run().analysis
    from_date, to_date = default_dates(analysis.orders, analysis.report.analysis_date)
    expected = migrate(analysis.orders, load_bundle(model), from_date, to_date, "segment", 365, analysis_profit_margin(_demo_run()))
    counts = next(df.value for df in at.dataframe if df.value.index.name == "from")
    pd.testing.assert_frame_equal(counts, expected.matrix)
    session = migrate(analysis.orders, _demo_run().bundle, from_date, to_date, "segment", 365)
    assert not counts.equals(session.matrix)  # the uploaded model's cut points differ from the session's
