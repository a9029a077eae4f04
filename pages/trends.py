"""Trends page: who moved between segments from one date to another, segment sizes over time, and how each month's
new customers keep buying (cohorts)."""

import math

import streamlit as st

import ui
from rfm import schema
from rfm.outputs.charts import cohort_heatmap, crosstab_heatmap, migration_sankey, sizes_over_time_figure
from rfm.outputs.files import csv_bytes, export_file_name, zip_bytes
from rfm.outputs.lists import with_values
from rfm.trends.cohorts import MEASURES, RETENTION_FILE, REVENUE_FILE, cohort_files
from rfm.trends.migration import NEW, flow_label, flow_list, migration_files
from rfm.trends.timeline import LABELS, LEFT, date_range

ui.require_router()
st.title("Trends")

# Stateful tabs, drawn only when open: the cohorts need neither a model nor two dates (they show even when the
# segments' tabs cannot), and the sizes tab scores every customer at each snapshot. One tab's charts at a time also
# keep a revisit under a second in Chromium (bench/RESULTS.md).
moved_tab, sizes_tab, cohorts_tab = st.tabs(["Who moved", "Sizes over time", "Cohorts"], key="trends_tab", on_change="rerun")
LEAVE_OPTIONS = {90: "90 days", 180: "180 days", 365: "1 year", 730: "2 years", 0: "never"}


def labelling(by_column, left_column) -> tuple:
    """The controls both segment tabs share (by what customers are named, when they count as Left, and with which
    model; the widgets keep their keys from tab to tab): ``(run, by, active_days, model)``."""
    with st.spinner("Fitting the clusters and labelling every customer…"):  # the k-sweep and fit, if not made yet
        run = ui.current_run()
    by = by_column.radio("Name customers by", list(LABELS), format_func=LABELS.get, horizontal=True, key="trends_by")
    leave = left_column.selectbox(
        "A customer has left after", list(LEAVE_OPTIONS), index=2, format_func=LEAVE_OPTIONS.get, key="trends_left",
        help="Without an order for this long before a date, a customer counts as Left at that date.",
    )
    saved = ui.saved_model()
    use_saved = saved is not None and st.radio(
        "Model", ["session", "saved"], horizontal=True, key="trends_model",
        format_func={"session": "This session's segments", "saved": f"Uploaded model ({saved.name})"}.get,
        help="Label customers with the segments fitted here, or with a model saved earlier (e.g. last quarter's).",
    ) == "saved"
    if use_saved:
        ui.saved_bundle()  # a model that cannot be used says why here and stops the page
    return run, by, leave or None, ui.trend_model(use_saved)


if cohorts_tab.open:
    with cohorts_tab:
        st.caption(
            "Customers grouped by the month of their first order (a cohort), followed month by month. No model is "
            "involved: only the orders."
        )
        # Too little data (one month of orders) is this tab's own message.
        cohorts = ui.shown_or_none(ui.current_cohorts, too_little_data=True)
        if cohorts is not None:
            for warning in cohorts.warnings:
                st.warning(warning, icon=":material/warning:")
            sizes = cohorts.sizes
            month_1, month_3, first_year = cohorts.average(1), cohorts.average(3), cohorts.average(11, "revenue")
            metrics = st.columns(4)
            metrics[0].metric(
                "Cohorts", f"{len(sizes):,}", help=f"Months with new customers, from {sizes.index[0]} to {sizes.index[-1]}."
            )
            metrics[1].metric("Customers", f"{int(sizes.sum()):,}", help="Every customer is in the cohort of their first order.")
            metrics[2].metric(
                "Bought again in month 1", "–" if math.isnan(month_1) else f"{month_1:.1%}",
                help="Of the customers of every cohort with a complete month 1, the share who ordered in the calendar "
                "month after their first (cohorts weighted by their customers)."
                + ("" if math.isnan(month_3) else f" In month 3: {month_3:.1%}."),
            )
            metrics[3].metric(
                "12-month revenue per customer", "–" if math.isnan(first_year) else ui.money(first_year),
                help="Months 0 to 11 of every cohort that old, all its customers counted (buyers or not), weighted by size."
                if not math.isnan(first_year) else "No cohort has 12 complete months in the data yet.",
            )
            measure = st.radio("Show", list(MEASURES), format_func=MEASURES.get, horizontal=True, key="trends_cohort_measure")
            st.plotly_chart(cohort_heatmap(cohorts, measure), width="stretch", key="trends_cohorts")
            st.caption(
                (
                    "Read across a row to follow one cohort: the share of its customers who ordered in each month after "
                    "their first (month 0 is always 100%). "
                    if measure == "retention"
                    else "Read across a row to follow one cohort: its revenue so far divided by all its customers "
                    "(buyers or not), so a row only grows. "
                )
                + "Read down a column to compare cohorts at the same age. Blank cells are months not in the data yet"
                + ("; * marks a partial month. " if cohorts.last_month_partial else ". ")
                + " ".join(cohorts.notes())
            )
            table = cohorts.as_frames()[measure]
            month_format = "percent" if measure == "retention" else "%.2f"
            st.dataframe(
                table, width="stretch", key="trends_cohort_table",
                column_config={
                    "customers": st.column_config.NumberColumn("customers", format="localized"),
                    **{column: st.column_config.NumberColumn(column.replace("_", " "), format=month_format) for column in table.columns[1:]},
                },
            )
            retention_button, revenue_button = st.columns(2)
            retention_button.download_button(
                "Retention by cohort (CSV)", data=lambda: cohort_files(cohorts)[RETENTION_FILE], file_name=RETENTION_FILE,
                mime="text/csv", on_click="ignore", icon=":material/download:", key="trends_download_retention",
            )
            revenue_button.download_button(
                "Revenue per customer by cohort (CSV)", data=lambda: cohort_files(cohorts)[REVENUE_FILE], file_name=REVENUE_FILE,
                mime="text/csv", on_click="ignore", icon=":material/download:", key="trends_download_revenue",
            )

if moved_tab.open:
    with moved_tab:
        st.caption(
            "Customers are scored as of two dates with the same model (the same cut points, rules and clusters), so a "
            "change of segment is a change in the customer, not in the rules. Pick the dates, see who moved where, and "
            "download the customers of any move."
        )
        dates_column, by_column, left_column = st.columns([2, 2, 1])
        run, by, active_days, model = labelling(by_column, left_column)
        analysis = run.analysis
        first, last = date_range(analysis.orders)
        saved_from, saved_to = ui.current_period(analysis)
        picked = dates_column.date_input(
            "Compare", value=(saved_from, saved_to), min_value=first, max_value=last, key="trends_dates",
            help="The first and the second analysis date: e.g. the end of last quarter and the latest purchase.",
        )
        if len(picked) != 2:
            st.info("Pick the second date too.")
            st.stop()
        from_date, to_date = picked
        if from_date >= to_date:
            st.warning(f"The first date ({from_date}) must be before the second ({to_date}).")
            st.stop()
        ui.set_period(from_date, to_date)

        with st.spinner("Scoring customers at both dates…"):
            migration = ui.current_migration(model, from_date, to_date, by, active_days)
        customers = migration.customers
        moved = customers[(customers["from"] != customers["to"]) & (customers["from"] != NEW)]
        new, came_back = (customers["from"] == NEW).sum(), (customers["from"] == LEFT).sum()


        def left_rule(day: str) -> str:
            return f"no order in the {active_days:,} days before {day}"


        metrics = st.columns(5)
        metrics[0].metric(
            f"On {from_date}", f"{migration.customers_at_from_date:,}",
            help="Customers on this date: everyone with an order on or before it"
            + (f", those with {left_rule('it')} counted as Left included." if active_days else "."),
        )
        metrics[1].metric(
            f"On {to_date}", f"{migration.customers_at_to_date:,}",
            help="Customers on this date: everyone with an order on or before it, as a segmentation of that day counts them "
            "(the Segments page's count when this is the analysis date), Left included.",
        )
        metrics[2].metric("New since", f"{new:,}", help=f"First order after {from_date}.")
        metrics[3].metric(
            f"Left by {to_date}", f"{migration.left_at_to_date:,}",
            help=(f"Customers with {left_rule(str(to_date))}: counted as Left, not in their segment. "
                  f"{migration.still_gone:,} of them had already left by {from_date} and bought nothing since: they are not drawn.")
            if active_days else "Nobody leaves: choose a period above.",
        )
        metrics[4].metric("Changed segment", f"{len(moved):,}", help="Customers of the first date now in another segment (Left included).")
        notes = []
        if came_back:
            notes.append(f"{came_back:,} customers who had left by {from_date} came back.")
        if migration.still_gone:
            notes.append(f"{migration.still_gone:,} customers had left by {from_date} and bought nothing since; they are not drawn.")
        if active_days and migration.left_at_to_date:
            notes.append(
                f"Segment counts here leave out the {migration.left_at_to_date:,} customers counted as Left on {to_date}, so they are "
                "smaller than a segmentation of that day: see how they add up below the matrix."
            )
        if notes:
            st.caption(" ".join(notes))

        flows = migration.flows
        options = list(zip(flows["from"], flows["to"]))
        moves = flows[flows["from"] != flows["to"]]
        default = (moves.sort_values("customers", ascending=False, kind="stable").iloc[0][["from", "to"]].tolist() if len(moves) else options[0])
        clicked = ui.clicked_cell("trends_matrix")  # a click on a matrix cell picks that flow (the select box follows)
        if clicked is not None and clicked != st.session_state.get("trends_clicked"):
            st.session_state["trends_clicked"] = clicked
            if clicked in options:
                st.session_state["trends_flow"] = clicked
        if st.session_state.get("trends_flow") not in options:
            st.session_state["trends_flow"] = tuple(default)

        # The moves as a matrix or as flows, one drawn at a time: the Sankey diagram alone cost a revisit 0.3 s of
        # drawing in Chromium (bench/RESULTS.md).
        matrix_tab, flows_tab = st.tabs(["Matrix", "Flows"], key="trends_picture", on_change="rerun")
        if matrix_tab.open:
            matrix_tab.plotly_chart(
                crosstab_heatmap(
                    migration.shares, migration.matrix, title=f"Migration matrix: where each group of {from_date} is on {to_date}",
                    x_title=f"on {to_date}", y_title=f"on {from_date}", clickable=True, share_title=f"share of the {from_date} group",
                ),
                width="stretch", key="trends_matrix", on_select="rerun", selection_mode="points",
            )
            matrix_tab.caption("Click a cell to list its customers below.")
        if flows_tab.open:
            flows_tab.plotly_chart(
                migration_sankey(migration, highlight=st.session_state["trends_flow"]), width="stretch", key="trends_sankey"
            )
            flows_tab.caption("The flow chosen below is highlighted.")
        if not matrix_tab.open:  # a click on the matrix drawn again is a new click, even on the same cell
            st.session_state.pop("trends_clicked", None)
        with st.expander("The matrix as numbers"):
            st.dataframe(migration.matrix, width="stretch", key="trends_counts")
        with st.expander(f"How the counts on {to_date} add up to the Segments page's"):
            st.caption(
                f"Every customer with an order by {to_date}, in the segment the model gives them on that day (the Segments page's "
                "counts when it is the analysis date)"
                + (f"; customers with {left_rule('that day')} are counted as Left here instead." if active_days else ".")
            )
            st.dataframe(
                migration.reconciliation(list(migration.matrix.columns)), width="stretch", key="trends_reconcile",
                column_config={
                    "customers": st.column_config.NumberColumn(f"customers on {to_date}", format="localized"),
                    "shown_in_segment": st.column_config.NumberColumn("shown in the segment here", format="localized"),
                    "counted_as_left": st.column_config.NumberColumn("counted as Left here", format="localized"),
                },
            )

        st.markdown("#### Customers of one flow")
        counts = dict(zip(options, flows["customers"]))
        flow = st.selectbox(
            "Flow", options, format_func=lambda pair: f"{flow_label(*pair)}: {counts[pair]:,} customers", key="trends_flow",
            help="Every move between the two dates, the largest first within each group; the Sankey diagram highlights it.",
        )
        labelled = with_values(run.labelled, ui.current_values())
        listing = flow_list(migration, *flow, labelled)
        if schema.PREDICTED_CLV in listing.columns and listing[schema.PREDICTED_CLV].notna().any():
            settings = ui.current_value_settings()
            st.markdown(
                f"**What they are worth:** predicted CLV over {settings.months} months "
                f"{ui.money(listing[schema.PREDICTED_CLV].sum())} in all, {listing[schema.P_ALIVE].mean():.0%} likely still "
                f"customers, {listing[schema.EXPECTED_PURCHASES].sum():,.1f} purchases expected in the next {settings.horizon_days} days "
                "(settings on the Value page)."
            )
        st.dataframe(listing, width="stretch", height=300, key="trends_flow_customers")
        flow_file = export_file_name(f"{flow[0]} to {flow[1]}", to_date, "csv")
        download, everything = st.columns(2)
        download.download_button(
            f"{flow_label(*flow)} ({len(listing):,}, CSV)", data=lambda: csv_bytes(listing), file_name=flow_file, mime="text/csv",
            on_click="ignore", icon=":material/download:", key="trends_download_flow",
        )
        everything.download_button(
            "Matrix, flows and every flow's customers (ZIP)",
            data=lambda: zip_bytes(migration_files(migration, labelled)),
            file_name=export_file_name("migration", to_date, "zip"), mime="application/zip",
            on_click="ignore", icon=":material/folder_zip:", key="trends_download_all",
        )

if sizes_tab.open:
    with sizes_tab:
        st.caption(
            "Customers are scored with the same model at the end of every month (or week) of the file: how each segment "
            "grew or shrank."
        )
        by_column, left_column, every_column, share_column = st.columns([2, 1, 1.4, 0.8])
        _, by, active_days, model = labelling(by_column, left_column)
        every = every_column.radio(
            "Snapshots", ["month", "week"], format_func={"month": "Monthly", "week": "Weekly"}.get, horizontal=True, key="trends_every",
            help="Customers are scored with the same model at the end of every month (or week) of the file.",
        )
        as_shares = share_column.toggle("As shares", key="trends_shares")
        with st.spinner("Scoring customers at every snapshot…"):
            sizes = ui.current_sizes(model, every, by, active_days)
        st.plotly_chart(sizes_over_time_figure(sizes, shares=as_shares), width="stretch", key="trends_sizes")
        st.caption(
            f"{len(sizes):,} snapshots from {sizes.index[0]} to {sizes.index[-1]}"
            + (f"; Left: no order in the {active_days:,} days before the snapshot." if active_days else ".")
        )
