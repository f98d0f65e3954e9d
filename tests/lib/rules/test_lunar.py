"""Lunar conversions against published dates (Spring Festival, Mid-Autumn, leap months), and
the shipped dim_lunar_day table."""

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline.lib.rules import lunar
from pipeline.lib.rules.lunar import (
    DIM_FIRST_DAY,
    DIM_LAST_DAY,
    DIM_LUNAR_DAY,
    LunarDate,
    build_dim_lunar_day,
    leap_month,
    lunar_to_solar,
    month_length,
    solar_term_date,
    solar_to_lunar,
)

SPRING_FESTIVALS = [
    (2020, date(2020, 1, 25)),
    (2021, date(2021, 2, 12)),
    (2022, date(2022, 2, 1)),
    (2023, date(2023, 1, 22)),
    (2024, date(2024, 2, 10)),
    (2025, date(2025, 1, 29)),
    (2026, date(2026, 2, 17)),
    (2027, date(2027, 2, 6)),
    (2028, date(2028, 1, 26)),
    (2029, date(2029, 2, 13)),
    (2030, date(2030, 2, 3)),
]


@pytest.mark.parametrize(("year", "expected"), SPRING_FESTIVALS)
def test_spring_festival(year, expected):
    # 春节 is lunar 1-1; these are the dates the State Council calendars print.
    assert lunar_to_solar(year, 1, 1) == expected


@pytest.mark.parametrize(("year", "expected"), SPRING_FESTIVALS)
def test_spring_festival_round_trip(year, expected):
    assert solar_to_lunar(expected) == LunarDate(year, 1, 1, False)


@pytest.mark.parametrize(
    ("lunar", "expected"),
    [
        ((2026, 8, 15, False), date(2026, 9, 25)),  # 中秋节 2026
        ((2025, 8, 15, False), date(2025, 10, 6)),  # 中秋节 2025, after the leap 6th month
        ((2026, 5, 5, False), date(2026, 6, 19)),  # 端午节 2026
        ((2025, 6, 1, True), date(2025, 7, 25)),  # first day of leap 6th month 2025
        ((2025, 6, 1, False), date(2025, 6, 25)),  # first day of the ordinary 6th month
        ((2024, 12, 29, False), date(2025, 1, 28)),  # 腊月 of lunar 2024 has 29 days: 除夕
        ((2023, 12, 30, False), date(2024, 2, 9)),  # 腊月 of lunar 2023 has 30 days: 除夕
    ],
)
def test_lunar_to_solar(lunar, expected):
    assert lunar_to_solar(*lunar) == expected


@pytest.mark.parametrize(
    ("solar", "expected"),
    [
        (date(2025, 7, 25), LunarDate(2025, 6, 1, True)),  # inside the leap month
        (date(2026, 1, 1), LunarDate(2025, 11, 13, False)),  # Gregorian New Year is lunar 2025
        (date(2026, 2, 16), LunarDate(2025, 12, 29, False)),  # 除夕 2026 on 腊月29
    ],
)
def test_solar_to_lunar(solar, expected):
    assert solar_to_lunar(solar) == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2020, 4),  # 闰四月
        (2023, 2),  # 闰二月
        (2025, 6),  # 闰六月
        (2028, 5),  # 闰五月
        (2026, None),  # no leap month
        (2027, None),
    ],
)
def test_leap_month(year, expected):
    assert leap_month(year) == expected


@pytest.mark.parametrize(
    ("year", "month", "is_leap", "expected"),
    [
        (2024, 12, False, 29),  # no 年三十 in 2025
        (2023, 12, False, 30),
        (2025, 6, True, 29),  # the leap 6th month
        (2025, 6, False, 30),
    ],
)
def test_month_length(year, month, is_leap, expected):
    assert month_length(year, month, is_leap) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2026, 6, 1, True), "no leap month 6"),  # 2026 has no leap month
        ((2024, 12, 30, False), "has no day 30"),  # 腊月 of lunar 2024 has 29 days
        ((2026, 13, 1, False), "month must be 1-12"),
        ((2026, 1, 31, False), "day must be 1-30"),
    ],
)
def test_lunar_to_solar_rejects_missing_days(args, message):
    with pytest.raises(ValueError, match=message):
        lunar_to_solar(*args)


@pytest.mark.parametrize(
    ("year", "name", "expected"),
    [
        (2026, "清明", date(2026, 4, 5)),
        (2026, "冬至", date(2026, 12, 22)),
        (2025, "清明", date(2025, 4, 4)),
        (2025, "冬至", date(2025, 12, 21)),  # 冬至 of lunar 2025's table falls in Dec 2025
        (2026, "小寒", date(2026, 1, 5)),  # the first term of the Gregorian year
        # terms across the year, where the uneven spacing moves them most
        (2021, "立春", date(2021, 2, 3)),
        (2020, "夏至", date(2020, 6, 21)),
        (2024, "小暑", date(2024, 7, 6)),
        (2023, "秋分", date(2023, 9, 23)),
        (2023, "大雪", date(2023, 12, 7)),
    ],
)
def test_solar_term_date(year, name, expected):
    assert solar_term_date(year, name) == expected


def test_solar_term_date_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown solar term"):
        solar_term_date(2026, "Christmas")


# --- dim_lunar_day -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dim() -> pa.Table:
    """The shipped table the birthday marts join against."""
    return pq.read_table(DIM_LUNAR_DAY)


def test_shipped_dim_lunar_day_is_what_the_library_computes(dim):
    # The Parquet is generated once (`python -m pipeline.lib.rules.lunar`); a lunar_python
    # upgrade that moves a new moon must regenerate it, or birthdays would drift.
    assert build_dim_lunar_day().equals(dim)


def test_dim_lunar_day_has_every_day_once_from_1900_to_2100(dim):
    days = dim["solar_date"].to_pylist()
    assert (days[0], days[-1]) == (DIM_FIRST_DAY, DIM_LAST_DAY) == (date(1900, 1, 31),
                                                                    date(2100, 12, 31))
    assert len(days) == (DIM_LAST_DAY - DIM_FIRST_DAY).days + 1 == len(set(days))
    assert dim.schema.names == ["solar_date", "lunar_year", "lunar_month", "lunar_day",
                                "is_leap_month", "lunar_month_days", "leap_month_of_year"]


@pytest.mark.parametrize(
    ("solar", "row"),
    [
        # 1900-01-31 is 春节 of lunar 1900, whose 8th month is doubled
        (date(1900, 1, 31), (1900, 1, 1, False, 29, 8)),
        # 2023 闰二月: its first day; the leap month has 29 days, the ordinary one 30
        (date(2023, 3, 22), (2023, 2, 1, True, 29, 2)),
        (date(2023, 3, 21), (2023, 2, 30, False, 30, 2)),
        # 2025 闰六月: its first and last days (29 days)
        (date(2025, 7, 25), (2025, 6, 1, True, 29, 6)),
        (date(2025, 8, 22), (2025, 6, 29, True, 29, 6)),
        # 除夕 2025 on 腊月29: lunar 2024's 12th month has 29 days and no leap month
        (date(2025, 1, 28), (2024, 12, 29, False, 29, None)),
        # the last day: lunar 2100-12-01
        (date(2100, 12, 31), (2100, 12, 1, False, 29, None)),
    ],
)
def test_dim_lunar_day_rows(dim, solar, row):
    found = dim.filter(pc.equal(dim["solar_date"], pa.scalar(solar, pa.date32()))).to_pylist()
    (found,) = found
    assert tuple(found.values())[1:] == row
    assert lunar_to_solar(row[0], row[1], row[2], row[3]) == solar


@pytest.mark.parametrize("year", [
    1900,  # the shipped table's first lunar year, from its first day
    2023,  # a leap second month
    2033,  # a leap eleventh month, the rare case
    2099,  # the last lunar year the table holds whole
])
def test_conversions_read_the_shipped_months_as_the_library_computes_them(year):
    assert lunar._shipped_years()[year] == lunar._library_year_table(year)


def test_years_the_shipped_table_lacks_come_from_the_library():
    # lunar 2100 runs past the table's last day (2100-12-31); 1899 starts before its first
    assert 2100 not in lunar._shipped_years() and 1899 not in lunar._shipped_years()
    assert lunar.lunar_to_solar(2100, 12, 1) == date(2100, 12, 31)
    assert lunar.lunar_to_solar(1899, 12, 1) == date(1900, 1, 1)
