"""`python -m rfm segment` and `python -m rfm score`: the files a run writes, and a saved model reused."""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest

from devkit.data import WORKBOOK, cdnow_master
from rfm.demo import DEMO_PATH

pytestmark = pytest.mark.slow

OUTPUTS = {"customers.csv", "segments.xlsx", "model.json", "report.html", "summary.json"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("segment")
    first = cli(
        {
            "auto": ["segment", DEMO_PATH, "--out", folder / "auto"],
            "k3": ["segment", DEMO_PATH, "--k", "3", "--bins", "4", "--out", folder / "k3"],
            "bad_k": ["segment", DEMO_PATH, "--k", "99", "--out", folder / "bad"],
            "mapped": [
                "segment", _work_email_file(folder / "work.csv"), "--map", "email=Work address", "--map", "phone=",
                "--k", "2", "--out", folder / "mapped",
            ],
        }
    )
    model = folder / "auto" / "model.json"
    (folder / "corrupt.json").write_text('{"format": "rfm-studio-model", "format_version": 1, "clusters": 5}')
    old = json.loads(model.read_text())
    del old["distribution"], old["lifecycle"]
    (folder / "v1.json").write_text(json.dumps({**old, "format_version": 1}))
    _wholesale_file(folder / "wholesale.csv")
    second = cli(
        {
            "score_same": ["score", DEMO_PATH, "--model", model, "--out", folder / "score_same"],
            "score_missing": ["score", DEMO_PATH, "--model", folder / "nope.json", "--out", folder / "x"],
            "score_corrupt": ["score", DEMO_PATH, "--model", folder / "corrupt.json", "--out", folder / "y"],
            "score_wholesale": ["score", folder / "wholesale.csv", "--model", model, "--out", folder / "score_wholesale"],
            "score_v1": ["score", DEMO_PATH, "--model", folder / "v1.json", "--out", folder / "score_v1"],
            **({"score_real": ["score", WORKBOOK, "--model", model, "--out", folder / "score_real"]} if WORKBOOK.exists() else {}),
        }
    )
    return folder, {**first, **second}


def _wholesale_file(path) -> None:
    """92 wholesale customers, 5 orders each of 40 units at 250.00: 50,000 per customer, beyond every demo customer."""
    rows = [
        {"Invoice": f"W{customer}{order}", "Customer ID": f"B{customer:03d}", "InvoiceDate": f"2011-{order + 6:02d}-{customer % 28 + 1:02d} 10:00",
         "Quantity": 40, "Price": 250.0, "Country": "Germany"}
        for customer in range(92)
        for order in range(5)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)


def _work_email_file(path):
    """A small demo as CSV with a second email column, "Work address", that detection does not choose."""
    from rfm.demo import generate_demo_transactions

    frame = generate_demo_transactions(n_customers=150, seed=3)
    frame["Work address"] = frame["Email"].str.replace("@example.com", "@work.example.com")
    frame.to_csv(path, index=False)
    return path


def _csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str}, encoding="utf-8-sig").set_index("customer_id")


def test_segment_writes_every_file(runs):
    folder, results = runs
    assert results["auto"].returncode == 0, results["auto"].stderr
    out = folder / "auto"
    assert {path.name for path in out.iterdir()} >= OUTPUTS
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
    for column in ("r_score", "f_score", "m_score", "rfm_segment", "cluster", "segment_name", "outlier_tier", "lifecycle_stage"):
        assert (scored[column] == fitted[column]).all(), column
    assert set(fitted["lifecycle_stage"]) == {"New", "Active", "At risk", "Lapsed", "Lost"}
    names = {path.name for path in (folder / "score_same").iterdir()}
    assert "model.json" not in names and "report.html" not in names
    assert "scored with kmeans model" in results["score_same"].stderr
    assert "outside the model's range" not in results["score_same"].stderr
    check = json.loads((folder / "score_same" / "summary.json").read_text())["fit_check"]
    assert check["warnings"] == [] and check["customers"] == check["model_customers"] == 2999
    assert {feature: figures["above_max"] for feature, figures in check["features"].items()} == {"recency_days": 0, "frequency": 0, "monetary": 0}


def test_scoring_a_file_unlike_the_model_s_warns_and_still_scores(runs):
    folder, results = runs
    result = results["score_wholesale"]
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    [monetary] = [line for line in warnings if line.startswith("warning: monetary: ")]
    assert monetary.startswith("warning: monetary: 100% of customers (92 of 92) lie above the model's largest value (")
    [overall] = [line for line in warnings if "outside the model's range" in line]
    assert overall.startswith("warning: This file lies outside the model's range on 1 of its 3 features (monetary)")
    summary = json.loads((folder / "score_wholesale" / "summary.json").read_text())
    assert summary["customers"] == 92 and sum(s["customers"] for s in summary["segments"]) == 92
    assert summary["fit_check"]["features"]["monetary"]["above_max"] == 1.0
    assert summary["fit_check"]["warnings"] == [monetary.removeprefix("warning: "), overall.removeprefix("warning: ")]


def test_a_model_saved_before_the_check_scores_with_a_note(runs):
    folder, results = runs
    result = results["score_v1"]
    assert result.returncode == 0, result.stderr
    assert "note: This model was saved before RFM Studio recorded the customers a model was fitted on" in result.stderr
    assert "outside the model's range" not in result.stderr
    fitted = _csv(folder / "auto" / "customers.csv")
    scored = _csv(folder / "score_v1" / "customers.csv")
    assert (scored["segment_name"] == fitted["segment_name"]).all()
    assert json.loads((folder / "score_v1" / "summary.json").read_text())["fit_check"]["features"] == {}


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
    from rfm.cleaning.analyse import analyse_file
    from rfm.outputs import files as export
    from rfm.segment_run import segment_run, write_run

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


# --- density methods: the default smallest cluster works on CDNOW; too many clusters is one line (issue 14) ---


@pytest.fixture(scope="module")
def density_runs(tmp_path_factory, cli):
    folder = tmp_path_factory.mktemp("density")
    cdnow = cdnow_master()
    return folder, cli(
        {
            **({"cdnow_hdbscan": ["segment", cdnow, "--algorithm", "hdbscan", "--out", folder / "cdnow"]} if cdnow else {}),
            "tiny_share": ["segment", DEMO_PATH, "--algorithm", "hdbscan", "--min-cluster-share", "0.1%", "--out", folder / "tiny"],
            "bad_share": ["segment", DEMO_PATH, "--min-cluster-share", "3", "--out", folder / "bad"],
        }
    )


@pytest.mark.skipif(cdnow_master() is None, reason="lifetimes (and its CDNOW data) is not installed")
def test_hdbscan_on_cdnow_with_the_defaults_writes_a_model(density_runs):
    """It exited 2: HDBSCAN found 919 clusters and the run's own model failed its schema."""
    folder, results = density_runs
    result = results["cdnow_hdbscan"]
    assert result.returncode == 0, result.stderr
    assert "note: HDBSCAN was fitted on a random sample of 6,000 of 23,502 customers" in result.stderr
    model = json.loads((folder / "cdnow" / "model.json").read_text())
    assert model["clusters"]["algorithm"] == "hdbscan" and 1 <= len(model["clusters"]["centers"]) <= 15
    summary = json.loads((folder / "cdnow" / "summary.json").read_text())
    assert summary["customers"] == 23_502 == sum(s["customers"] for s in summary["segments"])


def test_too_many_clusters_exits_2_with_one_line_saying_what_to_do(density_runs):
    _, results = density_runs
    result = results["tiny_share"]
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert re.fullmatch(
        r"error: HDBSCAN found \d+ clusters among 2,999 customers; at most 15 can be named and saved\. Raise the "
        r"smallest cluster size \(now 0\.1% of customers, 5\) or use K-Means\.",
        line,
    ), line


def test_a_bad_smallest_cluster_share_is_a_usage_error(density_runs):
    _, results = density_runs
    assert results["bad_share"].returncode == 2
    assert "--min-cluster-share: expected the smallest cluster as a percentage from 0.1% to 50% (e.g. 1%) or a share" in results["bad_share"].stderr


@pytest.mark.parametrize("command", ["segment", "migrate"])
@pytest.mark.parametrize("given, share", [("2%", 0.02), ("0.5 %", 0.005), ("0.05", 0.05), (None, 0.01)])
def test_the_smallest_cluster_share_is_read_as_a_percentage_or_a_share(command, given, share):
    from rfm.cli.main import build_parser

    extra = ["--from", "2011-01-01"] if command == "migrate" else []
    option = [] if given is None else ["--min-cluster-share", given]
    args = build_parser().parse_args([command, "file.csv", *extra, "--algorithm", "hdbscan", *option, "--out", "out"])
    assert args.min_cluster_share == pytest.approx(share)


def test_customer_lists_carry_the_demo_email_and_phone_after_the_id(runs):
    from rfm.demo import demo_email

    folder, _ = runs
    out = folder / "auto"
    for path in [out / "customers.csv", *sorted((out / "segments").glob("*.csv"))]:
        assert list(_csv(path).columns)[:3] == ["email", "phone", "recency_days"], path.name
    customers = _csv(out / "customers.csv")
    expected = pd.Series([demo_email(int(cid)) for cid in customers.index], index=customers.index)
    assert customers["email"].fillna("").tolist() == expected.fillna("").tolist()
    assert customers["phone"].str.startswith("+").mean() > 0.85
    header = next(openpyxl.load_workbook(out / "segments.xlsx", read_only=True).worksheets[1].iter_rows(values_only=True))
    assert header[:3] == ("customer_id", "email", "phone")


def test_map_picks_the_email_column_and_unmaps_the_phone(runs):
    folder, results = runs
    assert results["mapped"].returncode == 0, results["mapped"].stderr
    customers = _csv(folder / "mapped" / "customers.csv")
    assert "phone" not in customers.columns and customers.columns[0] == "email"
    assert customers["email"].dropna().str.endswith("@work.example.com").all()
    assert json.loads((folder / "mapped" / "summary.json").read_text())["mapping"]["email"] == "Work address"


def test_a_file_without_email_or_phone_gives_lists_without_them(runs):
    folder, results = runs
    assert results["score_wholesale"].returncode == 0, results["score_wholesale"].stderr
    customers = _csv(folder / "score_wholesale" / "customers.csv")
    assert "email" not in customers.columns and "phone" not in customers.columns
    assert customers.columns[0] == "recency_days"
