"""All Dagster definitions of ClubPress, assembled in one place."""

from __future__ import annotations

import dagster as dg

from pipeline.defs.calendar.assets import anniversaries, holidays, upcoming_birthdays
from pipeline.defs.complaints.assets import (
    complaint_anomalies,
    complaint_backlog,
    complaint_overdue_by_owner,
    complaint_stats,
)
from pipeline.defs.contact.assets import care_response, contact_plan
from pipeline.defs.deliver.assets import edition, mailing_house
from pipeline.defs.deliver.calls import call_list
from pipeline.defs.render.assets import letters, monthly_report, newsletters, print_newsletters
from pipeline.defs.render.messages import emails, produced, sms
from pipeline.defs.render.proofs import proofs
from pipeline.defs.render.shards import SHARD_ASSETS, print_plan
from pipeline.defs.ingest.assets import STAGED_ASSETS, warehouse, warehouse_marts
from pipeline.defs.segments.assets import agg_monthly_activity, churn_risk, segments
from pipeline.defs.resources import ClubPressSettings, ParquetIOManager
from pipeline.defs.schedules import automation
from pipeline.steps import small_pages

ASSETS = [
    *STAGED_ASSETS,
    warehouse,
    holidays,
    upcoming_birthdays,
    anniversaries,
    segments,
    churn_risk,
    agg_monthly_activity,
    complaint_stats,
    complaint_backlog,
    complaint_overdue_by_owner,
    complaint_anomalies,
    contact_plan,
    care_response,
    warehouse_marts,
    monthly_report,
    print_plan,
    *SHARD_ASSETS,
    newsletters,
    print_newsletters,
    letters,
    sms,
    emails,
    produced,
    proofs,
    mailing_house,
    call_list,
    edition,
]

monthly_edition = dg.define_asset_job(
    "monthly_edition",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Ingest the CRM exports and build one month's edition.",
)


def build_defs() -> dg.Definitions:
    # Every process that runs steps loads these definitions first: the CLI, the step
    # server and the steps it forks, Dagster's own daemon and code servers.
    small_pages()
    schedules, sensors = automation(monthly_edition)
    return dg.Definitions(
        assets=ASSETS,
        jobs=[monthly_edition],
        schedules=schedules,
        sensors=sensors,
        resources={"settings": ClubPressSettings(), "io_manager": ParquetIOManager()},
    )
