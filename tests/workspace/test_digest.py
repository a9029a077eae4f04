"""The digest of a published run (rfm.workspace.digest) on two hand-made runs whose every figure is worked out by hand:
segment sizes (one segment vanished), movement, the largest flows, the newly at risk and their revenue; the first
run of a name; the same digest from shuffled rows and from the runs read back from both stores."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.workspace import RunInfo, Workspace
from rfm.workspace.digest import AtRiskCustomer, Flow, SegmentSize, published_digest, run_digest
from rfm.workspace.tables import DIRECTION, PREVIOUS_SEGMENT

LOYAL, CHAMPIONS, LOST, SLEEPERS = "Loyal Customers", "Champions", "Lost", "Sleepers"
NAN = np.nan


def _customers(rows: dict, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis(schema.CUSTOMER_ID)


PREVIOUS = _customers(
    {
        "a": (CHAMPIONS, 100.0, "Active"),
        "b": (CHAMPIONS, 200.0, "Active"),
        "c": (LOYAL, 50.0, "New"),
        "d": (LOYAL, 80.0, "At risk"),
        "e": (LOST, 10.0, "Lost"),
        "f": (LOST, 7.0, "Lost"),
        "x": (SLEEPERS, 30.0, "Active"),  # not in the current run: its segment vanishes
    },
    [schema.SEGMENT_NAME, schema.MONETARY, schema.LIFECYCLE_STAGE],
)
CURRENT = _customers(
    {
        "a": (CHAMPIONS, 1500.5, "At risk", "same", CHAMPIONS, 40.0, "a@example.com"),  # Active -> At risk: newly
        "b": (LOYAL, 220.0, "At risk", "down", CHAMPIONS, NAN, None),  # Active -> At risk: newly, no prediction
        "c": (CHAMPIONS, 90.0, "Active", "up", LOYAL, 30.0, "c@example.com"),
        "d": (LOYAL, 80.0, "At risk", "same", LOYAL, 5.0, None),  # At risk before too: not newly
        "e": (LOYAL, 25.0, "Active", "up", LOST, 12.0, None),
        "f": (LOYAL, 15.0, "Active", "up", LOST, 3.0, None),
        "n": (CHAMPIONS, 60.0, "New", "new", None, 20.0, None),
        "r": (LOST, 5.0, "At risk", "returned", None, 1.0, None),  # not in the previous run: not newly at risk
    },
    [schema.SEGMENT_NAME, schema.MONETARY, schema.LIFECYCLE_STAGE, DIRECTION, PREVIOUS_SEGMENT, schema.PREDICTED_CLV, schema.EMAIL],
)


def _info(run_id: str, day: str, customers: pd.DataFrame, published_at: dt.datetime) -> RunInfo:
    return RunInfo(
        run_id=run_id, name="Monthly", published_at=published_at, published_by="ana", source_file="orders.csv",
        source_digest="ab12", rows_read=99, customers=len(customers), revenue=float(customers[schema.MONETARY].sum()),
        columns=tuple(customers.columns), settings_json=json.dumps({"analysis_date": day}), ledger_json="[]",
        model_json="{}",
    )


THEN = _info("p1", "2024-05-31", PREVIOUS, dt.datetime(2024, 6, 1, 9, 30, tzinfo=dt.UTC))
NOW = _info("p2", "2024-06-30", CURRENT, dt.datetime(2024, 7, 1, 9, 30, tzinfo=dt.UTC))


def test_every_figure_by_hand():
    digest = run_digest(NOW, CURRENT, THEN, PREVIOUS)
    # 1500.5 + 220 + 90 + 80 + 25 + 15 + 60 + 5 and 100 + 200 + 50 + 80 + 10 + 7 + 30
    assert (digest.run.customers, digest.run.revenue, digest.run.analysis_date) == (8, 1995.5, dt.date(2024, 6, 30))
    assert (digest.previous.customers, digest.previous.revenue, digest.previous.analysis_date) == (7, 477.0, dt.date(2024, 5, 31))
    assert digest.segments == (
        SegmentSize(LOYAL, 4, 2),  # b d e f, was c d
        SegmentSize(CHAMPIONS, 3, 2),  # a c n, was a b
        SegmentSize(LOST, 1, 2),  # r, was e f
        SegmentSize(SLEEPERS, 0, 1),  # vanished
    )
    assert [size.change for size in digest.segments] == [2, 1, -1, -1]
    assert dict(digest.movement) == {"up": 3, "same": 2, "down": 1, "new": 1, "returned": 1}
    assert digest.flows == (
        Flow(LOST, LOYAL, "up", 2, 40.0),  # e and f: 25 + 15
        Flow(CHAMPIONS, LOYAL, "down", 1, 220.0),  # b (more revenue than c's flow of one)
        Flow(LOYAL, CHAMPIONS, "up", 1, 90.0),  # c
    )
    risk = digest.at_risk
    assert (risk.customers, risk.revenue, risk.predicted_clv, risk.without_prediction) == (2, 1720.5, 40.0, 1)
    assert risk.top == (
        AtRiskCustomer("a", CHAMPIONS, CHAMPIONS, 1500.5, 40.0, "a@example.com"),
        AtRiskCustomer("b", LOYAL, CHAMPIONS, 220.0, None, None),
    )


def test_the_lists_are_cut_at_the_top():
    digest = run_digest(NOW, CURRENT, THEN, PREVIOUS, top_flows=1, top_at_risk=1)
    assert digest.flows == (Flow(LOST, LOYAL, "up", 2, 40.0),)
    assert [c.customer_id for c in digest.at_risk.top] == ["a"] and digest.at_risk.customers == 2  # the count is all


def test_as_json():
    record = run_digest(NOW, CURRENT, THEN, PREVIOUS).to_dict()
    assert json.loads(json.dumps(record)) == record  # plain JSON types only
    assert record["run"]["published_at"] == "2024-07-01T09:30:00+00:00" and record["previous"]["analysis_date"] == "2024-05-31"
    assert record["segments"][-1] == {"segment": SLEEPERS, "customers": 0, "previous_customers": 1, "change": -1}
    assert record["movement"] == {"up": 3, "same": 2, "down": 1, "new": 1, "returned": 1}
    assert record["flows"][0] == {"from": LOST, "to": LOYAL, "direction": "up", "customers": 2, "revenue": 40.0}
    assert record["newly_at_risk"]["customers"] == 2 and record["newly_at_risk"]["revenue"] == 1720.5
    assert record["newly_at_risk"]["top"][1] == {
        "customer_id": "b", "segment": LOYAL, "previous_segment": CHAMPIONS, "monetary": 220.0, "predicted_clv": None, "email": None,
    }


def test_as_markdown_with_each_figure_defined():
    text = run_digest(NOW, CURRENT, THEN, PREVIOUS).to_markdown()
    assert text.startswith("# Run digest: Monthly\n")
    assert "| Customers | 8 | 7 | +1 |" in text and "| Revenue to date | 1,995.50 | 477.00 | +1,518.50 |" in text
    assert "| Analysis date | 2024-06-30 | 2024-05-31 | |" in text
    assert "| Sleepers | 0 | 1 | -1 |" in text and "| Loyal Customers | 4 | 2 | +2 |" in text
    assert "| Moved up | 3 |" in text and "| Returned | 1 |" in text
    assert "| Lost | Loyal Customers | up | 2 | 40.00 |" in text
    assert "| Customers newly at risk | 2 |" in text and "| Their revenue to date | 1,720.50 |" in text
    assert "| Their predicted CLV (the revenue at stake) | 40.00 |" in text and "1 of them have no prediction" in text
    assert "(this run does not record its horizon and discount)" in text  # NOW's settings hold no value terms
    assert "| a | Champions | Champions | 1,500.50 | 40.00 | a@example.com |" in text
    assert "| b | Loyal Customers | Champions | 220.00 | — | — |" in text
    for words in ("**Revenue to date**: the sum of every customer's *monetary* value", "**Newly at risk**: customers whose",
                  "**Moved up / down**", "**Change**: now minus before"):
        assert words in text


def test_the_first_run_of_a_name():
    first = CURRENT.assign(**{DIRECTION: "new", PREVIOUS_SEGMENT: None})
    digest = run_digest(NOW, first)
    assert digest.previous is None
    assert digest.segments == (SegmentSize(LOYAL, 4, None), SegmentSize(CHAMPIONS, 3, None), SegmentSize(LOST, 1, None))
    assert dict(digest.movement) == {"up": 0, "same": 0, "down": 0, "new": 8, "returned": 0}
    assert digest.flows == () and digest.at_risk.customers == 0 and digest.at_risk.revenue == 0.0 and digest.at_risk.top == ()
    assert digest.to_dict()["previous"] is None and digest.to_dict()["segments"][0]["change"] is None
    text = digest.to_markdown()
    assert "**First run of this name**" in text and "| Loyal Customers | 4 |" in text and "Previous run" not in text


def test_without_predicted_value_or_email_and_a_pipe_in_a_name():
    current = CURRENT.drop(columns=[schema.PREDICTED_CLV, schema.EMAIL]).replace({LOYAL: "Loyal | VIP"})
    digest = run_digest(NOW, current, THEN, PREVIOUS.replace({LOYAL: "Loyal | VIP"}))
    assert digest.at_risk.predicted_clv is None and digest.at_risk.without_prediction == 0
    assert all(c.email is None and c.predicted_clv is None for c in digest.at_risk.top)
    text = digest.to_markdown()
    assert "revenue at stake" not in text.split("## Newly at risk")[1].split("*What")[0]
    assert "no predicted CLV" in text and "| Loyal \\| VIP | 4 | 2 | +2 |" in text and "Email" not in text


def test_row_order_does_not_matter():
    shuffled = run_digest(NOW, CURRENT.sample(frac=1, random_state=3), THEN, PREVIOUS.sample(frac=1, random_state=4))
    assert shuffled == run_digest(NOW, CURRENT, THEN, PREVIOUS)


def test_a_previous_run_needs_its_customers():
    with pytest.raises(ValueError, match="previous='p1' is given without its customers"):
        run_digest(NOW, CURRENT, THEN)


def test_the_same_digest_from_the_runs_read_back(store_url):
    stage = pd.CategoricalDtype(schema.LIFECYCLE_STAGES, ordered=True)
    stored = {"ledger": [], "model_json": "{}", "source_digest": "ab12", "rows_read": 99, "source_file": "orders.csv"}
    with Workspace.open(store_url) as workspace:
        then = workspace.publish(
            "Monthly", PREVIOUS.astype({schema.LIFECYCLE_STAGE: stage}), published_by="ana", revenue=477.0,
            settings={"analysis_date": "2024-05-31"}, **stored,
        )
        now = workspace.publish(
            "Monthly", CURRENT.astype({schema.LIFECYCLE_STAGE: stage}), published_by="ben", revenue=1995.5,
            settings={"analysis_date": "2024-06-30"}, **stored,
        )
        digest = published_digest(workspace, now.run_id, then.run_id)
    expected = run_digest(NOW, CURRENT, THEN, PREVIOUS)
    assert (digest.segments, digest.movement, digest.flows, digest.at_risk) == (
        expected.segments, expected.movement, expected.flows, expected.at_risk,
    )
    assert (digest.run.run_id, digest.previous.run_id, digest.run.published_by) == (now.run_id, then.run_id, "ben")
