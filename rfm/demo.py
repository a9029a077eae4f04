"""Deterministic demo transactions shaped like the UCI "Online Retail II" workbook.

The demo lets people try RFM Studio without their own export. It mimics the
public UCI dataset closely enough to exercise the whole pipeline: the same
columns and cell types, the same two overlapping yearly sheets, and the dirt a
real shop export carries (anonymous invoices, cancellations, stock
adjustments, free items, postage lines and duplicated rows). Customers come
from a few behaviour groups of unequal size, so that clustering on recency,
frequency and monetary value has real structure to find.

Run ``python -m rfm demo`` (or ``rfm demo``) to regenerate ``data/demo_online_retail.xlsx``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DEMO_PATH = Path(__file__).resolve().parent.parent / "data" / "demo_online_retail.xlsx"
"""Where the committed demo workbook lives (``data/`` at the repository root)."""

COLUMNS = (
    "Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country", "Email", "Phone"
)
"""The columns of the UCI Online Retail II sheets, in their order, then a synthetic email and phone per customer."""

SHEETS = {
    "Year 2009-2010": ("2009-12-01", "2010-12-09"),
    "Year 2010-2011": ("2010-12-01", "2011-12-09"),
}
"""Sheet name -> first and last invoice day (inclusive). UCI's sheets overlap on 2010-12-01..09."""

FIRST_INVOICE_NUMBER = 489434  # the first invoice of UCI Online Retail II
FIRST_CUSTOMER_ID = 12346  # UCI ids run 12346..18287, so ids are drawn from 5942 numbers
CUSTOMER_ID_SPAN = 5942
CATALOGUE_SIZE = 400
HOME_COUNTRY = "United Kingdom"

# Shares of the sales lines; they set the dirt rates of the generated frame.
ANONYMOUS_ROW_SHARE = 0.17  # whole invoices without a customer, like guest checkouts
CANCELLED_ROW_SHARE = 0.02  # lines reversed later on a "C" invoice
WRITE_OFF_ROW_SHARE = 0.0008  # stock write-offs booked as plain invoices with negative quantity
ZERO_PRICE_ROW_SHARE = 0.0025  # free items; write-offs are priced 0 as well
DUPLICATE_ROW_SHARE = 0.01  # the export repeats some lines verbatim
POSTAGE_SHARE = 0.5  # share of foreign invoices carrying a postage line
ANONYMOUS_EXTRA_LINES = 9.0  # guest baskets are big: mean lines beyond the first


@dataclass(frozen=True)
class Segment:
    """One behaviour group of customers.

    Day ranges count back from the last day of the period and are inclusive.
    """

    name: str
    share: float
    extra_orders: float  # mean number of orders beyond the first (Poisson)
    recency_days: tuple[int, int]  # the last order falls this many days before the end
    tenure_days: tuple[int, int]  # the first order falls this many days before the last one
    extra_lines: float  # mean basket lines beyond the first
    pack_multiplier: int  # wholesale buyers order whole cartons


SEGMENTS = (
    Segment("champions", 0.10, 9.0, (0, 20), (450, 740), 2.5, 2),
    Segment("loyal", 0.22, 3.5, (5, 90), (300, 740), 2.5, 1),
    Segment("new", 0.12, 0.4, (0, 40), (0, 20), 2.5, 1),
    Segment("at_risk", 0.16, 3.5, (180, 270), (250, 500), 2.5, 1),
    Segment("hibernating", 0.394, 0.3, (270, 735), (0, 60), 2.0, 1),
    Segment("wholesale", 0.006, 14.0, (0, 30), (500, 740), 8.0, 12),
)
"""The behaviour groups; shares sum to 1 and the last one is the outlier group."""

_COUNTRY_WEIGHTS = {
    "United Kingdom": 0.885, "Germany": 0.025, "France": 0.022, "Spain": 0.010, "Belgium": 0.008,
    "Switzerland": 0.007, "Portugal": 0.007, "EIRE": 0.006, "Netherlands": 0.005, "Italy": 0.005,
    "Australia": 0.004, "Channel Islands": 0.004, "Norway": 0.003, "Sweden": 0.003, "Denmark": 0.003,
}
# The biggest UCI accounts are Irish and Dutch wholesalers.
_WHOLESALE_COUNTRY_WEIGHTS = {
    "United Kingdom": 0.4, "EIRE": 0.2, "Netherlands": 0.2, "Germany": 0.1, "France": 0.1,
}
_ANONYMOUS_HOME_SHARE = 0.97

# Every customer id ending in this digit has no email, and every one ending in the other no phone: a tenth each.
NO_EMAIL_DIGIT, NO_PHONE_DIGIT = 0, 5
# Each country's phone number from a customer id's last digits, in ranges set aside for fiction where the
# regulator has one (Ofcom's 07700 900xxx, the Bundesnetzagentur's 030 23125 xxx, ARCEP's 06 39 98 xx xx, ACMA's
# 03 5550 xxxx); elsewhere a made-up 555 block under the country's code: fictional, but not a reserved range.
_PHONE_FORMATS = {
    "United Kingdom": "+44 7700 900{n:03d}", "Channel Islands": "+44 7700 900{n:03d}",
    "Germany": "+49 30 23125 {n:03d}", "France": "+33 6 39 98 {h:02d} {t:02d}", "Australia": "+61 3 5550 {n4:04d}",
    "Spain": "+34 555 {n4:04d}", "Belgium": "+32 555 {n4:04d}", "Switzerland": "+41 555 {n4:04d}",
    "Portugal": "+351 555 {n4:04d}", "EIRE": "+353 555 {n4:04d}", "Netherlands": "+31 555 {n4:04d}",
    "Italy": "+39 555 {n4:04d}", "Norway": "+47 555 {n4:04d}", "Sweden": "+46 555 {n4:04d}",
    "Denmark": "+45 555 {n4:04d}",
}

# Orders peak before Christmas; the shop is shut on Saturdays and over the holidays.
_MONTH_WEIGHTS = np.array([0.7, 0.7, 0.85, 0.8, 0.9, 0.9, 0.9, 0.9, 1.2, 1.4, 1.7, 1.0])
_WEEKDAY_WEIGHTS = np.array([1.0, 1.05, 1.05, 1.15, 0.85, 0.0, 0.7])
_HOUR_WEIGHTS = {
    7: 2, 8: 6, 9: 10, 10: 12, 11: 14, 12: 14, 13: 13, 14: 11, 15: 8, 16: 5, 17: 3, 18: 1, 19: 1,
}

_COLOURS = ("RED", "PINK", "WHITE", "BLUE", "GREEN", "IVORY", "CREAM", "BLACK", "SILVER", "GOLD",
            "PASTEL", "VINTAGE", "ANTIQUE", "RETRO")
_MOTIFS = ("RETROSPOT", "SPACEBOY", "DOLLY GIRL", "WOODLAND", "REGENCY", "HANGING HEART", "ENGLISH ROSE",
           "POLKADOT", "PAISLEY", "STRAWBERRY", "JAM MAKING", "CHRISTMAS", "BIRDHOUSE", "SKULL", "OWL",
           "SWALLOW", "CIRCUS PARADE", "LOVEBIRD", "FLORAL", "BUTTERFLY", "PARTY", "GINGHAM", "RABBIT",
           "STAR")
_ITEM_PRICES = {  # typical unit price in GBP
    "T-LIGHT HOLDER": 2.95, "LUNCH BAG": 1.65, "JUMBO BAG": 1.95, "CAKE CASES": 0.55, "MUG": 1.25,
    "TEACUP AND SAUCER": 2.95, "CANDLE": 1.25, "PHOTO FRAME": 2.55, "NOTEBOOK": 1.65,
    "HOT WATER BOTTLE": 4.95, "DOORSTOP": 4.25, "BUNTING": 4.95, "CAKESTAND": 9.95, "TEA TOWEL": 1.25,
    "CUSHION COVER": 3.75, "WRAPPING PAPER": 0.42, "CHARLOTTE BAG": 0.85, "COAT RACK": 7.95,
    "MEMO BOARD": 4.95, "STORAGE TIN": 3.75, "PAPER NAPKINS": 0.85, "CHILDRENS APRON": 1.95,
    "KEY RING": 0.65, "LANTERN": 6.75, "PURSE": 2.10, "PENCILS": 0.29, "PAPER PLATES": 0.85,
    "BOWL": 1.25, "BAKING SET": 4.95, "DOOR MAT": 7.95, "WALL CLOCK": 8.50, "ALARM CLOCK": 3.75,
    "NIGHT LIGHT": 2.10, "GARLAND": 1.65, "HANGING DECORATION": 0.42, "GIFT BOX": 1.25,
    "SNACK BOX": 2.10, "WATER BOTTLE": 2.55, "PHOTO ALBUM": 4.95, "RIBBONS": 1.65, "STICKERS": 0.85,
    "PLASTERS IN TIN": 1.65, "SHOPPING BAG": 1.25, "PICNIC BASKET": 9.95, "METAL SIGN": 2.95,
}
_PRICE_POINTS = np.array([0.19, 0.29, 0.39, 0.42, 0.55, 0.65, 0.72, 0.85, 0.95, 1.25, 1.45, 1.65, 1.95,
                          2.10, 2.46, 2.55, 2.95, 3.25, 3.75, 4.25, 4.95, 5.95, 6.75, 7.95, 8.50, 9.95,
                          10.95, 12.75, 14.95, 16.95])
_STOCK_CODE_SUFFIXES = list("ABCDEFGLNPSW")
_POSTAGE = ("POST", "POSTAGE", 18.0)
_WRITE_OFF_REASONS = ("damaged", "damages", "check", "missing", "wet damaged", "thrown away", "?",
                      "smashed", "sold as set on dotcom", "mouldy, thrown away.")
# Cheap items go by the dozen, dear ones one at a time: (upper price bound, pack sizes, weights).
_PACK_SIZES_BY_PRICE = (
    (1.0, (6, 10, 12, 24, 25, 48, 72, 96), (2, 2, 5, 4, 1, 2, 1, 1)),
    (5.0, (1, 2, 3, 4, 6, 8, 12, 24), (3, 4, 3, 4, 5, 2, 3, 1)),
    (np.inf, (1, 2, 3, 4, 6), (5, 4, 2, 2, 1)),
)
_MINUTES_PER_DAY = 24 * 60


def generate_demo_transactions(
    n_customers: int = 3000, seed: int = 7, start: str = "2009-12-01", end: str = "2011-12-09"
) -> pd.DataFrame:
    """Generate a shop's invoice lines, dirt included, like one UCI Online Retail II export.

    Parameters
    ----------
    n_customers : int
        Number of identified customers; about 16 rows per customer come out.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same frame.
    start, end : str
        First and last invoice day (ISO dates, inclusive).

    Returns
    -------
    pandas.DataFrame
        One row per invoice line, ordered by invoice date and number, with the columns

        - ``Invoice`` (str): six-digit invoice number; cancellations are ``"C"`` + number.
        - ``StockCode`` (str): product code such as ``"84029"`` or ``"85123A"``; ``"POST"`` is postage.
        - ``Description`` (str): product name, or the reason of a stock write-off.
        - ``Quantity`` (int64): negative on cancellations and write-offs.
        - ``InvoiceDate`` (datetime64): to the minute, in shop hours.
        - ``Price`` (float64): unit price in GBP, two decimals, 0 for free items and write-offs.
        - ``Customer ID`` (float64): five-digit id as Excel gives it, NaN for guest invoices.
        - ``Country`` (str): the customer's country.
        - ``Email``, ``Phone`` (str): the customer's, made from the id (:func:`demo_email`, :func:`demo_phone`);
          missing on guest rows and for a tenth of customers each.

    Raises
    ------
    ValueError
        If ``n_customers`` is below 1 or ``end`` is not after ``start``.
    """
    days = pd.date_range(start, end, freq="D")
    if n_customers < 1 or len(days) < 2:
        raise ValueError(f"need n_customers >= 1 and end after start, got {n_customers}, {start}..{end}")
    rng = np.random.default_rng(seed)
    catalogue = _product_catalogue(rng)
    trading_volume = np.cumsum(_trading_day_weights(days))
    customer_invoices = _customer_invoices(_customers(n_customers, trading_volume, rng), trading_volume, rng)
    invoices = pd.concat(
        [customer_invoices, _anonymous_invoices(customer_invoices, trading_volume, rng)], ignore_index=True
    )
    invoices["minute"] = _shop_hour_minutes(len(invoices), rng)
    invoices["cancellation"] = False
    lines = _basket_lines(invoices, catalogue, rng)
    lines = _with_zero_prices(lines, rng)
    invoices, lines = _with_cancellations(invoices, lines, trading_volume, rng)
    invoices, lines = _with_write_offs(invoices, lines, catalogue, trading_volume, rng)
    transactions = _numbered_transactions(invoices, lines, days[0])
    return _with_contacts(_with_duplicates(transactions, rng))


def demo_email(customer_id: int) -> str | None:
    """The demo email of a customer: ``customer{id}@example.com``; ``None`` for ids ending in :data:`NO_EMAIL_DIGIT`."""
    return None if customer_id % 10 == NO_EMAIL_DIGIT else f"customer{customer_id}@example.com"


def demo_phone(customer_id: int, country: str) -> str | None:
    """The demo phone of a customer in its country's format (see ``_PHONE_FORMATS``); ``None`` for ids ending in
    :data:`NO_PHONE_DIGIT`."""
    if customer_id % 10 == NO_PHONE_DIGIT:
        return None
    template = _PHONE_FORMATS.get(country, _PHONE_FORMATS[HOME_COUNTRY])
    return template.format(n=customer_id % 1000, n4=customer_id % 10_000, h=customer_id // 100 % 100, t=customer_id % 100)


def _with_contacts(transactions: pd.DataFrame) -> pd.DataFrame:
    """Add ``Email`` and ``Phone`` on every row of an identified customer, made from the id (and the country) alone:
    no random draw, so every other figure of the demo stays as it was. Guest rows get neither."""
    ids = transactions["Customer ID"]
    pairs = transactions.loc[ids.notna(), ["Customer ID", "Country"]].drop_duplicates()
    email = {cid: demo_email(int(cid)) for cid in pairs["Customer ID"]}
    phone = {(cid, country): demo_phone(int(cid), country) for cid, country in pairs.itertuples(index=False)}
    keys = zip(ids.tolist(), transactions["Country"].tolist())
    return transactions.assign(
        Email=pd.Series([email.get(cid) for cid in ids.tolist()], index=transactions.index, dtype="str"),
        Phone=pd.Series([phone.get(key) for key in keys], index=transactions.index, dtype="str"),
    )


def write_demo_workbook(path: str | Path, *, n_customers: int = 3000, seed: int = 7) -> Path:
    """Write demo transactions as a two-sheet workbook laid out like UCI Online Retail II.

    Parameters
    ----------
    path : str or pathlib.Path
        Where to write the ``.xlsx``; missing folders are created.
    n_customers, seed : int
        Passed to :func:`generate_demo_transactions` (default period).

    Returns
    -------
    pathlib.Path
        The written path. The workbook holds the sheets ``"Year 2009-2010"`` and
        ``"Year 2010-2011"`` with the :data:`COLUMNS` header; invoices of
        2010-12-01..09 appear in both, as in UCI. Plain invoice numbers are
        numeric cells, cancellations text, dates real Excel datetimes and
        ``Customer ID`` numeric (empty when missing).
    """
    return _write_workbook(generate_demo_transactions(n_customers=n_customers, seed=seed), Path(path))


def _product_catalogue(rng: np.random.Generator) -> pd.DataFrame:
    """Gift-shop products: StockCode, Description, Price and popularity (sums to 1)."""
    names = [
        (" ".join(filter(None, (colour, motif, item))), price)
        for colour, motif, (item, price) in itertools.product(
            ("",) + _COLOURS, ("",) + _MOTIFS, _ITEM_PRICES.items()
        )
        if colour or motif
    ]
    chosen = rng.choice(len(names), CATALOGUE_SIZE, replace=False)
    typical_price = np.array([names[i][1] for i in chosen]) * rng.lognormal(0.0, 0.25, CATALOGUE_SIZE)
    nearest_point = np.abs(typical_price[:, None] - _PRICE_POINTS[None, :]).argmin(axis=1)
    numbers = rng.choice(np.arange(10002, 90000), CATALOGUE_SIZE, replace=False)
    is_variant = rng.random(CATALOGUE_SIZE) < 0.15  # colour variants carry a letter, as in "85123A"
    suffixes = np.where(is_variant, rng.choice(_STOCK_CODE_SUFFIXES, CATALOGUE_SIZE), "")
    # A few best sellers and a long tail, like any shop.
    popularity = 1.0 / rng.permutation(np.arange(1, CATALOGUE_SIZE + 1)) ** 0.9
    return pd.DataFrame({
        "StockCode": [f"{number}{suffix}" for number, suffix in zip(numbers, suffixes)],
        "Description": [names[i][0] for i in chosen],
        "Price": _PRICE_POINTS[nearest_point],
        "popularity": popularity / popularity.sum(),
    })


def _trading_day_weights(days: pd.DatetimeIndex) -> np.ndarray:
    """Relative order volume of each day; 0 when the shop is shut."""
    holidays = ((days.month == 12) & (days.day >= 23)) | ((days.month == 1) & (days.day <= 3))
    weights = _MONTH_WEIGHTS[days.month - 1] * _WEEKDAY_WEIGHTS[days.day_of_week]
    return np.where(holidays, 0.0, weights)


def _sample_days(
    trading_volume: np.ndarray, first: np.ndarray, last: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw one trading day index per window ``first..last``, weighted by trading volume.

    ``trading_volume`` is the cumulative day weight. A window without trading
    days yields the next trading day after it.
    """
    first = np.clip(first, 0, len(trading_volume) - 1)
    last = np.clip(last, first, len(trading_volume) - 1)
    before = np.where(first > 0, trading_volume[first - 1], 0.0)
    draw = before + rng.random(len(first)) * (trading_volume[last] - before)
    return np.minimum(np.searchsorted(trading_volume, draw, side="right"), len(trading_volume) - 1)


def _segment_sizes(n_customers: int) -> np.ndarray:
    """Customers per segment; rounding leftovers go to the biggest segment."""
    sizes = np.round([segment.share * n_customers for segment in SEGMENTS]).astype(int)
    sizes[np.argmax(sizes)] += n_customers - sizes.sum()
    return sizes


def _customers(n_customers: int, trading_volume: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """One row per customer: customer_id, segment (index into SEGMENTS), country, first_day, last_day."""
    segment = rng.permutation(np.repeat(np.arange(len(SEGMENTS)), _segment_sizes(n_customers)))
    id_offsets = rng.choice(max(CUSTOMER_ID_SPAN, n_customers), n_customers, replace=False)
    ids = FIRST_CUSTOMER_ID + np.sort(id_offsets)
    end_day = len(trading_volume) - 1
    recency = np.array([s.recency_days for s in SEGMENTS])[segment]
    last_day = _sample_days(trading_volume, end_day - recency[:, 1], end_day - recency[:, 0], rng)
    tenure = np.array([s.tenure_days for s in SEGMENTS])[segment]
    first_day = _sample_days(trading_volume, last_day - tenure[:, 1], last_day - tenure[:, 0], rng)
    is_wholesale = segment == len(SEGMENTS) - 1
    country = np.where(
        is_wholesale, _draw_countries(_WHOLESALE_COUNTRY_WEIGHTS, n_customers, rng),
        _draw_countries(_COUNTRY_WEIGHTS, n_customers, rng),
    )
    return pd.DataFrame({
        "customer_id": ids.astype(float), "segment": segment, "country": country,
        "first_day": first_day, "last_day": last_day,
    })


def _draw_countries(weights: dict[str, float], size: int, rng: np.random.Generator) -> np.ndarray:
    """Draw countries from a country -> weight table."""
    shares = np.array(list(weights.values()))
    return rng.choice(list(weights), size, p=shares / shares.sum())


def _customer_invoices(
    customers: pd.DataFrame, trading_volume: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Sales invoices of identified customers: customer_id, country, day, extra_lines, pack_multiplier.

    The last order lands on the customer's last day and the second on the first
    day, so every customer shows the recency and tenure of the segment.
    """
    segment = customers["segment"].to_numpy()
    n_orders = 1 + rng.poisson(np.array([s.extra_orders for s in SEGMENTS])[segment])
    owner = np.repeat(np.arange(len(customers)), n_orders)
    order_rank = np.arange(len(owner)) - np.repeat(np.cumsum(n_orders) - n_orders, n_orders)
    first_day = customers["first_day"].to_numpy()[owner]
    last_day = customers["last_day"].to_numpy()[owner]
    in_between = _sample_days(trading_volume, first_day, last_day, rng)
    day = np.select([order_rank == 0, order_rank == 1], [last_day, first_day], in_between)
    return pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy()[owner],
        "country": customers["country"].to_numpy()[owner],
        "day": day,
        "extra_lines": np.array([s.extra_lines for s in SEGMENTS])[segment][owner],
        "pack_multiplier": np.array([s.pack_multiplier for s in SEGMENTS])[segment][owner],
    })


def _anonymous_invoices(
    customer_invoices: pd.DataFrame, trading_volume: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Guest invoices, as many as make ANONYMOUS_ROW_SHARE of the expected sales lines."""
    customer_lines = (1 + customer_invoices["extra_lines"]).sum()
    anonymous_lines = customer_lines * ANONYMOUS_ROW_SHARE / (1 - ANONYMOUS_ROW_SHARE)
    count = round(anonymous_lines / (1 + ANONYMOUS_EXTRA_LINES))
    abroad = rng.random(count) >= _ANONYMOUS_HOME_SHARE
    country = np.where(abroad, _draw_countries(_COUNTRY_WEIGHTS, count, rng), HOME_COUNTRY)
    everywhere = np.zeros(count, dtype=int)
    return pd.DataFrame({
        "customer_id": np.nan,
        "country": country,
        "day": _sample_days(trading_volume, everywhere, everywhere + len(trading_volume) - 1, rng),
        "extra_lines": ANONYMOUS_EXTRA_LINES,
        "pack_multiplier": 1,
    })


def _shop_hour_minutes(size: int, rng: np.random.Generator) -> np.ndarray:
    """Minute of the day of each invoice, busiest around noon."""
    hours = np.array(list(_HOUR_WEIGHTS))
    weights = np.array(list(_HOUR_WEIGHTS.values()), dtype=float)
    return rng.choice(hours, size, p=weights / weights.sum()) * 60 + rng.integers(0, 60, size)


def _basket_lines(invoices: pd.DataFrame, catalogue: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Sales lines (invoice, StockCode, Description, Quantity, Price), postage first on foreign invoices."""
    extra_lines = invoices["extra_lines"].to_numpy()
    n_lines = 1 + rng.negative_binomial(2, 2 / (2 + extra_lines))
    invoice = np.repeat(invoices.index.to_numpy(), n_lines)
    product = _distinct_products(invoice, catalogue["popularity"].to_numpy(), rng)
    price = catalogue["Price"].to_numpy()[product]
    quantity = _pack_quantities(price, rng) * invoices["pack_multiplier"].to_numpy()[invoice]
    goods = pd.DataFrame({
        "invoice": invoice,
        "StockCode": catalogue["StockCode"].to_numpy()[product],
        "Description": catalogue["Description"].to_numpy()[product],
        "Quantity": quantity,
        "Price": price,
    })
    lines = pd.concat([_postage_lines(invoices, rng), goods], ignore_index=True)
    return lines.sort_values("invoice", kind="stable", ignore_index=True)


def _distinct_products(invoice: np.ndarray, popularity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw a product per line by popularity, redrawing repeats within an invoice.

    Exact duplicate lines are added on purpose later, so none may arise here.
    """
    product = rng.choice(len(popularity), len(invoice), p=popularity)
    while (repeated := pd.DataFrame({"invoice": invoice, "product": product}).duplicated().to_numpy()).any():
        product[repeated] = rng.choice(len(popularity), repeated.sum(), p=popularity)
    return product


def _pack_quantities(price: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Quantity per line in the pack sizes customers buy at that price."""
    quantity = np.zeros(len(price), dtype=np.int64)
    lower_bound = 0.0
    for upper_bound, sizes, weights in _PACK_SIZES_BY_PRICE:
        in_band = (price >= lower_bound) & (price < upper_bound)
        shares = np.array(weights, dtype=float)
        quantity[in_band] = rng.choice(sizes, in_band.sum(), p=shares / shares.sum())
        lower_bound = upper_bound
    return quantity


def _postage_lines(invoices: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A POSTAGE line on some foreign invoices, as the shop charges carriage abroad."""
    abroad = (invoices["country"] != HOME_COUNTRY).to_numpy()
    invoice = invoices.index.to_numpy()[abroad & (rng.random(len(invoices)) < POSTAGE_SHARE)]
    stock_code, description, price = _POSTAGE
    return pd.DataFrame({
        "invoice": invoice, "StockCode": stock_code, "Description": description,
        "Quantity": rng.integers(1, 4, len(invoice)), "Price": price,
    })


def _with_zero_prices(lines: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Give ZERO_PRICE_ROW_SHARE of the lines away for free."""
    free = rng.choice(len(lines), round(ZERO_PRICE_ROW_SHARE * len(lines)), replace=False)
    lines = lines.copy()
    lines.loc[free, "Price"] = 0.0
    return lines


def _with_cancellations(
    invoices: pd.DataFrame, lines: pd.DataFrame, trading_volume: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reverse CANCELLED_ROW_SHARE of the customers' lines on later "C" invoices.

    Each affected invoice gets one cancellation 0-14 days later, moved on to
    the next trading day; cancellations that would fall after the period are
    left out.
    """
    identified = np.flatnonzero(invoices["customer_id"].notna().to_numpy()[lines["invoice"]])
    picked = np.sort(rng.choice(identified, round(CANCELLED_ROW_SHARE * len(lines)), replace=False))
    reversed_lines = lines.loc[picked].copy()
    originals = invoices.loc[np.unique(reversed_lines["invoice"])]
    delay_days = rng.integers(0, 15, len(originals))
    day = _next_trading_days(originals["day"].to_numpy() + delay_days, trading_volume)
    cancellations = originals.assign(
        day=day, minute=originals["minute"] + rng.integers(1, 91, len(originals)), cancellation=True
    )
    cancellations = cancellations[cancellations["day"] < len(trading_volume)]
    key_of = pd.Series(len(invoices) + np.arange(len(cancellations)), index=cancellations.index)
    reversed_lines = reversed_lines[reversed_lines["invoice"].isin(key_of.index)]
    reversed_lines = reversed_lines.assign(
        invoice=key_of[reversed_lines["invoice"]].to_numpy(), Quantity=-reversed_lines["Quantity"]
    )
    return (
        pd.concat([invoices, cancellations.set_axis(key_of.to_numpy())]),
        pd.concat([lines, reversed_lines], ignore_index=True),
    )


def _next_trading_days(day: np.ndarray, trading_volume: np.ndarray) -> np.ndarray:
    """Move each day index forward to a trading day; past the period stays past it."""
    weights = np.diff(trading_volume, prepend=0.0)
    day = day.copy()
    while (closed := (day < len(weights)) & (weights[np.minimum(day, len(weights) - 1)] == 0)).any():
        day[closed] += 1
    return day


def _with_write_offs(
    invoices: pd.DataFrame,
    lines: pd.DataFrame,
    catalogue: pd.DataFrame,
    trading_volume: np.ndarray,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add stock write-offs: one-line plain invoices, no customer, negative quantity, price 0."""
    count = round(WRITE_OFF_ROW_SHARE * len(lines))
    keys = invoices.index.max() + 1 + np.arange(count)
    everywhere = np.zeros(count, dtype=int)
    write_off_invoices = pd.DataFrame({
        "customer_id": np.nan, "country": HOME_COUNTRY,
        "day": _sample_days(trading_volume, everywhere, everywhere + len(trading_volume) - 1, rng),
        "minute": _shop_hour_minutes(count, rng), "cancellation": False,
    }, index=keys)
    product = rng.choice(len(catalogue), count)
    write_off_lines = pd.DataFrame({
        "invoice": keys,
        "StockCode": catalogue["StockCode"].to_numpy()[product],
        "Description": rng.choice(_WRITE_OFF_REASONS, count),
        "Quantity": -rng.integers(1, 121, count),
        "Price": 0.0,
    })
    return pd.concat([invoices, write_off_invoices]), pd.concat([lines, write_off_lines], ignore_index=True)


def _numbered_transactions(
    invoices: pd.DataFrame, lines: pd.DataFrame, first_day: pd.Timestamp
) -> pd.DataFrame:
    """Join lines to their invoices, number invoices in time order and shape the UCI columns."""
    ordered = invoices.sort_values(["day", "minute"], kind="stable")
    number = pd.Series(FIRST_INVOICE_NUMBER + np.arange(len(ordered)), index=ordered.index)
    invoice_name = np.where(ordered["cancellation"], "C", "") + number.astype(str).to_numpy()
    position = pd.Series(np.arange(len(ordered)), index=ordered.index)
    lines = lines.iloc[np.argsort(position[lines["invoice"]].to_numpy(), kind="stable")]
    invoice = invoices.loc[lines["invoice"]]
    minutes = invoice["day"].to_numpy() * _MINUTES_PER_DAY + invoice["minute"].to_numpy()
    return pd.DataFrame({
        "Invoice": pd.Series(invoice_name, index=ordered.index)[lines["invoice"]].to_numpy(),
        "StockCode": lines["StockCode"].to_numpy(),
        "Description": lines["Description"].to_numpy(),
        "Quantity": lines["Quantity"].to_numpy().astype(np.int64),
        "InvoiceDate": first_day + pd.to_timedelta(minutes, unit="min"),
        "Price": lines["Price"].to_numpy().round(2),
        "Customer ID": invoice["customer_id"].to_numpy(dtype=float),
        "Country": invoice["country"].to_numpy(),
    }).astype({"Invoice": "str", "StockCode": "str", "Description": "str", "Country": "str"})


def _with_duplicates(transactions: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Repeat DUPLICATE_ROW_SHARE of the rows right below themselves, as flawed exports do."""
    repeats = np.ones(len(transactions), dtype=int)
    repeats[rng.choice(len(transactions), round(DUPLICATE_ROW_SHARE * len(transactions)), replace=False)] = 2
    return transactions.iloc[np.repeat(np.arange(len(transactions)), repeats)].reset_index(drop=True)


def _write_workbook(transactions: pd.DataFrame, path: Path) -> Path:
    """Write transactions to the UCI sheets at ``path`` and return ``path``."""
    # Not write_only: that mode omits the sheet dimension, which makes openpyxl
    # readers scan each sheet twice; reading back becomes a third slower.
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    day = transactions["InvoiceDate"].dt.normalize()
    for title, (first, last) in SHEETS.items():
        sheet = workbook.create_sheet(title)
        sheet.append(COLUMNS)
        for row in _excel_rows(transactions[(day >= first) & (day <= last)]):
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _excel_rows(transactions: pd.DataFrame) -> Iterator[tuple[object, ...]]:
    """Cell values per row, typed as in UCI: plain invoice numbers numeric, "C" invoices text."""
    invoice = [int(name) if name.isdigit() else name for name in transactions["Invoice"]]
    customer = [None if np.isnan(cid) else cid for cid in transactions["Customer ID"].tolist()]
    return zip(
        invoice,
        transactions["StockCode"].tolist(),
        transactions["Description"].tolist(),
        transactions["Quantity"].tolist(),
        transactions["InvoiceDate"].dt.to_pydatetime().tolist(),
        transactions["Price"].tolist(),
        customer,
        transactions["Country"].tolist(),
        [None if pd.isna(value) else value for value in transactions["Email"].tolist()],
        [None if pd.isna(value) else value for value in transactions["Phone"].tolist()],
    )
