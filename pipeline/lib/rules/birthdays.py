"""Birthdays and anniversaries that fall in a date window (CONTRACT §3 Birthdays).

Rules: a lunar leap-month birthday falls in the ordinary month of that number when the
year has no such leap month; lunar day 30 falls on day 29 when the month has only 29
days that year; a solar 29 February falls on 28 February in common years.

A lunar birthday of lunar year Y may fall in January or February of Gregorian Y+1 (11th
and 12th months), so a window is checked against every lunar year that can reach it. A
window returns every occurrence inside it: one per member for an edition month, two
for some lunar birthdays in a window longer than a lunar year (354 days).

Dates are plain calendar dates: the caller picks the window in the club's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from pipeline.lib.rules.lunar import leap_month, lunar_to_solar, month_length

MILESTONES = (60, 70, 80, 90, 100)
BIRTHDAY_COLUMNS = ["member_id", "birthday", "calendar", "age", "milestone"]
ANNIVERSARY_COLUMNS = ["member_id", "anniversary_date", "years", "kind"]
ANNIVERSARY_KINDS = {"join_date": "membership", "move_in_date": "ownership"}
LEAP_COLUMNS = ("is_birth_lunar_leap", "birth_lunar_leap")
_ISO = re.compile(r"^\s*(\d{1,4})-(\d{1,2})-(\d{1,2})\s*$")


# --- one birthday ------------------------------------------------------------------


def solar_birthday(month: int, day: int, year: int) -> date:
    """The solar birthday in Gregorian `year`; 29 February falls on the 28th in common years."""
    if (month, day) == (2, 29) and not _is_leap_year(year):
        return date(year, 2, 28)
    return date(year, month, day)


@lru_cache(maxsize=65536)
def lunar_birthday(month: int, day: int, is_leap: bool, year: int) -> date:
    """The Gregorian date of a lunar birthday in lunar `year` (§3 leap-month and day-30 rules)."""
    leap = is_leap and leap_month(year) == month
    day = min(day, month_length(year, month, leap))
    return _lunar_month_start(year, month, leap) + timedelta(days=day - 1)


@lru_cache(maxsize=4096)
def _lunar_month_start(year: int, month: int, is_leap: bool) -> date:
    return lunar_to_solar(year, month, 1, is_leap)


def birthday_in_year(birth: date, calendar: str, is_leap: bool, year: int) -> date:
    """The birthday in `year`: a Gregorian year for `solar`, a lunar year for `lunar`.

    For `lunar`, `birth` holds the lunar year-month-day and the result may fall in
    January or February of Gregorian `year + 1`.
    """
    if calendar == "lunar":
        return lunar_birthday(birth.month, birth.day, bool(is_leap), year)
    return solar_birthday(birth.month, birth.day, year)


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# --- reading the members frame -----------------------------------------------------


def _ymd(value: object) -> tuple[int, int, int]:
    """(year, month, day) of a date or ISO text; (0, 0, 0) when it is neither.

    Text lets a lunar date that is no Gregorian date (lunar 2-30) through.
    """
    if isinstance(value, date):
        return value.year, value.month, value.day
    match = _ISO.match(value) if isinstance(value, str) else None
    if match is None:
        return 0, 0, 0
    year, month, day = (int(part) for part in match.groups())
    return (year, month, day) if 1 <= month <= 12 and 1 <= day <= 31 else (0, 0, 0)


def _ymd_arrays(values: pd.Series) -> np.ndarray:
    """An (n, 3) int array of year, month, day; a row of zeros where there is no date."""
    stamps = pd.to_datetime(values, errors="coerce", format="ISO8601")  # fast for dates
    parts = [stamps.dt.year, stamps.dt.month, stamps.dt.day]
    ymd = np.column_stack([p.fillna(0).astype("int64").to_numpy() for p in parts])
    missed = (stamps.isna() & values.notna()).to_numpy()
    if missed.any():  # e.g. lunar "1990-02-30", which is no Gregorian date
        ymd[missed] = _ymd_slow(values[missed])
    return ymd


def _ymd_slow(values: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([_ymd(v) for v in uniques] + [(0, 0, 0)], dtype="int64").reshape(-1, 3)
    return table[codes]  # the sentinel -1 picks the last row, the zeros


def _dates64(years: np.ndarray | int, months: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Vectorised date(year, month, day) as datetime64[D] (days must exist)."""
    first = ((np.asarray(years) - 1970) * 12 + np.asarray(months) - 1).astype("datetime64[M]")
    return first.astype("datetime64[D]") + (np.asarray(days) - 1)


def _days_in_month(years: np.ndarray, months: np.ndarray) -> np.ndarray:
    start = _dates64(years, months, np.ones_like(months))
    return (_dates64(years, months + 1, np.ones_like(months)) - start).astype("int64")


def _column(members: pd.DataFrame, names: Sequence[str], default: object) -> pd.Series:
    for name in names:
        if name in members.columns:
            return members[name]
    return pd.Series(default, index=members.index, dtype=object)


def _births(members: pd.DataFrame) -> pd.DataFrame:
    """member_id, year, month, day, is_lunar, is_leap of members with a usable birth date."""
    ymd = _ymd_arrays(members["birth_date"])
    is_lunar = (_column(members, ["birth_calendar"], "solar") == "lunar").to_numpy(dtype=bool)
    leap = _column(members, LEAP_COLUMNS, False).astype("boolean").fillna(False)
    leap = leap.to_numpy(dtype=bool)
    births = pd.DataFrame({
        "member_id": members["member_id"].to_numpy(),
        "year": ymd[:, 0], "month": ymd[:, 1], "day": ymd[:, 2],
        "is_lunar": is_lunar, "is_leap": leap & is_lunar,
    })
    return births[_usable(births)].reset_index(drop=True)


def _usable(births: pd.DataFrame) -> np.ndarray:
    """A real Gregorian date for solar births; month 1-12, day 1-30 for lunar ones."""
    month, day = births["month"].to_numpy(), births["day"].to_numpy()
    known = month > 0
    lunar_ok = day <= 30
    safe_month = np.where(known, month, 1)
    solar_ok = day <= _days_in_month(births["year"].to_numpy(), safe_month)
    return known & np.where(births["is_lunar"].to_numpy(), lunar_ok, solar_ok)


# --- occurrences in a window -------------------------------------------------------


def _solar_occurrences(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """member_id, occurrence (datetime64), years since the start date, per Gregorian year."""
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    month, day, born = (frame[c].to_numpy() for c in ("month", "day", "year"))
    parts = []
    for year in range(start.year, end.year + 1):
        fixed_day = day if _is_leap_year(year) else np.where((month == 2) & (day == 29), 28, day)
        when = _dates64(year, month, fixed_day)
        keep = (when >= lo) & (when <= hi)
        parts.append(pd.DataFrame({
            "member_id": frame["member_id"].to_numpy()[keep],
            "occurrence": when[keep],
            "years": year - born[keep],
        }))
    return _concat(parts, ["member_id", "occurrence", "years"])


def _lunar_table(combos: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """month, day, is_leap, lunar_year, occurrence for every lunar year reaching the window."""
    rows = []
    for month, day, is_leap in combos.itertuples(index=False):
        for year in range(start.year - 1, end.year + 1):
            when = lunar_birthday(int(month), int(day), bool(is_leap), year)
            if start <= when <= end:
                rows.append((month, day, is_leap, year, np.datetime64(when, "D")))
    return pd.DataFrame(rows, columns=["month", "day", "is_leap", "lunar_year", "occurrence"])


def _lunar_occurrences(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """member_id, occurrence, years (lunar year difference), computed per (month, day, leap)."""
    keys = ["month", "day", "is_leap"]
    table = _lunar_table(frame[keys].drop_duplicates(), start, end)
    if table.empty:
        return _concat([], ["member_id", "occurrence", "years"])
    joined = frame.merge(table.astype({"month": "int64", "day": "int64", "is_leap": bool}), on=keys)
    joined["years"] = joined["lunar_year"] - joined["year"]
    return joined[["member_id", "occurrence", "years"]]


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(parts, ignore_index=True)


def _day(value: date) -> date:
    """A window bound as a plain date (a datetime or Timestamp loses its time)."""
    return pd.Timestamp(value).date()


def _as_dates(values: pd.Series) -> pd.Series:
    """datetime64 values as datetime.date objects."""
    return pd.Series(pd.to_datetime(values).dt.date, index=values.index, dtype=object)


def birthdays_in_window(
    members: pd.DataFrame, start: date, end: date, milestones: Sequence[int] = MILESTONES
) -> pd.DataFrame:
    """Birthday occurrences in [start, end]: member_id, birthday, calendar, age, milestone.

    `members` needs member_id and birth_date (date, ISO text, or blank), and may have
    birth_calendar ('solar' / 'lunar'; blank = solar) and is_birth_lunar_leap. Age is
    whole years reached on the birthday, counted in lunar years for lunar birthdays;
    an occurrence at age 0 or below (the birth itself, or a date after it) is left out.
    """
    start, end = _day(start), _day(end)
    births = _births(members)
    solar = _solar_occurrences(births[~births["is_lunar"]], start, end).assign(calendar="solar")
    lunar = _lunar_occurrences(births[births["is_lunar"]], start, end).assign(calendar="lunar")
    found = pd.concat([solar, lunar], ignore_index=True)
    found = found[found["years"] >= 1]
    result = pd.DataFrame({
        "member_id": found["member_id"],
        "birthday": found["occurrence"],
        "calendar": found["calendar"],
        "age": found["years"].astype("int64"),
        "milestone": found["years"].isin(list(milestones)).astype(bool),
    })
    return _finish(result, "birthday")


def _finish(result: pd.DataFrame, date_column: str) -> pd.DataFrame:
    result = result.sort_values([date_column, "member_id"], kind="stable").reset_index(drop=True)
    result[date_column] = _as_dates(result[date_column])
    return result


def anniversaries_in_window(
    members: pd.DataFrame,
    start: date,
    end: date,
    column: str = "join_date",
    kind: str | None = None,
    every: int = 1,
) -> pd.DataFrame:
    """Anniversaries of `column` in [start, end]: member_id, anniversary_date, years, kind.

    Only whole years >= 1 that are a multiple of `every` (5: the 5th, 10th, ...). `kind`
    defaults to 'membership' for join_date and 'ownership' for move_in_date.
    29 February falls on 28 February in common years.
    """
    kind = kind or ANNIVERSARY_KINDS.get(column)
    if kind is None:
        raise ValueError(f"anniversaries of {column!r}: say which kind they are")
    if every < 1:
        raise ValueError(f"every must be 1 or more, got {every}")
    start, end = _day(start), _day(end)
    frame = members[["member_id", column]].rename(columns={column: "birth_date"})
    dates = _births(frame)
    found = _solar_occurrences(dates, start, end)
    found = found[(found["years"] >= 1) & (found["years"] % every == 0)]
    result = pd.DataFrame({
        "member_id": found["member_id"],
        "anniversary_date": found["occurrence"],
        "years": found["years"].astype("int64"),
        "kind": kind,
    })
    return _finish(result, "anniversary_date")
