"""Chart data and figures built from result objects."""

import pandas as pd

from rfm import schema
from rfm.charts import distribution_data, distribution_figure, ledger_steps, ledger_waterfall
from rfm.pipeline import analyse
from rfm.read import read_transactions

TEXT = b"""Invoice,Customer ID,InvoiceDate,Quantity,Price
1,A,2024-01-01,2,5
2,,2024-01-02,1,5
C3,A,2024-01-03,-1,5
4,B,2024-01-04,1,99
"""


def _analysis():
    return analyse(read_transactions(TEXT, "t.csv"))


def test_ledger_steps_go_from_rows_read_to_rows_kept():
    steps = ledger_steps(_analysis().report)
    assert steps["step"].tolist() == ["Rows read", "missing customer id", "cancelled invoice", "Rows kept"]
    assert steps["rows"].tolist() == [4, -1, -1, 2]
    assert steps["measure"].tolist() == ["absolute", "relative", "relative", "total"]


def test_waterfall_figure_carries_the_steps():
    figure = ledger_waterfall(_analysis().report)
    assert list(figure.data[0].x) == ["Rows read", "missing customer id", "cancelled invoice", "Rows kept"]
    assert list(figure.data[0].y) == [4, -1, -1, 2]


def test_distribution_log_scale_uses_log1p_and_keeps_readable_ticks():
    table = pd.DataFrame({schema.MONETARY: [0.0, 9.0, 99.0]})
    assert distribution_data(table, schema.MONETARY, True).round(6).tolist() == [0.0, 1.0, 2.0]
    figure = distribution_figure(table, schema.MONETARY, log_scale=True)
    assert list(figure.layout.xaxis.ticktext)[:3] == ["0", "1", "10"]
    assert list(distribution_figure(table, schema.MONETARY, log_scale=False).data[0].x) == [0.0, 9.0, 99.0]
