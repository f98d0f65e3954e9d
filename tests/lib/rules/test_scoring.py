"""Scorecard, tiers, lifecycle and churn risk: pipeline/lib/rules/scoring.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pipeline.lib.rules.scoring import (
    DEFAULT_INDICATORS,
    DEFAULT_TIERS,
    LIFECYCLE_STAGES,
    Indicator,
    LifecycleThresholds,
    TierRule,
    Cutoff,
    assign_tiers,
    check_indicators,
    churn_risk,
    compute_scorecard,
    count_open_complaints,
    lifecycle_stage,
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


def transactions(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
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


def stamps(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[us]")


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
#    one complaint in the window rated 5; referrals 2 (of 5 -> 40)
# B: join date unknown (tenure missing -> 0)
#    T4 200 and its return T5 -50 on 2025-05-02 00:00 -> spend 150, frequency 1 (the
#    return has no positive line), last purchase 59 days back (May 2 -> Jun 30; the
#    midnight time stamp does not add a day)
#    three unrated complaints -> complaints score 0, satisfaction missing -> 60
# C: joined 2023-01-01, 911 days = 2.4942 years -> 24.94; never bought; referrals 7 (capped)
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
#   referrals (0..5): 2 -> 40, 7 -> 100, absent -> 0
# Totals (weights .30 .20 .15 .15 .10 .05 .05):
#   A 30 + 20 + 15 + 15 + 6.667 + 5 + 2            = 93.67 -> 93.7
#   B 20 + 6.667 + 0 + 12.575 + 0 + 3 + 0           = 42.24 -> 42.2
#   C 0 + 0 + 3.741 + 0 + 10 + 3 + 5                 = 21.74 -> 21.7
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
HAND_REFERRALS = pd.Series({"A": 2, "C": 7, "X": 3})


def test_hand_checked_scorecard():
    card = compute_scorecard(
        HAND_MEMBERS, HAND_TRANSACTIONS, HAND_COMPLAINTS, AS_OF, referrals=HAND_REFERRALS
    ).set_index("member_id")
    assert card.index.tolist() == ["A", "B", "C", "D"]  # every member, member_id order
    expected = pd.DataFrame(
        {
            "score_spend": [100.0, 66.7, 0.0, 33.3],
            "score_frequency": [100.0, 33.3, 0.0, 33.3],
            "score_tenure": [100.0, 0.0, 24.9, 40.0],
            "score_recency": [100.0, 83.8, 0.0, 12.6],
            "score_complaints": [66.7, 0.0, 100.0, 100.0],
            "score_satisfaction": [100.0, 60.0, 60.0, 60.0],
            "score_referrals": [40.0, 0.0, 100.0, 0.0],
            "score": [93.7, 42.2, 21.7, 37.6],
        },
        index=pd.Index(["A", "B", "C", "D"], name="member_id"),
    )
    pd.testing.assert_frame_equal(card, expected, check_index_type=False)


def test_scorecard_columns():
    card = compute_scorecard(HAND_MEMBERS, HAND_TRANSACTIONS, HAND_COMPLAINTS, AS_OF)
    assert list(card.columns) == ["member_id"] + [f"score_{i.name}" for i in DEFAULT_INDICATORS] + [
        "score"
    ]


def test_default_weights_sum_to_one():
    assert sum(i.weight for i in DEFAULT_INDICATORS) == pytest.approx(1.0)


def test_weights_are_normalised():
    # weights written as points (x100) give the same scores as fractions
    as_points = [i.model_copy(update={"weight": i.weight * 100}) for i in DEFAULT_INDICATORS]
    args = (HAND_MEMBERS, HAND_TRANSACTIONS, HAND_COMPLAINTS, AS_OF)
    pd.testing.assert_frame_equal(
        compute_scorecard(*args, indicators=as_points, referrals=HAND_REFERRALS),
        compute_scorecard(*args, referrals=HAND_REFERRALS),
    )


def test_single_indicator_is_the_score():
    # one indicator of any weight: the total is that indicator's score
    only = [Indicator(name="tenure", weight=7, method="linear", low=0, high=10)]
    card = compute_scorecard(HAND_MEMBERS, None, None, AS_OF, indicators=only)
    assert card["score"].tolist() == card["score_tenure"].tolist() == [100.0, 0.0, 24.9, 40.0]


def test_zero_weight_indicator_is_shown_but_not_counted():
    indicators = [
        Indicator(name="tenure", weight=1, method="linear", low=0, high=10),
        Indicator(name="referrals", weight=0, method="linear", low=0, high=5),
    ]
    card = compute_scorecard(HAND_MEMBERS, None, None, AS_OF, indicators, HAND_REFERRALS)
    assert card["score_referrals"].tolist() == [40.0, 0.0, 100.0, 0.0]
    assert card["score"].tolist() == card["score_tenure"].tolist()


def test_missing_tables_score_every_member():
    # no transactions or complaints exported: still one row per member
    card = compute_scorecard(HAND_MEMBERS, None, None, AS_OF)
    assert len(card) == 4
    assert card["score_spend"].tolist() == [0.0] * 4  # all tie at no spend
    assert card["score_complaints"].tolist() == [100.0] * 4
    assert card["score_satisfaction"].tolist() == [60.0] * 4


def test_empty_tables_behave_as_missing():
    empty = compute_scorecard(
        HAND_MEMBERS, HAND_TRANSACTIONS.iloc[:0], HAND_COMPLAINTS.iloc[:0], AS_OF
    )
    pd.testing.assert_frame_equal(empty, compute_scorecard(HAND_MEMBERS, None, None, AS_OF))


def test_members_without_purchases_score_lowest_on_spend_and_frequency():
    card = compute_scorecard(HAND_MEMBERS, HAND_TRANSACTIONS, None, AS_OF).set_index("member_id")
    assert card.loc["C", "score_spend"] == card["score_spend"].min() == 0.0
    assert card.loc["C", "score_frequency"] == card["score_frequency"].min() == 0.0


def test_net_returns_do_not_score_below_no_purchase():
    # E only returned goods in the window: spend floors at 0, tied with the non-buyer C
    rows = [("R1", "E", "2025-03-01 10:00", -80.0), ("P1", "A", "2025-03-01 10:00", 10.0)]
    card = compute_scorecard(
        members({"A": None, "C": None, "E": None}), transactions(rows), None, AS_OF
    ).set_index("member_id")
    assert card.loc["E", "score_spend"] == card.loc["C", "score_spend"] == 0.0
    assert card.loc["E", "score_recency"] == 0.0  # a return is not a purchase


def test_lone_member_percentile_is_neutral():
    card = compute_scorecard(members({"A": None}), None, None, AS_OF)
    assert card.loc[0, "score_spend"] == 50.0


@pytest.mark.parametrize(
    "method, low, high, raw, expected",
    [
        ("linear", 0, 10, [-1, 0, 2.5, 10, 12], [0, 0, 25, 100, 100]),  # capped both ends
        ("inverse", 0, 3, [0, 1, 2, 3, 9], [100, 100 * 2 / 3, 100 / 3, 0, 0]),  # complaints
        ("linear", 1, 5, [1, 3, 3.4, 5], [0, 50, 60, 100]),  # satisfaction: 3.4 = "60"
        ("percentile", None, None, [5, 1, 1, 9, 3], [75, 0, 0, 100, 50]),  # ties share
    ],
)
def test_indicator_mappings(method, low, high, raw, expected):
    indicator = Indicator(name="spend", weight=1, method=method, low=low, high=high)
    assert indicator.to_score(np.array(raw, dtype=float)) == pytest.approx(expected)


def test_missing_measure_gets_missing_score():
    indicator = Indicator(
        name="satisfaction", weight=1, method="linear", low=1, high=5, missing_score=60
    )
    assert indicator.to_score(np.array([np.nan, 5.0])).tolist() == [60.0, 100.0]


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


def test_duplicate_member_ids_are_an_error():
    frame = pd.concat([HAND_MEMBERS, HAND_MEMBERS.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate"):
        compute_scorecard(frame, None, None, AS_OF)


def test_window_months_is_configurable():
    # a 24-month spend window reaches A's 2024-03-01 purchase of 1000 and D's 500
    indicators = [Indicator(name="spend", weight=1, method="percentile", window_months=24)]
    card = compute_scorecard(HAND_MEMBERS, HAND_TRANSACTIONS, None, AS_OF, indicators)
    # A 1800 > D 600 > B 150 > C 0
    assert card.set_index("member_id")["score_spend"].to_dict() == {
        "A": 100.0, "B": 33.3, "C": 0.0, "D": 66.7,
    }


# --- as_of ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "as_of, end, day",
    [
        (date(2025, 6, 30), "2025-07-01 00:00", "2025-06-30"),  # a date: the whole day is history
        (datetime(2025, 6, 30, 12, 0), "2025-06-30 12:00", "2025-06-30"),  # a datetime: that moment
        (pd.Timestamp("2025-06-30 12:00"), "2025-06-30 12:00", "2025-06-30"),
        # a zone-aware moment keeps its wall-clock time (data are local times)
        (
            datetime(2025, 6, 30, 12, 0, tzinfo=timezone(timedelta(hours=8))),
            "2025-06-30 12:00",
            "2025-06-30",
        ),
    ],
)
def test_cutoff(as_of, end, day):
    cutoff = Cutoff.of(as_of)
    assert (cutoff.end, cutoff.day) == (pd.Timestamp(end), pd.Timestamp(day))


@pytest.mark.parametrize(
    "stamp, days",
    [
        ("2025-06-30 23:59", 0),  # the as-of day itself
        ("2025-06-29 00:00", 1),  # midnight of the day before: 1, not 2
        ("2025-06-29 23:59", 1),
        ("2024-06-30 12:00", 365),  # a year back over no 29 February
    ],
)
def test_days_before_are_calendar_days(stamp, days):
    stamps = np.array([stamp], dtype="datetime64[us]")
    assert Cutoff.of(AS_OF).days_before(stamps).tolist() == [days]


def test_window_is_months_back_from_the_cutoff():
    assert Cutoff.of(AS_OF).months_back(12) == pd.Timestamp("2024-07-01 00:00")


def test_as_of_must_be_a_date():
    with pytest.raises(TypeError):
        Cutoff.of("2025-06-30")


# --- tiers ----------------------------------------------------------------------------------


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
    tiers, actions = assign_tiers(pd.Series([score]))
    assert (tiers.iloc[0], actions.iloc[0]) == (tier, action)


def test_tier_order_in_config_does_not_matter():
    scores = pd.Series([10.0, 50.0, 90.0], index=[7, 8, 9])
    forward = assign_tiers(scores)
    backward = assign_tiers(scores, list(reversed(DEFAULT_TIERS)))
    pd.testing.assert_series_equal(forward[0], backward[0])
    assert forward[0].index.tolist() == [7, 8, 9]  # aligned with the scores
    assert (forward[0].name, forward[1].name) == ("tier", "action")


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
        assign_tiers(pd.Series([1.0]), tiers)


@pytest.mark.parametrize("bad", [np.nan, -0.1, 100.1])
def test_tier_scores_must_be_0_to_100(bad):
    with pytest.raises(ValueError):
        assign_tiers(pd.Series([50.0, bad]))


def test_hand_checked_tiers():
    card = compute_scorecard(
        HAND_MEMBERS, HAND_TRANSACTIONS, HAND_COMPLAINTS, AS_OF, referrals=HAND_REFERRALS
    )
    tiers, _ = assign_tiers(card["score"])
    assert tiers.tolist() == ["key", "important", "ordinary", "ordinary"]  # 93.7 42.2 21.7 37.6


# --- lifecycle ------------------------------------------------------------------------------


def ago(days: int, hour: int = 12) -> str:
    """A timestamp `days` calendar days before AS_OF (0 = on the as-of day)."""
    return f"{AS_OF - timedelta(days=days)} {hour:02d}:00"


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
    stages = lifecycle_stage(members({"A": "2020-01-01"}), transactions(rows), AS_OF)
    assert stages.loc["A"] == stage


def test_lifecycle_hour_of_day_does_not_matter():
    # with a date cut-off, days are calendar days: 23:59 on day -180 is still 180 days
    rows = [("T0", "A", ago(300), 50.0), ("T1", "A", ago(180, hour=0), 50.0),
            ("T2", "B", ago(300), 50.0), ("T3", "B", f"{AS_OF - timedelta(days=180)} 23:59", 50.0)]
    stages = lifecycle_stage(members({"A": None, "B": None}), transactions(rows), AS_OF)
    assert stages.tolist() == ["active", "active"]


def test_lifecycle_thresholds_are_configurable():
    thresholds = LifecycleThresholds(new_days=30, active_days=60, lapsed_days=120)
    rows = [("T1", "A", ago(45), 50.0), ("T2", "B", ago(90), 50.0), ("T3", "C", ago(121), 50.0)]
    roster = members({"A": None, "B": None, "C": None})
    stages = lifecycle_stage(roster, transactions(rows), AS_OF, thresholds)
    assert stages.tolist() == ["active", "lapsing", "lapsed"]


def test_lifecycle_series_shape():
    rows = [("T1", "B", ago(10), 50.0), ("T2", "Z", ago(10), 50.0)]  # Z is not a member
    stages = lifecycle_stage(members({"C": None, "B": None, "A": None}), transactions(rows), AS_OF)
    assert stages.index.tolist() == ["A", "B", "C"]
    assert stages.name == "lifecycle_stage"
    assert set(stages) <= set(LIFECYCLE_STAGES)
    assert lifecycle_stage(members({"A": None}), None, AS_OF).tolist() == ["prospect"]


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


# --- open complaints and churn risk ------------------------------------------------------------


def test_count_open_complaints():
    frame = complaints(
        [
            ("K1", "A", "2025-01-01", None, "open", None),  # open
            ("K2", "A", "2025-01-02", "2025-01-03", "reopened", None),  # reopened counts
            ("K3", "B", "2025-01-01", "2025-01-02", "resolved", 4),  # done
            ("K4", "B", "2025-01-01", "2025-01-02", "closed", 4),  # done
            ("K5", "C", "2025-01-01", None, None, None),  # no status, never resolved: open
            ("K6", "D", "2025-01-01", "2025-01-05", None, None),  # no status but resolved
            ("K7", None, "2025-01-01", None, "open", None),  # no member
        ]
    )
    assert count_open_complaints(frame).to_dict() == {"A": 2, "C": 1}
    assert count_open_complaints(None).empty


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


def test_churn_risk():
    table = segments_table(
        [
            ("m1", 80.0, "key", "Champions", "lapsing"),  # valuable, lapsing
            ("m2", 30.0, "ordinary", "At Risk", "lapsed"),  # valuable by segment; + complaint
            ("m3", 55.0, "important", "Low Priority", "active"),  # valuable by tier, complaint
            ("m4", 20.0, "ordinary", "Low Priority", "lapsed"),  # not valuable
            ("m5", 90.0, "key", "Champions", "active"),  # valuable but not at risk
            ("m6", 10.0, "ordinary", None, "prospect"),  # no purchases, not valuable
            ("m7", 55.0, "important", "Potential Loyalists", "lapsing"),  # ties m3 on score
            ("m8", 35.0, "ordinary", "Can't Lose Them", "won_back"),  # complaint count 0
        ]
    )
    open_complaints = pd.Series({"m2": 1, "m3": 2, "m6": 1, "m8": 0})
    risk = churn_risk(table, open_complaints)
    assert list(risk.columns) == [
        "member_id", "reason", "score", "tier", "rfm_segment", "lifecycle_stage",
    ]
    assert risk[["member_id", "reason"]].values.tolist() == [
        ["m1", "lapsing"],
        ["m3", "open_complaint"],  # 55.0 ties m7: member_id order
        ["m7", "lapsing"],
        ["m2", "lapsed+open_complaint"],
    ]


def test_churn_risk_without_complaints():
    table = segments_table([("m1", 80.0, "key", "Champions", "active")])
    assert churn_risk(table, None).empty
