"""`python -m rfm backtest`: the library's backtest as JSON with the documented keys, as tables, and too little data
as one error line."""

from __future__ import annotations

import json

import pytest

from rfm.demo import DEMO_PATH

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("backtest")
    (folder / "short.csv").write_text(
        "Invoice,Customer ID,InvoiceDate,Quantity,Price\n1,A,2024-01-01 10:00,1,5\n2,B,2024-01-20 11:00,2,3\n"
    )
    return cli(
        {
            "json": ["backtest", DEMO_PATH, "--holdout-days", "60", "--json"],
            "text": ["backtest", DEMO_PATH],
            "short": ["backtest", folder / "short.csv"],
            "bad_days": ["backtest", DEMO_PATH, "--holdout-days", "0"],
        }
    )


def test_json_has_exactly_the_documented_keys_and_the_librarys_figures(runs):
    from rfm.backtest.run import BacktestSettings, backtest
    from rfm.cleaning.analyse import analyse_file

    result = runs["json"]
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"cut", "customers_at_cut", "bought_again", "rankings", "segments"}
    assert set(data["rankings"]) == {"recency", "frequency", "rfm_sum", "bgnbd", "mbgnbd", "pareto_nbd", "clv"}
    assert all(set(value) == {"auc", "top20_revenue_share"} for value in data["rankings"].values())
    assert {row["kind"] for row in data["segments"]} == {"rfm", "cluster"}
    assert all(set(row) == {"segment", "kind", "customers", "bought_again_rate", "revenue_per_customer", "lift"} for row in data["segments"])
    analysis = analyse_file(DEMO_PATH)
    expected = backtest(analysis.orders, analysis.report.analysis_date, BacktestSettings(60)).as_json()
    assert data == expected


def test_without_json_a_readable_table(runs):
    result = runs["text"]
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cut ") and "(90 days before " in lines[0]
    assert lines[1].startswith("Trust ")
    assert "RFM score sum" in result.stdout and "top 20% revenue" in result.stdout and "lift" in result.stdout


def test_too_little_data_is_one_error_line(runs):
    for key, message in (
        ("short", "error: The history runs 19 days (2024-01-01 to 2024-01-20), not more than the 90-day holdout"),
        ("bad_days", "error: The holdout should be a whole number of days from 1 to 3,650; got 0."),
    ):
        result = runs[key]
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith(message)
        assert result.stdout == ""
