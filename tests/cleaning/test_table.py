"""The RFM table on a tiny file with hand-computed answers."""

import datetime as dt

import pandas as pd
import pytest

from rfm import schema
from rfm.cleaning.ledger import CleaningSettings, clean
from rfm.cleaning.table import rfm_table
from rfm.reading.columns import detect_mapping
from rfm.reading.files import read_transactions

# A: invoices 1 (2024-03-01, 2×5 + 1×2 = 12) and 2 (2024-03-08 16:00, 3×1 = 3)
# B: invoice 3 (2024-03-10 09:30, 1×20 = 20), the latest purchase: the default analysis date is 2024-03-10.
TEXT = """Invoice,Customer ID,InvoiceDate,Quantity,Price
1,A,2024-03-01 10:00,2,5
1,A,2024-03-01 10:00,1,2
2,A,2024-03-08 16:00,3,1
3,B,2024-03-10 09:30,1,20
"""


def _table(analysis_date=None, margin=0.1) -> pd.DataFrame:
    raw = read_transactions(TEXT.encode(), "t.csv")
    result = clean(raw, detect_mapping(raw.frame).mapping, CleaningSettings())
    return rfm_table(result, analysis_date, profit_margin=margin)


def test_one_row_per_customer_with_hand_computed_values():
    table = _table()
    assert list(table.index) == ["A", "B"]
    assert table.index.name == schema.CUSTOMER_ID
    assert list(table.columns) == list(schema.RFM_COLUMNS)
    a, b = table.loc["A"], table.loc["B"]
    assert (a[schema.RECENCY], a[schema.FREQUENCY], a[schema.MONETARY]) == (2, 2, 15.0)
    assert (b[schema.RECENCY], b[schema.FREQUENCY], b[schema.MONETARY]) == (0, 1, 20.0)
    assert a[schema.TENURE] == 9
    assert a[schema.AVG_ORDER_VALUE] == 7.5
    assert a[schema.FIRST_PURCHASE] == pd.Timestamp("2024-03-01 10:00")
    assert a[schema.LAST_PURCHASE] == pd.Timestamp("2024-03-08 16:00")


def test_recency_counts_whole_days_to_a_chosen_analysis_date():
    table = _table(analysis_date=dt.date(2024, 3, 31))
    assert table.loc["A", schema.RECENCY] == 23
    assert table.loc["B", schema.RECENCY] == 21
    assert table.loc["A", schema.TENURE] == 30


def test_historical_clv_formula():
    # One of two customers buys again: repeat rate 0.5, churn 0.5; CLV = monetary × margin / churn.
    table = _table(margin=0.2)
    assert table.loc["A", schema.HISTORICAL_CLV] == pytest.approx(15 * 0.2 / 0.5)
    assert table.loc["B", schema.HISTORICAL_CLV] == pytest.approx(20 * 0.2 / 0.5)


# --- email and phone per customer -------------------------------------------------------------------

# A buys on 03-01 (email a-old), 03-08 (no email: it does not erase the older one) and 03-05 (a-mid, later in the
# file but earlier in time); the most recent purchase with an email is 03-05. B's only email is malformed and
# padded: kept as it is, trimmed. C has no email at all and two phones on the same day: the later row wins.
CONTACTS = """Invoice,Customer ID,InvoiceDate,Quantity,Price,Email,Phone
1,A,2024-03-01 10:00,2,5,a-old@example.com,+44 7700 900001
2,A,2024-03-08 16:00,3,1,,
3,A,2024-03-05 12:00,1,1,a-mid@example.com ,
4,B,2024-03-10 09:30,1,20,  not-an-email ,n/a phone
5,C,2024-03-09 09:00,1,4,,+44 7700 900003
6,C,2024-03-09 09:00,1,4,,+44 7700 900004
"""


@pytest.mark.parametrize("scanned", [False, True], ids=["in-memory", "scanned"])
def test_contacts_come_from_each_customers_latest_purchase_that_has_one(scanned):
    from rfm.cleaning.analyse import analyse, analyse_file

    analysis = analyse_file(CONTACTS.encode(), "c.csv") if scanned else analyse(read_transactions(CONTACTS.encode(), "c.csv"))
    assert analysis.report.rows_clean == 6  # a missing or malformed email or phone removes no purchase
    contacts = analysis.customer_contacts
    assert list(contacts.columns) == [schema.EMAIL, schema.PHONE]
    assert contacts.index.name == schema.CUSTOMER_ID
    assert contacts[schema.EMAIL].dropna().to_dict() == {"A": "a-mid@example.com", "B": "not-an-email"}
    assert contacts[schema.PHONE].dropna().to_dict() == {"A": "+44 7700 900001", "B": "n/a phone", "C": "+44 7700 900004"}


def test_contacts_are_none_without_either_column():
    from rfm.cleaning.analyse import analyse

    plain = analyse(read_transactions(TEXT.encode(), "t.csv"))
    assert plain.customer_contacts is None
    assert plain.preview[[schema.EMAIL, schema.PHONE]].isna().all().all()


def test_only_the_mapped_contact_field_is_a_column():
    from rfm.cleaning.analyse import analyse

    analysis = analyse(read_transactions(CONTACTS.encode(), "c.csv"), overrides={"phone": None})
    assert list(analysis.customer_contacts.columns) == [schema.EMAIL]
    pd.testing.assert_frame_equal(analysis.customers, _contacts_dropped().customers)


def _contacts_dropped():
    from rfm.cleaning.analyse import analyse

    text = "\n".join(line.rsplit(",", 2)[0] for line in CONTACTS.splitlines()) + "\n"
    return analyse(read_transactions(text.encode(), "c.csv"))
