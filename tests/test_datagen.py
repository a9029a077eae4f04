"""devkit/datagen.py: deterministic, exact in size, dirty in the stated shares, heavy-tailed, readable by the pipeline.

Every file is written into pytest's tmp_path (an explicit ``out``), never into the benchmark cache.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from devkit import datagen


@pytest.fixture(autouse=True)
def no_real_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(datagen, "CACHE", tmp_path / "cache")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """50,000 rows in chunks of 20,000 (two full chunks and a short one), as pandas reads the Parquet."""
    return pa.concat_tables(datagen.iter_chunks(50_000, seed=5, chunk_rows=20_000)).to_pandas()


def test_same_seed_gives_the_same_bytes_and_another_seed_other_rows(tmp_path):
    first = datagen.transactions(20_000, "parquet", seed=3, out=tmp_path / "a.parquet", chunk_rows=8_000)
    again = datagen.transactions(20_000, "parquet", seed=3, out=tmp_path / "b.parquet", chunk_rows=8_000)
    other = datagen.transactions(20_000, "parquet", seed=4, out=tmp_path / "c.parquet", chunk_rows=8_000)
    assert first.read_bytes() == again.read_bytes()
    assert pq.read_table(first).equals(pq.read_table(again))
    assert not pq.read_table(first).equals(pq.read_table(other))


@pytest.mark.parametrize("fmt", ["parquet", "parquet-folder", "csv"])
def test_row_count_is_exact(tmp_path, fmt):
    path = datagen.transactions(12_345, fmt, out=tmp_path / f"t.{fmt}", chunk_rows=5_000)
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(frame.columns) == list(datagen.COLUMNS)
        assert len(frame) == 12_345
    else:
        table = pq.read_table(path)
        assert table.schema.equals(datagen.SCHEMA)
        assert table.num_rows == 12_345


def test_folder_holds_one_part_per_chunk_with_the_single_files_rows(tmp_path):
    folder = datagen.transactions(20_000, "parquet-folder", out=tmp_path / "parts", chunk_rows=6_000)
    single = datagen.transactions(20_000, "parquet", out=tmp_path / "one.parquet", chunk_rows=6_000)
    parts = sorted(p.name for p in folder.iterdir())
    assert parts == [f"part-{i:05d}.parquet" for i in range(4)]
    assert pa.concat_tables(pq.read_table(folder / p) for p in parts).equals(pq.read_table(single))


def test_dirty_rows_come_in_about_the_stated_shares(frame):
    cancelled = frame["Invoice"].str.startswith("C")
    assert 0.15 < frame["Customer ID"].isna().mean() < 0.25
    assert 0.01 < cancelled.mean() < 0.03
    assert (frame.loc[cancelled, "Quantity"] < 0).all() and (frame.loc[~cancelled, "Quantity"] > 0).all()
    assert 0.003 < (frame["Price"] <= 0).mean() < 0.01
    assert 0.01 < frame.duplicated().mean() < 0.05
    assert frame["InvoiceDate"].isna().sum() == 3  # one unreadable date per chunk of fewer than 100,000 rows
    dates = frame["InvoiceDate"].dropna()
    assert dates.min() >= pd.Timestamp("2009-12-01") and dates.max() < pd.Timestamp("2011-12-10")
    assert (dates.dt.day_of_week != 5).all()  # no Saturdays, like the UCI data
    assert frame.groupby("Invoice").size().median() > 5  # invoices have several lines


def test_customers_scale_with_rows_and_have_a_heavy_tail():
    table = pa.concat_tables(datagen.iter_chunks(200_000, seed=2, chunk_rows=100_000))
    sales = table.select(["Invoice", "Customer ID"]).to_pandas().dropna()
    sales = sales[~sales["Invoice"].str.startswith(("C", "A"))].drop_duplicates()
    invoices = sales.groupby("Customer ID").size().sort_values(ascending=False)
    assert 200_000 / 70 < len(invoices) < 200_000 / 30
    assert (invoices <= 2).mean() > 0.8  # most buy once or twice
    top = invoices.iloc[: len(invoices) // 100]
    assert top.sum() / invoices.sum() > 0.12  # the top 1% of customers place a large share of invoices
    assert top.iloc[0] > 50


@pytest.mark.slow
def test_csv_is_text_like_the_uci_export_and_the_pipeline_reads_it(tmp_path):
    from rfm.cleaning.analyse import analyse_file

    path = datagen.transactions(20_000, "csv", seed=9, out=tmp_path / "tx.csv", chunk_rows=5_000)
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    ids = text["Customer ID"]
    assert ids[ids != ""].str.fullmatch(r"\d+\.0").all() and (ids == "").mean() > 0.1
    dates = text["InvoiceDate"]
    assert (dates == datagen.BAD_DATE_TEXT).sum() == 4
    assert dates[dates != datagen.BAD_DATE_TEXT].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:00").all()

    analysis = analyse_file(path)
    report = analysis.report
    removed = {line.rule: line.rows for line in report.ledger}
    assert report.rows_read == 20_000 == report.rows_clean + report.rows_removed
    assert removed["unparseable date"] == 4
    assert removed["missing customer id"] > 2_000
    assert removed["cancelled invoice"] > 100
    assert removed["unit price ≤ 0"] > 0
    assert len(analysis.customers) > 100


def test_csv_and_parquet_hold_the_same_rows(tmp_path):
    parquet = pq.read_table(datagen.transactions(3_000, "parquet", out=tmp_path / "t.parquet")).to_pandas()
    csv_path = datagen.transactions(3_000, "csv", out=tmp_path / "t.csv")
    csv = pd.read_csv(csv_path, dtype={"Invoice": str, "StockCode": str})
    np.testing.assert_array_equal(csv["Invoice"], parquet["Invoice"])
    np.testing.assert_allclose(csv["Price"], parquet["Price"])
    np.testing.assert_array_equal(csv["Customer ID"].isna(), parquet["Customer ID"].isna())
    np.testing.assert_allclose(csv["Customer ID"].dropna(), parquet["Customer ID"].dropna())
    parsed = pd.to_datetime(csv["InvoiceDate"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    assert parsed.equals(parquet["InvoiceDate"].astype(parsed.dtype))


def test_the_cache_reuses_a_file_named_after_rows_and_seed(tmp_path):
    path = datagen.transactions(2_000, "parquet", seed=6)
    assert path.parent == tmp_path / "cache" and "2000r_seed6" in path.name
    written = path.stat().st_mtime_ns
    assert datagen.transactions(2_000, "parquet", seed=6) == path
    assert path.stat().st_mtime_ns == written
    assert not list(path.parent.glob(".*tmp*"))  # nothing half-written left behind
