"""Typing raw values (``rfm.reading.values``): dates, numbers and ids, on tiny columns with hand-computed answers."""

import numpy as np
import pandas as pd
import pytest

from rfm.reading.values import NumberNote, normalise_ids, parse_dates, parse_numbers

T = pd.Timestamp


def dates_of(values, order="auto"):
    dates, decision = parse_dates(pd.Series(values), order)
    return list(dates), decision


def assert_dates(actual, expected):
    """Element-wise, with NaT equal to NaT (``NaT != NaT`` otherwise)."""
    assert [None if pd.isna(a) else a for a in actual] == [None if e is None else T(e) for e in expected]


# --- dates ------------------------------------------------------------------------------------


def test_real_datetimes_pass_through():
    dates, decision = dates_of([T("2010-12-01 08:26"), pd.NaT])
    assert_dates(dates, ["2010-12-01 08:26", None])
    assert decision.formats == ("datetime",)


def test_iso_strings_with_and_without_time():
    dates, decision = dates_of(["2010-12-01 08:26:00", "2011-01-31", "2011-02-03T17:05"])
    assert_dates(dates, ["2010-12-01 08:26", "2011-01-31", "2011-02-03 17:05"])
    assert decision.formats == ("ISO",)


def test_excel_serials_as_numbers():
    # 2010-01-01 is serial 40179 and 1 December is 334 days later: 40513. A fraction is the time of day.
    dates, decision = dates_of([40513, 40513.5, np.nan])
    assert_dates(dates, ["2010-12-01", "2010-12-01 12:00", None])
    assert decision.formats == ("Excel serial",)


def test_excel_serials_as_text():
    dates, decision = dates_of(["40513", "40514.25"])
    assert_dates(dates, ["2010-12-01", "2010-12-02 06:00"])
    assert decision.formats == ("Excel serial",)


@pytest.mark.parametrize("values", [[20101201, 20110131], ["20101201", "20110131"]], ids=["ints", "strings"])
def test_yyyymmdd(values):
    dates, decision = dates_of(values)
    assert_dates(dates, ["2010-12-01", "2011-01-31"])
    assert decision.formats == ("yyyymmdd",)


def test_a_day_above_12_means_day_first_and_the_note_says_why():
    dates, decision = dates_of(["13/01/2010 08:26", "01/02/2010 09:00"])
    assert_dates(dates, ["2010-01-13 08:26", "2010-02-01 09:00"])  # 01/02 read day-first too: 1 February
    assert decision.order == "dayfirst" and decision.detected
    assert "day-first" in decision.note and "13/01/2010" in decision.note


def test_a_second_part_above_12_means_month_first():
    dates, decision = dates_of(["12/01/2010 08:26", "01/13/2010 09:00"])
    assert_dates(dates, ["2010-12-01 08:26", "2010-01-13 09:00"])
    assert decision.order == "monthfirst"
    assert "month-first" in decision.note and "01/13/2010" in decision.note


def test_all_ambiguous_values_are_read_month_first_and_the_note_says_it_is_assumed():
    dates, decision = dates_of(["01/02/2010", "03/04/2010"])
    assert_dates(dates, ["2010-01-02", "2010-03-04"])
    assert decision.order == "monthfirst"
    assert "assumed" in decision.note
    # Undecided: the app asks first, with both readings of a value as written.
    assert decision.undecided and decision.undecided_example == "01/02/2010"
    assert decision.readings() == {"monthfirst": "2 January 2010", "dayfirst": "1 February 2010"}


def test_a_date_order_told_by_the_values_or_chosen_is_not_undecided():
    assert not dates_of(["01/02/2010", "13/04/2010"])[1].undecided  # 13/04 only fits day first
    assert not dates_of(["01/02/2010"], "dayfirst")[1].undecided  # the user chose
    same_both_ways = dates_of(["05/05/2010 10:00", "12/12/2010"])[1]  # day = month: both orders read alike
    assert not same_both_ways.undecided and same_both_ways.readings() == {}
    assert dates_of(["1/12/10 09:30"])[1].readings() == {"monthfirst": "12 January 2010", "dayfirst": "1 December 2010"}


@pytest.mark.slow
def test_the_command_line_says_which_order_it_assumed(cli, tmp_path):
    path = tmp_path / "one_day.csv"
    path.write_text("Invoice,Customer ID,InvoiceDate,Quantity,Price\n" + "".join(f"{i},{100 + i},1/12/2010 09:00,1,2.5\n" for i in range(8)))
    run = cli({"inspect": ["inspect", path]})["inspect"]
    assert run.returncode == 0
    assert (
        "warning: every date fits both day/month orders (e.g. 1/12/2010): read month first, as 12 January 2010; "
        "pass --dates dayfirst to read it as 1 December 2010." in run.stderr.splitlines()
    )


@pytest.mark.parametrize(
    ("order", "expected"), [("dayfirst", "2010-02-01 09:00"), ("monthfirst", "2010-01-02 09:00")]
)
def test_the_user_chooses_the_order(order, expected):
    dates, decision = dates_of(["01/02/2010 09:00"], order)
    assert_dates(dates, [expected])
    assert decision.order == order and not decision.detected
    assert "chosen by the user" in decision.note


def test_the_users_order_wins_over_the_evidence():
    # 13/01/2010 only fits day-first; with month-first chosen it is not a date at all.
    dates, _ = dates_of(["13/01/2010", "01/02/2010"], "monthfirst")
    assert_dates(dates, [None, "2010-01-02"])


def test_two_digit_years():
    # 31/12/05 only fits day-first; 00-69 are 20xx, 70-99 are 19xx.
    dates, decision = dates_of(["31/12/05", "1/2/10 9:00", "1/2/99", "1/2/70"])
    assert_dates(dates, ["2005-12-31", "2010-02-01 09:00", "1999-02-01", "1970-02-01"])
    assert decision.order == "dayfirst"


def test_am_pm():
    dates, _ = dates_of(["12/1/2010 8:26 AM", "12/1/2010 8:26 PM", "12/1/2010 12:05 AM", "12/1/2010 12:05 pm"])
    assert_dates(dates, ["2010-12-01 08:26", "2010-12-01 20:26", "2010-12-01 00:05", "2010-12-01 12:05"])


def test_dots_and_dashes_as_separators():
    dates, _ = dates_of(["13.01.2010", "1-2-2010"])
    assert_dates(dates, ["2010-01-13", "2010-02-01"])


def test_a_column_mixing_iso_serial_and_slashes():
    dates, decision = dates_of(["2010-12-01 08:26", "40514", "13/12/2010 10:00", "2010-12-01 08:26"])
    assert_dates(dates, ["2010-12-01 08:26", "2010-12-02", "2010-12-13 10:00", "2010-12-01 08:26"])
    assert set(decision.formats) == {"ISO", "Excel serial", "d/m/Y"}


def test_written_out_dates():
    dates, decision = dates_of(["1 Dec 2010", "Dec 2, 2010 08:26", "3 December 2010"])
    assert_dates(dates, ["2010-12-01", "2010-12-02 08:26", "2010-12-03"])
    assert decision.formats == ("written-out dates",)


def test_unparseable_values_are_missing_not_guessed():
    values = ["abc", "32/13/2010", "2010-13-45", "31/02/2010", "", "nan", None, "2,55", "1/2", "10-20", "May"]
    dates, _ = dates_of(values + ["2010-12-01"])
    assert_dates(dates, [None] * len(values) + ["2010-12-01"])


@pytest.mark.parametrize("placeholder", ["9999-12-31", "01/01/0001", "0001-01-01"])
def test_placeholder_dates_outside_the_calendar_range_are_missing(placeholder):
    dates, _ = dates_of([placeholder, "2010-12-01"])
    assert_dates(dates, [None, "2010-12-01"])


def test_placeholder_in_a_real_datetime_column_is_missing():
    values = pd.Series(np.array(["9999-12-31", "2010-12-01"], dtype="datetime64[ms]"))
    dates, _ = parse_dates(values)
    assert_dates(list(dates), [None, "2010-12-01"])


def test_an_impossible_date_is_no_evidence_for_the_order():
    # 31/02 is no date in either order, so 01/02/2010 stays ambiguous and is read month-first.
    dates, decision = dates_of(["31/02/2010", "01/02/2010"])
    assert_dates(dates, [None, "2010-01-02"])
    assert decision.order == "monthfirst"
    assert "31/02/2010" not in decision.note


def test_mixed_day_first_and_month_first_evidence_is_reported():
    dates, decision = dates_of(["13/01/2010", "14/01/2010", "01/13/2010", "02/03/2010"])
    # Two values only fit day-first, one only month-first: the majority decides the ambiguous 02/03.
    assert_dates(dates, ["2010-01-13", "2010-01-14", "2010-01-13", "2010-03-02"])
    assert decision.order == "dayfirst"
    assert "mixed" in decision.note
    assert "2 distinct value(s) only fit day-first, 1 only month-first" in decision.note


def test_an_all_blank_column_gives_no_dates():
    dates, decision = parse_dates(pd.Series([None, None], dtype="str"))
    assert dates.isna().all() and len(dates) == 2
    assert decision.formats == ()


def test_dates_keep_the_index_of_the_input():
    values = pd.Series(["2010-12-01", "2010-12-02", "2010-12-01"], index=[7, 3, 5])
    dates, _ = parse_dates(values)
    assert list(dates.index) == [7, 3, 5]
    assert_dates(list(dates), ["2010-12-01", "2010-12-02", "2010-12-01"])


# --- numbers ----------------------------------------------------------------------------------


def numbers_of(values):
    numbers, note = parse_numbers(pd.Series(values), "Price")
    return [None if np.isnan(x) else x for x in numbers], note


def test_currency_symbols_and_codes_are_removed():
    numbers, note = numbers_of(["£1.50", "$2", "€3.25", "EUR 4", "12.50 EUR", "USD12.50"])
    assert numbers == [1.5, 2.0, 3.25, 4.0, 12.5, 12.5]
    assert note.stripped_symbols == 6 and not note.decimal_comma


def test_thousands_separators():
    numbers, note = numbers_of(["1,234.50", "2.55", "3", "1,000,000"])
    assert numbers == [1234.5, 2.55, 3.0, 1_000_000.0]
    assert note.thousands_separators == 2 and not note.decimal_comma


def test_comma_decimals():
    numbers, note = numbers_of(["2,55", "1.234,50", "10"])
    assert numbers == [2.55, 1234.5, 10.0]
    assert note.decimal_comma and note.thousands_separators == 1


def test_a_comma_that_does_not_group_thousands_is_not_a_thousands_separator():
    # The column writes decimals with '.', so "3,50" is malformed: missing, not 350.
    numbers, _ = numbers_of(["1.50", "2.25", "3,50"])
    assert numbers == [1.5, 2.25, None]


def test_a_dot_in_a_comma_decimal_column_that_does_not_group_thousands_is_missing():
    numbers, _ = numbers_of(["2,55", "3,10", "12.5"])
    assert numbers == [2.55, 3.1, None]


def test_parentheses_and_trailing_minus_are_negative():
    numbers, _ = numbers_of(["(12.00)", "5-", "-3", "(£1,234.50)"])
    assert numbers == [-12.0, -5.0, -3.0, -1234.5]


def test_text_and_infinity_are_not_numbers():
    numbers, _ = numbers_of(["abc", "inf", "-inf", "nan", "", None, "7"])
    assert numbers == [None, None, None, None, None, None, 7.0]


def test_infinite_floats_are_not_numbers():
    numbers, note = numbers_of([1.0, np.inf, -np.inf, np.nan])
    assert numbers == [1.0, None, None, None]
    assert note.describe() is None


def test_number_note_describes_what_was_done():
    assert NumberNote("Price", False, 0, 0).describe() is None
    assert NumberNote("Price", False, 2, 0).describe() == "Price: removed currency symbols from 2 value(s)"
    assert NumberNote("Price", True, 2, 1).describe() == (
        "Price: removed currency symbols from 2 value(s); read thousands separators in 1 value(s); "
        "read ',' as the decimal separator"
    )


def test_number_note_from_parsing():
    _, note = numbers_of(["£1,234.50", "$5.00"])
    assert note.describe() == "Price: removed currency symbols from 2 value(s); read thousands separators in 1 value(s)"


def test_a_space_grouping_thousands_is_not_a_currency_symbol():
    numbers, note = numbers_of(["1 234,50", "12,00"])
    assert numbers == [1234.5, 12.0]
    assert note.stripped_symbols == 0


# --- ids --------------------------------------------------------------------------------------


def ids_of(values):
    return [None if pd.isna(x) else x for x in normalise_ids(pd.Series(values))]


def test_excel_float_ids_lose_their_decimal_point():
    assert ids_of([12346.0, np.nan, 12347.0]) == ["12346", None, "12347"]


def test_text_ids_keep_zero_padding_and_lose_a_trailing_dot_zero():
    assert ids_of(["012346", "12346.0", " 17850 ", "C123"]) == ["012346", "12346", "17850", "C123"]


@pytest.mark.parametrize("blank", ["", "  ", "nan", "NULL", "None", "n/a", None])
def test_blank_ids_are_missing(blank):
    assert ids_of(["12346", blank]) == ["12346", None]


def test_integer_ids():
    assert ids_of([12346, 12347]) == ["12346", "12347"]
