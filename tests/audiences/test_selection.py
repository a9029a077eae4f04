"""Choosing an audience from a published run: segments, and how customers moved since the previous run."""

from __future__ import annotations

import pandas as pd
import pytest

from rfm import schema
from rfm.audiences.selection import MOVEMENTS, select_audience
from rfm.errors import RFMInputError

# customer: (segment now, segment before, direction, stage now, rfm segment)
ROWS = {
    "c1": ("At Risk", "Champions", "down", "At risk", "At Risk"),
    "c2": ("At Risk", "At Risk", "same", "At risk", "At Risk"),
    "c3": ("At Risk", None, "new", "New", "New Customers"),
    "c4": ("Champions", "Loyal", "up", "Active", "Champions"),
    "c5": ("Loyal", "Champions", "down", "Active", "Loyal Customers"),
    "c6": ("Lost", "Lost", "same", "Lost", "Lost"),
    "c7": ("Loyal", None, "returned", "Active", "Loyal Customers"),
    "c8": ("Loyal", "Loyal Old", "same", "Active", "Loyal Customers"),  # renamed by a refit, at the same merit
}
PREVIOUS_STAGES = {"c1": "Active", "c2": "At risk", "c4": "Active", "c5": "Active", "c6": "Lapsed"}


@pytest.fixture
def run():
    frame = pd.DataFrame.from_dict(
        ROWS, orient="index",
        columns=[schema.SEGMENT_NAME, "previous_segment", "direction", schema.LIFECYCLE_STAGE, schema.RFM_SEGMENT],
    )
    return frame.astype("str").where(frame.notna())  # as the workspace gives text back: missing is NaN


@pytest.fixture
def previous():
    return pd.DataFrame({schema.LIFECYCLE_STAGE: PREVIOUS_STAGES})


def chosen(run, *segments, **options):
    return select_audience(run, segments, **options).index.tolist()


def test_segments_alone_and_every_segment(run):
    assert chosen(run, "At Risk") == ["c1", "c2", "c3"]
    assert chosen(run, "At Risk", "Lost") == ["c1", "c2", "c3", "c6"]
    assert chosen(run) == list(ROWS)
    assert chosen(run, "Loyal Customers", by=schema.RFM_SEGMENT) == ["c5", "c7", "c8"]


def test_moved_into_a_segment_means_up_or_down_from_another(run):
    assert chosen(run, "At Risk", movement="entered") == ["c1"]  # c2 was At Risk already, c3 is new
    assert chosen(run, "At Risk", "Champions", movement="entered") == ["c1", "c4"]
    assert chosen(run, movement="entered") == ["c1", "c4", "c5"]  # not c8: a new name is not a move


def test_who_dropped_from_a_segment_wherever_they_are_now(run):
    assert chosen(run, "Champions", movement="dropped") == ["c1", "c5"]
    assert chosen(run, movement="dropped") == ["c1", "c5"]
    assert chosen(run, "Loyal", movement="dropped") == []  # c4 left Loyal upwards


def test_directions_within_segments(run):
    assert chosen(run, movement="up") == ["c4"]
    assert chosen(run, "Loyal", movement="down") == ["c5"]
    assert chosen(run, movement="same") == ["c2", "c6", "c8"]
    assert chosen(run, movement="new") == ["c3"]
    assert chosen(run, movement="returned") == ["c7"]


def test_newly_at_risk_by_lifecycle_stage(run, previous):
    assert chosen(run, movement="newly_at_risk", previous=previous) == ["c1"]  # c2 was At risk already
    assert chosen(run, "Lost", movement="newly_at_risk", previous=previous) == []
    assert chosen(run, movement="newly_at_risk") == []  # no previous run: nobody is newly at risk


def test_a_first_run_has_everyone_new(run):
    first = run.assign(previous_segment=float("nan"), direction="new")
    assert chosen(first, "At Risk", movement="entered") == []
    assert chosen(first, movement="new") == list(ROWS)


def test_unknown_choices_are_refused_with_the_runs_own(run):
    with pytest.raises(RFMInputError, match=r"no segment 'VIP' in segment_name: its segments are 'At Risk', 'Champions', 'Lost', 'Loyal'"):
        select_audience(run, ["VIP"])
    with pytest.raises(RFMInputError, match="Unknown movement 'sideways'"):
        select_audience(run, movement="sideways")
    with pytest.raises(RFMInputError, match="compares segment names"):
        select_audience(run, ["Lost"], by=schema.RFM_SEGMENT, movement="entered")
    assert set(MOVEMENTS) >= {"all", "entered", "dropped", "up", "down", "same", "new", "returned", "newly_at_risk"}
