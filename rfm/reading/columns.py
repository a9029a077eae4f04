"""Recognising which column holds which transaction field, from header names and from the values."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.schema import ColumnMapping

# Normalised header names (lower case, letters and digits only), best match first. They cover the
# UCI Online Retail I/II names and common shop, POS and ERP exports.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    schema.CUSTOMER_ID: (
        "customerid", "customer", "customerno", "customernumber", "customercode", "custid", "cust",
        "clientid", "client", "clientno", "buyerid", "buyer", "memberid", "accountid", "account",
        "userid", "shopperid", "contactid", "customername", "clientname", "customerkey",
    ),
    schema.INVOICE_ID: (
        "invoice", "invoiceno", "invoicenumber", "invoiceid", "orderid", "order", "orderno",
        "ordernumber", "transactionid", "transaction", "transactionno", "receiptid", "receipt",
        "receiptno", "billno", "billid", "salesorder", "documentno", "docno", "ticketid", "basketid",
        "checkid", "purchaseid",
    ),
    schema.INVOICE_DATE: (
        "invoicedate", "orderdate", "transactiondate", "purchasedate", "date", "saledate", "salesdate",
        "datetime", "timestamp", "orderdatetime", "invoicedatetime", "transactiondatetime",
        "createdat", "created", "paiddate", "documentdate", "receiptdate", "day",
    ),
    schema.QUANTITY: (
        "quantity", "qty", "units", "quantityordered", "unitssold", "qtyordered", "itemcount",
        "items", "pieces", "count",
    ),
    schema.UNIT_PRICE: (
        "price", "unitprice", "priceeach", "itemprice", "priceperunit", "unitcost", "sellingprice",
        "saleprice", "rate", "listprice",
    ),
    schema.AMOUNT: (
        "amount", "sales", "revenue", "linetotal", "lineamount", "totalprice", "totalamount", "total",
        "netsales", "grosssales", "salesamount", "totalsales", "ordervalue", "value", "sale",
        "subtotal", "turnover", "spend", "netamount",
    ),
    schema.COUNTRY: ("country", "countryname", "shipcountry", "billingcountry", "nation", "market", "region"),
    schema.PRODUCT: (
        "stockcode", "product", "productid", "productcode", "sku", "itemcode", "item", "itemid",
        "article", "description", "productname", "itemname", "itemdescription",
    ),
    schema.EMAIL: (
        "email", "emailaddress", "mail", "customeremail", "emailid", "contactemail", "buyeremail", "clientemail",
        "useremail", "billingemail", "mailaddress",
    ),
    schema.PHONE: (
        "phone", "phonenumber", "telephone", "tel", "mobile", "mobilenumber", "mobilephone", "cell", "cellphone",
        "customerphone", "contactphone", "telephonenumber", "telno", "phoneno", "billingphone", "msisdn",
    ),
}

# An email: one @, something before it, and a dot inside the domain after it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# A phone: digits with + ( ) - . and spaces; 7 to 15 digits (E.164's longest) are counted separately.
_PHONE = re.compile(r"^\+?[\d\s().-]+$")
# What tells a phone from a bare number or an amount with spaces: a leading "+" (a country code) or an area code
# in brackets.
_PHONE_MARKS = re.compile(r"^\+|\(")

_SAMPLE = 2000
_ROW_SAMPLE = 20_000


@dataclass(frozen=True)
class MappingGuess:
    """The detected mapping, with a confidence in [0, 1] and a reason for every mapped field."""

    mapping: ColumnMapping
    confidence: tuple[tuple[str, float], ...]
    reasons: tuple[tuple[str, str], ...]

    def confidence_of(self, field: str) -> float:
        return dict(self.confidence).get(field, 0.0)

    def reason_of(self, field: str) -> str:
        return dict(self.reasons).get(field, "not found")


def normalise_header(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def header_words(name: object) -> list[str]:
    """A header's words, lower case: ``"Customer ID (old)"`` and ``"CustomerIdOld"`` -> customer, id, old."""
    return [word.lower() for word in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", str(name))]


@dataclass(frozen=True)
class _Profile:
    date_share: float
    numeric_share: float
    integer_share: float
    positive_share: float
    distinct_share: float
    alpha_share: float
    number_date_share: float = 0.0  # numbers that read as Excel serials or yyyymmdd: dates only under a date header
    email_share: float = 0.0
    phone_share: float = 0.0
    phone_marked_share: float = 0.0  # phones with a "+" country code or a (bracketed) area code: bare digits may be anything


def _contact_shares(text: pd.Series) -> tuple[float, float, float]:
    """Shares of (stripped) texts that read as an email, as a phone, and as a phone with a "+" or brackets."""
    text = text.str.strip()
    digits = text.str.count(r"\d")
    phone = text.str.match(_PHONE) & digits.between(7, 15)
    return (
        float(text.str.match(_EMAIL).mean()),
        float(phone.mean()),
        float((phone & text.str.contains(_PHONE_MARKS)).mean()),
    )


def profile_column(values: pd.Series) -> _Profile:
    """Shares of a column's sampled non-missing values that look like dates, numbers, ids..."""
    from rfm.reading.values import looks_like_dates, parse_dates, to_numbers_quick

    sample = values.dropna()
    if len(sample) > _SAMPLE:
        sample = sample.sample(_SAMPLE, random_state=0)
    if sample.empty:
        return _Profile(0, 0, 0, 0, 0, 0)
    numbers = to_numbers_quick(sample)
    finite = numbers[np.isfinite(numbers)]
    numeric_share = len(finite) / len(sample)
    text = sample.astype(str)
    email_share, phone_share, phone_marked_share = _contact_shares(text)
    return _Profile(
        date_share=looks_like_dates(sample),
        numeric_share=numeric_share,
        integer_share=float(np.mean(np.isclose(finite, np.round(finite)))) if len(finite) else 0.0,
        positive_share=float(np.mean(finite > 0)) if len(finite) else 0.0,
        distinct_share=sample.nunique() / len(sample),
        alpha_share=float(text.str.contains(r"[A-Za-z]", regex=True).mean()),
        number_date_share=float(parse_dates(pd.Series(numbers))[0].notna().mean()),
        email_share=email_share,
        phone_share=phone_share,
        phone_marked_share=phone_marked_share,
    )


def _values_fit(field: str, p: _Profile) -> float:
    """How well a column's values fit a field, in [0, 1]."""
    if field == schema.INVOICE_DATE:
        return p.date_share
    if p.date_share > 0.8:
        return 0.0
    if field in (schema.QUANTITY, schema.UNIT_PRICE, schema.AMOUNT):
        fit = p.numeric_share
        if field == schema.QUANTITY:
            fit *= 0.5 + 0.5 * p.integer_share
        return fit
    if field in (schema.CUSTOMER_ID, schema.INVOICE_ID):
        # Ids repeat (many rows per customer/invoice) and are whole numbers or codes, not prices.
        repeats = 1.0 if p.distinct_share < 0.9 else 0.4
        id_like = max(p.integer_share * p.numeric_share, p.alpha_share)
        return repeats * max(id_like, 0.3)
    if field in (schema.COUNTRY, schema.PRODUCT):
        return max(p.alpha_share, 0.3 if field == schema.PRODUCT else 0.0)
    if field == schema.EMAIL:
        return p.email_share
    if field == schema.PHONE:
        return p.phone_share
    return 0.0


def _values_only(field: str, p: _Profile) -> tuple[float, str] | None:
    """A field recognised from a column's values alone, whatever its header: its fit, and what the values are.

    Dates, emails, and phones written with a "+" country code or a bracketed area code; bare digits could be an id
    or an amount.
    """
    if field == schema.INVOICE_DATE and p.date_share > 0.9:
        return p.date_share, "dates"
    if field == schema.EMAIL and p.email_share > 0.9:
        return p.email_share, "email addresses"
    if field == schema.PHONE and p.phone_marked_share > 0.9 and p.date_share <= 0.8:
        return p.phone_marked_share, "phone numbers"
    return None


def _header_score(field: str, column: object) -> float:
    synonyms = HEADER_SYNONYMS[field]
    header = normalise_header(column)
    if header in synonyms:
        return 1.0 - 0.01 * synonyms.index(header)
    # A partial match is a synonym made of the header's first or last whole words ("Shipping Country",
    # "Customer ID (old)"), never part of a word: "Discount" is not a "count", "Salesperson" not "sales".
    words = header_words(column)
    edges = {"".join(words[:n]) for n in range(1, len(words))} | {"".join(words[n:]) for n in range(1, len(words))}
    for synonym in synonyms:
        if len(synonym) >= 4 and synonym in edges:
            return 0.6
    return 0.0


def detect_mapping(frame: pd.DataFrame) -> MappingGuess:
    """Guess which column of ``frame`` holds each canonical field.

    Parameters
    ----------
    frame : DataFrame
        A file's rows with its own column names (``RawTable.frame``).

    Returns
    -------
    MappingGuess
        ``mapping`` field -> column (each column used at most once), a confidence per field:
        about 0.9-1.0 when the header is a known name and the values fit, 0.5-0.7 for a partial
        header match, below 0.5 when only the values suggest it.
    """
    columns = [c for c in frame.columns if c != schema.SHEET]
    # Profiles look at a sample of values anyway; sampling the rows first spares a scan of every
    # column of a million-row file. Sparse columns keep enough values: 20,000 rows are sampled.
    rows = frame.sample(_ROW_SAMPLE, random_state=0) if len(frame) > _ROW_SAMPLE else frame
    profiles = {c: profile_column(rows[c]) for c in columns}
    candidates: list[tuple[float, str, str, str]] = []
    for field in schema.FIELDS:
        for column in columns:
            header = _header_score(field, column)
            fit = _values_fit(field, profiles[column])
            if header and field == schema.INVOICE_DATE:
                fit = max(fit, profiles[column].number_date_share)  # "InvoiceDate" holding 40513 (2010-12-01)
            if header < 0.9 and fit < 0.5 and field in (schema.EMAIL, schema.PHONE):
                header = 0.0  # "Mail Order No": a partial name alone would put order numbers in a mailing list
            if header:
                score = header * (0.35 + 0.65 * fit)
                reason = f"header {column!r}" + ("" if fit > 0.5 else ", but the values look unlike it")
            elif values := _values_only(field, profiles[column]):
                score, reason = 0.45 * values[0], f"values of {column!r} are {values[1]}"
            else:
                continue
            candidates.append((score, field, column, reason))
    chosen: dict[str, tuple[str, float, str]] = {}
    used: set[str] = set()
    for score, field, column, reason in sorted(candidates, key=lambda c: -c[0]):
        if field in chosen or column in used or score < 0.2:
            continue
        chosen[field] = (column, round(score, 2), reason)
        used.add(column)
    _email_as_customer_id(chosen, candidates)
    mapping = ColumnMapping(**{field: column for field, (column, _, _) in chosen.items()})
    return MappingGuess(
        mapping=mapping,
        confidence=tuple((field, conf) for field, (_, conf, _) in chosen.items()),
        reasons=tuple((field, reason) for field, (_, _, reason) in chosen.items()),
    )


def _email_as_customer_id(chosen: dict[str, tuple[str, float, str]], candidates: list[tuple[float, str, str, str]]) -> None:
    """A file whose only customer column is an email ("Customer Email") identifies customers by it: the column
    is then the customer id as well as the email (each column otherwise serves one field)."""
    if schema.CUSTOMER_ID in chosen or schema.EMAIL not in chosen:
        return
    email_column = chosen[schema.EMAIL][0]
    for score, field, column, reason in sorted(candidates, key=lambda c: -c[0]):
        if field == schema.CUSTOMER_ID and column == email_column and score >= 0.2:
            chosen[schema.CUSTOMER_ID] = (column, round(score, 2), reason)
            return
