"""The Backtest page headless (AppTest): the library's backtest of the session's file laid out, the holdout control,
and too little data said as a warning with no fitted figures."""

from functools import lru_cache

import pytest

from rfm.backtest.run import BacktestSettings, backtest
from rfm.cleaning.analyse import analyse_file
from rfm.demo import DEMO_PATH
from tests.support.app import TINY, app_test, open_page, upload

pytestmark = pytest.mark.slow



@lru_cache(maxsize=2)
def _expected(days: int):
    analysis = analyse_file(DEMO_PATH)
    return backtest(analysis.orders, analysis.report.analysis_date, BacktestSettings(days))


def test_backtest_page_shows_the_librarys_backtest():
    expected = _expected(90)
    at = open_page("pages/backtest.py")
    assert not at.exception and not at.error
    assert [success.value for success in at.success] == [expected.verdict()]
    assert [warning.value for warning in at.warning] == ([] if expected.model_below_rfm() is None else [expected.model_below_rfm()])
    rankings = next(df.value for df in at.dataframe if "top20_revenue_share" in df.value.columns)
    assert rankings["ordering"].tolist() == expected.rankings["label"].tolist()
    assert rankings["auc"].tolist() == pytest.approx(expected.rankings["auc"].tolist())
    segments = next(df.value for df in at.dataframe if "lift" in df.value.columns)
    assert set(segments["kind"]) == {"RFM segment", "Cluster"}
    assert segments["customers"].tolist() == expected.segments["customers"].tolist()
    [chart] = at.get("plotly_chart")
    assert "Cumulative gains" in chart.proto.spec
    assert any(f"Cut on **{expected.cut}**" in caption.value for caption in at.caption)
    assert at.metric[0].value == f"{expected.customers_at_cut:,}"


def test_a_shorter_holdout_moves_the_cut():
    at = open_page("pages/backtest.py")
    at.number_input(key="backtest_holdout_days").set_value(60).run()
    assert not at.exception
    expected = _expected(60)
    assert [success.value for success in at.success] == [expected.verdict()]
    assert any(f"Cut on **{expected.cut}**" in caption.value for caption in at.caption)


def test_too_little_data_is_a_warning_without_figures():
    at = upload(app_test().run(), "tiny.csv", TINY)
    at.switch_page("pages/backtest.py").run()
    assert not at.exception and not at.error
    assert at.warning[0].value.startswith("The history runs 4 days (2024-01-01 to 2024-01-05), not more than the 90-day holdout")
    assert not at.success and not at.get("plotly_chart") and not at.dataframe
