"""Every page, headless (streamlit.testing AppTest): what the user sees, and no exception."""

import io
import logging

import pytest
from streamlit.testing.v1 import AppTest

import ui
from devkit.data import WORKBOOK
from tests.support.app import (
    TINY,
    app_test,
    clusters_page,
    data_page_figures,
    download_buttons,
    files_that_read,
    frame_with,
    keyed,
    ledger_rows,
    markdown_table,
    metric_values,
    open_box,
    open_page,
    open_tab,
    rfm_page,
    sales_file,
    upload,
)

pytestmark = pytest.mark.slow


def test_opens_on_demo_data():
    at = app_test().run()
    assert not at.exception
    assert at.subheader[0].value == "Demo data: demo_online_retail.xlsx"
    metrics = metric_values(at)
    assert int(metrics["Rows read"].replace(",", "")) > 40_000
    assert int(metrics["Customers"].replace(",", "")) > 2_000
    # The demo workbook's two sheets overlap, so the ledger merges repeated invoices.
    assert any("Rows read" in caption.value for caption in at.caption)
    # The waterfall is Streamlit's own Vega-Lite (no plotly in the browser), drawn when its tab is opened.
    assert not at.get("vega_lite_chart") and not at.get("plotly_chart")
    at = open_box(at, "ledger_view", "Waterfall")
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 1 and not at.get("plotly_chart")


def test_upload_a_csv_then_back_to_demo():
    at = upload(app_test().run(), "tiny.csv", TINY)
    assert not at.exception
    assert at.subheader[0].value == "tiny.csv"
    assert any("3 rows scanned by DuckDB straight from the file" in caption.value for caption in at.caption)
    assert metric_values(at)["Rows read"] == "3"
    assert metric_values(at)["Rows kept"] == "2"
    assert metric_values(at)["Customers"] == "2"
    assert metric_values(at)["Revenue"] == "20.00"
    assert ledger_rows(at)["cancelled invoice"] == 1
    at.button(key="demo").click().run()
    assert at.subheader[0].value.startswith("Demo data")


@pytest.mark.skipif(not WORKBOOK.exists(), reason="real data not present")
def test_upload_real_workbook():
    at = upload(app_test().run(), WORKBOOK.name, WORKBOOK.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert not at.exception
    metrics = metric_values(at)
    assert (metrics["Rows read"], metrics["Rows kept"], metrics["Customers"]) == ("34,766", "32,959", "260")
    assert at.expander[0].label == "Sheets to combine: every sheet with transaction columns"
    at = open_box(at, "sheets_open")  # the choice is drawn when opened
    assert keyed(at.multiselect, "sheets").options == ["Year 2009-2010", "Year 2010-2011"]


@pytest.mark.skipif(not WORKBOOK.exists(), reason="real data not present")
def test_choices_of_one_file_do_not_leak_into_the_next():
    at = upload(app_test().run(), WORKBOOK.name, WORKBOOK.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    keyed(open_box(at, "sheets_open").multiselect, "sheets").select("Year 2010-2011").run()
    assert metric_values(at)["Rows read"] == "20,497"
    assert at.expander[0].label == "Sheets to combine: Year 2010\\-2011"  # shown as it is (ui.as_text)
    at = upload(at, "tiny.csv", TINY)
    assert not at.exception and not at.error
    assert metric_values(at)["Rows read"] == "3"
    at.button(key="demo").click().run()
    assert not at.exception and not at.error
    assert at.expander[0].label == "Sheets to combine: every sheet with transaction columns"  # the demo: every sheet again
    assert keyed(open_box(at, "sheets_open").multiselect, "sheets").value == []


def test_bad_file_shows_one_clear_error_and_the_app_stays_usable():
    at = upload(app_test().run(), "empty.csv", b"")
    assert not at.exception
    assert [error.value for error in at.error] == ["empty.csv is empty: it has no header and no rows."]
    at.button(key="demo").click().run()
    assert not at.error
    assert at.subheader[0].value.startswith("Demo data")


def test_mapping_change_is_applied():
    at = open_box(upload(app_test().run(), "tiny.csv", TINY), "mapping_open")
    keyed(at.selectbox, "map_customer_id").set_value("(none)")
    at.button(key="FormSubmitter:mapping-Apply mapping").click().run()
    assert not at.exception
    assert "could be recognised as customer_id" in at.error[0].value
    # The mapping form stays on screen: map the column back.
    keyed(at.selectbox, "map_customer_id").set_value("Customer ID")
    at.button(key="FormSubmitter:mapping-Apply mapping").click().run()
    assert not at.error
    assert metric_values(at)["Customers"] == "2"


def test_the_demo_maps_email_and_phone_in_the_mapping_form():
    at = app_test().run()
    at.button(key="demo").click().run()
    assert not at.exception and not at.error
    assert not at.selectbox  # the form is drawn when opened
    at = open_box(at, "mapping_open")
    shown = {box.label: box.value for box in at.selectbox if str(box.key).startswith("map_")}
    assert (shown["Email"], shown["Phone"]) == ("Email", "Phone")


def test_apply_mapping_without_changes_changes_nothing():
    """For every readable file of the corpus, two public shapes and the real workbook, one after the other in one
    session: pressing *Apply mapping* without touching the form leaves every figure of the Data page as it was."""
    at = open_box(app_test().run(), "mapping_open")  # stays open from one file to the next
    checked = 0
    for name, data in files_that_read():
        at = upload(at, name, data, "application/octet-stream")
        if at.error:  # a file refused for its content (e.g. too few customers): nothing to re-map
            continue
        before = data_page_figures(at)
        at.button(key="FormSubmitter:mapping-Apply mapping").click().run()
        assert not at.exception, name
        assert data_page_figures(at) == before, name
        checked += 1
    assert checked >= 30


def test_the_mapping_form_starts_from_the_current_files_mapping():
    at = open_box(upload(app_test().run(), "sales_data_sample.csv", sales_file()), "mapping_open")
    shown = {box.label: box.value for box in at.selectbox if str(box.key).startswith("map_")}
    assert shown["Line amount (instead of quantity × price)"] == "SALES"
    assert shown["Customer ID"] == "CUSTOMERNAME"
    # The amount is the SALES column, not quantity x the capped price.
    assert metric_values(at)["Revenue"] == f"{sum((20 + o % 7) * (60.0 + 30 * line) for o in range(40) for line in (1, 2, 3)):,.2f}"


def test_a_date_order_the_values_cannot_tell_is_asked_first():
    one_day = b"Invoice,Customer ID,InvoiceDate,Quantity,Price\n" + b"".join(
        f"{500 + i},{100 + i % 7},1/12/2010 09:{i:02d},1,{2.5 + i}\n".encode() for i in range(30)
    )
    at = upload(app_test().run(), "one_day.csv", one_day)
    assert not at.exception
    first = at.warning[0].value
    assert first.startswith("**Which date order does this file use?**") and "12 January 2010" in first
    confirm = next(button for button in at.button if button.label.startswith("Day first: 1 December 2010"))
    confirm.click().run()
    assert not at.exception
    assert metric_values(at)["Days of purchases"] == "1"
    assert not any("Which date order" in warning.value for warning in at.warning)  # confirmed: asked no more
    assert any("day-first (chosen by the user)" in caption.value for caption in at.caption)


def test_cleaning_option_changes_the_ledger():
    at = open_box(upload(app_test().run(), "tiny.csv", TINY), "cleaning_open")
    keyed(at.text_input, "cancel_prefix").set_value("")
    at.button(key="FormSubmitter:cleaning-Apply cleaning options").click().run()
    assert not at.exception
    # Without the cancel rule the C-invoice line (quantity -1) falls to the quantity rule instead.
    assert metric_values(at)["Rows kept"] == "2"
    ledger = ledger_rows(at)
    assert "cancelled invoice" not in ledger
    assert ledger["quantity ≤ 0"] == 1


def test_file_over_the_upload_limit(monkeypatch):
    monkeypatch.setattr(ui.state, "upload_limit_mb", lambda: 0)
    at = upload(app_test().run(), "tiny.csv", TINY)
    assert not at.exception
    assert "tiny.csv is 155 bytes, over the upload limit" in at.error[0].value


def test_rfm_page_shows_the_table_and_histograms():
    at = upload(app_test().run(), "tiny.csv", TINY)
    at.switch_page("pages/rfm_table.py").run()
    assert not at.exception
    assert metric_values(at)["Customers"] == "2"
    assert len(at.get("plotly_chart")) == 3  # the Customers tab: three histograms (two customers are enough)
    for tab, charts in (("Scores", 1), ("Segments", 3)):
        assert len(open_tab(at, "rfm_tab", tab).get("plotly_chart")) == charts, tab
    open_tab(at, "rfm_tab", "Customers")
    at.toggle(key="log_scale").set_value(False).run()
    assert not at.exception
    keyed(at.text_input, "search").set_value("B").run()
    assert any(caption.value.startswith("1 of 2 customers") for caption in at.caption)


def test_rfm_page_words_counts_and_examples():
    at = upload(app_test().run(), "tiny.csv", TINY)
    at.switch_page("pages/rfm_table.py").run()
    assert metric_values(at)["Median frequency"] == "1 invoice"  # not "1 invoices"
    search = keyed(at.text_input, "search")
    ids = list(frame_with(at, "recency_days").index)
    assert search.placeholder == f"e.g. {ids[0]}" and ids[0] in ("A", "B")  # an id of this file, not "12346"


def test_rfm_page_opens_on_demo_data():
    at = app_test().run()
    at.switch_page("pages/rfm_table.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 3  # the Customers tab: three histograms
    assert int(metric_values(at)["Customers"].replace(",", "")) > 2_000


def test_rfm_page_has_scores_segments_and_tiers():
    at = rfm_page()
    assert not at.exception
    assert [tab.label for tab in at.tabs] == ["Customers", "Scores", "Segments", "Outlier tiers", "Lifecycle stages"]
    assert len(at.get("plotly_chart")) == 1  # only the open tab is drawn: the score distribution
    cuts = frame_with(at, "holds")
    assert len(cuts) == 15
    assert cuts["customers"].sum() == 3 * int(metric_values(at)["Customers"].replace(",", ""))
    open_tab(at, "rfm_tab", "Segments")
    assert len(at.get("plotly_chart")) == 3  # segment shares, heat map, scatter
    summary = frame_with(at, "revenue_share")
    assert "Champions" in summary.index and "action" in summary.columns
    open_tab(at, "rfm_tab", "Scores")
    # The demo data's 1,117 one-order customers (37% of 2,999) have nobody worse: F=1. With 5 scores that
    # block ends inside F=2's share (2 x 2,999 / 5 = 1,199.6) and every score holds someone; with 6 it spans
    # F=2's whole share (positions 500-999 from the worst), which is unreachable, and the page says so.
    assert not any("cannot be reached" in warning.value for warning in at.warning)
    at.select_slider(key="n_bins").set_value(6).run()
    assert not at.exception
    assert "F=2 cannot be reached: 37% of customers share frequency 1, so they all get F=1." in [
        warning.value for warning in at.warning
    ]


def test_the_ledger_shows_its_numbers_whole_and_formatted():
    """The ledger is a Markdown table, which sizes its columns to what they show: the grid it was once drawn in
    clipped the widest number on the left ("128,427.39" read "28,427.39", "-30,123.04" read "30,123.04")."""
    from rfm.cleaning.summary import read_summary, summary_path
    from rfm.demo import DEMO_PATH

    at = app_test().run()
    digest = at.session_state[ui.DATASET].digest
    expected = read_summary(summary_path(DEMO_PATH), digest).report.ledger_frame()
    shown = markdown_table(at, "rule")
    assert shown["rule"].tolist() == expected["rule"].tolist()
    assert shown["rows"].tolist() == [f"{rows:,}" for rows in expected["rows"]]
    assert shown["revenue"].tolist() == [f"{revenue:,.2f}" for revenue in expected["revenue"]]
    assert any(revenue.startswith("-") for revenue in shown["revenue"])  # the demo has a negative line: its sign shows
    assert "share of rows" in shown and "example" in shown and "description" in shown
    mapping = markdown_table(at, "confidence")
    assert mapping["field"].iloc[0] == "Customer ID" and mapping["confidence"].iloc[0].endswith("%")
    # Nothing on the first page needs the table scripts (the grid's, or Arrow's); the clean rows are behind a click.
    assert not at.dataframe and not at.table
    at = open_box(at, "preview_open")
    [preview] = at.dataframe
    assert len(preview.value) == 200 and at.expander[-1].label == "The clean transactions: the first 200 rows"


def test_the_data_pages_tables_show_the_files_text_as_it_is():
    """Streamlit reads Markdown: a header with underscores, or a product called "*RED* $5 <SET>" or "A | B", must not
    turn into emphasis, maths, a tag or a new cell. Every text cell is escaped (ui.as_text)."""
    rows = "Invoice,Customer_ID,InvoiceDate,Quantity,Price,Description\n"
    rows += "C1,A_1,2024-01-01 10:00,-1,5,*RED* $5 <SET> A | B\n2,A_1,2024-01-02 10:00,1,5,plain\n3,B_2,2024-01-03 10:00,2,3,plain\n"
    at = upload(app_test().run(), "markup.csv", rows.encode())
    assert not at.exception
    mapping = markdown_table(at, "confidence").set_index("field")
    assert mapping.loc["Customer ID", "column"] == "Customer_ID"
    ledger = markdown_table(at, "rule").set_index("rule")
    assert "Description=*RED* $5 <SET> A | B" in ledger.loc["cancelled invoice", "example"]
    source = "\n".join(element.value for element in at.markdown)
    assert "Customer\\_ID" in source and "\\*RED\\* \\$5 \\<SET\\> A \\| B" in source


def test_as_text_escapes_every_ascii_punctuation_mark_and_nothing_else():
    assert ui.as_text("SET/6 *RED* $5_a <b> [x](y) #1 ~z~ `c` |d| é 1 2") == (
        "SET\\/6 \\*RED\\* \\$5\\_a \\<b\\> \\[x\\]\\(y\\) \\#1 \\~z\\~ \\`c\\` \\|d\\| é 1 2"
    )


def test_changing_the_number_of_scores():
    at = rfm_page()
    at.select_slider(key="n_bins").set_value(4).run()
    assert not at.exception
    assert len(frame_with(at, "holds")) == 12
    assert at.session_state["segment_settings"].n_bins == 4


def test_a_new_number_of_scores_resets_own_thresholds_out_loud_and_can_go_back():
    at = rfm_page()
    keyed(at.text_input, "thresholds_recency_days").set_value("30, 90, 180, 365")
    at.button(key="FormSubmitter:thresholds-Apply thresholds").click().run()
    assert dict(at.session_state["segment_settings"].thresholds)["recency_days"] == (30, 90, 180, 365)
    at.select_slider(key="n_bins").set_value(6).run()
    assert not at.exception
    settings = at.session_state["segment_settings"]
    assert settings.n_bins == 6 and settings.thresholds == ()  # five scores' bounds cannot score six
    note = next(info.value for info in at.info if "were written for 5 scores" in info.value)
    assert note.startswith("Your thresholds for R were written for 5 scores, so with 6 scores they were reset")
    assert keyed(at.text_input, "thresholds_recency_days").value == ""  # the form shows what is applied now
    at.button(key="undo_n_bins").click().run()
    assert not at.exception
    settings = at.session_state["segment_settings"]
    assert settings.n_bins == 5 and dict(settings.thresholds)["recency_days"] == (30, 90, 180, 365)
    assert at.select_slider(key="n_bins").value == 5
    assert frame_with(at, "holds").iloc[0]["holds"] == "last purchase ≤ 30 days ago"
    assert not any("were written for" in info.value for info in at.info)


def test_editing_a_rule_renames_the_segment_everywhere():
    at = rfm_page("Segments")
    # AppTest has no cell editor: set the editor's edits as the browser would send them.
    at.session_state["rules_editor"] = {"edited_rows": {0: {"segment": "Best Friends"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="FormSubmitter:rules-Apply rules").click().run()
    assert not at.exception and not at.error
    summary = frame_with(at, "revenue_share")
    assert "Best Friends" in summary.index and "Champions" not in summary.index
    customers = frame_with(open_tab(at, "rfm_tab", "Customers"), "recency_days")
    assert (customers["segment"] == "Best Friends").sum() == summary.loc["Best Friends", "customers"]
    open_tab(at, "rfm_tab", "Segments").button(key="reset_rules").click().run()
    assert "Champions" in frame_with(at, "revenue_share").index


def test_an_invalid_rule_is_refused_with_a_clear_message():
    at = rfm_page("Segments")
    at.session_state["rules_editor"] = {"edited_rows": {2: {"r_min": 9}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="FormSubmitter:rules-Apply rules").click().run()
    assert not at.exception
    assert [error.value for error in at.error] == ["Rule 3 (Potential Loyalist): r_min should be a whole score from 1 to 5; got 9."]
    assert at.session_state["segment_settings"].rules is None  # nothing applied


def test_custom_recency_thresholds():
    at = rfm_page()
    keyed(at.text_input, "thresholds_recency_days").set_value("30, 90, 180, 365")
    at.button(key="FormSubmitter:thresholds-Apply thresholds").click().run()
    assert not at.exception and not at.error
    cuts = frame_with(at, "holds")
    assert cuts.iloc[0]["holds"] == "last purchase ≤ 30 days ago"
    keyed(at.text_input, "thresholds_recency_days").set_value("30, 20, 180, 365")
    at.form_submit_button[0].click().run()
    assert "thresholds must be numbers in increasing order" in at.error[0].value


def test_outlier_multiplier_moves_the_fence():
    at = rfm_page("Outlier tiers")
    fences = frame_with(at, "fence")
    at.slider(key="iqr_multiplier").set_value(3.0).run()
    assert not at.exception
    wider = frame_with(at, "fence")
    assert (wider["fence"] > fences["fence"]).all()
    assert (wider["customers above"] <= fences["customers above"]).all()


def test_clusters_page_recommends_k_and_fits():
    at = clusters_page()
    assert not at.exception
    assert at.info[0].value.startswith("**Recommended k = ")
    recommended = int(at.info[0].value.split("=")[1].split(".")[0])
    assert at.slider(key="k").value == recommended
    # The k-sweep metrics, the stability chart, and the sizes and predictive separation per k: a tab each, drawn
    # when open.
    assert [chart.key for chart in at.get("plotly_chart")] == ["sweep"]
    assert len(at.metric) == recommended  # one size per fitted cluster
    # The demo's recommendation: 3 to 8 clusters, each holding 3% to 50% of the customers, the reason naming why.
    assert 3 <= recommended <= 8 and "whose clusters each hold 3%–50% of the customers" in at.info[0].value
    at = open_tab(at, "sweep_tab", "Stability")
    assert [chart.key for chart in at.get("plotly_chart")] == ["stability"] and not at.exception
    at = open_tab(at, "sweep_tab", "Sizes and separation")
    assert [chart.key for chart in at.get("plotly_chart")] == ["actionability"] and not at.exception
    assert any(caption.value.startswith("Predictive separation: clusters fitted on the") for caption in at.caption)
    assert at.slider(key="k").value == recommended and len(at.metric) == recommended


def test_k_slider_and_algorithm_switch_refit():
    at = clusters_page()
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


def _cluster_sizes(at: AppTest) -> dict[str, int]:
    """Customers per group as the Clusters page shows them: one card each, or the sizes table when there are many."""
    cards = {metric.label: int(metric.value.replace(",", "")) for metric in at.metric}
    table = next((df.value for df in at.dataframe if df.value.index.name == "cluster"), None)
    return cards or {str(name): int(size) for name, size in table["customers"].items()}


def test_hdbscan_shows_at_most_twelve_cards_and_its_comparison_row_is_its_fit():
    """Issue 14: HDBSCAN drew a card per cluster (34 on the demo, 920 on CDNOW), and the comparison table
    (fitted with other settings) disagreed with the fit it summarised."""
    at = clusters_page()
    at.selectbox(key="algorithm").set_value("hdbscan").run()
    assert not at.exception and not at.error
    assert len(at.metric) <= 12
    sizes = _cluster_sizes(at)
    assert sum(sizes.values()) == 2999
    at.toggle(key="compare").set_value(True).run()
    assert not at.exception and not at.error
    row = next(df.value for df in at.dataframe if "noise_share" in df.value.columns).loc["HDBSCAN"]
    assert row["clusters"] == len(sizes) - ("Noise" in sizes)
    assert row["noise_share"] == pytest.approx(sizes.get("Noise", 0) / 2999)


def test_the_smallest_cluster_share_is_applied_and_too_many_clusters_is_one_clear_error():
    at = clusters_page()
    at.selectbox(key="algorithm").set_value("hdbscan").run()
    at.select_slider(key="min_cluster_share").set_value(0.001).run()  # clusters of 5 customers: dozens of them
    assert not at.exception
    assert at.session_state["cluster_settings"].min_cluster_share == 0.001
    [error] = at.error
    assert error.value.startswith("HDBSCAN found ") and "among 2,999 customers; at most 15 can be named and saved." in error.value
    assert "Raise the smallest cluster size (now 0.1% of customers, 5) or use K-Means." in error.value
    at.select_slider(key="min_cluster_share").set_value(0.05).run()
    assert not at.exception and not at.error
    assert 1 <= len(at.metric) <= 12
    assert at.session_state["cluster_pick"][1] == "hdbscan"


def test_segments_page_names_profiles_and_renames():
    at = clusters_page()
    at.slider(key="k").set_value(4).run()
    at.switch_page("pages/cluster_segments.py").run()
    assert not at.exception
    profiles = next(df.value for df in at.dataframe if "revenue_share" in df.value.columns)
    assert len(profiles) == 4 and "action" in profiles.columns
    # The charts are in tabs drawn only when open: the map first, then the 3-D view, the centres (heat map and
    # snake plot) and the crosstab.
    assert [tab.label for tab in at.tabs] == ["Map of the customers", "In 3-D", "Cluster centres", "RFM segments × clusters"]
    assert len(at.get("plotly_chart")) == 1
    for tab, charts in (("In 3-D", 1), ("Cluster centres", 2), ("RFM segments × clusters", 1)):
        at.session_state["segments_tab"] = tab
        at.run()
        assert len(at.get("plotly_chart")) == charts, tab
    # The crosstab tab says how far each name agrees with the customers' own RFM segments.
    agreement = next(df.value for df in at.dataframe if "agreement" in df.value.columns and "action" not in df.value.columns)
    assert sorted(agreement.index) == sorted(profiles.index)
    crosstab = next(df.value for df in at.dataframe if set(df.value.columns) == set(agreement.index))
    for name, row in agreement.iterrows():
        if name in crosstab.index:
            assert row["agreement"] == pytest.approx(crosstab.loc[name, name] / crosstab[name].sum())
        if name.startswith("Champions"):
            assert (crosstab.reindex(["Champions", "Loyal Customers"])[name].sum() / crosstab[name].sum()) > 0.5
    at.session_state["names_editor"] = {"edited_rows": {0: {"name": "Our best"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.form_submit_button[0].click().run()
    assert not at.exception
    renamed = next(df.value for df in at.dataframe if "revenue_share" in df.value.columns)
    assert "Our best" in renamed.index and len(renamed) == 4
    assert at.session_state["cluster_renames"][0][:2] == (0, "Our best")
    # The method in words, not the estimator's internal name ("(kmeans, k=4)").
    caption = at.caption[0].value
    assert "(K-Means with k = 4)" in caption and "kmeans" not in caption


# --- Act: Export, What if, Score ---------------------------------------------------------------------


def test_export_page_offers_every_list_and_file():
    at = open_page("pages/export.py")
    assert not at.exception
    sizes = next(df.value for df in at.dataframe if "customers" in df.value.columns)
    downloads = download_buttons(at)
    for name, row in sizes.iterrows():
        assert f"{name} ({row['customers']:,})" in downloads
    assert sizes["customers"].sum() == 2999
    labels = " | ".join(downloads)
    for wanted in ("lists (ZIP)", "Every customer (2,999, one CSV)", "Excel workbook", "HTML report", "model.json"):
        assert wanted in labels
    assert all(button.deferred_file_id for button in downloads.values())  # files are built only when clicked


def test_a_big_workbook_is_prepared_with_progress_then_downloaded(monkeypatch):
    import openpyxl

    monkeypatch.setattr(ui.widgets, "QUICK_WORKBOOK_CELLS", 0)  # every workbook counts as big
    at = open_page("pages/export.py")
    assert "Excel workbook (.xlsx)" not in download_buttons(at)
    prepare = next(button for button in at.button if button.label.startswith("Prepare the Excel workbook (about"))
    prepare.click().run()
    assert not at.exception
    assert download_buttons(at)["Excel workbook (.xlsx)"].type == "primary"
    book = openpyxl.load_workbook(io.BytesIO(at.session_state["workbook"][1]), read_only=True)
    assert book.sheetnames[0] == "Summary" and len(book.sheetnames) > 2
    at.run()  # kept for the same lists: offered again without building it anew
    assert "Excel workbook (.xlsx)" in download_buttons(at)
    at.radio(key="export_split").set_value("rfm_segment").run()  # other lists: prepared anew
    assert "Excel workbook (.xlsx)" not in download_buttons(at)


def test_export_page_split_by_rfm_segment_and_choose_segments():
    at = open_page("pages/export.py")
    at.radio(key="export_split").set_value("rfm_segment").run()
    assert not at.exception
    at.multiselect(key="export_segments_rfm_segment").set_value(["Champions", "Lost"]).run()
    downloads = download_buttons(at)
    assert any(label.startswith("Champions (") for label in downloads)
    assert "2 lists (ZIP)" in downloads
    at.multiselect(key="export_segments_rfm_segment").set_value([]).run()
    assert at.info[0].value == "Choose at least one segment to export."


def _whatif_page() -> AppTest:
    return open_page("pages/whatif.py")


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
    from rfm.cleaning.analyse import analyse_file
    from rfm.clustering.fit import ClusterSettings
    from rfm.segment_run import segment_run

    model = segment_run(analyse_file(TINY, "tiny.csv"), cluster_settings=ClusterSettings(), k=2).bundle.to_json()
    at = open_page("pages/score.py")
    assert not at.exception and "Upload a model.json" in at.info[0].value
    at.file_uploader(key="model_upload").upload("model.json", model.encode(), "application/json")
    at.run()
    assert not at.exception
    assert "tiny.csv" in at.success[0].value
    assert metric_values(at)["Customers scored"] == "2,999"
    sizes = next(df.value for df in at.dataframe if "customers" in df.value.columns)
    assert sizes["customers"].sum() == 2999


def test_score_page_refuses_a_corrupt_model_and_stays_usable():
    at = open_page("pages/score.py")
    at.file_uploader(key="model_upload").upload("model.json", b'{"format": "rfm-studio-model", "format_version": 7}', "application/json")
    at.run()
    assert not at.exception
    assert "format_version 7" in at.error[0].value
    at.switch_page("pages/rfm_table.py").run()
    assert not at.exception


def _tiny_model(format_version: int = 2) -> bytes:
    """A model of TINY's two customers: the demo's 2,999 lie far outside what it saw."""
    import json

    from rfm.cleaning.analyse import analyse_file
    from rfm.clustering.fit import ClusterSettings
    from rfm.segment_run import segment_run

    payload = json.loads(segment_run(analyse_file(TINY, "tiny.csv"), cluster_settings=ClusterSettings(), k=2).bundle.to_json())
    if format_version == 1:  # as saved before the model recorded its customers (and its lifecycle thresholds)
        del payload["distribution"], payload["lifecycle"]
        payload["format_version"] = 1
    return json.dumps(payload).encode()


def test_score_page_warns_under_the_model_when_the_file_lies_outside_its_range():
    at = open_page("pages/score.py")
    at.file_uploader(key="model_upload").upload("model.json", _tiny_model(), "application/json")
    at.run()
    assert not at.exception
    shown = [type(element).__name__ for element in at.main.children.values()]
    assert shown[shown.index("Success") + 1] == "Warning"  # right under the model's description
    warnings = [warning.value for warning in at.warning]
    # TINY's two customers each spent 10.00: nearly every demo customer spent less or more.
    assert any(text.startswith("monetary: 100% of customers (2,992 of 2,999) lie outside the model's range (10 to 10)") for text in warnings)
    assert "outside the model's range" in warnings[-1]
    [expander] = at.expander
    assert expander.label == "How this file compares with the model's"
    figures = next(df.value for df in at.dataframe if "far_off" in df.value.columns)
    assert list(figures.index) == ["recency_days", "frequency", "monetary"] and figures.loc["monetary", "far_off"]
    assert metric_values(at)["Customers scored"] == "2,999"  # the file is still scored


def test_score_page_notes_a_model_saved_before_the_check():
    at = open_page("pages/score.py")
    at.file_uploader(key="model_upload").upload("model.json", _tiny_model(format_version=1), "application/json")
    at.run()
    assert not at.exception
    assert any(info.value.startswith("This model was saved before RFM Studio recorded") for info in at.info)
    assert not at.warning and not at.expander
    assert metric_values(at)["Customers scored"] == "2,999"


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
    import rfm.outputs.charts

    def broken(*args, **kwargs):
        raise RuntimeError("boom in the waterfall")

    monkeypatch.setattr(rfm.outputs.charts, "ledger_waterfall_spec", broken)
    at = open_box(app_test(), "ledger_view", "Waterfall")
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
    import rfm.bundle.whatif

    def broken(*args, **kwargs):
        raise RuntimeError("boom in predict")

    monkeypatch.setattr(rfm.bundle.whatif, "predict", broken)
    at = _whatif_page()
    assert not at.exception
    reference = _apology(at)
    assert any(reference in r.getMessage() for r in server_log)
