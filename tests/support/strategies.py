"""Hypothesis strategies shared by the property tests."""

import pandas as pd
from hypothesis import strategies as st

from rfm import schema


@st.composite
def rfm_tables(draw, min_size=1, max_size=40):
    """RFM tables (recency, frequency, monetary; ids c0, c1, ...) with small value pools, so that ties
    and big tie blocks are common."""
    n = draw(st.integers(min_size, max_size))
    recency = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    frequency = draw(st.lists(st.one_of(st.just(1), st.integers(1, 12)), min_size=n, max_size=n))
    monetary = draw(
        st.lists(st.one_of(st.sampled_from([9.99, 15.0, 100.0]), st.floats(0.01, 1e5)), min_size=n, max_size=n)
    )
    index = pd.Index([f"c{i}" for i in range(n)], name=schema.CUSTOMER_ID)
    return pd.DataFrame({schema.RECENCY: recency, schema.FREQUENCY: frequency, schema.MONETARY: monetary}, index=index)
