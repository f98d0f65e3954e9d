"""Contact: who gets what on which channel this edition, and who is left out and why."""

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pandas as pd

from pipeline.defs.calendar.assets import club_calendar
from pipeline.defs.checks import declared_results, declared_specs
from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings, as_parquet, only_columns
from pipeline.lib.rules.calendar import festivals_in_month
from pipeline.lib.rules.contact import CONTACT_COLUMNS, CONTACT_PURPOSE, MEMBER_COLUMNS, plan_contacts
from pipeline.lib.rules import care
from pipeline.lib.read.ingest import Staged
from pipeline.lib.rules.occasions import greeting_festivals, requests
from pipeline.lib.progress import report
from pipeline.lib.rules.returns import earlier_manifests, returned_addresses

ADDRESS_COLUMNS = ("province", "city", "district")  # the address as the manifest prints it

RECONCILES = "eligible_equals_planned_plus_suppressed"
NOT_SUPPRESSED = "no_piece_for_a_suppressed_member"


@dg.multi_asset(
    partitions_def=editions,
    group_name="contact",
    ins={"stg_members": dg.AssetIn(metadata=only_columns(*MEMBER_COLUMNS, *ADDRESS_COLUMNS,
                                                         "birth_date")),
         "stg_contacts": dg.AssetIn(metadata=only_columns(*CONTACT_COLUMNS, CONTACT_PURPOSE)),
         "stg_returns": dg.AssetIn()},
    outs={
        "contact_plan": dg.AssetOut(description="One row per piece: member, kind, channel, "
                                    "piece_id (household post pieces cover several members)."),
        "suppressed": dg.AssetOut(description="Every request not planned, with the reason."),
        "contact_reconciliation": dg.AssetOut(description="eligible, planned, suppressed."),
        "returned_addresses": dg.AssetOut(description="Members kept off post because a piece "
                                          "came back to the address they still have."),
    },
    check_specs=[
        dg.AssetCheckSpec(RECONCILES, asset="contact_plan", blocking=True,
                          description="Every request is planned or suppressed, once."),
        dg.AssetCheckSpec(NOT_SUPPRESSED, asset="contact_plan", blocking=True,
                          description="No member who must not be contacted gets a piece."),
        *declared_specs("contact_plan"),
    ],
)
def contact_plan(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                 stg_members: Staged, stg_contacts: Staged, stg_returns: Staged,
                 upcoming_birthdays: pd.DataFrame, anniversaries: pd.DataFrame):
    edition = settings.edition(context)
    start = edition.first_day
    members = stg_members.frame
    festivals = greeting_festivals(
        festivals_in_month(club_calendar(settings.club, start.year), start.year, start.month),
        settings.club.calendar.greeting_festivals,
    )
    wanted = requests(members, upcoming_birthdays, anniversaries, festivals, pd.Timestamp(start),
                      settings.club.calendar.festival_min_age)
    returned, returned_counts = returned_addresses(
        stg_returns.frame, earlier_manifests(settings.out, edition.month), members)
    if returned_counts["returns"]:
        report("contact", f"{returned_counts['returns']:,} returned pieces: {len(returned):,} "
               f"members off post, {returned_counts['lifted']:,} lifted by a new address, "
               f"{returned_counts['unmatched']:,} naming nobody loaded")
    result = plan_contacts(members, wanted, stg_contacts.frame, edition,
                           settings.club.contact, returned["member_id"])
    counts = result.reconciliation()
    report("contact", f"{counts['eligible']:,} requests: {counts['planned']:,} planned, "
           f"{counts['suppressed']:,} suppressed")
    yield dg.Output(result.plan, output_name="contact_plan", metadata=counts)
    yield dg.Output(result.suppressed, output_name="suppressed",
                    metadata={"rows": len(result.suppressed)})
    yield dg.Output(counts, output_name="contact_reconciliation", metadata=counts)
    yield dg.Output(returned, output_name="returned_addresses",
                    metadata={"rows": len(returned), **returned_counts})
    yield dg.AssetCheckResult(check_name=RECONCILES, asset_key="contact_plan",
                              passed=counts["planned"] + counts["suppressed"] == counts["eligible"],
                              metadata=counts)
    blocked = members.loc[members["is_do_not_contact"] | members["is_deceased"], "member_id"]
    planned = result.plan["member_id"]
    # Arrow's is_in: Python sets of a million Arrow-backed strings take seconds.
    found = pc.is_in(pa.array(planned.astype("string[pyarrow]").array),
                     value_set=pa.array(blocked.astype("string[pyarrow]").array))
    leaked = sorted(planned[found.fill_null(False).to_numpy(zero_copy_only=False)]
                    .unique().tolist())
    yield dg.AssetCheckResult(check_name=NOT_SUPPRESSED, asset_key="contact_plan",
                              passed=not leaked,
                              metadata={"leaked": json.dumps(leaked[:20], ensure_ascii=False)})
    yield from declared_results("contact_plan", result.plan, edition)


@dg.asset(
    partitions_def=editions,
    group_name="contact",
    ins={"stg_contacts": dg.AssetIn(metadata=as_parquet()),
         "stg_transactions": dg.AssetIn(metadata=as_parquet())},
    description="What works: the share of greeted members who bought within the response "
    "window, per kind and channel, beside members due the same greeting who were not sent "
    "it (SQL mart).",
    check_specs=declared_specs("care_response"),
)
def care_response(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                  stg_contacts: Path, stg_transactions: Path):
    edition = settings.edition(context)
    frame = care.care_response(stg_contacts, care.earlier_plans(settings.out, edition.month),
                               stg_transactions, settings.club.care, edition)
    yield dg.Output(frame, metadata={"rows": len(frame),
                                     "greetings": int(frame["members"].sum())})
    yield from declared_results("care_response", frame, edition)
