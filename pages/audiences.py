"""Audiences page: a marketer takes a published run's customers to a campaign, without redoing the analysis. Choose a
run (the latest by default), see its segments and who moved, choose segments or a movement, hold back a random control
group, and download the audience in a platform's format; earlier audiences' control groups are compared here too."""

import os
import secrets

import streamlit as st

import ui
from rfm import schema
from rfm.audiences.campaign import analysis_date, control_results, save_with_control
from rfm.audiences.control import CONTACTED, HELD_BACK, MAX_CONTROL_SHARE, control_note
from rfm.audiences.formats import audience_file
from rfm.audiences.selection import MOVEMENTS, select_audience
from rfm.errors import RFMInputError
from rfm.outputs.files import export_file_name
from rfm.outputs.lists import SPLITS
from rfm.workspace import describe_url, workspace_url
from rfm.workspace.digest import run_digest
from rfm.workspace.movement import DIRECTION_LABELS

SAVED = "audience_saved"  # (the audience's choices, rfm.audiences.campaign.HeldBack): the control group last saved


def control_columns() -> dict:
    """How the control-group table names and formats its columns."""
    return {
        "customers": st.column_config.NumberColumn("customers", format="localized"),
        "in_later_run": st.column_config.NumberColumn("in the later run", format="localized"),
        "bought_again": st.column_config.NumberColumn("bought again", format="localized"),
        "bought_again_rate": st.column_config.NumberColumn("bought-again rate", format="percent"),
        "spend_since": st.column_config.NumberColumn("spend since", format="localized"),
        "spend_since_per_customer": st.column_config.NumberColumn("spend since per customer", format="localized"),
    }
#: What the audience preview shows, when the run has it.
PREVIEW_COLUMNS = (
    schema.EMAIL, schema.SEGMENT_NAME, "previous_segment", "direction", schema.LIFECYCLE_STAGE, schema.RECENCY,
    schema.FREQUENCY, schema.MONETARY, schema.PREDICTED_CLV,
)


def choose_run(runs) -> str:
    """The published run to work on (the latest first and by default): its id."""
    labels = {row.run_id: f"{row.name} — {row.published_at:%Y-%m-%d %H:%M} UTC by {row.published_by} ({row.customers:,} customers)"
              for row in runs.itertuples()}
    return st.selectbox("Published run", list(labels), format_func=labels.get, key="audience_run", help="The latest first.")


def run_overview(info, digest) -> None:
    """When and by whom the run was published, its size against the run before, and its segments with their change."""
    previous = digest.previous
    size, revenue, date, by = st.columns(4)
    size.metric("Customers", f"{info.customers:,}", None if previous is None else f"{info.customers - previous.customers:+,}")
    revenue.metric("Revenue to date", f"{info.revenue:,.0f}", None if previous is None else f"{info.revenue - previous.revenue:+,.0f}")
    date.metric("Analysis date", f"{analysis_date(info):%Y-%m-%d}")
    by.metric("Published by", info.published_by)
    terms = (info.settings.get("values") or {}).get("described")
    st.caption(
        f"From {info.source_file}, published {info.published_at:%Y-%m-%d %H:%M} UTC. "
        + ("" if not terms else f"Predicted values: {terms}. ")
        + ("The first run of this name: everyone is new." if previous is None else
           f"Compared with the run of {previous.published_at:%Y-%m-%d %H:%M} UTC by {previous.published_by}.")
    )
    table = [
        {"segment": s.segment, "customers": s.customers, "before": s.previous_customers, "change": s.change}
        for s in digest.segments
    ]
    moves = " · ".join(f"{DIRECTION_LABELS[direction]} {count:,}" for direction, count in digest.movement)
    left, right = st.columns([3, 2])
    left.dataframe(
        table, hide_index=True, width="stretch", key="audience_segments",
        column_config={"before": st.column_config.NumberColumn("before", help="Customers in the previous run of this name"),
                       "change": st.column_config.NumberColumn("change", format="%+d")},
    )
    right.markdown(f"**Since the previous run:** {moves}")
    if previous is not None:
        right.markdown(
            f"**Newly at risk:** {digest.at_risk.customers:,} customers (lifecycle stage At risk now, Active or New before), "
            f"{digest.at_risk.revenue:,.0f} revenue to date."
        )


def choose_audience(info, customers, previous_customers):
    """Segments and a movement; returns the audience and how it was chosen."""
    split = st.radio("Segments by", list(SPLITS), format_func=SPLITS.get, horizontal=True, key="audience_split")
    names = sorted(customers[split].dropna().astype("str").unique())
    segments = st.multiselect("Segments (none chosen: every segment)", names, key=f"audience_segments_{split}")
    movements = [m for m in MOVEMENTS if previous_customers is not None or m in ("all", "new")]
    if split != schema.SEGMENT_NAME:
        movements = [m for m in movements if m not in ("entered", "dropped")]
    counts = {m: len(select_audience(customers, segments, by=split, movement=m, previous=previous_customers)) for m in movements}
    movement = st.selectbox(
        "Who", movements, format_func=lambda m: f"{MOVEMENTS[m]} ({counts[m]:,})", key="audience_movement",
        help="How customers moved since the previous run of this name: 'Moved into the segments' finds, say, those newly "
        "At Risk; 'Were in the segments … and moved down' finds Champions who dropped, wherever they are now.",
    )
    if previous_customers is None:
        st.caption("This is the first run of its name: movements need a previous run to compare with.")
    audience = select_audience(customers, segments, by=split, movement=movement, previous=previous_customers)
    with st.expander(f"Who is in it: {len(audience):,} customers, {audience[schema.MONETARY].sum():,.0f} revenue to date"):
        shown = [column for column in PREVIEW_COLUMNS if column in audience.columns]
        st.dataframe(audience[shown].sort_values(schema.MONETARY, ascending=False).head(200), width="stretch", key="audience_preview")
        st.caption("The 200 with the highest revenue to date; the download holds everyone.")
    return audience, (info.run_id, split, tuple(segments), movement)


def control_section(info, audience, choice):
    """An optional random control group, saved with the audience; returns the customers to contact and the saved
    audience (``None`` when no control group is held back)."""
    hold = st.toggle("Hold back a random control group", key="audience_hold",
                     help="A share of the audience, drawn at random and stored in the workspace, is not contacted. When "
                     "the next run of this name is published, this page compares the two groups.")
    if not hold:
        return audience, None
    share_column, seed_column, label_column = st.columns(3)
    share = share_column.slider("Share held back", 0.05, MAX_CONTROL_SHARE, 0.10, 0.05, format="percent", key="audience_share")
    st.session_state.setdefault("audience_seed", secrets.randbelow(1_000_000))
    seed = int(seed_column.number_input("Seed", min_value=0, step=1, key="audience_seed", help="The same seed draws the same customers."))
    label = label_column.text_input("Audience label", value=f"{info.name} campaign", key="audience_label")
    key = (*choice, share, seed)
    saved = st.session_state.get(SAVED)
    if saved is None or saved[0] != key:
        held = round(share * len(audience))
        st.caption(f"{held:,} of {len(audience):,} customers will be held back.")
        if not st.button("Save the audience and its control group", icon=":material/save:", key="audience_save"):
            st.info("Save the audience first: the files below then leave out the customers held back.")
            return None, None
        try:
            with ui.open_workspace() as workspace:
                made = save_with_control(
                    workspace, info, audience, share=share, seed=seed, label=label,
                    created_by=ui.signed_in_email() or os.environ.get("USER", "") or "unknown", by=choice[1],
                    segments=choice[2], movement=choice[3],
                )
        except RFMInputError as error:
            st.error(str(error))
            return None, None
        st.session_state[SAVED] = saved = (key, made)
    made = saved[1]
    st.success(
        f"Saved **{made.info.label}**: {len(made.contacted):,} customers to contact, {len(made.control):,} held back "
        f"(seed {made.info.seed}). Do not contact the control group."
    )
    note = control_note(made.info.customers, made.info.held_back)
    if note:
        st.warning(note)
    return made.contacted, made


def control_results_section(info) -> None:
    """Each saved audience of this name, and how its contacted customers compare with those held back in a later run."""
    with ui.open_workspace() as workspace:
        results = control_results(workspace, info.name, customers=ui.published_customers)
    if not results:
        return
    st.markdown("#### Control groups")
    st.caption(
        "Bought again: a later purchase than in the audience's run. Spend since: the later run's spend minus the "
        "audience's run's, shown only when the later run's history covers the earlier one. The p-value says how often "
        "chance alone would give a lift this large."
    )
    for result in results:
        audience = result.audience
        title = (f"{audience.label}: {audience.customers:,} customers from the run of {result.run.published_at:%Y-%m-%d}, "
                 f"{audience.held_back:,} held back")
        with st.expander(title, expanded=result.comparison is not None):
            if result.comparison is None:
                st.caption("No later run of this name yet: publish the next one to compare the two groups.")
                continue
            st.markdown(result.comparison.summary())
            table = result.comparison.table.loc[[CONTACTED, HELD_BACK]].round({"spend_since": 2, "spend_since_per_customer": 2})
            st.dataframe(table, width="stretch", key=f"control_{audience.audience_id}", column_config=control_columns())
            for note in result.comparison.notes:
                st.caption(note)


ui.require_router()
st.title("Audiences")
try:
    with ui.open_workspace() as workspace:
        runs = workspace.runs()
except RFMInputError as error:
    st.warning(f"The workspace cannot be read: {error}")
    st.stop()
st.caption(
    f"Published runs in the workspace {describe_url(workspace_url())}: an analyst publishes a run on the Export page, "
    "and its lists are here for anyone to take to a campaign, without redoing the analysis."
)
if runs.empty:
    st.info("Nothing has been published yet. An analyst publishes a run on the Export page (or with `rfm publish`).")
    st.stop()
run_id = choose_run(runs)
try:
    with ui.open_workspace() as workspace:
        info = workspace.run(run_id)
        before = workspace.previous(info.name, run_id)
    customers = ui.published_customers(run_id)
    previous_customers = None if before is None else ui.published_customers(before.run_id)
except RFMInputError as error:
    st.error(str(error))
    st.stop()
run_overview(info, run_digest(info, customers, before, previous_customers))

st.markdown("#### Choose the audience")
audience, choice = choose_audience(info, customers, previous_customers)
if audience.empty:
    st.info("Nobody matches these choices: choose other segments or another movement.")
else:
    contacted, made = control_section(info, audience, choice)
    if contacted is not None:
        st.markdown("#### Download")
        day = analysis_date(info)
        ui.platform_download(contacted, day, "audience", name=f"{info.name}-audience", plain_csv=True)
        if made is not None:
            st.download_button(
                f"Control group ({len(made.control):,} customers, CSV: not to contact)",
                data=lambda: audience_file(made.control, "csv").to_csv(),
                file_name=export_file_name(f"control-group-{made.info.label}", day, "csv"),
                mime="text/csv", on_click="ignore", icon=":material/block:", key="audience_control_file",
            )
control_results_section(info)
