"""Birthdays and anniversaries that fall in a date window (CONTRACT §3 Birthdays).

The rules live in SQL: `sql/marts/upcoming_birthdays.sql` and `sql/marts/anniversaries.sql`
(solar 29 February on the 28th in common years; a lunar leap-month birthday in the
ordinary month of that number when the year has no such leap month; lunar day 30 on day
29 in a 29-day month; a lunar year's last months in January or February of the next
Gregorian year). Lunar dates come from `dim_lunar_day` (lib/rules/lunar.py), shipped as
Parquet. These functions only bind the window and the configuration.

`members` is any relation `warehouse.query` takes: the staged members' Parquet file (the
step), or a frame or Arrow table with the same columns (tests). Dates are plain calendar
dates: the caller picks the window in the club's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pyarrow as pa

from pipeline.lib.rules.lunar import DIM_FIRST_DAY, DIM_LAST_DAY, DIM_LUNAR_DAY
from pipeline.lib.warehouse import Relation, query_arrow

MILESTONES = (60, 70, 80, 90, 100)
BIRTHDAY_COLUMNS = ["member_id", "birthday", "calendar", "age", "milestone"]
ANNIVERSARY_COLUMNS = ["member_id", "anniversary_date", "years", "kind"]
# The staged members' columns each model reads.
BIRTH_COLUMNS = ("member_id", "birth_date", "birth_calendar", "birth_lunar", "is_birth_lunar_leap")
SINCE_COLUMNS = ("member_id", "join_date", "move_in_date")


def _window(start: date, end: date) -> dict[str, date]:
    """The window as bound parameters; ValueError outside the lunar calendar's days."""
    if start < DIM_FIRST_DAY or end > DIM_LAST_DAY:
        raise ValueError(f"window {start}..{end} is outside the lunar calendar's "
                         f"{DIM_FIRST_DAY}..{DIM_LAST_DAY}")
    return {"window_start": start, "window_end": end}


def birthdays_in_window(
    members: Relation, start: date, end: date, milestones: Sequence[int] = MILESTONES
) -> pa.Table:
    """Birthday occurrences in [start, end]: member_id, birthday, calendar, age, milestone,
    by birthday then member_id.

    `members` needs the staged columns BIRTH_COLUMNS (a blank birth_calendar is solar).
    Age is whole years reached on the birthday, counted in lunar years for lunar
    birthdays; an occurrence at age 0 or below (the birth itself) is left out.
    """
    params = {**_window(start, end), "milestones": [int(age) for age in milestones]}
    return query_arrow("marts/upcoming_birthdays", params, stg_members=members,
                       dim_lunar_day=DIM_LUNAR_DAY)


def anniversaries_in_window(
    members: Relation, start: date, end: date, membership_every: int = 1, ownership_every: int = 1
) -> pa.Table:
    """Anniversaries in [start, end]: member_id, anniversary_date, years, kind
    (`membership` of join_date, then `ownership` of move_in_date), each by date and
    member_id.

    Only whole years >= 1 that are a multiple of `<kind>_every` (5: the 5th, 10th, ...);
    0 leaves the kind out. 29 February falls on 28 February in common years.
    """
    for name, every in (("membership_every", membership_every), ("ownership_every", ownership_every)):
        if every < 0:
            raise ValueError(f"{name} must be 0 (off) or more, got {every}")
    params = {"window_start": start, "window_end": end,  # solar only: any window
              "membership_every": int(membership_every), "ownership_every": int(ownership_every)}
    return query_arrow("marts/anniversaries", params, stg_members=members)
