"""Segments page: what each cluster is, what to call it, what to do about it, and how it relates to RFM segments."""

import streamlit as st

import ui
from rfm.charts import centers_heatmap, crosstab_heatmap, pca_scatter, rfm_3d_scatter, snake_plot
from rfm.labelled import SPLITS

ui.require_router()
st.title("Segments")
result = ui.current_clusters()
customers = result.customers
names = result.names["name"]
st.caption(
    f"{len(customers):,} customers in {result.names.shape[0]} groups ({result.algorithm}, k={result.k}). "
    "Names come from each cluster's average recency, frequency and spend compared with the others; rename them below."
)
for warning in result.warnings:
    st.warning(warning)

st.markdown("#### Profiles")
profile = result.profiles_with_actions()
st.dataframe(
    profile,
    width="stretch",
    column_config=ui.summary_columns(profile.columns),
    key="profiles",
)

with st.expander("Rename segments and edit their actions"), st.form("renames"):
    editable = result.names.reset_index().rename(columns={"index": "cluster"})
    edited = st.data_editor(
        editable, hide_index=True, width="stretch", disabled=["cluster"], key="names_editor",
        column_config={"action": st.column_config.TextColumn(width="large")},
    )
    if st.form_submit_button("Apply names"):
        renames = tuple((int(row.cluster), str(row.name), str(row.action)) for row in edited.itertuples(index=False))
        ui.set_renames(renames)
        st.rerun()

st.markdown("#### Campaign KPIs")
split = st.radio("Segments", list(SPLITS), format_func=SPLITS.get, horizontal=True, key="kpi_split")
kpis = ui.current_kpis(split)
if kpis is None:
    st.info("Every order in this file is on one day: there is no period to measure retention over.")
else:
    st.caption(f"{kpis.caption}. Change the two dates on the Trends page.")
    st.dataframe(kpis.table, width="stretch", column_config=ui.kpi_columns(), key="kpis")

labels = customers["cluster"]
scatter_column, cube_column = st.columns(2)
scatter_column.plotly_chart(pca_scatter(result.projection, labels, names, customers), width="stretch", key="pca")
cube_column.plotly_chart(rfm_3d_scatter(customers, labels, names), width="stretch", key="rfm3d")
center_names = result.center_names()
heat_column, snake_column = st.columns(2)
heat_column.plotly_chart(centers_heatmap(result.centers, result.feature_names, center_names), width="stretch", key="centers")
snake_column.plotly_chart(snake_plot(result.centers, result.feature_names, center_names), width="stretch", key="snake")

st.markdown("#### RFM segments × clusters")
if result.crosstab_counts.empty:
    st.info("Named RFM segments are not available for this data.")
else:
    st.plotly_chart(crosstab_heatmap(result.crosstab_shares, result.crosstab_counts), width="stretch", key="crosstab")
    st.dataframe(result.crosstab_counts, width="stretch", key="crosstab_counts")
