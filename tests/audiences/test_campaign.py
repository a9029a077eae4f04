"""The audience workflow on both stores: which run ``--run`` names, an empty audience said with its reason, the
control group saved and split, and a comparison only once a later run of the name exists."""

from __future__ import annotations

import datetime as dt

import pytest

from rfm import schema
from rfm.audiences.campaign import LATEST, check_not_empty, control_results, find_run, run_audience, save_with_control
from rfm.errors import RFMInputError
from rfm.workspace import Workspace
from tests.workspace.frames import labelled_frame
from tests.workspace.test_store import publish

SETTINGS = {"analysis_date": "2020-06-30"}


def test_which_run_is_named(store_url):
    with Workspace.open(store_url) as workspace:
        with pytest.raises(RFMInputError, match="has no published run yet"):
            find_run(workspace, LATEST)
        spring = publish(workspace, "Spring", labelled_frame(5), settings=SETTINGS, published_at=dt.datetime(2024, 4, 1))
        spring_2 = publish(workspace, "Spring", labelled_frame(6), settings=SETTINGS, published_at=dt.datetime(2024, 5, 1))
        autumn = publish(workspace, "Autumn", labelled_frame(7), settings=SETTINGS, published_at=dt.datetime(2024, 3, 1))
        assert find_run(workspace, LATEST).run_id == spring_2.run_id  # the newest of any name
        assert find_run(workspace, "Spring").run_id == spring_2.run_id
        assert find_run(workspace, spring.run_id).run_id == spring.run_id
        assert find_run(workspace, "Autumn").run_id == autumn.run_id
        with pytest.raises(RFMInputError, match="no run named or numbered 'Winter': its runs are named 'Spring', 'Autumn'"):
            find_run(workspace, "Winter")


def test_an_empty_audience_says_why(store_url):
    with Workspace.open(store_url) as workspace:
        first = publish(workspace, "Spring", labelled_frame(5).assign(direction="new"), settings=SETTINGS)
        nobody = run_audience(workspace, first, movement="down")
        assert nobody.empty
        with pytest.raises(RFMInputError, match="The run is the first of its name, so nobody moved yet"):
            check_not_empty(workspace, first, nobody, "down")
        with pytest.raises(RFMInputError, match="Choose other segments or another movement"):
            check_not_empty(workspace, first, nobody.iloc[:0], "all")


def test_a_control_group_waits_for_a_later_run_then_is_compared(store_url):
    with Workspace.open(store_url) as workspace:
        base = labelled_frame(40)
        first = publish(workspace, "Spring", base, settings=SETTINGS, published_at=dt.datetime(2024, 4, 1))
        audience = run_audience(workspace, first, ["Champions"])
        made = save_with_control(workspace, first, audience, share=0.25, seed=4, label="Push", created_by="mark",
                                 by=schema.SEGMENT_NAME, segments=["Champions"], movement="all")
        assert len(made.contacted) + len(made.control) == len(audience) and len(made.control) == round(0.25 * len(audience))
        assert set(made.contacted.index).isdisjoint(made.control.index)
        [waiting] = control_results(workspace, "Spring")
        assert waiting.later is None and waiting.comparison is None and "no later run of this name yet" in waiting.headline()
        # a month on, every contacted customer bought again and nobody held back did
        later = base.copy()
        later.loc[made.contacted.index, schema.LAST_PURCHASE] = later.loc[made.contacted.index, schema.LAST_PURCHASE] + dt.timedelta(days=30)
        second = publish(workspace, "Spring", later, settings=SETTINGS, published_at=dt.datetime(2024, 5, 1))
        [judged] = control_results(workspace, "Spring")
        assert judged.later.run_id == second.run_id
        rates = judged.comparison.table["bought_again_rate"]
        assert rates.to_dict() == {"Contacted": 1.0, "Held back": 0.0} and judged.comparison.lift == 1.0
        assert judged.to_dict()["groups"]["Held back"]["bought_again"] == 0
