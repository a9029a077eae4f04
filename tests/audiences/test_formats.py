"""Emails and phones normalised and hashed as the platforms document, checked against values normalised and hashed
by hand; each platform's file, what is left out and said, and a list without contact columns."""

import hashlib

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm import schema
from rfm.audiences.formats import FORMATS, GOOGLE_COLUMNS, audience_file
from rfm.audiences.identity import normalise_email, normalise_phone, sha256_hex
from rfm.errors import RFMInputError

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cells(column: pd.Series) -> list:
    """The column's values, a missing one as None (pandas 3 keeps missing text as NaN)."""
    return [None if pd.isna(value) else value for value in column]


@pytest.mark.parametrize(
    ("raw", "meta", "google"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com", "jane.doe@example.com"),
        ("Jane.Doe@GMail.com", "jane.doe@gmail.com", "janedoe@gmail.com"),
        ("j.d.x@googlemail.com", "j.d.x@googlemail.com", "jdx@googlemail.com"),
        ("not an email", None, None),
        ("two@@signs.com", None, None),
        ("", None, None),
        (None, None, None),
        (float("nan"), None, None),
    ],
)
def test_emails_are_trimmed_and_lower_cased(raw, meta, google):
    assert normalise_email(raw) == meta
    assert normalise_email(raw, google=True) == google


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+44 7700 900123", None, "+447700900123"),
        ("+44 (0)7700 900123", "France", "+447700900123"),  # its own code wins over the customer's country
        ("0044 7700 900123", None, "+447700900123"),
        ("07700 900123", "United Kingdom", "+447700900123"),
        ("06 12 34 56 78", "France", "+33612345678"),
        ("(650) 555-1234", "USA", "+16505551234"),
        ("06 12 34 56 78", None, None),  # national, country unknown: not guessed
        ("06 12 34 56 78", "Unspecified", None),
        ("123", "France", None),  # too short to be a number
        ("+1234567890123456", None, None),  # more than E.164's 15 digits
        ("", "France", None),
        (None, "France", None),
    ],
)
def test_phones_are_written_in_e164(raw, country, e164):
    assert normalise_phone(raw, country) == e164


@PROPERTY
@given(st.text(min_size=1, max_size=30))
def test_hashes_are_64_hex_characters_of_the_normalised_text(text):
    digest = sha256_hex(text)
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert digest == _sha(text)


CUSTOMERS = pd.DataFrame(
    {
        schema.EMAIL: [" Ann.Smith@Gmail.com", "bob@example.com", None, "bad-email", None],
        schema.PHONE: ["07700 900001", None, "+33 6 12 34 56 78", None, "06 00 00 00 00"],
        schema.COUNTRY: ["United Kingdom", "France", "France", "Spain", "Unspecified"],
        schema.SEGMENT_NAME: ["Champions", "Champions", "Lost", "Lost", "Lost"],
        schema.RFM_SEGMENT: ["Champions", "Loyal Customers", "Lost", "Hibernating", "Lost"],
        schema.PREDICTED_CLV: [120.456, 80.0, float("nan"), 5.0, -3.0],
    },
    index=pd.Index(["c1", "c2", "c3", "c4", "c5"], name=schema.CUSTOMER_ID),
)


def test_meta_file_hashes_hand_normalised_values():
    result = audience_file(CUSTOMERS, "meta")
    table = result.table
    # c4's email is malformed and c5's phone has no known country: neither can be matched, both are left out.
    assert result.customers == 5 and result.left_out == 2 and len(table) == 3
    assert list(table.columns) == ["email", "phone", "country", "value"]
    assert _cells(table["email"]) == [_sha("ann.smith@gmail.com"), _sha("bob@example.com"), None]
    assert _cells(table["phone"]) == [_sha("447700900001"), None, _sha("33612345678")]
    assert table["country"].tolist() == [_sha("gb"), _sha("fr"), _sha("fr")]
    assert table["value"].tolist() == [120.46, 80.0, 0.0]
    assert "2 of 5 customers have no usable email or phone" in result.warnings[0]
    assert "below the 100 Meta advises" in result.warnings[1]


def test_google_file_has_the_template_columns_and_gmail_without_dots():
    table = audience_file(CUSTOMERS, "google").table
    assert tuple(table.columns) == GOOGLE_COLUMNS
    assert _cells(table["Email"]) == [_sha("annsmith@gmail.com"), _sha("bob@example.com"), None]
    assert _cells(table["Phone"]) == [_sha("+447700900001"), None, _sha("+33612345678")]
    assert table["Country"].tolist() == ["GB", "FR", "FR"]
    assert table[["First Name", "Last Name", "Zip"]].isna().all().all()


def test_email_platforms_put_the_email_first():
    klaviyo = audience_file(CUSTOMERS, "klaviyo").table
    assert list(klaviyo.columns[:3]) == ["Email", "Phone Number", "External ID"]
    assert klaviyo["External ID"].tolist() == ["c1", "c2", "c3"]
    assert klaviyo["Email"].tolist()[:2] == ["ann.smith@gmail.com", "bob@example.com"]
    assert {"Segment", "RFM Segment", "Predicted CLV"} <= set(klaviyo.columns)
    mailchimp = audience_file(CUSTOMERS, "mailchimp")
    assert list(mailchimp.table.columns[:3]) == ["Email Address", "Phone Number", "Tags"]
    assert mailchimp.table["Email Address"].tolist() == ["ann.smith@gmail.com", "bob@example.com"]  # email required
    assert mailchimp.table["Tags"].tolist() == ["Champions", "Champions"]
    assert mailchimp.left_out == 3


def test_without_contact_columns_the_platforms_say_what_they_need_and_the_csv_still_works():
    ids_only = CUSTOMERS.drop(columns=[schema.EMAIL, schema.PHONE])
    for format in ("meta", "google", "klaviyo"):
        with pytest.raises(RFMInputError, match=r"needs an email or a phone column, and this file has none: map one"):
            audience_file(ids_only, format)
    with pytest.raises(RFMInputError, match="Mailchimp needs an email column"):
        audience_file(ids_only, "mailchimp")
    plain = audience_file(ids_only, "csv")
    assert plain.table[schema.CUSTOMER_ID].tolist() == ["c1", "c2", "c3", "c4", "c5"] and not plain.warnings
    with pytest.raises(RFMInputError, match="Unknown audience format 'tiktok'"):
        audience_file(CUSTOMERS, "tiktok")
    assert set(FORMATS) == {"csv", "klaviyo", "mailchimp", "meta", "google"}


def test_platform_files_are_utf8_without_a_byte_order_mark():
    meta = audience_file(CUSTOMERS, "meta").to_csv()
    assert meta.startswith(b"email,phone,country,value\n")
    rows = meta.decode("utf-8").splitlines()
    assert len(rows) == 4 and rows[3] == f",{_sha('33612345678')},{_sha('fr')},0.0"  # c3: no email, a phone
    assert audience_file(CUSTOMERS, "csv").to_csv().startswith("\ufeffcustomer_id".encode())
