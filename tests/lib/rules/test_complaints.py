"""The complaint marts (sql/marts/complaint_*.sql) on tiny tables: SLA clocks in calendar
and working hours, monthly statistics, the backlog, overdue by owner and anomalies."""

from __future__ import annotations

import functools
import math
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from pipeline.config import ConfigError, load_config
from pipeline.config.complaints import SlaTargets
from pipeline.lib.edition import Edition
from pipeline.lib.rules.calendar import arrangement_days, dim_working_day
from pipeline.lib.rules.complaints import (
    AGE_BANDS,
    ALL_CATEGORIES,
    ANOMALY_COLUMNS,
    BACKLOG_COLUMNS,
    OVERDUE_COLUMNS,
    STATS_COLUMNS,
    backlog,
    complaint_stats,
    overdue_by_owner,
    timing_anomalies,
    working_days,
)

REFERENCE = Path(__file__).resolve().parents[3] / "data" / "reference"
URGENT = "紧急"
NORMAL = "一般"
SERVICE = "服务"
FACILITY = "设施"


def _ts(text: str | None) -> pd.Timestamp:
    return pd.NaT if text is None else pd.Timestamp(text)


def _series(values: list[str | None]) -> pd.Series:
    return pd.Series([_ts(v) for v in values], dtype="datetime64[us]")


# --------------------------------------------------------------------------- SLA clock

WORKING = SlaTargets(working_hours=True)


@functools.cache
def _working_days_2026() -> pa.Table:
    """dim_working_day (09:00-18:00) over every day the SLA clock cases below touch."""
    return dim_working_day(date(2025, 12, 1), date(2026, 12, 31), REFERENCE)


def _response_hours(start: str, end: str, sla: SlaTargets = WORKING) -> float:
    """The SLA clock between two instants, as complaint_stats reports it: the median
    first response of a month holding one complaint received at `start`, answered at
    `end` (so each case is what a club would read in its table)."""
    rows = [("A", "M1", SERVICE, NORMAL, "o", start, end, None, "open", None)]
    frame = _complaints(rows)
    cutoff = datetime(2026, 12, 31)
    stats = complaint_stats(frame, cutoff, sla, _working_days_2026())
    return _row(stats, start[:7], SERVICE)["median_first_response_hours"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # across a weekend: Fri 17:00-18:00 (1 h) + Mon 09:00-10:00 (1 h)
        ("2026-03-06 17:00", "2026-03-09 10:00", 2.0),
        # partial day inside the window
        ("2026-03-09 09:30", "2026-03-09 12:00", 2.5),
        # start before opening: the clock starts at 09:00
        ("2026-03-09 07:00", "2026-03-09 10:00", 1.0),
        # start after closing: nothing until Tuesday 09:00
        ("2026-03-09 20:00", "2026-03-10 09:30", 0.5),
        # received on a Saturday: counts from Monday 09:00
        ("2026-03-07 10:00", "2026-03-09 10:00", 1.0),
        # both ends inside one weekend: no working time at all
        ("2026-03-07 10:00", "2026-03-08 15:00", 0.0),
        # end exactly at day_end: the whole window, [09:00, 18:00) = 9 h
        ("2026-03-09 09:00", "2026-03-09 18:00", 9.0),
        # one full week Monday to Monday: 5 days x 9 h
        ("2026-03-09 09:00", "2026-03-16 09:00", 45.0),
        # Spring Festival (statutory days off 15-23 Feb): Fri 13 Feb 1 h + Sat 14 Feb
        # (make-up workday) 9 h + nothing on the days off + Tue 24 Feb 1 h
        ("2026-02-13 17:00", "2026-02-24 10:00", 11.0),
        # received on a statutory day off: only Tue 24 Feb 09:00-10:00 counts
        ("2026-02-18 10:00", "2026-02-24 10:00", 1.0),
        # make-up Saturday 28 Feb (调休) counts: Fri 1 h + Sat 9 h + (Sun off) + Mon 1 h
        ("2026-02-27 17:00", "2026-03-02 10:00", 11.0),
        # New Year: Sat 3 Jan is off, Sun 4 Jan is a make-up workday (9 h) + Mon 1 h
        ("2026-01-03 10:00", "2026-01-05 10:00", 10.0),
        # sub-hour precision: 30 s before close + 30 s after opening = 1 minute
        ("2026-03-09 17:59:30", "2026-03-10 09:00:30", 1 / 60),
        # zero-length duration is valid, not an error
        ("2026-03-09 11:00", "2026-03-09 11:00", 0.0),
    ],
)
def test_working_hours_on_the_official_calendar(start, end, expected):
    assert _response_hours(start, end) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # calendar hours ignore weekends and holidays: 10 days 17 hours
        ("2026-02-13 17:00", "2026-02-24 10:00", 257.0),
        # fractions are kept
        ("2026-03-09 09:00", "2026-03-09 09:45", 0.75),
        # end before start is a data error: no duration (complaint_anomalies lists it)
        ("2026-03-09 10:00", "2026-03-09 09:00", math.nan),
    ],
)
def test_calendar_hours(start, end, expected):
    hours = _response_hours(start, end, SlaTargets())
    if math.isnan(expected):
        assert math.isnan(hours)
    else:
        assert hours == pytest.approx(expected)


def _reference_working_hours(start: datetime, end: datetime, workdays, day_start, day_end) -> float:
    """Day-by-day reference written with plain datetime arithmetic."""
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if workdays.get(day, day.weekday() < 5):
            open_at = datetime.combine(day, day_start)
            close_at = datetime.combine(day, day_end)
            overlap = min(end, close_at) - max(start, open_at)
            total += max(overlap, timedelta(0))
        day += timedelta(days=1)
    return total / timedelta(hours=1)


def test_working_hours_match_a_day_by_day_reference():
    # Random spans around the Spring Festival and New Year blocks, with an unusual
    # working window, against an independent slow implementation: each complaint sits
    # alone in its own category, so its row's median is its own duration.
    rng = np.random.default_rng(2026)
    n = 200
    base = np.datetime64("2025-12-20T00:00", "m")
    starts = base + rng.integers(0, 110 * 24 * 60, n).astype("timedelta64[m]")
    ends = starts + rng.integers(0, 30 * 24 * 60, n).astype("timedelta64[m]")
    frame = _complaints([
        (f"K{i}", "M1", f"k{i:03d}", NORMAL, "o", str(s), str(e), None, "open", None)
        for i, (s, e) in enumerate(zip(starts, ends))
    ])
    sla = SlaTargets(working_hours=True, working_day_start="08:30", working_day_end="17:15")
    cutoff = datetime(2026, 6, 1)
    stats = complaint_stats(frame, cutoff, sla, working_days(frame, cutoff, sla, REFERENCE))
    published = arrangement_days([2025, 2026], REFERENCE).to_pylist()
    workdays = {row["day"]: row["is_working_day"] for row in published}
    for i, (s, e) in enumerate(zip(starts, ends)):
        got = _row(stats, str(s)[:7], f"k{i:03d}")["median_first_response_hours"]
        expected = _reference_working_hours(
            s.astype(datetime), e.astype(datetime), workdays, time(8, 30), time(17, 15))
        assert got == pytest.approx(expected, abs=1e-9), (s, e)


def test_working_hours_need_the_working_days():
    # Asking for working hours without dim_working_day is an error, not calendar hours.
    frame = _complaints(HAND_BUILT[:1])
    with pytest.raises(ValueError, match="dim_working_day"):
        complaint_stats(frame, AS_OF, WORKING)


# --------------------------------------------------------------------------- SLA targets


def test_sla_targets_defaults_and_severity_overrides():
    sla = SlaTargets(
        severity_overrides={
            URGENT: {"first_response_hours": 4, "resolution_hours": 24},
            "低": {"resolution_hours": 168},  # a partial override keeps the general 24 h
        }
    )
    assert (sla.first_response_hours, sla.resolution_hours, sla.working_hours) == (24, 72, False)
    assert sla.targets_for(URGENT) == (4, 24)
    assert sla.targets_for("低") == (24, 168)
    assert sla.targets_for(None) == (24, 72)
    assert sla.targets_for("unknown") == (24, 72)


@pytest.mark.parametrize(
    "config",
    [
        {"resolution_hour": 72},  # misspelt key must be an error that names it
        {"first_response_hours": 0},  # a zero target would breach everything
        {"severity_overrides": {URGENT: {"first_response_hours": -4}}},
    ],
)
def test_sla_targets_reject_bad_configuration(config):
    with pytest.raises(ValidationError):
        SlaTargets(**config)


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        # an overnight or empty window would silently count no working time
        ("working_day_start: '18:00'\n    working_day_end: '09:00'", "complaints.sla"),
        # YAML reads an unquoted 17:30 as the number 1050 (base 60): refused, not 00:17:30
        ("working_day_end: 17:30", "complaints.sla.working_day_end"),
    ],
)
def test_working_window_in_club_yaml(tmp_path, yaml_text, key):
    path = tmp_path / "club.yaml"
    path.write_text(f"complaints:\n  sla:\n    {yaml_text}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(path)
    path.write_text("complaints:\n  sla:\n    working_day_end: '17:30'\n", encoding="utf-8")
    assert load_config(path).complaints.sla.working_day_end == time(17, 30)


# --------------------------------------------------------------------------- hand-built set

AS_OF = datetime(2026, 4, 1)
SLA = SlaTargets(severity_overrides={URGENT: {"first_response_hours": 4, "resolution_hours": 24}})

# complaint_id, member_id, category, severity, owner, received_at, first_response_at,
# resolved_at, status, satisfaction. Durations in hours are noted as fr / res.
HAND_BUILT = [
    # January
    # fr 2, res 24: met
    ("C01", "M1", SERVICE, NORMAL, "王芳", "2026-01-05 10:00", "2026-01-05 12:00", "2026-01-06 10:00", "resolved", 5),
    # fr 6 > 4: breached; res 24 = 24 met
    ("C02", "M2", SERVICE, URGENT, "李雷", "2026-01-10 09:00", "2026-01-10 15:00", "2026-01-11 09:00", "closed", 2),
    # fr 24 met, res 120 > 72: breached
    ("C03", "M1", FACILITY, NORMAL, "王芳", "2026-01-20 08:00", "2026-01-21 08:00", "2026-01-25 08:00", "reopened", None),
    # blank member; fr 16, res 144: breached; open at Jan end
    ("C04", "", FACILITY, NORMAL, "李雷", "2026-01-28 18:00", "2026-01-29 10:00", "2026-02-03 18:00", "resolved", 3),
    # February
    # fr 1, res 48: met
    ("C05", "M1", SERVICE, NORMAL, "王芳", "2026-02-02 10:00", "2026-02-02 11:00", "2026-02-04 10:00", "resolved", 4),
    # never answered: age 1190 h, breached
    ("C06", "M3", SERVICE, NORMAL, None, "2026-02-10 10:00", None, None, "open", None),
    # fr 1 <= 4, res 22 <= 24: met
    ("C07", "M4", FACILITY, URGENT, "李雷", "2026-02-14 09:00", "2026-02-14 10:00", "2026-02-15 07:00", "closed", 5),
    # fr negative: unknown leg; res 48 met: undecided
    ("C08", "M2", FACILITY, NORMAL, "李雷", "2026-02-20 12:00", "2026-02-19 12:00", "2026-02-22 12:00", "resolved", 1),
    # March
    # fr 5 met; open 744 h > 72: breached
    ("C09", "M2", SERVICE, NORMAL, "王芳", "2026-03-01 00:00", "2026-03-01 05:00", None, "open", None),
    # 4 h old at as_of: pending, out of the denominator
    ("C10", "M5", SERVICE, NORMAL, "李雷", "2026-03-31 20:00", None, None, None, None),
    # fr 0.5, res 24: met
    ("C11", "M3", FACILITY, NORMAL, "王芳", "2026-03-15 10:00", "2026-03-15 10:30", "2026-03-16 10:00", "resolved", 4),
    # blank member; res negative: undecided
    ("C12", "  ", FACILITY, NORMAL, "李雷", "2026-03-20 10:00", "2026-03-20 11:00", "2026-03-19 10:00", "resolved", None),
]


def _complaints(rows) -> pd.DataFrame:
    columns = list(zip(*rows)) if rows else [()] * 10
    return pd.DataFrame(
        {
            "complaint_id": pd.Series(columns[0], dtype="str"),
            "member_id": pd.Series(columns[1], dtype="str"),
            "received_at": _series(list(columns[5])),
            "channel": pd.Series(["电话"] * len(rows), dtype="str"),
            "category": pd.Series(columns[2], dtype="str"),
            "severity": pd.Series(columns[3], dtype="str"),
            "owner": pd.Series(columns[4], dtype="str"),
            "first_response_at": _series(list(columns[6])),
            "resolved_at": _series(list(columns[7])),
            "status": pd.Series(columns[8], dtype="str"),
            "satisfaction": pd.array(columns[9], dtype="Int64"),
        }
    )


def _row(stats: pd.DataFrame, month: str, category: str) -> dict:
    hit = stats[(stats["month"] == month) & (stats["category"] == category)]
    assert len(hit) == 1, (month, category)
    return hit.iloc[0].to_dict()


@pytest.fixture(scope="module")
def hand_stats() -> pd.DataFrame:
    return complaint_stats(_complaints(HAND_BUILT), AS_OF, SLA)


def test_stats_rows_columns_and_order(hand_stats):
    # Every month, each category that had complaints plus the `all` row, sorted by
    # month then category in plain string order ("all" < CJK characters).
    assert list(hand_stats.columns) == list(STATS_COLUMNS)
    keys = list(zip(hand_stats["month"], hand_stats["category"]))
    assert keys == [
        (m, c) for m in ("2026-01", "2026-02", "2026-03") for c in (ALL_CATEGORIES, SERVICE, FACILITY)
    ]


NAN = math.nan

# Every number worked out by hand from HAND_BUILT (as_of 2026-04-01 00:00, targets
# 24/72 h, 紧急 4/24 h); the reasoning sits next to each row.
EXPECTED_STATS = [
    # Jan 服务: C01, C02. Both resolved before 1 Feb -> open 0. fr [2, 6] -> 4;
    # res [24, 24] -> 24, p90 24. C01 met, C02 breached (fr 6 > 4) -> 1/2.
    # sat (5 + 2) / 2 = 3.5. M1 and M2 have one 服务 complaint each in the window -> 0.
    ("2026-01", SERVICE, 2, 2, 0, 4.0, 24.0, 24.0, 0.5, 3.5, 0.0, 0),
    # Jan 设施: C03, C04. Both resolved by as_of (C04 on 3 Feb) -> resolved 2; at 1 Feb
    # C04 still open -> 1. fr [24, 16] -> 20; res [120, 144] -> 132; p90 = 120 + 0.9 * 24
    # = 141.6. Both breached -> 1.0. sat [3] -> 3. C03 reopened -> 1/2. M1 has one 设施
    # complaint; C04 has no member -> 0.
    ("2026-01", FACILITY, 2, 2, 1, 20.0, 132.0, 141.6, 1.0, 3.0, 0.5, 0),
    # Jan all: fr [2, 6, 16, 24] -> (6 + 16) / 2 = 11; res [24, 24, 120, 144] -> 72;
    # p90 rank 0.9 * 3 = 2.7 -> 120 + 0.7 * 24 = 136.8. 3 of 4 breached. sat 10 / 3.
    # Reopened 1/4. M1 has C01 and C03 within 90 days of 1 Feb -> 1.
    ("2026-01", ALL_CATEGORIES, 4, 4, 1, 11.0, 72.0, 136.8, 0.75, 10 / 3, 0.25, 1),
    # Feb 服务: C05, C06. Resolved 1. At 1 Mar: C06 open -> 1. fr [1]; res [48].
    # C05 met, C06 breached by age -> 1/2. sat [4]. M1: C01 + C05 in 服务 since
    # 1 Dec -> 1 repeat; M3 one complaint.
    ("2026-02", SERVICE, 2, 1, 1, 1.0, 48.0, 48.0, 0.5, 4.0, 0.0, 1),
    # Feb 设施: C07, C08. Resolved 2. Everything in 设施 closed by 1 Mar (C04 on 3 Feb)
    # -> 0. fr [1] (C08's negative response excluded); res [22, 48] -> 35, p90 = 22 +
    # 0.9 * 26 = 45.4. C07 met, C08 undecided -> 0/1. sat (5 + 1) / 2 = 3. No repeat.
    ("2026-02", FACILITY, 2, 2, 0, 1.0, 35.0, 45.4, 0.0, 3.0, 0.0, 0),
    # Feb all: resolved 3. Open at 1 Mar: C06 -> 1. fr [1, 1]; res [22, 48, 48] -> 48,
    # p90 rank 1.8 -> 48. C05 met, C06 breached, C07 met, C08 undecided -> 1/3.
    # sat (4 + 5 + 1) / 3. Repeats since 1 Dec: M1 (C01, C03, C05), M2 (C02, C08) -> 2.
    ("2026-02", ALL_CATEGORIES, 4, 3, 1, 1.0, 48.0, 48.0, 1 / 3, 10 / 3, 0.0, 2),
    # Mar 服务: C09 (received exactly at 1 Mar 00:00, so March), C10. Resolved 0.
    # Open at as_of: C06, C09, C10 -> 3. fr [5]; no resolution. C09 breached, C10
    # pending -> 1/1. No score. M2: C02 (10 Jan) + C09 since 1 Jan -> 1.
    ("2026-03", SERVICE, 2, 0, 3, 5.0, NAN, NAN, 1.0, NAN, 0.0, 1),
    # Mar 设施: C11, C12. Resolved 2 (C12 has a resolved_at, though before receipt).
    # Open 0. fr [0.5, 1] -> 0.75; res [24] (C12 negative). C11 met, C12 undecided ->
    # 0/1. sat [4]. M3 has one 设施 complaint; C12 has no member.
    ("2026-03", FACILITY, 2, 2, 0, 0.75, 24.0, 24.0, 0.0, 4.0, 0.0, 0),
    # Mar all: resolved 2. Open at as_of: C06, C09, C10 -> 3. fr [5, 0.5, 1] -> 1;
    # res [24]. C09 breached, C10 pending, C11 met, C12 undecided -> 1/2. sat [4].
    # Repeats since 1 Jan: M2 (C02, C08, C09), M3 (C06, C11) -> 2.
    ("2026-03", ALL_CATEGORIES, 4, 2, 3, 1.0, 24.0, 24.0, 0.5, 4.0, 0.0, 2),
]


@pytest.mark.parametrize("expected", EXPECTED_STATS, ids=lambda e: f"{e[0]}-{e[1]}")
def test_stats_hand_checked(hand_stats, expected):
    got = _row(hand_stats, expected[0], expected[1])
    for column, value in zip(STATS_COLUMNS, expected):
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got[column]), column
        elif isinstance(value, float):
            assert got[column] == pytest.approx(value), column
        else:
            assert got[column] == value, column


def test_stats_count_blank_members(hand_stats):
    # C04 and C12 have blank / whitespace member_id: they are received, resolved and
    # scored like any other complaint (4 per month in `all`, 12 in total).
    assert hand_stats.loc[hand_stats["category"] == ALL_CATEGORIES, "received"].sum() == 12


def test_stats_dtypes(hand_stats):
    # Counts stay integers so the CSV shows 3, not 3.0.
    for column in ("received", "resolved", "open_at_month_end", "repeat_complainants"):
        assert hand_stats[column].dtype == "int64", column


def test_medians_match_numpy_on_random_data():
    # The independent check on a public database recomputes medians with numpy/pandas:
    # median of (event - received_at) in hours per month, and np.percentile(..., 90)
    # with its default linear method. Same numbers here, with gaps and odd counts.
    rng = np.random.default_rng(11)
    n = 600
    received = np.datetime64("2025-01-01T00:00", "s") + rng.integers(0, 300 * 86400, n)
    response = received + rng.integers(0, 80 * 3600, n)
    resolved = received + rng.integers(0, 400 * 3600, n)
    frame = pd.DataFrame(
        {
            "complaint_id": [f"K{i}" for i in range(n)],
            "member_id": [f"M{i % 97}" for i in range(n)],
            "received_at": pd.Series(received.astype("datetime64[us]")),
            "category": rng.choice(["a", "b", "c"], n),
            "first_response_at": pd.Series(response.astype("datetime64[us]")).where(
                rng.random(n) > 0.2
            ),
            "resolved_at": pd.Series(resolved.astype("datetime64[us]")).where(rng.random(n) > 0.3),
            "status": "resolved",
            "severity": None,
            "owner": None,
            "satisfaction": None,
        }
    )
    stats = complaint_stats(frame, datetime(2030, 1, 1), SlaTargets())
    frame["month"] = frame["received_at"].dt.strftime("%Y-%m")
    for (month, category), group in frame.groupby(["month", "category"]):
        row = _row(stats, month, category)
        first = ((group["first_response_at"] - group["received_at"]).dt.total_seconds() / 3600).dropna()
        resolution = ((group["resolved_at"] - group["received_at"]).dt.total_seconds() / 3600).dropna()
        assert row["received"] == len(group)
        assert row["median_first_response_hours"] == pytest.approx(np.median(first))
        assert row["median_resolution_hours"] == pytest.approx(np.median(resolution))
        assert row["p90_resolution_hours"] == pytest.approx(np.percentile(resolution, 90))


# --------------------------------------------------------------------------- focused cases


def test_open_at_month_end_carries_backlog_across_months():
    # A: received Jan, resolved 10 Mar -> open at the end of Jan and Feb.
    # B: received Feb, never resolved -> open at the end of Feb and Mar.
    # C: received Mar, resolved 21 Mar -> closed at the end of Mar.
    rows = [
        ("A", "M1", SERVICE, NORMAL, "o", "2026-01-15 10:00", None, "2026-03-10 10:00", "resolved", None),
        ("B", "M2", SERVICE, NORMAL, "o", "2026-02-05 10:00", None, None, "open", None),
        ("C", "M3", SERVICE, NORMAL, "o", "2026-03-12 10:00", None, "2026-03-21 10:00", "resolved", None),
    ]
    stats = complaint_stats(_complaints(rows), AS_OF, SLA)
    opened = stats[stats["category"] == ALL_CATEGORIES].set_index("month")["open_at_month_end"]
    assert opened.to_dict() == {"2026-01": 1, "2026-02": 2, "2026-03": 1}


def test_open_at_month_end_is_capped_at_as_of():
    # Same data cut off on 15 Mar: the March count is taken at as_of, and C's
    # resolution on 21 Mar is not known yet, so C is open and not resolved.
    rows = [
        ("A", "M1", SERVICE, NORMAL, "o", "2026-01-15 10:00", None, "2026-03-10 10:00", "resolved", None),
        ("B", "M2", SERVICE, NORMAL, "o", "2026-02-05 10:00", None, None, "open", None),
        ("C", "M3", SERVICE, NORMAL, "o", "2026-03-12 10:00", None, "2026-03-21 10:00", "resolved", None),
        ("D", "M4", SERVICE, NORMAL, "o", "2026-03-20 10:00", None, None, "open", None),  # after as_of
    ]
    stats = complaint_stats(_complaints(rows), datetime(2026, 3, 15), SLA)
    march = _row(stats, "2026-03", ALL_CATEGORIES)
    assert (march["received"], march["resolved"], march["open_at_month_end"]) == (1, 0, 2)


def test_month_with_only_some_categories():
    # March has only 设施 complaints: no empty 服务 row, but an `all` row. A missing
    # category is "uncategorised", and a real category called "all" is renamed.
    rows = [
        ("A", "M1", SERVICE, NORMAL, "o", "2026-02-05 10:00", None, None, "open", None),
        ("B", "M2", None, NORMAL, "o", "2026-02-06 10:00", None, None, "open", None),
        ("C", "M3", "all", NORMAL, "o", "2026-02-07 10:00", None, None, "open", None),
        ("D", "M3", FACILITY, NORMAL, "o", "2026-03-12 10:00", None, None, "open", None),
    ]
    stats = complaint_stats(_complaints(rows), AS_OF, SLA)
    keys = list(zip(stats["month"], stats["category"]))
    assert keys == [
        ("2026-02", "all"),
        ("2026-02", "all (category)"),
        ("2026-02", "uncategorised"),
        ("2026-02", SERVICE),
        ("2026-03", "all"),
        ("2026-03", FACILITY),
    ]


@pytest.mark.parametrize(
    ("first_received", "expected_repeats"),
    [
        # window for March is [1 Jan 00:00, 1 Apr 00:00): the start is included
        ("2026-01-01 00:00", 1),
        # one microsecond earlier falls outside the 90 days
        ("2025-12-31 23:59:59.999999", 0),
    ],
)
def test_repeat_window_is_90_days_ending_at_month_end(first_received, expected_repeats):
    rows = [
        ("A", "M1", SERVICE, NORMAL, "o", first_received, None, None, "open", None),
        ("B", "M1", FACILITY, NORMAL, "o", "2026-03-15 10:00", None, None, "open", None),
    ]
    stats = complaint_stats(_complaints(rows), AS_OF, SLA)
    assert _row(stats, "2026-03", ALL_CATEGORIES)["repeat_complainants"] == expected_repeats
    # per category only the same category counts, so 设施 never sees the 服务 complaint
    assert _row(stats, "2026-03", FACILITY)["repeat_complainants"] == 0


@pytest.mark.parametrize(
    ("first_response", "resolved", "status", "expected_rate"),
    [
        # resolved exactly on target (72 h) with a response exactly on target: met
        ("2026-03-03 10:00", "2026-03-05 10:00", "resolved", 0.0),
        # resolved one minute late: breached
        ("2026-03-03 10:00", "2026-03-05 10:01", "resolved", 1.0),
        # no first response recorded but resolved in 5 h: the resolution answered the
        # member, so the response leg is met too
        (None, "2026-03-02 15:00", "resolved", 0.0),
        # still open, answered, 20 h old at as_of: pending, so no rate at all
        ("2026-03-02 11:00", None, "open", NAN),
        # closed without resolved_at, answered in time: resolution unknown -> undecided
        ("2026-03-02 11:00", None, "closed", NAN),
        # closed without resolved_at and never answered: undecided as well (closed, so
        # its age says nothing)
        (None, None, "closed", NAN),
    ],
)
def test_sla_breach_rate_definition(first_response, resolved, status, expected_rate):
    rows = [("A", "M1", SERVICE, NORMAL, "o", "2026-03-02 10:00", first_response, resolved, status, None)]
    as_of = datetime(2026, 3, 3, 6, 0) if status == "open" else AS_OF
    rate = _row(complaint_stats(_complaints(rows), as_of, SLA), "2026-03", SERVICE)["sla_breach_rate"]
    if math.isnan(expected_rate):
        assert math.isnan(rate)
    else:
        assert rate == expected_rate


def test_unanswered_complaint_breaches_once_older_than_the_response_target():
    # Open and unanswered for 25 h > 24 h: breached even though resolution (72 h) is
    # still within target.
    rows = [("A", "M1", SERVICE, NORMAL, "o", "2026-03-02 10:00", None, None, "open", None)]
    stats = complaint_stats(_complaints(rows), datetime(2026, 3, 3, 11, 0), SLA)
    assert _row(stats, "2026-03", SERVICE)["sla_breach_rate"] == 1.0


def test_working_hours_sla_clock():
    # Received Fri 6 Mar 17:00, answered Mon 9 Mar 10:00, resolved Mon 12:00:
    # 65 / 67 calendar hours but 2 / 4 working hours. With a 24 h response target the
    # complaint breaches on the calendar clock and meets it on the working clock.
    rows = [("A", "M1", SERVICE, NORMAL, "o", "2026-03-06 17:00", "2026-03-09 10:00", "2026-03-09 12:00", "resolved", None)]
    frame = _complaints(rows)
    calendar = _row(complaint_stats(frame, AS_OF, SLA), "2026-03", SERVICE)
    working_sla = SLA.model_copy(update={"working_hours": True})
    days = working_days(frame, AS_OF, working_sla, REFERENCE)
    working = _row(complaint_stats(frame, AS_OF, working_sla, days), "2026-03", SERVICE)
    assert (calendar["median_first_response_hours"], calendar["sla_breach_rate"]) == (65.0, 1.0)
    assert (working["median_first_response_hours"], working["sla_breach_rate"]) == (2.0, 0.0)
    assert working["median_resolution_hours"] == 4.0


def test_stats_on_no_complaints():
    # An empty export (or one entirely after as_of) gives an empty table, not an error.
    stats = complaint_stats(_complaints([]), AS_OF, SLA)
    assert list(stats.columns) == list(STATS_COLUMNS)
    assert stats.empty


def test_stats_refuse_timezone_aware_timestamps():
    # Mixing UTC with local wall-clock time would shift every month boundary.
    frame = _complaints(HAND_BUILT[:1])
    frame["received_at"] = frame["received_at"].dt.tz_localize("UTC")
    with pytest.raises(ValueError, match="naive"):
        complaint_stats(frame, AS_OF, SLA)
    with pytest.raises(ValueError, match="naive"):
        complaint_stats(_complaints(HAND_BUILT[:1]), datetime(2026, 4, 1, tzinfo=UTC), SLA)


# --------------------------------------------------------------------------- backlog


def test_backlog_of_hand_built_set():
    # Open at as_of: C03 (reopened, despite its resolved_at), C06 and C09 (open), C10
    # (blank status, no resolved_at). Ages to 1 Apr 00:00: C03 from 20 Jan 08:00 =
    # 280 + 672 + 744 = 1696 h; C06 from 10 Feb 10:00 = 446 + 744 = 1190 h; C09 from
    # 1 Mar = 744 h (>= 720, so >30d); C10 4 h.
    table = backlog(_complaints(HAND_BUILT), AS_OF, SLA)
    assert list(table.columns) == list(BACKLOG_COLUMNS)
    assert table["complaint_id"].tolist() == ["C03", "C06", "C09", "C10"]
    assert table["age_hours"].tolist() == [1696.0, 1190.0, 744.0, 4.0]
    assert table["age_band"].astype(str).tolist() == [">30d", ">30d", ">30d", "<1d"]
    assert table["is_overdue"].tolist() == [True, True, True, False]
    assert table["owner"].fillna("(blank)").tolist() == ["王芳", "(blank)", "王芳", "李雷"]


@pytest.mark.parametrize(
    ("age_hours", "band"),
    [
        (23.99, "<1d"),  # just under a day
        (24, "1-3d"),  # lower bounds belong to the next band
        (71.99, "1-3d"),
        (72, "3-7d"),
        (167.99, "3-7d"),
        (168, "7-30d"),
        (719.99, "7-30d"),
        (720, ">30d"),
        (5000, ">30d"),
    ],
)
def test_backlog_age_bands(age_hours, band):
    received = pd.Timestamp(AS_OF) - pd.Timedelta(hours=age_hours)
    rows = [("A", "M1", SERVICE, NORMAL, "o", str(received), None, None, "open", None)]
    table = backlog(_complaints(rows), AS_OF, SLA)
    assert table["age_band"].iloc[0] == band
    assert list(table["age_band"].cat.categories) == list(AGE_BANDS)


@pytest.mark.parametrize(
    ("severity", "age_hours", "overdue"),
    [
        (NORMAL, 72, False),  # exactly at the 72 h resolution target: not yet overdue
        (NORMAL, 73, True),
        (URGENT, 30, True),  # 紧急 has a 24 h resolution target
        (URGENT, 24, False),
        (None, 73, True),  # no severity: general targets
    ],
)
def test_backlog_overdue_uses_severity_targets(severity, age_hours, overdue):
    received = pd.Timestamp(AS_OF) - pd.Timedelta(hours=age_hours)
    rows = [("A", "M1", SERVICE, severity, "o", str(received), None, None, "open", None)]
    assert backlog(_complaints(rows), AS_OF, SLA)["is_overdue"].iloc[0] is np.bool_(overdue)


def test_backlog_overdue_on_working_hours():
    # Received Fri 13 Feb 09:00, as_of Wed 25 Feb 09:00: 288 calendar hours but only
    # 9 (13 Feb) + 9 (14 Feb make-up) + 9 (24 Feb) = 27 working hours, within 72 h.
    rows = [("A", "M1", SERVICE, NORMAL, "o", "2026-02-13 09:00", None, None, "open", None)]
    sla = SLA.model_copy(update={"working_hours": True})
    frame, cutoff = _complaints(rows), datetime(2026, 2, 25, 9)
    table = backlog(frame, cutoff, sla, working_days(frame, cutoff, sla, REFERENCE))
    assert table["age_hours"].iloc[0] == 288.0  # age shown is what the member waited
    assert not table["is_overdue"].iloc[0]


def test_overdue_by_owner():
    # 王芳 has two overdue cases (oldest 1696 h), C06 has no owner, C10 (李雷) is
    # not overdue and so not listed.
    table = overdue_by_owner(backlog(_complaints(HAND_BUILT), AS_OF, SLA))
    assert list(table.columns) == list(OVERDUE_COLUMNS)
    assert table.to_dict("records") == [
        {"owner": "王芳", "overdue_cases": 2, "oldest_age_hours": 1696.0},
        {"owner": "(unassigned)", "overdue_cases": 1, "oldest_age_hours": 1190.0},
    ]


def test_overdue_by_owner_of_empty_backlog():
    # Nothing open: an empty table with the right columns, not an error.
    table = overdue_by_owner(backlog(_complaints(HAND_BUILT[:2]), AS_OF, SLA))
    assert table.empty and list(table.columns) == list(OVERDUE_COLUMNS)


# --------------------------------------------------------------------------- data quality


def test_timing_anomalies_of_hand_built_set():
    # C08 was answered a day before it was received, C12 resolved a day before.
    table = timing_anomalies(_complaints(HAND_BUILT), AS_OF)
    assert list(table.columns) == list(ANOMALY_COLUMNS)
    assert table.to_dict("records") == [
        {"complaint_id": "C08", "problem": "first_response_before_received"},
        {"complaint_id": "C12", "problem": "resolved_before_received"},
    ]


def test_timing_anomalies_closed_without_time_and_several_problems():
    # One complaint can have two problems; a closed case without resolved_at is listed
    # because it is never counted open and its resolution leg is unknown.
    rows = [
        ("X", "M1", SERVICE, NORMAL, "o", "2026-03-02 10:00", "2026-03-01 10:00", "2026-03-01 12:00", "resolved", None),
        ("Y", "M1", SERVICE, NORMAL, "o", "2026-03-02 10:00", None, None, "closed", None),
        ("Z", "M1", SERVICE, NORMAL, "o", "2026-03-02 10:00", None, None, "open", None),
    ]
    assert timing_anomalies(_complaints(rows), AS_OF).to_dict("records") == [
        {"complaint_id": "X", "problem": "first_response_before_received"},
        {"complaint_id": "X", "problem": "resolved_before_received"},
        {"complaint_id": "Y", "problem": "closed_without_resolved_at"},
    ]
    # Y is not open at the end of March; Z is.
    stats = complaint_stats(_complaints(rows), AS_OF, SLA)
    assert _row(stats, "2026-03", SERVICE)["open_at_month_end"] == 1


def test_negative_durations_are_left_out_of_medians():
    # Two complaints in one month: one answered after 3 h, one "answered" 5 h before
    # it was received. The median is 3, not (3 - 5) / 2 = -1.
    rows = [
        ("A", "M1", SERVICE, NORMAL, "o", "2026-03-02 10:00", "2026-03-02 13:00", "2026-03-02 14:00", "resolved", None),
        ("B", "M2", SERVICE, NORMAL, "o", "2026-03-02 10:00", "2026-03-02 05:00", "2026-03-02 02:00", "resolved", None),
    ]
    row = _row(complaint_stats(_complaints(rows), AS_OF, SLA), "2026-03", SERVICE)
    assert row["median_first_response_hours"] == 3.0
    assert row["median_resolution_hours"] == 4.0
    assert row["resolved"] == 2  # B still has a resolution timestamp


# --------------------------------------------------------------------------- the cut-off

CUT_OFF = Edition.of_partition("2026-12-01", date(2026, 11, 20)).cutoff_at  # 21 Nov 00:00


@pytest.mark.parametrize(
    ("received", "counts"),
    [
        # 10:00 on the cut-off day is history: received, open in the backlog
        ("2026-11-20 10:00", True),
        # the last microsecond of the cut-off day still counts
        ("2026-11-20 23:59:59.999999", True),
        # midnight after the cut-off day is the next edition's
        ("2026-11-21 00:00", False),
    ],
)
def test_a_complaint_counts_when_received_before_midnight_after_the_cut_off_day(received, counts):
    rows = [("A", "M1", SERVICE, NORMAL, "o", received, None, "2026-11-19 10:00", "open", None)]
    frame = _complaints(rows)
    stats = complaint_stats(frame, CUT_OFF, SLA)
    assert stats["received"].sum() == (2 if counts else 0)  # its category row and `all`
    assert len(backlog(frame, CUT_OFF, SLA)) == (1 if counts else 0)
    # resolved the day before it was received: an anomaly of this edition only if counted
    assert len(timing_anomalies(frame, CUT_OFF)) == (1 if counts else 0)


def test_a_response_after_the_cut_off_has_not_happened_yet():
    # Answered at midnight after the cut-off day and resolved at 08:00, with a blank
    # status: at the cut-off the complaint is still unanswered (no median), unresolved
    # and open in the backlog, 14 h old; 14 h < 24 h, so its SLA is still pending.
    rows = [("A", "M1", SERVICE, NORMAL, "o", "2026-11-20 10:00", "2026-11-21 00:00",
             "2026-11-21 08:00", None, None)]
    frame = _complaints(rows)
    row = _row(complaint_stats(frame, CUT_OFF, SLA), "2026-11", SERVICE)
    assert math.isnan(row["median_first_response_hours"])
    assert (row["resolved"], row["open_at_month_end"]) == (0, 1)
    assert math.isnan(row["sla_breach_rate"])
    assert backlog(frame, CUT_OFF, SLA)["age_hours"].tolist() == [14.0]


@pytest.mark.parametrize(
    ("response_hours", "expected_median"),
    [
        # an even count takes the mean of the two middle values: (2 + 6) / 2
        ([2, 6], 4.0),
        ([1, 2, 6, 40], 4.0),
        # an odd count takes the middle value
        ([1, 2, 6], 2.0),
        # a single value is its own median
        ([5], 5.0),
    ],
)
def test_median_of_even_and_odd_counts(response_hours, expected_median):
    rows = [
        (f"C{i}", f"M{i}", SERVICE, NORMAL, "o", "2026-03-02 10:00",
         str(pd.Timestamp("2026-03-02 10:00") + pd.Timedelta(hours=h)), None, "open", None)
        for i, h in enumerate(response_hours)
    ]
    row = _row(complaint_stats(_complaints(rows), AS_OF, SLA), "2026-03", SERVICE)
    assert row["median_first_response_hours"] == expected_median


def test_events_before_receipt_need_no_working_day():
    # A resolution recorded a year before the complaint was received falls outside
    # dim_working_day (which starts at the first receipt): it is an anomaly with no
    # duration, not an error of the working-hour lookup.
    rows = [("A", "M1", SERVICE, NORMAL, "o", "2026-03-09 10:00", "2026-03-09 11:00",
             "2025-03-09 10:00", "resolved", None)]
    frame = _complaints(rows)
    days = working_days(frame, AS_OF, WORKING, REFERENCE)
    assert days["day"][0].as_py() == date(2026, 3, 9)
    row = _row(complaint_stats(frame, AS_OF, WORKING, days), "2026-03", SERVICE)
    assert (row["median_first_response_hours"], row["resolved"]) == (1.0, 1)
    assert math.isnan(row["median_resolution_hours"])
    assert timing_anomalies(frame, AS_OF)["problem"].tolist() == ["resolved_before_received"]


def test_working_days_missing_a_day_is_an_error():
    # A dim_working_day that does not reach the cut-off would silently count nothing.
    rows = [("A", "M1", SERVICE, NORMAL, "o", "2026-03-09 10:00", None, None, "open", None)]
    frame = _complaints(rows)
    short = working_days(frame, datetime(2026, 3, 10), WORKING, REFERENCE)
    with pytest.raises(Exception, match="dim_working_day has no row"):
        backlog(frame, AS_OF, WORKING, short)
