"""The server: ``streamlit run app.py`` serves the app (``streamlit_app.py`` and its pages) and, while it starts, imports
what the first page needs, so the first person to open the app does not wait for it.

That import (pandas, pyarrow and the app's own modules: about 0.5 s on 2 cores, bench/RESULTS.md) otherwise happens
in the first visitor's first page run. Here it runs in a background thread from the moment the server starts, while
the browser is still loading Streamlit's scripts. ``streamlit run streamlit_app.py`` serves the same app without
this head start.
"""

import contextlib
import importlib
import threading

import streamlit as st

#: What the Data page imports before a file is chosen (tests/app/test_first_open.py checks that this covers it):
#: the two pyarrow modules are what Streamlit loads to send its first table.
FIRST_PAGE_MODULES = (
    "ui",
    "rfm.cleaning.analyse",
    "rfm.cleaning.summary",
    "rfm.demo",
    "rfm.outputs.charts",
    "pyarrow.pandas_compat",
    "pyarrow.vendored.version",
)


def import_first_page() -> None:
    for name in FIRST_PAGE_MODULES:
        importlib.import_module(name)


@contextlib.asynccontextmanager
async def _head_start(_app):
    threading.Thread(target=import_first_page, name="rfm-first-page-imports", daemon=True).start()
    yield


app = st.App("streamlit_app.py", lifespan=_head_start)
