"""Chinese lunar calendar: a thin wrapper around `lunar_python`.

The library does the astronomy; this module gives the rest of the pipeline plain
`datetime.date` values and `ValueError` for dates that do not exist. Lunar months are
numbered 1-12; a leap month carries `is_leap=True` and the number of the month it
follows. Solar terms are computed for Beijing time, as published in China.

It also builds `dim_lunar_day`, the lunar date of every Gregorian day from 1900-01-31
(lunar 1900-01-01) to 2100-12-31, which the SQL marts join against. The library needs
about 2.3 s for the 201 years, so the table is generated once and shipped as
`data/reference/lunar/dim_lunar_day.parquet`; regenerate it with
`python -m pipeline.lib.rules.lunar` (tests/lib/rules/test_lunar.py checks that it
still equals what the installed library computes). Conversions read the lunar months
of 1900-2099 from that table, and ask the library for other years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from lunar_python import LunarYear, Solar

from pipeline.lib.warehouse import query_arrow
from pipeline.settings import PATHS

SOLAR_TERMS = (
    "小寒", "大寒", "立春", "雨水", "惊蛰", "春分", "清明", "谷雨", "立夏", "小满", "芒种", "夏至",
    "小暑", "大暑", "立秋", "处暑", "白露", "秋分", "寒露", "霜降", "立冬", "小雪", "大雪", "冬至",
)


@dataclass(frozen=True)
class LunarDate:
    year: int
    month: int
    day: int
    is_leap: bool = False


def _check_month_day(month: int, day: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"lunar month must be 1-12, got {month}")
    if not 1 <= day <= 30:
        raise ValueError(f"lunar day must be 1-30, got {day}")


def _library_month(month: int, is_leap: bool) -> int:
    """lunar_python numbers a leap month with a minus sign."""
    return -month if is_leap else month


@lru_cache(maxsize=None)
def _year_table(year: int) -> dict[tuple[int, bool], tuple[date, int]]:
    """(month, is_leap) -> (first Gregorian day, day count) for every month of a lunar year:
    from the shipped `dim_lunar_day` for the years it holds whole (1900-2099), else from
    the library. The library takes 17 ms a year (0.6 s for the birth years of a million
    members); the shipped table, read once, 30 ms for all of them."""
    shipped = _shipped_years()
    return shipped[year] if year in shipped else _library_year_table(year)


@lru_cache(maxsize=1)
def _shipped_years() -> dict[int, dict[tuple[int, bool], tuple[date, int]]]:
    """`_year_table` of every lunar year that `dim_lunar_day` holds from its first day to
    its last (the last lunar year runs past the table's end)."""
    if not DIM_LUNAR_DAY.exists():
        return {}
    firsts = pq.read_table(DIM_LUNAR_DAY, filters=[("lunar_day", "=", 1)]).to_pylist()
    last_year = max(row["lunar_year"] for row in firsts)
    years: dict[int, dict[tuple[int, bool], tuple[date, int]]] = {}
    for row in firsts:
        if row["lunar_year"] < last_year:
            months = years.setdefault(row["lunar_year"], {})
            months[(row["lunar_month"], row["is_leap_month"])] = (row["solar_date"],
                                                                  row["lunar_month_days"])
    return years


def _library_year_table(year: int) -> dict[tuple[int, bool], tuple[date, int]]:
    """`_year_table` as the library computes it (it recomputes a year's new moons on every
    call: one table per year keeps many conversions to a few library calls)."""
    table = {}
    for lunar_month in LunarYear.fromYear(year).getMonthsInYear():
        first = Solar.fromJulianDay(lunar_month.getFirstJulianDay())
        number = lunar_month.getMonth()
        table[(abs(number), number < 0)] = (
            date(first.getYear(), first.getMonth(), first.getDay()),
            lunar_month.getDayCount(),
        )
    return table


def lunar_to_solar(year: int, month: int, day: int, is_leap: bool = False) -> date:
    """The Gregorian date of lunar year-month-day; ValueError if that day does not exist."""
    _check_month_day(month, day)
    first, days = _month(year, month, is_leap)
    if day > days:
        raise ValueError(f"lunar {year}-{month}{' (leap)' if is_leap else ''} has no day {day}")
    return first + timedelta(days=day - 1)


def _month(year: int, month: int, is_leap: bool) -> tuple[date, int]:
    try:
        return _year_table(year)[(month, is_leap)]
    except KeyError:
        raise ValueError(f"lunar year {year} has no leap month {month}") from None


def solar_to_lunar(d: date) -> LunarDate:
    """The lunar date of a Gregorian date."""
    lunar = Solar.fromYmd(d.year, d.month, d.day).getLunar()
    month = lunar.getMonth()
    return LunarDate(lunar.getYear(), abs(month), lunar.getDay(), month < 0)


def leap_month(year: int) -> int | None:
    """The number of the leap month in lunar `year`, or None when it has none."""
    return next((month for month, leap in _year_table(year) if leap), None)


def month_length(year: int, month: int, is_leap: bool = False) -> int:
    """Days (29 or 30) in a lunar month; ValueError if the year has no such leap month."""
    _check_month_day(month, 1)
    return _month(year, month, is_leap)[1]


@lru_cache(maxsize=1024)
def solar_term_date(year: int, name: str) -> date:
    """The Gregorian date in `year` of a solar term such as 清明 or 冬至 (Beijing time)."""
    if name not in SOLAR_TERMS:
        raise ValueError(f"unknown solar term {name!r}; expected one of {', '.join(SOLAR_TERMS)}")
    # Terms come every 14.7-15.7 days from 小寒 (5-7 January), within two days of 6
    # January + 15.22 days each: six days before that lies after the term before it, so
    # the first term found is the one asked for (walking from 1 January through every
    # term before it cost a quarter of a second for 清明).
    day = date(year, 1, 6) + timedelta(days=round(15.22 * SOLAR_TERMS.index(name)) - 6)
    for _ in SOLAR_TERMS:
        term = Solar.fromYmd(day.year, day.month, day.day).getLunar().getNextJieQi(True)
        solar = term.getSolar()
        day = date(solar.getYear(), solar.getMonth(), solar.getDay())
        if term.getName() == name:
            return day
        day += timedelta(days=1)
    raise ValueError(f"solar term {name} not found in {year}")  # pragma: no cover


# --- dim_lunar_day -------------------------------------------------------------------

DIM_FIRST_DAY = date(1900, 1, 31)  # lunar 1900-01-01
DIM_LAST_DAY = date(2100, 12, 31)
DIM_LUNAR_DAY = PATHS.reference / "lunar" / "dim_lunar_day.parquet"


def lunar_months(first_year: int, last_year: int) -> pa.Table:
    """One row per month of the lunar years: lunar_year, lunar_month, is_leap_month,
    first_date (its first Gregorian day) and month_days (29 or 30)."""
    rows = [
        (year, month, is_leap, first, days)
        for year in range(first_year, last_year + 1)
        for (month, is_leap), (first, days) in _library_year_table(year).items()
    ]
    names = ["lunar_year", "lunar_month", "is_leap_month", "first_date", "month_days"]
    return pa.table(dict(zip(names, zip(*rows))), schema=pa.schema([
        ("lunar_year", pa.int32()), ("lunar_month", pa.int32()), ("is_leap_month", pa.bool_()),
        ("first_date", pa.date32()), ("month_days", pa.int32()),
    ]))


def build_dim_lunar_day(first_day: date = DIM_FIRST_DAY, last_day: date = DIM_LAST_DAY) -> pa.Table:
    """`dim_lunar_day` for [first_day, last_day] (sql/marts/dim_lunar_day.sql over the
    library's months of every lunar year that reaches those days)."""
    months = lunar_months(first_day.year - 1, last_day.year)
    return query_arrow("marts/dim_lunar_day", {"first_day": first_day, "last_day": last_day},
                       lunar_months=months)


def write_dim_lunar_day(path: Path = DIM_LUNAR_DAY) -> Path:
    """Generate `dim_lunar_day` for 1900-01-31..2100-12-31 into `path` (Parquet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # row groups of 8,192 days (22 years): a window's query reads one or two of them
    pq.write_table(build_dim_lunar_day(), path, compression="zstd", row_group_size=8192)
    return path


if __name__ == "__main__":
    print(write_dim_lunar_day())
