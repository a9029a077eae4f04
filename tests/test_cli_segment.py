"""`python -m rfm segment` and `python -m rfm score`: the files a run writes, and a saved model reused."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from rfm.demo import DEMO_PATH
from tests.reference import WORKBOOK

OUTPUTS = {"customers.csv", "segments.xlsx", "model.json", "report.html", "summary.json"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("segment")
    first = cli(
        {
            "auto": ["segment", DEMO_PATH, "--out", folder / "auto"],
            "k3": ["segment", DEMO_PATH, "--k", "3", "--bins", "4", "--out", folder / "k3"],
            "bad_k": ["segment", DEMO_PATH, "--k", "99", "--out", folder / "bad"],
        }
    )
    model = folder / "auto" / "model.json"
    (folder / "corrupt.json").write_text('{"format": "rfm-studio-model", "format_version": 1, "clusters": 5}')
    second = cli(
        {
            "score_same": ["score", DEMO_PATH, "--model", model, "--out", folder / "score_same"],
            "score_missing": ["score", DEMO_PATH, "--model", folder / "nope.json", "--out", folder / "x"],
            "score_corrupt": ["score", DEMO_PATH, "--model", folder / "corrupt.json", "--out", folder / "y"],
            **({"score_real": ["score", WORKBOOK, "--model", model, "--out", folder / "score_real"]} if WORKBOOK.exists() else {}),
        }
    )
    return folder, {**first, **second}


def _csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str}, encoding="utf-8-sig").set_index("customer_id")


def test_segment_writes_every_file(runs):
    folder, results = runs
    assert results["auto"].returncode == 0, results["auto"].stderr
    out = folder / "auto"
    assert OUTPUTS <= {path.name for path in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    customers = _csv(out / "customers.csv")
    assert summary["customers"] == len(customers) == 2999
    assert summary["k"] >= 2 and -1 <= summary["silhouette"] <= 1
    assert sum(s["customers"] for s in summary["segments"]) == len(customers)
    assert sum(s["revenue"] for s in summary["segments"]) == pytest.approx(customers["monetary"].sum(), abs=0.05)
    assert {s["name"] for s in summary["segments"]} == set(customers["segment_name"])
    lists = sorted((out / "segments").glob("*.csv"))
    assert len(lists) == len(summary["segments"])
    assert sum(len(_csv(path)) for path in lists) == len(customers)
    workbook = openpyxl.load_workbook(out / "segments.xlsx", read_only=True)
    assert workbook.sheetnames[0] == "Summary" and len(workbook.sheetnames) == len(summary["segments"]) + 1
    assert "Choosing k" in (out / "report.html").read_text(encoding="utf-8")
    assert f"k={summary['k']}" in results["auto"].stderr


def test_segment_with_a_chosen_k_and_bins(runs):
    folder, results = runs
    assert results["k3"].returncode == 0, results["k3"].stderr
    summary = json.loads((folder / "k3" / "summary.json").read_text())
    assert summary["k"] == 3
    model = json.loads((folder / "k3" / "model.json").read_text())
    assert model["scores"]["n_bins"] == 4 and len(model["clusters"]["centers"]) == 3


def test_k_out_of_range_is_a_usage_error(runs):
    _, results = runs
    assert results["bad_k"].returncode == 2
    assert "k=99 should be between 1 and 15" in results["bad_k"].stderr


def test_scoring_the_same_file_with_its_model_gives_the_same_labels(runs):
    folder, results = runs
    assert results["score_same"].returncode == 0, results["score_same"].stderr
    fitted = _csv(folder / "auto" / "customers.csv")
    scored = _csv(folder / "score_same" / "customers.csv")
    for column in ("r_score", "f_score", "m_score", "rfm_segment", "cluster", "segment_name", "outlier_tier"):
        assert (scored[column] == fitted[column]).all(), column
    names = {path.name for path in (folder / "score_same").iterdir()}
    assert "model.json" not in names and "report.html" not in names
    assert "scored with kmeans model" in results["score_same"].stderr


@pytest.mark.skipif(not WORKBOOK.exists(), reason="../shared/data is absent")
def test_a_second_real_file_is_scored_with_the_demo_model(runs):
    folder, results = runs
    assert results["score_real"].returncode == 0, results["score_real"].stderr
    summary = json.loads((folder / "score_real" / "summary.json").read_text())
    model_names = {entry["name"] for entry in json.loads((folder / "auto" / "model.json").read_text())["clusters"]["names"]}
    assert summary["customers"] == 260
    assert sum(s["customers"] for s in summary["segments"]) == 260
    assert {s["name"] for s in summary["segments"]} <= model_names


@pytest.mark.parametrize(
    "key, message",
    [
        ("score_missing", "error: Model file '.*nope.json' not found."),
        ("score_corrupt", "error: This model bundle is corrupt: Unexpected field|error: This model bundle is corrupt: .*Missing field"),
    ],
)
def test_bad_models_exit_2_with_one_line(runs, key, message):
    _, results = runs
    result = results[key]
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert pd.Series([result.stderr]).str.contains(message).all(), result.stderr


def test_a_segment_longer_than_an_excel_sheet_leaves_the_workbook_out_and_says_why(tmp_path, monkeypatch):
    from rfm import export
    from rfm.pipeline import analyse_file
    from rfm.run import segment_run, write_run

    run = segment_run(analyse_file(DEMO_PATH), k=2)
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 100)  # the demo's segments are longer than this
    told = []
    written = write_run(run, tmp_path, {}, warn=told.append)
    assert "segments.xlsx" not in {path.name for path in written} and not (tmp_path / "segments.xlsx").exists()
    # The value model's own notes (e.g. Gamma-Gamma's independence check) may come too; one is about the workbook.
    [note] = [text for text in told if text.startswith("segments.xlsx")]
    assert note.startswith("segments.xlsx not written: Segment ")
    assert "more than an Excel sheet holds (99 below the header)" in note
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["not_written"] == {"segments.xlsx": note.removeprefix("segments.xlsx not written: ")}
    assert len(pd.read_csv(tmp_path / "customers.csv")) == len(run.labelled)
