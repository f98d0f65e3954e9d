"""RFM scores and segments (CONTRACT §3): the SQL model pipeline/sql/marts/int_rfm.sql,
run through `segments.rfm_at`, must match the published pandas recipe (`qcut` of
`rank(method="first")`) member for member."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pipeline.config.segments import (
    DEFAULT_SEGMENT_RULES,
    UNCLASSIFIED,
    SegmentRule,
    check_segment_rules,
)
from pipeline.lib.rules.segments import RFM_COLUMNS, as_frame, rfm_at

LATER = datetime(2100, 1, 1)  # a cut-off after every row of these examples


def transactions(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """Staged transactions from (txn_id, member_id, txn_at, amount_cny) tuples."""
    txn_id, member_id, txn_at, amount = zip(*rows) if rows else ((), (), (), ())
    return pd.DataFrame(
        {
            "txn_id": pd.array(txn_id, dtype="string"),
            "member_id": pd.array(member_id, dtype="string"),
            "txn_at": pd.to_datetime(pd.Series(txn_at, dtype=object), format="ISO8601").astype(
                "datetime64[us]"
            ),
            "amount_cny": pd.array(amount, dtype="Float64"),
        }
    )


def compute_rfm(frame: pd.DataFrame, rules=DEFAULT_SEGMENT_RULES, cutoff=LATER) -> pd.DataFrame:
    """The model's rows at one cut-off, without the cut-off column."""
    return as_frame(rfm_at(frame, cutoff, rules))


# The hand-computed example. The export's latest row is M01's at 2024-06-30 18:45, so the
# snapshot is 2024-07-01 18:45. Recency = whole days back from the snapshot:
#   M01 06-30 18:45 -> exactly 1 day            -> 1
#   M02 06-30 08:00 -> 1 day 10h45              -> 1   (ties M01)
#   M03 06-26 09:30 -> 5 days 9h15              -> 5
#   M04 06-01 18:45 -> exactly 30 days (June)   -> 30
#   M05 06-01 18:46 -> 29 days 23h59            -> 29  (rounded down, not to 30)
#   M06 05-02 12:00 -> 60 days 6h45             -> 60
#   M07 2023-12-14 10:00 -> 200 days 8h45       -> 200
#   M08 2023-12-14 18:00 -> 200 days 0h45       -> 200 (ties M07)
#   M09 2023-05-28 12:00 -> 400 days 6h45       -> 400
#   M10 04-02 18:45 -> exactly 90 days          -> 90
# Frequency = distinct txn_id (line items share one), monetary = sum incl. returns.
HAND_ROWS = [
    # M01: 5 txns, T0102 has two lines (150 + 50); 5 x 200 = 1000
    ("T0101", "M01", "2024-02-10 10:00", 200.0),
    ("T0102", "M01", "2024-03-15 11:00", 150.0),
    ("T0102", "M01", "2024-03-15 11:00", 50.0),
    ("T0103", "M01", "2024-04-20 12:00", 200.0),
    ("T0104", "M01", "2024-05-25 13:00", 200.0),
    ("T0105", "M01", "2024-06-30 18:45", 200.0),
    ("T0201", "M02", "2024-06-30 08:00", 50.0),
    ("T0301", "M03", "2024-05-01 10:00", 100.0),
    ("T0302", "M03", "2024-06-01 10:00", 100.0),
    ("T0303", "M03", "2024-06-26 09:30", 100.0),
    # M04: T0401 two lines (120 + 60) + T0402 120 = 300 over 2 txns
    ("T0401", "M04", "2024-01-05 15:00", 120.0),
    ("T0401", "M04", "2024-01-05 15:00", 60.0),
    ("T0402", "M04", "2024-06-01 18:45", 120.0),
    ("T0501", "M05", "2024-03-01 09:00", 200.0),
    ("T0502", "M05", "2024-04-01 09:00", 200.0),
    ("T0503", "M05", "2024-05-01 09:00", 200.0),
    ("T0504", "M05", "2024-06-01 18:46", 200.0),
    ("T0601", "M06", "2024-04-01 10:00", 70.0),
    ("T0602", "M06", "2024-05-02 12:00", 50.0),
    ("T0701", "M07", "2023-07-01 10:00", 500.0),
    ("T0702", "M07", "2023-08-01 10:00", 300.0),
    ("T0703", "M07", "2023-09-01 10:00", 300.0),
    ("T0704", "M07", "2023-10-01 10:00", 300.0),
    ("T0705", "M07", "2023-11-01 10:00", 300.0),
    ("T0706", "M07", "2023-12-14 10:00", 300.0),
    ("T0801", "M08", "2023-12-14 18:00", 50.0),
    # M09: two lines 200 + 200, a return of -200 (its own txn_id), then 100: 300 over 3 txns
    ("T0901", "M09", "2023-03-01 10:00", 200.0),
    ("T0901", "M09", "2023-03-01 10:00", 200.0),
    ("T0902", "M09", "2023-04-10 10:00", -200.0),
    ("T0903", "M09", "2023-05-28 12:00", 100.0),
    ("T1001", "M10", "2024-04-02 18:45", 10.0),
]

# n = 10 members, so quintile = max(1, ceil(5(rank-1)/9)): ranks 1-2 -> 1, 3-4 -> 2,
# 5-6 -> 3, 7-8 -> 4, 9-10 -> 5 (qcut's edges are 1, 2.8, 4.6, 6.4, 8.2, 10).
# Ranks with method="first" over members in member_id order:
#   recency  1:M01 1:M02 5:M03 29:M05 30:M04 60:M06 90:M10 200:M07 200:M08 400:M09
#            -> quintiles 1 1 2 2 3 3 4 4 5 5, reversed for R: M07 R2 but M08 R1 (tie at
#            200 days broken by member_id)
#   frequency 1:M02 1:M08 1:M10 2:M04 2:M06 3:M03 3:M09 4:M05 5:M01 6:M07
#   monetary 10:M10 50:M02 50:M08 120:M06 300:M03 300:M04 300:M09 800:M05 1000:M01 2000:M07
#            -> the three 300s get ranks 5, 6, 7: M03 and M04 M=3, M09 M=4
HAND_EXPECTED = pd.DataFrame(
    [
        # member, recency, F, M, R, F, M, segment (why)
        ("M01", 1, 5, 1000.0, 5, 5, 5, "Champions"),  # all >= 4
        ("M02", 1, 1, 50.0, 5, 1, 1, "Low Priority"),  # recent but F=1
        ("M03", 5, 3, 300.0, 4, 3, 3, "Potential Loyalists"),  # R>=4, F=3, M>=3
        ("M04", 30, 2, 300.0, 3, 2, 3, "Low Priority"),  # F=2 fits no rule
        ("M05", 29, 4, 800.0, 4, 4, 4, "Champions"),  # 29 days beats M04's 30 (floor)
        ("M06", 60, 2, 120.0, 3, 3, 2, "Low Priority"),  # M=2
        ("M07", 200, 6, 2000.0, 2, 5, 5, "Can't Lose Them"),  # R<=2, F>=4, M>=4
        ("M08", 200, 1, 50.0, 1, 1, 2, "Low Priority"),  # R=1 and M=2
        ("M09", 400, 3, 300.0, 1, 4, 4, "Can't Lose Them"),  # return counted: F=3 ranks 7th
        ("M10", 90, 1, 10.0, 2, 2, 1, "Low Priority"),  # lowest M
    ],
    columns=[*RFM_COLUMNS, "rfm_segment"],
)


def test_hand_computed_example():
    rfm = compute_rfm(transactions(HAND_ROWS))
    pd.testing.assert_frame_equal(rfm, HAND_EXPECTED, check_dtype=False)
    assert {c: str(t) for c, t in rfm.dtypes.items() if c not in ("member_id", "rfm_segment")} == {
        "recency_days": "Int64",
        "frequency": "Int64",
        "monetary": "float64",
        "r_score": "Int64",
        "f_score": "Int64",
        "m_score": "Int64",
    }


def test_row_order_does_not_matter():
    # Ties are broken by member_id order, not by the order rows arrive in.
    shuffled = transactions(HAND_ROWS).sample(frac=1.0, random_state=7).reset_index(drop=True)
    pd.testing.assert_frame_equal(compute_rfm(shuffled), compute_rfm(transactions(HAND_ROWS)))


def test_ties_follow_member_id():
    # M07 and M08 tie on 200 days; renaming M08 to M00 puts it first, so it now gets
    # the better rank (R 2) and the former M07 drops to R 1.
    rows = [(t, "M00" if m == "M08" else m, at, a) for t, m, at, a in HAND_ROWS]
    rfm = compute_rfm(transactions(rows)).set_index("member_id")
    assert rfm.loc["M00", "r_score"] == 2
    assert rfm.loc["M07", "r_score"] == 1


def test_member_ids_sort_as_strings():
    # member_id is text: "M10" sorts before "M9" (code point order), as sorted() does.
    rows = [("a", "M9", "2024-01-01 00:00", 1.0), ("b", "M10", "2024-01-01 00:00", 1.0),
            ("c", "汉", "2024-01-01 00:00", 1.0), ("d", "Z", "2024-01-01 00:00", 1.0)]
    assert compute_rfm(transactions(rows))["member_id"].tolist() == ["M10", "M9", "Z", "汉"]


def recipe_frame(seed: int, n_rows: int, n_members: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "txn_id": pd.array([f"T{i // 2:05d}" for i in range(n_rows)], dtype="string"),
            "member_id": pd.array(
                [f"C{i:04d}" for i in rng.integers(0, n_members, n_rows)], dtype="string"
            ),
            "txn_at": (
                pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 400 * 24, n_rows), "h")
            ).astype("datetime64[us]"),
            "amount_cny": pd.array(rng.integers(-2, 3000, n_rows) * 0.05, dtype="Float64"),
        }
    )
    # make line items of one txn_id belong to one member
    frame["member_id"] = frame.groupby("txn_id")["member_id"].transform("first")
    return frame


@pytest.mark.parametrize(
    "seed, n_rows, n_members",
    [
        (3, 3000, 700),  # many ties on F and M
        (5, 40, 7),  # n not a multiple of 5: qcut's edges fall between ranks
        (8, 20000, 4001),  # a larger n; amounts in cents, sums not exact in binary
    ],
)
def test_matches_the_published_pandas_recipe(seed, n_rows, n_members):
    # The recipe as the tutorials write it, on random data with many ties, with money
    # added in whole cents (a float sum's last bit depends on the order of the rows, and
    # would break ties between equal totals at random).
    frame = recipe_frame(seed, n_rows, n_members)
    snapshot = frame["txn_at"].max() + pd.Timedelta(days=1)
    cents = (frame["amount_cny"] * 100).round().astype("int64")
    recipe = frame.assign(cents=cents).groupby("member_id").agg(
        recency_days=("txn_at", lambda x: (snapshot - x.max()).days),
        frequency=("txn_id", "nunique"),
        monetary=("cents", "sum"),
    )
    recipe["monetary"] = recipe["monetary"] / 100
    ranks = recipe.rank(method="first")
    recipe["r_score"] = pd.qcut(ranks["recency_days"], 5, labels=[5, 4, 3, 2, 1])
    recipe["f_score"] = pd.qcut(ranks["frequency"], 5, labels=[1, 2, 3, 4, 5])
    recipe["m_score"] = pd.qcut(ranks["monetary"], 5, labels=[1, 2, 3, 4, 5])
    recipe = recipe.astype({c: "int64" for c in ("r_score", "f_score", "m_score")})
    recipe = recipe.astype({"monetary": "float64"}).reset_index()

    ours = compute_rfm(frame)[list(RFM_COLUMNS)]
    pd.testing.assert_frame_equal(ours, recipe[list(RFM_COLUMNS)], check_dtype=False,
                                  check_exact=True)


def test_the_same_rows_in_any_order_score_the_same():
    # A rerun, an export sorted differently or another thread count must not move a
    # member across a quintile edge: money is added exactly, in cents.
    frame = recipe_frame(8, 20000, 4001)
    shuffled = frame.sample(frac=1, random_state=1).reset_index(drop=True)
    pd.testing.assert_frame_equal(compute_rfm(shuffled), compute_rfm(frame), check_exact=True)


# --- snapshot, recency and the cut-off -------------------------------------------------------


@pytest.mark.parametrize(
    "latest_in_export, member_last, expected_days",
    [
        # snapshot = 07-01 22:00; 1 day 23h back -> 1, not 2 (no rounding to midnight)
        ("2024-06-30 22:00", "2024-06-29 23:00", 1),
        # same calendar dates, export ends earlier in the day: 07-01 01:00 - 06-29 23:00
        # = 1 day 2h -> 1; the hour the export ends does not add a day
        ("2024-06-30 01:00", "2024-06-29 23:00", 1),
        # one minute short of 2 days -> 1 (floor)
        ("2024-06-30 22:00", "2024-06-29 22:01", 1),
        # exactly 2 days -> 2
        ("2024-06-30 22:00", "2024-06-29 22:00", 2),
        # the member who made the latest purchase is always 1 day back
        ("2024-06-30 22:00", "2024-06-30 22:00", 1),
    ],
)
def test_recency_is_whole_days_to_the_snapshot(latest_in_export, member_last, expected_days):
    rows = [("t1", "A", latest_in_export, 10.0), ("t2", "B", member_last, 10.0)]
    rfm = compute_rfm(transactions(rows)).set_index("member_id")
    assert rfm.loc["B", "recency_days"] == expected_days


@pytest.mark.parametrize(
    "stamp, counted",
    [
        ("2024-06-30 10:00", True),  # 10:00 on the cut-off day is history
        ("2024-06-30 23:59:59", True),  # the last second of the cut-off day still counts
        ("2024-07-01 00:00", False),  # midnight after the cut-off day does not
        ("2024-07-03 09:00", False),  # nor anything later in the export
    ],
)
def test_only_rows_before_the_cutoff_count(stamp, counted):
    # B's rows up to the cut-off (end of 2024-06-30) count; a later row neither adds to
    # F and M nor moves the snapshot.
    rows = [("t1", "A", "2024-06-01 10:00", 10.0), ("t2", "B", "2024-06-01 12:00", 10.0),
            ("t3", "B", stamp, 99.0)]
    rfm = compute_rfm(transactions(rows), cutoff=datetime(2024, 7, 1)).set_index("member_id")
    assert rfm.loc["B", "frequency"] == (2 if counted else 1)
    assert rfm.loc["B", "monetary"] == (109.0 if counted else 10.0)
    assert rfm.loc["A", "recency_days"] == (30 if counted else 1)


def test_scores_do_not_depend_on_the_clock():
    # Shifting the whole export by any amount (a run a day or 7 hours later sees the
    # same export) leaves every number unchanged: only the export fixes the snapshot.
    frame = transactions(HAND_ROWS)
    later = frame.assign(txn_at=frame["txn_at"] + pd.Timedelta(hours=7, days=3))
    pd.testing.assert_frame_equal(compute_rfm(later), compute_rfm(frame))


def test_return_can_be_the_latest_row():
    # Every row counts (CONTRACT: latest transaction); the return lowers M, adds to F.
    rows = [("t1", "A", "2024-01-01 10:00", 100.0), ("t2", "A", "2024-03-01 10:00", -40.0)]
    rfm = compute_rfm(transactions(rows)).iloc[0]
    assert (rfm["recency_days"], rfm["frequency"], rfm["monetary"]) == (1, 2, 60.0)


# --- quintiles --------------------------------------------------------------------------


def ranked_members(n: int, times: bool = True) -> pd.DataFrame:
    """n members; member i bought i times (once with `times` False) for 10 CNY each,
    last i days before the snapshot, so F and M rise with i and R falls."""
    base = pd.Timestamp("2024-06-30 12:00")
    rows = [(f"t{i}-{k}", f"m{i:06d}", str(base - pd.Timedelta(days=i)), 10.0 * i / (k + 1))
            for i in range(1, n + 1) for k in range(i if times else 1)]
    return transactions(rows)


@pytest.mark.parametrize("n", [*range(2, 31), 59, 60, 99, 101, 996, 1001])
def test_quintiles_equal_qcut(n):
    # qcut's edges on the ranks are 1 + k(n-1)/5, right-closed; the model's integer
    # formula must give the same quintile for every rank, whatever n is mod 5.
    ranks = pd.Series(np.arange(1, n + 1), dtype=float)
    qcut = pd.qcut(ranks, 5, labels=[1, 2, 3, 4, 5]).astype(int).tolist()
    rfm = compute_rfm(ranked_members(n, times=n <= 101))
    assert rfm["m_score"].tolist() == qcut
    assert rfm["r_score"].tolist() == [6 - q for q in qcut]  # the most recent gets R 5


@pytest.mark.parametrize("n", [6, 7, 8, 9, 11])
def test_ceil_5r_over_n_is_not_qcut(n):
    # The "obvious" ceil(5r/n) differs from qcut unless 5 divides n; the model must not
    # use it (n = 6 gives 1,2,3,4,5,5 instead of 1,1,2,3,4,5).
    ranks = np.arange(1, n + 1)
    assert compute_rfm(ranked_members(n))["f_score"].tolist() != np.ceil(5 * ranks / n).tolist()


def test_qcut_fails_only_for_one_member():
    with pytest.raises(ValueError):
        pd.qcut(pd.Series([1.0]), 5, labels=[1, 2, 3, 4, 5])


@pytest.mark.parametrize(
    "n, expected",
    [
        (1, [3]),  # qcut cannot: one member gets the middle quintile
        (2, [1, 5]),  # as qcut: edges 1, 1.2, ..., 2
        (3, [1, 3, 5]),
        (4, [1, 2, 4, 5]),
        (5, [1, 2, 3, 4, 5]),
    ],
)
def test_fewer_than_five_members(n, expected):
    rfm = compute_rfm(ranked_members(n))
    assert rfm["recency_days"].tolist() == list(range(1, n + 1))
    assert rfm["f_score"].tolist() == expected
    assert rfm["m_score"].tolist() == expected
    assert rfm["r_score"].tolist() == expected[::-1]


def test_members_without_transactions_are_absent():
    rfm = compute_rfm(transactions(HAND_ROWS))
    assert "M11" not in set(rfm["member_id"])  # never bought: no row
    assert len(rfm) == 10


def test_empty_export():
    rfm = compute_rfm(transactions([]))
    assert list(rfm.columns) == [*RFM_COLUMNS, "rfm_segment"]
    assert rfm.empty


# --- segments -------------------------------------------------------------------------------


def score_grid() -> pd.DataFrame:
    """125 members, one per (R, F, M) combination: with 125 members each quintile holds
    25 ranks, so member (r, f, m) gets exactly those scores when its recency, frequency
    and monetary values sort into group r, f and m (ties broken by member_id)."""
    rows = []
    latest = pd.Timestamp("2024-06-30 12:00")
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                member = f"g{r}{f}{m}"
                last = latest - pd.Timedelta(days=5 - r)  # R 5 = the most recent
                for k in range(f):  # F = number of transactions
                    rows.append((f"{member}-{k}", member, str(last - pd.Timedelta(hours=k)),
                                 m * 10.0 / f))
    return transactions(rows)


GRID = score_grid()


def grid_segments(rules=DEFAULT_SEGMENT_RULES) -> dict[tuple[int, int, int], str]:
    rfm = compute_rfm(GRID, rules)
    return {(r, f, m): s for r, f, m, s in
            rfm[["r_score", "f_score", "m_score", "rfm_segment"]].itertuples(index=False)}


def test_grid_has_every_combination():
    assert sorted(grid_segments()) == [(r, f, m) for r in range(1, 6) for f in range(1, 6)
                                       for m in range(1, 6)]


@pytest.mark.parametrize(
    "r, f, m, segment",
    [
        # Champions R>=4, F>=4, M>=4
        (5, 5, 5, "Champions"),
        (4, 4, 4, "Champions"),  # every lower bound is inclusive
        (3, 4, 4, "Loyal Customers"),  # R=3 misses Champions, fits Loyal
        (4, 4, 3, "Loyal Customers"),  # M=3 misses Champions, fits Loyal
        (4, 3, 4, "Potential Loyalists"),  # F=3 misses Champions and Loyal
        # Loyal Customers R>=3, F>=4, M>=3
        (3, 4, 3, "Loyal Customers"),  # all at the lower bounds
        (3, 5, 5, "Loyal Customers"),  # R=3 is too high for Can't Lose Them
        (2, 4, 3, "At Risk"),  # R=2 misses Loyal; M=3 misses Can't Lose Them
        (3, 4, 2, "Low Priority"),  # M=2 misses Loyal; R=3 misses the R<=2 rules
        (3, 3, 3, "Low Priority"),  # F=3 needs R>=4 (Potential) or R=2 (At Risk)
        # Potential Loyalists R>=4, F=3, M>=3
        (4, 3, 3, "Potential Loyalists"),
        (5, 3, 5, "Potential Loyalists"),
        (4, 2, 5, "Low Priority"),  # F=2 is not F=3
        (4, 3, 2, "Low Priority"),  # M=2
        # Can't Lose Them R<=2, F>=4, M>=4
        (2, 4, 4, "Can't Lose Them"),  # upper bound on R inclusive
        (1, 5, 5, "Can't Lose Them"),
        (2, 3, 4, "At Risk"),  # F=3 misses Can't Lose Them
        # At Risk R=2, F>=3, M>=3
        (2, 3, 3, "At Risk"),
        (1, 3, 3, "Low Priority"),  # R=1 is not R=2, and M=3 misses Hibernating
        (2, 2, 3, "Low Priority"),  # F=2
        (2, 3, 2, "Low Priority"),  # M=2
        # Hibernating R<=2, M>=4
        (1, 1, 4, "Hibernating"),
        (2, 2, 5, "Hibernating"),  # F=2 misses At Risk, M>=4 fits
        (1, 3, 4, "Hibernating"),  # R=1 misses At Risk; F=3 misses Can't Lose Them
        (3, 1, 5, "Low Priority"),  # R=3 too recent for Hibernating
        (2, 1, 3, "Low Priority"),  # M=3
        # Low Priority: the catch-all
        (1, 1, 1, "Low Priority"),
    ],
)
def test_default_segment_rules(r, f, m, segment):
    assert DEFAULT_GRID[(r, f, m)] == segment


DEFAULT_GRID = grid_segments()


def test_default_rules_are_the_contract_table():
    assert [rule.name for rule in DEFAULT_SEGMENT_RULES] == [
        "Champions",
        "Loyal Customers",
        "Potential Loyalists",
        "Can't Lose Them",
        "At Risk",
        "Hibernating",
        "Low Priority",
    ]
    assert DEFAULT_SEGMENT_RULES[-1].is_catch_all


def test_every_score_combination_gets_a_default_segment():
    assert UNCLASSIFIED not in set(DEFAULT_GRID.values())


def test_rules_without_catch_all_leave_unclassified():
    segments = grid_segments([SegmentRule(name="Best", r_min=5, f_min=5, m_min=5)])
    assert segments[(5, 5, 5)] == "Best"
    assert segments[(4, 5, 5)] == UNCLASSIFIED


def test_first_match_wins_and_names_may_repeat():
    # two rules with one name express "or"; the earlier rule wins an overlap
    rules = [
        SegmentRule(name="VIP", m_min=5),
        SegmentRule(name="Active", r_min=4),
        SegmentRule(name="VIP", f_min=5),
        SegmentRule(name="Rest"),
    ]
    segments = grid_segments(rules)
    assert [segments[k] for k in [(5, 1, 5), (5, 1, 1), (1, 5, 1), (1, 1, 1)]] == [
        "VIP", "Active", "VIP", "Rest"]


@pytest.mark.parametrize(
    "rules, message",
    [
        ([], "empty"),
        ([SegmentRule(name="All"), SegmentRule(name="Late", r_min=5)], "'Late'"),  # unreachable
    ],
)
def test_rule_list_errors(rules, message):
    with pytest.raises(ValueError, match=message):
        check_segment_rules(rules)
    with pytest.raises(ValueError, match=message):  # the model refuses them too
        compute_rfm(transactions(HAND_ROWS), rules)


@pytest.mark.parametrize(
    "bounds",
    [
        {"r_min": 0},  # scores are 1-5
        {"m_max": 6},
        {"f_min": 4, "f_max": 3},  # empty range
        {"r_min": 4, "colour": "red"},  # unknown key (a typo in club.yaml)
    ],
)
def test_segment_rule_validation(bounds):
    with pytest.raises(ValidationError):
        SegmentRule(name="x", **bounds)
