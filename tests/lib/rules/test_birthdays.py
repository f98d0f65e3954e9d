"""Birthdays and anniversaries in a window: the SQL marts (sql/marts/upcoming_birthdays.sql,
anniversaries.sql) on tiny member tables, the CONTRACT §3 rules edge by edge."""

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.lib.rules.birthdays import (
    ANNIVERSARY_COLUMNS,
    BIRTHDAY_COLUMNS,
    anniversaries_in_window,
    birthdays_in_window,
)


def month(year, number):
    """The edition-month window (first day, last day)."""
    last = (date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, number, 1), date(year, number, last)


DEC_2026 = month(2026, 12)
YEAR_END = (date(2026, 12, 15), date(2027, 1, 15))


def solar(member_id, born, calendar="solar", leap=None):
    """A staged member born on the Gregorian date `born`."""
    return {"member_id": member_id, "birth_date": born, "birth_calendar": calendar,
            "birth_lunar": None, "is_birth_lunar_leap": leap}


def lunar(member_id, born_lunar, leap=False):
    """A staged lunar member: `born_lunar` is the lunar year-month-day as staging keeps it
    (text, since lunar 2-30 is no Gregorian date)."""
    return {"member_id": member_id, "birth_date": None, "birth_calendar": "lunar",
            "birth_lunar": born_lunar, "is_birth_lunar_leap": leap}


def members(*rows):
    frame = pd.DataFrame(list(rows), columns=["member_id", "birth_date", "birth_calendar",
                                              "birth_lunar", "is_birth_lunar_leap"])
    return frame.astype({"birth_date": "datetime64[us]", "birth_calendar": "string",
                         "birth_lunar": "string", "is_birth_lunar_leap": "boolean"})


def found(rows, window, milestones=(60, 70, 80, 90, 100)):
    """(birthday, age, calendar) of every birthday in the window, in table order."""
    table = birthdays_in_window(members(*rows), *window, milestones).to_pylist()
    return [(r["birthday"], r["age"], r["calendar"]) for r in table]


@pytest.mark.parametrize(
    ("row", "window", "expected"),
    [
        # a solar birthday on the window's last day; age = Gregorian years
        (solar("m", date(1990, 12, 31)), DEC_2026, (date(2026, 12, 31), 36, "solar")),
        # a blank calendar means solar
        (solar("m", date(1990, 12, 1), None), DEC_2026, (date(2026, 12, 1), 36, "solar")),
        # the leap flag means nothing on a solar birth
        (solar("m", date(1990, 12, 1), leap=True), DEC_2026, (date(2026, 12, 1), 36, "solar")),
        # year-end window: a January birthday falls in the next Gregorian year
        (solar("m", date(1967, 1, 10)), YEAR_END, (date(2027, 1, 10), 60, "solar")),
        (solar("m", date(1967, 12, 20)), YEAR_END, (date(2026, 12, 20), 59, "solar")),
        # solar 29 February: the 28th in a common year, the 29th (only) in a leap year
        (solar("m", date(1960, 2, 29)), month(2026, 2), (date(2026, 2, 28), 66, "solar")),
        (solar("m", date(1960, 2, 29)), month(2028, 2), (date(2028, 2, 29), 68, "solar")),
        # 2100 is no leap year (century rule): 28 February
        (solar("m", date(2096, 2, 29)), month(2100, 2), (date(2100, 2, 28), 4, "solar")),
        # 2023 闰二月: a birth in a leap 2nd month (2004 had one too) falls in the leap month
        (lunar("m", "2004-02-10", leap=True), month(2023, 3), (date(2023, 3, 31), 19, "lunar")),
        # ... and in 2024, which has no leap month, in the ordinary 2nd month
        (lunar("m", "2004-02-10", leap=True), month(2024, 3), (date(2024, 3, 19), 20, "lunar")),
        # an ordinary 2/10 birth in 2023 stays in the ordinary month, before the leap one
        (lunar("m", "2004-02-10"), month(2023, 3), (date(2023, 3, 1), 19, "lunar")),
        # 2023's ordinary 2nd month has 30 days: a 2/30 birth keeps its day
        (lunar("m", "1990-02-30"), month(2023, 3), (date(2023, 3, 21), 33, "lunar")),
        # 2025 闰六月: a leap 6/10 birth falls on 3 August, not on the ordinary 6/10
        (lunar("m", "1987-06-10", leap=True), month(2025, 8), (date(2025, 8, 3), 38, "lunar")),
        (lunar("m", "1987-06-10"), month(2025, 7), (date(2025, 7, 4), 38, "lunar")),
        # leap 6/30 (1979's leap 6th month had 30 days) in 2025, whose has 29: day 29
        (lunar("m", "1979-06-30", leap=True), month(2025, 8), (date(2025, 8, 22), 46, "lunar")),
        # 2026 has no leap month: a leap 4th-month birth falls in the ordinary 4th month
        (lunar("m", "2020-04-10", leap=True), month(2026, 5), (date(2026, 5, 26), 6, "lunar")),
        # lunar day 30 in a 29-day month: 腊月 of lunar 2024 has 29 days, 28 Jan 2025
        (lunar("m", "1950-12-30"), month(2025, 1), (date(2025, 1, 28), 74, "lunar")),
        # lunar 2-30 arrives as text; lunar 2026's 2nd month has 29 days
        (lunar("m", "1990-02-30"), month(2026, 4), (date(2026, 4, 16), 36, "lunar")),
        # a 12th-month birthday of lunar 2026 (腊八) lands in January 2027: lunar age 60
        (lunar("m", "1966-12-08"), month(2027, 1), (date(2027, 1, 15), 60, "lunar")),
        # an 11th-month birthday in January 2026 belongs to lunar 2025
        (lunar("m", "1965-11-20"), month(2026, 1), (date(2026, 1, 8), 60, "lunar")),
        # lunar 1/1 in February 2027 belongs to lunar 2027
        (lunar("m", "1947-01-01"), month(2027, 2), (date(2027, 2, 6), 80, "lunar")),
        # 腊月29 of lunar 2026 (除夕 that year) falls on 5 Feb 2027
        (lunar("m", "1990-12-29"), month(2027, 2), (date(2027, 2, 5), 36, "lunar")),
        # lunar age: born lunar 1965-12-20 (11 Jan 1966), 60 on 7 Feb 2026, not 61
        (lunar("m", "1965-12-20"), month(2026, 2), (date(2026, 2, 7), 60, "lunar")),
        # the first days of the lunar calendar: born lunar 1900-01-01, one on 19 Feb 1901
        (lunar("m", "1900-01-01"), month(1901, 2), (date(1901, 2, 19), 1, "lunar")),
        # its last day: 2100-12-31 is lunar 2100-12-01
        (lunar("m", "2000-12-01"), month(2100, 12), (date(2100, 12, 31), 100, "lunar")),
    ],
)
def test_birthday_occurrence(row, window, expected):
    assert found([row], window) == [expected]


@pytest.mark.parametrize(
    ("row", "window"),
    [
        # born leap 6/10; in 2025, which has that leap month, the ordinary 6/10 is not it
        (lunar("m", "1987-06-10", leap=True), month(2025, 7)),
        # born inside the window: the birth, not a birthday (age 0)
        (solar("baby", date(2026, 12, 3)), DEC_2026),
        (lunar("m", "1900-01-01"), (date(1900, 1, 31), date(1900, 2, 28))),
        # no birth date, or a lunar birth staging could not read
        (solar("m", None), DEC_2026),
        (lunar("m", None), month(2027, 1)),
        (lunar("m", "not a date"), month(2027, 1)),
        (lunar("m", "1990-13-01"), month(2027, 1)),
        # a 12th-month birth of lunar 2026 is in January 2027, not December 2026
        (lunar("m", "1966-12-08"), DEC_2026),
    ],
)
def test_no_birthday(row, window):
    assert found([row], window) == []


def test_window_longer_than_a_lunar_year_can_hold_two_occurrences():
    # lunar 11/15: 3 Jan 2026 (lunar 2025) and 23 Dec 2026 (lunar 2026).
    rows = [lunar("m", "1980-11-15")]
    expected = [(date(2026, 1, 3), 45, "lunar"), (date(2026, 12, 23), 46, "lunar")]
    assert found(rows, (date(2026, 1, 1), date(2026, 12, 31))) == expected


@pytest.mark.parametrize(
    ("born", "milestones", "age", "milestone"),
    [
        (date(1966, 12, 10), (60, 70, 80, 90, 100), 60, True),  # the default milestones
        (date(1926, 12, 10), (60, 70, 80, 90, 100), 100, True),
        (date(1967, 12, 10), (60, 70, 80, 90, 100), 59, False),
        (date(1976, 12, 10), (50,), 50, True),  # milestones are the club's setting
        (date(1966, 12, 10), (), 60, False),  # none set: no milestone
    ],
)
def test_milestones(born, milestones, age, milestone):
    (row,) = birthdays_in_window(members(solar("m", born)), *DEC_2026, milestones).to_pylist()
    assert (row["age"], row["milestone"]) == (age, milestone)


def test_columns_types_and_order():
    rows = [
        solar("b", date(1980, 12, 5)),
        solar("a", date(1981, 12, 5)),
        solar("c", date(1980, 12, 1)),
        lunar("d", "1980-10-14"),  # lunar 2026 10/14 = 22 Nov: not in December
        lunar("e", "1950-11-02"),  # lunar 2026 11/2 = 11 Dec
    ]
    table = birthdays_in_window(members(*rows), *DEC_2026)
    assert table.schema == pa.schema([("member_id", pa.string()), ("birthday", pa.date32()),
                                      ("calendar", pa.string()), ("age", pa.int64()),
                                      ("milestone", pa.bool_())])
    assert table.column_names == BIRTHDAY_COLUMNS
    # by birthday, then member_id
    assert table["member_id"].to_pylist() == ["c", "a", "b", "e"]


def test_empty_members_give_an_empty_table_with_the_columns():
    table = birthdays_in_window(members(), *DEC_2026)
    assert table.num_rows == 0 and table.column_names == BIRTHDAY_COLUMNS


@pytest.mark.parametrize(
    "window",
    [
        (date(1900, 1, 1), date(1900, 1, 31)),  # before lunar 1900-01-01
        (date(2101, 1, 1), date(2101, 1, 31)),  # after the last day of dim_lunar_day
    ],
)
def test_window_outside_the_lunar_calendar_is_an_error(window):
    with pytest.raises(ValueError, match="outside the lunar calendar"):
        birthdays_in_window(members(solar("m", date(1950, 1, 5))), *window)


# --- anniversaries -----------------------------------------------------------------


def since(*rows):
    """rows of (member_id, join_date, move_in_date)."""
    frame = pd.DataFrame(list(rows), columns=["member_id", "join_date", "move_in_date"])
    return frame.astype({"join_date": "datetime64[us]", "move_in_date": "datetime64[us]"})


def kept(frame, window, **every):
    table = anniversaries_in_window(frame, *window, **every).to_pylist()
    return [(r["member_id"], r["anniversary_date"], r["years"], r["kind"]) for r in table]


def test_anniversary_columns_and_types():
    table = anniversaries_in_window(since(("m", date(2016, 12, 3), None)), *DEC_2026)
    assert table.column_names == ANNIVERSARY_COLUMNS
    assert table.schema.types == [pa.string(), pa.date32(), pa.int64(), pa.string()]
    assert table.to_pylist() == [{"member_id": "m", "anniversary_date": date(2026, 12, 3),
                                  "years": 10, "kind": "membership"}]


@pytest.mark.parametrize(
    ("joined_on", "window", "expected"),
    [
        # 29 February joins: the 28th in a common year, the 29th in a leap year
        (date(2016, 2, 29), month(2026, 2), [(date(2026, 2, 28), 10)]),
        (date(2016, 2, 29), month(2028, 2), [(date(2028, 2, 29), 12)]),
        # year-end window: the anniversary in January of the next year
        (date(2020, 1, 2), YEAR_END, [(date(2027, 1, 2), 7)]),
        # joined inside the window: no anniversary yet
        (date(2026, 12, 3), DEC_2026, []),
        # no join date
        (None, DEC_2026, []),
    ],
)
def test_membership_anniversaries(joined_on, window, expected):
    assert [(d, y) for _, d, y, _ in kept(since(("m", joined_on, None)), window)] == expected


def test_every_keeps_round_years_only():
    frame = since(("five", date(2021, 12, 1), date(2020, 12, 9)),
                  ("six", date(2020, 12, 1), date(2016, 12, 2)),
                  ("ten", date(2016, 12, 1), None))
    assert kept(frame, DEC_2026, membership_every=5, ownership_every=10) == [
        ("five", date(2026, 12, 1), 5, "membership"),
        ("ten", date(2026, 12, 1), 10, "membership"),
        ("six", date(2026, 12, 2), 10, "ownership"),
    ]


def test_membership_first_then_ownership_each_by_date():
    # the table lists every membership anniversary before the ownership ones
    frame = since(("a", date(2020, 12, 20), date(2021, 12, 1)),
                  ("b", date(2019, 12, 5), date(2018, 12, 30)))
    assert kept(frame, DEC_2026) == [
        ("b", date(2026, 12, 5), 7, "membership"),
        ("a", date(2026, 12, 20), 6, "membership"),
        ("a", date(2026, 12, 1), 5, "ownership"),
        ("b", date(2026, 12, 30), 8, "ownership"),
    ]


@pytest.mark.parametrize(
    ("every", "kinds"),
    [
        ({"membership_every": 0}, ["ownership"]),  # 0 turns membership anniversaries off
        ({"ownership_every": 0}, ["membership"]),
        ({"membership_every": 0, "ownership_every": 0}, []),
    ],
)
def test_a_kind_can_be_turned_off(every, kinds):
    frame = since(("m", date(2020, 12, 20), date(2021, 12, 1)))
    assert [kind for *_, kind in kept(frame, DEC_2026, **every)] == kinds


def test_anniversaries_need_no_lunar_calendar():
    # solar dates only: a window past dim_lunar_day's last day still works
    frame = since(("m", date(2090, 1, 10), None))
    assert kept(frame, month(2101, 1)) == [("m", date(2101, 1, 10), 11, "membership")]
