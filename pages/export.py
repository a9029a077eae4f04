"""Export page: the customer lists a marketer takes to a campaign tool, the workbook, the report and the model."""

import os

import streamlit as st

import ui
from rfm import schema
from rfm.outputs.files import export_file_name
from rfm.outputs.lists import with_values
from rfm.outputs.report import html_report, report_file_name
from rfm.schema import SEGMENT_NAME
from rfm.workspace.movement import DIRECTION_LABELS, movement_counts
from rfm.workspace.tables import DIRECTION, PREVIOUS_SEGMENT


def publish_section(run, published) -> None:
    """Publish the run to the shared workspace under a name, and say how customers moved since the previous run."""
    from rfm.errors import RFMInputError
    from rfm.workspace import describe_url, workspace_url

    st.markdown("#### Publish for the marketing team")
    try:  # a workspace that cannot be opened is said here; the lists below stay downloadable
        ui.open_workspace().close()
    except RFMInputError as error:
        st.warning(f"Publishing is not available: {error}")
        return
    st.caption(
        f"Workspace: {describe_url(workspace_url())}. A published run is kept (never overwritten) with its customers, "
        "values and model, so that a marketer can take its lists later without redoing this analysis, and the next run "
        "of the same name says who moved."
    )
    with st.form("publish"):
        name_column, by_column = st.columns(2)
        default = run.analysis.read_info.file_name.rsplit(".", 1)[0]
        name = name_column.text_input("Name (a series of runs, e.g. 'Monthly UK')", value=default, key="publish_name")
        by = ui.signed_in_email()  # signed in: the run is published by that email, which nobody can type over
        if by is None:
            by = by_column.text_input("Published by", value=os.environ.get("USER", ""), key="publish_by")
        else:
            by_column.text_input("Published by", value=by, key="publish_by_signed_in", disabled=True)
        if st.form_submit_button("Publish", icon=":material/publish:"):
            try:
                ui.publish_current_run(name.strip(), by.strip() or "unknown")
            except RFMInputError as error:
                st.error(str(error))
            else:
                st.rerun()  # the lists below carry the movement from now on
    if published is None:
        return
    info, previous = published.info, published.previous
    st.success(
        f"Published **{info.name}** on {info.published_at:%Y-%m-%d %H:%M} UTC: {info.customers:,} customers."
        + ("" if previous is None else f" Compared with the run of {previous.published_at:%Y-%m-%d %H:%M} by {previous.published_by}.")
    )
    counts = movement_counts(published.customers)
    for column, (direction, customers) in zip(st.columns(len(counts)), counts.items()):
        column.metric(DIRECTION_LABELS[direction], f"{customers:,}")
    flows = published.customers[published.customers[DIRECTION].isin(["up", "down"])]
    if previous is not None and flows.empty:
        st.caption("Nobody moved up or down since the previous run.")
    elif previous is not None:
        table = flows.groupby([PREVIOUS_SEGMENT, schema.SEGMENT_NAME]).size().rename("customers").sort_values(ascending=False)
        st.caption("The largest moves since the previous run:")
        st.dataframe(
            table.head(10).reset_index().rename(columns={PREVIOUS_SEGMENT: "from", schema.SEGMENT_NAME: "to"}),
            hide_index=True, width="stretch", key="published_flows",
        )
    st.caption("The lists below now carry each customer's previous segment, the date it changed, the direction and the change in P(alive).")


ui.require_router()
st.title("Export")
with st.spinner("Preparing the customer lists…"):
    run = ui.current_run()
published = ui.published_run()
day = run.analysis.report.analysis_date
# Once published, every list carries how each customer moved since the previous run of that name.
labelled = published.customers if published is not None else with_values(run.labelled, ui.current_values())
st.caption(
    f"{len(labelled):,} customers of {run.analysis.read_info.file_name}, analysis date {day}, segmented with "
    f"{run.clusters.method()}; change the segments on the Clusters and Segments pages. Files are safe "
    "to open in Excel: text that could run as a formula is neutralised, customer ids stay text, CSVs are UTF-8 with a BOM."
)
for warning in run.clusters.warnings:
    st.warning(warning)
publish_section(run, published)
split, chosen, columns = ui.choose_lists(labelled, "export")
kpis = ui.current_kpis(split)
report_kpis = kpis if split == SEGMENT_NAME else ui.current_kpis(SEGMENT_NAME)
ui.download_lists(
    labelled, split, columns, day, chosen, "export", ui.run_token(), profiles=run.profiles, ledger=run.analysis.report.ledger_frame(), kpis=kpis
)

st.markdown("#### For an ad or email platform")
st.caption(
    f"The chosen segments ({', '.join(chosen)}) in a platform's import format: Klaviyo and Mailchimp take the email "
    "first with the segment and values as properties; Meta Custom Audience and Google Customer Match take SHA-256 "
    "hashes of the normalised email and phone (Meta also a value column, the predicted CLV, for value-based lookalikes)."
)
ui.platform_download(labelled[labelled[split].isin(chosen)], day, "export")

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
