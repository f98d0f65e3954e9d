"""Birthdays and anniversaries in a window: the CONTRACT §3 rules, edge by edge."""

from datetime import date, timedelta

import pandas as pd
import pytest

from pipeline.lib.rules.birthdays import (
    ANNIVERSARY_COLUMNS,
    BIRTHDAY_COLUMNS,
    anniversaries_in_window,
    birthday_in_year,
    birthdays_in_window,
)



def month(year, number):
    """The edition-month window (first day, last day)."""
    last = (date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, number, 1), date(year, number, last)


DEC_2026 = month(2026, 12)
YEAR_END = (date(2026, 12, 15), date(2027, 1, 15))


def members(*rows):
    """rows of (member_id, birth_date, birth_calendar, is_birth_lunar_leap)."""
    return pd.DataFrame(
        rows, columns=["member_id", "birth_date", "birth_calendar", "is_birth_lunar_leap"]
    )


def one(frame):
    assert len(frame) == 1, frame
    return frame.iloc[0]


@pytest.mark.parametrize(
    ("birth", "calendar", "is_leap", "year", "expected"),
    [
        # solar 29 February: the 28th in a common year, the 29th in a leap year
        (date(1960, 2, 29), "solar", False, 2026, date(2026, 2, 28)),
        (date(1960, 2, 29), "solar", False, 2028, date(2028, 2, 29)),
        # born in leap 4th month of 2020; 2026 has no leap month: ordinary 4th month
        (date(2020, 4, 10), "lunar", True, 2026, date(2026, 5, 26)),
        # born in leap 4th month; 2020 has it: the birthday falls in the leap month
        (date(2020, 4, 10), "lunar", True, 2020, date(2020, 6, 1)),
        # born in leap 6th month of 1987; 2025 has a leap 6th month: 3 Aug, not 4 Jul
        (date(1987, 6, 10), "lunar", True, 2025, date(2025, 8, 3)),
        (date(1987, 6, 10), "lunar", False, 2025, date(2025, 7, 4)),  # ordinary-month twin
        # leap 6/30, but 2025's leap 6th month has 29 days: day 29
        (date(1987, 6, 30), "lunar", True, 2025, date(2025, 8, 22)),
        # lunar 12/30 when 腊月 has 29 days (lunar 2024): 腊月29, 28 Jan 2025
        (date(1950, 12, 30), "lunar", False, 2024, date(2025, 1, 28)),
        # lunar 12/30 when 腊月 has 30 days (lunar 2023): 9 Feb 2024
        (date(1950, 12, 30), "lunar", False, 2023, date(2024, 2, 9)),
        # 腊八 of lunar 2026 falls in January of Gregorian 2027
        (date(1966, 12, 8), "lunar", False, 2026, date(2027, 1, 15)),
        # Mid-Autumn birthday
        (date(1970, 8, 15), "lunar", False, 2026, date(2026, 9, 25)),
    ],
)
def test_birthday_in_year(birth, calendar, is_leap, year, expected):
    assert birthday_in_year(birth, calendar, is_leap, year) == expected


def test_output_columns_and_types():
    found = birthdays_in_window(members(("m1", date(1966, 12, 20), "solar", False)), *DEC_2026)
    assert list(found.columns) == BIRTHDAY_COLUMNS
    row = one(found)
    assert type(row["birthday"]) is date
    assert (row["calendar"], row["age"], bool(row["milestone"])) == ("solar", 60, True)


def test_empty_members_give_empty_table():
    found = birthdays_in_window(members(), *DEC_2026)
    assert list(found.columns) == BIRTHDAY_COLUMNS and found.empty


@pytest.mark.parametrize(
    ("row", "window", "birthday", "age"),
    [
        # solar birthday just inside the edition month; age = Gregorian year difference
        (("m", date(1990, 12, 31), "solar", False), DEC_2026, date(2026, 12, 31), 36),
        # blank calendar means solar
        (("m", date(1990, 12, 1), None, None), DEC_2026, date(2026, 12, 1), 36),
        # the leap flag is ignored on a solar birth
        (("m", date(1990, 12, 1), "solar", True), DEC_2026, date(2026, 12, 1), 36),
        # year-end window: a January birthday lands in the next Gregorian year
        (("m", date(1967, 1, 10), "solar", False), YEAR_END, date(2027, 1, 10), 60),
        (("m", date(1967, 12, 20), "solar", False), YEAR_END, date(2026, 12, 20), 59),
        # solar 29 February in a common-year window: 28 February
        (("m", date(1960, 2, 29), "solar", False), month(2026, 2), date(2026, 2, 28), 66),
        # lunar 腊八 in January 2027 belongs to lunar 2026: age 2026 - 1966
        (("m", date(1966, 12, 8), "lunar", False), month(2027, 1), date(2027, 1, 15), 60),
        # lunar 11/20 in January 2026 belongs to the previous lunar year 2025
        (("m", date(1965, 11, 20), "lunar", False), month(2026, 1), date(2026, 1, 8), 60),
        # lunar 1/1 in February 2027 belongs to lunar 2027 (the next one)
        (("m", date(1947, 1, 1), "lunar", False), month(2027, 2), date(2027, 2, 6), 80),
        # lunar 12/29 (除夕 this year) of lunar 2026 falls on 5 Feb 2027
        (("m", date(1990, 12, 29), "lunar", False), month(2027, 2), date(2027, 2, 5), 36),
        # leap-month birth, 2026 has no leap month: ordinary 4th month
        (("m", date(2020, 4, 10), "lunar", True), month(2026, 5), date(2026, 5, 26), 6),
        # leap-month birth in a year with that leap month (2025, leap 6th)
        (("m", date(1987, 6, 10), "lunar", True), month(2025, 8), date(2025, 8, 3), 38),
        # lunar day 30 in a 29-day month (腊月 of lunar 2024)
        (("m", date(1950, 12, 30), "lunar", False), month(2025, 1), date(2025, 1, 28), 74),
        # lunar 2-30 is no Gregorian date, so it arrives as text; lunar 2026's 2nd month has 29 days
        (("m", "1990-02-30", "lunar", False), month(2026, 4), date(2026, 4, 16), 36),
        # datetime values are read as their calendar date
        (("m", pd.Timestamp("1966-12-20 08:30"), "solar", False), DEC_2026, date(2026, 12, 20), 60),
    ],
)
def test_birthday_occurrence(row, window, birthday, age):
    found = one(birthdays_in_window(members(row), *window))
    expected = (birthday, age, row[2] or "solar")
    assert (found["birthday"], found["age"], found["calendar"]) == expected


def test_leap_birth_not_in_ordinary_month_of_a_leap_year():
    # Born leap 6/10; in 2025 the ordinary 6/10 (4 July) is not the birthday.
    row = ("m", date(1987, 6, 10), "lunar", True)
    assert birthdays_in_window(members(row), *month(2025, 7)).empty


@pytest.mark.parametrize(
    "birth_date",
    [None, pd.NaT, float("nan"), "not a date", "1990-13-01"],  # blank or unusable: no birthday
)
def test_member_without_birth_date_is_excluded(birth_date):
    frame = members(("none", birth_date, "solar", None), ("ok", date(1980, 12, 5), "solar", None))
    assert list(birthdays_in_window(frame, *DEC_2026)["member_id"]) == ["ok"]


def test_solar_text_that_is_no_date_is_excluded():
    # 30 February is accepted only for lunar births.
    frame = members(("m", "1990-02-30", "solar", False))
    assert birthdays_in_window(frame, date(2026, 2, 1), date(2026, 3, 31)).empty


@pytest.mark.parametrize(
    ("born", "age", "milestone"),
    [
        (date(1966, 12, 10), 60, True),  # default milestones 60, 70, 80, 90, 100
        (date(1956, 12, 10), 70, True),
        (date(1926, 12, 10), 100, True),
        (date(1967, 12, 10), 59, False),
        (date(1961, 12, 10), 65, False),
    ],
)
def test_milestones(born, age, milestone):
    found = one(birthdays_in_window(members(("m", born, "solar", False)), *DEC_2026))
    assert (found["age"], bool(found["milestone"])) == (age, milestone)


def test_milestones_are_a_parameter():
    frame = members(("m", date(1976, 12, 10), "solar", False))
    found = one(birthdays_in_window(frame, *DEC_2026, milestones=(50,)))
    assert (found["age"], bool(found["milestone"])) == (50, True)


def test_age_counts_lunar_years_not_gregorian_ones():
    # Born lunar 1965-12-20 = 11 Jan 1966; the 60th lunar birthday is lunar 2025-12-20,
    # 7 Feb 2026: the Gregorian difference would say 61.
    frame = members(("m", date(1965, 12, 20), "lunar", False))
    found = one(birthdays_in_window(frame, *month(2026, 2)))
    assert (found["birthday"], found["age"]) == (date(2026, 2, 7), 60)


def test_no_birthday_before_birth():
    # Born inside the window: that is the birth, not a birthday (age 0).
    frame = members(("baby", date(2026, 12, 3), "solar", False))
    assert birthdays_in_window(frame, *DEC_2026).empty


def test_window_longer_than_a_lunar_year_can_hold_two_occurrences():
    # lunar 11/15: 3 Jan 2026 (lunar 2025) and 23 Dec 2026 (lunar 2026).
    frame = members(("m", date(1980, 11, 15), "lunar", False))
    found = birthdays_in_window(frame, date(2026, 1, 1), date(2026, 12, 31))
    expected = [(date(2026, 1, 3), 45), (date(2026, 12, 23), 46)]
    assert list(zip(found["birthday"], found["age"])) == expected


def test_sorted_by_birthday_then_member_id():
    frame = members(
        ("b", date(1980, 12, 5), "solar", False),
        ("a", date(1981, 12, 5), "solar", False),
        ("c", date(1980, 12, 1), "solar", False),
        ("d", date(1980, 10, 14), "lunar", False),  # lunar 2026 10/14 = 22 Nov: not in December
    )
    found = birthdays_in_window(frame, *DEC_2026)
    assert list(found["member_id"]) == ["c", "a", "b"]


def test_leap_column_may_be_called_birth_lunar_leap():
    frame = pd.DataFrame({
        "member_id": ["m"], "birth_date": [date(1987, 6, 10)],
        "birth_calendar": ["lunar"], "birth_lunar_leap": [True],
    })
    found = one(birthdays_in_window(frame, *month(2025, 8)))
    assert found["birthday"] == date(2025, 8, 3)


# --- anniversaries -----------------------------------------------------------------


def joined(*rows, column="join_date"):
    return pd.DataFrame(rows, columns=["member_id", column])


def test_anniversary_columns():
    found = anniversaries_in_window(joined(("m", date(2016, 12, 3))), *DEC_2026)
    assert list(found.columns) == ANNIVERSARY_COLUMNS
    assert tuple(one(found)) == ("m", date(2026, 12, 3), 10, "membership")


@pytest.mark.parametrize(
    ("joined_on", "window", "expected"),
    [
        # 29 February joins: the 28th in a common year, the 29th in a leap year
        (date(2016, 2, 29), month(2026, 2), (date(2026, 2, 28), 10)),
        (date(2016, 2, 29), month(2028, 2), (date(2028, 2, 29), 12)),
        # year-end window
        (date(2020, 1, 2), YEAR_END, (date(2027, 1, 2), 7)),
        # joined inside the window: no anniversary yet
        (date(2026, 12, 3), DEC_2026, None),
        # no join date
        (None, DEC_2026, None),
    ],
)
def test_membership_anniversaries(joined_on, window, expected):
    found = anniversaries_in_window(joined(("m", joined_on)), *window)
    got = None if found.empty else (one(found)["anniversary_date"], one(found)["years"])
    assert got == expected


def test_every_keeps_round_years_only():
    frame = joined(
        ("five", date(2021, 12, 1)), ("six", date(2020, 12, 1)), ("ten", date(2016, 12, 1))
    )
    found = anniversaries_in_window(frame, *DEC_2026, every=5)
    assert list(zip(found["member_id"], found["years"])) == [("five", 5), ("ten", 10)]


def test_ownership_anniversaries_from_move_in_date():
    frame = joined(("m", date(2021, 12, 8)), column="move_in_date")
    found = one(anniversaries_in_window(frame, *DEC_2026, column="move_in_date"))
    assert (found["kind"], found["years"]) == ("ownership", 5)


def test_unknown_column_needs_a_kind():
    frame = joined(("m", date(2021, 12, 8)), column="wedding_date")
    with pytest.raises(ValueError, match="wedding_date"):
        anniversaries_in_window(frame, *DEC_2026, column="wedding_date")
    found = anniversaries_in_window(frame, *DEC_2026, column="wedding_date", kind="wedding")
    assert list(found["kind"]) == ["wedding"]


def test_window_bounds_may_be_timestamps():
    frame = members(("m", date(1966, 12, 8), "lunar", False))
    found = birthdays_in_window(frame, pd.Timestamp("2027-01-01"), pd.Timestamp("2027-01-31"))
    assert one(found)["birthday"] == date(2027, 1, 15)
