"""The settings of the segments step (`club.yaml` keys `segments`, `scorecard` and
`lifecycle`): the RFM segment rules, the scorecard's indicators and tiers, and the
lifecycle day counts, each with its defaults and checks.

They are settings only; `pipeline/sql/marts/segments.sql` applies them (the rules,
indicators and tiers are handed to it as small tables, the day counts as parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

UNCLASSIFIED = "Unclassified"  # members no rule matches, when the rules have no catch-all


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- RFM segments ---------------------------------------------------------------------

ScoreBound = Annotated[int, Field(ge=1, le=5)] | None


class SegmentRule(_Model):
    """One named segment: inclusive bounds on the 1-5 scores; an omitted bound is open.

    A rule with no bounds at all is a catch-all.
    """

    name: str = Field(min_length=1)
    r_min: ScoreBound = None
    r_max: ScoreBound = None
    f_min: ScoreBound = None
    f_max: ScoreBound = None
    m_min: ScoreBound = None
    m_max: ScoreBound = None

    @model_validator(mode="after")
    def _min_not_above_max(self) -> SegmentRule:
        for score in ("r", "f", "m"):
            low, high = getattr(self, f"{score}_min"), getattr(self, f"{score}_max")
            if low is not None and high is not None and low > high:
                raise ValueError(f"{score}_min ({low}) is above {score}_max ({high})")
        return self

    @property
    def is_catch_all(self) -> bool:
        return all(getattr(self, f"{s}_{b}") is None for s in "rfm" for b in ("min", "max"))


DEFAULT_SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule(name="Champions", r_min=4, f_min=4, m_min=4),
    SegmentRule(name="Loyal Customers", r_min=3, f_min=4, m_min=3),
    SegmentRule(name="Potential Loyalists", r_min=4, f_min=3, f_max=3, m_min=3),
    SegmentRule(name="Can't Lose Them", r_max=2, f_min=4, m_min=4),
    SegmentRule(name="At Risk", r_min=2, r_max=2, f_min=3, m_min=3),
    SegmentRule(name="Hibernating", r_max=2, m_min=4),
    SegmentRule(name="Low Priority"),
)


def check_segment_rules(rules: Sequence[SegmentRule]) -> None:
    """Reject rule lists that cannot be meant: empty, or rules after a catch-all.

    A list *without* a catch-all is allowed: members no rule matches are labelled
    `UNCLASSIFIED`.
    """
    if not rules:
        raise ValueError("segment rules: the list is empty")
    for position, rule in enumerate(rules[:-1]):
        if rule.is_catch_all:
            unreachable = ", ".join(repr(r.name) for r in rules[position + 1 :])
            raise ValueError(
                f"segment rules: {rule.name!r} matches everyone, so {unreachable} after it "
                "can never match; make the catch-all the last rule"
            )


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
    "referrals": "referral count (no referrals export yet: always missing)",
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


# Weights sum to 1.0; the scorecard divides by their sum anyway, so a club may write
# them as points (30, 20, ...) in club.yaml.
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


# --- lifecycle ------------------------------------------------------------------------


class LifecycleThresholds(_Model):
    """Day counts for the lifecycle stage; "within N days" means N or fewer days ago."""

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
