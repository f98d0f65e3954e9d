"""Complaints: monthly statistics with SLA breaches, the open backlog, overdue by owner."""

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings
from pipeline.lib.rules.calendar import WorkingCalendar, working_calendar
from pipeline.lib.rules.complaints import (
    backlog,
    complaint_stats as monthly_stats,
    overdue_by_owner,
    timing_anomalies,
)
from pipeline.lib.read.ingest import Staged
from pipeline.settings import PATHS

RECEIVED_BALANCE = "received_matches_export"


def _working(settings: ClubPressSettings, complaints: pd.DataFrame) -> WorkingCalendar | None:
    """The official working calendar over the complaints' years, when SLAs use it."""
    received = complaints["received_at"].dropna() if "received_at" in complaints else []
    if not settings.club.complaints.sla.working_hours or len(received) == 0:
        return None
    first = int(received.min().year)
    years = range(first, settings.as_of_date().year + 2)
    return working_calendar(years, PATHS.reference)


@dg.asset(
    partitions_def=editions,
    group_name="complaints",
    check_specs=[dg.AssetCheckSpec(RECEIVED_BALANCE, asset="complaint_stats", blocking=True,
                                   description="The 'all' rows add up to every loaded "
                                   "complaint received before the cut-off.")],
    description="Per month and category: volumes, response and resolution times, SLA breach "
    "rate, satisfaction, reopen rate, repeat complainants.",
)
def complaint_stats(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                    stg_complaints: Staged):
    complaints = stg_complaints.frame
    sla = settings.club.complaints.sla
    cut_off = pd.Timestamp(settings.edition(context).cutoff_at)
    frame = monthly_stats(complaints, cut_off, sla, _working(settings, complaints))
    yield dg.Output(frame, metadata={"rows": len(frame), "months": int(frame["month"].nunique())})
    expected = int((complaints["received_at"] < cut_off).sum())
    counted = int(frame.loc[frame["category"] == "all", "received"].sum())
    yield dg.AssetCheckResult(check_name=RECEIVED_BALANCE, passed=counted == expected,
                              metadata={"counted": counted, "expected": expected})


@dg.asset(partitions_def=editions, group_name="complaints",
          description="Open complaints at the cut-off with their age band and overdue flag.")
def complaint_backlog(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                      stg_complaints: Staged) -> dg.Output:
    complaints = stg_complaints.frame
    frame = backlog(complaints, settings.edition(context).cutoff_at, settings.club.complaints.sla,
                    _working(settings, complaints))
    return dg.Output(frame, metadata={"open": len(frame),
                                      "overdue": int(frame["is_overdue"].sum())})


@dg.asset(partitions_def=editions, group_name="complaints",
          description="Overdue open complaints per first-contact owner (accountable).")
def complaint_overdue_by_owner(complaint_backlog: pd.DataFrame) -> dg.Output:
    frame = overdue_by_owner(complaint_backlog)
    return dg.Output(frame, metadata={"owners": len(frame)})


@dg.asset(partitions_def=editions, group_name="complaints",
          description="Complaints whose times contradict each other (excluded from medians).")
def complaint_anomalies(stg_complaints: Staged) -> dg.Output:
    frame = timing_anomalies(stg_complaints.frame)
    return dg.Output(frame, metadata={"rows": len(frame)})
