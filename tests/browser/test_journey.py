"""One real-browser journey: demo data -> the shared UCI workbook -> RFM -> clusters -> segments -> trends (migration,
then cohorts) -> value -> backtest -> export -> what if -> score.

Runs the app with ``streamlit run`` on a free port and drives Debian's Chromium with Playwright (sync API).
Skips cleanly when Chromium, the Playwright package or the shared workbook is missing, unless
``RFM_REQUIRE_BROWSER=1`` (set by CI), in which case it fails and says what is missing.

Environment:
    RFM_REQUIRE_BROWSER=1   fail instead of skipping when a prerequisite is missing.
    RFM_CHROMIUM=PATH       the Chromium binary (default /usr/bin/chromium).

Streamlit's dataframes draw their cells on a canvas; the text is only in the grid's accessible
``<table role="grid">`` (visible rows only), so assertions use that, metrics, headings and captions.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import pytest

from devkit.browser import WAIT_MS, assert_no_exception, caption, live, metric_value, settled
from tests.support.browser import unavailable

pytestmark = pytest.mark.browser

# What the library computes for the shared workbook; test_expected_figures_match_pandas checks them.
ROWS_READ, ROWS_KEPT, CUSTOMERS = 34_766, 32_959, 260
LEDGER = {"repeated across sheets": 441, "missing customer id": 601, "cancelled invoice": 756}


# --- helpers ------------------------------------------------------------------------------------


def _expected_migration(workbook: Path):
    """The library's migration of the workbook by RFM segment, with the app's defaults: from the end of the
    previous quarter to the analysis date, customers left after a year (the segment rules do not depend on k)."""
    from rfm.cleaning.analyse import analyse_file
    from rfm.segment_run import segment_run
    from rfm.trends.migration import migrate
    from rfm.trends.timeline import default_dates

    run = segment_run(analyse_file(workbook))
    orders, day = run.analysis.orders, run.analysis.report.analysis_date
    return migrate(orders, run.bundle, *default_dates(orders, day), "segment", 365)


def _expected_cohorts(workbook: Path):
    """The library's monthly cohorts of the workbook, up to its analysis date (the app's default)."""
    from rfm.cleaning.analyse import analyse_file
    from rfm.trends.cohorts import cohort_table

    analysis = analyse_file(workbook)
    return cohort_table(analysis.orders, analysis.report.analysis_date)


def _expected_backtest(workbook: Path, days: int):
    """The library's backtest of the workbook with the app's defaults (its rankings and verdict do not depend on k)."""
    from rfm.backtest.run import BacktestSettings, backtest
    from rfm.cleaning.analyse import analyse_file

    analysis = analyse_file(workbook)
    return backtest(analysis.orders, analysis.report.analysis_date, BacktestSettings(days))


# --- the journey ----------------------------------------------------------------------------------


def test_expected_figures_match_pandas(workbook: Path) -> None:
    """The pinned figures, recomputed with plain pandas from the workbook (rules as the ledger applies them)."""
    import pandas as pd

    columns = ["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price"]
    sheets = list(pd.read_excel(workbook, sheet_name=None, usecols=columns, dtype={"Invoice": str}).values())
    assert len(sheets) == 2
    first, second = sheets
    assert len(first) + len(second) == ROWS_READ

    repeated = second["Invoice"].isin(set(first["Invoice"]))  # invoice already read from the first sheet
    assert repeated.sum() == LEDGER["repeated across sheets"]
    rows = pd.concat([first, second[~repeated]])
    assert rows["InvoiceDate"].isna().sum() == 0
    no_customer = rows["Customer ID"].isna()
    assert no_customer.sum() == LEDGER["missing customer id"]
    rows = rows[~no_customer]
    cancelled = rows["Invoice"].str.upper().str.startswith("C")
    assert cancelled.sum() == LEDGER["cancelled invoice"]
    rows = rows[~cancelled]
    rows = rows[(rows["Quantity"] > 0) & (rows["Price"] > 0)]
    assert len(rows) == ROWS_KEPT
    assert rows["Customer ID"].nunique() == CUSTOMERS


def test_upload_workbook_then_rfm_page(browser, app_url: str, workbook: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        # 1. A new session opens on the demo data.
        page.goto(app_url)
        expect(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")).to_be_visible(timeout=WAIT_MS)
        expect(metric_value(page, "Rows read")).to_have_text(re.compile(r"^\d{1,3}(,\d{3})*$"), timeout=WAIT_MS)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "1-data-demo.png")

        # 2. Upload the shared workbook: heading, metrics, ledger and waterfall follow. While the file is read, what
        # the last run drew is dimmed in one step, not faded over a second (ui.calm_reruns): a fade painted in software
        # takes the CPU the read needs.
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(workbook)
        durations = page.wait_for_function(
            "() => { const e = document.querySelector('[data-stale=\"true\"]'); return e && getComputedStyle(e).transitionDuration; }"
        ).json_value()
        assert set(durations.split(", ")) == {"0s"}, durations
        expect(page.get_by_role("heading", name=workbook.name)).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("heading", name="Demo data:")).to_have_count(0)
        expect(metric_value(page, "Rows read")).to_have_text(f"{ROWS_READ:,}", timeout=WAIT_MS)
        expect(metric_value(page, "Rows kept")).to_have_text(f"{ROWS_KEPT:,}", timeout=WAIT_MS)
        expect(metric_value(page, "Customers")).to_have_text(f"{CUSTOMERS:,}", timeout=WAIT_MS)
        removed = ROWS_READ - ROWS_KEPT
        expect(metric_value(page, "Rows removed")).to_have_text(f"{removed:,}")
        expect(caption(page, "Rows read ")).to_have_text(
            f"Rows read {ROWS_READ:,} = rows kept {ROWS_KEPT:,} + removed {removed:,}."
        )

        ledger = live(page).get_by_test_id("stMarkdownContainer").locator("table").filter(has_text="repeated across sheets")
        expect(ledger).to_have_count(1)
        for rule, rows in LEDGER.items():
            cells = ledger.locator("tbody tr").filter(has_text=rule).locator("td")
            expect(cells.nth(0)).to_have_text(rule)
            expect(cells.nth(1)).to_have_text("removed")
            expect(cells.nth(2)).to_have_text(f"{rows:,}")

        page.get_by_role("tab", name="Waterfall").click()
        settled(page)  # a tab change reruns the page (the waterfall draws only when open)
        waterfall = live(page, ':has([data-testid="stVegaLiteChart"])').get_by_test_id("stVegaLiteChart")
        expect(waterfall).to_be_visible()
        expect(waterfall.locator("svg.marks").first).to_be_visible()
        for text in ["Rows read", "Rows kept", *LEDGER]:
            expect(waterfall).to_contain_text(text)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "2-data-workbook.png")

        # 3. The RFM page of the same session.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="RFM").click()
        expect(page.get_by_role("heading", name="RFM", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(metric_value(page, "Customers")).to_have_text(f"{CUSTOMERS:,}", timeout=WAIT_MS)
        expect(caption(page, f"{workbook.name}: {CUSTOMERS:,} customers")).to_have_count(1)
        histograms = live(page, '[class*="st-key-hist_"]').get_by_test_id("stPlotlyChart").locator(".js-plotly-plot")
        expect(histograms).to_have_count(3, timeout=WAIT_MS)
        recency = live(page, ".st-key-hist_recency_days")
        expect(recency).to_contain_text("(log scale)")
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "3-rfm-log.png")

        # 4. Log scale off: the histograms are redrawn on a linear axis.
        toggle = live(page, ".st-key-log_scale")
        switch = toggle.get_by_role("switch", name="Log scale")
        expect(switch).to_be_checked()
        toggle.get_by_text("Log scale").click()
        expect(switch).not_to_be_checked()
        expect(recency).not_to_contain_text("(log scale)", timeout=WAIT_MS)
        expect(recency).to_contain_text("Recency (days)")
        expect(histograms).to_have_count(3)
        assert_no_exception(page)

        # 5. Search one customer.
        search = page.get_by_label("Search customer id")
        search.fill("12349")
        search.press("Enter")
        expect(caption(page, f"of {CUSTOMERS:,} customers")).to_have_text(
            re.compile(rf"^1 of {CUSTOMERS:,} customers\."), timeout=WAIT_MS
        )
        table = live(page).get_by_test_id("stDataFrame").filter(has_text="Recency (days)").filter(has_text="12349")
        expect(table.locator('table[role="grid"]')).to_have_attribute("aria-rowcount", "2")  # header + one customer
        expect(table).to_contain_text("12349")
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "4-rfm-search.png")

        # 6. Scores: the cut points say what each score holds.
        page.get_by_role("tab", name="Scores").click()
        settled(page)  # a tab change reruns the page
        cuts = live(page).get_by_test_id("stDataFrame").filter(has_text="holds")
        expect(cuts).to_contain_text("last purchase ≤", timeout=WAIT_MS)
        expect(live(page, ".st-key-score_distribution").locator(".js-plotly-plot")).to_be_visible()
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "5-rfm-scores.png")

        # 6a. Own thresholds: applying them keeps the Scores tab open (it used to jump back to Customers), and
        # emptying them goes back to ranks.
        page.get_by_text("Set your own thresholds").click()
        recency_bounds = page.get_by_label("R: Recency (days)")
        expect(recency_bounds).to_be_visible()
        recency_bounds.fill("30, 90, 180, 365")
        recency_bounds.press("Enter")  # submits the form once the input has taken the text (a click could beat it)
        expect(cuts).to_contain_text("last purchase ≤ 30 days ago", timeout=WAIT_MS)
        expect(page.get_by_role("tab", name="Scores")).to_have_attribute("aria-selected", "true")
        settled(page)
        page.get_by_label("R: Recency (days)").fill("")
        page.get_by_label("R: Recency (days)").press("Enter")
        expect(cuts).not_to_contain_text("last purchase ≤ 30 days ago", timeout=WAIT_MS)
        expect(page.get_by_role("tab", name="Scores")).to_have_attribute("aria-selected", "true")

        # 7. Segments: shares, summary with actions, heat map, scatter and the rules editor.
        page.get_by_role("tab", name="Segments").click()
        settled(page)  # a tab change reruns the page
        shares = live(page, ".st-key-segment_share").locator(".js-plotly-plot")
        expect(shares).to_contain_text("Champions", timeout=WAIT_MS)
        expect(live(page, ".st-key-rf_heatmap").locator(".js-plotly-plot")).to_be_visible()
        expect(live(page, ".st-key-rf_scatter").locator(".js-plotly-plot")).to_be_visible()
        expect(live(page).get_by_test_id("stDataFrame").filter(has_text="r_min")).to_contain_text("Can't Lose Them")
        live(page, ".st-key-segment_chart").get_by_text("Treemap").click()
        expect(live(page, ".st-key-segment_share").locator(".js-plotly-plot")).to_contain_text("customers", timeout=WAIT_MS)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "6-rfm-segments.png")

        # 8. Outlier tiers: the fences and the four tier counts add up to every customer.
        page.get_by_role("tab", name="Outlier tiers").click()
        settled(page)  # a tab change reruns the page
        expect(live(page).get_by_test_id("stDataFrame").filter(has_text="customers above")).to_have_count(1, timeout=WAIT_MS)
        tier_total = sum(int(metric_value(page, tier).inner_text().replace(",", "")) for tier in ("Elite VIP", "High Spender", "Power Shopper", "Regular"))
        assert tier_total == CUSTOMERS
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "7-rfm-tiers.png")

        # 8b. Lifecycle stages: the counts chart and the thresholds with the store's own numbers.
        page.get_by_role("tab", name="Lifecycle stages").click()
        settled(page)  # a tab change reruns the page
        expect(live(page, ".st-key-stage_counts").locator(".js-plotly-plot")).to_contain_text("Active", timeout=WAIT_MS)
        expect(live(page).get_by_test_id("stDataFrame").filter(has_text="the median gap")).to_have_count(1, timeout=WAIT_MS)
        assert_no_exception(page)

        # 9. Clusters: the k-sweep with a recommended k, then a k one higher from the slider.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Clusters").click()
        expect(page.get_by_role("heading", name="Clusters", exact=True)).to_be_visible(timeout=WAIT_MS)
        recommendation = live(page).get_by_test_id("stAlertContentInfo").filter(has_text="Recommended k =")
        expect(recommendation).to_have_count(1, timeout=WAIT_MS)
        recommended = int(re.search(r"Recommended k = (\d+)", recommendation.inner_text()).group(1))
        expect(live(page, ".st-key-sweep").locator(".js-plotly-plot")).to_contain_text("silhouette", timeout=WAIT_MS)
        page.get_by_role("tab", name="Sizes and separation").click()  # each chart in a tab, drawn when opened
        actionable = live(page, ".st-key-actionability").locator(".js-plotly-plot")
        expect(actionable).to_contain_text("Predictive separation", timeout=WAIT_MS)
        sizes = live(page).get_by_test_id("stMetric")
        expect(sizes).to_have_count(recommended, timeout=WAIT_MS)
        slider = page.get_by_role("slider", name="k (number of clusters)")
        slider.focus()
        slider.press("ArrowRight")
        expect(sizes).to_have_count(recommended + 1, timeout=WAIT_MS)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "8-clusters.png")

        # 10. Segments: named profiles, the PCA scatter and the crosstab with the RFM segments.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Segments").click()
        expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible(timeout=WAIT_MS)
        profiles = live(page).get_by_test_id("stDataFrame").filter(has_text="share of revenue")
        expect(profiles.locator('table[role="grid"]')).to_have_attribute("aria-rowcount", str(recommended + 2), timeout=WAIT_MS)
        expect(live(page, ".st-key-pca").locator(".js-plotly-plot")).to_contain_text("PC1", timeout=WAIT_MS)
        page.get_by_role("tab", name="RFM segments × clusters").click()
        settled(page)  # a tab change reruns the page
        expect(live(page, ".st-key-crosstab").locator(".js-plotly-plot")).to_be_visible(timeout=WAIT_MS)
        agreement = live(page).get_by_test_id("stDataFrame").filter(has_text="agreement").filter(has_text="most common RFM segments")
        expect(agreement.last).to_be_visible(timeout=WAIT_MS)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "9-segments.png")

        kpis = live(page).get_by_test_id("stDataFrame").filter(has_text="All customers")
        expect(kpis).to_have_count(1, timeout=WAIT_MS)
        expect(caption(page, "Campaign KPIs per segment")).to_have_count(1)

        # 10a. Trends: who moved where since the end of last quarter, as the library computes it with the same
        # rules; the largest move's customers download as a CSV.
        moves = _expected_migration(workbook)
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Trends").click()
        expect(page.get_by_role("heading", name="Trends", exact=True)).to_be_visible(timeout=WAIT_MS)
        customers = moves.customers
        # Everyone who had bought by the analysis date: the customers of every other page.
        expect(metric_value(page, f"On {moves.to_date}")).to_have_text(f"{CUSTOMERS:,}", timeout=WAIT_MS)
        assert moves.customers_at_to_date == CUSTOMERS
        expect(metric_value(page, f"On {moves.from_date}")).to_have_text(f"{moves.customers_at_from_date:,}")
        expect(metric_value(page, "New since")).to_have_text(f"{(customers['from'] == 'New customer').sum():,}")
        expect(metric_value(page, f"Left by {moves.to_date}")).to_have_text(f"{moves.left_at_to_date:,}")
        expect(live(page, ".st-key-trends_matrix").locator(".js-plotly-plot")).to_contain_text("Migration matrix", timeout=WAIT_MS)
        flows = moves.flows[moves.flows["from"] != moves.flows["to"]]
        largest = flows.sort_values("customers", ascending=False, kind="stable").iloc[0]
        flow_button = live(page, ".st-key-trends_download_flow").get_by_role("button")
        expect(flow_button).to_contain_text(f"{largest['from']} → {largest['to']} ({largest['customers']:,}, CSV)")
        with page.expect_download() as flow_download:
            flow_button.click()
        flow_path = tmp_path / flow_download.value.suggested_filename
        flow_download.value.save_as(flow_path)
        import pandas as pd

        flow_list = pd.read_csv(flow_path, encoding="utf-8-sig", dtype={"customer_id": str})
        assert sorted(flow_list["customer_id"]) == sorted(moves.flow_customers(largest["from"], largest["to"]).index)
        assert set(flow_list["from"]) == {largest["from"]} and set(flow_list["to"]) == {largest["to"]}
        # A click on a cell of the migration matrix picks that flow: the list and its download follow.
        matrix = moves.matrix
        cell = next((a, b) for a, b in zip(flows["from"], flows["to"]) if (a, b) != (largest["from"], largest["to"]))
        area = live(page, ".st-key-trends_matrix").locator(".nsewdrag").first.bounding_box()
        row, column = list(matrix.index).index(cell[0]), list(matrix.columns).index(cell[1])
        page.mouse.click(
            area["x"] + area["width"] * (column + 0.5) / len(matrix.columns),
            area["y"] + area["height"] * (row + 0.5) / len(matrix.index),  # rows top to bottom (reversed axis)
        )
        expect(live(page, ".st-key-trends_download_flow").get_by_role("button")).to_contain_text(
            f"{cell[0]} → {cell[1]} ({int(matrix.loc[cell[0], cell[1]]):,}, CSV)", timeout=WAIT_MS
        )
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "9a-trends.png")
        # The same moves as flows, and the segments' sizes over time: each in its tab, drawn when opened.
        page.get_by_role("tab", name="Flows").click()
        sankey = live(page, ".st-key-trends_sankey").locator(".js-plotly-plot")
        expect(sankey).to_contain_text("New customer", timeout=WAIT_MS)
        page.get_by_role("tab", name="Sizes over time").click()
        sizes = live(page, ".st-key-trends_sizes").locator(".js-plotly-plot")
        expect(sizes).to_contain_text("Segment sizes over time", timeout=WAIT_MS)
        settled(page)
        assert_no_exception(page)

        # 10a'. Trends, Cohorts tab: the retention heat map of the workbook's monthly cohorts, as the library
        # computes them; the switch redraws it as revenue per customer; retention.csv downloads.
        cohorts = _expected_cohorts(workbook)
        page.get_by_role("tab", name="Cohorts").click()
        settled(page)  # a tab change reruns the page (its tabs draw only when open)
        heat_map = live(page, ".st-key-trends_cohorts").locator(".js-plotly-plot")
        expect(heat_map).to_contain_text("Cohorts by month of first order: share of each cohort buying", timeout=WAIT_MS)
        expect(heat_map.locator(".heatmaplayer")).to_have_count(1)
        for label in ("2009-12", "2011-12", "months since the first order"):
            expect(heat_map).to_contain_text(label)
        expect(metric_value(page, "Cohorts")).to_have_text(f"{len(cohorts.sizes):,}")
        expect(metric_value(page, "Customers")).to_have_text(f"{CUSTOMERS:,}")
        expect(metric_value(page, "Bought again in month 1")).to_have_text(f"{cohorts.average(1):.1%}")
        expect(caption(page, "Read across a row")).to_contain_text("* marks a partial month")
        with page.expect_download() as retention_download:
            live(page, ".st-key-trends_download_retention").get_by_role("button").click()
        assert retention_download.value.suggested_filename == "retention.csv"
        retention_path = tmp_path / "retention.csv"
        retention_download.value.save_as(retention_path)
        retention = pd.read_csv(retention_path, encoding="utf-8-sig", dtype={"cohort": str}).set_index("cohort")
        assert retention["customers"].sum() == CUSTOMERS and len(retention) == len(cohorts.sizes)
        assert retention.loc["2009-12", "month_1"] == round(cohorts.retention.iloc[0, 1], 4)
        page.screenshot(path=tmp_path / "9a-cohorts.png")
        live(page, ".st-key-trends_cohort_measure").get_by_text("Revenue per customer").click()
        expect(heat_map).to_contain_text("cumulative revenue per customer", timeout=WAIT_MS)
        assert_no_exception(page)

        # 10b. Value: P(alive), expected purchases and CLV per customer; the holdout check; a CSV with the values.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Value").click()
        expect(page.get_by_role("heading", name="Value", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(metric_value(page, "Customers")).to_have_text(f"{CUSTOMERS:,}", timeout=WAIT_MS)
        expect(metric_value(page, "Likely still customers")).to_have_text(re.compile(r"^\d{1,3}%$"))
        expect(live(page, ".st-key-value_box").locator(".js-plotly-plot")).to_contain_text("Predicted CLV", timeout=WAIT_MS)
        page.get_by_role("tab", name="Holdout check").click()
        settled(page)  # a tab change reruns the page
        expect(live(page, ".st-key-value_holdout").locator(".js-plotly-plot")).to_contain_text("7+", timeout=WAIT_MS)
        page.get_by_role("tab", name="Customers", exact=True).click()
        settled(page)  # a tab change reruns the page (its tabs draw only when open)
        with page.expect_download() as value_download:
            live(page, ".st-key-value_download").get_by_role("button").click()
        value_path = tmp_path / "value.csv"
        value_download.value.save_as(value_path)
        values = pd.read_csv(value_path, encoding="utf-8-sig", dtype={"customer_id": str})
        assert len(values) == CUSTOMERS and values["p_alive"].between(0, 1).all() and (values["predicted_clv"] >= 0).all()
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "9b-value.png")

        # 10c. Backtest: fitted up to 90 days before the last date, judged on those days, as the library computes it;
        # a shorter holdout moves the cut.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Backtest").click()
        expect(page.get_by_role("heading", name="Backtest", exact=True)).to_be_visible(timeout=WAIT_MS)
        expected = _expected_backtest(workbook, 90)
        expect(metric_value(page, "Customers at the cut")).to_have_text(f"{expected.customers_at_cut:,}", timeout=WAIT_MS)
        expect(page.get_by_text(expected.verdict())).to_be_visible(timeout=WAIT_MS)
        expect(live(page, ".st-key-backtest_gains").locator(".js-plotly-plot")).to_contain_text("Cumulative gains", timeout=WAIT_MS)
        holdout = live(page, ".st-key-backtest_holdout_days").locator("input")
        holdout.fill("60")
        holdout.press("Enter")
        shorter = _expected_backtest(workbook, 60)
        expect(metric_value(page, "Customers at the cut")).to_have_text(f"{shorter.customers_at_cut:,}", timeout=WAIT_MS)
        expect(page.get_by_text(shorter.verdict())).to_be_visible(timeout=WAIT_MS)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "9c-backtest.png")

        # 11. Export: download the first segment's list; its rows are the customers the button counts.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Export").click()
        expect(page.get_by_role("heading", name="Export", exact=True)).to_be_visible(timeout=WAIT_MS)
        first_list = live(page, ".st-key-export_csv_0").get_by_role("button")
        expect(first_list).to_have_text(re.compile(r".+ \(\d[\d,]*\)$"), timeout=WAIT_MS)
        label = first_list.get_by_test_id("stMarkdownContainer").inner_text().strip()  # without the icon's text
        name, count = re.match(r"^(.+) \((\d[\d,]*)\)$", label).groups()
        with page.expect_download() as download:
            first_list.click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        assert path.name.endswith(".csv") and path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel

        segment_list = pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": str})
        assert len(segment_list) == int(count.replace(",", ""))
        assert set(segment_list["segment_name"]) == {name}
        with page.expect_download() as model_download:
            live(page, ".st-key-model").get_by_role("button").click()
        model_path = tmp_path / "model.json"
        model_download.value.save_as(model_path)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "10-export.png")

        # 12. What if: moving the frequency slider answers at once, with the server's time shown.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="What if").click()
        expect(page.get_by_role("heading", name="What if", exact=True)).to_be_visible(timeout=WAIT_MS)
        answered = caption(page, "Answered in ")
        expect(answered).to_have_count(1, timeout=WAIT_MS)
        frequency = page.get_by_role("slider", name="Frequency (invoices)")
        start = frequency.input_value()
        frequency.focus()
        frequency.press("End")
        expect(frequency).not_to_have_value(start, timeout=WAIT_MS)
        top = frequency.input_value()
        number = live(page, ".st-key-whatif_number_frequency").locator("input")
        expect(number).to_have_value(top, timeout=WAIT_MS)
        expect(live(page, ".st-key-whatif_pca").locator(".js-plotly-plot")).to_contain_text("this customer", timeout=WAIT_MS)
        print(f"what-if: {answered.inner_text()}")
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "11-whatif.png")

        # 13. Score: the downloaded model scores the session's file; every customer lands in a segment.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Score").click()
        expect(page.get_by_role("heading", name="Score with a saved model", exact=True)).to_be_visible(timeout=WAIT_MS)
        page.locator('.st-key-model_upload input[type="file"]').set_input_files(model_path)
        expect(metric_value(page, "Customers scored")).to_have_text(f"{CUSTOMERS:,}", timeout=WAIT_MS)
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "12-score.png")
    finally:
        with contextlib.suppress(Exception):  # never hide the test's own error behind a screenshot error
            page.screenshot(path=tmp_path / "last.png")  # the state at a failure, for debugging
        context.close()


def test_a_parquet_export_is_scanned_by_duckdb_in_the_browser(browser, app_url: str, workbook: Path, tmp_path: Path) -> None:
    """The real excerpt's rows exported as Parquet: the app scans the file (it says so) and shows what the
    library computes from it."""
    from playwright.sync_api import expect

    from rfm.cleaning.analyse import analyse_file
    from rfm.reading.files import read_transactions

    export = tmp_path / "online_retail_export.parquet"
    read_transactions(workbook).frame.drop(columns="source_sheet").to_parquet(export, index=False)
    expected = analyse_file(export).report
    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(app_url)
        expect(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")).to_be_visible(timeout=WAIT_MS)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(export)
        expect(page.get_by_role("heading", name=export.name)).to_be_visible(timeout=WAIT_MS)
        expect(caption(page, "scanned by DuckDB")).to_contain_text(f"{ROWS_READ:,} rows scanned by DuckDB straight from the file")
        expect(metric_value(page, "Rows read")).to_have_text(f"{expected.rows_read:,}", timeout=WAIT_MS)
        expect(metric_value(page, "Rows kept")).to_have_text(f"{expected.rows_clean:,}")
        expect(metric_value(page, "Customers")).to_have_text(f"{expected.customers:,}")
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "parquet-data.png")
    finally:
        context.close()


def test_publish_the_demo_then_download_a_meta_audience(browser, app_url: str, tmp_path: Path) -> None:
    """The marketer's hand-off on the demo data: the Export page publishes the run under a name (the server's own
    workspace), then the Meta Custom Audience file downloads: every identifier is a 64-character SHA-256, one row per
    customer with an email or a phone, and as many email hashes as customers with an email. Then the Audiences page,
    as a marketer opens it: the run just published, one segment chosen, its plain list and its Meta file, whose rows
    are that segment's reachable customers and whose email hashes are those of the list's emails."""
    import pandas as pd
    from playwright.sync_api import expect

    from rfm.cleaning.analyse import analyse_file
    from rfm.demo import DEMO_PATH

    contacts = analyse_file(DEMO_PATH).customer_contacts
    with_email = int(contacts["email"].notna().sum())
    reachable = int((contacts["email"].notna() | contacts["phone"].notna()).sum())
    context = browser.new_context(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(app_url)
        expect(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")).to_be_visible(timeout=WAIT_MS)
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Export").click()
        expect(page.get_by_role("heading", name="Export", exact=True)).to_be_visible(timeout=WAIT_MS)
        name = live(page, ".st-key-publish_name").locator("input")
        expect(name).to_be_visible(timeout=WAIT_MS)
        name.fill("Monthly demo")
        page.get_by_role("button", name="Publish").click()
        expect(live(page).get_by_test_id("stAlertContentSuccess")).to_contain_text("Published Monthly demo", timeout=WAIT_MS)
        expect(metric_value(page, "New")).to_have_text("2,999", timeout=WAIT_MS)

        live(page, ".st-key-export_platform").get_by_role("combobox").click()
        page.get_by_role("option", name="Meta Custom Audience", exact=True).click()
        button = live(page, ".st-key-export_platform_file").get_by_role("button")
        expect(button).to_contain_text(f"Meta Custom Audience: {reachable:,} of 2,999 customers", timeout=WAIT_MS)
        with page.expect_download() as download:
            button.click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        audience = pd.read_csv(path, dtype=str)
        assert list(audience.columns) == ["email", "phone", "country", "value"] and len(audience) == reachable
        for column in ("email", "phone", "country"):
            assert audience[column].dropna().str.fullmatch(r"[0-9a-f]{64}").all(), column
        assert int(audience["email"].notna().sum()) == with_email
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "publish-and-meta.png")
        _audiences_page_meta_file(page, tmp_path)
    finally:
        context.close()


def _download(page, key: str, folder: Path) -> Path:
    with page.expect_download() as download:
        live(page, f".st-key-{key}").get_by_role("button").click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def _audiences_page_meta_file(page, folder: Path) -> None:
    import hashlib

    import pandas as pd
    from playwright.sync_api import expect

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Audiences").click()
    expect(page.get_by_role("heading", name="Audiences", exact=True)).to_be_visible(timeout=WAIT_MS)
    expect(live(page, ".st-key-audience_run").get_by_role("combobox")).to_have_value(re.compile("^Monthly demo — "), timeout=WAIT_MS)
    live(page, ".st-key-audience_segments_segment_name").get_by_role("combobox").click()
    option = page.get_by_role("option").filter(has_not_text="Select all").first
    segment = option.inner_text().strip()
    option.click()
    page.keyboard.press("Escape")
    settled(page)
    plain = pd.read_csv(_download(page, "audience_platform_file", folder), dtype=str, encoding="utf-8-sig")
    assert len(plain) > 0 and (plain["segment_name"] == segment).all(), segment
    live(page, ".st-key-audience_platform").get_by_role("combobox").click()
    page.get_by_role("option", name="Meta Custom Audience", exact=True).click()
    settled(page)
    meta = pd.read_csv(_download(page, "audience_platform_file", folder), dtype=str)
    reachable = plain["email"].notna() | plain["phone"].notna()
    assert len(meta) == int(reachable.sum()), (len(meta), int(reachable.sum()))
    for column in ("email", "phone", "country"):
        assert meta[column].dropna().str.fullmatch(r"[0-9a-f]{64}").all(), column
    emails = {hashlib.sha256(email.strip().lower().encode()).hexdigest() for email in plain["email"].dropna()}
    assert int(meta["email"].notna().sum()) == int(plain["email"].notna().sum()) and set(meta["email"].dropna()) == emails
    assert_no_exception(page)
    page.screenshot(path=folder / "audiences-meta.png")


def test_mapping_apply_and_a_density_fit_on_a_file_of_20000_customers(browser, app_url: str, tmp_path: Path) -> None:
    """Issue 14, in a real browser: the mapping form shows the current file's columns and an unchanged *Apply*
    changes nothing (the browser keeps a widget's last value, which AppTest does not show); then HDBSCAN on
    CDNOW's 23,502 customers gives a few clusters, a comparison that agrees with the fit, and a model that saves."""
    from playwright.sync_api import expect

    from devkit.data import cdnow_master
    from rfm.bundle.model import load_bundle
    from rfm.cleaning.analyse import analyse_file
    from tests.support.app import sales_file

    cdnow = cdnow_master()
    if cdnow is None:
        unavailable("the CDNOW master file (lifetimes, a test dependency) is not installed")
    sales = tmp_path / "sales_data_sample.csv"
    sales.write_bytes(sales_file())
    expected_sales, expected_cdnow = analyse_file(sales).report, analyse_file(cdnow, with_orders=False).report
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)

    def open_mapping() -> None:
        expect(page.get_by_text("Change the column mapping or the date order")).to_be_visible(timeout=WAIT_MS)
        if not page.get_by_role("button", name="Apply mapping").is_visible():
            page.get_by_text("Change the column mapping or the date order").click()
        expect(page.get_by_role("button", name="Apply mapping")).to_be_visible()

    def mapping_shows(field: str, column: str) -> None:
        open_mapping()
        expect(live(page).get_by_role("combobox", name=field, exact=True)).to_have_value(column, timeout=WAIT_MS)

    def upload(path: Path, report) -> None:
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(path)
        expect(page.get_by_role("heading", name=path.name)).to_be_visible(timeout=WAIT_MS)
        expect(metric_value(page, "Revenue")).to_have_text(f"{report.revenue:,.2f}", timeout=WAIT_MS)
        expect(metric_value(page, "Customers")).to_have_text(f"{report.customers:,}")

    def apply_unchanged(report) -> None:
        open_mapping()
        page.get_by_role("button", name="Apply mapping").click()
        settled(page)
        expect(metric_value(page, "Revenue")).to_have_text(f"{report.revenue:,.2f}", timeout=WAIT_MS)
        expect(metric_value(page, "Customers")).to_have_text(f"{report.customers:,}")
        expect(metric_value(page, "Rows kept")).to_have_text(f"{report.rows_clean:,}")
        expect(live(page).get_by_test_id("stAlertContentError")).to_have_count(0)

    try:
        page.goto(app_url)
        expect(page.get_by_role("heading", name="Demo data: demo_online_retail.xlsx")).to_be_visible(timeout=WAIT_MS)
        mapping_shows("Customer ID", "Customer ID")  # the form drawn on the demo first: the old bug's trigger

        # A file whose line total is its own column: the form shows it, and Apply keeps it.
        upload(sales, expected_sales)
        mapping_shows("Line amount (instead of quantity × price)", "SALES")
        mapping_shows("Customer ID", "CUSTOMERNAME")
        apply_unchanged(expected_sales)
        page.screenshot(path=tmp_path / "1-sales-applied.png")

        # CDNOW: no invoice column; Apply with nothing changed is not "could not be used".
        upload(cdnow, expected_cdnow)
        mapping_shows("Invoice / order ID", "(none)")
        mapping_shows("Line amount (instead of quantity × price)", "dollar_value")
        apply_unchanged(expected_cdnow)
        assert expected_cdnow.customers > 20_000

        # HDBSCAN on every customer: a few clusters (at most 12 cards), the sample said, no corrupt model.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Clusters").click()
        expect(page.get_by_role("heading", name="Clusters", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(live(page).get_by_test_id("stAlertContentInfo").filter(has_text="Recommended k =")).to_have_count(1, timeout=WAIT_MS)
        started = time.perf_counter()
        live(page, ".st-key-algorithm").get_by_role("combobox").click()
        page.get_by_role("option", name="HDBSCAN", exact=True).click()
        expect(caption(page, "Smallest cluster:")).to_have_count(1, timeout=WAIT_MS)
        settled(page)
        print(f"HDBSCAN on {expected_cdnow.customers:,} customers: {time.perf_counter() - started:.1f} s to the cards")
        cards = live(page).get_by_test_id("stMetric")
        assert 2 <= cards.count() <= 12
        expect(live(page).get_by_test_id("stAlertContentError")).to_have_count(0)
        found = cards.count() - (1 if live(page).get_by_test_id("stMetricLabel").filter(has_text="Noise").count() else 0)

        started = time.perf_counter()
        live(page, ".st-key-compare").get_by_text("Compare algorithms").click()
        table = live(page).get_by_test_id("stDataFrame").filter(has_text="HDBSCAN")
        expect(table).to_have_count(1, timeout=WAIT_MS)
        print(f"compare algorithms on {expected_cdnow.customers:,} customers: {time.perf_counter() - started:.1f} s")
        row = table.locator('tr[role="row"]').filter(has_text="HDBSCAN")
        expect(row.locator('[aria-colindex="2"]')).to_have_text(str(found))  # the table summarises the fit shown above
        assert_no_exception(page)
        page.screenshot(path=tmp_path / "2-hdbscan.png")

        # The run's own model is valid: Export offers it, and it loads.
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Export").click()
        expect(page.get_by_role("heading", name="Export", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(caption(page, "HDBSCAN, which found")).to_have_count(1, timeout=WAIT_MS)
        with page.expect_download() as model_download:
            live(page, ".st-key-model").get_by_role("button").click()
        model_path = tmp_path / "model.json"
        model_download.value.save_as(model_path)
        bundle = load_bundle(model_path.read_bytes())
        assert bundle.algorithm == "hdbscan" and len(bundle.centers) == found
        assert_no_exception(page)
    finally:
        with contextlib.suppress(Exception):  # never hide the test's own error behind a screenshot error
            page.screenshot(path=tmp_path / "last.png")
        context.close()
