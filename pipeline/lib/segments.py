"""The `segments` table: RFM, the relationship scorecard and the lifecycle stage per member."""

from __future__ import annotations

from datetime import date

import pandas as pd

from pipeline.lib.rfm import assign_segments, compute_rfm
from pipeline.lib.scoring import (
    LifecycleThresholds,
    assign_tiers,
    compute_scorecard,
    lifecycle_stage,
)

# The columns `build_segments` reads (complaints: all of them, it is a small table).
MEMBER_COLUMNS = ("member_id", "join_date")
TRANSACTION_COLUMNS = ("txn_id", "member_id", "txn_at", "amount_cny")

SEGMENT_COLUMNS = [
    "member_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
    "rfm_segment", "score", "tier", "action", "lifecycle_stage",
]


def build_segments(
    members: pd.DataFrame,
    transactions: pd.DataFrame,
    complaints: pd.DataFrame,
    as_of: date,
    segment_rules,
    indicators,
    tiers,
    thresholds: LifecycleThresholds,
) -> pd.DataFrame:
    """One row per member; RFM columns are blank for members who never purchased."""
    rfm = compute_rfm(transactions)
    rfm["rfm_segment"] = assign_segments(rfm, segment_rules)
    card = compute_scorecard(members, transactions, complaints, as_of, indicators)
    card["tier"], card["action"] = assign_tiers(card["score"], tiers)
    stage = lifecycle_stage(members, transactions, as_of, thresholds)
    card["lifecycle_stage"] = card["member_id"].map(stage)
    result = card.merge(rfm, on="member_id", how="left", validate="one_to_one")
    for column in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        result[column] = result[column].astype("Int64")
    indicator_columns = [c for c in result.columns if c.startswith("score_")]
    return result[SEGMENT_COLUMNS + indicator_columns].sort_values(
        "member_id", ignore_index=True
    )
