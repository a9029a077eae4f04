"""Fixtures of the command-line tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.workspace.test_store import ROWS

COLUMNS = ["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price", "Country", "Email"]


@pytest.fixture(scope="module")
def orders(tmp_path_factory):
    """Nine order lines of six customers (tests.workspace.test_store.ROWS) as a CSV file, with emails."""
    path = tmp_path_factory.mktemp("orders") / "nine.csv"
    pd.DataFrame(ROWS, columns=COLUMNS).to_csv(path, index=False)
    return path
