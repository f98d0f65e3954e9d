"""Complaint statistics, SLA clocks and the open backlog: the complaint marts in DuckDB.

CONTRACT §2 (complaints) and §4 (`complaint_stats`). Each function runs one model of
`sql/marts/` over the staged complaints (a Parquet file, a frame or an Arrow table with
the columns of `stg_complaints`): `complaint_id, member_id, received_at, category,
severity, owner, first_response_at, resolved_at, status, satisfaction`. Timestamps are
naive local time in the club's time zone.

Conventions shared by every model
---------------------------------
- **The cut-off.** `cutoff_at` is the first instant that no longer counts
  (`Edition.cutoff_at`: midnight after the cut-off day). A complaint is counted when it
  was received strictly before it, and a `first_response_at` or `resolved_at` at or
  after it is treated as not yet happened.
- **Durations** run from `received_at` to the event, in hours (float). A duration that
  would be negative (the event is recorded before the complaint was received) is a data
  error: it is NaN, it is left out of every median and percentile and out of the SLA
  leg it belongs to, and `complaint_anomalies` lists the complaint.
- **The SLA clock.** When `SlaTargets.working_hours` is true every `_hours` duration in
  `complaint_stats` and the overdue test in `complaint_backlog` count working hours:
  the time inside the daily window on official working days, looked up in
  `dim_working_day` (`working_days`; a lookup is a difference of two cumulative
  counts). Otherwise calendar hours. `backlog.age_hours` and its bands are always
  calendar hours: that is how long the member has been waiting.
- **Normalised text.** Blank or whitespace-only `member_id`, `category`, `severity`,
  `owner` and `status` are missing. A missing category is `"uncategorised"`. A source
  category literally called `"all"` is renamed `"all (category)"` so that it cannot be
  mistaken for the all-categories row. Status is compared lower-cased.
- **Closed without a time.** A complaint whose status is `resolved` or `closed` but
  whose `resolved_at` is blank was closed at an unknown moment: it is never counted as
  open at a month end (otherwise a CRM that does not fill `resolved_at` would show a
  backlog that only grows), its resolution leg of the SLA is unknown, and
  `complaint_anomalies` lists it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config.complaints import SlaTargets
from pipeline.lib.rules.calendar import dim_working_day
from pipeline.lib.warehouse import Relation, query

ALL_CATEGORIES = "all"
# complaint_backlog.age_band, youngest first (the enum in sql/marts/complaint_backlog.sql).
AGE_BANDS: tuple[str, ...] = ("<1d", "1-3d", "3-7d", "7-30d", ">30d")

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

# An empty dim_working_day, for calendar-hour clocks (the models still join it).
_NO_WORKING_DAYS = pa.table({
    "day": pa.array([], pa.date32()),
    "is_working_day": pa.array([], pa.bool_()),
    "work_starts_at": pa.array([], pa.timestamp("us")),
    "work_ends_at": pa.array([], pa.timestamp("us")),
    "working_seconds": pa.array([], pa.int64()),
    "working_seconds_before": pa.array([], pa.int64()),
})


def working_days(
    complaints: Relation, cutoff_at: datetime, sla: SlaTargets, reference_dir: Path
) -> pa.Table:
    """`dim_working_day` over the days the SLA clocks of `complaints` need: from the day
    of the first complaint received before `cutoff_at` to the cut-off's own day, with
    the working window of `sla`."""
    span = query("marts/complaint_clock_span", {"cutoff_at": cutoff_at}, complaints=complaints)
    last_day: date = span.at[0, "last_day"]
    first_day = span.at[0, "first_day"]
    first_day = last_day if pd.isna(first_day) else first_day
    return dim_working_day(first_day, last_day, reference_dir,
                           sla.working_day_start, sla.working_day_end)


def _sla_relations(sla: SlaTargets, working: Relation | None) -> dict[str, Relation]:
    """The severity targets and the working days the stats and backlog models join."""
    if sla.working_hours and working is None:
        raise ValueError("SlaTargets.working_hours is true but no dim_working_day was given "
                         "(complaints.working_days)")
    rows = sla.severity_rows()
    targets = pa.table({
        "severity": pa.array([r[0] for r in rows], pa.string()),
        "first_response_hours": pa.array([r[1] for r in rows], pa.float64()),
        "resolution_hours": pa.array([r[2] for r in rows], pa.float64()),
    })
    return {"severity_targets": targets,
            "dim_working_day": working if sla.working_hours else _NO_WORKING_DAYS}


def _instant(cutoff_at: datetime) -> datetime:
    if not isinstance(cutoff_at, datetime) or cutoff_at.tzinfo is not None:
        raise ValueError(f"cutoff_at: expected a naive local datetime, got {cutoff_at!r}")
    return cutoff_at


def _naive(complaints: Relation) -> Relation:
    """`complaints` itself, once its timestamps are known to be naive local times: a
    zone-aware column would be converted to the session's zone and shift every month
    boundary, so it is refused (the Parquet schema is read, not the rows)."""
    if isinstance(complaints, pd.DataFrame):
        zoned = [name for name, dtype in complaints.dtypes.items()
                 if isinstance(dtype, pd.DatetimeTZDtype)]
    else:
        schema = pq.read_schema(complaints) if isinstance(complaints, Path) else complaints.schema
        zoned = [field.name for field in schema
                 if pa.types.is_timestamp(field.type) and field.type.tz is not None]
    if zoned:
        raise ValueError(f"complaints: expected naive local timestamps, {', '.join(zoned)} "
                         "carry a time zone")
    return complaints


def complaint_stats(
    complaints: Relation,
    cutoff_at: datetime,
    sla: SlaTargets,
    working: Relation | None = None,
) -> pd.DataFrame:
    """Monthly complaint statistics per category, plus an `all` row per month
    (`sql/marts/complaint_stats.sql`).

    One row per (month, category) that has at least one complaint received in that
    month, and one row with `category = "all"` per month aggregating every category.
    `month` is `YYYY-MM` of `received_at`; every month with a complaint received
    before `cutoff_at` appears (a month with no complaint at all has no row). Rows are
    sorted by `month`, then `category` (plain string order, so `all` is not forced
    first). All counts and rates describe the complaints *received in that month*
    (in that category), except `open_at_month_end` and the 90-day window of
    `repeat_complainants`, which look across months.

    - `received`: complaints received in the month.
    - `resolved`: of those, how many have a `resolved_at` before the cut-off (a reopened
      complaint keeps its first resolution; a negative duration still counts here).
    - `open_at_month_end`: complaints received before T and not resolved before T,
      where T is the end of the month (midnight starting the next month), capped at
      the cut-off; counted over all months of receipt, so the backlog carried from
      earlier months is included. "Closed without a time" complaints are never open.
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
      running at the cut-off is breached once its age exceeds the target and *pending*
      before that; a leg whose recorded time is a negative duration, or the resolution
      leg of a complaint closed without a time, is *unknown*. A complaint is breached
      when any leg is breached, and decided when it is breached or both legs are met.
      Pending and unknown complaints are left out of the denominator: counting a
      complaint that is still within target as "met" would flatter the most recent
      months. NaN when nothing is decided.
    - `mean_satisfaction`: mean of the 1-5 scores given (others are ignored); NaN when none.
    - `reopen_rate`: share of the month's complaints whose status is `reopened`.
    - `repeat_complainants`: distinct members among the month's complainants who have
      at least two complaints (in this row's category; any category for `all`)
      received in the 90 days ending at the month end, i.e. in
      `[next month start - 90 days, next month start)`. Complaints with a blank
      `member_id` count everywhere else but cannot be linked, so not here.

    Durations use the SLA clock: working hours of `working` (`working_days`) when
    `sla.working_hours`, which then requires it.
    """
    params = {
        "cutoff_at": _instant(cutoff_at),
        "working_hours": sla.working_hours,
        "first_response_hours": sla.first_response_hours,
        "resolution_hours": sla.resolution_hours,
    }
    return query("marts/complaint_stats", params, complaints=_naive(complaints),
                 **_sla_relations(sla, working))


def backlog(
    complaints: Relation,
    cutoff_at: datetime,
    sla: SlaTargets,
    working: Relation | None = None,
) -> pd.DataFrame:
    """Complaints open at the cut-off, oldest first (`sql/marts/complaint_backlog.sql`).

    Open means status `open` or `reopened`, or no `resolved_at` before the cut-off while
    the status is neither `resolved` nor `closed` (a blank status counts as open then).
    `age_hours` is calendar hours from `received_at` to the cut-off; `age_band` is an
    ordered categorical of it (`AGE_BANDS`): `<1d` below 24 h, `1-3d` from 24 h, `3-7d`
    from 72 h, `7-30d` from 168 h, `>30d` from 720 h (lower bounds included).
    `is_overdue` is true when the age on the SLA clock exceeds the severity's resolution
    target. Sorted by age, oldest first, then `complaint_id`.
    """
    params = {
        "cutoff_at": _instant(cutoff_at),
        "working_hours": sla.working_hours,
        "resolution_hours": sla.resolution_hours,
    }
    return query("marts/complaint_backlog", params, complaints=_naive(complaints),
                 **_sla_relations(sla, working))


def overdue_by_owner(complaint_backlog: Relation) -> pd.DataFrame:
    """Overdue open complaints per first-contact owner
    (`sql/marts/complaint_overdue_by_owner.sql`).

    One row per owner with at least one overdue case: `overdue_cases` and
    `oldest_age_hours` (the oldest of those overdue cases). A blank owner is reported
    as `(unassigned)`. Sorted by most overdue cases, then oldest age, then owner.
    """
    return query("marts/complaint_overdue_by_owner", complaint_backlog=complaint_backlog)


def timing_anomalies(complaints: Relation, cutoff_at: datetime) -> pd.DataFrame:
    """Complaints whose timestamps cannot be trusted, one row per (complaint, problem)
    (`sql/marts/complaint_anomalies.sql`).

    Complaints received before the cut-off, and those with no receipt time. `problem`
    is one of `missing_received_at`, `first_response_before_received`,
    `resolved_before_received` (durations that would be negative: they are left out of
    every median and SLA leg) and `closed_without_resolved_at` (status resolved or
    closed with a blank `resolved_at`: never open at a month end, resolution leg
    unknown). Sorted by `complaint_id`, then the problem in that order.
    """
    return query("marts/complaint_anomalies", {"cutoff_at": _instant(cutoff_at)},
                 complaints=_naive(complaints))
