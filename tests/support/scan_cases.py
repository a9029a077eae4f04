"""Files the scanned (DuckDB) and the in-memory readers must read alike: shared by the reading and Spark tests."""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HEADER = "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID,Country"


ROWS = [
    "536365,85123A,6,01/12/2010 08:26,2.55,17850.0,United Kingdom",
    "536365,85123A,6,01/12/2010 08:26,2.55,17850.0,United Kingdom",  # exact duplicate
    "536366,22633,6,13/12/2010 08:28,1.85,17850,United Kingdom",  # 17850 and 17850.0 are one customer
    "C536379,D,-1,14/12/2010 09:41,27.50,14527,United Kingdom",  # cancelled
    "536367,84879,32,01/12/2010 08:34,1.69,,France",  # no customer
    "536368,22960,6,02/12/2010 08:34,0,13047,France",  # zero price
    "536369,21756,three,03/12/2010 08:35,5.95,13047,France",  # quantity as text
    "536370,22728,24,not a date,3.75,12583, France ",  # unparseable date, padded country
    "536371,22727,24,05/12/2010 08:45,£3.75,12583,nan",  # currency symbol; 'nan' country
    "536372,22726,12,06/12/2010 09:00,2.10,12583,EIRE",
    "536373,22725,-4,06/12/2010 09:00,2.10,12583,EIRE",  # negative quantity
]


def csv_text(rows=ROWS, header=HEADER, sep=",", title="") -> str:
    lines = ([title, ""] if title else []) + [header.replace(",", sep)] + [r.replace(",", sep) for r in rows]
    return "\n".join(lines) + "\n"


CSV_CASES = {
    "plain.csv": csv_text().encode(),
    "semicolon_comma_decimal.csv": csv_text(
        [r.replace("2.55", '"2,55"').replace("1.85", '"1,85"') for r in ROWS], sep=";"
    ).replace('"2,55"', "2,55").replace('"1,85"', "1,85").replace(".", ",").replace("£3,75", "£3,75").encode(),
    "tab.tsv": csv_text(sep="\t").encode(),
    "pipe.txt": csv_text(sep="|").encode(),
    "title_rows.csv": csv_text(title="Sales export, all shops").encode(),
    "bom.csv": codecs.BOM_UTF8 + csv_text().encode(),
    "utf16.csv": csv_text().replace("France", "Français").encode("utf-16"),
    "cp1252.csv": csv_text().replace("France", "Française").replace("£", "€").encode("cp1252"),
    "crlf.csv": csv_text().replace("\n", "\r\n").encode(),
    "no_invoice.csv": "\n".join(
        ["Customer,Date,Amount"] + ["A,2024-01-02,10", "B,2024-01-03,5", "A,2024-01-05,7", "A,2024-01-05,7", ",2024-01-06,1"]
    ).encode()
    + b"\n",
    "repeated_headers.csv": b"Customer,Date,Amount,Amount,\nA,2024-01-02,10,1,x\nB,2024-01-03,5,2,y\n",
    "quoted.csv": b'Invoice,Customer,Date,Amount,Note\n1,A,2024-01-02,10,"says ""hi"", twice"\n2,B,2024-01-03,"1,005.50","multi\nline"\n',
}


def typed_frame(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """A Parquet-typed export: float customer ids like UCI's, real timestamps, int quantities, NaN and inf."""
    rng = np.random.default_rng(seed)
    customer = rng.integers(12000, 12400, n).astype("float64")
    customer[rng.random(n) < 0.1] = np.nan
    price = np.round(rng.choice([0.0, 0.85, 1.25, 2.95, 7.5], n), 2)
    price[:3] = [np.nan, np.inf, -1.0]
    invoice = rng.integers(500000, 500900, n).astype(str).astype(object)
    invoice[rng.random(n) < 0.03] = "C" + invoice[rng.random(n) < 0.03][0]
    frame = pd.DataFrame(
        {
            "Invoice": invoice,
            "Quantity": rng.integers(-2, 24, n),
            "InvoiceDate": pd.Timestamp("2010-12-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min"),
            "Price": price,
            "Customer ID": customer,
            "Country": rng.choice(["United Kingdom", "France", " Germany", None], n),
        }
    )
    return pd.concat([frame, frame.iloc[:5]], ignore_index=True)  # a few exact duplicates


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()
