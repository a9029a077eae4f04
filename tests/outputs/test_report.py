"""The HTML report: sections and numbers, self-contained (plotly.js once, nothing fetched), escaped, well formed."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import replace
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from rfm.errors import RFMInputError
from rfm.outputs.report import html_report, report_file_name

GENERATED = dt.datetime(2024, 5, 6, 7, 8)
HEADINGS = ["Data cleaning", "RFM segments", "Choosing k", "Segments (clusters)", "Segment sizes", "Recommendations"]
VOID_TAGS = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source"}


@pytest.fixture(scope="module")
def run():
    """Every result of one run on the demo data (~3 s), and its report."""
    from rfm.cleaning.analyse import analyse_file
    from rfm.clustering.fit import ClusterSettings, fit_clusters, run_sweep
    from rfm.demo import DEMO_PATH
    from rfm.outputs.lists import labelled_customers
    from rfm.scoring.classic import segment_customers

    analysis = analyse_file(DEMO_PATH)
    segmentation = segment_customers(analysis.customers)
    settings = ClusterSettings()
    sweep = run_sweep(segmentation.customers, settings)
    clusters = fit_clusters(segmentation.customers, settings, sweep.recommended_k)
    labelled = labelled_customers(
        segmentation.customers, clusters.customers, analysis.customer_country, segmentation.info
    )
    page = html_report(analysis, segmentation, sweep, clusters, labelled, generated_at=GENERATED)
    return SimpleNamespace(
        analysis=analysis, segmentation=segmentation, settings=settings, sweep=sweep, clusters=clusters,
        labelled=labelled, page=page,
    )


class _Document(HTMLParser):
    """Parses a page strictly: every non-void tag closed in order; keeps tags, attributes and cell texts."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID_TAGS:
            self.open.append(tag)
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _assert_well_formed(page: str) -> _Document:
    document = _Document(page)
    assert document.errors == []
    assert document.open == []
    assert page.count("<table") == page.count("</table>")
    return document


def _assert_self_contained(page: str, document: _Document) -> None:
    import plotly.offline

    assert page.count(plotly.offline.get_plotlyjs()) == 1
    assert [attrs for _, attrs in document.tags if "src" in attrs] == []
    assert [attrs["href"] for _, attrs in document.tags if not attrs.get("href", "#").startswith("#")] == []
    assert not [tag for tag, _ in document.tags if tag in ("link", "iframe", "img", "object", "embed")]
    assert "@import" not in page and "url(" not in page.split("</style>")[0]


# --- file name ----------------------------------------------------------------------------------------------


def test_report_file_name_carries_the_analysis_date():
    assert report_file_name(dt.date(2011, 12, 9)) == "rfm-report_2011-12-09.html"
    assert report_file_name(dt.datetime(2011, 12, 9, 18, 8)) == "rfm-report_2011-12-09.html"
    assert report_file_name(None) == "rfm-report.html"


def test_report_file_name_rejects_a_non_date():
    with pytest.raises(RFMInputError, match=r"analysis_date='2011-12-09' should be a date or None"):
        report_file_name("2011-12-09")


# --- the full report ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sections_come_in_order(run):
    positions = [run.page.index(f"<h2>{html.escape(heading)}</h2>") for heading in HEADINGS]
    assert positions == sorted(positions)


def test_header_gives_the_file_and_its_key_numbers(run):
    report = run.analysis.report
    header = run.page.split("</header>")[0]
    assert (report.rows_read, report.rows_clean, report.customers) == (47_956, 38_450, 2_999)
    for text in (
        "demo_online_retail.xlsx", "2011-12-09", "2009-12-01 to 2011-12-09", "47,956", "38,450 (80.2%)",
        "<td>2,999</td>", "<td>1,299,753.10</td>", "2024-05-06 07:08", html.escape(run.analysis.read_info.describe()),
    ):
        assert text in header


def test_cleaning_section_lists_every_rule(run):
    cleaning = run.page.split('<section id="cleaning">')[1].split("</section>")[0]
    for line in run.analysis.report.ledger:
        assert f"<td>{html.escape(line.rule)}</td>" in cleaning
    assert "7,677" in cleaning and "128,427.39" in cleaning  # missing customer id: rows and revenue
    assert 'id="figure-ledger"' in cleaning


def test_rfm_section_shows_each_segment_with_its_share(run):
    rfm = run.page.split('<section id="rfm-segments">')[1].split("</section>")[0]
    summary = run.segmentation.summary
    assert summary.loc["Champions", "customers"] == 388
    assert "<td>Champions</td>" in rfm and '<td class="num">388</td>' in rfm and "12.9%" in rfm  # 388 / 2,999
    assert all(f"<td>{html.escape(segment)}</td>" in rfm for segment in summary.index)
    assert 'id="figure-rfm-shares"' in rfm and 'id="figure-rfm-heatmap"' in rfm


def test_sweep_section_gives_the_recommended_k_and_why(run):
    sweep = run.page.split('<section id="choosing-k">')[1].split("</section>")[0]
    assert f"Recommended k: {run.sweep.recommended_k}</strong>" in sweep
    assert html.escape(run.sweep.reason) in sweep
    assert "computed on all 2,999 customers" in sweep
    assert sweep.count('<tr class="highlight">') == 1
    assert 'id="figure-sweep"' in sweep and 'id="figure-stability"' in sweep


def test_sampled_sweep_says_on_how_many_customers(run):
    sampled = replace(run.sweep, silhouette_sample=1_000)
    page = html_report(run.analysis, run.segmentation, sampled, generated_at=GENERATED)
    assert "stratified sample of 1,000 of 2,999 customers; inertia on all of them" in page


def test_every_cluster_name_and_action_appear(run):
    clusters = run.page.split('<section id="clusters">')[1].split("</section>")[0]
    cards = run.page.split('<section id="recommendations">')[1].split("</section>")[0]
    for name, action in zip(run.clusters.names["name"], run.clusters.names["action"]):
        assert f"<td>{html.escape(name)}</td>" in clusters and html.escape(action) in clusters
        assert f"<h3>{html.escape(name)}</h3>" in cards and html.escape(action) in cards
    assert 'id="figure-pca"' in clusters


def test_segment_sizes_add_up_to_every_customer(run):
    from rfm.outputs.lists import segment_sizes

    sizes = segment_sizes(run.labelled)
    section = run.page.split('<section id="segment-sizes">')[1].split("</section>")[0]
    assert sizes["customers"].sum() == 2_999
    for row in sizes.itertuples():
        assert f'<td class="num">{row.customers:,}</td>' in section
        assert f'<td class="num">{row.revenue:,.2f}</td>' in section
    assert run.page.count('<div class="card">') == len(sizes)


def test_plotly_js_is_embedded_once_and_nothing_is_fetched(run):
    document = _assert_well_formed(run.page)
    _assert_self_contained(run.page, document)
    charts = [
        "figure-ledger", "figure-rfm-shares", "figure-rfm-heatmap", "figure-sweep", "figure-stability", "figure-actionability",
        "figure-pca",
    ]
    assert [attrs["id"] for tag, attrs in document.tags if attrs.get("class") == "plotly-graph-div"] == charts
    assert run.page.count("Plotly.newPlot(") == len(charts)


def test_customer_data_is_embedded_once(run):
    import plotly.offline

    # The PCA scatter carries each customer id once (hover data); nothing else repeats the customer list.
    first_customer = run.clusters.customers.index[0]
    assert run.page.count(f'"{first_customer}"') == 1
    assert len(run.page) - len(plotly.offline.get_plotlyjs()) < 500_000  # ~240 kB of tables and chart data today


def test_html_is_well_formed_with_one_table_per_listing(run):
    document = _assert_well_formed(run.page)
    # header facts, ledger, RFM summary, lifecycle stages, sweep metrics, cluster profiles, segment sizes
    assert run.page.count("<table") == 7
    assert "nan" not in [cell.lower() for cell in document.cells]


# --- user text ------------------------------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere(run):
    from rfm.clustering.fit import fit_clusters
    from rfm.outputs.lists import labelled_customers

    clusters = fit_clusters(
        run.segmentation.customers, run.settings, run.sweep.recommended_k,
        renames=((0, "<b>VIP & co</b>", "Call <them>"),),
    )
    labelled = labelled_customers(run.segmentation.customers, clusters.customers, None, run.segmentation.info)
    report = run.analysis.report
    hostile_line = replace(report.ledger[0], examples=((("Description", "<img src=x onerror=alert(1)>"),),))
    analysis = replace(
        run.analysis,
        read_info=replace(run.analysis.read_info, file_name="<script>alert(1)</script>.xlsx"),
        report=replace(report, ledger=(hostile_line, *report.ledger[1:])),
    )
    page = html_report(
        analysis, run.segmentation, run.sweep, clusters, labelled, title="Q4 <i>&</i>", generated_at=GENERATED
    )

    assert "<title>Q4 &lt;i&gt;&amp;&lt;/i&gt;</title>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.xlsx" in page
    assert "Description=&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<td>&lt;b&gt;VIP &amp; co&lt;/b&gt;</td>" in page  # profile table
    assert "<h3>&lt;b&gt;VIP &amp; co&lt;/b&gt;</h3>" in page  # recommendation card
    assert page.count("Call &lt;them&gt;") == 2  # profile table and card
    for raw in ("<b>VIP", "<them>", "<script>alert", "<img", "<i>&"):
        assert raw not in page
    document = _assert_well_formed(page)
    _assert_self_contained(page, document)


# --- optional and degenerate inputs ---------------------------------------------------------------------------------


def test_report_without_sweep_clusters_or_labelled_list(run):
    page = html_report(run.analysis, run.segmentation, generated_at=GENERATED)
    assert "<h2>Choosing k</h2>" not in page and "<h2>Segments (clusters)</h2>" not in page
    assert 'href="#choosing-k"' not in page and 'href="#clusters"' not in page
    cards = page.split('<section id="recommendations">')[1].split("</section>")[0]
    # Without a labelled list the recommendations are the RFM segments and their actions.
    for segment in run.segmentation.summary.index:
        assert f"<h3>{html.escape(segment)}</h3>" in cards
        assert html.escape(run.segmentation.info.loc[segment, "action"]) in cards
    assert "from the RFM segments (no clusters given)" in page
    _assert_self_contained(page, _assert_well_formed(page))
    assert page.count("Plotly.newPlot(") == 3


def test_clusters_without_labelled_list_give_cluster_recommendations(run):
    page = html_report(run.analysis, run.segmentation, clusters=run.clusters, generated_at=GENERATED)
    cards = page.split('<section id="recommendations">')[1].split("</section>")[0]
    assert cards.count('<div class="card">') == len(run.clusters.names)
    assert "<h2>Choosing k</h2>" not in page and "<h2>Segments (clusters)</h2>" in page
    _assert_well_formed(page)


def test_sweep_without_any_k_says_why(run):
    from rfm.clustering.fit import run_sweep

    empty = run_sweep(run.segmentation.customers.iloc[:1], run.settings)
    assert empty.ks == ()
    page = html_report(run.analysis, run.segmentation, empty, generated_at=GENERATED)
    assert "No number of clusters could be tried: " + html.escape(empty.reason) in page
    assert 'id="figure-sweep"' not in page
    _assert_well_formed(page)


def test_missing_values_show_as_a_dash(run):
    summary = run.segmentation.summary.copy()
    summary.loc["Champions", ["mean_monetary", "avg_order_value"]] = float("nan")
    segmentation = replace(run.segmentation, summary=summary)
    sweep = replace(run.sweep, silhouette=(float("nan"),) * len(run.sweep.ks))
    page = html_report(run.analysis, segmentation, sweep, generated_at=GENERATED)
    document = _assert_well_formed(page)
    rfm = page.split('<section id="rfm-segments">')[1].split("</section>")[0]
    champions = rfm.split("<td>Champions</td>")[1].split("</tr>")[0]
    assert champions.count('<td class="num">–</td>') == 2
    sweep_rows = page.split('<section id="choosing-k">')[1].split("</tbody>")[0].split("<tr")[2:]
    assert all('<td class="num">–</td>' in row for row in sweep_rows)  # one silhouette cell per k
    assert "nan" not in [cell.lower() for cell in document.cells]


@pytest.mark.slow
def test_one_customer_file_gives_a_report():
    from rfm.cleaning.analyse import analyse_file
    from rfm.clustering.fit import ClusterSettings, run_sweep
    from rfm.scoring.classic import segment_customers

    text = b"Invoice,Customer ID,InvoiceDate,Quantity,Price\n1,A,2024-01-01,2,5\n2,,2024-01-02,1,5\n"
    analysis = analyse_file(text, "one.csv")
    segmentation = segment_customers(analysis.customers)
    sweep = run_sweep(segmentation.customers, ClusterSettings())
    page = html_report(analysis, segmentation, sweep, generated_at=GENERATED)
    header = page.split("</header>")[0]
    assert "<td>one.csv</td>" in header and "<td>1</td>" in header and "<td>10.00</td>" in header  # 2 × 5.00
    assert "No number of clusters could be tried" in page
    assert "1 customer (100.0%) · 100.0% of revenue" in page
    _assert_self_contained(page, _assert_well_formed(page))
