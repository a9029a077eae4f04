"""Every page, headless (streamlit.testing AppTest): what the user sees, and no exception."""

import logging
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.reference import WORKBOOK
import ui

ROOT = Path(__file__).resolve().parents[1]
TINY = b"""Invoice,Customer ID,InvoiceDate,Quantity,Price,Country
1,A,2024-01-01 10:00,2,5.00,UK
2,B,2024-01-05 09:00,1,10.00,France
C3,A,2024-01-06 09:00,-1,5.00,UK
"""


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)


def _metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def _ledger(at: AppTest) -> dict[str, int]:
    frame = next(df.value for df in at.dataframe if "rule" in df.value.columns)
    return dict(zip(frame["rule"], frame["rows"]))


def _upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="upload").upload(name, data, mime)
    return at.run()


def test_opens_on_demo_data():
    at = _app().run()
    assert not at.exception
    assert at.subheader[0].value == "Demo data: demo_online_retail.xlsx"
    metrics = _metrics(at)
    assert int(metrics["Rows read"].replace(",", "")) > 40_000
    assert int(metrics["Customers"].replace(",", "")) > 2_000
    # The demo workbook's two sheets overlap, so the ledger merges repeated invoices.
    assert any("Rows read" in caption.value for caption in at.caption)
    assert len(at.get("plotly_chart")) == 1


def test_upload_a_csv_then_back_to_demo():
    at = _upload(_app().run(), "tiny.csv", TINY)
    assert not at.exception
    assert at.subheader[0].value == "tiny.csv"
    assert any("3 rows scanned by DuckDB straight from the file" in caption.value for caption in at.caption)
    assert _metrics(at)["Rows read"] == "3"
    assert _metrics(at)["Rows kept"] == "2"
    assert _metrics(at)["Customers"] == "2"
    assert _metrics(at)["Revenue"] == "20.00"
    assert _ledger(at)["cancelled invoice"] == 1
    at.button(key="demo").click().run()
    assert at.subheader[0].value.startswith("Demo data")


@pytest.mark.skipif(not WORKBOOK.exists(), reason="real data not present")
def test_upload_real_workbook():
    at = _upload(_app().run(), WORKBOOK.name, WORKBOOK.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert not at.exception
    metrics = _metrics(at)
    assert (metrics["Rows read"], metrics["Rows kept"], metrics["Customers"]) == ("34,766", "32,959", "260")
    assert at.multiselect(key="sheets").options == ["Year 2009-2010", "Year 2010-2011"]


@pytest.mark.skipif(not WORKBOOK.exists(), reason="real data not present")
def test_choices_of_one_file_do_not_leak_into_the_next():
    at = _upload(_app().run(), WORKBOOK.name, WORKBOOK.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    at.multiselect(key="sheets").select("Year 2010-2011").run()
    assert _metrics(at)["Rows read"] == "20,497"
    at = _upload(at, "tiny.csv", TINY)
    assert not at.exception and not at.error
    assert _metrics(at)["Rows read"] == "3"
    at.button(key="demo").click().run()
    assert not at.exception and not at.error
    assert at.multiselect(key="sheets").value == []  # the demo starts on every sheet again


def test_bad_file_shows_one_clear_error_and_the_app_stays_usable():
    at = _upload(_app().run(), "empty.csv", b"")
    assert not at.exception
    assert [error.value for error in at.error] == ["empty.csv is empty: it has no header and no rows."]
    at.button(key="demo").click().run()
    assert not at.error
    assert at.subheader[0].value.startswith("Demo data")


def test_mapping_change_is_applied():
    at = _upload(_app().run(), "tiny.csv", TINY)
    at.selectbox(key="map_customer_id").set_value("(none)")
    at.button[1].click().run()  # "Apply mapping" (the demo button is the first)
    assert not at.exception
    assert "could be recognised as customer_id" in at.error[0].value
    # The mapping form stays on screen: map the column back.
    at.selectbox(key="map_customer_id").set_value("Customer ID")
    at.button[1].click().run()
    assert not at.error
    assert _metrics(at)["Customers"] == "2"


def test_cleaning_option_changes_the_ledger():
    at = _upload(_app().run(), "tiny.csv", TINY)
    at.text_input(key="cancel_prefix").set_value("")
    at.button[2].click().run()  # "Apply cleaning options"
    assert not at.exception
    # Without the cancel rule the C-invoice line (quantity -1) falls to the quantity rule instead.
    assert _metrics(at)["Rows kept"] == "2"
    ledger = _ledger(at)
    assert "cancelled invoice" not in ledger
    assert ledger["quantity ≤ 0"] == 1


def test_file_over_the_upload_limit(monkeypatch):
    monkeypatch.setattr(ui, "upload_limit_mb", lambda: 0)
    at = _upload(_app().run(), "tiny.csv", TINY)
    assert not at.exception
    assert "tiny.csv is 155 bytes, over the upload limit" in at.error[0].value


def test_rfm_page_shows_the_table_and_histograms():
    at = _upload(_app().run(), "tiny.csv", TINY)
    at.switch_page("pages/rfm_table.py").run()
    assert not at.exception
    assert _metrics(at)["Customers"] == "2"
    assert len(at.get("plotly_chart")) == 7  # two customers are enough for every chart
    at.toggle(key="log_scale").set_value(False).run()
    assert not at.exception
    at.text_input(key="search").set_value("B").run()
    assert any(caption.value.startswith("1 of 2 customers") for caption in at.caption)


def test_rfm_page_opens_on_demo_data():
    at = _app().run()
    at.switch_page("pages/rfm_table.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 7
    assert int(_metrics(at)["Customers"].replace(",", "")) > 2_000


def _open(page: str) -> AppTest:
    """A new session on the demo data, on ``page``."""
    return _app().run().switch_page(page).run()


def _rfm_page() -> AppTest:
    return _open("pages/rfm_table.py")


def _frame(at: AppTest, column: str):
    """The first st.dataframe on the page that has ``column``."""
    return next(df.value for df in at.dataframe if column in df.value.columns or df.value.index.name == column)


def test_rfm_page_has_scores_segments_and_tiers():
    at = _rfm_page()
    assert not at.exception
    assert [tab.label for tab in at.tabs] == ["Customers", "Scores", "Segments", "Outlier tiers"]
    # 3 histograms, score distribution, segment shares, heatmap, scatter.
    assert len(at.get("plotly_chart")) == 7
    cuts = _frame(at, "holds")
    assert len(cuts) == 15
    assert cuts["customers"].sum() == 3 * int(_metrics(at)["Customers"].replace(",", ""))
    summary = _frame(at, "revenue_share")
    assert "Champions" in summary.index and "action" in summary.columns
    # The demo data has many one-order customers: a frequency score is unreachable, and the page says so.
    assert any("cannot be reached" in warning.value for warning in at.warning)


def test_changing_the_number_of_scores():
    at = _rfm_page()
    at.select_slider(key="n_bins").set_value(4).run()
    assert not at.exception
    assert len(_frame(at, "holds")) == 12
    assert at.session_state["segment_settings"].n_bins == 4


def test_editing_a_rule_renames_the_segment_everywhere():
    at = _rfm_page()
    # AppTest has no cell editor: set the editor's edits as the browser would send them.
    at.session_state["rules_editor"] = {"edited_rows": {0: {"segment": "Best Friends"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.form_submit_button[1].click().run()  # "Apply rules"
    assert not at.exception and not at.error
    summary = _frame(at, "revenue_share")
    assert "Best Friends" in summary.index and "Champions" not in summary.index
    assert (_frame(at, "recency_days")["segment"] == "Best Friends").sum() == summary.loc["Best Friends", "customers"]
    at.button(key="reset_rules").click().run()
    assert "Champions" in _frame(at, "revenue_share").index


def test_an_invalid_rule_is_refused_with_a_clear_message():
    at = _rfm_page()
    at.session_state["rules_editor"] = {"edited_rows": {2: {"r_min": 9}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.form_submit_button[1].click().run()
    assert not at.exception
    assert [error.value for error in at.error] == ["Rule 3 (Potential Loyalist): r_min should be a whole score from 1 to 5; got 9."]
    assert at.session_state["segment_settings"].rules is None  # nothing applied


def test_custom_recency_thresholds():
    at = _rfm_page()
    at.text_input(key="thresholds_recency_days").set_value("30, 90, 180, 365")
    at.form_submit_button[0].click().run()  # "Apply thresholds"
    assert not at.exception and not at.error
    cuts = _frame(at, "holds")
    assert cuts.iloc[0]["holds"] == "last purchase ≤ 30 days ago"
    at.text_input(key="thresholds_recency_days").set_value("30, 20, 180, 365")
    at.form_submit_button[0].click().run()
    assert "thresholds must be numbers in increasing order" in at.error[0].value


def test_outlier_multiplier_moves_the_fence():
    at = _rfm_page()
    fences = _frame(at, "fence")
    at.slider(key="iqr_multiplier").set_value(3.0).run()
    assert not at.exception
    wider = _frame(at, "fence")
    assert (wider["fence"] > fences["fence"]).all()
    assert (wider["customers above"] <= fences["customers above"]).all()


def _clusters_page() -> AppTest:
    return _open("pages/clusters.py")


def test_clusters_page_recommends_k_and_fits():
    at = _clusters_page()
    assert not at.exception
    assert at.info[0].value.startswith("**Recommended k = ")
    recommended = int(at.info[0].value.split("=")[1].split(".")[0])
    assert at.slider(key="k").value == recommended
    assert len(at.get("plotly_chart")) == 2  # the k-sweep metrics and the stability chart
    assert len(at.metric) == recommended  # one size per fitted cluster


def test_k_slider_and_algorithm_switch_refit():
    at = _clusters_page()
    at.slider(key="k").set_value(5).run()
    assert not at.exception
    assert at.session_state["cluster_pick"] == (5, "kmeans")
    assert len(at.metric) == 5
    at.selectbox(key="algorithm").set_value("gmm").run()
    assert not at.exception
    assert at.session_state["cluster_pick"] == (5, "gmm")
    at.toggle(key="compare").set_value(True).run()
    comparison = next(df.value for df in at.dataframe if "noise_share" in df.value.columns)
    assert list(comparison.index) == ["K-Means", "Gaussian mixture", "DBSCAN", "HDBSCAN"]


def test_segments_page_names_profiles_and_renames():
    at = _clusters_page()
    at.slider(key="k").set_value(4).run()
    at.switch_page("pages/cluster_segments.py").run()
    assert not at.exception
    profiles = next(df.value for df in at.dataframe if "revenue_share" in df.value.columns)
    assert len(profiles) == 4 and "action" in profiles.columns
    assert len(at.get("plotly_chart")) == 5  # PCA, 3-D, centres, snake plot, crosstab
    at.session_state["names_editor"] = {"edited_rows": {0: {"name": "Our best"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.form_submit_button[0].click().run()
    assert not at.exception
    renamed = next(df.value for df in at.dataframe if "revenue_share" in df.value.columns)
    assert "Our best" in renamed.index and len(renamed) == 4
    assert at.session_state["cluster_renames"][0][:2] == (0, "Our best")


# --- Act: Export, What if, Score ---------------------------------------------------------------------


def _downloads(at: AppTest) -> dict[str, object]:
    return {button.proto.label: button.proto for button in at.get("download_button")}


def test_export_page_offers_every_list_and_file():
    at = _open("pages/export.py")
    assert not at.exception
    sizes = next(df.value for df in at.dataframe if "customers" in df.value.columns)
    downloads = _downloads(at)
    for name, row in sizes.iterrows():
        assert f"{name} ({row['customers']:,})" in downloads
    assert sizes["customers"].sum() == 2999
    labels = " | ".join(downloads)
    for wanted in ("lists (ZIP)", "Every customer (2,999, one CSV)", "Excel workbook", "HTML report", "model.json"):
        assert wanted in labels
    assert all(button.deferred_file_id for button in downloads.values())  # files are built only when clicked


def test_export_page_split_by_rfm_segment_and_choose_segments():
    at = _open("pages/export.py")
    at.radio(key="export_split").set_value("rfm_segment").run()
    assert not at.exception
    at.multiselect(key="export_segments_rfm_segment").set_value(["Champions", "Lost"]).run()
    downloads = _downloads(at)
    assert any(label.startswith("Champions (") for label in downloads)
    assert "2 lists (ZIP)" in downloads
    at.multiselect(key="export_segments_rfm_segment").set_value([]).run()
    assert at.info[0].value == "Choose at least one segment to export."


def _whatif_page() -> AppTest:
    return _open("pages/whatif.py")


def test_whatif_slider_changes_the_prediction():
    at = _whatif_page()
    assert not at.exception
    before = at.metric[0].value
    assert at.slider(key="whatif_slider_frequency").value == 2  # the median customer
    at.slider(key="whatif_slider_frequency").set_value(15).run()
    at.slider(key="whatif_slider_recency_days").set_value(3).run()
    assert not at.exception
    assert at.number_input(key="whatif_number_frequency").value == 15  # the number follows the slider
    assert at.metric[0].value != before
    assert len(at.get("plotly_chart")) == 2  # distances and the PCA scatter
    assert any(caption.value.startswith("Answered in ") for caption in at.caption)


def test_whatif_starts_at_a_customer_and_applies_a_move():
    at = _whatif_page()
    at.text_input(key="whatif_customer").input("12358").run()
    assert not at.exception
    assert at.slider(key="whatif_slider_recency_days").value == 427
    moves = [md.value for md in at.markdown if md.value.startswith("- ")]
    assert moves and "→" in moves[0]
    before = at.metric[0].value
    at.button(key="whatif_try_0").click().run()
    assert not at.exception
    assert at.metric[0].value != before  # the first move reaches a better segment
    at.text_input(key="whatif_customer").input("no-such-id").run()
    assert "No customer 'no-such-id'" in at.warning[0].value


def test_score_page_scores_the_file_with_an_uploaded_model():
    from rfm.clustering import ClusterSettings
    from rfm.pipeline import analyse_file
    from rfm.run import segment_run

    model = segment_run(analyse_file(TINY, "tiny.csv"), cluster_settings=ClusterSettings(), k=2).bundle.to_json()
    at = _open("pages/score.py")
    assert not at.exception and "Upload a model.json" in at.info[0].value
    at.file_uploader(key="model_upload").upload("model.json", model.encode(), "application/json")
    at.run()
    assert not at.exception
    assert "tiny.csv" in at.success[0].value
    assert _metrics(at)["Customers scored"] == "2,999"
    sizes = next(df.value for df in at.dataframe if "customers" in df.value.columns)
    assert sizes["customers"].sum() == 2999


def test_score_page_refuses_a_corrupt_model_and_stays_usable():
    at = _open("pages/score.py")
    at.file_uploader(key="model_upload").upload("model.json", b'{"format": "rfm-studio-model", "format_version": 7}', "application/json")
    at.run()
    assert not at.exception
    assert "format_version 7" in at.error[0].value
    at.switch_page("pages/rfm_table.py").run()
    assert not at.exception


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def server_log():
    handler = _Records()
    logging.getLogger("rfm_studio").addHandler(handler)
    yield handler.records
    logging.getLogger("rfm_studio").removeHandler(handler)


def _apology(at: AppTest) -> str:
    import re

    texts = [element.value for element in at.error if "something went wrong on our side" in element.value]
    assert len(texts) == 1, [element.value for element in at.error]
    assert "Traceback" not in texts[0] and "RuntimeError" not in texts[0]
    return re.search(r"reference \*\*([0-9A-F]{8})\*\*", texts[0]).group(1)


def test_an_unexpected_error_is_logged_with_a_reference_and_the_app_stays_usable(monkeypatch, server_log):
    import rfm.charts

    def broken(*args, **kwargs):
        raise RuntimeError("boom in the waterfall")

    monkeypatch.setattr(rfm.charts, "ledger_waterfall", broken)
    at = _app().run()
    assert not at.exception
    reference = _apology(at)
    logged = [r for r in server_log if reference in r.getMessage()]
    assert len(logged) == 1 and "boom in the waterfall" in str(logged[0].exc_info[1])
    monkeypatch.undo()
    at.switch_page("pages/rfm_table.py").run()  # the other pages still work
    assert not at.exception and not at.error
    at.switch_page("pages/data.py").run()  # and so does this one, once the fault is gone
    assert not at.exception and not at.error


def test_an_unexpected_error_in_the_whatif_fragment_is_apologised_for(monkeypatch, server_log):
    import rfm.whatif

    def broken(*args, **kwargs):
        raise RuntimeError("boom in predict")

    monkeypatch.setattr(rfm.whatif, "predict", broken)
    at = _whatif_page()
    assert not at.exception
    reference = _apology(at)
    assert any(reference in r.getMessage() for r in server_log)
