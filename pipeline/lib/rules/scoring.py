"""Relationship scorecard, tiers, lifecycle stages and churn risk, as pure pandas functions.

Time (`Cutoff`). Every function takes `as_of`, the data cut-off ("today" for the run): a
`datetime` (or `pd.Timestamp`) is that exact moment; a plain `date` means the *end* of
that day, so everything dated on the as-of day is history. Rows at or after the cut-off
are ignored. Timestamps are naive local times (the club's zone); a zone-aware `as_of`
is used by its wall-clock time. "Days ago" are calendar days back from the as-of day
(bought on the as-of day = 0, the day before = 1, whatever the hour, so date-only
exports at midnight count like any other time); "the last N months" is
``[cut-off - N months, cut-off)``; tenure is days since join_date / 365.25.

Purchases. Unlike RFM (CONTRACT §3, which scores every row of the export), the
scorecard and the lifecycle count a *purchase* only on rows with a positive amount: a
return does not make a lapsed member active. Spend is still net of returns (floored at
0, so no member scores below one who never bought); frequency counts distinct `txn_id`
with at least one positive line.

Members are always reported in `member_id` order; transactions and complaints whose
`member_id` is blank or not a member are ignored here (complaint statistics count them
elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.lib.rules.rfm import count_distinct, factorize_ids

_DAYS_PER_YEAR = 365.25


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- time ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cutoff:
    """The as-of point: rows strictly before `end` are history; "days ago" are calendar
    days back from `day` (bought on `day` = 0 days ago, the day before = 1)."""

    end: pd.Timestamp
    day: pd.Timestamp  # midnight of the as-of day

    @classmethod
    def of(cls, as_of: datetime | date) -> Cutoff:
        """A datetime is that moment (zone-aware: its wall-clock time); a date, its end."""
        if isinstance(as_of, datetime):
            moment = pd.Timestamp(as_of)
            moment = moment.tz_localize(None) if moment.tzinfo is not None else moment
            return cls(end=moment, day=moment.normalize())
        if isinstance(as_of, date):
            day = pd.Timestamp(as_of)
            return cls(end=day + pd.Timedelta(days=1), day=day)
        raise TypeError(f"as_of must be a date or datetime, not {type(as_of).__name__}")

    def months_back(self, months: int) -> pd.Timestamp:
        """Start of the window "the last `months` months": [start, end)."""
        return self.end - pd.DateOffset(months=months)

    def days_before(self, stamps: np.ndarray) -> np.ndarray:
        """Calendar days from each timestamp's date to the as-of day."""
        days = self.day.to_datetime64().astype("datetime64[D]") - stamps.astype("datetime64[D]")
        return days.astype(np.int64)


# --- members and their history, aligned to one member index --------------------------


class _Roster:
    """The members table as the axis every per-member array is aligned to (row order).

    The member ids and every other table's member_id column are hashed together in one
    pass: ids are coded in order of first appearance, so with the (unique) member ids
    first, member row i gets code i, and a code >= n is an unknown member. Results are
    reported in member_id order (`order`).
    """

    def __init__(self, members: pd.DataFrame, **others: pd.Series | None):
        self.member_id = members["member_id"]
        self.n = len(self.member_id)
        blanks = int(self.member_id.isna().sum())
        if blanks:
            raise ValueError(
                f"members.member_id: {blanks} blank value(s); staging should have quarantined them"
            )
        given = {name: column for name, column in others.items() if column is not None}
        parts = [self.member_id] + [c.astype(self.member_id.dtype) for c in given.values()]
        codes, _ = factorize_ids(pd.concat(parts, ignore_index=True))
        if not np.array_equal(codes[: self.n], np.arange(self.n)):
            dupes = self.member_id[self.member_id.duplicated()].unique()[:5]
            raise ValueError(f"members.member_id: duplicate ids ({', '.join(map(str, dupes))})")
        self._positions: dict[str, np.ndarray] = {}
        offset = self.n
        for name, column in given.items():
            rows = codes[offset : offset + len(column)]
            self._positions[name] = np.where(rows < self.n, rows, -1)  # blank is -1 already
            offset += len(column)
        self.order = np.asarray(self.member_id.argsort(kind="stable"), dtype=np.int64)

    def positions(self, name: str) -> np.ndarray:
        """Member row of each row of the column passed as `name` (-1: blank or unknown)."""
        return self._positions[name]

    def ids_sorted(self) -> pd.Index:
        return pd.Index(self.member_id.array.take(self.order), name="member_id")

    def sorted(self, values: np.ndarray) -> np.ndarray:
        return values[self.order]


class _Purchases:
    """Transaction rows of known members before the cut-off, as aligned arrays."""

    def __init__(self, transactions: pd.DataFrame | None, roster: _Roster, cutoff: Cutoff):
        """`roster` must have been given the transactions' member_id as `transactions`."""
        self.n = roster.n
        self.cutoff = cutoff
        if transactions is None or transactions.empty:
            self.pos = np.empty(0, dtype=np.int64)
            self.at = np.empty(0, dtype="datetime64[us]")
            self.amount = np.empty(0, dtype=np.float64)
            self.txn_id = pd.Series([], dtype="string")
            return
        pos = roster.positions("transactions")
        at = transactions["txn_at"].to_numpy()
        keep = (pos >= 0) & (at < cutoff.end.to_datetime64())  # NaT compares False
        self.pos = pos[keep]
        self.at = at[keep]
        self.amount = np.nan_to_num(
            transactions["amount_cny"].to_numpy(dtype=np.float64, na_value=np.nan)[keep]
        )
        self.txn_id = transactions["txn_id"][keep]

    def since(self, start: pd.Timestamp) -> np.ndarray:
        return self.at >= start.to_datetime64()

    def net_spend(self, rows: np.ndarray) -> np.ndarray:
        return np.bincount(self.pos[rows], weights=self.amount[rows], minlength=self.n)

    def distinct_purchases(self, rows: np.ndarray) -> np.ndarray:
        rows = rows & (self.amount > 0)
        return count_distinct(self.pos[rows], self.n, self.txn_id[rows])

    def purchase_ages(self) -> tuple[np.ndarray, np.ndarray]:
        """(member row, calendar days before the as-of day) of every purchase row."""
        rows = self.amount > 0
        return self.pos[rows], self.cutoff.days_before(self.at[rows])


def _group_extreme(pos: np.ndarray, values: np.ndarray, n: int, how: str) -> np.ndarray:
    """Per-member max or min of non-negative int64 `values`; -1 for members without rows."""
    if how == "max":
        out = np.full(n, -1, dtype=np.int64)
        np.maximum.at(out, pos, values)
        return out
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, pos, values)
    return np.where(out == np.iinfo(np.int64).max, -1, out)


# --- scorecard ------------------------------------------------------------------------

Measure = Literal[
    "spend", "frequency", "tenure", "recency", "complaints", "satisfaction", "referrals"
]
Method = Literal["percentile", "linear", "inverse"]

MEASURES: dict[str, str] = {
    "spend": "net amount_cny in the window, floored at 0",
    "frequency": "distinct txn_id with a positive line in the window",
    "tenure": "years since join_date (blank join_date = missing)",
    "recency": "calendar days since the latest purchase (never bought = missing)",
    "complaints": "complaints received in the window",
    "satisfaction": "mean satisfaction (1-5) of complaints received in the window "
    "(none rated = missing)",
    "referrals": "referral count from the referrals series (absent = missing)",
}


class Indicator(_Model):
    """One scorecard line: a measure, its weight and how it maps to 0-100.

    - ``percentile``: share of the other members (with a value) whose value is strictly
      lower, times 100: the lowest value scores 0, the highest 100, ties score alike; a
      lone member scores 50.
    - ``linear``: ``low`` -> 0, ``high`` -> 100, straight in between, capped.
    - ``inverse``: ``low`` -> 100, ``high`` -> 0 (e.g. complaints, days since purchase).

    A member whose measure is missing (see `MEASURES`) scores ``missing_score``.
    ``window_months`` applies to spend, frequency, complaints and satisfaction.
    """

    name: Measure
    weight: float = Field(ge=0)
    method: Method
    low: float | None = None
    high: float | None = None
    missing_score: float = Field(default=0.0, ge=0, le=100)
    window_months: int = Field(default=12, ge=1)

    @model_validator(mode="after")
    def _bounds_fit_method(self) -> Indicator:
        if self.method == "percentile":
            if self.low is not None or self.high is not None:
                raise ValueError("low/high apply to the linear and inverse methods only")
        elif self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"method {self.method!r} needs low < high")
        return self

    def to_score(self, raw: np.ndarray) -> np.ndarray:
        """Map raw measure values (NaN = missing) to 0-100 scores."""
        raw = np.asarray(raw, dtype=np.float64)
        known = ~np.isnan(raw)
        scores = np.full(raw.shape, self.missing_score, dtype=np.float64)
        if self.method == "percentile":
            scores[known] = _percentile_scores(raw[known])
        else:
            share = np.clip((raw[known] - self.low) / (self.high - self.low), 0.0, 1.0)
            scores[known] = 100.0 * (share if self.method == "linear" else 1.0 - share)
        return scores


def _percentile_scores(values: np.ndarray) -> np.ndarray:
    if len(values) <= 1:
        return np.full(len(values), 50.0)
    below = pd.Series(values).rank(method="min").to_numpy() - 1
    return 100.0 * below / (len(values) - 1)


# Weights sum to 1.0; `compute_scorecard` divides by their sum anyway, so a club may
# write them as points (30, 20, ...) in club.yaml.
DEFAULT_INDICATORS: tuple[Indicator, ...] = (
    Indicator(name="spend", weight=0.30, method="percentile"),
    Indicator(name="frequency", weight=0.20, method="percentile"),
    Indicator(name="tenure", weight=0.15, method="linear", low=0, high=10),
    Indicator(name="recency", weight=0.15, method="inverse", low=0, high=365),
    Indicator(name="complaints", weight=0.10, method="inverse", low=0, high=3),
    Indicator(name="satisfaction", weight=0.05, method="linear", low=1, high=5, missing_score=60),
    Indicator(name="referrals", weight=0.05, method="linear", low=0, high=5),
)


def check_indicators(indicators: Sequence[Indicator]) -> None:
    """Reject an empty list, a measure listed twice, or weights that sum to 0."""
    if not indicators:
        raise ValueError("scorecard indicators: the list is empty")
    names = [i.name for i in indicators]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"scorecard indicators: {', '.join(twice)} listed more than once")
    if sum(i.weight for i in indicators) <= 0:
        raise ValueError("scorecard indicators: the weights sum to 0")


def compute_scorecard(
    members: pd.DataFrame,
    transactions: pd.DataFrame | None,
    complaints: pd.DataFrame | None,
    as_of: datetime | date,
    indicators: Sequence[Indicator] = DEFAULT_INDICATORS,
    referrals: pd.Series | None = None,
) -> pd.DataFrame:
    """Weighted 0-100 relationship score for every member.

    Returns member_id, ``score_<name>`` per indicator and ``score`` (weights normalised
    to sum to 1), all rounded to 1 decimal, sorted by member_id. `transactions` and
    `complaints` may be None (table not exported). `referrals` maps member_id to a
    referral count.
    """
    check_indicators(indicators)
    cutoff = Cutoff.of(as_of)
    roster = _Roster(
        members,
        transactions=None if transactions is None else transactions["member_id"],
        complaints=None if complaints is None else complaints["member_id"],
        referrals=None if referrals is None else pd.Series(referrals.index),
    )
    measures = _Measures(members, transactions, complaints, referrals, roster, cutoff)
    total_weight = sum(i.weight for i in indicators)

    columns: dict[str, object] = {"member_id": roster.ids_sorted().array}
    total = np.zeros(roster.n, dtype=np.float64)
    for indicator in indicators:
        scores = indicator.to_score(roster.sorted(measures.raw(indicator)))
        columns[f"score_{indicator.name}"] = np.round(scores, 1)
        total += indicator.weight * scores
    columns["score"] = np.round(total / total_weight, 1)
    return pd.DataFrame(columns)


class _Measures:
    """Raw measure values per member (members' row order), NaN where missing."""

    def __init__(self, members, transactions, complaints, referrals, roster, cutoff):
        self.members, self.complaints, self.referrals = members, complaints, referrals
        self.roster, self.cutoff, self.n = roster, cutoff, roster.n
        self.purchases = _Purchases(transactions, roster, cutoff)

    def raw(self, indicator: Indicator) -> np.ndarray:
        start = self.cutoff.months_back(indicator.window_months)
        match indicator.name:
            case "spend":
                return np.maximum(self.purchases.net_spend(self.purchases.since(start)), 0.0)
            case "frequency":
                return self.purchases.distinct_purchases(self.purchases.since(start)).astype(float)
            case "recency":
                pos, ages = self.purchases.purchase_ages()
                latest = _group_extreme(pos, ages, self.n, "min")
                return np.where(latest >= 0, latest, np.nan).astype(np.float64)
            case "tenure":
                joined = self.members["join_date"].to_numpy(dtype="datetime64[us]")
                days = self.cutoff.days_before(joined).astype(np.float64)
                days[np.isnat(joined)] = np.nan
                return np.maximum(days, 0.0) / _DAYS_PER_YEAR
            case "complaints":
                pos, _ = self._complaints_since(start)
                return np.bincount(pos, minlength=self.n).astype(np.float64)
            case "satisfaction":
                pos, rating = self._complaints_since(start)
                rated = ~np.isnan(rating)
                count = np.bincount(pos[rated], minlength=self.n)
                total = np.bincount(pos[rated], weights=rating[rated], minlength=self.n)
                with np.errstate(invalid="ignore", divide="ignore"):
                    return np.where(count > 0, total / count, np.nan)
            case "referrals":
                if self.referrals is None:
                    return np.full(self.n, np.nan)
                pos = self.roster.positions("referrals")
                count = self.referrals.to_numpy(dtype=np.float64, na_value=np.nan)
                rows = (pos >= 0) & ~np.isnan(count)
                known = np.bincount(pos[rows], minlength=self.n) > 0
                total = np.bincount(pos[rows], weights=count[rows], minlength=self.n)
                return np.where(known, total, np.nan)
        raise AssertionError(indicator.name)  # pragma: no cover - Measure is a Literal

    def _complaints_since(self, start: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        frame = self.complaints
        if frame is None or frame.empty:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        pos = self.roster.positions("complaints")
        at = frame["received_at"].to_numpy()
        keep = (pos >= 0) & (at >= start.to_datetime64()) & (at < self.cutoff.end.to_datetime64())
        rating = frame["satisfaction"].to_numpy(dtype=np.float64, na_value=np.nan)
        return pos[keep].astype(np.int64), rating[keep]


# --- tiers ----------------------------------------------------------------------------


class TierRule(_Model):
    """Members scoring at least `min_score` (and below the next tier up) get this tier."""

    name: str = Field(min_length=1)
    min_score: float = Field(ge=0, le=100)
    action: str


DEFAULT_TIERS: tuple[TierRule, ...] = (
    TierRule(name="key", min_score=70, action="strengthen"),
    TierRule(name="important", min_score=40, action="maintain"),
    TierRule(name="ordinary", min_score=0, action="review"),
)


def check_tiers(tiers: Sequence[TierRule]) -> None:
    """Every score 0-100 must land in exactly one tier: distinct thresholds, one at 0."""
    if not tiers:
        raise ValueError("tiers: the list is empty")
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise ValueError("tiers: a name is used twice")
    thresholds = [t.min_score for t in tiers]
    if len(set(thresholds)) != len(thresholds):
        raise ValueError("tiers: two tiers have the same min_score")
    if min(thresholds) != 0:
        raise ValueError("tiers: the lowest tier must have min_score 0 so every member gets one")


def assign_tiers(
    score: pd.Series, tiers: Sequence[TierRule] = DEFAULT_TIERS
) -> tuple[pd.Series, pd.Series]:
    """(tier, action) for each score: the tier with the highest min_score <= score.

    Order of `tiers` does not matter. Scores must lie in 0-100 (NaN is an error).
    """
    check_tiers(tiers)
    values = score.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(values).any() or (values < 0).any() or (values > 100).any():
        raise ValueError("assign_tiers: scores must be numbers between 0 and 100")
    ordered = sorted(tiers, key=lambda t: t.min_score)
    thresholds = np.array([t.min_score for t in ordered])
    which = np.searchsorted(thresholds, values, side="right") - 1
    names = np.array([t.name for t in ordered], dtype=object)[which]
    actions = np.array([t.action for t in ordered], dtype=object)[which]
    return (
        pd.Series(names, index=score.index, name="tier", dtype="string"),
        pd.Series(actions, index=score.index, name="action", dtype="string"),
    )


# --- lifecycle ------------------------------------------------------------------------


class LifecycleThresholds(_Model):
    """Day counts for `lifecycle_stage`; "within N days" means N or fewer days ago."""

    new_days: int = Field(default=90, ge=1)
    active_days: int = Field(default=180, ge=1)
    lapsed_days: int = Field(default=365, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleThresholds:
        if not self.new_days <= self.active_days <= self.lapsed_days:
            raise ValueError("need new_days <= active_days <= lapsed_days")
        return self


# In precedence order: the first stage whose test a member passes is theirs.
LIFECYCLE_STAGES = ("prospect", "new", "won_back", "active", "lapsing", "lapsed")


def lifecycle_stage(
    members: pd.DataFrame,
    transactions: pd.DataFrame | None,
    as_of: datetime | date,
    thresholds: LifecycleThresholds = LifecycleThresholds(),
) -> pd.Series:
    """Each member's stage, indexed by member_id (sorted), named `lifecycle_stage`.

    With "days ago" in calendar days and purchases (positive rows before the cut-off) as
    in the module docstring, the first test that holds decides (`LIFECYCLE_STAGES`
    order):

    1. prospect: no purchase before the cut-off;
    2. new: first purchase within `new_days`;
    3. won_back: a purchase within `active_days` whose previous purchase was more than
       `lapsed_days` before it (a returning lapsed member);
    4. active: latest purchase within `active_days`;
    5. lapsing: latest purchase more than `active_days` and at most `lapsed_days` ago;
    6. lapsed: latest purchase more than `lapsed_days` ago.

    `new` and `won_back` refine `active` and exclude each other (a first purchase in the
    last `new_days` leaves no earlier purchase to return from). Purchase history is
    what the export holds: a long-standing member whose earlier purchases were not
    exported looks new.
    """
    cutoff = Cutoff.of(as_of)
    roster = _Roster(
        members, transactions=None if transactions is None else transactions["member_id"]
    )
    pos, ages = _Purchases(transactions, roster, cutoff).purchase_ages()
    n, t = roster.n, thresholds

    first = _group_extreme(pos, ages, n, "max")
    latest = _group_extreme(pos, ages, n, "min")
    # The window's earliest purchase and the purchase just before the window: purchases
    # inside the window are at most active_days <= lapsed_days apart, so only this pair
    # can be a gap of more than lapsed_days ending in the window.
    inside = ages <= t.active_days
    first_inside = _group_extreme(pos[inside], ages[inside], n, "max")
    last_before = _group_extreme(pos[~inside], ages[~inside], n, "min")
    won_back = (
        (first_inside >= 0) & (last_before >= 0) & (last_before - first_inside > t.lapsed_days)
    )

    stage = np.select(
        [
            latest < 0,
            first <= t.new_days,
            won_back,
            latest <= t.active_days,
            latest <= t.lapsed_days,
        ],
        np.arange(5),
        default=5,
    )
    return pd.Series(
        np.array(LIFECYCLE_STAGES, dtype=object)[roster.sorted(stage)],
        index=roster.ids_sorted(),
        name="lifecycle_stage",
        dtype="string",
    )


# --- churn risk -----------------------------------------------------------------------

VALUABLE_TIERS = ("key", "important")
VALUABLE_SEGMENTS = ("Champions", "Loyal Customers", "Can't Lose Them", "At Risk")
UNRESOLVED_STATUSES = ("open", "reopened")


def count_open_complaints(complaints: pd.DataFrame | None) -> pd.Series:
    """Unresolved complaints per member_id (members with none are absent).

    Unresolved: status open or reopened, or no status and no resolved_at. Complaints
    without a member_id are left out.
    """
    if complaints is None or complaints.empty:
        empty = pd.Index([], dtype="string", name="member_id")
        return pd.Series([], dtype=np.int64, name="open_complaints", index=empty)
    status = complaints["status"]
    unresolved = status.isin(UNRESOLVED_STATUSES).fillna(False).to_numpy(dtype=bool)
    never_resolved = status.isna() & complaints["resolved_at"].isna()
    unresolved = unresolved | never_resolved.to_numpy(dtype=bool)
    member = complaints["member_id"][unresolved]
    counts = member[member.notna()].value_counts().sort_index()
    counts.index.name, counts.name = "member_id", "open_complaints"
    return counts.astype(np.int64)


def churn_risk(
    segments_df: pd.DataFrame,
    open_complaints_by_member: pd.Series | None,
    valuable_tiers: Iterable[str] = VALUABLE_TIERS,
    valuable_segments: Iterable[str] = VALUABLE_SEGMENTS,
) -> pd.DataFrame:
    """Valuable members at risk, most valuable (highest score) first.

    Valuable: tier in `valuable_tiers` or rfm_segment in `valuable_segments`. At risk:
    lifecycle_stage lapsing or lapsed, or at least one unresolved complaint in
    `open_complaints_by_member` (member_id -> count, e.g. `count_open_complaints`).
    `segments_df` needs member_id, score, tier, rfm_segment and lifecycle_stage.
    Returns member_id, reason ('lapsing', 'lapsed', 'open_complaint', joined by '+'),
    score, tier, rfm_segment, lifecycle_stage; ties on score in member_id order.
    """
    frame = segments_df
    valuable = (
        frame["tier"].isin(list(valuable_tiers)).fillna(False).to_numpy(dtype=bool)
        | frame["rfm_segment"].isin(list(valuable_segments)).fillna(False).to_numpy(dtype=bool)
    )
    stage = frame["lifecycle_stage"]
    lapsing = (stage == "lapsing").fillna(False).to_numpy(dtype=bool)
    lapsed = (stage == "lapsed").fillna(False).to_numpy(dtype=bool)
    if open_complaints_by_member is None:
        complaint = np.zeros(len(frame), dtype=bool)
    else:
        with_open = open_complaints_by_member[open_complaints_by_member.fillna(0) > 0].index
        complaint = frame["member_id"].isin(with_open).fillna(False).to_numpy(dtype=bool)

    # code = lapsing + 2 * lapsed + 4 * open complaint (lapsing and lapsed exclude each other)
    reasons = np.array(
        ["", "lapsing", "lapsed", "", "open_complaint"]
        + ["lapsing+open_complaint", "lapsed+open_complaint"],
        dtype=object,
    )
    code = lapsing * 1 + lapsed * 2 + complaint * 4
    at_risk = valuable & (code > 0)
    result = pd.DataFrame(
        {
            "member_id": frame["member_id"].to_numpy()[at_risk],
            "reason": pd.array(reasons[code[at_risk]], dtype="string"),
            "score": frame["score"].to_numpy()[at_risk],
            "tier": frame["tier"].array[at_risk],
            "rfm_segment": frame["rfm_segment"].array[at_risk],
            "lifecycle_stage": stage.array[at_risk],
        }
    )
    return result.sort_values(
        ["score", "member_id"], ascending=[False, True], kind="stable", ignore_index=True
    )
