"""Render: the documents of an edition, each step writing its own folder.

Each step renders into `out/.work/render/<edition>/<part>/` (emptied first); the edition
step moves the folders into the edition when every step has succeeded.
"""

import shutil
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import editions
from pipeline.defs.resources import SUMMARY_ONLY, ClubPressSettings
from pipeline.lib.ingest import Staged
from pipeline.lib.progress import report
from pipeline.lib.newsletter import write_newsletters
from pipeline.lib.report import build_report_context, render_report
from pipeline.lib.schema import TABLES

REPORT_TABLES = [
    "segments", "churn_risk", "upcoming_birthdays", "anniversaries", "holidays",
    "complaint_stats", "complaint_backlog", "complaint_overdue_by_owner", "agg_monthly_activity",
]


def fresh_dir(settings: ClubPressSettings, partition_key: str, part: str) -> Path:
    folder = settings.render_dir(partition_key[:7], part)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def ingest_reconciliation(staged: dict[str, Staged]) -> dict[str, dict[str, int]]:
    return {s.table: s.reconciliation() for s in staged.values()}


@dg.asset(
    partitions_def=editions,
    group_name="render",
    ins={
        "stg_members": dg.AssetIn(),
        "stg_transactions": dg.AssetIn(),
        **{f"stg_{t}": dg.AssetIn(metadata=SUMMARY_ONLY) for t in TABLES
           if t not in ("members", "transactions")},
        **{name: dg.AssetIn() for name in REPORT_TABLES},
        "contact_plan": dg.AssetIn(),
        "suppressed": dg.AssetIn(),
        "contact_reconciliation": dg.AssetIn(),
    },
    description="report/monthly-report.pdf: the monthly report for marketing, with charts.",
)
def monthly_report(
    context: dg.AssetExecutionContext,
    settings: ClubPressSettings,
    contact_plan: pd.DataFrame,
    suppressed: pd.DataFrame,
    contact_reconciliation: dict,
    **inputs,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    staged = {k: v for k, v in inputs.items() if k.startswith("stg_")}
    tables = {k: v for k, v in inputs.items() if k in REPORT_TABLES}
    tables["quarantine"] = pd.concat([s.quarantine for s in staged.values()], ignore_index=True)
    reconciliation = {**ingest_reconciliation(staged), "contact_plan": contact_reconciliation}
    report_context = build_report_context(
        tables, staged["stg_members"].frame, staged["stg_transactions"].frame, reconciliation,
        contact_plan, suppressed, settings.club, context.partition_key[:7], settings.as_of_date(),
    )
    rendered = render_report(report_context)
    folder = fresh_dir(settings, context.partition_key, "report")
    (folder / "monthly-report.pdf").write_bytes(rendered.pdf)
    seconds = time.perf_counter() - started
    report("report", f"monthly-report.pdf: {rendered.pages} pages in {seconds:.1f} s")
    return dg.MaterializeResult(metadata={"pages": rendered.pages})



@dg.asset(
    partitions_def=editions,
    group_name="render",
    description="newsletters/html and text for e-mail; newsletters/print batches for post.",
)
def newsletters(context: dg.AssetExecutionContext, settings: ClubPressSettings,
                contact_plan: pd.DataFrame, stg_members: Staged, stg_events: Staged,
                segments: pd.DataFrame, upcoming_birthdays: pd.DataFrame,
                holidays: pd.DataFrame) -> dg.MaterializeResult:
    started = time.perf_counter()
    folder = fresh_dir(settings, context.partition_key, "newsletters")
    counts = write_newsletters(
        contact_plan, stg_members.frame, segments, upcoming_birthdays, holidays,
        stg_events.frame, settings.club, context.partition_key[:7], settings.as_of_date(),
        folder.parent,
    )
    seconds = time.perf_counter() - started
    report("newsletters", f"{counts['html']:,} e-mail and {counts['print_pieces']:,} printed "
           f"({counts['print_pages']:,} pages) in {seconds:.1f} s")
    return dg.MaterializeResult(metadata={k: int(v) for k, v in counts.items()})


# Render steps and the edition folder each one fills.
RENDER_PARTS = {"monthly_report": "report", "newsletters": "newsletters"}
