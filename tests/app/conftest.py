"""Every headless app test starts and ends with empty caches: a cached result from another test must not stand in
for the one under test."""

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()
