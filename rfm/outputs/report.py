"""A self-contained HTML report of one run, to save, e-mail or print: it opens offline.

The report is built from the result objects a run already holds (:class:`rfm.cleaning.analyse.Analysis`,
:class:`rfm.scoring.classic.Segmentation`, and optionally the k-sweep, the clusters and the labelled list);
every chart comes from :mod:`rfm.outputs.charts`, so the report shows what the app shows. plotly.js is inlined once
in the head and each figure adds only its own data, so the file needs no network.

Every piece of text a user controls (file name, renamed segments, actions, ledger examples, the title) is
HTML-escaped, in the one helper each kind of output goes through (:func:`_table`, :func:`_text`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from rfm import schema
from rfm.errors import RFMInputError

if TYPE_CHECKING:  # the types only: importing rfm.clustering.fit at run time pulls in scikit-learn
    from rfm.cleaning.analyse import Analysis
    from rfm.cleaning.ledger import CleaningReport
    from rfm.clustering.fit import ClusterResult
    from rfm.clustering.sweep import SweepResult
    from rfm.scoring.classic import Segmentation
    from rfm.trends.kpis import SegmentKPIs

REPORT_PREFIX = "rfm-report"
MISSING = "–"  # shown for a value that is not defined (NaN, None)
_NUMERIC = ' class="num"'

SECTIONS: tuple[tuple[str, str], ...] = (
    ("cleaning", "Data cleaning"),
    ("rfm-segments", "RFM segments"),
    ("choosing-k", "Choosing k"),
    ("clusters", "Segments (clusters)"),
    ("segment-sizes", "Segment sizes"),
    ("campaign-kpis", "Campaign KPIs"),
    ("recommendations", "Recommendations"),
)
_HEADINGS = dict(SECTIONS)

# Shown on the modebar's "download plot" button; no plotly logo (it is a link to plotly.com).
_FIGURE_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = """
:root { --ink: #222; --muted: #666; --line: #d8dce3; --band: #f5f7fa; --accent: #2E6FDB; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 24px; line-height: 1.45; font-size: 15px; }
h1 { margin: 0 0 4px; font-size: 1.8em; }
h2 { margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); font-size: 1.35em; }
h3 { margin: 0 0 6px; font-size: 1.05em; }
p { margin: 6px 0; }
nav { margin: 10px 0 0; font-size: .9em; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; }
.muted { color: var(--muted); font-size: .9em; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: .88em; width: 100%; }
caption { caption-side: top; text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
tbody tr:nth-child(even) { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.small { font-size: .85em; color: var(--muted); max-width: 380px; overflow-wrap: anywhere; }
tr.highlight td { background: #fff4df; font-weight: 600; }
table.facts { width: auto; }
table.facts th { background: none; font-weight: 600; padding-right: 24px; }
ul.notes, ul.warnings { margin: 6px 0 12px; padding-left: 20px; }
ul.warnings li { color: var(--warn); }
.chart { margin: 8px 0 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 4px; padding: 10px 12px; }
.card .figures { color: var(--muted); font-size: .9em; margin-bottom: 6px; }
footer { margin-top: 40px; color: var(--muted); font-size: .85em; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  table, .chart, .card { break-inside: avoid; }
}
"""


# --- public API -----------------------------------------------------------------------------------------


def report_file_name(analysis_date: dt.date | None) -> str:
    """The file name to save a report under, dated by the analysis date.

    Parameters
    ----------
    analysis_date : date, datetime or None
        :attr:`rfm.cleaning.ledger.CleaningReport.analysis_date`; ``None`` gives an undated name.

    Returns
    -------
    str
        ``"rfm-report_<YYYY-MM-DD>.html"``, or ``"rfm-report.html"`` without a date.

    Raises
    ------
    RFMInputError
        When ``analysis_date`` is neither a date nor ``None``.

    Examples
    --------
    >>> import datetime as dt
    >>> report_file_name(dt.date(2011, 12, 9))
    'rfm-report_2011-12-09.html'
    >>> report_file_name(None)
    'rfm-report.html'
    """
    if analysis_date is None:
        return f"{REPORT_PREFIX}.html"
    if not isinstance(analysis_date, dt.date):
        raise RFMInputError(f"analysis_date={analysis_date!r} should be a date or None.")
    return f"{REPORT_PREFIX}_{analysis_date:%Y-%m-%d}.html"


def html_report(
    analysis: Analysis,
    segmentation: Segmentation,
    sweep: SweepResult | None = None,
    clusters: ClusterResult | None = None,
    labelled: pd.DataFrame | None = None,
    title: str = "RFM Studio report",
    *,
    generated_at: dt.datetime | None = None,
    kpis: SegmentKPIs | None = None,
) -> str:
    """One self-contained HTML document describing a run, from the file read to what to do per segment.

    Parameters
    ----------
    analysis : rfm.cleaning.analyse.Analysis
        The file read and cleaned: header facts and the cleaning ledger.
    segmentation : rfm.scoring.classic.Segmentation
        The classic RFM segments: summary table, share chart and R×F heat map.
    sweep : rfm.clustering.sweep.SweepResult, optional
        The k-sweep; adds "Choosing k" (metrics table, charts, the recommended k and why).
    clusters : rfm.clustering.fit.ClusterResult, optional
        The fitted clusters; adds "Segments (clusters)" (profiles, actions, PCA scatter).
    labelled : DataFrame, optional
        :func:`rfm.outputs.lists.labelled_customers`; gives "Segment sizes" and "Recommendations". Without it
        the same list is built from ``clusters`` (or, without clusters, from the RFM segments).
    title : str
        Shown at the top and in the browser tab (escaped).
    generated_at : datetime, optional
        The timestamp printed in the header (default: now, local time).
    kpis : rfm.trends.kpis.SegmentKPIs, optional
        Adds "Campaign KPIs": repeat rate, orders per customer, order value, revenue per customer, retention.

    Returns
    -------
    str
        An HTML5 document: plotly.js inlined once in the head, each chart's own data after it, inline CSS;
        no external script, stylesheet, font or link. About 5 MB, nearly all of it plotly.js.

    Examples
    --------
    >>> from rfm.cleaning.analyse import analyse_file
    >>> from rfm.scoring.classic import segment_customers
    >>> analysis = analyse_file(b"Invoice,Customer ID,InvoiceDate,Quantity,Price\\n1,A,2024-01-01,2,5\\n", "a.csv")
    >>> page = html_report(analysis, segment_customers(analysis.customers))
    >>> page.startswith("<!DOCTYPE html>"), "Data cleaning" in page
    (True, True)
    """
    sections = _report_sections(analysis, segmentation, sweep, clusters, labelled, kpis)
    return _document(analysis, title, generated_at or dt.datetime.now().astimezone(), sections)


def _report_sections(
    analysis: Analysis,
    segmentation: Segmentation,
    sweep: SweepResult | None,
    clusters: ClusterResult | None,
    labelled: pd.DataFrame | None,
    kpis: SegmentKPIs | None,
) -> dict[str, str]:
    """Each section's HTML keyed by its id (:data:`SECTIONS`), in report order; a section whose result was not given
    is left out."""
    sections = {"cleaning": _cleaning_section(analysis.report), "rfm-segments": _rfm_section(segmentation)}
    if sweep is not None:
        sections["choosing-k"] = _sweep_section(sweep)
    if clusters is not None:
        sections["clusters"] = _clusters_section(clusters)
    listing, source = _labelled_list(segmentation, clusters, labelled)
    sizes = _sizes_with_actions(listing)
    sections["segment-sizes"] = _sizes_section(sizes, source)
    if kpis is not None:
        sections["campaign-kpis"] = _kpis_section(kpis)
    sections["recommendations"] = _recommendations_section(sizes)
    return sections


def _document(analysis: Analysis, title: str, when: dt.datetime, sections: dict[str, str]) -> str:
    """The HTML5 page around the sections: a head holding the CSS and plotly.js, the header with the run's facts and a
    link to each section, the sections, and a footer."""
    import plotly.offline

    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_escape(title)}</title>",
            f"<style>{_CSS}</style>",
            # plotly's own offline HTML sets this before plotly.js so that it never looks for MathJax online.
            "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>",
            f"<script>{_script_safe(plotly.offline.get_plotlyjs())}</script>",
            "</head>",
            "<body>",
            _header(analysis, title, when, list(sections)),
            "<main>",
            *sections.values(),
            "</main>",
            f'<footer>Generated by RFM Studio on {_escape(_timestamp(when))}. '
            "This file is self-contained: it opens offline and prints as it shows.</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


# --- sections -------------------------------------------------------------------------------------------


def _header(analysis: Analysis, title: str, when: dt.datetime, shown: Sequence[str]) -> str:
    report, info = analysis.report, analysis.read_info
    facts = {
        "File": info.file_name,
        "Read as": info.describe(),
        "Analysis date": _date(report.analysis_date),
        "Purchases from": f"{_date(report.first_date)} to {_date(report.last_date)}",
        "Rows read": _count(report.rows_read),
        "Rows kept": f"{_count(report.rows_clean)} ({_share(_ratio(report.rows_clean, report.rows_read))})",
        "Customers": _count(report.customers),
        "Revenue": _money(report.revenue),
        "Generated": _timestamp(when),
    }
    rows = "".join(f"<tr><th>{_escape(k)}</th><td>{_escape(v)}</td></tr>" for k, v in facts.items())
    links = "".join(f'<a href="#{section_id}">{_escape(_HEADINGS[section_id])}</a>' for section_id in shown)
    return (
        f"<header><h1>{_escape(title)}</h1>"
        f'<table class="facts"><tbody>{rows}</tbody></table>'
        f"<nav>{links}</nav></header>"
    )


def _cleaning_section(report: CleaningReport) -> str:
    from rfm.outputs.charts import ledger_waterfall

    ledger = report.ledger_frame()
    table = pd.DataFrame(
        {
            "Rule": ledger["rule"],
            "What it removes": ledger["description"],
            "Rows": [
                _count(rows) + ("" if applied else " (off)") for rows, applied in zip(ledger["rows"], ledger["applied"])
            ],
            "Revenue removed": ledger["revenue"].map(_money),
            "Example": ledger["example"],
        }
    )
    return _section(
        "cleaning",
        _text(
            f"{_count(report.rows_read)} rows read, {_count(report.rows_removed)} removed under the rules below, "
            f"{_count(report.rows_clean)} kept. Rules marked \u201coff\u201d were not applied; "
            "their rows show what they would remove."
        ),
        _table(table, numeric=("Rows", "Revenue removed"), small=("Example",)),
        _figure(ledger_waterfall(report), "figure-ledger"),
        _items(report.notes, "notes"),
        _items(report.warnings, "warnings"),
    )


def _group_table(summary: pd.DataFrame, size_column: str) -> pd.DataFrame:
    """Formatted size, revenue and means of each group (a segment summary or a cluster profile)."""
    return pd.DataFrame(
        {
            "Segment": summary.index.map(str),
            "Customers": summary[size_column].map(_count),
            "Share": summary["share"].map(_share),
            "Revenue": summary["revenue"].map(_money),
            "Revenue share": summary["revenue_share"].map(_share),
            "Mean recency (days)": summary[f"mean_{schema.RECENCY}"].map(_decimal(1)),
            "Mean orders": summary[f"mean_{schema.FREQUENCY}"].map(_decimal(1)),
            "Mean spend": summary[f"mean_{schema.MONETARY}"].map(_money),
            "Avg order value": summary["avg_order_value"].map(_money),
        }
    )


def _rfm_section(segmentation: Segmentation) -> str:
    from rfm.outputs.charts import score_heatmap, segment_share_figure

    summary = segmentation.summary
    info = segmentation.info
    table = _group_table(summary, "customers")
    table["Description"] = [_lookup(info, segment, "description") for segment in summary.index]
    customers = segmentation.customers
    n_bins = segmentation.scores.n_bins
    charts = [_figure(segment_share_figure(summary), "figure-rfm-shares")] if len(summary) else []
    if len(customers):
        charts.append(_figure(score_heatmap(customers, n_bins), "figure-rfm-heatmap"))
    return _section(
        "rfm-segments",
        _text(f"{_count(len(customers))} customers scored 1 to {n_bins} on recency, frequency and monetary value."),
        _table(table, numeric=tuple(table.columns[1:-1]), small=("Description",)),
        *charts,
        _items(segmentation.warnings, "warnings"),
        *_stage_parts(segmentation),
    )


def _stage_parts(segmentation: Segmentation) -> list[str]:
    """The lifecycle stages of the RFM section: what each means, with its days, and its customers and revenue."""
    if segmentation.lifecycle is None or schema.LIFECYCLE_STAGE not in segmentation.customers.columns:
        return []
    from rfm.scoring.lifecycle import thresholds_table

    rules = thresholds_table(segmentation.lifecycle).set_index("stage")
    summary = segmentation.stage_summary()
    table = pd.DataFrame(
        {
            "Lifecycle stage": summary.index.map(str),
            "Rule": [f"{rules.loc[stage, 'customers'].capitalize()}: {rules.loc[stage, 'rule']}" for stage in summary.index],
            "Customers": summary["customers"].map(_count),
            "Share": summary["share"].map(_share),
            "Revenue share": summary["revenue_share"].map(_share),
        }
    )
    warning = segmentation.lifecycle.warning
    return [_table(table, numeric=("Customers", "Share", "Revenue share")), _items([warning] if warning else [], "warnings")]


def _sweep_section(sweep: SweepResult) -> str:
    from rfm.outputs.charts import actionability_figure, stability_figure, sweep_figure

    if not sweep.ks:
        return _section(
            "choosing-k",
            _text("No number of clusters could be tried: " + sweep.reason),
            _items([w for w in sweep.warnings if w != sweep.reason], "warnings"),
        )
    frame = sweep.as_frame()
    table = pd.DataFrame(
        {
            "k": [_count(k) for k in frame.index],
            "Inertia": frame["inertia"].map(_decimal(1)),
            "Silhouette": frame["silhouette"].map(_decimal(3)),
            "Calinski–Harabasz": frame["calinski_harabasz"].map(_decimal(1)),
            "Davies–Bouldin": frame["davies_bouldin"].map(_decimal(3)),
            "Stability (ARI)": frame["stability"].map(_decimal(2)),
            "Smallest cluster": frame["smallest_share"].map(_share),
            "Largest cluster": frame["largest_share"].map(_share),
            **({"Separation": frame["separation"].map(_share)} if sweep.separation_measured else {}),
            "Recommended": ["★ recommended" if flag else "" for flag in frame["recommended"]],
        }
    )
    if sweep.sampled:
        basis = (
            f"Silhouette, Calinski–Harabasz and Davies–Bouldin were computed on a stratified sample of "
            f"{_count(sweep.silhouette_sample)} of {_count(sweep.n_customers)} customers; inertia on all of them."
        )
    else:
        basis = f"Every metric was computed on all {_count(sweep.n_customers)} customers ({sweep.method})."
    recommended = _count(sweep.recommended_k) if sweep.recommended_k else "none"
    return _section(
        "choosing-k",
        f"<p><strong>Recommended k: {_escape(recommended)}</strong>. {_escape(sweep.reason)}</p>",
        _text(basis),
        _table(table, numeric=tuple(table.columns[:-1]), highlight=list(frame["recommended"])),
        _figure(sweep_figure(sweep), "figure-sweep"),
        _figure(stability_figure(sweep), "figure-stability"),
        _figure(actionability_figure(sweep), "figure-actionability"),
        _items(sweep.notes, "notes"),
        _items(sweep.warnings, "warnings"),
    )


def _clusters_section(clusters: ClusterResult) -> str:
    from rfm.outputs.charts import pca_scatter
    from rfm.schema import CLUSTER

    profiles = clusters.profiles
    # Profiles are indexed by name; two clusters renamed alike share the first one's action.
    actions: dict[str, str] = {}
    for name, action in zip(clusters.names["name"], clusters.names["action"]):
        actions.setdefault(name, _plain(action))
    table = _group_table(profiles, "size")
    table["Action"] = [actions.get(name, "") for name in profiles.index]
    customers = clusters.customers
    scatter = []
    if len(customers) and len(clusters.projection.coords) == len(customers):
        labels = customers[CLUSTER]
        figure = pca_scatter(clusters.projection, labels, clusters.names["name"], customers)
        scatter.append(_figure(figure, "figure-pca"))
    return _section(
        "clusters",
        _text(f"{_count(len(customers))} customers in {len(clusters.names)} groups ({clusters.method()})."),
        _table(table, numeric=tuple(table.columns[1:-1]), small=("Action",)),
        *scatter,
        _items(clusters.warnings, "warnings"),
    )


def _labelled_list(
    segmentation: Segmentation, clusters: ClusterResult | None, labelled: pd.DataFrame | None
) -> tuple[pd.DataFrame, str]:
    """The labelled list given, or the one the app would build from what there is, and where it came from."""
    from rfm.outputs.lists import labelled_customers

    if labelled is not None:
        return labelled, "the labelled customer list"
    if clusters is not None:
        return labelled_customers(segmentation.customers, clusters.customers, None, segmentation.info), "the clusters"
    rfm_only = labelled_customers(segmentation.customers, None, None, segmentation.info)
    return rfm_only, "the RFM segments (no clusters given)"


def _sizes_with_actions(listing: pd.DataFrame) -> pd.DataFrame:
    """:func:`rfm.outputs.lists.segment_sizes` with printable names and an ``action`` always present."""
    from rfm.outputs.lists import segment_sizes

    sizes = segment_sizes(listing)
    sizes["action"] = sizes["action"].map(_plain) if "action" in sizes.columns else ""
    sizes["name"] = sizes["name"].map(lambda name: _plain(name) or "(no segment)")
    return sizes


def _sizes_section(sizes: pd.DataFrame, source: str) -> str:
    table = pd.DataFrame(
        {
            "Segment": sizes["name"],
            "Customers": sizes["customers"].map(_count),
            "Share of customers": sizes["share"].map(_share),
            "Revenue": sizes["revenue"].map(_money),
            "Share of revenue": sizes["revenue_share"].map(_share),
        }
    )
    return _section(
        "segment-sizes",
        _text(f"Customers and revenue per segment, largest revenue first, from {source}."),
        _table(table, numeric=tuple(table.columns[1:])) if len(table) else _text("No customers."),
    )


def _kpis_section(kpis: SegmentKPIs) -> str:
    from rfm.trends.kpis import KPI_HELP, KPI_LABELS, TOTAL

    table = kpis.table
    shown = pd.DataFrame(
        {
            "Segment": table.index,
            KPI_LABELS["customers"]: table["customers"].map(_count),
            KPI_LABELS["repeat_rate"]: table["repeat_rate"].map(_share),
            KPI_LABELS["purchase_frequency"]: table["purchase_frequency"].map(_decimal(2)),
            KPI_LABELS["avg_order_value"]: table["avg_order_value"].map(_money),
            KPI_LABELS["revenue_per_customer"]: table["revenue_per_customer"].map(_money),
            KPI_LABELS["retention"]: table["retention"].map(_share),
            KPI_LABELS["retained_of"]: table["retained_of"].map(_count),
        }
    )
    notes = [f"{KPI_LABELS[name]}: {text}" for name, text in KPI_HELP.items()]
    return _section(
        "campaign-kpis",
        _text(f"{kpis.caption}."),
        _table(shown, numeric=tuple(shown.columns[1:]), highlight=[name == TOTAL for name in table.index]),
        _items(notes, "notes"),
    )


def _recommendations_section(sizes: pd.DataFrame) -> str:
    cards = "".join(
        '<div class="card">'
        f"<h3>{_escape(row.name)}</h3>"
        f'<div class="figures">{_escape(_customers(row.customers))} ({_escape(_share(row.share))}) · '
        f"{_escape(_share(row.revenue_share))} of revenue</div>"
        f"<p>{_escape(row.action or 'No action recorded for this segment.')}</p>"
        "</div>"
        for row in sizes.itertuples(index=False)
    )
    return _section("recommendations", f'<div class="cards">{cards}</div>' if cards else _text("No segments."))


# --- HTML building blocks: everything user-controlled is escaped here ----------------------------------------


def _escape(value) -> str:
    return html.escape(str(value), quote=True)


def _section(section_id: str, *parts: str) -> str:
    body = "\n".join(part for part in parts if part)
    return f'<section id="{section_id}">\n<h2>{_escape(_HEADINGS[section_id])}</h2>\n{body}\n</section>'


def _text(text: str) -> str:
    return f"<p>{_escape(text)}</p>"


def _items(items: Iterable[str], kind: str) -> str:
    """A list of notes or warnings (``kind`` is the CSS class), or nothing when there are none."""
    entries = "".join(f"<li>{_escape(item)}</li>" for item in items)
    return f'<ul class="{kind}">{entries}</ul>' if entries else ""


def _table(
    frame: pd.DataFrame,
    numeric: Sequence[str] = (),
    small: Sequence[str] = (),
    highlight: Sequence[bool] | None = None,
) -> str:
    """A table of display strings: headers and cells escaped; ``numeric`` columns right-aligned,
    ``small`` ones in small print, rows flagged by ``highlight`` emphasised."""

    def css(column: object) -> str:
        return _NUMERIC if column in numeric else ' class="small"' if column in small else ""

    head = "".join(f"<th{_NUMERIC if c in numeric else ''}>{_escape(c)}</th>" for c in frame.columns)
    flags = list(highlight) if highlight is not None else [False] * len(frame)
    body = "".join(
        ("<tr class=\"highlight\">" if flag else "<tr>")
        + "".join(f"<td{css(c)}>{_escape(_plain(v))}</td>" for c, v in zip(frame.columns, values))
        + "</tr>"
        for flag, values in zip(flags, frame.itertuples(index=False, name=None))
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(figure: Any, div_id: str) -> str:
    """A plotly figure as a div and its data; plotly.js itself is in the head (plotly escapes ``<``, ``>``
    and ``/`` in the figure's JSON, so user text there cannot close the script)."""
    chart = figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_FIGURE_CONFIG)
    return f'<div class="chart">{chart}</div>'


def _script_safe(script: str) -> str:
    # An inline script ends at the first "</script"; plotly.js has none today, but must never have one.
    return script.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


# --- formatting -------------------------------------------------------------------------------------------


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(math.isnan(value))
    except (TypeError, ValueError):
        return False


def _plain(value) -> str:
    """Text as it is, a missing value (NaN, None) as an empty string."""
    return "" if _missing(value) else str(value)


def _count(value) -> str:
    return MISSING if _missing(value) else f"{int(value):,}"


def _customers(value) -> str:
    return f"{_count(value)} customer" + ("" if value == 1 else "s")


def _money(value) -> str:
    return MISSING if _missing(value) else f"{float(value):,.2f}"


def _share(value) -> str:
    return MISSING if _missing(value) else f"{float(value):.1%}"


def _decimal(digits: int) -> Callable[[float], str]:
    def formatted(value: float) -> str:
        return MISSING if _missing(value) else f"{float(value):,.{digits}f}"

    return formatted


def _ratio(part, whole) -> float:
    return float(part) / float(whole) if whole and not _missing(whole) and not _missing(part) else float("nan")


def _date(value) -> str:
    return MISSING if _missing(value) else f"{value:%Y-%m-%d}"


def _timestamp(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M %Z}".strip()


def _lookup(frame: pd.DataFrame, row, column: str) -> str:
    if column not in frame.columns or row not in frame.index:
        return ""
    return _plain(frame.at[row, column])


__all__ = ["REPORT_PREFIX", "SECTIONS", "html_report", "report_file_name"]
