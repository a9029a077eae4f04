"""A model saved before the package layout (commit c86c23f) still loads, labels its customers exactly as it did then,
and is written back byte for byte. It labels its customers with a lifecycle stage too, from thresholds it takes from the
file it scores (it was saved before models recorded them).

The fixtures (``tests/bundle/fixtures``, see its README) are what ``python -m rfm segment
data/demo_online_retail.xlsx --k 4`` wrote at that commit: the ``model.json`` whole, and 200 of the 2,999 rows of its
``customers.csv`` (the model's inputs and the labels it gave), kept as the text the command wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from rfm import schema
from rfm.bundle.model import load_bundle
from rfm.demo import DEMO_PATH

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODEL = FIXTURES / "model_v2_before_layout.json"
CUSTOMERS = FIXTURES / "customers_v2_before_layout.csv"
INPUTS = [schema.RECENCY, schema.FREQUENCY, schema.MONETARY]
#: Each column of :meth:`ModelBundle.score`, and the column of ``customers.csv`` the command wrote it to.
RECORDED = {
    schema.R_SCORE: "r_score",
    schema.F_SCORE: "f_score",
    schema.M_SCORE: "m_score",
    schema.RFM_CELL: "rfm_cell",
    schema.SEGMENT: schema.RFM_SEGMENT,
    schema.TIER: schema.OUTLIER_TIER,
    schema.CLUSTER: schema.CLUSTER,
    schema.CLUSTER_NAME: schema.SEGMENT_NAME,
    schema.CLUSTER_ACTION: schema.ACTION,
}


def _recorded(path: Path) -> pd.DataFrame:
    """A ``customers.csv`` as the text it holds, indexed by customer id."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index(schema.CUSTOMER_ID)


@pytest.fixture(scope="module")
def recorded() -> pd.DataFrame:
    return _recorded(CUSTOMERS)


def test_the_fixture_covers_every_segment_cluster_and_tier(recorded):
    bundle = load_bundle(MODEL.read_bytes())
    assert len(recorded) == 200 and recorded.index.is_unique
    assert set(recorded[schema.RFM_SEGMENT]) == {rule.segment for rule in bundle.rules}
    assert set(recorded[schema.SEGMENT_NAME]) == set(bundle.center_names())
    assert set(recorded[schema.OUTLIER_TIER]) == {"Regular", "High Spender", "Power Shopper", "Elite VIP"}


def test_the_old_model_labels_its_customers_as_it_did(recorded):
    bundle = load_bundle(MODEL.read_bytes())
    scored = bundle.score(recorded[INPUTS].astype("float64"))
    assert scored.index.equals(recorded.index)
    for column, written in RECORDED.items():
        assert scored[column].astype(str).tolist() == recorded[written].tolist(), column


def test_the_old_model_file_round_trips_byte_for_byte():
    data = MODEL.read_bytes()
    bundle = load_bundle(data)
    again = load_bundle(bundle.to_json())
    assert json.loads(again.to_json()) == json.loads(bundle.to_json()) == json.loads(data)
    assert bundle.to_json().encode("utf-8") == data


def _without_created(text: str) -> list[str]:
    """The lines of a ``model.json`` but the one saying when it was written."""
    return [line for line in text.splitlines() if not line.lstrip().startswith('"created"')]


def _as_format_2(text: str) -> str:
    """A ``model.json`` of today (format 3) as format 2 wrote it: without ``lifecycle`` (the lifecycle stages'
    thresholds, added in format 3), laid out as :meth:`ModelBundle.to_json` lays it out."""
    payload = json.loads(text)
    assert payload["format_version"] == 3 and set(payload.pop("lifecycle")) == {
        "active_days", "at_risk_days", "lost_days", "new_days", "source", "repeat_customers"
    }
    payload["format_version"] = 2
    return json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False)


@pytest.mark.slow
def test_segmenting_the_demo_today_writes_the_recorded_model_and_labels(tmp_path, cli, recorded):
    if not DEMO_PATH.exists():
        pytest.skip(f"{DEMO_PATH} is absent")
    run = cli({"segment": ["segment", DEMO_PATH, "--k", "4", "--out", tmp_path]})["segment"]
    assert run.returncode == 0, run.stderr
    written_model = _with_recorded_names(_as_format_2((tmp_path / "model.json").read_text(encoding="utf-8")))
    assert _without_created(written_model) == _without_created(MODEL.read_text(encoding="utf-8"))
    written = _recorded(tmp_path / "customers.csv")
    same = [column for column in recorded.columns if column not in NAMED]
    pd.testing.assert_frame_equal(written.loc[recorded.index, same], recorded[same])


#: The columns of ``customers.csv`` that carry the clusters' names, which issue 17 changed on purpose: a cluster is
#: now named after the RFM segment most of its customers are in, not after its rank among the clusters.
NAMED = [schema.SEGMENT_NAME, schema.ACTION]


def _with_recorded_names(text: str) -> str:
    """A ``model.json`` with the fixture's cluster names and actions in place of its own, after checking that only
    they differ (same labels, same merits): everything but the names must be written as it was."""
    payload, fixture = json.loads(text), json.loads(MODEL.read_text(encoding="utf-8"))
    names, recorded_names = payload["clusters"]["names"], fixture["clusters"]["names"]
    assert [(n["label"], n["merit"]) for n in names] == [(n["label"], n["merit"]) for n in recorded_names]
    payload["clusters"]["names"] = recorded_names
    return json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False)
