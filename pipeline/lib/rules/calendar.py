"""The year's holiday and festival calendar (CONTRACT §4 `holidays`) and working days.

Festivals come from the lunar calendar and solar terms, plus 元旦, 劳动节 and 国庆节 on
their fixed dates every year (as festivals, apart from their statutory_off blocks);
statutory days off and make-up workdays (调休) from the State Council arrangements in
`reference/holiday-cn/YYYY.json`, or from the `chinesecalendar` package for a year
without a file. A year that neither knows gets festivals only, and says so in `df.attrs["arrangement_source"]` (None).
"""

from __future__ import annotations

import re

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

import chinese_calendar
import pandas as pd
import pyarrow as pa

from pipeline.lib.rules.lunar import lunar_to_solar, solar_term_date
from pipeline.config.calendar import NTH_SUNDAY, WESTERN_DATES
from pipeline.lib.warehouse import query_arrow

COLUMNS = ["date", "name", "name_en", "kind"]
KINDS = ("festival", "statutory_off", "make_up_workday", "custom")

# (Chinese name, English name, lunar month, lunar day) of the lunar festivals.
LUNAR_FESTIVALS = (
    ("春节", "Spring Festival", 1, 1),
    ("元宵节", "Lantern Festival", 1, 15),
    ("端午节", "Dragon Boat Festival", 5, 5),
    ("七夕", "Qixi Festival", 7, 7),
    ("中秋节", "Mid-Autumn Festival", 8, 15),
    ("重阳节", "Double Ninth Festival", 9, 9),
)
# (Chinese name, English name, month, day) of the fixed-date festivals clubs greet every
# year, listed whether or not the official arrangement (the statutory_off block) is out.
FIXED_FESTIVALS = (
    ("元旦", "New Year's Day", 1, 1),
    ("劳动节", "Labour Day", 5, 1),
    ("国庆节", "National Day", 10, 1),
)
# (Chinese name, English name, solar term).
SOLAR_TERM_FESTIVALS = (
    ("清明节", "Qingming Festival", "清明"),
    ("冬至", "Winter Solstice", "冬至"),
)
OFFICIAL_NAMES_EN = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Qingming Festival",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-Autumn Festival",
    "国庆节": "National Day",
}
# chinesecalendar's Holiday members by their official Chinese names.
CHINESECALENDAR_NAMES = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "national_day": "国庆节",
    "mid_autumn_festival": "中秋节",
}


@dataclass(frozen=True)
class CustomDate:
    """A club date: a one-off `date`, or a yearly "MM-DD" string."""

    when: date | str
    name: str
    name_en: str

    def __post_init__(self) -> None:
        if isinstance(self.when, str):
            _month_day(self.when)

    def in_year(self, year: int) -> date | None:
        """The date in `year`, or None (a one-off date in another year)."""
        if isinstance(self.when, date):
            return self.when if self.when.year == year else None
        return _safe_date(year, *_month_day(self.when))


@dataclass(frozen=True)
class OfficialDay:
    date: date
    name: str
    is_off_day: bool


def _month_day(text: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in text.split("-"))
        date(2000, month, day)  # a leap year, so 02-29 is accepted
    except ValueError:
        raise ValueError(f"custom date {text!r}: expected MM-DD") from None
    return month, day


def _safe_date(year: int, month: int, day: int) -> date:
    """date(year, month, day) with 29 February on the 28th in common years."""
    if (month, day) == (2, 29) and not _is_leap_year(year):
        return date(year, 2, 28)
    return date(year, month, day)


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


# --- festivals ---------------------------------------------------------------------


def lunar_festivals(year: int) -> list[tuple[date, str, str]]:
    """(date, name, name_en) of the lunar and solar-term festivals in Gregorian `year`."""
    new_year = lunar_to_solar(year, 1, 1)
    rows = [(new_year - timedelta(days=1), "除夕", "Chinese New Year's Eve")]
    rows += [(lunar_to_solar(year, m, d), zh, en) for zh, en, m, d in LUNAR_FESTIVALS]
    rows += [(solar_term_date(year, term), zh, en) for zh, en, term in SOLAR_TERM_FESTIVALS]
    return rows


def fixed_festivals(year: int) -> list[tuple[date, str, str]]:
    """(date, name, name_en) of 元旦, 劳动节 and 国庆节 in `year`."""
    return [(date(year, month, day), zh, en) for zh, en, month, day in FIXED_FESTIVALS]


def western_festivals(year: int, keys: Iterable[str]) -> list[tuple[date, str, str]]:
    """(date, name, name_en) of the enabled Western dates; ValueError names an unknown key."""
    rows = []
    for key in keys:
        if key not in WESTERN_DATES:
            raise ValueError(f"unknown western date {key!r}; known: {', '.join(WESTERN_DATES)}")
        zh, en, month, day = WESTERN_DATES[key]
        when = _nth_sunday(year, month, NTH_SUNDAY[key]) if day is None else date(year, month, day)
        rows.append((when, zh, en))
    return rows


# --- official arrangements ---------------------------------------------------------


def official_name_en(name: str) -> str:
    """English for an official holiday name, combined ones included (国庆节、中秋节)."""
    return " and ".join(OFFICIAL_NAMES_EN.get(part, part) for part in name.split("、"))


def _read_holiday_json(path: Path) -> list[OfficialDay]:
    try:
        days = json.loads(path.read_text(encoding="utf-8"))["days"]
        return [_official_day(day) for day in days]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a holiday-cn file ({exc})") from exc


def _official_day(day: dict) -> OfficialDay:
    return OfficialDay(date.fromisoformat(day["date"]), day["name"], bool(day["isOffDay"]))


def _json_days(year: int, reference_dir: Path) -> list[OfficialDay]:
    """Days dated in `year` from the files of `year` and its neighbours (元旦 may straddle)."""
    folder = Path(reference_dir) / "holiday-cn"
    paths = [folder / f"{y}.json" for y in (year - 1, year, year + 1)]
    days = [day for path in paths if path.exists() for day in _read_holiday_json(path)]
    return [day for day in days if day.date.year == year]


def _chinesecalendar_years() -> set[int]:
    return {d.year for d in chinese_calendar.holidays}


def _chinesecalendar_days(year: int) -> list[OfficialDay]:
    def name(value: str) -> str:
        holiday = chinese_calendar.Holiday(value)
        return CHINESECALENDAR_NAMES.get(holiday.name, holiday.chinese)

    table = ((chinese_calendar.holidays, True), (chinese_calendar.workdays, False))
    return [
        OfficialDay(day, name(value), is_off)
        for days, is_off in table
        for day, value in days.items()
        if day.year == year
    ]


def official_days(year: int, reference_dir: Path) -> tuple[list[OfficialDay], str | None]:
    """Published days off and make-up workdays dated in `year`, and their source.

    The source is "holiday-cn" (the JSON file), "chinesecalendar" (the package), or None
    when no arrangement is published for the year.
    """
    if (Path(reference_dir) / "holiday-cn" / f"{year}.json").exists():
        return _json_days(year, reference_dir), "holiday-cn"
    if year in _chinesecalendar_years():
        return _chinesecalendar_days(year), "chinesecalendar"
    return [], None


def _official_row(day: OfficialDay) -> tuple[date, str, str, str]:
    name_en = official_name_en(day.name)
    if day.is_off_day:
        return day.date, day.name, name_en, "statutory_off"
    return day.date, f"{day.name}调休", f"{name_en} make-up workday", "make_up_workday"


# --- the calendar ------------------------------------------------------------------


def build_calendar(
    year: int,
    reference_dir: Path,
    custom: Sequence[CustomDate] = (),
    western: Sequence[str] = (),
) -> pd.DataFrame:
    """The `holidays` table for `year`: date, name, name_en, kind.

    `attrs["arrangement_source"]` is None when no official arrangement is published for
    the year (then only festivals and custom dates are listed).
    """
    festivals = fixed_festivals(year) + lunar_festivals(year) + western_festivals(year, western)
    rows = [(d, zh, en, "festival") for d, zh, en in festivals]
    days, source = official_days(year, reference_dir)
    rows += [_official_row(day) for day in days]
    rows += [(d, c.name, c.name_en, "custom") for c in custom if (d := c.in_year(year))]
    frame = _calendar_frame(rows)
    frame.attrs["arrangement_source"] = source
    return frame


def _calendar_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({"date": object})
    frame = frame.drop_duplicates().sort_values(["date", "kind", "name"], kind="stable")
    return frame.reset_index(drop=True)


def festivals_in_month(
    calendar_df: pd.DataFrame, year: int, month: int, kinds: Sequence[str] = ("festival", "custom")
) -> pd.DataFrame:
    """Rows of `calendar_df` of the given kinds dated in `year`-`month`."""
    dates = calendar_df["date"]
    in_month = dates.map(lambda d: (d.year, d.month) == (year, month)).astype(bool)
    picked = calendar_df[in_month & calendar_df["kind"].isin(kinds)]
    return picked.reset_index(drop=True)


# --- working days ------------------------------------------------------------------


def arrangement_days(years: Iterable[int], reference_dir: Path) -> pa.Table:
    """The days the official arrangements of `years` publish: statutory days off
    (`is_working_day` false) and make-up workdays (调休, true), as (day, is_working_day).
    Every other day follows the weekday rule (`dim_working_day`)."""
    rows = [(d.date, not d.is_off_day) for y in years for d in official_days(y, reference_dir)[0]]
    return pa.table({"day": pa.array([day for day, _ in rows], pa.date32()),
                     "is_working_day": pa.array([work for _, work in rows], pa.bool_())})


def dim_working_day(
    first_day: date, last_day: date, reference_dir: Path,
    work_starts: time = time(9, 0), work_ends: time = time(18, 0),
) -> pa.Table:
    """`sql/marts/dim_working_day.sql`: one row per day from `first_day` to `last_day`
    with `is_working_day` on the official calendar, the working window and the working
    seconds before the day, so working hours between two instants are two lookups."""
    if not work_starts < work_ends:
        raise ValueError(f"working day: start {work_starts} must be before end {work_ends}")
    arrangements = arrangement_days(range(first_day.year, last_day.year + 1), reference_dir)
    params = {"first_day": first_day, "last_day": last_day,
              "work_starts": work_starts, "work_ends": work_ends}
    return query_arrow("marts/dim_working_day", params, arrangement_days=arrangements)


# Stable keys for greetings (`festival-<key>` letters) and for club.yaml.
FESTIVAL_KEYS = {
    "除夕": "new-years-eve",
    "春节": "spring",
    "元宵节": "lantern",
    "清明节": "qingming",
    "端午节": "dragon-boat",
    "七夕": "qixi",
    "中秋节": "mid-autumn",
    "重阳节": "double-ninth",
    "冬至": "winter-solstice",
    "劳动节": "labour-day",
    "国庆节": "national-day",
} | {name: key.replace("_", "-") for key, (name, *_rest) in WESTERN_DATES.items()}


def festival_key(name: str, name_en: str) -> str:
    """The greeting key of a festival or club date (a slug of its English name if custom)."""
    if name in FESTIVAL_KEYS:
        return FESTIVAL_KEYS[name]
    return re.sub(r"[^a-z0-9]+", "-", name_en.lower()).strip("-")
