"""RFM Studio: the entry script only routes between pages."""

import streamlit as st

import ui

st.set_page_config(page_title="RFM Studio", page_icon=":material/bar_chart:", layout="wide")

# Material icons ship with Streamlit's own font: they draw on any machine, where emoji need an emoji font.
navigation = st.navigation(
    {
        "Prepare": [st.Page("pages/data.py", title="Data", icon=":material/upload_file:", default=True)],
        "Analyse": [
            st.Page("pages/rfm_table.py", title="RFM", icon=":material/table_chart:"),
            st.Page("pages/clusters.py", title="Clusters", icon=":material/bubble_chart:"),
            st.Page("pages/cluster_segments.py", title="Segments", icon=":material/sell:"),
            st.Page("pages/trends.py", title="Trends", icon=":material/moving:"),
            st.Page("pages/value.py", title="Value", icon=":material/savings:"),
            st.Page("pages/backtest.py", title="Backtest", icon=":material/query_stats:"),
        ],
        "Act": [
            st.Page("pages/audiences.py", title="Audiences", icon=":material/campaign:"),
            st.Page("pages/export.py", title="Export", icon=":material/download:"),
            st.Page("pages/whatif.py", title="What if", icon=":material/tune:"),
            st.Page("pages/score.py", title="Score", icon=":material/calculate:"),
        ],
    }
)
ui.mark_routed()
try:
    navigation.run()
except Exception as error:  # bad input is shown by ui.guarded; anything else is a bug: logged, apologised for
    ui.apologise(error)
