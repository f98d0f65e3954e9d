"""The `segments` table: RFM, the relationship scorecard and the lifecycle stage per member."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.lib.rules.rfm import assign_segments, compute_rfm
from pipeline.lib.rules.scoring import (
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
    result = _with_rfm(card, rfm)
    indicator_columns = [c for c in result.columns if c.startswith("score_")]
    return result[SEGMENT_COLUMNS + indicator_columns].sort_values(
        "member_id", ignore_index=True
    )


def _with_rfm(card: pd.DataFrame, rfm: pd.DataFrame) -> pd.DataFrame:
    """`card` with each member's RFM columns, blank for members without any (a left
    join on member_id, both unique, by Arrow's hash lookup: pandas' merge validating
    one-to-one hashes a million ids four times)."""
    where = pc.index_in(
        pa.array(card["member_id"].array).cast(pa.large_string()),
        value_set=pa.array(rfm["member_id"].array).cast(pa.large_string()),
    ).fill_null(-1).to_numpy(zero_copy_only=False)
    found = where >= 0
    row = np.where(found, where, len(rfm))  # one past the last row: the blank appended

    def pick(values: np.ndarray, blank) -> np.ndarray:
        return np.append(values, blank)[row]

    columns = {}
    for column in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        columns[column] = pd.arrays.IntegerArray(pick(rfm[column].to_numpy(np.int64), 0), ~found)
    columns["monetary"] = pick(rfm["monetary"].to_numpy(np.float64), np.nan)
    columns["rfm_segment"] = rfm["rfm_segment"].array.take(where, allow_fill=True)
    return card.assign(**columns)
