"""Complaint statistics, SLA clocks and the open backlog.

CONTRACT §2 (complaints) and §4 (`complaint_stats`).

Pure functions over the staged complaints frame: one row per complaint with
`complaint_id, member_id, received_at, channel, category, severity, owner,
first_response_at, resolved_at, status, satisfaction`. Timestamps are naive local time
in the club's time zone (a tz-aware column is refused rather than guessed at).

Conventions shared by every function here
-----------------------------------------
- **The as-of cut-off.** `as_of` is the data cut-off. An event is *known* when it
  happened strictly before `as_of`; a complaint received at or after `as_of` is left
  out, and a `first_response_at` or `resolved_at` at or after `as_of` is treated as not
  yet happened. When `as_of` is later than every timestamp in the export (the usual
  case) this changes nothing. A plain `date` means midnight at the start of that day.
- **Durations** run from `received_at` to the event, in hours (float). A duration that
  would be negative (the event is recorded before the complaint was received) is a data
  error: it is NaN, it is left out of every median and percentile and out of the SLA
  leg it belongs to, and `timing_anomalies` lists the complaint.
- **The SLA clock.** When `SlaTargets.working_hours` is true every `_hours` duration
  in `complaint_stats` and the overdue test in `backlog` count working hours of the
  `WorkingCalendar` (which must then be given); otherwise calendar hours, and a
  calendar passed in is not used. `backlog.age_hours` and its bands are always
  calendar hours: that is how long the member has been waiting.
- **Normalised text.** Blank or whitespace-only `member_id`, `category`, `severity`,
  `owner` and `status` are missing. A missing category is `"uncategorised"`. A source
  category literally called `"all"` is renamed `"all (category)"` so that it cannot be
  mistaken for the all-categories row. Status is compared lower-cased.
- **Closed without a time.** A complaint whose status is `resolved` or `closed` but
  whose `resolved_at` is blank was closed at an unknown moment: it is never counted as
  open at a month end (otherwise a CRM that does not fill `resolved_at` would show a
  backlog that only grows), its resolution leg of the SLA is unknown, and
  `timing_anomalies` lists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.lib.rules.calendar import WorkingCalendar  # the official working days and hours

ALL_CATEGORIES = "all"
UNCATEGORISED = "uncategorised"
RENAMED_ALL_CATEGORY = "all (category)"
UNASSIGNED_OWNER = "(unassigned)"
REPEAT_WINDOW = timedelta(days=90)
AGE_BANDS: tuple[str, ...] = ("<1d", "1-3d", "3-7d", "7-30d", ">30d")
AGE_BAND_LOWER_HOURS: tuple[float, ...] = (24.0, 72.0, 168.0, 720.0)  # band i+1 starts here

STATS_COLUMNS: tuple[str, ...] = (
    "month",
    "category",
    "received",
    "resolved",
    "open_at_month_end",
    "median_first_response_hours",
    "median_resolution_hours",
    "p90_resolution_hours",
    "sla_breach_rate",
    "mean_satisfaction",
    "reopen_rate",
    "repeat_complainants",
)
BACKLOG_COLUMNS: tuple[str, ...] = (
    "complaint_id",
    "member_id",
    "category",
    "severity",
    "owner",
    "received_at",
    "age_hours",
    "age_band",
    "is_overdue",
)
OVERDUE_COLUMNS: tuple[str, ...] = ("owner", "overdue_cases", "oldest_age_hours")
ANOMALY_COLUMNS: tuple[str, ...] = ("complaint_id", "problem")

# Problems reported by `timing_anomalies`, in the order they are listed.
MISSING_RECEIVED_AT = "missing_received_at"
FIRST_RESPONSE_BEFORE_RECEIVED = "first_response_before_received"
RESOLVED_BEFORE_RECEIVED = "resolved_before_received"
CLOSED_WITHOUT_RESOLVED_AT = "closed_without_resolved_at"

_OPEN_STATUSES = ("open", "reopened")
_CLOSED_STATUSES = ("resolved", "closed")
_TIME_COLUMNS = ("received_at", "first_response_at", "resolved_at")
_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR


# --------------------------------------------------------------------------- durations


def _to_us(values: pd.Series, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps as int64 microseconds and a mask of the ones present."""
    series = values if pd.api.types.is_datetime64_any_dtype(values) else pd.to_datetime(values)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"{what}: expected naive local timestamps, got {series.dtype}")
    stamps = series.to_numpy(dtype="datetime64[us]")
    return stamps.view(np.int64), ~np.isnat(stamps)


def _instant_us(value: datetime | date | str | pd.Timestamp) -> int:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        raise ValueError(f"as_of: expected a naive local time, got {value!r}")
    return int(np.datetime64(stamp.to_datetime64(), "us").view(np.int64))


def _hours_between(
    start_us: np.ndarray,
    end_us: np.ndarray,
    present: np.ndarray,
    working: WorkingCalendar | None,
) -> np.ndarray:
    """Hours from start to end where both are present and end >= start, else NaN."""
    hours = np.full(len(start_us), np.nan)
    usable = present & (end_us >= start_us)
    if not usable.any():
        return hours
    start, end = start_us[usable], end_us[usable]
    if working is None:
        hours[usable] = (end - start) / _US_PER_HOUR
    else:
        both = working.working_us_since(
            np.concatenate((start, end)), origin_day=int(start.min() // _US_PER_DAY)
        )
        hours[usable] = (both[len(start) :] - both[: len(start)]) / _US_PER_HOUR
    return hours


def _check_pair(start: pd.Series, end: pd.Series) -> None:
    if not start.index.equals(end.index):
        raise ValueError("elapsed_hours: start and end must share one index")


def elapsed_hours(
    start: pd.Series, end: pd.Series, working: WorkingCalendar | None = None
) -> pd.Series:
    """Hours from `start` to `end`, row by row, as float.

    With `working=None` these are calendar hours. With a `WorkingCalendar` only time
    inside `[day_start, day_end)` on working days counts, so a complaint received on
    Friday 17:00 and answered on Monday 10:00 took 2 working hours, and one received
    on a Sunday counts from 09:00 on the next working day.

    NaT in either column gives NaN. `end < start` is a data error: it gives NaN too, and
    `is_negative_duration` flags exactly those rows (`timing_anomalies` reports them).
    """
    _check_pair(start, end)
    start_us, start_ok = _to_us(start, "start")
    end_us, end_ok = _to_us(end, "end")
    hours = _hours_between(start_us, end_us, start_ok & end_ok, working)
    return pd.Series(hours, index=start.index, dtype="float64", name="elapsed_hours")


def is_negative_duration(start: pd.Series, end: pd.Series) -> pd.Series:
    """True where both are present and `end < start`: the rows `elapsed_hours` sets to NaN."""
    _check_pair(start, end)
    start_us, start_ok = _to_us(start, "start")
    end_us, end_ok = _to_us(end, "end")
    return pd.Series(start_ok & end_ok & (end_us < start_us), index=start.index, name="is_negative")


# --------------------------------------------------------------------------- SLA targets

PositiveHours = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class SeverityTargets(BaseModel):
    """Targets for one severity; a target left out falls back to the general one."""

    model_config = ConfigDict(extra="forbid")

    first_response_hours: PositiveHours | None = None
    resolution_hours: PositiveHours | None = None


class SlaTargets(BaseModel):
    """Complaint service-level targets, read from `club.yaml`.

    `severity_overrides` maps a severity as it appears in the export (e.g. `紧急`) to
    its own targets. `working_hours` makes every SLA clock count working hours of the
    club's `WorkingCalendar` instead of calendar hours.
    """

    model_config = ConfigDict(extra="forbid")

    first_response_hours: PositiveHours = 24.0
    resolution_hours: PositiveHours = 72.0
    severity_overrides: dict[str, SeverityTargets] = Field(default_factory=dict)
    working_hours: bool = False

    @field_validator("severity_overrides")
    @classmethod
    def _strip_keys(cls, value: dict[str, SeverityTargets]) -> dict[str, SeverityTargets]:
        return {key.strip(): targets for key, targets in value.items()}

    def targets_for(self, severity: str | None) -> tuple[float, float]:
        """(first_response_hours, resolution_hours) for one severity."""
        override = self.severity_overrides.get((severity or "").strip())
        first = override.first_response_hours if override else None
        resolution = override.resolution_hours if override else None
        return (
            self.first_response_hours if first is None else first,
            self.resolution_hours if resolution is None else resolution,
        )

    def target_arrays(self, severity: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        first = np.full(len(severity), self.first_response_hours, dtype=np.float64)
        resolution = np.full(len(severity), self.resolution_hours, dtype=np.float64)
        for key in self.severity_overrides:
            hit = severity.isin([key]).to_numpy(dtype=bool)
            first[hit], resolution[hit] = self.targets_for(key)
        return first, resolution


def _sla_clock(sla: SlaTargets, working: WorkingCalendar | None) -> WorkingCalendar | None:
    if not sla.working_hours:
        return None
    if working is None:
        raise ValueError("SlaTargets.working_hours is true but no WorkingCalendar was given")
    return working


# --------------------------------------------------------------------------- staging helpers


def _clean_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


@dataclass(frozen=True)
class _Cases:
    """The complaints as aligned arrays; times are int64 us with presence masks."""

    frame: pd.DataFrame  # text columns cleaned, plus received_at as given
    received: np.ndarray
    received_ok: np.ndarray
    first_response: np.ndarray
    first_response_ok: np.ndarray
    resolved: np.ndarray
    resolved_ok: np.ndarray
    status: np.ndarray  # object array of lower-case strings, "" when blank
    satisfaction: np.ndarray  # float, NaN when missing or outside 1-5

    def take(self, keep: np.ndarray) -> _Cases:
        return _Cases(
            self.frame.loc[keep].reset_index(drop=True),
            *(getattr(self, name)[keep] for name in _CASE_ARRAYS),
        )

    @property
    def closed_without_time(self) -> np.ndarray:
        return np.isin(self.status, _CLOSED_STATUSES) & ~self.resolved_ok


_CASE_ARRAYS = (
    "received",
    "received_ok",
    "first_response",
    "first_response_ok",
    "resolved",
    "resolved_ok",
    "status",
    "satisfaction",
)


def _prepare(complaints: pd.DataFrame, text_columns: tuple[str, ...]) -> _Cases:
    """Clean the text columns asked for (status always) and read every timestamp."""
    missing = [c for c in ("complaint_id", "received_at") if c not in complaints.columns]
    if missing:
        raise ValueError(f"complaints: missing required column(s) {', '.join(missing)}")
    source = complaints.reset_index(drop=True)
    n = len(source)
    absent = pd.Series([None] * n, dtype=object)
    frame = pd.DataFrame(
        {
            name: _clean_text(source[name] if name in source else absent)
            for name in dict.fromkeys((*text_columns, "status"))
        }
    )
    if "category" in frame:
        category = frame["category"].fillna(UNCATEGORISED)
        frame["category"] = category.mask(category == ALL_CATEGORIES, RENAMED_ALL_CATEGORY)
    frame["status"] = frame["status"].str.lower()
    times = {
        name: _to_us(source[name] if name in source else absent, name) for name in _TIME_COLUMNS
    }
    frame["received_at"] = pd.to_datetime(source["received_at"])
    score = pd.to_numeric(
        source["satisfaction"] if "satisfaction" in source else absent, errors="coerce"
    ).astype("float64")
    score = score.where((score >= 1) & (score <= 5)).to_numpy()
    status = frame["status"].fillna("").to_numpy(dtype=object)
    return _Cases(
        frame,
        *times["received_at"],
        *times["first_response_at"],
        *times["resolved_at"],
        status,
        score,
    )


def _month_number(us: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each instant."""
    return us.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)


def _month_start_us(month_number: np.ndarray) -> np.ndarray:
    return month_number.astype("datetime64[M]").astype("datetime64[us]").view(np.int64)


def _month_label(month_number: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(month_number.astype("datetime64[M]"), unit="M")


@dataclass(frozen=True)
class _TimeRanks:
    """Distinct times in order, and each row's position among them."""

    distinct: np.ndarray
    rank: np.ndarray

    @classmethod
    def of(cls, times: np.ndarray) -> _TimeRanks:
        distinct, rank = np.unique(times, return_inverse=True)
        return cls(distinct, rank.astype(np.int64))


class _CountBefore:
    """Answers "how many rows have this code and a time strictly before t?" in bulk.

    Times are replaced by their rank among the distinct row times, so one sorted key
    `code * width + rank` serves every query with two binary searches and cannot
    overflow (width is at most the row count plus one).
    """

    def __init__(self, codes: np.ndarray, ranks: _TimeRanks) -> None:
        self._ranks = ranks
        self._width = np.int64(len(ranks.distinct) + 1)
        self._keys = np.sort(codes.astype(np.int64) * self._width + ranks.rank)

    def __call__(self, query_codes: np.ndarray, query_times: np.ndarray) -> np.ndarray:
        base = query_codes.astype(np.int64) * self._width
        below = np.searchsorted(self._ranks.distinct, query_times, side="left")
        # Binary searches run far faster over sorted needles (numpy reuses the last hit).
        keys = base + below
        order = np.argsort(keys, kind="stable")
        counts = np.empty(len(keys), dtype=np.int64)
        counts[order] = np.searchsorted(self._keys, keys[order], side="left") - np.searchsorted(
            self._keys, base[order], side="left"
        )
        return counts


# --------------------------------------------------------------------------- complaint_stats


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})


def complaint_stats(
    complaints: pd.DataFrame,
    as_of: datetime | date | str | pd.Timestamp,
    sla: SlaTargets,
    working: WorkingCalendar | None = None,
) -> pd.DataFrame:
    """Monthly complaint statistics per category, plus an `all` row per month.

    One row per (month, category) that has at least one complaint received in that
    month, and one row with `category = "all"` per month aggregating every category.
    `month` is `YYYY-MM` of `received_at`; every month with a complaint received
    before `as_of` appears (a month with no complaint at all has no row). Rows are
    sorted by `month`, then `category` (plain string order, so `all` is not forced
    first). All counts and rates describe the complaints *received in that month*
    (in that category), except `open_at_month_end` and the 90-day window of
    `repeat_complainants`, which look across months.

    - `received`: complaints received in the month.
    - `resolved`: of those, how many have a `resolved_at` before `as_of` (a reopened
      complaint keeps its first resolution; a negative duration still counts here).
    - `open_at_month_end`: complaints received before the cut-off T and not resolved
      before T, where T is the end of the month (midnight starting the next month),
      capped at `as_of`; counted over all months of receipt, so the backlog carried
      from earlier months is included. "Closed without a time" complaints are never
      open (module docstring).
    - `median_first_response_hours`: median of `first_response_at - received_at` over
      the month's complaints with a known, non-negative first response.
    - `median_resolution_hours`, `p90_resolution_hours`: median and 90th percentile of
      `resolved_at - received_at` over the month's complaints with a known, non-negative
      resolution. The percentile interpolates linearly between order statistics
      (numpy's default `percentile(..., method="linear")`): the value at rank
      0.9 * (n - 1), counted from 0.
    - `sla_breach_rate`: breached / decided among the month's complaints. Each
      complaint has a response leg and a resolution leg, each with its severity's
      target (`SlaTargets.targets_for`). The response time is the earlier of first
      response and resolution (a resolution answers the member). A leg is *met* when
      its time is at most the target and *breached* when it exceeds it; a leg still
      running at `as_of` is breached once its age exceeds the target and *pending*
      before that; a leg whose recorded time is a negative duration (a first response
      or a resolution before receipt), or the resolution leg of a complaint closed
      without a time, is *unknown*. A complaint is breached when any
      leg is breached, and decided when it is breached or both legs are met. Pending
      and unknown complaints are left out of the denominator: counting a complaint
      that is still within target as "met" would flatter the most recent months, whose
      complaints have not had time to breach. NaN when nothing is decided.
    - `mean_satisfaction`: mean of the 1-5 scores given (blank and out-of-range are
      ignored); NaN when none.
    - `reopen_rate`: share of the month's complaints whose status is `reopened`.
    - `repeat_complainants`: distinct members among the month's complainants who have
      at least two complaints (in this row's category; any category for `all`)
      received in the 90 days ending at the month end, i.e. in
      `[next month start - 90 days, next month start)`. Complaints with a blank
      `member_id` count everywhere else but cannot be linked, so not here.

    Durations use the SLA clock (module docstring): working hours when
    `sla.working_hours`, which then requires `working`.
    """
    as_of_us = _instant_us(as_of)
    clock = _sla_clock(sla, working)
    cases = _prepare(complaints, ("member_id", "category", "severity"))
    cases = cases.take(cases.received_ok & (cases.received < as_of_us))
    if len(cases.received) == 0:
        return _empty_stats()

    per_case = _case_measures(cases, as_of_us, sla, clock)
    category_code, category_label = pd.factorize(cases.frame["category"], sort=True)
    per_case["category_code"] = category_code
    by_category = _aggregate(per_case, ["month", "category_code"])
    by_month = _aggregate(per_case, ["month"])

    _add_open_at_month_end(by_category, by_month, cases, category_code, as_of_us)
    member = cases.frame["member_id"]
    has_member = member.notna().to_numpy()
    member_code = pd.factorize(member)[0].astype(np.int64)
    pair_code = pd.factorize(member_code * len(category_label) + category_code)[0]
    linked_ranks = _TimeRanks.of(cases.received[has_member])
    by_category = _with_repeats(by_category, per_case, pair_code, has_member, linked_ranks)
    by_month = _with_repeats(by_month, per_case, member_code, has_member, linked_ranks)

    by_category["category"] = np.asarray(category_label, dtype=object)[by_category["category_code"]]
    by_month["category"] = ALL_CATEGORIES
    stats = pd.concat([by_category, by_month], ignore_index=True)
    stats["month"] = _month_label(stats["month"].to_numpy())
    stats = stats.sort_values(["month", "category"], kind="stable", ignore_index=True)
    return stats.loc[:, list(STATS_COLUMNS)].astype(_STATS_DTYPES)


def _add_open_at_month_end(
    by_category: pd.DataFrame,
    by_month: pd.DataFrame,
    cases: _Cases,
    category_code: np.ndarray,
    as_of_us: int,
) -> None:
    """open = received before T minus closed before T, with T = min(month end, as_of).

    A complaint is closed at the later of its receipt and its resolution (so a negative
    duration closes it on receipt); one closed without a time is left out entirely.
    """
    population = ~cases.closed_without_time
    closed_at = np.where(
        cases.resolved_ok, np.maximum(cases.received, cases.resolved), np.iinfo(np.int64).max
    )
    received_ranks = _TimeRanks.of(cases.received[population])
    closed_ranks = _TimeRanks.of(closed_at[population])
    for table, codes in ((by_category, category_code), (by_month, np.zeros_like(category_code))):
        months = table["month"].to_numpy()
        query_codes = table["category_code"].to_numpy() if "category_code" in table else 0 * months
        cutoff = np.minimum(_month_start_us(months + 1), as_of_us)
        codes = codes[population]
        received_before = _CountBefore(codes, received_ranks)(query_codes, cutoff)
        closed_before = _CountBefore(codes, closed_ranks)(query_codes, cutoff)
        table["open_at_month_end"] = received_before - closed_before


_STATS_DTYPES = {
    "month": str,
    "category": str,
    "received": "int64",
    "resolved": "int64",
    "open_at_month_end": "int64",
    "median_first_response_hours": "float64",
    "median_resolution_hours": "float64",
    "p90_resolution_hours": "float64",
    "sla_breach_rate": "float64",
    "mean_satisfaction": "float64",
    "reopen_rate": "float64",
    "repeat_complainants": "int64",
}


def _empty_stats() -> pd.DataFrame:
    return _empty(STATS_COLUMNS).astype(_STATS_DTYPES)


def _case_measures(
    cases: _Cases, as_of_us: int, sla: SlaTargets, clock: WorkingCalendar | None
) -> pd.DataFrame:
    """One row per complaint: its month, durations and SLA outcome."""
    received = cases.received
    response_known = cases.first_response_ok & (cases.first_response < as_of_us)
    resolution_known = cases.resolved_ok & (cases.resolved < as_of_us)
    response_hours = _hours_between(received, cases.first_response, response_known, clock)
    resolution_hours = _hours_between(received, cases.resolved, resolution_known, clock)
    age_hours = _hours_between(
        received, np.full(len(received), as_of_us), np.ones(len(received), bool), clock
    )
    response_target, resolution_target = sla.target_arrays(cases.frame["severity"])
    closed_without_time = cases.closed_without_time

    # A resolution also answers the member, so the response time is the earlier of the
    # two; a first response recorded before receipt makes the response leg unknown.
    response_bad = response_known & np.isnan(response_hours)
    answered = np.where(response_bad, np.nan, np.fmin(response_hours, resolution_hours))
    answered_ok = ~np.isnan(answered)
    waiting = ~response_known & ~resolution_known & ~closed_without_time
    response_met = answered_ok & (answered <= response_target)
    response_breached = (answered_ok & (answered > response_target)) | (
        waiting & (age_hours > response_target)
    )

    resolution_ok = ~np.isnan(resolution_hours)
    running = ~resolution_known & ~closed_without_time
    resolution_met = resolution_ok & (resolution_hours <= resolution_target)
    resolution_breached = (resolution_ok & (resolution_hours > resolution_target)) | (
        running & (age_hours > resolution_target)
    )

    breached = response_breached | resolution_breached
    return pd.DataFrame(
        {
            "month": _month_number(received),
            "is_resolved": resolution_known,
            "first_response_hours": response_hours,
            "resolution_hours": resolution_hours,
            "is_breached": breached,
            "is_decided": breached | (response_met & resolution_met),
            "satisfaction": cases.satisfaction,
            "is_reopened": cases.status == "reopened",
        }
    )


def _aggregate(per_case: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = per_case.groupby(keys, sort=True)
    decided = grouped["is_decided"].sum()
    table = pd.DataFrame(
        {
            "received": grouped.size(),
            "resolved": grouped["is_resolved"].sum(),
            "median_first_response_hours": grouped["first_response_hours"].median(),
            "median_resolution_hours": grouped["resolution_hours"].median(),
            "p90_resolution_hours": grouped["resolution_hours"].quantile(0.9),
            "sla_breach_rate": grouped["is_breached"].sum() / decided.where(decided > 0),
            "mean_satisfaction": grouped["satisfaction"].mean(),
            "reopen_rate": grouped["is_reopened"].mean(),
        }
    )
    return table.reset_index()


def _with_repeats(
    table: pd.DataFrame,
    per_case: pd.DataFrame,
    member_code: np.ndarray,
    has_member: np.ndarray,
    linked_ranks: _TimeRanks,
) -> pd.DataFrame:
    """Add `repeat_complainants` to a table keyed by month (and maybe category_code)."""
    keys = [k for k in ("month", "category_code") if k in table]
    linked = per_case.loc[has_member, keys].assign(member=member_code[has_member])
    asked = linked.drop_duplicates(["member", "month"], ignore_index=True)
    window_end = _month_start_us(asked["month"].to_numpy() + 1)
    window_start = window_end - int(REPEAT_WINDOW / timedelta(microseconds=1))
    member = asked["member"].to_numpy()
    counts = _CountBefore(member_code[has_member], linked_ranks)(
        np.concatenate((member, member)), np.concatenate((window_end, window_start))
    )
    in_window = counts[: len(member)] - counts[len(member) :]
    repeats = asked.loc[in_window >= 2].groupby(keys).size().rename("repeat_complainants")
    table = table.merge(repeats, left_on=keys, right_index=True, how="left")
    table["repeat_complainants"] = table["repeat_complainants"].fillna(0)
    return table


# --------------------------------------------------------------------------- backlog


def backlog(
    complaints: pd.DataFrame,
    as_of: datetime | date | str | pd.Timestamp,
    sla: SlaTargets,
    working: WorkingCalendar | None = None,
) -> pd.DataFrame:
    """Complaints open at `as_of`, oldest first.

    Open means status `open` or `reopened`, or no `resolved_at` before `as_of` while the
    status is neither `resolved` nor `closed` (a blank status counts as open then).
    `age_hours` is calendar hours from `received_at` to `as_of`; `age_band` is an
    ordered categorical of it: `<1d` below 24 h, `1-3d` from 24 h, `3-7d` from 72 h,
    `7-30d` from 168 h, `>30d` from 720 h (lower bounds included). `is_overdue` is
    true when the age on the SLA clock exceeds the severity's resolution target.
    Sorted by age, oldest first, then `complaint_id`.
    """
    as_of_us = _instant_us(as_of)
    clock = _sla_clock(sla, working)
    cases = _prepare(complaints, ("complaint_id", "member_id", "category", "severity", "owner"))
    cases = cases.take(cases.received_ok & (cases.received < as_of_us))
    resolution_known = cases.resolved_ok & (cases.resolved < as_of_us)
    is_open = np.isin(cases.status, _OPEN_STATUSES) | (
        ~np.isin(cases.status, _CLOSED_STATUSES) & ~resolution_known
    )
    cases = cases.take(is_open)
    received = cases.received
    age_hours = (as_of_us - received) / _US_PER_HOUR
    sla_age = age_hours
    if clock is not None:
        sla_age = _hours_between(
            received, np.full(len(received), as_of_us), np.ones(len(received), bool), clock
        )
    _, resolution_target = sla.target_arrays(cases.frame["severity"])
    band = np.searchsorted(np.array(AGE_BAND_LOWER_HOURS), age_hours, side="right")
    table = cases.frame.loc[:, ["complaint_id", "member_id", "category", "severity", "owner"]]
    table = table.astype(object).where(table.notna(), None)
    table["received_at"] = cases.frame["received_at"]
    table["age_hours"] = age_hours
    table["age_band"] = pd.Categorical.from_codes(
        band, categories=list(AGE_BANDS), ordered=True
    )
    table["is_overdue"] = sla_age > resolution_target
    table = table.sort_values(
        ["age_hours", "complaint_id"], ascending=[False, True], kind="stable", ignore_index=True
    )
    return table.loc[:, list(BACKLOG_COLUMNS)]


def overdue_by_owner(backlog_df: pd.DataFrame) -> pd.DataFrame:
    """Overdue open complaints per first-contact owner.

    One row per owner with at least one overdue case: `overdue_cases` and
    `oldest_age_hours` (the oldest of those overdue cases). A blank owner is reported
    as `(unassigned)`. Sorted by most overdue cases, then oldest age, then owner.
    """
    overdue = backlog_df.loc[backlog_df["is_overdue"].astype(bool)]
    owner = _clean_text(overdue["owner"]).fillna(UNASSIGNED_OWNER).astype(object)
    grouped = overdue.groupby(owner.to_numpy(), sort=True)["age_hours"]
    table = pd.DataFrame(
        {
            "owner": grouped.size().index.astype(object),
            "overdue_cases": grouped.size().to_numpy().astype("int64"),
            "oldest_age_hours": grouped.max().to_numpy().astype("float64"),
        }
    )
    table = table.sort_values(
        ["overdue_cases", "oldest_age_hours", "owner"],
        ascending=[False, False, True],
        kind="stable",
        ignore_index=True,
    )
    return table.loc[:, list(OVERDUE_COLUMNS)]


# --------------------------------------------------------------------------- data quality


def timing_anomalies(complaints: pd.DataFrame) -> pd.DataFrame:
    """Complaints whose timestamps cannot be trusted, one row per (complaint, problem).

    `problem` is one of `missing_received_at`, `first_response_before_received`,
    `resolved_before_received` (durations that would be negative: they are left out of
    every median and SLA leg) and `closed_without_resolved_at` (status resolved or
    closed with a blank `resolved_at`: never open at a month end, resolution leg
    unknown). Sorted by `complaint_id`, then the problem in that order.
    """
    cases = _prepare(complaints, ("complaint_id",))
    checks = (
        (MISSING_RECEIVED_AT, ~cases.received_ok),
        (
            FIRST_RESPONSE_BEFORE_RECEIVED,
            cases.received_ok & cases.first_response_ok & (cases.first_response < cases.received),
        ),
        (
            RESOLVED_BEFORE_RECEIVED,
            cases.received_ok & cases.resolved_ok & (cases.resolved < cases.received),
        ),
        (CLOSED_WITHOUT_RESOLVED_AT, cases.closed_without_time),
    )
    ids = cases.frame["complaint_id"].astype(object)
    parts = [
        pd.DataFrame({"complaint_id": ids[mask].to_numpy(), "problem": problem, "order": order})
        for order, (problem, mask) in enumerate(checks)
        if mask.any()
    ]
    if not parts:
        return _empty(ANOMALY_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values(["complaint_id", "order"], kind="stable", ignore_index=True)
    return table.loc[:, list(ANOMALY_COLUMNS)]
