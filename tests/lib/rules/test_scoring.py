"""Scorecard, tiers, lifecycle and churn risk: the SQL models
pipeline/sql/marts/segments.sql and churn_risk.sql (run by lib/rules/segments.py), and
the settings' checks in pipeline/config/segments.py."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from pydantic import ValidationError

from pipeline.config.segments import (
    DEFAULT_INDICATORS,
    DEFAULT_SEGMENT_RULES,
    DEFAULT_TIERS,
    LIFECYCLE_STAGES,
    Indicator,
    LifecycleThresholds,
    TierRule,
    check_indicators,
    check_tiers,
)
from tests.lib.rules.test_rfm import transactions
import pipeline.lib.rules.segments as segments_lib
from pipeline.lib.rules.segments import (
    SEGMENT_COLUMNS,
    as_frame,
    build_segments,
    churn_risk,
    segment_movement,
)

AS_OF = date(2025, 6, 30)  # cut-off: end of that day = 2025-07-01 00:00
# the 12-month window is [2024-07-01 00:00, 2025-07-01 00:00)


def members(rows: dict[str, str | None]) -> pd.DataFrame:
    """Staged members from {member_id: join_date}."""
    return pd.DataFrame(
        {
            "member_id": pd.array(list(rows), dtype="string"),
            "name": pd.array([f"name {m}" for m in rows], dtype="string"),
            "join_date": pd.to_datetime(pd.Series(list(rows.values()), dtype=object)).astype(
                "datetime64[us]"
            ),
        }
    )


def stamps(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").astype("datetime64[us]")


def complaints(rows: list[tuple]) -> pd.DataFrame:
    """From (complaint_id, member_id, received_at, resolved_at, status, satisfaction)."""
    cid, member_id, received, resolved, status, satisfaction = zip(*rows) if rows else ((),) * 6
    return pd.DataFrame(
        {
            "complaint_id": pd.array(cid, dtype="string"),
            "member_id": pd.array(member_id, dtype="string"),
            "received_at": stamps(received),
            "resolved_at": stamps(resolved),
            "status": pd.array(status, dtype="string"),
            "satisfaction": pd.array(satisfaction, dtype="Int64"),
        }
    )


# --- the hand-checked scorecard ------------------------------------------------------------
#
# Days are calendar days back from the as-of day 2025-06-30.
# A: joined 2015-06-01 (over 10 years: tenure capped at 100)
#    T1 two lines 300 + 200 on 2025-06-30 15:00, T2 300 on 2025-01-10,
#    T3 1000 on 2024-03-01 (before the window: not in spend or frequency)
#    -> spend 800, frequency 2, last purchase on the as-of day = 0 days
#    one complaint in the window rated 5
# B: join date unknown (tenure missing -> 0)
#    T4 200 and its return T5 -50 on 2025-05-02 00:00 -> spend 150, frequency 1 (the
#    return has no positive line), last purchase 59 days back (May 2 -> Jun 30; the
#    midnight time stamp does not add a day)
#    three unrated complaints -> complaints score 0, satisfaction missing -> 60
# C: joined 2023-01-01, 911 days = 2.4942 years -> 24.94; never bought
# D: joined 2021-06-30, 1461 days = exactly 4.0 years -> 40
#    T6 100 on 2024-08-15 (in), T7 500 on 2024-06-30 23:00 (one hour before the window),
#    T8 999 on 2025-07-01 09:00 (after the cut-off: ignored entirely)
#    -> spend 100, frequency 1, last purchase 319 days back
#    complaint of 2024-06-30 (before the window, rated 1) and of 2025-07-01 (after)
#    -> no complaint counts, satisfaction missing -> 60
#
# Percentiles among the 4 members: share of the other 3 strictly below x 100
#   spend   C 0 < D 100 < B 150 < A 800      -> C 0, D 33.3, B 66.7, A 100
#   frequency C 0 < B 1 = D 1 < A 2           -> C 0, B 33.3, D 33.3, A 100
# Linear/inverse:
#   recency (inverse 0..365): A 0 -> 100, B 59 -> 83.84, D 319 -> 12.60, C missing -> 0
#   complaints (inverse 0..3): 1 -> 66.67, 3 -> 0, 0 -> 100
#   satisfaction (1..5): 5 -> 100, missing -> 60
#   referrals (0..5): no referrals export, missing for everyone -> 0
# Totals (weights .30 .20 .15 .15 .10 .05 .05):
#   A 30 + 20 + 15 + 15 + 6.667 + 5 + 0            = 91.67 -> 91.7
#   B 20 + 6.667 + 0 + 12.575 + 0 + 3 + 0           = 42.24 -> 42.2
#   C 0 + 0 + 3.741 + 0 + 10 + 3 + 0                 = 16.74 -> 16.7
#   D 10 + 6.667 + 6 + 1.890 + 10 + 3 + 0            = 37.56 -> 37.6

HAND_MEMBERS = members({"D": "2021-06-30", "A": "2015-06-01", "C": "2023-01-01", "B": None})
HAND_TRANSACTIONS = transactions(
    [
        ("T1", "A", "2025-06-30 15:00", 300.0),
        ("T1", "A", "2025-06-30 15:00", 200.0),
        ("T2", "A", "2025-01-10 10:00", 300.0),
        ("T3", "A", "2024-03-01 10:00", 1000.0),
        ("T4", "B", "2025-05-02 00:00", 200.0),
        ("T5", "B", "2025-05-02 00:00", -50.0),
        ("T6", "D", "2024-08-15 10:00", 100.0),
        ("T7", "D", "2024-06-30 23:00", 500.0),
        ("T8", "D", "2025-07-01 09:00", 999.0),
        ("T9", "X", "2025-06-01 10:00", 5000.0),  # not a member: ignored
    ]
)
HAND_COMPLAINTS = complaints(
    [
        ("K1", "A", "2025-03-01 10:00", "2025-03-02 10:00", "resolved", 5),
        ("K2", "B", "2025-02-01 10:00", None, "open", None),
        ("K3", "B", "2025-03-01 10:00", None, "reopened", None),
        ("K4", "B", "2025-04-01 10:00", "2025-04-03 10:00", "closed", None),
        ("K5", "D", "2024-06-30 10:00", "2024-07-01 10:00", "closed", 1),
        ("K6", "D", "2025-07-01 08:00", None, "open", 1),
        ("K7", None, "2025-05-01 10:00", None, "open", 2),  # no member: not in anyone's score
    ]
)


def segments(member_rows=HAND_MEMBERS, txn_rows=HAND_TRANSACTIONS, complaint_rows=HAND_COMPLAINTS,
             as_of=AS_OF, indicators=DEFAULT_INDICATORS, tiers=DEFAULT_TIERS,
             thresholds=LifecycleThresholds()) -> pd.DataFrame:
    """The segments model's rows, indexed by member_id."""
    table = build_segments(member_rows, txn_rows, complaint_rows, as_of, DEFAULT_SEGMENT_RULES,
                           indicators, tiers, thresholds)
    return as_frame(table).set_index("member_id")


NO_TRANSACTIONS = transactions([])
NO_COMPLAINTS = complaints([])
SCORES = ["score_spend", "score_frequency", "score_tenure", "score_recency",
          "score_complaints", "score_satisfaction", "score_referrals", "score"]


def test_hand_checked_scorecard():
    card = segments()
    assert card.index.tolist() == ["A", "B", "C", "D"]  # every member, member_id order
    expected = pd.DataFrame(
        {
            "score_spend": [100.0, 66.7, 0.0, 33.3],
            "score_frequency": [100.0, 33.3, 0.0, 33.3],
            "score_tenure": [100.0, 0.0, 24.9, 40.0],
            "score_recency": [100.0, 83.8, 0.0, 12.6],
            "score_complaints": [66.7, 0.0, 100.0, 100.0],
            "score_satisfaction": [100.0, 60.0, 60.0, 60.0],
            "score_referrals": [0.0, 0.0, 0.0, 0.0],
            "score": [91.7, 42.2, 16.7, 37.6],
        },
        index=pd.Index(["A", "B", "C", "D"], name="member_id"),
    )
    pd.testing.assert_frame_equal(card[SCORES], expected, check_index_type=False)
    assert card["tier"].tolist() == ["key", "important", "ordinary", "ordinary"]
    assert card["action"].tolist() == ["strengthen", "maintain", "review", "review"]


def test_columns_types_and_order():
    # the contract's columns, then one score column per indicator in the configured order
    indicators = list(reversed(DEFAULT_INDICATORS))
    table = build_segments(HAND_MEMBERS, HAND_TRANSACTIONS, HAND_COMPLAINTS, AS_OF,
                           DEFAULT_SEGMENT_RULES, indicators, DEFAULT_TIERS,
                           LifecycleThresholds())
    assert table.column_names == SEGMENT_COLUMNS + [f"score_{i.name}" for i in indicators]
    frame = as_frame(table)
    assert {c: str(frame[c].dtype) for c in ("recency_days", "monetary", "score", "tier")} == {
        "recency_days": "Int64", "monetary": "float64", "score": "float64", "tier": "string"}


def test_default_weights_sum_to_one():
    assert sum(i.weight for i in DEFAULT_INDICATORS) == pytest.approx(1.0)


def test_weights_are_normalised():
    # weights written as points (x100) give the same scores as fractions
    as_points = [i.model_copy(update={"weight": i.weight * 100}) for i in DEFAULT_INDICATORS]
    pd.testing.assert_frame_equal(segments(indicators=as_points), segments())


def test_single_indicator_is_the_score():
    # one indicator of any weight: the total is that indicator's score
    only = [Indicator(name="tenure", weight=7, method="linear", low=0, high=10)]
    card = segments(indicators=only)
    assert card["score"].tolist() == card["score_tenure"].tolist() == [100.0, 0.0, 24.9, 40.0]
    assert "score_spend" not in card.columns  # only configured indicators are columns


def test_zero_weight_indicator_is_shown_but_not_counted():
    indicators = [
        Indicator(name="tenure", weight=1, method="linear", low=0, high=10),
        Indicator(name="complaints", weight=0, method="inverse", low=0, high=3),
    ]
    card = segments(indicators=indicators)
    assert card["score_complaints"].tolist() == [66.7, 0.0, 100.0, 100.0]
    assert card["score"].tolist() == card["score_tenure"].tolist()


def test_empty_tables_score_every_member():
    # no transactions or complaints: still one row per member, blank RFM
    card = segments(txn_rows=NO_TRANSACTIONS, complaint_rows=NO_COMPLAINTS)
    assert len(card) == 4
    assert card["score_spend"].tolist() == [0.0] * 4  # all tie at no spend: none is above
    assert card["score_complaints"].tolist() == [100.0] * 4
    assert card["score_satisfaction"].tolist() == [60.0] * 4
    assert card["rfm_segment"].isna().all() and card["recency_days"].isna().all()
    assert set(card["lifecycle_stage"]) == {"prospect"}


def test_members_without_purchases_score_lowest_on_spend_and_frequency():
    card = segments()
    assert card.loc["C", "score_spend"] == card["score_spend"].min() == 0.0
    assert card.loc["C", "score_frequency"] == card["score_frequency"].min() == 0.0
    assert pd.isna(card.loc["C", "rfm_segment"])  # no RFM row either


def test_net_returns_do_not_score_below_no_purchase():
    # E only returned goods in the window: spend floors at 0, tied with the non-buyer C
    rows = [("R1", "E", "2025-03-01 10:00", -80.0), ("P1", "A", "2025-03-01 10:00", 10.0)]
    card = segments(members({"A": None, "C": None, "E": None}), transactions(rows))
    assert card.loc["E", "score_spend"] == card.loc["C", "score_spend"] == 0.0
    assert card.loc["E", "score_recency"] == 0.0  # a return is not a purchase
    assert card.loc["E", "monetary"] == -80.0  # RFM counts every row (CONTRACT §3)


def test_lone_member_percentile_is_neutral():
    card = segments(members({"A": None}), NO_TRANSACTIONS, NO_COMPLAINTS)
    assert card.loc["A", "score_spend"] == 50.0


def card_of(indicator: Indicator, spends: list[float]) -> list[float]:
    """Scores of members m0, m1, ... who spent `spends` in the window."""
    ids = [f"m{i}" for i in range(len(spends))]
    rows = [(f"T{i}", m, "2025-06-01 10:00", v) for i, (m, v) in enumerate(zip(ids, spends))]
    card = segments(members(dict.fromkeys(ids)), transactions(rows), NO_COMPLAINTS,
                    indicators=[indicator])
    return card["score_spend"].tolist()


@pytest.mark.parametrize(
    "method, low, high, raw, expected",
    [
        ("linear", 0, 10, [1, 2.5, 10, 12], [10, 25, 100, 100]),  # capped at the top
        ("linear", 5, 10, [1, 7.5], [0, 50]),  # and at the bottom
        ("inverse", 0, 3, [1, 2, 3, 9], [66.7, 33.3, 0, 0]),  # as complaints
        ("percentile", None, None, [5, 1, 1, 9, 3], [75, 0, 0, 100, 50]),  # ties share
    ],
)
def test_indicator_mappings(method, low, high, raw, expected):
    indicator = Indicator(name="spend", weight=1, method=method, low=low, high=high)
    assert card_of(indicator, raw) == pytest.approx(expected)


def test_every_measure_by_percentile_ranks_against_its_own_values():
    # The hand-checked members, each measure scored by percentile (listed in reverse):
    # among those with a value, the share of the others strictly below x 100.
    #   tenure       C 2.49 < D 4.0 < A 10.08, B missing      -> C 0, D 50, A 100, B 0
    #   recency      A 0 < B 59 < D 319 days, C missing       -> A 0, B 50, D 100, C 0
    #   complaints   C 0 = D 0 < A 1 < B 3                    -> C 0, D 0, A 66.7, B 100
    #   satisfaction A 5 alone: a lone value scores 50; the others missing -> 0
    #   referrals    missing for everyone                     -> 0
    # Totals, equal weights: A 416.7 / 7 = 59.5, B 250 / 7 = 35.7, C 0, D 216.7 / 7 = 31.0
    names = ["referrals", "satisfaction", "complaints", "recency", "tenure", "frequency",
             "spend"]
    card = segments(indicators=[Indicator(name=n, weight=1, method="percentile")
                                for n in names])
    expected = {  # spend, frequency, tenure, recency, complaints, satisfaction, referrals, score
        "A": [100, 100, 100, 0, 66.7, 50, 0, 59.5],
        "B": [66.7, 33.3, 0, 50, 100, 0, 0, 35.7],
        "C": [0, 0, 0, 0, 0, 0, 0, 0],
        "D": [33.3, 33.3, 50, 100, 0, 0, 0, 31.0],
    }
    for member, scores in expected.items():
        assert card.loc[member, SCORES].tolist() == pytest.approx(scores), member


def test_missing_measure_gets_missing_score():
    # satisfaction is missing without a rated complaint in the window
    indicator = Indicator(name="satisfaction", weight=1, method="linear", low=1, high=5,
                          missing_score=60)
    card = segments(indicators=[indicator])
    assert card["score_satisfaction"].tolist() == [100.0, 60.0, 60.0, 60.0]


@pytest.mark.parametrize(
    "fields",
    [
        {"method": "linear"},  # no bounds
        {"method": "inverse", "low": 5, "high": 5},  # empty range
        {"method": "percentile", "low": 0, "high": 1},  # bounds mean nothing here
        {"method": "log", "low": 0, "high": 1},  # unknown method
        {"method": "percentile", "weight": -1},  # negative weight
        {"method": "percentile", "missing_score": 101},
        {"method": "percentile", "name": "loyalty"},  # unknown measure
        {"method": "percentile", "colour": "red"},  # unknown key
    ],
)
def test_indicator_validation(fields):
    with pytest.raises(ValidationError):
        Indicator(**{"name": "spend", "weight": 1, **fields})


@pytest.mark.parametrize(
    "indicators, message",
    [
        ([], "empty"),
        ([Indicator(name="spend", weight=1, method="percentile")] * 2, "spend"),
        ([Indicator(name="spend", weight=0, method="percentile")], "sum to 0"),
    ],
)
def test_indicator_list_errors(indicators, message):
    with pytest.raises(ValueError, match=message):
        check_indicators(indicators)


@pytest.mark.parametrize(
    "window_months, expected",
    [
        (12, {"A": 100.0, "B": 66.7, "C": 0.0, "D": 33.3}),  # A 800 > B 150 > D 100 > C 0
        # 24 months reach A's 2024-03-01 purchase of 1000 and D's 500: A 1800 > D 600 > B 150
        (24, {"A": 100.0, "B": 33.3, "C": 0.0, "D": 66.7}),
        # 1 month [2025-06-01, 2025-07-01): only A's T1 (500); B, C and D tie at 0
        (1, {"A": 100.0, "B": 0.0, "C": 0.0, "D": 0.0}),
    ],
)
def test_window_months_is_configurable(window_months, expected):
    indicators = [Indicator(name="spend", weight=1, method="percentile",
                            window_months=window_months)]
    assert segments(indicators=indicators)["score_spend"].to_dict() == expected


def test_window_months_back_clips_to_month_end():
    # cut-off 2025-03-31 -> end 2025-04-01 00:00; one month back is 2025-03-01: a purchase
    # on 2025-02-28 is outside, one on 2025-03-01 00:00 inside
    rows = [("T1", "A", "2025-02-28 23:00", 10.0), ("T2", "B", "2025-03-01 00:00", 10.0)]
    indicators = [Indicator(name="frequency", weight=1, method="linear", low=0, high=1,
                            window_months=1)]
    card = segments(members({"A": None, "B": None}), transactions(rows), NO_COMPLAINTS,
                    as_of=date(2025, 3, 31), indicators=indicators)
    assert card["score_frequency"].to_dict() == {"A": 0.0, "B": 100.0}


# --- the cut-off ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stamp, counts",
    [
        ("2025-06-30 10:00", True),  # 10:00 on the cut-off day is history
        ("2025-06-30 23:59:59", True),  # so is its last second
        ("2025-07-01 00:00", False),  # midnight after the cut-off day is not
        ("2025-07-02 09:00", False),
    ],
)
def test_a_purchase_counts_up_to_the_end_of_the_cutoff_day(stamp, counts):
    rows = [("T1", "A", stamp, 50.0), ("T2", "B", "2025-01-01 10:00", 20.0)]
    card = segments(members({"A": None, "B": None}), transactions(rows), NO_COMPLAINTS)
    assert bool(card.loc["A", "lifecycle_stage"] == "new") is counts
    # RFM too: A's row is the export's latest (1 day to the snapshot), or not there
    assert (1 if counts else None) == (None if pd.isna(card.loc["A", "recency_days"])
                                       else card.loc["A", "recency_days"])
    assert bool(card.loc["A", "score_recency"] == 100.0) is counts  # bought 0 days ago


@pytest.mark.parametrize(
    "received_at, counts",
    [
        ("2025-06-30 10:00", True),  # on the cut-off day: counts
        ("2025-07-01 00:00", False),  # midnight after: not yet history
    ],
)
def test_a_complaint_counts_up_to_the_end_of_the_cutoff_day(received_at, counts):
    rows = complaints([("K1", "A", received_at, None, "open", 5)])
    card = segments(members({"A": None}), NO_TRANSACTIONS, rows)
    assert card.loc["A", "score_complaints"] == (66.7 if counts else 100.0)
    assert card.loc["A", "score_satisfaction"] == (100.0 if counts else 60.0)


@pytest.mark.parametrize(
    "joined, tenure",
    [
        ("2025-06-30", 0.0),  # joined on the cut-off day
        ("2025-07-05", 0.0),  # a join date after the cut-off is not negative tenure
        ("2015-06-30", 100.0),  # 10 years (3653 days / 365.25 > 10): capped
        ("2020-06-30", 50.0),  # 1826 days = 4.9993 years -> 49.99 -> 50.0
    ],
)
def test_tenure_is_days_since_joining(joined, tenure):
    indicators = [Indicator(name="tenure", weight=1, method="linear", low=0, high=10)]
    card = segments(members({"A": joined}), NO_TRANSACTIONS, NO_COMPLAINTS,
                    indicators=indicators)
    assert card.loc["A", "score_tenure"] == tenure


def test_a_blank_join_date_scores_tenure_as_missing():
    # not as 0 years: a club may give a member whose join date it lacks the benefit of
    # the doubt (the contract: blank join_date = missing)
    indicators = [Indicator(name="tenure", weight=1, method="linear", low=0, high=10,
                            missing_score=40)]
    card = segments(members({"A": None, "B": "2025-06-30"}), NO_TRANSACTIONS, NO_COMPLAINTS,
                    indicators=indicators)
    assert card["score_tenure"].to_dict() == {"A": 40.0, "B": 0.0}


# --- tiers ----------------------------------------------------------------------------------


def tier_of(score: float, tiers=DEFAULT_TIERS) -> tuple[str, str]:
    """The tier of a member whose tenure alone scores `score` (tenure = score / 10 years)."""
    joined = AS_OF - timedelta(days=round(score / 10 * 365.25))
    indicators = [Indicator(name="tenure", weight=1, method="linear", low=0, high=10)]
    card = segments(members({"A": str(joined)}), NO_TRANSACTIONS, NO_COMPLAINTS,
                    indicators=indicators, tiers=tiers)
    assert card.loc["A", "score"] == score
    return card.loc["A", "tier"], card.loc["A", "action"]


@pytest.mark.parametrize(
    "score, tier, action",
    [
        (100.0, "key", "strengthen"),
        (70.0, "key", "strengthen"),  # the bound belongs to the higher tier
        (69.9, "important", "maintain"),  # scores carry one decimal
        (40.0, "important", "maintain"),
        (39.9, "ordinary", "review"),
        (0.0, "ordinary", "review"),
    ],
)
def test_default_tier_boundaries(score, tier, action):
    assert tier_of(score) == (tier, action)


def test_tier_order_in_config_does_not_matter():
    assert tier_of(50.0, list(reversed(DEFAULT_TIERS))) == ("important", "maintain")


TIER_A_50 = TierRule(name="a", min_score=50, action="y")


@pytest.mark.parametrize(
    "tiers, message",
    [
        ([], "empty"),
        ([TierRule(name="top", min_score=50, action="a")], "min_score 0"),  # 0-49.9 untiered
        ([TierRule(name="a", min_score=0, action="x"), TIER_A_50], "name"),
        ([TierRule(name="b", min_score=50, action="x"), TIER_A_50], "same min_score"),
    ],
)
def test_tier_list_errors(tiers, message):
    with pytest.raises(ValueError, match=message):
        check_tiers(tiers)
    with pytest.raises(ValueError, match=message):  # the model refuses them too
        segments(tiers=tiers)


# --- lifecycle ------------------------------------------------------------------------------


def ago(days: int, hour: int = 12) -> str:
    """A timestamp `days` calendar days before AS_OF (0 = on the as-of day)."""
    return f"{AS_OF - timedelta(days=days)} {hour:02d}:00"


def stages(member_rows, txn_rows, thresholds=LifecycleThresholds()) -> dict[str, str]:
    card = segments(member_rows, txn_rows, NO_COMPLAINTS, thresholds=thresholds)
    return card["lifecycle_stage"].to_dict()


@pytest.mark.parametrize(
    "purchases, stage",
    [
        ([], "prospect"),  # never bought
        ([(-1, 50.0)], "prospect"),  # -1 = after the cut-off: not yet history
        ([(10, -50.0)], "prospect"),  # a return alone is not a purchase
        ([(0, 50.0)], "new"),  # bought on the as-of day
        ([(90, 50.0)], "new"),  # first purchase exactly new_days ago: still new
        ([(91, 50.0), (10, 50.0)], "active"),  # first purchase one day too early for new
        ([(400, 50.0), (30, 50.0)], "won_back"),  # gap 370 days > 365
        ([(395, 50.0), (30, 50.0)], "active"),  # gap exactly 365 is not more than 365
        ([(600, 50.0), (170, 50.0), (5, 50.0)], "won_back"),  # the gap ends inside the window
        ([(900, 50.0), (500, 50.0), (100, 50.0)], "won_back"),  # only the last gap matters
        ([(800, 50.0), (200, 50.0)], "lapsing"),  # came back, but 200 days ago: not active
        ([(300, 50.0), (180, 50.0)], "active"),  # last purchase exactly active_days ago
        ([(300, 50.0), (181, 50.0)], "lapsing"),  # one day past active_days
        ([(365, 50.0)], "lapsing"),  # exactly lapsed_days ago: still lapsing
        ([(366, 50.0)], "lapsed"),  # more than lapsed_days ago
        ([(400, 50.0), (10, -50.0)], "lapsed"),  # a recent return does not revive a member
    ],
)
def test_lifecycle_stages(purchases, stage):
    rows = [(f"T{i}", "A", ago(days), amount) for i, (days, amount) in enumerate(purchases)]
    assert stages(members({"A": "2020-01-01"}), transactions(rows)) == {"A": stage}


def test_lifecycle_hour_of_day_does_not_matter():
    # with a date cut-off, days are calendar days: 23:59 on day -180 is still 180 days
    rows = [("T0", "A", ago(300), 50.0), ("T1", "A", ago(180, hour=0), 50.0),
            ("T2", "B", ago(300), 50.0), ("T3", "B", f"{AS_OF - timedelta(days=180)} 23:59", 50.0)]
    assert stages(members({"A": None, "B": None}), transactions(rows)) == {
        "A": "active", "B": "active"}


def test_lifecycle_thresholds_are_configurable():
    thresholds = LifecycleThresholds(new_days=30, active_days=60, lapsed_days=120)
    rows = [("T1", "A", ago(45), 50.0), ("T2", "B", ago(90), 50.0), ("T3", "C", ago(121), 50.0)]
    roster = members({"A": None, "B": None, "C": None})
    assert stages(roster, transactions(rows), thresholds) == {
        "A": "active", "B": "lapsing", "C": "lapsed"}


def test_lifecycle_ignores_unknown_members():
    rows = [("T1", "B", ago(10), 50.0), ("T2", "Z", ago(10), 50.0)]  # Z is not a member
    result = stages(members({"C": None, "B": None, "A": None}), transactions(rows))
    assert list(result) == ["A", "B", "C"]  # member_id order
    assert result == {"A": "prospect", "B": "new", "C": "prospect"}
    assert set(result.values()) <= set(LIFECYCLE_STAGES)


@pytest.mark.parametrize(
    "fields",
    [
        {"new_days": 200},  # new beyond active
        {"active_days": 400},  # active beyond lapsed
        {"lapsed_days": 0},
    ],
)
def test_lifecycle_threshold_validation(fields):
    with pytest.raises(ValidationError):
        LifecycleThresholds(**fields)


# --- churn risk -------------------------------------------------------------------------------


def segments_table(rows: list[tuple]) -> pd.DataFrame:
    member_id, score, tier, segment, stage = zip(*rows)
    return pd.DataFrame(
        {
            "member_id": pd.array(member_id, dtype="string"),
            "score": score,
            "tier": pd.array(tier, dtype="string"),
            "rfm_segment": pd.array(segment, dtype="string"),
            "lifecycle_stage": pd.array(stage, dtype="string"),
        }
    )


CHURN_MEMBERS = segments_table(
    [
        ("m1", 80.0, "key", "Champions", "lapsing"),  # valuable, lapsing
        ("m2", 30.0, "ordinary", "At Risk", "lapsed"),  # valuable by segment; + complaint
        ("m3", 55.0, "important", "Low Priority", "active"),  # valuable by tier, complaint
        ("m4", 20.0, "ordinary", "Low Priority", "lapsed"),  # not valuable
        ("m5", 90.0, "key", "Champions", "active"),  # valuable but not at risk
        ("m6", 10.0, "ordinary", None, "prospect"),  # no purchases, not valuable
        ("m7", 55.0, "important", "Potential Loyalists", "lapsing"),  # ties m3 on score
        ("m8", 35.0, "ordinary", "Can't Lose Them", "won_back"),  # complaint resolved
    ]
)
CHURN_COMPLAINTS = complaints(
    [
        ("K1", "m2", "2025-01-01", None, "open", None),  # open
        ("K2", "m3", "2025-01-02", "2025-01-03", "reopened", None),  # reopened counts
        ("K3", "m6", "2025-01-01", None, None, None),  # no status, never resolved: open
        ("K4", "m8", "2025-01-01", "2025-01-02", "resolved", 4),  # done
        ("K5", "m8", "2025-01-01", "2025-01-05", None, None),  # no status but resolved
        ("K6", "m5", "2025-07-01 00:00", None, "open", None),  # after the cut-off
        ("K7", None, "2025-01-01", None, "open", None),  # no member
    ]
)


def test_churn_risk():
    risk = as_frame(churn_risk(CHURN_MEMBERS, CHURN_COMPLAINTS, AS_OF))
    assert list(risk.columns) == [
        "member_id", "reason", "score", "tier", "rfm_segment", "lifecycle_stage",
    ]
    assert risk[["member_id", "reason"]].values.tolist() == [
        ["m1", "lapsing"],
        ["m3", "open_complaint"],  # 55.0 ties m7: member_id order
        ["m7", "lapsing"],
        ["m2", "lapsed+open_complaint"],
    ]


def test_complaints_after_the_cutoff_do_not_put_a_member_at_risk():
    # m5's open complaint was received at midnight after the cut-off day: on the cut-off
    # it did not exist yet; received at 10:00 on the cut-off day it counts
    assert "m5" not in set(as_frame(churn_risk(CHURN_MEMBERS, CHURN_COMPLAINTS, AS_OF))["member_id"])
    earlier = CHURN_COMPLAINTS.assign(received_at=CHURN_COMPLAINTS["received_at"].where(
        CHURN_COMPLAINTS["complaint_id"] != "K6", pd.Timestamp("2025-06-30 10:00")))
    risk = as_frame(churn_risk(CHURN_MEMBERS, earlier, AS_OF)).set_index("member_id")
    assert risk.loc["m5", "reason"] == "open_complaint"


def test_churn_risk_without_complaints():
    table = segments_table([("m1", 80.0, "key", "Champions", "active")])
    assert churn_risk(table, NO_COMPLAINTS, AS_OF).num_rows == 0


# --- segment movement (the report) --------------------------------------------------------------


def test_segment_movement_counts_every_member_once():
    # Snapshots at the end of May and of June 2025. A bought in May only, B in May and
    # June, C only in June (no purchase -> a segment), D never.
    rows = [("T1", "A", "2025-05-10 10:00", 10.0), ("T2", "B", "2025-05-11 10:00", 10.0),
            ("T3", "B", "2025-06-20 10:00", 10.0), ("T4", "C", "2025-06-30 23:00", 10.0),
            ("T5", "C", "2025-07-01 00:00", 10.0)]  # July: in neither snapshot
    pairs = segment_movement(members({"A": None, "B": None, "C": None, "D": None}),
                             transactions(rows), date(2025, 6, 1), date(2025, 7, 1),
                             DEFAULT_SEGMENT_RULES)
    moved = {(p, c): n for p, c, n in pairs.itertuples(index=False)}
    assert sum(moved.values()) == 4
    assert moved[("No purchase", "No purchase")] == 1  # D
    assert sum(n for (p, c), n in moved.items() if p == "No purchase" and c != p) == 1  # C


def test_segments_spill_under_a_memory_limit_or_run_without_it(monkeypatch, capsys):
    """The purchases query (the step's aggregation of the transactions) runs under
    DuckDB's memory limit (SEGMENTS_MEMORY); a limit too small for it gives the same
    table, run again without the limit, and says so."""
    def build():
        return build_segments(HAND_MEMBERS, HAND_TRANSACTIONS, HAND_COMPLAINTS, AS_OF,
                              DEFAULT_SEGMENT_RULES, DEFAULT_INDICATORS, DEFAULT_TIERS,
                              LifecycleThresholds())

    normal = build()
    monkeypatch.setattr(segments_lib, "SEGMENTS_MEMORY", "1KB")
    assert build().equals(normal)
    assert "the purchases query needs more than 1KB" in capsys.readouterr().err
