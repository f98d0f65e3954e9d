"""One edition: the month it greets and the data cut-off it is built from.

Every step receives the same `Edition` (the asset's partition and the run's `as_of`), so
"which month" and "up to when" are answered in one place. The cut-off rule is the same
for every table: **data up to the end of the cut-off day, in the club's time zone,
counts** (a purchase, a complaint, a contact at 10:00 on the cut-off day are history;
anything from midnight after it is not). Timestamps in the exports are naive local times
of the club's zone, so `cutoff_at` is naive too; `cutoff_at_aware` carries the zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def month_key(day: date) -> str:
    """'YYYY-MM' of the month `day` falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def first_day_of(month: str) -> date:
    """'2026-12' -> date(2026, 12, 1); ValueError for anything that is not YYYY-MM."""
    if not isinstance(month, str) or not MONTH.fullmatch(month):
        raise ValueError(f"edition month must be YYYY-MM, got {month!r}")
    return date(int(month[:4]), int(month[5:]), 1)


def first_of_next_month(day: date) -> date:
    """The first day of the month after `day`'s month: 2026-12-06 -> 2027-01-01."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def today(timezone: str) -> date:
    """Today's date in the club's time zone (the default cut-off)."""
    return datetime.now(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Edition:
    """The edition month (`YYYY-MM`) and the data cut-off day `as_of`."""

    month: str
    as_of: date
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        first_day_of(self.month)  # raises for anything but YYYY-MM
        if type(self.as_of) is not date:  # a datetime is a date too: refuse its time part
            raise TypeError(f"as_of must be a date, got {self.as_of!r}")

    @classmethod
    def after(cls, as_of: date, timezone: str = "Asia/Shanghai", month: str | None = None) -> Edition:
        """The edition built on `as_of`: `month`, else the month after the cut-off's
        (cut-off 2026-12-06 -> edition 2027-01, as the schedule and the CLI build it)."""
        return cls(month or month_key(first_of_next_month(as_of)), as_of, timezone)

    @classmethod
    def of_partition(cls, partition_key: str, as_of: date, timezone: str = "Asia/Shanghai") -> Edition:
        """From a Dagster partition key (`YYYY-MM-01`)."""
        return cls(partition_key[:7], as_of, timezone)

    @property
    def partition_key(self) -> str:
        return f"{self.month}-01"

    @property
    def first_day(self) -> date:
        return first_day_of(self.month)

    @property
    def last_day(self) -> date:
        return self.next_first_day - timedelta(days=1)

    @property
    def next_first_day(self) -> date:
        """The first day after the edition month."""
        return first_of_next_month(self.first_day)

    @property
    def cutoff_at(self) -> datetime:
        """The first instant that no longer counts: midnight after the cut-off day (naive,
        in the club's local time, like the exports' timestamps)."""
        return datetime.combine(self.as_of + timedelta(days=1), time())

    @property
    def cutoff_at_aware(self) -> datetime:
        return self.cutoff_at.replace(tzinfo=ZoneInfo(self.timezone))

    @property
    def report_month(self) -> date:
        """First day of the month the report covers: the last complete calendar month
        before the cut-off day (cut-off 2026-11-20 -> October 2026)."""
        return (self.as_of.replace(day=1) - timedelta(days=1)).replace(day=1)

    def __str__(self) -> str:
        return f"edition {self.month} (cut-off {self.as_of.isoformat()})"
