"""Score page: label the current file's customers with a saved model (model.json), in the model's segments."""

import streamlit as st

import ui
from rfm.outputs.charts import stage_counts_figure
from rfm.outputs.lists import segment_sizes
from rfm.schema import RFM_SEGMENT, SEGMENT_NAME
from rfm.scoring.lifecycle import stage_summary

ui.require_router()
st.title("Score with a saved model")
dataset = ui.current_dataset()
st.caption(
    f"A model saved on the Export page (or by `python -m rfm segment`) scores the file loaded on the Data page, "
    f"now **{dataset.name}**, with the model's own score cut points, segment rules, outlier fences and clusters: "
    "next month's customers land in this month's segments. Load the new file on the Data page first."
)
upload = st.file_uploader(
    "Model bundle (model.json)", type=["json"], key="model_upload", help="Plain JSON only; it is checked field by field and never runs code."
)
if upload is not None:
    ui.set_saved_model(upload.name, upload.getvalue())
model = ui.saved_model()
if model is None:
    st.info("Upload a model.json to score this file.")
    st.page_link("pages/export.py", label="Download this session's model from the Export page", icon=":material/download:")
    st.stop()

bundle = ui.saved_bundle()
st.success(f"**{model.name}**: {bundle.describe()}.", icon=":material/check_circle:")
with st.spinner(f"Scoring {dataset.name}…"):
    run = ui.scored_with_saved_model()
fit = run.fit_check
for warning in fit.warnings:
    st.warning(warning, icon=":material/warning:")
for note in fit.notes:
    st.info(note)
if not fit.figures.empty:
    with st.expander("How this file compares with the model's", expanded=bool(fit.warnings)):
        st.caption(
            f"Each feature of this file's {fit.customers:,} customers against the {fit.model_customers:,} the model was fitted on: "
            "the model's smallest value, 1st percentile, median, 99th percentile and largest value, this file's smallest, "
            "median and largest, and the share of this file's customers beyond each of the model's. A file like the "
            "model's has almost none beyond its smallest and largest values, and at most 1% beyond each percentile."
        )
        shares = ("below_min", "below_p1", "above_p99", "above_max", "outside_band")
        formats = {column: "percent" if column in shares else "localized" for column in fit.figures.columns if column != "far_off"}
        st.dataframe(
            fit.figures,
            width="stretch",
            key="fit_figures",
            column_config={
                "far_off": st.column_config.CheckboxColumn("far off"),
                **{column: st.column_config.NumberColumn(column.replace("_", " "), format=form) for column, form in formats.items()},
            },
        )
labelled, day = run.labelled, run.analysis.report.analysis_date
first, second, third = st.columns(3)
first.metric("Customers scored", f"{len(labelled):,}")
second.metric("Segments", f"{labelled[SEGMENT_NAME].nunique()}")
third.metric("Analysis date of this file", str(day))

clusters_column, rfm_column = st.columns(2)
for column, by, title in ((clusters_column, SEGMENT_NAME, "Customers per segment"), (rfm_column, RFM_SEGMENT, "Customers per RFM segment")):
    sizes = segment_sizes(labelled, by).set_index("name")
    column.markdown(f"#### {title}")
    column.dataframe(sizes, width="stretch", column_config=ui.summary_columns(sizes.columns), key=f"scored_{by}")

lifecycle = bundle.lifecycle_for(run.analysis.customers)
st.markdown("#### Customers per lifecycle stage")
st.caption(
    "; ".join(lifecycle.describe())
    + (". The model's thresholds." if bundle.lifecycle is not None else ". This model was saved before it recorded its "
       "lifecycle thresholds, so they are this file's own.")
)
chart_column, table_column = st.columns([3, 2])
stages = stage_summary(labelled)
chart_column.plotly_chart(stage_counts_figure(stages), width="stretch", key="scored_stage_counts")
table_column.dataframe(stages, width="stretch", column_config=ui.summary_columns(stages.columns), key="scored_stages")

st.markdown("### Download the scored lists")
split, chosen, columns = ui.choose_lists(labelled, "scored")
ui.download_lists(labelled, split, columns, day, chosen, "scored", ui.scored_token(), ledger=run.analysis.report.ledger_frame())
