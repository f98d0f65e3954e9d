"""Calendar: festivals, official days off and make-up days; birthdays and anniversaries."""

from datetime import date

import dagster as dg
import pandas as pd

from pipeline.config import ClubConfig
from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings, only_columns
from pipeline.lib.rules.birthdays import anniversaries_in_window, birthdays_in_window
from pipeline.lib.rules.calendar import CustomDate, build_calendar, official_days
from pipeline.lib.read.ingest import Staged
from pipeline.lib.progress import report
from pipeline.settings import PATHS


def club_calendar(config: ClubConfig, year: int) -> pd.DataFrame:
    """The `holidays` table for one year with the club's western and custom dates."""
    custom = [CustomDate(c.when if len(c.when) == 5 else date.fromisoformat(c.when),
                         c.name, c.name_en) for c in config.calendar.custom]
    return build_calendar(year, PATHS.reference, custom, config.calendar.western)


@dg.asset(partitions_def=editions, group_name="calendar",
          description="Festivals, statutory days off and make-up workdays for the edition "
          "year and the next (the newsletter looks ahead across the year end).")
def holidays(context: dg.AssetExecutionContext, settings: ClubPressSettings) -> dg.Output:
    first_year = settings.edition(context).first_day.year
    years = (first_year, first_year + 1)
    frame = pd.concat([club_calendar(settings.club, y) for y in years], ignore_index=True)
    unpublished = [y for y in years if official_days(y, PATHS.reference)[1] is None]
    for year in unpublished:
        report("calendar", f"no official holiday arrangement published for {year}: "
               "festivals only")
    return dg.Output(frame, metadata={"rows": len(frame), "years": list(years),
                                      "years_without_arrangement": unpublished})


# The columns `birth_dates` reads.
BIRTH_COLUMNS = ("member_id", "birth_date", "birth_calendar", "is_birth_lunar_leap", "birth_lunar")


@dg.asset(partitions_def=editions, group_name="calendar",
          ins={"stg_members": dg.AssetIn(metadata=only_columns(*BIRTH_COLUMNS))},
          description="Members whose birthday (solar or lunar) falls in the edition month.")
def upcoming_birthdays(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                       stg_members: Staged) -> dg.Output:
    edition = settings.edition(context)
    members = birth_dates(stg_members.frame)
    frame = birthdays_in_window(members, edition.first_day, edition.last_day, tuple(settings.club.birthdays.milestones))
    return dg.Output(frame, metadata={"rows": len(frame),
                                      "milestones": int(frame["milestone"].sum())})


def birth_dates(members: pd.DataFrame) -> pd.DataFrame:
    """Birth dates as the birthday rules want them: lunar births as their lunar date."""
    lunar = members["birth_calendar"] == "lunar"
    birth = members["birth_date"].dt.strftime("%Y-%m-%d").astype(object)
    birth[lunar] = members.loc[lunar, "birth_lunar"].astype(object)
    return members[["member_id", "birth_calendar", "is_birth_lunar_leap"]].assign(birth_date=birth)


@dg.asset(partitions_def=editions, group_name="calendar",
          ins={"stg_members": dg.AssetIn(metadata=only_columns(
              "member_id", "join_date", "move_in_date"))},
          description="Membership and ownership anniversaries in the edition month.")
def anniversaries(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                  stg_members: Staged) -> dg.Output:
    edition = settings.edition(context)
    start, end = edition.first_day, edition.last_day
    config = settings.club.anniversaries
    parts = [
        anniversaries_in_window(stg_members.frame, start, end, column, every=every)
        for column, every in (("join_date", config.membership_every),
                              ("move_in_date", config.ownership_every))
        if every > 0
    ]
    frame = pd.concat(parts, ignore_index=True) if parts else anniversaries_in_window(
        stg_members.frame.iloc[0:0], start, end)
    return dg.Output(frame, metadata={"rows": len(frame)})
