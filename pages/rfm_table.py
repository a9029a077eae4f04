"""RFM page: the per-customer table, R/F/M scores with their cut points, named segments, outlier tiers and lifecycle
stages (with their thresholds, adjustable)."""

import streamlit as st

import ui
from rfm import schema
from rfm.cleaning.table import CLV_FORMULA, repeat_rate
from rfm.outputs.charts import (
    distribution_figure,
    recency_frequency_scatter,
    score_distribution_figure,
    score_heatmap,
    segment_share_figure,
    stage_counts_figure,
)
from rfm.scoring.lifecycle import LifecycleThresholds, lifecycle_thresholds, thresholds_table
from rfm.scoring.rules import RULE_COLUMNS, rules_frame, rules_from_frame
from rfm.scoring.scores import MAX_BINS, MIN_BINS, SCORE_COLUMNS, SCORE_LETTERS, SCORING_RULE, parse_thresholds
from rfm.scoring.tiers import TIERS

ui.require_router()
st.title("RFM")
result = ui.current_analysis()
seg = ui.current_segmentation()
settings = ui.current_segment_settings()
table = seg.customers
dataset = ui.current_dataset()
st.caption(
    f"{'Demo data' if dataset.is_demo else dataset.name}: {len(table):,} customers. Recency is counted in whole days "
    f"from each customer's last purchase to the analysis date, {result.report.analysis_date}; frequency is the number "
    "of distinct invoices; monetary is the sum of line values after cleaning."
)

metrics = st.columns(4)
metrics[0].metric("Customers", f"{len(table):,}")
metrics[1].metric("Median recency", f"{table[schema.RECENCY].median():,.0f} days")
median_orders = table[schema.FREQUENCY].median()
metrics[2].metric("Median frequency", f"{median_orders:,.0f} invoice{'' if median_orders == 1 else 's'}")
metrics[3].metric("Median monetary", ui.money(table[schema.MONETARY].median()))
for warning in seg.warnings:
    st.warning(warning)

# A key and on_change keep the chosen tab across reruns (applying thresholds, a new number of scores), even when a
# warning above appears or goes and moves the tabs; only the open tab is drawn (seven charts made every visit slow).
customers_tab, scores_tab, segments_tab, tiers_tab, stages_tab = st.tabs(
    ["Customers", "Scores", "Segments", "Outlier tiers", "Lifecycle stages"], key="rfm_tab", on_change="rerun"
)

# --- customers ----------------------------------------------------------------------------------
if customers_tab.open:
    with customers_tab:
        log_scale = st.toggle("Log scale (for skewed values)", value=True, key="log_scale")
        charts = st.columns(3)
        for chart_column, column in zip(charts, (schema.RECENCY, schema.FREQUENCY, schema.MONETARY)):
            chart_column.plotly_chart(distribution_figure(table, column, log_scale), width="stretch", key=f"hist_{column}")

        cluster_names = ui.fitted_cluster_names()
        if cluster_names is not None:
            table = table.join(cluster_names)  # the names given on the Segments page
        query = st.text_input("Search customer id", key=ui.file_key("search"), placeholder=f"e.g. {table.index[0]}" if len(table) else "")
        shown = table[table.index.str.contains(query.strip(), case=False, regex=False)] if query.strip() else table
        st.caption(f"{len(shown):,} of {len(table):,} customers. Click a column header to sort.")
        st.dataframe(
            shown,
            width="stretch",
            column_config={
                schema.RECENCY: st.column_config.NumberColumn(schema.RFM_LABELS[schema.RECENCY], format="%d"),
                schema.FREQUENCY: st.column_config.NumberColumn(schema.RFM_LABELS[schema.FREQUENCY], format="%d"),
                schema.MONETARY: st.column_config.NumberColumn(schema.RFM_LABELS[schema.MONETARY], format="%.2f"),
                schema.FIRST_PURCHASE: st.column_config.DatetimeColumn(schema.RFM_LABELS[schema.FIRST_PURCHASE], format="YYYY-MM-DD HH:mm"),
                schema.LAST_PURCHASE: st.column_config.DatetimeColumn(schema.RFM_LABELS[schema.LAST_PURCHASE], format="YYYY-MM-DD HH:mm"),
                schema.TENURE: st.column_config.NumberColumn(schema.RFM_LABELS[schema.TENURE], format="%d"),
                schema.AVG_ORDER_VALUE: st.column_config.NumberColumn(schema.RFM_LABELS[schema.AVG_ORDER_VALUE], format="%.2f"),
                schema.HISTORICAL_CLV: st.column_config.NumberColumn(schema.RFM_LABELS[schema.HISTORICAL_CLV], format="%.2f"),
                schema.LIFECYCLE_STAGE: st.column_config.TextColumn("Lifecycle stage"),
            },
            key="rfm_table",
        )

        with st.expander("How the historical CLV is computed"):
            choices = ui.current_choices()
            st.write(CLV_FORMULA)
            rate = repeat_rate(table[schema.FREQUENCY])
            st.write(f"Here the repeat-purchase rate is {rate:.1%}, so the churn rate is {1 - rate:.1%}.")
            margin = st.number_input(
                "Profit margin", min_value=0.0, max_value=1.0, value=choices.profit_margin, step=0.01, format="%.2f", key="profit_margin"
            )
            if margin != choices.profit_margin:
                ui.update_choices(profit_margin=margin)
                st.rerun()

# --- scores -------------------------------------------------------------------------------------
if scores_tab.open:
    with scores_tab:
        st.markdown(
            "A high score is better: **R** is high for a recent purchase, **F** and **M** for many orders and high spend."
        )
        st.caption(SCORING_RULE)
        n_bins = st.select_slider("Scores per metric", options=list(range(MIN_BINS, MAX_BINS + 1)), value=settings.n_bins, key="n_bins")
        if n_bins != settings.n_bins:
            ui.change_number_of_scores(n_bins)
            st.session_state.pop("rules_editor", None)  # its edits were made to the other number of scores' rules
            st.rerun()
        undo = ui.scores_reset()
        if undo is not None:
            note, previous = undo
            message, button = st.columns([5, 1], vertical_alignment="center")
            message.info(note, icon=":material/restart_alt:")
            button.button(
                f"Back to {previous.n_bins} scores", key="undo_n_bins", icon=":material/undo:",
                on_click=ui.restore_segment_settings, args=(previous, "n_bins", "rules_editor"),
            )
        st.dataframe(
            seg.scores.cuts_frame(),
            hide_index=True,
            width="stretch",
            height="content",
            column_config={"share": st.column_config.NumberColumn(format="percent"), "customers": st.column_config.NumberColumn(format="localized")},
            key="cuts",
        )
        st.plotly_chart(score_distribution_figure(seg.scores), width="stretch", key="score_distribution")

        with st.expander("Set your own thresholds"), st.form("thresholds"):
            st.caption(
                f"Give {settings.n_bins - 1} increasing upper bounds per metric, separated by commas; leave empty to use ranks. "
                f"Recency: days since the last purchase, from the most recent score down (e.g. 30, 90, 180, 365 gives "
                f"R={settings.n_bins} for ≤ 30 days). Frequency and monetary: from the lowest score up."
            )
            current = dict(settings.thresholds)
            typed = {
                metric: st.text_input(
                    f"{SCORE_LETTERS[metric]}: {schema.RFM_LABELS[metric]}",
                    ", ".join(f"{t:g}" for t in current.get(metric, ())),
                    key=ui.state_key(f"thresholds_{metric}", settings),
                )
                for metric in SCORE_COLUMNS
            }
            if st.form_submit_button("Apply thresholds"):
                ui.apply_or_explain(
                    lambda: tuple((metric, parse_thresholds(metric, text, settings.n_bins)) for metric, text in typed.items() if text.strip()),
                    lambda parsed: ui.update_segment_settings(thresholds=parsed),
                )

# --- segments -----------------------------------------------------------------------------------
if segments_tab.open:
    with segments_tab:
        summary = seg.summary.join(seg.info)
        kind = st.radio("Chart", ["bar", "treemap"], horizontal=True, key="segment_chart", format_func=str.title)
        st.plotly_chart(segment_share_figure(seg.summary, kind), width="stretch", key="segment_share")
        st.markdown("#### Segment summary")
        st.dataframe(
            summary,
            width="stretch",
            column_config=ui.summary_columns(summary.columns),
            key="segment_summary",
        )
        heat_column, scatter_column = st.columns(2)
        heat_column.plotly_chart(score_heatmap(table, seg.scores.n_bins), width="stretch", key="rf_heatmap")
        scatter_column.plotly_chart(recency_frequency_scatter(table, list(seg.summary.index)), width="stretch", key="rf_scatter")

        st.markdown("#### Segment rules")
        st.caption(
            "A customer belongs to the first rule whose R, F and M score ranges (inclusive) all hold their scores; "
            "customers no rule matches are 'Other'. Edit names, ranges, descriptions and actions, add or delete rows, then apply."
        )
        with st.form("rules"):
            edited = st.data_editor(
                rules_frame(seg.rules),
                num_rows="dynamic",
                width="stretch",
                hide_index=True,
                column_order=RULE_COLUMNS,
                column_config={
                    **{c: st.column_config.NumberColumn(min_value=1, max_value=seg.scores.n_bins, step=1, format="%d") for c in RULE_COLUMNS[1:7]},
                    "description": st.column_config.TextColumn(width="medium"),
                    "action": st.column_config.TextColumn(width="large"),
                },
                key="rules_editor",
            )
            if st.form_submit_button("Apply rules"):
                ui.apply_or_explain(lambda: rules_from_frame(edited, seg.scores.n_bins), lambda rules: ui.update_segment_settings(rules=rules))
        if st.button("Reset rules to the defaults", key="reset_rules", disabled=settings.rules is None):
            ui.update_segment_settings(rules=None)
            st.session_state.pop("rules_editor", None)
            st.rerun()

# --- outlier tiers ------------------------------------------------------------------------------
if tiers_tab.open:
    with tiers_tab:
        st.markdown(
            "Customers above the IQR fence (Q3 + multiplier × IQR) in monetary are **High Spenders**, in frequency "
            "**Power Shoppers**, in both **Elite VIPs**. They are flagged, never removed."
        )
        multiplier = st.slider("IQR multiplier", 0.5, 5.0, settings.iqr_multiplier, 0.25, key="iqr_multiplier")
        if multiplier != settings.iqr_multiplier:
            ui.update_segment_settings(iqr_multiplier=multiplier)
            st.rerun()
        fences = [seg.tiers.monetary, seg.tiers.frequency]
        st.dataframe(
            [
                {
                    "metric": schema.RFM_LABELS[f.metric],
                    "Q1": f.q1,
                    "Q3": f.q3,
                    "IQR": f.iqr,
                    "fence": f.fence,
                    "customers above": f.customers_above,
                }
                for f in fences
            ],
            hide_index=True,
            width="stretch",
            column_config={c: st.column_config.NumberColumn(format="%.2f") for c in ("Q1", "Q3", "IQR", "fence")},
            key="fences",
        )
        counts = seg.tiers.counts()
        tier_columns = st.columns(len(TIERS))
        for column, tier in zip(tier_columns, TIERS):
            column.metric(tier, f"{counts[tier]:,}", f"{counts[tier] / len(table):.1%}", delta_color="off", delta_arrow="off")
        flagged = table[table["tier"] != "Regular"].sort_values(schema.MONETARY, ascending=False)
        st.caption(f"{len(flagged):,} flagged customers, highest spend first.")
        st.dataframe(
            flagged[["tier", "segment", schema.RECENCY, schema.FREQUENCY, schema.MONETARY]],
            width="stretch",
            column_config={schema.MONETARY: st.column_config.NumberColumn(format="%.2f")},
            key="flagged",
        )

# --- lifecycle stages ---------------------------------------------------------------------------
if stages_tab.open:
    with stages_tab:
        lifecycle = seg.lifecycle
        st.markdown(
            "Where each customer is in their life with the store, judged by the store's own rhythm: a repeat customer is "
            "**Active**, **At risk**, **Lapsed** or **Lost** by the days since their last order; a one-time buyer is "
            "**New** while their only order is recent, then **Lapsed** and **Lost**."
        )
        if lifecycle.warning:
            st.warning(lifecycle.warning, icon=":material/warning:")
        st.plotly_chart(stage_counts_figure(seg.stage_summary()), width="stretch", key="stage_counts")
        st.dataframe(
            thresholds_table(lifecycle), hide_index=True, width="stretch", key="stage_thresholds",
            column_config={"days": st.column_config.NumberColumn("up to (days)", format="%d")},
        )
        store = lifecycle_thresholds(result.customers)
        st.caption(
            f"This store's own figures ({store.repeat_customers:,} repeat customers): "
            + ", ".join(f"{name.replace('_', ' ')} {days:,}" for name, days in store.days.items())
            + ("." if store.source == "store" else " (fixed defaults: too few repeat customers).")
        )
        with st.form("lifecycle_form"):
            inputs = st.columns(4)
            labels = {"active_days": "Active up to (days)", "at_risk_days": "At risk up to (days)",
                      "lost_days": "Lost after (days)", "new_days": "New up to (days)"}
            typed = {
                name: column.number_input(label, min_value=1, value=lifecycle.days[name], step=1, key=ui.state_key(f"lifecycle_{name}", lifecycle))
                for column, (name, label) in zip(inputs, labels.items())
            }
            if st.form_submit_button("Apply thresholds"):
                ui.apply_or_explain(
                    lambda: LifecycleThresholds(**{name: int(value) for name, value in typed.items()}, source="user"),
                    lambda chosen: ui.update_segment_settings(lifecycle=chosen),
                )
        if st.button("Reset to this store's figures", key="reset_lifecycle", disabled=settings.lifecycle is None):
            ui.update_segment_settings(lifecycle=None)
            st.rerun()

# Clusters comes next: its libraries load in the background while this page is read.
ui.preload_clustering()
