"""RFM Studio: the entry script only routes between pages, and decides on every run who may see which.

Access is decided here and nowhere else (``ui.who_enters``): without ``[auth]`` in the secrets the app is open, every
page; with it, an analyst gets every page, a marketer only Audiences, anyone else (or nobody signed in, or a
configuration to fix) one page of their own instead of the app. A page left out of the navigation cannot be
opened by its URL either: Streamlit only runs the pages passed to ``st.navigation``.
"""

import streamlit as st

import ui

st.set_page_config(page_title="RFM Studio", page_icon=":material/bar_chart:", layout="wide")
ui.calm_reruns()

entry = ui.who_enters()
if entry.role is None:  # sign in, no access, or a configuration to fix: that page alone, no menu, no data
    ui.show_gate(entry)
    st.stop()

# Material icons ship with Streamlit's own font: they draw on any machine, where emoji need an emoji font.
audiences = st.Page("pages/audiences.py", title="Audiences", icon=":material/campaign:")
if entry.role == ui.MARKETER:  # a marketer takes published runs to campaigns: nothing to upload, tune or publish
    pages = {"Act": [audiences]}
else:
    pages = {
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
            audiences,
            st.Page("pages/export.py", title="Export", icon=":material/download:"),
            st.Page("pages/whatif.py", title="What if", icon=":material/tune:"),
            st.Page("pages/score.py", title="Score", icon=":material/calculate:"),
        ],
    }
navigation = st.navigation(pages)
ui.mark_routed()
ui.sidebar_identity(entry)
try:
    with ui.running():  # a preload waiting for a quiet server waits for this run (ui.preload)
        navigation.run()
except Exception as error:  # bad input is shown by ui.guarded; anything else is a bug: logged, apologised for
    ui.apologise(error)
