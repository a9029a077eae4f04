"""An audience (customers from a labelled list) written in each platform's import format.

:func:`audience_file` takes rows of :func:`rfm.outputs.lists.labelled_customers` (indexed by customer id, with
``email``, ``phone`` and ``country`` when the file had them) and a format of :data:`FORMATS`; it returns the table to
write and what the marketer should know (customers left out for want of an identifier, an audience below the
platform's minimum). The formats:

- ``csv``: the list as it is;
- ``klaviyo``: ``Email`` first, then ``Phone Number`` (E.164) and ``External ID``, the segment and values as profile
  properties; a customer needs an email or a phone;
- ``mailchimp``: ``Email Address`` first (required), ``Phone Number``, the segment as ``Tags``, values as fields;
- ``meta``: Meta's customer-list identifiers ``email``, ``phone`` and ``country``, normalised and SHA-256 hashed
  (:mod:`rfm.audiences.identity`), and ``value`` (predicted CLV, plain) for value-based lookalikes when it exists;
- ``google``: Google Customer Match's template columns ``Email``, ``Phone``, ``First Name``, ``Last Name``,
  ``Country``, ``Zip``: email and phone hashed, the country plain (names and zip are not in transaction files and
  stay empty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm import schema
from rfm.audiences.identity import contact_columns, hashed
from rfm.errors import RFMInputError

FORMATS: dict[str, str] = {
    "csv": "Plain CSV",
    "klaviyo": "Klaviyo",
    "mailchimp": "Mailchimp",
    "meta": "Meta Custom Audience",
    "google": "Google Customer Match",
}
#: The smallest audience each platform advises (Meta advises against lists of fewer than 100 people; Google serves a
#: Customer Match list on Search and YouTube only from 1,000 active members). Below it the file is still written,
#: with a warning.
MINIMUM_AUDIENCE: dict[str, int] = {"meta": 100, "google": 1_000}
#: What each format needs to identify a customer: any one of these columns.
NEEDS: dict[str, tuple[str, ...]] = {
    "klaviyo": (schema.EMAIL, schema.PHONE),
    "mailchimp": (schema.EMAIL,),
    "meta": (schema.EMAIL, schema.PHONE),
    "google": (schema.EMAIL, schema.PHONE),
}
#: Columns a platform file carries as properties, when the list has them, with the names the file gives them.
PROPERTIES: dict[str, str] = {
    schema.SEGMENT_NAME: "Segment",
    schema.RFM_SEGMENT: "RFM Segment",
    schema.LIFECYCLE_STAGE: "Lifecycle Stage",
    schema.ACTION: "Recommended Action",
    schema.RECENCY: "Days Since Last Order",
    schema.FREQUENCY: "Orders",
    schema.MONETARY: "Total Spend",
    schema.PREDICTED_CLV: "Predicted CLV",
    schema.CHURN_RISK: "Churn Risk",
}
GOOGLE_COLUMNS: tuple[str, ...] = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")


@dataclass(frozen=True, eq=False)
class AudienceFile:
    """A platform file: ``table`` to write as CSV (UTF-8, no index), and what to tell the marketer."""

    format: str
    table: pd.DataFrame
    customers: int  # in the audience chosen
    left_out: int  # of them, without an identifier the format can use
    warnings: tuple[str, ...] = ()

    def to_csv(self) -> bytes:
        """The file as the platform imports it: UTF-8 without a byte-order mark (an importer would read one into the
        first header), comma-separated, a missing value as an empty cell. The plain CSV is every list of the app
        (:func:`rfm.outputs.files.csv_bytes`: a BOM and neutralised text, so that Excel opens it right)."""
        if self.format == "csv":
            from rfm.outputs.files import csv_bytes

            return csv_bytes(self.table.set_index(schema.CUSTOMER_ID))
        return self.table.to_csv(index=False, lineterminator="\n").encode("utf-8")


def audience_file(customers: pd.DataFrame, format: str) -> AudienceFile:
    """``customers`` in the import format ``format`` (a key of :data:`FORMATS`).

    Raises
    ------
    RFMInputError
        For an unknown format, or a platform format on a list without any column it can identify customers by (the
        message names the column to map).
    """
    if format not in FORMATS:
        raise RFMInputError(f"Unknown audience format {format!r}: choose one of {', '.join(FORMATS)}.")
    if format == "csv":
        return AudienceFile(format, customers.reset_index(), len(customers), 0)
    needs = NEEDS[format]
    if not any(column in customers.columns for column in needs):
        wanted = " or ".join(f"an {c}" if c == schema.EMAIL else f"a {c}" for c in needs)
        raise RFMInputError(
            f"{FORMATS[format]} needs {wanted} column, and this file has none: map one on the Data page "
            f"(or --map {needs[0]}=COLUMN). The plain CSV works with customer ids alone."
        )
    contacts = contact_columns(customers, schema.EMAIL, schema.PHONE, schema.COUNTRY)
    table = {"klaviyo": _klaviyo, "mailchimp": _mailchimp, "meta": _meta, "google": _google}[format](customers, contacts)
    return AudienceFile(format, table, len(customers), len(customers) - len(table), _warnings(format, len(customers), len(table)))


def _warnings(format: str, chosen: int, kept: int) -> tuple[str, ...]:
    notes = []
    if kept < chosen:
        what = "usable email" if NEEDS[format] == (schema.EMAIL,) else "usable email or phone"
        notes.append(f"{chosen - kept:,} of {chosen:,} customers have no {what} and are left out of the {FORMATS[format]} file.")
    minimum = MINIMUM_AUDIENCE.get(format)
    if minimum is not None and kept < minimum:
        notes.append(
            f"{kept:,} people is below the {minimum:,} {FORMATS[format].split()[0]} advises for an audience: it may not "
            "match enough people to be used."
        )
    return tuple(notes)


def _properties(customers: pd.DataFrame) -> pd.DataFrame:
    present = [column for column in PROPERTIES if column in customers.columns]
    return customers[present].rename(columns=PROPERTIES)


def _klaviyo(customers: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    keep = contacts["email"].notna() | contacts["phone"].notna()
    table = pd.DataFrame(
        {"Email": contacts["email"], "Phone Number": contacts["phone"], "External ID": customers.index.astype(str)},
        index=customers.index,
    )
    return table.join(_properties(customers))[keep.to_numpy()].reset_index(drop=True)


def _mailchimp(customers: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    keep = contacts["email"].notna()
    tags = customers[schema.SEGMENT_NAME] if schema.SEGMENT_NAME in customers.columns else pd.Series("", index=customers.index)
    table = pd.DataFrame(
        {"Email Address": contacts["email"], "Phone Number": contacts["phone"], "Tags": tags.astype(str)},
        index=customers.index,
    )
    properties = _properties(customers).drop(columns=["Segment"], errors="ignore")
    return table.join(properties)[keep.to_numpy()].reset_index(drop=True)


def _meta(customers: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    keep = (contacts["email"].notna() | contacts["phone"].notna()).to_numpy()
    phones = [p.lstrip("+") if isinstance(p, str) else None for p in contacts["phone"]]
    table = pd.DataFrame(
        {"email": hashed(contacts["email"]), "phone": hashed(phones), "country": hashed(contacts["iso2"])},
        index=customers.index,
    )
    if schema.PREDICTED_CLV in customers.columns:
        value = customers[schema.PREDICTED_CLV].astype("float64").clip(lower=0).round(2)
        table["value"] = value.where(np.isfinite(value), 0.0)
    return table[keep].reset_index(drop=True)


def _google(customers: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    keep = (contacts["email_google"].notna() | contacts["phone"].notna()).to_numpy()
    table = pd.DataFrame(
        {
            "Email": hashed(contacts["email_google"]),
            "Phone": hashed(contacts["phone"]),
            "First Name": None,
            "Last Name": None,
            "Country": [code.upper() if isinstance(code, str) else None for code in contacts["iso2"]],
            "Zip": None,
        },
        index=customers.index,
    )
    return table[list(GOOGLE_COLUMNS)][keep].reset_index(drop=True)
