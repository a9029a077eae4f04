"""Tables, downloads and page parts shared by several pages (their layout only; the figures come from ``rfm``)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping

import streamlit as st

from ui.state import WORKBOOK

#: While a page reruns, Streamlit dims what the last run drew: after 0.5 s, over 1 s (``opacity 1s ease-in 0.5s``, and
#: the same on an expander's border). A browser without a GPU paints every frame of that fade in software: during an
#: upload the fade of the Data page took about 1.5 CPU cores for 1.1 s, away from the file being read (bench/RESULTS.md).
#: Here the dimming comes at once after the same 0.5 s, one repaint. ``data-stale`` is Streamlit's own mark.
CALM_RERUNS_CSS = """<style>
[data-stale="true"], [data-testid="stExpander"] details, [data-testid="stExpander"] summary {
  transition-duration: 0s !important;
}
</style>"""


def calm_reruns() -> None:
    """Dim what a rerun replaces in one step instead of a fade (see :data:`CALM_RERUNS_CSS`). Style only: Streamlit
    sends it outside the page's layout, so it takes no space."""
    st.html(CALM_RERUNS_CSS)


#: ASCII punctuation, which Markdown may read as markup.
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")


def as_text(value: object) -> str:
    """``value`` as it is, in text that Streamlit reads as Markdown (:func:`static_table`): every ASCII punctuation mark
    escaped, so that a file's ``*``, ``_``, ``$`` or ``<`` is shown, not taken for emphasis, maths or a tag."""
    return _MARKUP.sub(r"\\\1", str(value))


def static_table(frame, formats: Mapping[str, str] | None = None, container=st, hide_index: bool = False) -> None:
    """``frame`` as a Markdown table: small tables the first page shows, drawn with no table scripts at all (neither
    the interactive grid's nor the Arrow reader that ``st.table`` needs; 0.4-0.6 s of a new browser's first visit,
    bench/RESULTS.md). ``formats``: a format string per number column, right-aligned; every other cell is shown as
    text, as it is (:func:`as_text`), on one line."""
    import pandas as pd

    formats = dict(formats or {})

    def cell(column, value) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if column in formats:
            return formats[column].format(value)
        return " ".join(as_text(value).splitlines())

    columns = list(frame.columns)
    header = columns if hide_index else [frame.index.name or "", *columns]
    rule = ["---:" if column in formats else "---" for column in columns]
    lines = [_row(as_text(name) for name in header), _row(rule if hide_index else ["---", *rule])]
    for label, values in zip(frame.index, frame.itertuples(index=False, name=None)):
        cells = [cell(column, value) for column, value in zip(columns, values)]
        lines.append(_row(cells if hide_index else [cell(None, label), *cells]))
    container.markdown("\n".join(lines))


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def apply_or_explain(build: Callable, apply: Callable) -> None:
    """A form's "Apply": ``apply(build())`` and rerun the page, or show why ``build`` refused the values (its
    :class:`rfm.errors.RFMInputError`) and leave the settings as they were."""
    from rfm.errors import RFMInputError

    try:
        value = build()
    except RFMInputError as exc:
        st.error(str(exc))
    else:
        apply(value)
        st.rerun()


def kpi_columns() -> dict:
    """Column formats of the campaign KPI table."""
    from rfm.trends.kpis import KPI_HELP, KPI_LABELS

    formats = {"repeat_rate": "percent", "retention": "percent", "purchase_frequency": "%.2f", "avg_order_value": "%.2f", "revenue_per_customer": "%.2f"}
    return {
        name: st.column_config.NumberColumn(label, format=formats.get(name, "localized"), help=KPI_HELP.get(name))
        for name, label in KPI_LABELS.items()
    }


def clicked_cell(chart_key: str) -> tuple[str, str] | None:
    """The (row, column) of the cell last clicked in a clickable :func:`rfm.outputs.charts.crosstab_heatmap`, or ``None``."""
    try:
        points = st.session_state[chart_key]["selection"]["points"]
    except (KeyError, TypeError):  # no chart yet, or nothing selected
        return None
    for point in points:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            return str(data[0]), str(data[1])
    return None


def summary_columns(columns) -> dict:
    """Column formats for the segment summary and cluster profile tables (shares, money, means, actions)."""
    from rfm import schema

    config = {
        "size": st.column_config.NumberColumn("customers", format="localized"),
        "customers": st.column_config.NumberColumn(format="localized"),
        "share": st.column_config.NumberColumn(format="percent"),
        "revenue": st.column_config.NumberColumn(format="localized"),
        "revenue_share": st.column_config.NumberColumn("share of revenue", format="percent"),
        "avg_order_value": st.column_config.NumberColumn("average order value", format="%.2f"),
        "action": st.column_config.TextColumn("recommended action", width="large"),
    }
    for stat in ("mean", "median"):
        for metric in (schema.RECENCY, schema.FREQUENCY, schema.MONETARY):
            config[f"{stat}_{metric}"] = st.column_config.NumberColumn(f"{stat} {schema.RFM_LABELS[metric].lower()}", format="%.1f")
    for column in columns:
        if str(column).startswith("segment: "):
            config[column] = st.column_config.NumberColumn(format="percent")
    return {name: value for name, value in config.items() if name in set(columns)}


def money(value: float) -> str:
    return f"{value:,.2f}"


def fitted_number_column(values, label: str | None = None, *, format: str = "localized", decimals: int = 2, **options):
    """A number column wide enough for its longest value, sign, separators and decimals included.

    Left to size itself, the grid measures the numbers before they are formatted and clips the widest on the
    left ("128,427.39" showed as "28,427.39", "-30,123.04" as "30,123.04"): a number must never lose digits.
    """
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    texts = [f"{value:,.{decimals}f}" for value in numbers]
    widest = max([len(text) for text in texts] + [len(label or "")], default=4)
    return st.column_config.NumberColumn(label, format=format, width=max(64, 9 * widest + 28), **options)


def choose_lists(labelled, prefix: str):
    """Controls for what to export: split (cluster or RFM segments), which segments, which columns.

    Shows the chosen segments' sizes and actions, and stops the page when no segment is chosen.
    Returns ``(split, chosen segments, columns)``.
    """
    from rfm.outputs.lists import COLUMN_LABELS, DEFAULT_COLUMNS, SPLITS, segment_sizes
    from rfm.workspace.tables import MOVEMENT_COLUMNS, MOVEMENT_LABELS

    split = st.radio("Split the lists by", list(SPLITS), format_func=SPLITS.get, horizontal=True, key=f"{prefix}_split")
    sizes = segment_sizes(labelled, split)
    chosen = st.multiselect("Segments to export", list(sizes["name"]), default=list(sizes["name"]), key=f"{prefix}_segments_{split}")
    columns = st.multiselect(
        "Columns", list(labelled.columns), default=[c for c in (*DEFAULT_COLUMNS, *MOVEMENT_COLUMNS) if c in labelled.columns],
        format_func=lambda column: COLUMN_LABELS.get(column) or MOVEMENT_LABELS.get(column, column),
        # A list that gains the movement columns (once published) offers them chosen: a widget of its own.
        key=f"{prefix}_columns" + ("_moved" if any(c in labelled.columns for c in MOVEMENT_COLUMNS) else ""),
        help="The customer id is always the first column.",
    )
    if not chosen:
        st.info("Choose at least one segment to export.")
        st.stop()
    shown = sizes[sizes["name"].isin(chosen)].set_index("name")
    st.dataframe(shown, width="stretch", column_config=summary_columns(shown.columns), key=f"{prefix}_sizes")
    return split, chosen, columns


def download_lists(labelled, split: str, columns, day, chosen, prefix: str, run_token: tuple, profiles=None, ledger=None, kpis=None) -> None:
    """Download buttons: a CSV per chosen segment, all of them as a ZIP, every customer, and the workbook.

    Files are built when clicked (``data`` is a callable) and clicking does not rerun the page. A workbook that
    takes more than about a second is built first, with a progress bar, then downloaded (see :func:`_workbook_button`);
    ``run_token`` says which run ``labelled`` is, so that a workbook built for it is offered again, not rebuilt.
    """
    from rfm.outputs import files as export
    from rfm.outputs.lists import segment_sizes

    sizes = segment_sizes(labelled, split).set_index("name")["customers"]
    st.markdown("#### One list per segment")
    buttons = st.columns(3)
    for position, name in enumerate(chosen):
        buttons[position % 3].download_button(
            f"{name} ({sizes[name]:,})",
            data=lambda name=name: next(iter(export.segment_files(labelled, split, columns, day, [name]).values())),
            file_name=export.export_file_name(name, day, "csv"), mime="text/csv",
            on_click="ignore", icon=":material/download:", key=f"{prefix}_csv_{position}",
        )
    st.markdown("#### Everything at once")
    zip_column, all_column, workbook_column = st.columns(3)
    zip_column.download_button(
        f"{len(chosen)} list{'s' if len(chosen) != 1 else ''} (ZIP)",
        data=lambda: export.zip_bytes(export.segment_files(labelled, split, columns, day, chosen)),
        file_name=export.export_file_name("segments", day, "zip"), mime="application/zip",
        on_click="ignore", icon=":material/folder_zip:", key=f"{prefix}_zip",
    )
    all_column.download_button(
        f"Every customer ({len(labelled):,}, one CSV)",
        data=lambda: export.csv_bytes(labelled, columns),
        file_name=export.export_file_name("all-customers", day, "csv"), mime="text/csv",
        on_click="ignore", icon=":material/download:", key=f"{prefix}_all_csv",
    )
    with workbook_column:
        _workbook_button(
            lambda progress=None: export.workbook_bytes(
                labelled, split, columns, day, chosen, profiles=profiles, ledger=ledger, kpis=kpis, progress=progress
            ),
            export.workbook_cells(labelled, split, columns, chosen), export.export_file_name("segments", day, "xlsx"),
            prefix, (run_token, split, tuple(chosen), tuple(columns)),
        )


def platform_download(audience, day, prefix: str, *, name: str = "audience", plain_csv: bool = False) -> None:
    """A download of ``audience`` (customers of a labelled list) in an ad or email platform's import format (Klaviyo,
    Mailchimp, Meta Custom Audience, Google Customer Match; the plain CSV too when ``plain_csv``): emails and phones
    normalised and hashed where the platform wants, with what was left out and the platform's minimum said above the
    button. ``name`` starts the file's name."""
    from rfm.audiences.formats import FORMATS, audience_file
    from rfm.errors import RFMInputError
    from rfm.outputs.files import export_file_name

    formats = [key for key in FORMATS if plain_csv or key != "csv"]
    format = st.selectbox("Format" if plain_csv else "Platform", formats, format_func=FORMATS.get, key=f"{prefix}_platform")
    try:
        result = audience_file(audience, format)
    except RFMInputError as error:
        st.info(str(error))
        return
    for warning in result.warnings:
        st.warning(warning)
    st.download_button(
        f"{FORMATS[format]}: {len(result.table):,} of {result.customers:,} customers",
        data=result.to_csv, file_name=export_file_name(f"{name}-{format}", day, "csv"), mime="text/csv",
        on_click="ignore", icon=":material/campaign:", key=f"{prefix}_platform_file",
        help="UTF-8 CSV in the platform's import columns. Meta and Google files hold SHA-256 hashes of the normalised "
        "email and phone (and Meta's country), never the addresses themselves.",
    )


#: Below this many cells a workbook is built when its download button is clicked (well under a second).
QUICK_WORKBOOK_CELLS = 60_000


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook_button(build: Callable, cells: int, file_name: str, prefix: str, token: tuple) -> None:
    """The workbook's download. A small one is built on click. A big one takes seconds (about 60,000 cells a
    second), so it is built on a first click with a progress bar, kept for this exact selection (one per session),
    and then downloaded with a second click."""
    from rfm.outputs.files import WORKBOOK_CELLS_PER_SECOND

    key = f"{prefix}_workbook"
    if cells <= QUICK_WORKBOOK_CELLS:
        st.download_button("Excel workbook (.xlsx)", data=build, file_name=file_name, mime=XLSX_MIME,
                           on_click="ignore", icon=":material/table_view:", key=key)
        return
    digest = hashlib.sha256(repr(token).encode()).hexdigest()
    built = st.session_state.get(WORKBOOK)
    if built is None or built[0] != digest:
        seconds = max(1, round(cells / WORKBOOK_CELLS_PER_SECOND))
        if not st.button(f"Prepare the Excel workbook (about {seconds} s)", key=f"{key}_prepare", icon=":material/table_view:",
                         help=f"{cells:,} cells: the workbook is written once, then offered for download."):
            return
        bar = st.progress(0.0, text="Writing the workbook…")
        data = build(progress=lambda share: bar.progress(min(share, 1.0), text=f"Writing the workbook… {share:.0%}"))
        bar.empty()
        st.session_state[WORKBOOK] = built = (digest, data)
    st.download_button("Excel workbook (.xlsx)", data=built[1], file_name=file_name, mime=XLSX_MIME,
                       on_click="ignore", icon=":material/table_view:", key=key, type="primary")
