"""Complaints: monthly statistics with SLA breaches, the open backlog, overdue by owner.

Each step runs its `sql/marts/complaint_*.sql` model in DuckDB over the staged
complaints' Parquet file (and, for SLA clocks in working hours, `dim_working_day`).
"""

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.defs.checks import declared_results, declared_specs
from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings, as_parquet
from pipeline.lib.rules.complaints import (
    ALL_CATEGORIES,
    backlog,
    complaint_stats as monthly_stats,
    overdue_by_owner,
    timing_anomalies,
    working_days,
)
from pipeline.settings import PATHS

RECEIVED_BALANCE = "received_matches_export"
OVERDUE_RECONCILES = "overdue_reconciles"
STAGED = {"stg_complaints": dg.AssetIn(metadata=as_parquet())}


def _working(settings: ClubPressSettings, stg_complaints: Path, cutoff_at) -> pa.Table | None:
    """dim_working_day over the complaints' span, when the SLA clocks count working hours."""
    sla = settings.club.complaints.sla
    return working_days(stg_complaints, cutoff_at, sla, PATHS.reference) if sla.working_hours else None


def _received_before(stg_complaints: Path, cutoff_at) -> int:
    """Loaded complaints received before the cut-off, counted from the staged file."""
    received = pq.read_table(stg_complaints, columns=["received_at"])["received_at"]
    before = pc.less(received, pa.scalar(cutoff_at, received.type))
    return int(pc.sum(before).as_py() or 0)


@dg.asset(
    partitions_def=editions,
    group_name="complaints",
    ins=STAGED,
    check_specs=[dg.AssetCheckSpec(RECEIVED_BALANCE, asset="complaint_stats", blocking=True,
                                   description="The 'all' rows add up to every loaded "
                                   "complaint received before the cut-off."),
                 *declared_specs("complaint_stats")],
    description="Per month and category: volumes, response and resolution times, SLA breach "
    "rate, satisfaction, reopen rate, repeat complainants.",
)
def complaint_stats(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                    stg_complaints: Path):
    edition = settings.edition(context)
    cutoff_at = edition.cutoff_at
    sla = settings.club.complaints.sla
    frame = monthly_stats(stg_complaints, cutoff_at, sla,
                          _working(settings, stg_complaints, cutoff_at))
    yield dg.Output(frame, metadata={"rows": len(frame), "months": int(frame["month"].nunique())})
    expected = _received_before(stg_complaints, cutoff_at)
    counted = int(frame.loc[frame["category"] == ALL_CATEGORIES, "received"].sum())
    yield dg.AssetCheckResult(check_name=RECEIVED_BALANCE, passed=counted == expected,
                              metadata={"counted": counted, "expected": expected})
    yield from declared_results("complaint_stats", frame, edition)


@dg.asset(partitions_def=editions, group_name="complaints", ins=STAGED,
          check_specs=declared_specs("complaint_backlog"),
          description="Open complaints at the cut-off with their age band and overdue flag.")
def complaint_backlog(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                      stg_complaints: Path):
    edition = settings.edition(context)
    frame = backlog(stg_complaints, edition.cutoff_at, settings.club.complaints.sla,
                    _working(settings, stg_complaints, edition.cutoff_at))
    yield dg.Output(frame, metadata={"open": len(frame),
                                     "overdue": int(frame["is_overdue"].sum())})
    yield from declared_results("complaint_backlog", frame, edition)


@dg.asset(partitions_def=editions, group_name="complaints",
          ins={"complaint_backlog": dg.AssetIn(metadata=as_parquet())},
          check_specs=[dg.AssetCheckSpec(OVERDUE_RECONCILES, asset="complaint_overdue_by_owner",
                                         blocking=True, description="Overdue cases by owner add "
                                         "up to the overdue cases in the backlog."),
                       *declared_specs("complaint_overdue_by_owner")],
          description="Overdue open complaints per first-contact owner (accountable).")
def complaint_overdue_by_owner(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                               complaint_backlog: Path):
    frame = overdue_by_owner(complaint_backlog)
    yield dg.Output(frame, metadata={"owners": len(frame)})
    cases = pq.read_table(complaint_backlog, columns=["complaint_id", "is_overdue"])
    by_owner = int(frame["overdue_cases"].sum())
    in_backlog = int(pc.sum(cases["is_overdue"]).as_py() or 0)
    duplicates = cases.num_rows - pc.count_distinct(cases["complaint_id"], mode="all").as_py()
    yield dg.AssetCheckResult(check_name=OVERDUE_RECONCILES,
                              passed=by_owner == in_backlog and duplicates == 0,
                              metadata={"by_owner": by_owner, "in_backlog": in_backlog,
                                        "duplicate_cases": duplicates})
    yield from declared_results("complaint_overdue_by_owner", frame, settings.edition(context))


@dg.asset(partitions_def=editions, group_name="complaints", ins=STAGED,
          check_specs=declared_specs("complaint_anomalies"),
          description="Complaints whose times contradict each other (excluded from medians).")
def complaint_anomalies(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                        stg_complaints: Path):
    edition = settings.edition(context)
    frame = timing_anomalies(stg_complaints, edition.cutoff_at)
    yield dg.Output(frame, metadata={"rows": len(frame)})
    yield from declared_results("complaint_anomalies", frame, edition)
