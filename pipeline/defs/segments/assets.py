"""Segments: RFM, the weighted scorecard, lifecycle stages and the churn-risk list."""

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pandas as pd

from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings, only_columns
from pipeline.lib.read.ingest import Staged
from pipeline.lib.progress import report
from pipeline.lib.rules.scoring import churn_risk as churn_risk_list
from pipeline.lib.rules.scoring import count_open_complaints
from pipeline.lib.rules.segments import MEMBER_COLUMNS, TRANSACTION_COLUMNS, build_segments
from pipeline.lib.warehouse import query

UNIQUE_MEMBERS = "one_row_per_member"


@dg.asset(
    partitions_def=editions,
    group_name="segments",
    ins={"stg_members": dg.AssetIn(metadata=only_columns(*MEMBER_COLUMNS)),
         "stg_transactions": dg.AssetIn(metadata=only_columns(*TRANSACTION_COLUMNS))},
    check_specs=[dg.AssetCheckSpec(UNIQUE_MEMBERS, asset="segments", blocking=True,
                                   description="Exactly one row per loaded member.")],
    description="Per member: RFM scores and segment, relationship score, tier and action, "
    "lifecycle stage.",
)
def segments(context: dg.AssetExecutionContext, settings: ClubPressSettings,
             stg_members: Staged, stg_transactions: Staged, stg_complaints: Staged):
    club = settings.club
    frame = build_segments(  # a date is its whole day: the cut-off rule of lib/edition.py
        stg_members.frame, stg_transactions.frame, stg_complaints.frame,
        settings.edition(context).as_of,
        club.segments, club.scorecard.indicators, club.scorecard.tiers, club.lifecycle,
    )
    counts = frame["rfm_segment"].value_counts().to_dict()
    report("segments", f"{len(frame):,} members scored; "
           + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    yield dg.Output(frame, metadata={"rows": len(frame), **{f"segment {k}": int(v)
                                                          for k, v in counts.items()}})
    members = stg_members.frame["member_id"]
    # Same length, no repeats and every member present: the same set of ids (Arrow's
    # is_in; Python sets of a million Arrow-backed strings take seconds).
    same = len(frame) == len(members) and frame["member_id"].is_unique and bool(
        pc.all(pc.is_in(pa.array(members.astype("string[pyarrow]").array),
                        value_set=pa.array(frame["member_id"].astype("string[pyarrow]").array)))
        .as_py())
    yield dg.AssetCheckResult(check_name=UNIQUE_MEMBERS, passed=bool(same),
                              metadata={"rows": len(frame), "members": len(members)})


@dg.asset(partitions_def=editions, group_name="segments",
          description="Valuable members who are lapsing, lapsed or have an unresolved complaint.")
def churn_risk(segments: pd.DataFrame, stg_complaints: Staged) -> dg.Output:
    frame = churn_risk_list(segments, count_open_complaints(stg_complaints.frame))
    return dg.Output(frame, metadata={"rows": len(frame)})


@dg.asset(partitions_def=editions, group_name="segments",
          ins={"stg_transactions": dg.AssetIn(metadata=only_columns(  # what the SQL reads
              "member_id", "txn_id", "txn_at", "amount_cny"))},
          description="Active members, transactions and net sales per month (SQL mart).")
def agg_monthly_activity(stg_transactions: Staged) -> dg.Output:
    frame = query("marts/agg_monthly_activity", transactions=stg_transactions.frame)
    return dg.Output(frame, metadata={"months": len(frame)})
