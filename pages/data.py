"""Data page: choose a file, check how its columns were recognised, and see what cleaning did."""

from dataclasses import replace

import pandas as pd
import streamlit as st

import ui
from rfm import schema
from rfm.cleaning.analyse import mapping_overrides
from rfm.errors import RFMInputError
from rfm.outputs.charts import ledger_waterfall_spec
from rfm.schema import DATE_ORDERS

FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods", "parquet"]
NONE = "(none)"
BUSY = "upload_refused"  # why the last upload was refused (the server's memory budget), shown once


def _use_upload() -> None:
    uploaded = st.session_state.get("upload")
    if uploaded is None:
        return
    try:  # refused with a sentence, never by running out of memory
        busy = ui.server_busy(uploaded.name, uploaded.size)
    except RFMInputError as error:  # a budget that is not a number: said, and the file is not read
        busy = str(error)
    st.session_state[BUSY] = busy
    if busy is None:
        ui.set_dataset(ui.Dataset.from_bytes(uploaded.name, uploaded.getvalue()))


def _use_demo() -> None:
    ui.set_dataset(ui.demo_dataset())


ui.require_router()
st.title("Data")
st.caption(
    "Upload a transaction export (one row per invoice line: customer, invoice, date, quantity, price) "
    "or explore the built-in demo data. Every row cleaning removes is counted below under a named rule."
)

upload_column, demo_column = st.columns([4, 1], vertical_alignment="center")
upload_column.file_uploader(
    f"Transaction file (CSV, TSV, TXT, Excel, ODS or Parquet; up to {ui.upload_limit_mb()} MB)",
    type=FILE_TYPES,
    key="upload",
    on_change=_use_upload,
)
demo_column.button("Use demo data", key="demo", on_click=_use_demo, width="stretch")
if st.session_state.get(BUSY):
    st.error(st.session_state.pop(BUSY), icon=":material/memory:")

dataset = ui.current_dataset()
choices = ui.current_choices()
st.subheader(f"{'Demo data: ' if dataset.is_demo else ''}{dataset.name}")
first_word = st.container()  # what the user must confirm before anything else (filled once the file is read)

sheets = ui.sheet_names(dataset)
if len(sheets) > 1:  # the choice behind a click, drawn when opened: a list box's scripts cost a first visit 0.1 s
    combined = ", ".join(ui.as_text(sheet) for sheet in choices.sheets) or "every sheet with transaction columns"
    sheets_box = st.expander(f"Sheets to combine: {combined}", key="sheets_open", on_change="rerun")
    if sheets_box.open:
        sheets_key = ui.file_key("sheets")
        sheets_box.multiselect(
            "Sheets to combine",
            sheets,
            default=list(choices.sheets),
            key=sheets_key,
            placeholder="Every sheet with transaction columns",
            help="Invoices found in more than one sheet are kept once; the ledger counts the rows merged.",
            on_change=lambda: ui.update_choices(sheets=tuple(st.session_state[sheets_key])),
        )

described, held, _, file_columns = ui.guarded(lambda: ui.reading_summary(dataset, choices))
st.caption(f"Read as {described}. {held}")

# --- columns ------------------------------------------------------------------------------------
guess = ui.mapping_guess(dataset, choices)
overrides = dict(choices.overrides)
st.markdown("#### Columns")
mapping_rows = []
for field in schema.FIELDS:
    by_hand = field in overrides
    column = overrides[field] if by_hand else guess.mapping.as_dict()[field]
    mapping_rows.append(
        {
            "field": schema.FIELD_LABELS[field],
            "column": column or "—",
            "confidence": 1.0 if by_hand and column else guess.confidence_of(field) if column else 0.0,
            "how": "chosen by you" if by_hand else guess.reason_of(field),
        }
    )
# Markdown tables (the mapping, the ledger) and the clean rows behind a click: the first page a visitor sees then needs
# no table scripts, neither the grid's nor Arrow's reader (bench/RESULTS.md).
ui.static_table(pd.DataFrame(mapping_rows).set_index("field"), {"confidence": "{:.0%}"})

# The forms and the examples are drawn when opened: every widget costs the browser time on every visit (a new
# session opened in 2.4 s instead of 2.9 s, bench/RESULTS.md).
mapping_box = st.expander("Change the column mapping or the date order", key="mapping_open", on_change="rerun")
if mapping_box.open:
    with mapping_box, st.form("mapping"):
        # Keys change with the file and the applied choices: the form always starts from the current mapping.
        options = [NONE, *file_columns]
        picked = {}
        for field, row in zip(schema.FIELDS, mapping_rows):
            current = row["column"] if row["column"] in file_columns else NONE
            picked[field] = st.selectbox(schema.FIELD_LABELS[field], options, index=options.index(current), key=ui.choices_key(f"map_{field}"))
        date_order = st.radio(
            "Dates like 01/02/2010 are",
            list(DATE_ORDERS),
            index=list(DATE_ORDERS).index(choices.settings.date_order),
            format_func=DATE_ORDERS.get,
            horizontal=True,
            key=ui.choices_key("date_order"),
        )
        if st.form_submit_button("Apply mapping"):
            new_overrides = mapping_overrides(guess.mapping.as_dict(), {f: None if c == NONE else c for f, c in picked.items()})
            if (new_overrides, date_order) != (choices.overrides, choices.settings.date_order):
                ui.update_choices(overrides=new_overrides, settings=replace(choices.settings, date_order=date_order))
                st.rerun()

# --- cleaning options ---------------------------------------------------------------------------
cleaning_box = st.expander("Cleaning options", key="cleaning_open", on_change="rerun")
if cleaning_box.open:
    with cleaning_box, st.form("cleaning"):
        settings = choices.settings
        cancel_prefix = st.text_input(
            "Cancelled invoices start with", settings.cancel_prefix, key=ui.choices_key("cancel_prefix"), help="Leave empty to keep every invoice."
        )
        drop_duplicates = st.checkbox("Remove exact duplicate rows", settings.drop_duplicates, key=ui.choices_key("drop_duplicates"))
        window = st.date_input(
            "Keep purchases in this date window (optional)", value=tuple(d for d in (settings.date_from, settings.date_to) if d),
            key=ui.choices_key("date_window"),
        )
        countries = st.multiselect(
            "Keep only these countries (optional)", ui.country_options(dataset, choices), default=list(settings.countries),
            key=ui.choices_key("countries"),
        )
        analysis_date = st.date_input("Analysis date (default: the latest purchase)", value=settings.analysis_date, key=ui.choices_key("analysis_date"))
        if st.form_submit_button("Apply cleaning options"):
            window = tuple(window) if isinstance(window, (tuple, list)) else (window,)
            new_settings = replace(
                settings,
                cancel_prefix=cancel_prefix,
                drop_duplicates=drop_duplicates,
                date_from=window[0] if len(window) > 0 else None,
                date_to=window[1] if len(window) > 1 else None,
                countries=tuple(countries),
                analysis_date=analysis_date,
            )
            if new_settings != settings:
                ui.update_choices(settings=new_settings)
                st.rerun()

# --- results ------------------------------------------------------------------------------------
result = ui.guarded(lambda: ui.analysis_with_progress(dataset, choices))
report = result.report
decision = report.date_decision
if decision.undecided:
    readings = decision.readings()
    with first_word:
        st.warning(
            f"**Which date order does this file use?** Every date in it fits both orders, so the order cannot be told "
            f"from the values: {decision.undecided_example} was read month first, as **{readings['monthfirst']}**. "
            f"Confirm it, or read the dates day first ({readings['dayfirst']}).",
            icon=":material/event:",
        )
        buttons = st.container(horizontal=True)
        buttons.button(
            f"Month first: {readings['monthfirst']}", key=ui.choices_key("confirm_monthfirst"), icon=":material/check:",
            on_click=ui.update_choices, kwargs={"settings": replace(choices.settings, date_order="monthfirst")},
        )
        buttons.button(
            f"Day first: {readings['dayfirst']}", key=ui.choices_key("confirm_dayfirst"), icon=":material/swap_horiz:",
            on_click=ui.update_choices, kwargs={"settings": replace(choices.settings, date_order="dayfirst")},
        )
st.markdown("#### Cleaning")
# Three cards a row, revenue in the widest: a card cuts what does not fit ("10,032,628…") on a laptop screen.
first_row, second_row = st.columns(3), st.columns([1, 1.5, 1.1])
first_row[0].metric("Rows read", f"{report.rows_read:,}", border=True)
first_row[1].metric(
    "Rows removed", f"{report.rows_removed:,}", f"{report.rows_removed / report.rows_read:.1%} of rows", delta_color="off", delta_arrow="off", border=True
)
first_row[2].metric("Rows kept", f"{report.rows_clean:,}", border=True)
second_row[0].metric("Customers", f"{report.customers:,}", border=True)
second_row[1].metric("Revenue", ui.money(report.revenue), border=True)
span = (report.last_date.date() - report.first_date.date()).days + 1
second_row[2].metric(
    "Days of purchases", f"{span:,}", f"{report.first_date:%Y-%m-%d} to {report.last_date:%Y-%m-%d}",
    delta_color="off", delta_arrow="off", border=True, help="From the first purchase to the last, both included.",
)
st.caption(f"Dates: {report.date_decision.note}. Analysis date: {report.analysis_date}.")
for note in report.notes:
    st.info(note)
for warning in report.warnings:
    st.warning(warning)

ledger = report.ledger_frame()
ledger["share of rows"] = ledger["rows"] / report.rows_read
ledger["revenue"] = ledger["revenue"].round(2)
ledger["applied"] = ledger["applied"].map({True: "removed", False: "off: would remove"})
rules_tab, waterfall_tab = st.tabs(["Rules", "Waterfall"], key="ledger_view", on_change="rerun")
ui.static_table(
    ledger[["rule", "applied", "rows", "share of rows", "revenue", "example", "description"]],
    {"rows": "{:,}", "share of rows": "{:.1%}", "revenue": "{:,.2f}"}, rules_tab, hide_index=True,
)
st.caption(f"Rows read {report.rows_read:,} = rows kept {report.rows_clean:,} + removed {report.rows_removed:,}.")
examples_box = st.expander("Example rows for each rule, as they are in the file", key="examples_open", on_change="rerun")
if examples_box.open:
    with examples_box:
        for line in (*report.ledger, *report.optional):
            if line.examples:
                st.markdown(f"**{line.rule}** ({'removed' if line.applied else 'would remove'} {line.rows:,} rows)")
                st.dataframe(line.example_dicts(), hide_index=True, width="stretch")
if waterfall_tab.open:  # Vega-Lite, Streamlit's own: no plotly in the browser; drawn only when asked for (bench/RESULTS.md)
    waterfall_tab.vega_lite_chart(ledger_waterfall_spec(report), width="stretch")

preview = result.preview.dropna(axis="columns", how="all")
preview_box = st.expander(f"The clean transactions: the first {len(preview):,} rows", key="preview_open", on_change="rerun")
if preview_box.open:
    preview_box.dataframe(
        preview,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.2f") for c in (schema.UNIT_PRICE, schema.AMOUNT, schema.LINE_VALUE)},
        key="preview",
    )
st.page_link("pages/rfm_table.py", label="Next: the RFM table", icon=":material/arrow_forward:")
st.page_link("pages/score.py", label="Or score this file with a saved model (model.json)", icon=":material/calculate:")
# Any page from here may cluster: scikit-learn's import, the k-sweep and the fit are made while the user reads the
# ledger, not when they click.
ui.prepare_clusters()
