"""Calendar: festivals, official days off and make-up days; birthdays and anniversaries."""

from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.compute as pc

from pipeline.config import ClubConfig
from pipeline.defs.checks import declared_results, declared_specs
from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings, as_parquet
from pipeline.lib.rules.birthdays import anniversaries_in_window, birthdays_in_window
from pipeline.lib.rules.calendar import CustomDate, build_calendar, official_days
from pipeline.lib.progress import report
from pipeline.settings import PATHS


def club_calendar(config: ClubConfig, year: int) -> pd.DataFrame:
    """The `holidays` table for one year with the club's western and custom dates."""
    custom = [CustomDate(c.when if len(c.when) == 5 else date.fromisoformat(c.when),
                         c.name, c.name_en) for c in config.calendar.custom]
    return build_calendar(year, PATHS.reference, custom, config.calendar.western)


@dg.asset(partitions_def=editions, group_name="calendar", check_specs=declared_specs("holidays"),
          description="Festivals, statutory days off and make-up workdays for the edition "
          "year and the next (the newsletter looks ahead across the year end).")
def holidays(context: dg.AssetExecutionContext, settings: ClubPressSettings):
    edition = settings.edition(context)
    first_year = edition.first_day.year
    years = (first_year, first_year + 1)
    frame = pd.concat([club_calendar(settings.club, y) for y in years], ignore_index=True)
    unpublished = [y for y in years if official_days(y, PATHS.reference)[1] is None]
    for year in unpublished:
        report("calendar", f"no official holiday arrangement published for {year}: "
               "festivals only")
    yield dg.Output(frame, metadata={"rows": len(frame), "years": list(years),
                                     "years_without_arrangement": unpublished})
    yield from declared_results("holidays", frame, edition)


@dg.asset(partitions_def=editions, group_name="calendar",
          ins={"stg_members": dg.AssetIn(metadata=as_parquet())},
          check_specs=declared_specs("upcoming_birthdays"),
          description="Members whose birthday (solar or lunar) falls in the edition month "
          "(sql/marts/upcoming_birthdays.sql).")
def upcoming_birthdays(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                       stg_members: Path):
    edition = settings.edition(context)
    table = birthdays_in_window(stg_members, edition.first_day, edition.last_day,
                                settings.club.birthdays.milestones)
    milestones = pc.sum(table["milestone"]).as_py() or 0
    yield dg.Output(table, metadata={"rows": table.num_rows, "milestones": milestones})
    yield from declared_results("upcoming_birthdays", table, edition)


@dg.asset(partitions_def=editions, group_name="calendar",
          ins={"stg_members": dg.AssetIn(metadata=as_parquet())},
          check_specs=declared_specs("anniversaries"),
          description="Membership and ownership anniversaries in the edition month "
          "(sql/marts/anniversaries.sql).")
def anniversaries(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                  stg_members: Path):
    edition = settings.edition(context)
    config = settings.club.anniversaries
    table = anniversaries_in_window(stg_members, edition.first_day, edition.last_day,
                                    config.membership_every, config.ownership_every)
    yield dg.Output(table, metadata={"rows": table.num_rows})
    yield from declared_results("anniversaries", table, edition)
