"""Tools for developing RFM Studio, shared by the tests and the benchmarks (never installed with ``rfm``).

``data``: where the real data lives and synthetic data; ``datagen``: big UCI-shaped files; ``browser``: a served app
and the page helpers Playwright needs. Tests and benchmarks import these, never each other.
"""
