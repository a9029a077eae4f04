"""Export page: the customer lists a marketer takes to a campaign tool, the workbook, the report and the model."""

import streamlit as st

import ui
from rfm.outputs.files import export_file_name
from rfm.outputs.lists import with_values
from rfm.outputs.report import html_report, report_file_name
from rfm.schema import SEGMENT_NAME

ui.require_router()
st.title("Export")
with st.spinner("Preparing the customer lists…"):
    run = ui.current_run()
labelled, day = with_values(run.labelled, ui.current_values()), run.analysis.report.analysis_date
st.caption(
    f"{len(labelled):,} customers of {run.analysis.read_info.file_name}, analysis date {day}, segmented with "
    f"{run.clusters.method()}; change the segments on the Clusters and Segments pages. Files are safe "
    "to open in Excel: text that could run as a formula is neutralised, customer ids stay text, CSVs are UTF-8 with a BOM."
)
for warning in run.clusters.warnings:
    st.warning(warning)
split, chosen, columns = ui.choose_lists(labelled, "export")
kpis = ui.current_kpis(split)
report_kpis = kpis if split == SEGMENT_NAME else ui.current_kpis(SEGMENT_NAME)
ui.download_lists(
    labelled, split, columns, day, chosen, "export", ui.run_token(), profiles=run.profiles, ledger=run.analysis.report.ledger_frame(), kpis=kpis
)

st.markdown("#### Report and model")
report_column, model_column = st.columns(2)
report_column.download_button(
    "HTML report of this run",
    data=lambda: html_report(run.analysis, run.segmentation, run.sweep, run.clusters, run.labelled, kpis=report_kpis),
    file_name=report_file_name(day), mime="text/html", on_click="ignore", icon=":material/description:", key="report",
    help="Cleaning ledger, k-sweep, profiles, segment sizes, campaign KPIs and recommendations; opens offline in any browser.",
)
model_column.download_button(
    "Model (model.json)",
    data=run.bundle.to_json,
    file_name=export_file_name("rfm-model", day, "json"), mime="application/json", on_click="ignore",
    icon=":material/model_training:", key="model",
    help="Score cut points, segment rules, outlier fences and clusters as plain JSON (no code). Use it on the Score "
    "page or with `python -m rfm score FILE --model model.json --out DIR` to label next month's customers the same way.",
)
st.page_link("pages/score.py", label="Score another file with a saved model", icon=":material/calculate:")
