"""How each customer moved since the previous run of the same name (rfm.workspace.movement), worked out by hand, and
publishing a whole run twice on both stores (rfm.workspace.publish): the first run is all new, the second carries the
segment dates forward and is stored with its movement."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.analyse import analyse_file
from rfm.segment_run import segment_run
from rfm.workspace import Workspace
from rfm.workspace.movement import DIRECTIONS, movement, movement_counts, segment_merits
from rfm.workspace.publish import publish_run
from rfm.workspace.tables import DIRECTION, P_ALIVE_CHANGE, PREVIOUS_SEGMENT, SEGMENT_CHANGED_ON
from tests.workspace.test_store import ROWS

DAY = dt.date(2024, 6, 30)
MERITS = {"Champions": 3.0, "Loyal Customers": 2.0, "Lost": 0.0}


def _frame(rows: dict) -> pd.DataFrame:
    """{customer: (segment, p_alive, r, f, m)}."""
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=[schema.SEGMENT_NAME, schema.P_ALIVE, schema.R_SCORE, schema.F_SCORE, schema.M_SCORE]
    )
    return frame.rename_axis(schema.CUSTOMER_ID)


CURRENT = _frame({
    "a": ("Champions", 0.9, 5, 5, 5),  # was Lost: up
    "b": ("Lost", 0.2, 1, 1, 1),  # was Champions: down
    "c": ("Loyal Customers", 0.7, 4, 4, 3),  # the same: its change date is carried
    "d": ("Lost", 0.5, 2, 1, 1),  # in no run before: new
    "e": ("Lost", 0.4, 1, 2, 1),  # not in the previous run, in an earlier one: returned
    "f": ("High Spender", 0.8, 5, 4, 5),  # a tier group has no merit: its scores rose, so up
})
PREVIOUS = _frame({
    "a": ("Lost", 0.3, 1, 1, 2),
    "b": ("Champions", 0.95, 5, 5, 4),
    "c": ("Loyal Customers", 0.6, 4, 4, 3),
    "f": ("Loyal Customers", 0.8, 4, 4, 4),
    "x": ("Lost", 0.1, 1, 1, 1),  # gone: not in this run
}).assign(**{SEGMENT_CHANGED_ON: pd.to_datetime(["2024-03-31", "2024-01-31", "2024-02-29", "2024-05-31", "2024-01-31"])})


def test_movement_by_hand():
    moved = movement(CURRENT, PREVIOUS, DAY, merits=MERITS, previous_merits=MERITS, seen_before={"e", "x"})
    assert moved[DIRECTION].to_dict() == {"a": "up", "b": "down", "c": "same", "d": "new", "e": "returned", "f": "up"}
    previous = {customer: None if pd.isna(value) else value for customer, value in moved[PREVIOUS_SEGMENT].items()}
    assert previous == {"a": "Lost", "b": "Champions", "c": "Loyal Customers", "d": None, "e": None, "f": "Loyal Customers"}
    changed = moved[SEGMENT_CHANGED_ON].dt.date.to_dict()
    assert changed["c"] == dt.date(2024, 2, 29)  # carried from the previous run
    assert {changed[c] for c in "abdef"} == {DAY}  # changed (or arrived) in this run
    change = moved[P_ALIVE_CHANGE].round(2)
    assert change[["a", "b", "c", "f"]].tolist() == [0.6, -0.75, 0.1, 0.0] and change[["d", "e"]].isna().all()
    assert movement_counts(moved).to_dict() == {"up": 2, "same": 1, "down": 1, "new": 1, "returned": 1}
    assert tuple(movement_counts(moved).index) == DIRECTIONS


def test_the_first_run_of_a_name_is_all_new_with_no_change_date():
    moved = movement(CURRENT, None, DAY)
    assert (moved[DIRECTION] == "new").all() and moved[SEGMENT_CHANGED_ON].isna().all() and moved[PREVIOUS_SEGMENT].isna().all()


def test_merits_come_from_the_model():
    model = json.dumps({"clusters": {"names": [
        {"label": 0, "name": "Lost", "merit": 0.0}, {"label": 1, "name": "Champions", "merit": 3.0},
        {"label": -2, "name": "Elite VIP", "merit": None},
    ]}})
    assert segment_merits(model) == {"Lost": 0.0, "Champions": 3.0}


@pytest.fixture(scope="module")
def run():
    frame = pd.DataFrame(ROWS, columns=["Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price", "Country", "Email"])
    return segment_run(analyse_file(frame.to_csv(index=False).encode("utf-8"), "nine.csv"), k=2)


@pytest.mark.slow  # a segmentation run first
def test_publishing_twice_stores_the_movement(store_url, run):
    with Workspace.open(store_url) as workspace:
        first = publish_run(workspace, "Monthly", run, published_by="ana", source_digest="sha256:1")
        assert first.previous is None and (first.customers[DIRECTION] == "new").all()
        second = publish_run(workspace, "Monthly", run, published_by="ben", source_digest="sha256:1")
        assert second.previous is not None and second.previous.run_id == first.info.run_id
        assert (second.customers[DIRECTION] == "same").all()
        stored = workspace.customers(second.info.run_id)
        assert stored[DIRECTION].tolist() == ["same"] * len(run.labelled)
        assert stored[PREVIOUS_SEGMENT].tolist() == stored[schema.SEGMENT_NAME].tolist()
        assert stored[SEGMENT_CHANGED_ON].isna().all()  # unknown in the first run, carried while nothing changed
        assert second.info.settings["k"] == 2 and second.info.settings["analysis_date"] == "2024-06-30"
        assert len(workspace.runs("Monthly")) == 2
