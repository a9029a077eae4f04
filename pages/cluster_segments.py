"""Segments page: what each cluster is, what to call it, what to do about it, and how it relates to RFM segments."""

import streamlit as st

import ui
from rfm.outputs.charts import centers_heatmap, crosstab_heatmap, pca_scatter, rfm_3d_scatter, snake_plot
from rfm.outputs.lists import SPLITS

ui.require_router()
st.title("Segments")
with st.spinner("Fitting and naming the clusters…"):
    result = ui.current_clusters()
customers = result.customers
names = result.names["name"]
st.caption(
    f"{len(customers):,} customers in {result.names.shape[0]} groups ({result.method()}). "
    "Each cluster is named after the RFM segment most of its customers are in (the rule segments of the RFM page): "
    "the agreement column says how many are. Rename them below."
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
        editable, hide_index=True, width="stretch", disabled=["cluster", "agreement", "basis"], key="names_editor",
        column_config={
            "action": st.column_config.TextColumn(width="large"),
            "agreement": st.column_config.NumberColumn(format="percent", help="Share of the cluster in the RFM segment of its name"),
            "basis": st.column_config.TextColumn("most common RFM segments"),
        },
    )
    if st.form_submit_button("Apply names"):
        renames = tuple((int(row.cluster), str(row.name), str(row.action)) for row in edited.itertuples(index=False))
        ui.set_renames(renames)
        st.rerun()

st.markdown("#### Campaign KPIs")
split = st.radio("Segments", list(SPLITS), format_func=SPLITS.get, horizontal=True, key="kpi_split")
with st.spinner("Measuring each segment…"):
    kpis = ui.current_kpis(split)
if kpis is None:
    st.info("Every order in this file is on one day: there is no period to measure retention over.")
else:
    st.caption(f"{kpis.caption}. Change the two dates on the Trends page.")
    st.dataframe(kpis.table, width="stretch", column_config=ui.kpi_columns(), key="kpis")

# Charts in tabs that draw only when open: a chart costs the browser tenths of a second (a 3-D one, which needs
# WebGL, more than a second on a machine without a graphics card), and five on every visit took 2-3 s.
map_tab, cube_tab, centres_tab, crosstab_tab = st.tabs(
    ["Map of the customers", "In 3-D", "Cluster centres", "RFM segments × clusters"], key="segments_tab", on_change="rerun"
)
labels = customers["cluster"]
if map_tab.open:
    map_tab.plotly_chart(pca_scatter(result.projection, labels, names, customers), width="stretch", key="pca")
if cube_tab.open:
    cube_tab.plotly_chart(rfm_3d_scatter(customers, labels, names), width="stretch", key="rfm3d")
if centres_tab.open:
    center_names = result.center_names()
    heat_column, snake_column = centres_tab.columns(2)
    heat_column.plotly_chart(centers_heatmap(result.centers, result.feature_names, center_names), width="stretch", key="centers")
    snake_column.plotly_chart(snake_plot(result.centers, result.feature_names, center_names), width="stretch", key="snake")
if crosstab_tab.open:
    if result.crosstab_counts.empty:
        crosstab_tab.info("Named RFM segments are not available for this data.")
    else:
        crosstab_tab.plotly_chart(crosstab_heatmap(result.crosstab_shares, result.crosstab_counts), width="stretch", key="crosstab")
        crosstab_tab.caption(
            "How far each name agrees with the RFM segments: the share of the cluster's customers in the segment it is "
            "named after. A Champions cluster is always mostly Champions or Loyal Customers, a Lost one mostly Lost, "
            "Hibernating or At Risk."
        )
        crosstab_tab.dataframe(
            result.names[["name", "agreement", "basis"]].set_index("name"), width="stretch", key="name_agreement",
            column_config={"agreement": st.column_config.NumberColumn(format="percent"),
                           "basis": st.column_config.TextColumn("most common RFM segments")},
        )
        crosstab_tab.dataframe(result.crosstab_counts, width="stretch", key="crosstab_counts")
