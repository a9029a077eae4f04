"""The line value is one definition (:func:`rfm.cleaning.ledger.line_value`) and every path gives the same figure.

Three paths compute it: the in-memory one (:func:`typed_transactions`, on pandas), the engine's
(:func:`typed_relation`, on a scanned file, whether the engine types the numbers itself or the parser's
lookups do) and the warehouse SQL (:func:`rfm.cleaning.sql.source_table`). On tiny hand-made rows with
awkward values, each must give exactly the float product (or the amount), unrounded, and a missing
value must be NULL in the engine on every path, never NaN.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning import engine
from rfm.cleaning.ledger import line_value, typed_relation, typed_transactions
from rfm.cleaning.sql import source_table, sql_mapping
from rfm.reading.files import read_transactions
from rfm.reading.scan import ScannedTable, scan
from rfm.schema import ColumnMapping

# (quantity, unit price) as Python floats, and the line value each must give: Python's own float product.
QUANTITY_PRICE = [
    (2.0, 0.1, 2 * 0.1),
    (-3.0, 2.55, -3 * 2.55),  # negative quantity (a return); -7.6499999999999995, not -7.65: nothing is rounded
    (7.0, 1.2345678901234567, 7 * 1.2345678901234567),  # a price with every decimal a double holds
    (3.0, 0.0, 0.0),  # zero price
    (-4.0, 0.0, -0.0),  # negative quantity at zero price
    (0.5, 0.3333333333333333, 0.5 * 0.3333333333333333),  # a fractional quantity
    (12.0, 0.0000001, 12 * 0.0000001),  # a tiny price
    (None, 4.5, None),  # quantity missing: so is the line value
    (1e200, 1e200, math.inf),  # finite factors whose product overflows (the "line value too large" rule's case)
]
# Amounts, and the line value each must give: the amount itself.
AMOUNTS = [(10.5, 10.5), (-3.0, -3.0), (0.1234567891234567, 0.1234567891234567), (0.0, 0.0), (None, None)]

FILE_MAPPING = ColumnMapping(customer_id="Customer ID", invoice_id="Invoice", invoice_date="InvoiceDate", quantity="Quantity", unit_price="Price")
AMOUNT_MAPPING = ColumnMapping(customer_id="Customer ID", invoice_id="Invoice", invoice_date="InvoiceDate", amount="Amount")


def _file_frame(uses_amount: bool) -> pd.DataFrame:
    """The rows as a file holds them, one invoice per row, in order."""
    rows = AMOUNTS if uses_amount else QUANTITY_PRICE
    frame = pd.DataFrame(
        {
            "Invoice": [str(1000 + i) for i in range(len(rows))],
            "Customer ID": ["AB"[i % 2] for i in range(len(rows))],
            "InvoiceDate": pd.date_range("2024-01-01 10:00", periods=len(rows), freq="D"),
        }
    )
    if uses_amount:
        frame["Amount"] = [amount for amount, _ in rows]
    else:
        frame["Quantity"] = [quantity for quantity, _, _ in rows]
        frame["Price"] = [price for _, price, _ in rows]
    return frame.astype({c: "float64" for c in ("Amount", "Quantity", "Price") if c in frame})


def _expected(uses_amount: bool) -> list[float | None]:
    return [value for *_, value in (AMOUNTS if uses_amount else QUANTITY_PRICE)]


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers as text (missing: None): repr() writes the shortest text that reads back as the same double."""
    numbers = frame.select_dtypes("float64").columns
    return frame.assign(**{c: [repr(v) if pd.notna(v) else None for v in frame[c]] for c in numbers})


def _parquet_file(frame: pd.DataFrame, path: Path) -> str:
    frame.to_parquet(path, index=False)
    return str(path)


def _in_engine(table: ibis.Table) -> list[float | None]:
    """Line values as the engine holds them, in file order: ``None`` for NULL, so NaN would show as NaN."""
    value = table[schema.LINE_VALUE]
    rows = table.order_by(schema.ROW).select(value.isnull().name("missing"), value.name("value")).to_pandas()
    return [None if missing else float(number) for missing, number in zip(rows["missing"], rows["value"])]


def _in_memory(data: bytes, mapping: ColumnMapping) -> list[float | None]:
    frame, _, _ = typed_transactions(read_transactions(data, "lines.csv"), mapping)
    return _in_engine(engine.load_frame(engine.connect(), frame))  # the pipeline hands the frame over as Arrow


def _scanned(path: str, mapping: ColumnMapping) -> list[float | None]:
    raw = scan(path)
    assert isinstance(raw, ScannedTable)
    connection = raw.connect()
    table, _, _ = typed_relation(raw, mapping, "auto", connection)
    return _in_engine(table)


def _warehouse(frame: pd.DataFrame, uses_amount: bool) -> list[float | None]:
    """The warehouse SQL, as printed for a user, run on a DuckDB table of typed columns."""
    renamed = {"Invoice": schema.INVOICE_ID, "Customer ID": schema.CUSTOMER_ID, "InvoiceDate": schema.INVOICE_DATE}
    renamed |= {"Amount": schema.AMOUNT, "Quantity": schema.QUANTITY, "Price": schema.UNIT_PRICE}
    connection = duckdb.connect()
    connection.register("typed_rows", frame.rename(columns=renamed))
    connection.execute("CREATE TABLE transactions AS SELECT * FROM typed_rows")
    source = source_table(sql_mapping({schema.AMOUNT: schema.AMOUNT} if uses_amount else {}))
    value = source[schema.LINE_VALUE]
    query = source.order_by(schema.INVOICE_ID).select(value.isnull().name("missing"), value.name("value"))
    rows = connection.execute(ibis.to_sql(query, dialect="duckdb")).df()
    return [None if missing else float(number) for missing, number in zip(rows["missing"], rows["value"])]


@pytest.mark.parametrize("uses_amount", [False, True], ids=["quantity×price", "amount"])
def test_every_path_gives_the_same_line_values(tmp_path, uses_amount):
    frame = _file_frame(uses_amount)
    mapping = AMOUNT_MAPPING if uses_amount else FILE_MAPPING
    csv_path = tmp_path / "lines.csv"
    csv_path.write_bytes(_as_text(frame).to_csv(index=False).encode())
    paths = {
        "in memory (pandas)": _in_memory(csv_path.read_bytes(), mapping),
        "scanned CSV (engine; numbers typed by the parser, joined back)": _scanned(str(csv_path), mapping),
        "scanned Parquet of numbers (engine; cast)": _scanned(_parquet_file(frame, tmp_path / "typed.parquet"), mapping),
        "scanned Parquet of text (engine; parser lookups)": _scanned(_parquet_file(_as_text(frame), tmp_path / "text.parquet"), mapping),
        "warehouse SQL": _warehouse(frame, uses_amount),
    }
    expected = _expected(uses_amount)
    # Equal to the last bit (a NaN would differ from everything); -0.0 == 0.0, as in every sum of line values.
    wrong = {path: values for path, values in paths.items() if values != expected}
    assert wrong == {}, f"expected {expected}"


def test_line_value_is_one_formula_for_pandas_and_ibis():
    """The same function, on a pandas frame and on ibis columns, gives the same numbers."""
    frame = pd.DataFrame(
        {
            schema.QUANTITY: [q for q, _, _ in QUANTITY_PRICE],
            schema.UNIT_PRICE: [p for _, p, _ in QUANTITY_PRICE],
            schema.AMOUNT: np.nan,
        }
    ).astype("float64")
    on_pandas = line_value(FILE_MAPPING, frame)
    table = ibis.memtable(frame)
    on_ibis = table.select(line_value(FILE_MAPPING, table).name("value")).to_pandas()["value"]
    np.testing.assert_array_equal(on_pandas.to_numpy(), on_ibis.to_numpy())
    pd.testing.assert_series_equal(line_value(AMOUNT_MAPPING, frame), frame[schema.AMOUNT])
