"""Asset checks on the marts: uniqueness, windows and reconciliations a reader relies on."""

import dagster as dg
import pandas as pd

from pipeline.defs.resources import ClubPressSettings
from pipeline.lib.edition import Edition
from pipeline.lib.rules.calendar import KINDS
from pipeline.lib.read.ingest import is_in


def _result(passed: bool, **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=bool(passed), metadata={k: int(v) for k, v in metadata.items()})


def _duplicates(frame: pd.DataFrame, columns: list[str]) -> int:
    return int(frame.duplicated(columns).sum())


def _in_window(edition: Edition, values: pd.Series) -> int:
    days = pd.to_datetime(values)
    return int(((days < pd.Timestamp(edition.first_day))
                | (days > pd.Timestamp(edition.last_day))).sum())


@dg.asset_check(asset="upcoming_birthdays", blocking=True,
                description="One birthday per member, every one inside the edition month.")
def birthdays_unique_and_in_month(context: dg.AssetCheckExecutionContext,
                                  settings: ClubPressSettings, upcoming_birthdays: pd.DataFrame):
    duplicates = _duplicates(upcoming_birthdays, ["member_id"])
    outside = _in_window(settings.edition(context), upcoming_birthdays["birthday"])
    return _result(duplicates == 0 and outside == 0, duplicates=duplicates, outside_month=outside)


@dg.asset_check(asset="anniversaries", blocking=True,
                description="One anniversary per member and kind, inside the edition month.")
def anniversaries_unique_and_in_month(context: dg.AssetCheckExecutionContext,
                                      settings: ClubPressSettings, anniversaries: pd.DataFrame):
    duplicates = _duplicates(anniversaries, ["member_id", "kind"])
    outside = _in_window(settings.edition(context), anniversaries["anniversary_date"])
    return _result(duplicates == 0 and outside == 0, duplicates=duplicates, outside_month=outside)


@dg.asset_check(asset="holidays", blocking=True,
                description="No repeated (date, name, kind); only the four contract kinds.")
def holidays_well_formed(holidays: pd.DataFrame):
    duplicates = _duplicates(holidays, ["date", "name", "kind"])
    unknown = int((~holidays["kind"].isin(KINDS)).sum())
    return _result(duplicates == 0 and unknown == 0, duplicates=duplicates, unknown_kinds=unknown)


@dg.asset_check(asset="churn_risk", blocking=True,
                additional_ins={"segments": dg.AssetIn("segments")},
                description="Each member at most once, and every one a scored member.")
def churn_risk_members(churn_risk: pd.DataFrame, segments: pd.DataFrame):
    duplicates = _duplicates(churn_risk, ["member_id"])
    # Arrow's is_in: pandas' isin on a million Arrow-backed strings takes 15-20 s.
    unknown = int((~is_in(churn_risk["member_id"], pd.Index(segments["member_id"]))).sum())
    return _result(duplicates == 0 and unknown == 0, duplicates=duplicates, unknown=unknown)


@dg.asset_check(asset="complaint_overdue_by_owner", blocking=True,
                additional_ins={"complaint_backlog": dg.AssetIn("complaint_backlog")},
                description="Overdue cases by owner add up to the overdue cases in the backlog.")
def overdue_reconciles(complaint_overdue_by_owner: pd.DataFrame,
                       complaint_backlog: pd.DataFrame):
    by_owner = int(complaint_overdue_by_owner["overdue_cases"].sum())
    in_backlog = int(complaint_backlog["is_overdue"].sum())
    duplicates = _duplicates(complaint_backlog, ["complaint_id"])
    return _result(by_owner == in_backlog and duplicates == 0, by_owner=by_owner,
                   in_backlog=in_backlog, duplicate_cases=duplicates)


@dg.asset_check(asset="agg_monthly_activity", blocking=True,
                description="One row per month, no negative counts.")
def monthly_activity_unique(agg_monthly_activity: pd.DataFrame):
    duplicates = _duplicates(agg_monthly_activity, ["month"])
    negative = int((agg_monthly_activity["transactions"] < 0).sum())
    return _result(duplicates == 0 and negative == 0, duplicates=duplicates, negative=negative)


MART_CHECKS = [
    birthdays_unique_and_in_month,
    anniversaries_unique_and_in_month,
    holidays_well_formed,
    churn_risk_members,
    overdue_reconciles,
    monthly_activity_unique,
]
