"""rfm.cleaning.analyse: one call from a file to the RFM table, and the mapping the user picks."""

from __future__ import annotations

import json

import pytest

from rfm import schema
from rfm.cleaning.analyse import analyse, analyse_file, country_values, mapping_overrides, resolve_mapping
from rfm.errors import RFMInputError
from rfm.reading.files import read_transactions

CSV = b"""Invoice,Customer ID,InvoiceDate,Quantity,Price,Country,Total
1,A,2024-01-01 10:00,2,5.00,United Kingdom,10.00
1,A,2024-01-01 10:05,1,3.00,United Kingdom,3.00
2,B,2024-01-05 09:00,1,10.00,France,10.00
3,A,2024-02-01 09:00,4,2.50, United Kingdom ,10.00
C4,B,2024-02-02 09:00,-1,10.00,France,-10.00
5,,2024-02-03 09:00,1,1.00,Germany,1.00
"""


def _raw():
    return read_transactions(CSV, "shop.csv")


def test_analyse_file_builds_the_rfm_table_with_hand_computed_figures():
    analysis = analyse_file(CSV, "shop.csv")
    customers = analysis.customers
    assert sorted(customers.index) == ["A", "B"]
    # A: orders 1 (2×5 + 1×3 = 13) and 3 (10); B: order 2 (10), its cancellation C4 is counted under its own rule.
    assert customers.loc["A", schema.FREQUENCY] == 2 and customers.loc["A", schema.MONETARY] == pytest.approx(23.0)
    assert customers.loc["B", schema.FREQUENCY] == 1 and customers.loc["B", schema.MONETARY] == pytest.approx(10.0)
    assert len(analysis.orders) == 3
    report = analysis.report
    assert (report.rows_read, report.rows_clean, report.rows_removed, report.customers) == (6, 4, 2, 2)
    assert report.revenue == pytest.approx(33.0)


def test_without_orders_the_order_pass_is_skipped_and_nothing_else_changes():
    full, lean = analyse_file(CSV, "shop.csv"), analyse_file(CSV, "shop.csv", with_orders=False)
    assert lean.orders is None
    assert full.customers.equals(lean.customers) and full.report == lean.report


def test_countries_are_normalised_and_counted_before_any_filter():
    analysis = analyse(_raw())
    # " United Kingdom " is the same country; Germany's only row has no customer but is still a country of the file.
    assert analysis.countries == ("United Kingdom", "France", "Germany")
    assert analysis.customer_country.to_dict() == {"A": "United Kingdom", "B": "France"}


def test_country_values_is_empty_without_a_country_column():
    raw = _raw()
    _, mapping = resolve_mapping(raw, {"country": None})
    assert country_values(raw, mapping) == ()


def test_resolve_mapping_applies_overrides_and_unmaps_with_none_or_empty():
    guess, mapping = resolve_mapping(_raw(), {"country": "", "amount": "Total"})
    assert guess.mapping.country == "Country"
    assert mapping.country is None and mapping.amount == "Total"


def test_resolve_mapping_refuses_an_unknown_field_naming_the_fields():
    with pytest.raises(RFMInputError, match=r"Unknown field 'colour' in the mapping; fields are .*customer_id"):
        resolve_mapping(_raw(), {"colour": "Country"})


def test_an_override_that_changes_the_line_value_changes_revenue():
    """Mapping the file's own line total replaces quantity × price: B's cancellation then still nets to zero."""
    by_total = analyse(_raw(), {"amount": "Total"})
    assert by_total.customers.loc["A", schema.MONETARY] == pytest.approx(23.0)


@pytest.mark.parametrize(
    ("detected", "picked", "expected"),
    [
        ({"customer_id": "Customer ID"}, {"customer_id": "Customer ID"}, ()),
        ({"customer_id": "Customer ID"}, {}, ()),
        ({"amount": "SALES"}, {"amount": ""}, (("amount", None),)),
        ({"amount": None}, {"amount": None}, ()),
        ({"country": "Country", "amount": None}, {"amount": "Total", "country": "Land"}, (("amount", "Total"), ("country", "Land"))),
    ],
)
def test_mapping_overrides_are_the_fields_that_differ_in_field_order(detected, picked, expected):
    overrides = mapping_overrides(detected, picked)
    assert overrides == tuple(sorted(expected, key=lambda item: schema.FIELDS.index(item[0])))


def test_as_json_is_plain_json_with_the_read_and_the_ledger():
    data = analyse_file(CSV, "shop.csv").as_json()
    assert json.loads(json.dumps(data)) == data
    assert data["file"] == "shop.csv" and data["format"] == "csv" and data["delimiter"] == ","
    assert set(data["confidence"]) <= set(schema.FIELDS)


def test_a_mapping_detected_already_is_used_not_detected_again(monkeypatch):
    """The app detects a file's columns once and hands the guess to every later analysis of it."""
    import rfm.cleaning.analyse as module
    from rfm.reading.columns import detect_mapping

    raw = _raw()
    guess = detect_mapping(raw.sample)
    expected = analyse(raw, {"country": None})
    monkeypatch.setattr(module, "detect_mapping", lambda sample: pytest.fail("detected again"))
    given = analyse(raw, {"country": None}, guess=guess)
    assert given.report == expected.report and given.guess == guess
    assert given.customers.equals(expected.customers)
    assert resolve_mapping(raw, {"country": None}, guess)[1] == expected.report.mapping
