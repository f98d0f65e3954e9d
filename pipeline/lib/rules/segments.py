"""The segments step's models: RFM, the scorecard, tiers, lifecycle, churn risk and the
report's segment movement, each a SQL model run in an in-memory DuckDB.

Each function takes its tables as frames, Arrow tables or Parquet paths
(`warehouse.Relation`), hands the club's settings to the SQL as small tables (segment
rules, indicators, tiers) or bound parameters, and returns the model's rows. The rules
themselves are in the `.sql` files named below; the settings' models and defaults are in
`pipeline/config/segments.py`.

Time: `as_of` is the data cut-off day; everything dated before the midnight after it
counts, a purchase at 10:00 on that day included (lib/edition.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pyarrow as pa

from pipeline.config.segments import (
    UNCLASSIFIED,
    Indicator,
    LifecycleThresholds,
    SegmentRule,
    TierRule,
    check_indicators,
    check_segment_rules,
    check_tiers,
)
from pipeline.lib.progress import report
from pipeline.lib.warehouse import Relation, query, query_arrow

SEGMENTS_MODEL = "marts/segments"
PURCHASES_MODEL = "marts/int_member_purchases"
RFM_MODEL = "marts/int_rfm"
# The purchases query (`int_member_purchases.sql`) is the step's one aggregation of the
# transactions: six million purchases at 1,000,000 members. Beyond this limit DuckDB
# spills what does not fit to a temporary folder; a million members stay under it (the
# query's buffers peak at about 550 MB, the step alone at 1.3 GiB), a larger club would
# not. A query that cannot fit what DuckDB never spills runs again without the limit.
SEGMENTS_MEMORY = "1200MB"
CHURN_MODEL = "marts/churn_risk"
MOVEMENT_MODEL = "marts/agg_segment_movement"

# The columns the segments model reads (complaints: member_id, received_at, satisfaction).
MEMBER_COLUMNS = ("member_id", "join_date")
TRANSACTION_COLUMNS = ("txn_id", "member_id", "txn_at", "amount_cny")

RFM_COLUMNS = (
    "member_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
)
SEGMENT_COLUMNS = [
    *RFM_COLUMNS, "rfm_segment", "score", "tier", "action", "lifecycle_stage",
]

VALUABLE_TIERS = ("key", "important")
VALUABLE_SEGMENTS = ("Champions", "Loyal Customers", "Can't Lose Them", "At Risk")
NO_PURCHASE = "No purchase"  # the movement's segment of members without any purchase


def as_frame(table: pa.Table) -> pd.DataFrame:
    """A model's rows with the pandas types the tables always had (nullable Int64, Arrow
    strings), so their Parquet and CSV files read as before."""
    mapping = {pa.int64(): pd.Int64Dtype(), pa.string(): pd.StringDtype("pyarrow"),
               pa.large_string(): pd.StringDtype("pyarrow")}
    return table.to_pandas(types_mapper=mapping.get)


def cutoff_moment(as_of: date) -> datetime:
    """The first moment that no longer counts: midnight after the cut-off day."""
    return datetime.combine(as_of + timedelta(days=1), datetime.min.time())


# --- the club's settings as small tables --------------------------------------------------


def rule_table(rules: Sequence[SegmentRule]) -> pa.Table:
    """The segment rules in order (`position` 0 first), bounds blank where open."""
    check_segment_rules(rules)
    rows = [{"position": i, **rule.model_dump()} for i, rule in enumerate(rules)]
    bound = pa.int64()
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [("position", pa.int64()), ("name", pa.string())]
        + [(f"{s}_{b}", bound) for s in "rfm" for b in ("min", "max")]))


def indicator_table(indicators: Sequence[Indicator]) -> pa.Table:
    check_indicators(indicators)
    rows = [{"position": i, **indicator.model_dump()} for i, indicator in enumerate(indicators)]
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("position", pa.int64()), ("name", pa.string()), ("weight", pa.float64()),
        ("method", pa.string()), ("low", pa.float64()), ("high", pa.float64()),
        ("missing_score", pa.float64()), ("window_months", pa.int64()),
    ]))


def tier_table(tiers: Sequence[TierRule]) -> pa.Table:
    check_tiers(tiers)
    return pa.Table.from_pylist([t.model_dump() for t in tiers], schema=pa.schema([
        ("name", pa.string()), ("min_score", pa.float64()), ("action", pa.string()),
    ]))


# --- models ---------------------------------------------------------------------------------


def member_purchases(transactions: Relation, cutoff_at: datetime,
                     indicators: Sequence[Indicator] = (),
                     thresholds: LifecycleThresholds | None = None,
                     memory_limit: str | None = None) -> pa.Table:
    """Each member's purchases before the cut-off moment, as RFM, the scorecard (in the
    windows of `indicators`) and the lifecycle read them (`int_member_purchases.sql`);
    `memory_limit`: see `warehouse.query_arrow`."""
    thresholds = thresholds or LifecycleThresholds()
    return query_arrow(
        PURCHASES_MODEL,
        {"cutoff_at": cutoff_at, "active_days": thresholds.active_days},
        memory_limit=memory_limit,
        stg_transactions=transactions,
        indicators=pa.table({  # their windows: an empty list leaves every window 12 months
            "name": pa.array([i.name for i in indicators], pa.string()),
            "window_months": pa.array([i.window_months for i in indicators], pa.int64()),
        }),
    )


def rfm_at(transactions: Relation, cutoff_at: datetime,
           rules: Sequence[SegmentRule]) -> pa.Table:
    """RFM and segment per member at the cut-off moment (`int_rfm.sql`): the
    `RFM_COLUMNS` and `rfm_segment`, for members with a row before `cutoff_at`."""
    return rfm_of(member_purchases(transactions, cutoff_at), rules)


def rfm_of(purchases: pa.Table, rules: Sequence[SegmentRule]) -> pa.Table:
    """`rfm_at` from the members' purchases (`member_purchases`)."""
    return query_arrow(RFM_MODEL, {"unclassified": UNCLASSIFIED},
                       member_purchases=purchases, segment_rules=rule_table(rules))


def build_segments(
    members: Relation,
    transactions: Relation,
    complaints: Relation,
    as_of: date,
    segment_rules: Sequence[SegmentRule],
    indicators: Sequence[Indicator],
    tiers: Sequence[TierRule],
    thresholds: LifecycleThresholds,
) -> pa.Table:
    """The `segments` table (`segments.sql`): one row per member in member_id order, the
    `SEGMENT_COLUMNS` then one `score_<name>` per indicator in the configured order; RFM
    columns are blank for members who bought nothing before the cut-off."""
    def purchases_under(memory_limit: str | None) -> pa.Table:
        return member_purchases(transactions, cutoff_moment(as_of), indicators, thresholds,
                                memory_limit)

    try:
        purchases = purchases_under(SEGMENTS_MEMORY)
    except duckdb.OutOfMemoryException:  # what cannot spill did not fit: the limit goes
        report("segments", f"the purchases query needs more than {SEGMENTS_MEMORY}: "
               "run again without a memory limit")
        purchases = purchases_under(None)
    table = query_arrow(
        SEGMENTS_MODEL,
        {"as_of": as_of, **thresholds.model_dump()},
        stg_members=members,
        member_purchases=purchases,
        stg_complaints=complaints,
        int_rfm=rfm_of(purchases, segment_rules),
        indicators=indicator_table(indicators),
        tiers=tier_table(tiers),
    )
    return table.select(SEGMENT_COLUMNS + [f"score_{i.name}" for i in indicators])


def churn_risk(segments: Relation, complaints: Relation, as_of: date) -> pa.Table:
    """Valuable members at risk (`churn_risk.sql`), highest score first."""
    return query_arrow(
        CHURN_MODEL,
        {"as_of": as_of, "valuable_tiers": list(VALUABLE_TIERS),
         "valuable_segments": list(VALUABLE_SEGMENTS)},
        segments=segments,
        stg_complaints=complaints,
    )


def segment_movement(members: Relation, transactions: Relation, previous_end: date,
                     current_end: date, rules: Sequence[SegmentRule]) -> pd.DataFrame:
    """Members per (previous_segment, current_segment) pair (`agg_segment_movement.sql`):
    segments from the transactions dated before `previous_end` and before `current_end`
    (both first days of a month), `NO_PURCHASE` for members without any."""
    previous_at = datetime.combine(previous_end, datetime.min.time())
    current_at = datetime.combine(current_end, datetime.min.time())
    return query(
        MOVEMENT_MODEL,
        {"no_purchase": NO_PURCHASE},
        stg_members=members,
        rfm_previous=rfm_at(transactions, previous_at, rules),
        rfm_current=rfm_at(transactions, current_at, rules),
    )
