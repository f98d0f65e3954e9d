"""Deliver to staff: the call list (calls/call-list.csv), full phone numbers, staff only."""

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import editions
from pipeline.defs.render.assets import fresh_dir
from pipeline.defs.resources import ClubPressSettings, only_columns
from pipeline.lib.rules import calls
from pipeline.lib.read.ingest import Staged
from pipeline.lib.progress import report

PART = "calls"  # the edition folder it fills


@dg.asset(
    partitions_def=editions,
    group_name="deliver",
    ins={"stg_members": dg.AssetIn(metadata=only_columns(*calls.MEMBER_COLUMNS)),
         "stg_complaints": dg.AssetIn(metadata=only_columns(*calls.COMPLAINT_COLUMNS))},
    description="calls/call-list.csv: members for staff to phone this edition (回访), most "
    "urgent first, with full phone numbers. Staff only: not in the mailing-house archive.",
)
def call_list(context: dg.AssetExecutionContext, settings: ClubPressSettings,
              stg_members: Staged, stg_complaints: Staged, segments: pd.DataFrame,
              churn_risk: pd.DataFrame, upcoming_birthdays: pd.DataFrame,
              returned_addresses: pd.DataFrame) -> dg.MaterializeResult:
    edition = settings.edition(context)
    frame = calls.call_list(stg_members.frame, segments, churn_risk, upcoming_birthdays,
                            stg_complaints.frame, returned_addresses, settings.club.calls,
                            edition)
    folder = fresh_dir(settings, edition, PART)
    calls.write_call_list(frame, folder)
    counts = calls.counts_by_reason(frame)
    report("calls", f"{len(frame):,} members to call: "
           + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))
    return dg.MaterializeResult(metadata={"rows": len(frame), **counts})
