"""Tests of the demo data generator ``rfm.demo``."""

from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from rfm.demo import (
    COLUMNS,
    DEMO_PATH,
    NO_EMAIL_DIGIT,
    NO_PHONE_DIGIT,
    SHEETS,
    demo_phone,
    generate_demo_transactions,
    write_demo_workbook,
)

pytestmark = pytest.mark.slow

SMALL = 150  # customers: enough for every kind of dirt, quick to write and read back
FIRST_SHEET, SECOND_SHEET = SHEETS
OVERLAP_FIRST_DAY = SHEETS[SECOND_SHEET][0]
OVERLAP_LAST_DAY = SHEETS[FIRST_SHEET][1]


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return generate_demo_transactions()


@pytest.fixture(scope="module")
def small_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_workbook(tmp_path_factory.mktemp("demo") / "small.xlsx", n_customers=SMALL, seed=3)


def read_sheets(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, engine="openpyxl")


def is_cancellation(transactions: pd.DataFrame) -> pd.Series:
    return transactions["Invoice"].str.startswith("C")


def test_same_seed_gives_the_same_frame() -> None:
    first = generate_demo_transactions(n_customers=SMALL, seed=1)
    pd.testing.assert_frame_equal(first, generate_demo_transactions(n_customers=SMALL, seed=1))


def test_other_seed_gives_another_frame() -> None:
    first = generate_demo_transactions(n_customers=SMALL, seed=1)
    assert not first.equals(generate_demo_transactions(n_customers=SMALL, seed=2))


def test_columns_and_types_are_those_of_uci(transactions: pd.DataFrame) -> None:
    assert tuple(transactions.columns) == COLUMNS
    for text_column in ["Invoice", "StockCode", "Description", "Country"]:
        assert pd.api.types.is_string_dtype(transactions[text_column]), text_column
    assert transactions["Quantity"].dtype == np.int64
    assert pd.api.types.is_datetime64_dtype(transactions["InvoiceDate"])
    assert transactions["Price"].dtype == np.float64
    assert transactions["Customer ID"].dtype == np.float64


def test_values_are_formatted_like_uci(transactions: pd.DataFrame) -> None:
    assert transactions["Invoice"].str.fullmatch(r"C?\d{6}").all()
    assert (transactions["InvoiceDate"] == transactions["InvoiceDate"].dt.floor("min")).all()
    assert transactions["InvoiceDate"].dt.hour.between(7, 22).all()
    assert np.allclose(transactions["Price"], transactions["Price"].round(2))
    ids = transactions["Customer ID"].dropna()
    assert (ids == ids.round()).all() and ids.between(10000, 99999).all()


def test_size_and_shape_of_the_default_frame(transactions: pd.DataFrame) -> None:
    assert 40_000 <= len(transactions) <= 60_000
    assert transactions["Customer ID"].nunique() == 3000
    assert transactions.groupby("Invoice").size().mean() >= 3
    products = transactions.loc[transactions["StockCode"] != "POST", "StockCode"].nunique()
    assert 300 <= products <= 500


def test_missing_customer_ids_cover_whole_invoices(transactions: pd.DataFrame) -> None:
    missing = transactions["Customer ID"].isna()
    assert 0.15 <= missing.mean() <= 0.20
    assert (missing.groupby(transactions["Invoice"]).nunique() == 1).all()


def test_cancellations_are_c_invoices_with_negative_quantities(transactions: pd.DataFrame) -> None:
    cancelled = is_cancellation(transactions)
    assert 0.015 <= cancelled.mean() <= 0.025
    assert (transactions.loc[cancelled, "Quantity"] < 0).all()


def test_a_few_plain_invoices_write_stock_off(transactions: pd.DataFrame) -> None:
    write_off = ~is_cancellation(transactions) & (transactions["Quantity"] < 0)
    assert 0 < write_off.mean() < 0.002
    assert (transactions.loc[write_off, "Price"] == 0).all()


def test_some_prices_are_zero(transactions: pd.DataFrame) -> None:
    assert 0.002 <= (transactions["Price"] == 0).mean() <= 0.005


def test_about_one_percent_of_rows_are_exact_duplicates(transactions: pd.DataFrame) -> None:
    assert 0.005 <= transactions.duplicated().mean() <= 0.015


def test_united_kingdom_dominates_about_fifteen_countries(transactions: pd.DataFrame) -> None:
    assert 0.80 <= (transactions["Country"] == "United Kingdom").mean() <= 0.90
    assert 12 <= transactions["Country"].nunique() <= 18


def test_customers_differ_in_recency_and_spend(transactions: pd.DataFrame) -> None:
    sales = transactions[transactions["Customer ID"].notna() & ~is_cancellation(transactions)]
    end = transactions["InvoiceDate"].max()
    per_customer = sales.assign(amount=sales["Quantity"] * sales["Price"]).groupby("Customer ID").agg(
        first=("InvoiceDate", "min"), last=("InvoiceDate", "max"), spend=("amount", "sum")
    )
    assert ((end - per_customer["first"]).dt.days <= 60).mean() >= 0.08  # new customers
    assert ((end - per_customer["last"]).dt.days >= 180).mean() >= 0.40  # at risk or gone
    assert (per_customer["spend"] > 50 * per_customer["spend"].median()).sum() >= 5  # wholesale outliers


def test_more_orders_before_christmas(transactions: pd.DataFrame) -> None:
    invoices_per_month = transactions.groupby(transactions["InvoiceDate"].dt.month)["Invoice"].nunique()
    assert invoices_per_month[11] > 1.5 * invoices_per_month[[1, 2, 3, 4, 5, 6, 7, 8]].mean()


def test_workbook_has_the_uci_sheets_and_cell_types(small_workbook: Path) -> None:
    workbook = openpyxl.load_workbook(small_workbook, read_only=True)
    assert workbook.sheetnames == list(SHEETS)
    invoice_types, customer_types = set(), set()
    for sheet in workbook.worksheets:
        header, *rows = sheet.iter_rows(values_only=True)
        assert header == COLUMNS
        for invoice, _, _, quantity, date, price, customer, *_ in rows:
            assert isinstance(invoice, int) or invoice.startswith("C")
            assert isinstance(date, datetime) and isinstance(quantity, int)
            assert isinstance(price, (int, float))
            invoice_types.add(type(invoice))
            customer_types.add(type(customer))
    assert invoice_types == {int, str}
    assert customer_types <= {int, float, type(None)} and type(None) in customer_types


def test_sheets_cover_their_year_and_share_whole_invoices(small_workbook: Path) -> None:
    sheets = read_sheets(small_workbook)
    for title, (first_day, last_day) in SHEETS.items():
        assert sheets[title]["InvoiceDate"].dt.normalize().between(first_day, last_day).all()
    first, second = sheets[FIRST_SHEET], sheets[SECOND_SHEET]
    tail_of_first = first[first["InvoiceDate"] >= OVERLAP_FIRST_DAY].reset_index(drop=True)
    head_of_second = second[second["InvoiceDate"] < pd.Timestamp(OVERLAP_LAST_DAY) + pd.Timedelta(days=1)]
    assert len(tail_of_first) > 0
    pd.testing.assert_frame_equal(tail_of_first, head_of_second.reset_index(drop=True))


def test_demo_path_is_in_the_data_folder() -> None:
    assert Path(__file__).resolve().parents[1] / "data" / "demo_online_retail.xlsx" == DEMO_PATH


def test_committed_workbook_is_what_the_generator_makes(transactions: pd.DataFrame) -> None:
    first, second = read_sheets(DEMO_PATH).values()
    after_overlap = second[second["InvoiceDate"] >= pd.Timestamp(OVERLAP_LAST_DAY) + pd.Timedelta(days=1)]
    committed = pd.concat([first, after_overlap], ignore_index=True)
    committed["Invoice"] = committed["Invoice"].astype("str")
    pd.testing.assert_frame_equal(committed, transactions, check_dtype=False, check_exact=False)


def test_every_identified_customer_has_the_email_and_phone_made_from_the_id(transactions: pd.DataFrame) -> None:
    identified = transactions[transactions["Customer ID"].notna()]
    ids = identified["Customer ID"].astype(int)
    no_email, no_phone = ids % 10 == NO_EMAIL_DIGIT, ids % 10 == NO_PHONE_DIGIT
    assert (identified.loc[~no_email, "Email"] == "customer" + ids[~no_email].astype(str) + "@example.com").all()
    assert identified.loc[no_email, "Email"].isna().all() and identified.loc[no_phone, "Phone"].isna().all()
    assert 0.05 <= no_email.groupby(ids).first().mean() <= 0.15 and 0.05 <= no_phone.groupby(ids).first().mean() <= 0.15
    phones = identified.loc[~no_phone]
    expected = [demo_phone(cid, country) for cid, country in zip(phones["Customer ID"].astype(int), phones["Country"])]
    assert phones["Phone"].tolist() == expected
    assert phones["Phone"].str.fullmatch(r"\+\d{2,3}( \d+)+").all()
    assert phones.loc[phones["Country"] == "United Kingdom", "Phone"].str.startswith("+44 7700 900").all()
    assert (identified.groupby("Customer ID")[["Email", "Phone"]].nunique() <= 1).all().all()


def test_guest_rows_have_no_email_or_phone(transactions: pd.DataFrame) -> None:
    guests = transactions[transactions["Customer ID"].isna()]
    assert len(guests) > 0 and guests["Email"].isna().all() and guests["Phone"].isna().all()


def test_the_demo_email_and_phone_are_detected_and_carried_per_customer() -> None:
    from rfm.cleaning.analyse import analyse_file
    from rfm.demo import demo_email

    analysis = analyse_file(DEMO_PATH, with_orders=False)
    assert (analysis.report.mapping.email, analysis.report.mapping.phone) == ("Email", "Phone")
    contacts = analysis.customer_contacts.reindex(analysis.customers.index)
    expected = [demo_email(int(cid)) for cid in contacts.index]
    assert contacts["email"].fillna("").tolist() == [email or "" for email in expected]
