"""Render: SMS and e-mail pieces, and the check that every planned piece was produced."""

import time

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import editions
from pipeline.defs.render.assets import fresh_dir
from pipeline.defs.resources import ClubPressSettings
from pipeline.lib.delivery import emails as email_lib
from pipeline.lib.delivery import produced as produced_lib
from pipeline.lib.delivery import sms as sms_lib
from pipeline.lib.read.ingest import Staged
from pipeline.lib.progress import rate, report

EVERY_PIECE_ONCE = "every_planned_piece_has_exactly_one_output"


@dg.asset(
    partitions_def=editions,
    group_name="render",
    description="sms/messages.csv: one row per planned SMS piece, text within the segment "
    "budget, with its 3GPP character and segment counts.",
)
def sms(context: dg.AssetExecutionContext, settings: ClubPressSettings,
        contact_plan: pd.DataFrame, stg_members: Staged, upcoming_birthdays: pd.DataFrame,
        anniversaries: pd.DataFrame, holidays: pd.DataFrame) -> dg.MaterializeResult:
    started = time.perf_counter()
    edition = settings.edition(context)
    pieces = sms_lib.sms_pieces(contact_plan, stg_members.frame, upcoming_birthdays,
                                anniversaries, holidays, edition.month)
    frame = sms_lib.messages(pieces, settings.club, edition.as_of)
    sms_lib.write_messages(frame, fresh_dir(settings, edition, "sms"))
    report("sms", f"{len(frame):,} messages, {int(frame['segments'].sum()):,} segments in "
           f"{time.perf_counter() - started:.1f} s")
    wordings = frame["wording"].value_counts()
    return dg.MaterializeResult(metadata={
        "messages": len(frame), "segments": int(frame["segments"].sum()),
        **{f"wording_{w}": int(wordings.get(w, 0)) for w in sms_lib.WORDINGS}})


@dg.asset(
    partitions_def=editions,
    group_name="render",
    deps=["newsletters"],
    description="email/<kind>/<piece_id>.eml for every planned e-mail piece (greetings and "
    "newsletters) and email/outbox.csv.",
)
def emails(context: dg.AssetExecutionContext, settings: ClubPressSettings,
           contact_plan: pd.DataFrame, stg_members: Staged, upcoming_birthdays: pd.DataFrame,
           anniversaries: pd.DataFrame, holidays: pd.DataFrame) -> dg.MaterializeResult:
    started = time.perf_counter()
    edition = settings.edition(context)
    folder = fresh_dir(settings, edition, "email")
    members = stg_members.frame
    pieces = email_lib.greeting_pieces(contact_plan, members, upcoming_birthdays,
                                       anniversaries, holidays, edition.month)
    rows = email_lib.write_greetings(pieces, settings.club, edition.as_of, folder)
    rows += email_lib.write_newsletters(contact_plan, members, settings.club, edition.month,
                                        edition.as_of,
                                        settings.render_dir(edition.month, "newsletters"), folder)
    outbox = email_lib.write_outbox(rows, folder)
    report("email", rate(len(outbox), time.perf_counter() - started, "e-mail messages"))
    kinds = outbox["kind"].value_counts()
    return dg.MaterializeResult(metadata={"messages": len(outbox),
                                          **{k: int(n) for k, n in kinds.items()}})


@dg.asset(
    partitions_def=editions,
    group_name="render",
    deps=["letters", "newsletters", "print_newsletters", "sms", "emails"],
    description="What was produced per channel: every piece of the contact plan has "
    "exactly one output (a print page range, an .eml or an SMS row).",
    check_specs=[dg.AssetCheckSpec(
        EVERY_PIECE_ONCE, asset="produced", blocking=True,
        description="Every planned piece has exactly one output on its channel, and no "
        "output is of a piece that was not planned.")],
)
def produced(context: dg.AssetExecutionContext, settings: ClubPressSettings,
             contact_plan: pd.DataFrame):
    edition = settings.edition(context).month
    found = produced_lib.outputs(*(settings.render_dir(edition, part)
                                   for part in ("letters", "newsletters", "sms", "email")))
    counts = produced_lib.against_plan(contact_plan, found)
    report("produced", ", ".join(f"{c}: {counts['produced_' + c]:,} of {counts['planned_' + c]:,}"
                                 for c in ("post", "email", "sms")))
    yield dg.Output(counts, metadata=counts)
    yield dg.AssetCheckResult(check_name=EVERY_PIECE_ONCE, asset_key="produced",
                              passed=produced_lib.is_complete(counts), metadata=counts)
