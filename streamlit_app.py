"""RFM Studio: the entry script only routes between pages."""

import streamlit as st

import ui

st.set_page_config(page_title="RFM Studio", page_icon="📊", layout="wide")

navigation = st.navigation(
    {
        "Prepare": [st.Page("pages/data.py", title="Data", icon="📥", default=True)],
        "Analyse": [
            st.Page("pages/rfm_table.py", title="RFM", icon="📈"),
            st.Page("pages/clusters.py", title="Clusters", icon="🧭"),
            st.Page("pages/cluster_segments.py", title="Segments", icon="🏷️"),
        ],
        "Act": [
            st.Page("pages/export.py", title="Export", icon="⬇️"),
            st.Page("pages/whatif.py", title="What if", icon="🎛️"),
            st.Page("pages/score.py", title="Score", icon="🧮"),
        ],
    }
)
ui.mark_routed()
try:
    navigation.run()
except Exception as error:  # bad input is shown by ui.guarded; anything else is a bug: logged, apologised for
    ui.apologise(error)
