"""The server: ``streamlit run app.py`` serves the app (``streamlit_app.py`` and its pages) and, while it starts, imports
what the first page needs, so the first person to open the app does not wait for it.

That import (pandas, pyarrow and the app's own modules: about 0.5 s on 2 cores, bench/RESULTS.md) otherwise happens
in the first visitor's first page run. Here it runs in a background thread from the moment the server starts, while
the browser is still loading Streamlit's scripts. ``streamlit run streamlit_app.py`` serves the same app without
this head start.

Streamlit opens the user's browser for a plain script, not for an ``st.App``: unless headless, this opens it too,
once the server listens.
"""

import contextlib
import importlib
import socket
import threading
import time
import webbrowser

import streamlit as st

#: What the Data page imports before a file is chosen (tests/app/test_first_open.py checks that this covers it):
#: the two pyarrow modules are loaded by the page after the rest of pyarrow.
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
    """Import :data:`FIRST_PAGE_MODULES` (what the server's lifespan runs in a background thread)."""
    for name in FIRST_PAGE_MODULES:
        importlib.import_module(name)


def open_when_serving(host: str, port: int, wait_s: float = 60.0) -> bool:
    """Open http://HOST:PORT in the user's browser (``webbrowser``, which honours $BROWSER) once something listens
    there; ``False`` if nothing did within ``wait_s``. The lifespan runs before the server listens."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
    webbrowser.open(f"http://{host}:{port}")
    return True


@contextlib.asynccontextmanager
async def _head_start(_app):
    threading.Thread(target=import_first_page, name="rfm-first-page-imports", daemon=True).start()
    if not st.get_option("server.headless"):  # as `streamlit run` does for a plain script (`make run`)
        where = (st.get_option("browser.serverAddress"), st.get_option("server.port"))
        threading.Thread(target=open_when_serving, args=where, name="rfm-open-browser", daemon=True).start()
    yield


app = st.App("streamlit_app.py", lifespan=_head_start)
