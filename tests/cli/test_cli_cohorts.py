"""`python -m rfm cohorts`: the two files it writes are the library's, and too little data is one error line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from devkit.data import WORKBOOK
from rfm.demo import DEMO_PATH

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("cohorts")
    (folder / "one-month.csv").write_text(
        "Invoice,Customer ID,InvoiceDate,Quantity,Price\n1,A,2024-01-01 10:00,1,5\n2,B,2024-01-20 11:00,2,3\n"
    )
    commands = {
        "demo": ["cohorts", DEMO_PATH, "--out", folder / "demo"],
        "one_month": ["cohorts", folder / "one-month.csv", "--out", folder / "one"],
        "no_out": ["cohorts", DEMO_PATH],
    }
    if WORKBOOK.exists():
        commands["real"] = ["cohorts", WORKBOOK, "--out", folder / "real"]
    return folder, cli(commands)


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"cohort": str}).set_index("cohort")


def test_cohorts_writes_the_librarys_tables(runs):
    from rfm.cleaning.analyse import analyse_file
    from rfm.trends.cohorts import cohort_table

    folder, results = runs
    result = results["demo"]
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert {path.name for path in (folder / "demo").iterdir()} == {"retention.csv", "revenue.csv"}
    analysis = analyse_file(DEMO_PATH)
    expected = cohort_table(analysis.orders, analysis.report.analysis_date)
    retention, revenue = _read(folder / "demo" / "retention.csv"), _read(folder / "demo" / "revenue.csv")
    assert list(retention.index) == [str(cohort) for cohort in expected.sizes.index]
    assert retention["customers"].tolist() == expected.sizes.tolist() == revenue["customers"].tolist()
    months = retention.drop(columns="customers").to_numpy()
    np.testing.assert_allclose(months, expected.retention.to_numpy(), atol=5e-5)  # 4 decimals; blanks stay NaN
    np.testing.assert_allclose(revenue.drop(columns="customers").to_numpy(), expected.revenue.to_numpy(), atol=5e-3)
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"wrote 2 files to {folder / 'demo'}: {len(expected.sizes)} monthly cohorts of 2,999 customers")


def test_cohorts_on_the_shared_uci_excerpt(runs):
    folder, results = runs
    if "real" not in results:
        pytest.skip(f"real data not found at {WORKBOOK}")
    result = results["real"]
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("warning: 23 of 25 cohorts have fewer than 20 customers")
    assert lines[-1] == (
        f"wrote 2 files to {folder / 'real'}: 25 monthly cohorts of 260 customers from 2009-12-01 to 2011-12-09 "
        "(2011-12 partial); month 1: 47.6% of the 2009-12 cohort, 25.9% of all cohorts' customers"
    )
    retention = _read(folder / "real" / "retention.csv")
    assert retention.loc["2009-12", "month_1"] == 0.4762 and pd.isna(retention.loc["2011-12", "month_1"])


def test_one_month_of_orders_is_one_error_line(runs):
    folder, results = runs
    result = results["one_month"]
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: Every order in this file is in 2024-01: cohort retention needs orders in at least two calendar months "
        "(a first month, and one after it)."
    )
    assert "Traceback" not in result.stderr and not (folder / "one").exists()
    assert results["no_out"].returncode == 2 and "--out" in results["no_out"].stderr
