"""Deterministic transactions shaped like UCI "Online Retail II", any number of rows, for benchmarks.

Columns as in the UCI export: ``Invoice, StockCode, Description, Quantity, InvoiceDate, Price,
Customer ID, Country``. In Parquet ``InvoiceDate`` is a timestamp and ``Customer ID`` a float64
(``12346.0``, null when missing) like the UCI frame; in CSV every value is text like the UCI CSV export
(``2009-12-01 07:45:00``, ``12346.0``, empty when missing).

What the rows look like:

* customers: about ``rows / 45`` of them buy (from a pool of ``rows / 10``, at most 5 million), each with a
  Pareto-distributed activity (capped), so ~90% buy once or twice, the top 1% place ~20% of the invoices, and
  at 10 million rows a few hundred customers place 100 to 300 invoices each;
* invoices of ~17 lines (log-normal, up to 600), dated 2009-12-01..2011-12-09, 07:00-20:00, no Saturdays;
  rows come in date order, like the real export;
* dirty rows, in about the UCI shares: cancelled invoices (``C`` + number, negative quantities; ~17% of
  invoice numbers but ~2% of rows), no customer id (~20% of invoices and rows), zero prices (~0.5% of rows),
  bad-debt adjustments with a negative price (``A`` invoices, rare), exact duplicate lines (2% of the rows are
  copies of the line before, ~3% duplicates in all) and a few unreadable dates (one per 100,000 rows, at least
  one per chunk: ``not a date`` in CSV, null in Parquet).

Rows are generated in chunks of ``chunk_rows`` (default 1,000,000), each from its own random stream
``np.random.default_rng([seed, chunk_index])`` and its own slice of the date range, and streamed to disk, so
memory stays bounded (about 0.5 GiB) whatever the size; 50 million rows of Parquet take ~40 s on 2 cores. The
same ``rows``, ``seed`` and ``chunk_rows`` give the same bytes every run (with the same pyarrow).

Files go to ``$RFM_BENCH_CACHE`` or ``~/.cache/rfm-studio`` (outside git), named after rows and seed, and an
existing file is reused; ``--out`` writes elsewhere (always regenerated).

    python devkit/datagen.py --rows 10000000 --format parquet           # prints the path
    python devkit/datagen.py --rows 50000000 --format parquet-folder     # part-00000.parquet, ...
    python devkit/datagen.py --rows 1000000 --format csv --seed 3 --out /tmp/tx.csv
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

VERSION = 2  # part of the cache names: bump it whenever the generated rows change
CACHE = Path(os.environ.get("RFM_BENCH_CACHE", Path.home() / ".cache" / "rfm-studio"))
FORMATS = ("parquet", "parquet-folder", "csv")
DEFAULT_SEED = 1
CHUNK_ROWS = 1_000_000
COLUMNS = ("Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country")
SCHEMA = pa.schema(
    [
        ("Invoice", pa.string()),
        ("StockCode", pa.string()),
        ("Description", pa.string()),
        ("Quantity", pa.int64()),
        ("InvoiceDate", pa.timestamp("us")),
        ("Price", pa.float64()),
        ("Customer ID", pa.float64()),
        ("Country", pa.string()),
    ]
)
CSV_SCHEMA = pa.schema([(name, pa.int64() if name == "Quantity" else pa.string()) for name in COLUMNS])

# Shares of the dirty rows (see the module docstring).
CANCELLED_INVOICE_SHARE = 0.17
ADJUSTMENT_INVOICE_SHARE = 0.0005
MISSING_CUSTOMER_SHARE = 0.20
ZERO_PRICE_SHARE = 0.005
DUPLICATE_SHARE = 0.02
ROWS_PER_BAD_DATE = 100_000
BAD_DATE_TEXT = "not a date"

# Customers: a pool of rows / 10 (capped), Pareto activity with this shape, capped so that the busiest
# customer's share of the invoices does not depend on the size of the file. About 20% of the pool buys.
ROWS_PER_POOL_CUSTOMER = 10
MAX_POOL = 5_000_000
PARETO_SHAPE = 1.3
MAX_ACTIVITY = 3_000
FIRST_CUSTOMER_ID = 12346
FIRST_INVOICE_NUMBER = 489434

FIRST_DAY = np.datetime64("2009-12-01", "D")
LAST_DAY = np.datetime64("2011-12-09", "D")
OPEN_MINUTE, MINUTES_OPEN = 7 * 60, 13 * 60  # 07:00-20:00

COUNTRIES = (
    ("United Kingdom", 880), ("Germany", 20), ("France", 16), ("EIRE", 15), ("Netherlands", 8), ("Spain", 7),
    ("Belgium", 6), ("Switzerland", 5), ("Portugal", 5), ("Australia", 4), ("Norway", 3), ("Italy", 3),
    ("Channel Islands", 3), ("Finland", 3), ("Cyprus", 2), ("Sweden", 2), ("Denmark", 2), ("Austria", 2),
    ("Japan", 2), ("Poland", 2), ("USA", 2), ("Israel", 1), ("Greece", 1), ("Canada", 1), ("Singapore", 1),
    ("Iceland", 1), ("Unspecified", 1),
)  # fmt: skip
QUANTITIES = np.array([1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 25, 36, 48, 72, 96, 144, 288])
QUANTITY_WEIGHTS = np.array([20, 14, 6, 8, 12, 4, 3, 15, 2, 7, 2, 1, 2, 1, 1, 1, 0.3])
PRICE_POINTS = np.array(
    [0.21, 0.29, 0.39, 0.42, 0.55, 0.65, 0.72, 0.85, 1.25, 1.45, 1.65, 1.95, 2.1, 2.55, 2.95, 3.25, 3.75,
     4.25, 4.95, 5.95, 6.75, 7.95, 8.5, 9.95, 12.75, 14.95, 16.95, 24.95]
)  # fmt: skip
N_PRODUCTS = 4_000
_WORDS = (
    ("RED", "PINK", "BLUE", "WHITE", "IVORY", "GREEN", "VINTAGE", "RETRO", "JUMBO", "SMALL", "LARGE", "SET OF 3",
     "PACK OF 12", "GLASS", "WOODEN", "ZINC", "HANGING", "HEART", "REGENCY", "PAPER"),
    ("RETROSPOT", "POLKADOT", "PAISLEY", "SPACEBOY", "DOLLY GIRL", "STRAWBERRY", "BIRD", "CHRISTMAS", "ROSE",
     "SKULL", "STAR", "LOVE", "FLOWER", "GINGHAM", "BAROQUE", "ALPHABET"),
    ("LUNCH BAG", "CAKE CASES", "MUG", "T-LIGHT HOLDER", "JAM JAR", "BUNTING", "DOORMAT", "TEA TOWEL", "CANDLE",
     "STORAGE TIN", "NAPKINS", "CHOPSTICKS", "PICTURE FRAME", "HOT WATER BOTTLE", "SHOPPER BAG", "CLOCK"),
)  # fmt: skip
_NORMAL, _CANCELLED, _ADJUSTMENT = 0, 1, 2


# --- what is generated once per file: business minutes, products, customers ---------------------------


@dataclass(frozen=True)
class Population:
    """The fixed part of a file: the calendar, the product catalogue and the customer pool."""

    days: np.ndarray  # day offsets from FIRST_DAY that are open (no Saturdays)
    stock_codes: pa.Array  # one per product; the last one is the bad-debt line "B"
    descriptions: pa.Array
    product_price: np.ndarray
    product_cdf: np.ndarray  # cumulative popularity of the products (not the "B" line)
    customer_cdf: np.ndarray  # cumulative activity of the pool's customers
    customer_country: np.ndarray  # index into COUNTRIES
    countries: pa.Array
    country_cdf: np.ndarray

    @property
    def business_minutes(self) -> int:
        return len(self.days) * MINUTES_OPEN


def pool_size(rows: int) -> int:
    """Customers in the pool for a file of ``rows`` rows (about 20% of them make a purchase)."""
    return int(np.clip(rows // ROWS_PER_POOL_CUSTOMER, 50, MAX_POOL))


def make_population(rows: int, seed: int) -> Population:
    rng = np.random.default_rng([seed, 2**40])  # a stream no chunk uses
    all_days = np.arange((LAST_DAY - FIRST_DAY).astype(int) + 1)
    weekday = (all_days + 1) % 7  # 2009-12-01 was a Tuesday; 0 = Monday
    days = all_days[weekday != 5]

    codes = np.sort(rng.choice(np.arange(10_002, 90_000), N_PRODUCTS, replace=False)).astype(str)
    suffix = np.where(rng.random(N_PRODUCTS) < 0.12, rng.choice(list("ABCDEFGLNPRSW"), N_PRODUCTS), "")
    picks = [rng.integers(0, len(words), N_PRODUCTS) for words in _WORDS]
    descriptions = [" ".join(_WORDS[w][p[i]] for w, p in enumerate(picks)) for i in range(N_PRODUCTS)]
    popularity = 1 / np.arange(1, N_PRODUCTS + 1) ** 0.8
    price_weights = 1 / np.arange(1, len(PRICE_POINTS) + 1) ** 0.5
    product_price = rng.choice(PRICE_POINTS, N_PRODUCTS, p=price_weights / price_weights.sum())

    n_customers = pool_size(rows)
    activity = np.minimum(rng.pareto(PARETO_SHAPE, n_customers) + 1, MAX_ACTIVITY)
    country_weights = np.array([w for _, w in COUNTRIES], dtype=float)
    country_cdf = np.cumsum(country_weights) / country_weights.sum()
    return Population(
        days=days,
        stock_codes=pa.array([*np.char.add(codes, suffix).tolist(), "B"]),
        descriptions=pa.array([*descriptions, "Adjust bad debt"]),
        product_price=np.append(product_price, 0.0),
        product_cdf=_cdf(rng.permutation(popularity)),
        customer_cdf=_cdf(activity),
        customer_country=_draw(rng, country_cdf, n_customers),
        countries=pa.array([name for name, _ in COUNTRIES]),
        country_cdf=country_cdf,
    )


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, dtype=float)
    return cdf / cdf[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn with the probabilities behind ``cdf`` (much faster than ``rng.choice(p=...)``)."""
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


# --- one chunk -------------------------------------------------------------------------------------------


def chunk_count(rows: int, chunk_rows: int = CHUNK_ROWS) -> int:
    return max(1, -(-rows // chunk_rows))


def _invoice_lines(rng: np.random.Generator, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Kind and line count of each invoice, the line counts summing to exactly ``n_rows``."""
    kinds, lines, total = [], [], 0
    while total < n_rows:
        size = (n_rows - total) // 15 + 16
        u = rng.random(size)
        kind = np.where(u < CANCELLED_INVOICE_SHARE, _CANCELLED, _NORMAL)
        kind[u > 1 - ADJUSTMENT_INVOICE_SHARE] = _ADJUSTMENT
        normal = np.clip(np.ceil(rng.lognormal(np.log(13), 0.9, size)), 1, 600)
        cancelled = np.minimum(rng.geometric(0.55, size), 50)
        count = np.select([kind == _NORMAL, kind == _CANCELLED], [normal, cancelled], 1).astype(np.int64)
        kinds.append(kind)
        lines.append(count)
        total += int(count.sum())
    kind, count = np.concatenate(kinds), np.concatenate(lines)
    ends = np.cumsum(count)
    last = int(np.searchsorted(ends, n_rows))  # the invoice that reaches n_rows
    count = count[: last + 1].copy()
    count[last] -= ends[last] - n_rows
    return kind[: last + 1], count


def generate_chunk(population: Population, rows: int, seed: int, index: int, chunk_rows: int = CHUNK_ROWS) -> pa.Table:
    """Rows ``index * chunk_rows ..`` of the file (at most ``chunk_rows``), as an Arrow table in ``SCHEMA``."""
    first_row = index * chunk_rows
    n = min(chunk_rows, rows - first_row)
    rng = np.random.default_rng([seed, index])
    kind, lines = _invoice_lines(rng, n)
    n_invoices = len(kind)
    invoice_of_line = np.repeat(np.arange(n_invoices), lines)

    # Invoices: number, customer, country, time (this chunk's slice of the business minutes, in order).
    # Numbers start at the chunk's first row: a chunk has fewer invoices than rows, so they never collide.
    numbers = pa.array(FIRST_INVOICE_NUMBER + first_row + np.arange(n_invoices)).cast(pa.string())
    prefix = pa.array(np.array(["", "C", "A"])[kind])
    invoice_ids = pc.binary_join_element_wise(prefix, numbers, "")
    customer = _draw(rng, population.customer_cdf, n_invoices)
    missing = (rng.random(n_invoices) < MISSING_CUSTOMER_SHARE) | (kind == _ADJUSTMENT)
    country = np.where(missing, _draw(rng, population.country_cdf, n_invoices), population.customer_country[customer])
    customer_id = np.where(missing, np.nan, (FIRST_CUSTOMER_ID + customer).astype(np.float64))
    low = population.business_minutes * first_row // rows
    high = max(low + 1, population.business_minutes * (first_row + n) // rows)
    minute = np.sort(rng.integers(low, high, n_invoices))
    day = population.days[minute // MINUTES_OPEN]
    when = (FIRST_DAY + day).astype("datetime64[m]") + (OPEN_MINUTE + minute % MINUTES_OPEN)

    # Lines: product, quantity, price; then the cancellations, adjustments, zero prices and duplicates.
    line_kind = kind[invoice_of_line]
    product = _draw(rng, population.product_cdf, n)
    quantity = QUANTITIES[_draw(rng, _cdf(QUANTITY_WEIGHTS), n)]
    price = population.product_price[product]
    price = np.where(rng.random(n) < ZERO_PRICE_SHARE, 0.0, price)
    quantity = np.where(line_kind == _CANCELLED, -quantity, quantity)
    adjustment = line_kind == _ADJUSTMENT
    product[adjustment] = len(population.product_price) - 1
    quantity[adjustment] = 1
    price[adjustment] = -np.round(rng.lognormal(7, 1, int(adjustment.sum())), 2)
    duplicate = rng.random(n) < DUPLICATE_SHARE
    duplicate[0] = False
    duplicate[1:] &= invoice_of_line[1:] == invoice_of_line[:-1]  # a line repeated within its invoice
    duplicate[1:] &= ~duplicate[:-1]  # never a copy of a copy, so every copy is exact
    source = np.flatnonzero(duplicate) - 1
    product[duplicate], quantity[duplicate], price[duplicate] = product[source], quantity[source], price[source]

    dates = pa.array(when[invoice_of_line].astype("datetime64[us]"))
    bad_date = np.zeros(n, dtype=bool)
    bad_date[rng.choice(n, max(1, n // ROWS_PER_BAD_DATE), replace=False)] = True
    dates = pc.if_else(pa.array(bad_date), pa.scalar(None, pa.timestamp("us")), dates)
    product_arrow = pa.array(product)
    return pa.table(
        [
            invoice_ids.take(pa.array(invoice_of_line)),
            population.stock_codes.take(product_arrow),
            population.descriptions.take(product_arrow),
            pa.array(quantity.astype(np.int64)),
            dates,
            pa.array(price),
            pa.array(customer_id[invoice_of_line], from_pandas=True),  # NaN -> null
            population.countries.take(pa.array(country[invoice_of_line])),
        ],
        schema=SCHEMA,
    )


def iter_chunks(rows: int, seed: int = DEFAULT_SEED, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Every chunk of the file in order (Parquet types)."""
    if rows < 1 or chunk_rows < 1:
        raise ValueError(f"rows={rows} and chunk_rows={chunk_rows} should be >= 1")
    population = make_population(rows, seed)
    for index in range(chunk_count(rows, chunk_rows)):
        yield generate_chunk(population, rows, seed, index, chunk_rows)


def as_csv_text(table: pa.Table) -> pa.Table:
    """The chunk as the UCI CSV export writes it: ``2009-12-01 07:45:00``, ``12346.0``, ``not a date``."""
    # Format each distinct time once: strftime on every row costs 2 s per million rows, this 0.1 s.
    encoded = pc.dictionary_encode(table["InvoiceDate"]).combine_chunks()
    distinct = pc.strftime(encoded.dictionary.cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
    dates = distinct.take(encoded.indices)
    customers = table["Customer ID"].cast(pa.int64()).cast(pa.string())
    columns = {
        "Invoice": table["Invoice"],
        "StockCode": table["StockCode"],
        "Description": table["Description"],
        "Quantity": table["Quantity"],
        "InvoiceDate": pc.fill_null(dates, BAD_DATE_TEXT),
        "Price": table["Price"].cast(pa.string()),
        "Customer ID": pc.binary_join_element_wise(customers, pa.scalar(".0"), ""),  # null stays null: empty
        "Country": table["Country"],
    }
    return pa.table(columns, schema=CSV_SCHEMA)


# --- files -------------------------------------------------------------------------------------------------


def cache_path(rows: int, fmt: str = "parquet", seed: int = DEFAULT_SEED, chunk_rows: int = CHUNK_ROWS) -> Path:
    """Where the cache keeps a file: the name carries rows, seed and the generator's version."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r} should be one of {', '.join(FORMATS)}")
    chunks = "" if chunk_rows == CHUNK_ROWS else f"_chunk{chunk_rows}"
    stem = f"online_retail_ii_shape_{rows}r_seed{seed}{chunks}_v{VERSION}"
    return CACHE / (stem + {"parquet": ".parquet", "parquet-folder": "_parts", "csv": ".csv"}[fmt])


def write_transactions(
    path: Path, rows: int, fmt: str = "parquet", seed: int = DEFAULT_SEED, chunk_rows: int = CHUNK_ROWS
) -> Path:
    """Generate ``rows`` rows into ``path`` (a file, or a folder of ``part-NNNNN.parquet``, one per chunk).

    Written under a temporary name and renamed at the end, so an interrupted run never leaves a file that
    looks complete. Returns ``path``.
    """
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if fmt not in FORMATS:
        raise ValueError(f"fmt={fmt!r} should be one of {', '.join(FORMATS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    chunks = iter_chunks(rows, seed, chunk_rows)
    if fmt == "parquet-folder":
        tmp.mkdir()
        for index, table in enumerate(chunks):
            pq.write_table(table, tmp / f"part-{index:05d}.parquet", row_group_size=chunk_rows)
    elif fmt == "parquet":
        with pq.ParquetWriter(tmp, SCHEMA) as writer:
            for table in chunks:
                writer.write_table(table, row_group_size=chunk_rows)
    else:
        with open(tmp, "wb") as sink:
            sink.write((",".join(COLUMNS) + "\n").encode())
            # Unquoted like the UCI export: no generated value holds a comma or a quote.
            options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
            with pa_csv.CSVWriter(sink, CSV_SCHEMA, write_options=options) as writer:
                for table in chunks:
                    writer.write_table(as_csv_text(table))
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists() and tmp.is_dir():
        path.unlink()
    os.replace(tmp, path)
    return path


def transactions(
    rows: int,
    fmt: str = "parquet",
    seed: int = DEFAULT_SEED,
    out: Path | str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    force: bool = False,
) -> Path:
    """The path of a generated file: the cached one if it exists (unless ``force``), else a new one.

    With ``out`` the file is always written there (never reused, never in the cache).
    """
    if out is None:
        path = cache_path(rows, fmt, seed, chunk_rows)
        if path.exists() and not force:
            return path
    else:
        path = Path(out)
    return write_transactions(path, rows, fmt, seed, chunk_rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--format", choices=FORMATS, default="parquet")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, help="write here instead of the cache (always regenerated)")
    parser.add_argument(
        "--chunk-rows", type=int, default=CHUNK_ROWS, help="rows per chunk (and per part file); changes the data"
    )
    parser.add_argument("--force", action="store_true", help="regenerate even if the cached file exists")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.chunk_rows < 1:
        parser.error(f"--rows={args.rows} and --chunk-rows={args.chunk_rows} should be >= 1")
    cached = args.out is None and not args.force
    cached = cached and cache_path(args.rows, args.format, args.seed, args.chunk_rows).exists()
    started = time.perf_counter()
    path = transactions(args.rows, args.format, args.seed, args.out, args.chunk_rows, args.force)
    what = "reused" if cached else f"generated in {time.perf_counter() - started:.1f} s:"
    print(f"{what} {args.rows:,} rows, {_size_of(path) / 2**20:,.0f} MiB", file=sys.stderr)
    print(path)


def _size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size


if __name__ == "__main__":
    main()
