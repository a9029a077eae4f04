"""Recognising columns (``rfm.reading.columns``): headers of the UCI files and of shop/ERP exports, and values."""

import pandas as pd
import pytest

from rfm.reading.columns import detect_mapping

DATES = ["2010-12-01 08:26", "2010-12-01 08:26", "2010-12-02 09:41", "2010-12-03 10:00"]


def uci_frame(names: dict[str, str]) -> pd.DataFrame:
    """Four UCI-like lines (two invoices of customer 17850, one cancellation), columns renamed by ``names``."""
    frame = pd.DataFrame(
        {
            "Invoice": ["536365", "536365", "C536379", "536380"],
            "StockCode": ["85123A", "71053", "D", "22752"],
            "Description": ["WHITE HANGING HEART", "WHITE METAL LANTERN", "Discount", "SET 7 BABUSHKA"],
            "Quantity": [6, 6, -1, 2],
            "InvoiceDate": pd.to_datetime(DATES),
            "Price": [2.55, 3.39, 27.50, 7.65],
            "Customer ID": [17850.0, 17850.0, 14527.0, 13047.0],
            "Country": ["United Kingdom", "United Kingdom", "United Kingdom", "France"],
        }
    )
    return frame.rename(columns=names)


def mapped(frame: pd.DataFrame) -> dict[str, str]:
    return detect_mapping(frame).mapping.mapped()


def test_uci_ii_headers():
    mapping = mapped(uci_frame({}))
    product = mapping.pop("product")
    assert mapping == {
        "customer_id": "Customer ID",
        "invoice_id": "Invoice",
        "invoice_date": "InvoiceDate",
        "quantity": "Quantity",
        "unit_price": "Price",
        "country": "Country",
    }
    assert product in ("StockCode", "Description")


def test_uci_i_headers():
    mapping = mapped(uci_frame({"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}))
    required = ("customer_id", "invoice_id", "invoice_date", "quantity", "unit_price")
    assert {field: mapping.get(field) for field in required} == {
        "customer_id": "CustomerID",
        "invoice_id": "InvoiceNo",
        "invoice_date": "InvoiceDate",
        "quantity": "Quantity",
        "unit_price": "UnitPrice",
    }


def test_uci_headers_give_high_confidence():
    guess = detect_mapping(uci_frame({}))
    for field in ("customer_id", "invoice_date", "quantity", "unit_price"):
        assert guess.confidence_of(field) >= 0.9, field


def test_shop_export_with_order_sales_and_customer_name():
    frame = pd.DataFrame(
        {
            "Order ID": ["A-1", "A-1", "A-2", "A-3"],
            "Order Date": ["2024-01-02", "2024-01-02", "2024-01-05", "2024-02-01"],
            "Sales": ["10.50", "20.00", "7.25", "3.00"],
            "Customer Name": ["Ann Lee", "Ann Lee", "Bob Roy", "Ann Lee"],
        }
    )
    assert mapped(frame) == {
        "customer_id": "Customer Name",
        "invoice_id": "Order ID",
        "invoice_date": "Order Date",
        "amount": "Sales",
    }


def test_erp_export_with_transaction_date_revenue_and_client_id():
    frame = pd.DataFrame(
        {
            "Transaction Date": ["02/01/2024", "05/01/2024", "13/02/2024"],
            "Revenue": ["1.00", "2.00", "3.00"],
            "Client ID": ["C01", "C02", "C01"],
        }
    )
    assert mapped(frame) == {"customer_id": "Client ID", "invoice_date": "Transaction Date", "amount": "Revenue"}


def test_a_date_column_without_a_header_is_found_from_its_values():
    frame = pd.DataFrame(
        {"Customer": ["1", "2", "1"], "Unnamed: 1": DATES[1:], "Amount": [1.0, 2.0, 3.0]}
    )
    guess = detect_mapping(frame)
    assert guess.mapping.invoice_date == "Unnamed: 1"
    assert guess.confidence_of("invoice_date") < 0.5  # only the values say so
    assert "values" in guess.reason_of("invoice_date")


def test_confidence_exact_header_above_partial_header_above_values_only():
    frame = pd.DataFrame(
        {
            "Customer ID": ["1", "1", "2"],
            "Shipping Country": ["UK", "UK", "France"],  # partial: its last word is a synonym
            "Unnamed: 2": ["2024-01-02", "2024-01-05", "2024-02-01"],
            "Amount": ["1.00", "2.00", "3.00"],
        }
    )
    guess = detect_mapping(frame)
    assert guess.mapping.country == "Shipping Country"
    exact, partial, values_only = (guess.confidence_of(f) for f in ("customer_id", "country", "invoice_date"))
    assert exact >= 0.9
    assert 0.5 <= partial <= 0.7
    assert values_only < 0.5
    assert exact > partial > values_only


def test_an_exact_header_wins_over_a_partial_one():
    frame = pd.DataFrame(
        {
            "Shipping Country": ["UK", "UK", "France"],
            "Country": ["UK", "UK", "Spain"],
            "Customer ID": ["1", "1", "2"],
            "Date": ["2024-01-02", "2024-01-05", "2024-02-01"],
            "Amount": ["1.00", "2.00", "3.00"],
        }
    )
    assert mapped(frame)["country"] == "Country"


def test_each_column_is_used_at_most_once():
    # "Order Date" is the date exactly and partly an order id (its first word): it can only be one.
    frame = pd.DataFrame(
        {"Customer": ["1", "1", "2"], "Order Date": DATES[1:], "Amount": [1.0, 2.0, 3.0]}
    )
    mapping = mapped(frame)
    assert mapping == {"customer_id": "Customer", "invoice_date": "Order Date", "amount": "Amount"}
    for table in (uci_frame({}), frame):
        columns = list(mapped(table).values())
        assert len(columns) == len(set(columns))


def test_a_word_inside_a_header_is_not_a_partial_match():
    # "Discount" ends in "count" and "Salesperson" starts with "sales", but neither is that word: mapping
    # Discount as the quantity would drop every undiscounted line as "quantity <= 0".
    frame = pd.DataFrame(
        {
            "Order ID": ["A1", "A1", "A2"],
            "Order Date": ["2016-11-08", "2016-11-08", "2016-06-12"],
            "Customer ID": ["CG-1", "CG-1", "DV-1"],
            "Revenue": ["261.96", "731.94", "14.62"],
            "Discount": ["0", "0", "0.2"],
            "Salesperson": ["Kim", "Kim", "Lou"],
        }
    )
    mapping = mapped(frame)
    assert "quantity" not in mapping
    assert mapping["amount"] == "Revenue"
    assert "Salesperson" not in mapping.values()


def test_text_ids_in_the_excel_serial_range_are_ids_not_dates():
    # 20145 and 30311 would read as Excel serials (2015, 1982); in a CSV they are customer numbers.
    frame = pd.DataFrame(
        {"Customer ID": ["20145", "20145", "30311"], "Date": DATES[1:], "Amount": ["1", "2", "3"]}
    )
    guess = detect_mapping(frame)
    assert guess.mapping.customer_id == "Customer ID"
    assert guess.confidence_of("customer_id") >= 0.9


@pytest.mark.parametrize("serials", [[40513, 40514, 40515], ["40513", "40514", "40515"]], ids=["numbers", "text"])
def test_a_date_header_over_excel_serials_is_the_date(serials):
    # "InvoiceDate" also partly matches invoice_id (first word): the whole-header date match must win.
    frame = pd.DataFrame({"Customer": ["A", "A", "B"], "InvoiceDate": serials, "Amount": [9.5, 4.0, 1.0]})
    guess = detect_mapping(frame)
    assert guess.mapping.invoice_date == "InvoiceDate"
    assert guess.mapping.invoice_id is None
    assert guess.confidence_of("invoice_date") >= 0.9


# --- email and phone ---------------------------------------------------------------------------------


EMAILS = ["ann@example.com", "ann@example.com", "bob@shop.co.uk", "cy@example.org"]
PHONES = ["+44 7700 900123", "+44 7700 900123", "(020) 7946-0018", "+33 6 39 98 12 34"]


@pytest.mark.parametrize(
    ("email_header", "phone_header"),
    [("Email", "Phone"), ("E-mail Address", "Mobile"), ("customer_email", "Tel"), ("Mail", "Telephone Number")],
)
def test_email_and_phone_by_header(email_header, phone_header):
    frame = uci_frame({}).assign(**{email_header: EMAILS, phone_header: PHONES})
    mapping = mapped(frame)
    assert (mapping["email"], mapping["phone"]) == (email_header, phone_header)
    assert mapping["customer_id"] == "Customer ID"


def test_email_and_phone_by_values_whatever_the_header():
    frame = uci_frame({}).assign(Contact=EMAILS, Reach=PHONES)
    guess = detect_mapping(frame)
    assert (guess.mapping.email, guess.mapping.phone) == ("Contact", "Reach")
    assert guess.reason_of("email") == "values of 'Contact' are email addresses"
    assert guess.confidence_of("email") < 0.5  # no header backs it


def test_bare_numbers_and_malformed_addresses_are_neither():
    frame = uci_frame({}).assign(Code=["7700900123", "7700900124", "7700900125", "7700900126"],
                                 Note=["ann@", "a@b", "x y@example.com", "@example.com"])
    mapping = mapped(frame)
    assert "email" not in mapping and "phone" not in mapping


def test_an_id_column_of_emails_stays_the_customer_id():
    frame = uci_frame({}).assign(**{"Customer ID": EMAILS})
    mapping = mapped(frame)
    assert mapping["customer_id"] == "Customer ID"
    assert "email" not in mapping


def test_a_file_without_contacts_maps_neither():
    mapping = detect_mapping(uci_frame({})).mapping
    assert (mapping.email, mapping.phone) == (None, None)


def test_a_customer_email_column_alone_is_both_the_customer_id_and_the_email():
    frame = uci_frame({}).drop(columns="Customer ID").assign(**{"Customer Email": EMAILS})
    mapping = mapped(frame)
    assert mapping["customer_id"] == mapping["email"] == "Customer Email"


def test_a_partial_header_needs_values_that_fit_to_be_an_email_or_phone():
    frame = uci_frame({}).assign(**{"Mail Order": ["M1", "M2", "M3", "M4"], "Cell Notes": ["a", "b", "c", "d"]})
    mapping = mapped(frame)
    assert "email" not in mapping and "phone" not in mapping
    with_values = uci_frame({}).assign(**{"Mail Contact": EMAILS})
    assert mapped(with_values)["email"] == "Mail Contact"
