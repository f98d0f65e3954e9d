"""Lunar conversions against published dates (Spring Festival, Mid-Autumn, leap months)."""

from datetime import date

import pytest

from pipeline.lib.rules.lunar import (
    LunarDate,
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
    ],
)
def test_solar_term_date(year, name, expected):
    assert solar_term_date(year, name) == expected


def test_solar_term_date_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown solar term"):
        solar_term_date(2026, "Christmas")
