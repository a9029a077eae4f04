"""Contact identifiers as the ad and email platforms want them: emails and phones normalised, then SHA-256 hashed.

The rules, as the platforms document them:

- **Meta Custom Audiences**: an email is trimmed and lower-cased; a phone is digits only, with the country code and
  without a leading ``+`` or ``00`` or the national trunk ``0`` (``447700900123``); the country is the lower-case ISO
  3166-1 alpha-2 code. All three are hashed.
- **Google Customer Match**: an email is trimmed and lower-cased, and the dots before ``@gmail.com`` or
  ``@googlemail.com`` are removed; a phone is E.164 (``+447700900123``). Both are hashed; the country stays plain.

A phone written without its country code (``07700 900123``) takes the code of the customer's country (the file's
country column) when it is known; otherwise it cannot be put into E.164 and is left out, never guessed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

#: Country names as transaction files write them (the UCI Online Retail names among them) → (ISO 3166-1 alpha-2,
#: international calling code). A name missing here leaves the country unknown: phones without their own code are
#: then left out, and no country column is filled.
COUNTRIES: dict[str, tuple[str, str]] = {
    "united kingdom": ("gb", "44"), "uk": ("gb", "44"), "great britain": ("gb", "44"), "channel islands": ("gb", "44"),
    "france": ("fr", "33"), "germany": ("de", "49"), "eire": ("ie", "353"), "ireland": ("ie", "353"),
    "spain": ("es", "34"), "netherlands": ("nl", "31"), "belgium": ("be", "32"), "switzerland": ("ch", "41"),
    "portugal": ("pt", "351"), "australia": ("au", "61"), "norway": ("no", "47"), "italy": ("it", "39"),
    "finland": ("fi", "358"), "cyprus": ("cy", "357"), "sweden": ("se", "46"), "austria": ("at", "43"),
    "denmark": ("dk", "45"), "japan": ("jp", "81"), "poland": ("pl", "48"), "usa": ("us", "1"),
    "united states": ("us", "1"), "israel": ("il", "972"), "hong kong": ("hk", "852"), "singapore": ("sg", "65"),
    "iceland": ("is", "354"), "canada": ("ca", "1"), "greece": ("gr", "30"), "malta": ("mt", "356"),
    "united arab emirates": ("ae", "971"), "rsa": ("za", "27"), "south africa": ("za", "27"),
    "lebanon": ("lb", "961"), "lithuania": ("lt", "370"), "brazil": ("br", "55"), "czech republic": ("cz", "420"),
    "bahrain": ("bh", "973"), "saudi arabia": ("sa", "966"), "korea": ("kr", "82"), "nigeria": ("ng", "234"),
    "thailand": ("th", "66"), "bermuda": ("bm", "1"), "luxembourg": ("lu", "352"), "estonia": ("ee", "372"),
    "latvia": ("lv", "371"), "slovenia": ("si", "386"), "croatia": ("hr", "385"), "hungary": ("hu", "36"),
    "romania": ("ro", "40"), "bulgaria": ("bg", "359"), "slovakia": ("sk", "421"), "india": ("in", "91"),
    "china": ("cn", "86"), "new zealand": ("nz", "64"), "mexico": ("mx", "52"), "turkey": ("tr", "90"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GOOGLE_MAIL = ("gmail.com", "googlemail.com")
#: E.164 allows at most 15 digits, country code included; fewer than 7 is no phone number anywhere.
_PHONE_DIGITS = (7, 15)


def normalise_email(value: object, *, google: bool = False) -> str | None:
    """The email trimmed and lower-cased (for Google also without the dots of a Gmail address's name); ``None`` for a
    blank or something that is not an email address.

    Examples
    --------
    >>> normalise_email("  Jane.Doe@Example.COM ")
    'jane.doe@example.com'
    >>> normalise_email("Jane.Doe@gmail.com", google=True)
    'janedoe@gmail.com'
    """
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    if not _EMAIL.match(email):
        return None
    name, domain = email.rsplit("@", 1)
    if google and domain in _GOOGLE_MAIL:
        email = f"{name.replace('.', '')}@{domain}"
    return email


def country_code(country: object) -> tuple[str, str] | None:
    """``(ISO alpha-2, calling code)`` of a country name as files write it, or ``None`` when unknown."""
    if not isinstance(country, str):
        return None
    return COUNTRIES.get(country.strip().lower())


def normalise_phone(value: object, country: object = None) -> str | None:
    """The phone in E.164 (``+`` and digits, country code first), or ``None`` when it cannot be written so.

    A number starting with ``+`` or ``00`` carries its own country code. Any other number is national: its trunk
    ``0`` is dropped and the code of ``country`` put in front; without a known country it is ``None``.

    Examples
    --------
    >>> normalise_phone("+44 (0)7700 900123")
    '+447700900123'
    >>> normalise_phone("07700 900123", "United Kingdom")
    '+447700900123'
    >>> normalise_phone("06 12 34 56 78", "Atlantis") is None
    True
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("(0)", "")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        known = country_code(country)
        if known is None:
            return None
        number = known[1] + digits.lstrip("0")
    low, high = _PHONE_DIGITS
    return f"+{number}" if low <= len(number) <= high and not number.startswith("0") else None


def sha256_hex(text: str) -> str:
    """The SHA-256 of the UTF-8 text, as 64 lower-case hex characters.

    Examples
    --------
    >>> sha256_hex("jane.doe@example.com")[:16]
    '86e0b9e56c17cc4d'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hashed(values: Iterable[object]) -> list[str | None]:
    """:func:`sha256_hex` of each text value; ``None`` for anything else (a missing value, whatever pandas made of it)."""
    return [sha256_hex(value) if isinstance(value, str) else None for value in values]


def contact_columns(customers: pd.DataFrame, email: str, phone: str, country: str) -> pd.DataFrame:
    """Each customer's email (Meta's and Google's normal forms), E.164 phone and country codes, before hashing.

    Returns a frame indexed like ``customers`` with ``email``, ``email_google``, ``phone`` (E.164), ``iso2`` and
    ``calling_code``; ``None`` where a value is missing, malformed, or (phones) cannot be placed in a country.
    """
    n = len(customers)
    emails = customers[email] if email in customers.columns else pd.Series([None] * n, index=customers.index)
    phones = customers[phone] if phone in customers.columns else pd.Series([None] * n, index=customers.index)
    countries = customers[country] if country in customers.columns else pd.Series([None] * n, index=customers.index)
    codes = [country_code(c) for c in countries]
    return pd.DataFrame(
        {
            "email": [normalise_email(e) for e in emails],
            "email_google": [normalise_email(e, google=True) for e in emails],
            "phone": [normalise_phone(p, c) for p, c in zip(phones, countries)],
            "iso2": [None if code is None else code[0] for code in codes],
            "calling_code": [None if code is None else code[1] for code in codes],
        },
        index=customers.index,
    )
