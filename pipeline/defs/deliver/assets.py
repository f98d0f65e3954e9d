"""Deliver: assemble the edition folder aside and move it into place when complete."""


import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.defs.marts import MARTS
from pipeline.defs.partitions import editions
from pipeline.defs.render.assets import RENDER_PARTS
from pipeline.defs.resources import SUMMARY_ONLY, ClubPressSettings
from pipeline.lib.edition import publish, run_record, write_json, write_table
from pipeline.lib.ingest import Staged, file_sha256
from pipeline.lib.privacy import private_dir
from pipeline.lib.progress import report
from pipeline.lib.schema import TABLES
from pipeline.lib.site import write_site
from pipeline.settings import PATHS


def _inputs(settings: ClubPressSettings, staged: list[Staged]) -> list[dict]:
    return [
        {
            "table": s.table,
            "file": s.source,
            "encoding": s.encoding,
            "sha256": file_sha256(settings.exports / s.source),
        }
        for s in staged
        if s.source
    ]


def _config_record(settings: ClubPressSettings) -> dict:
    path = Path(settings.config_file) if settings.config_file else PATHS.default_config
    return {"file": path.name, "sha256": file_sha256(path)}


def step_seconds(context: dg.AssetExecutionContext) -> dict[str, float]:
    """Seconds per finished step of this run, from Dagster's own event log."""
    started, seconds = {}, {}
    for record in context.instance.all_logs(context.run.run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = record.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS and event.step_key in started:
            seconds[event.step_key] = record.timestamp - started[event.step_key]
    return seconds


@dg.asset(
    partitions_def=editions,
    group_name="deliver",
    deps=["warehouse", "warehouse_marts", *RENDER_PARTS],
    ins={
        **{f"stg_{t}": dg.AssetIn(metadata=SUMMARY_ONLY) for t in TABLES},
        **{name: dg.AssetIn(name) for name in MARTS},
        "contact_reconciliation": dg.AssetIn(),
    },
    description="The edition folder OUT/YYYY-MM: tables, run.json and the review site, "
    "built aside and moved into place only when complete.",
)
def edition(
    context: dg.AssetExecutionContext,
    settings: ClubPressSettings,
    stg_members: Staged,
    stg_transactions: Staged,
    stg_complaints: Staged,
    stg_contacts: Staged,
    stg_events: Staged,
    contact_reconciliation: dict,
    **marts: pd.DataFrame,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    month = context.partition_key[:7]
    staged = [stg_members, stg_transactions, stg_complaints, stg_contacts, stg_events]
    build = settings.build_dir(month)
    if build.exists():
        shutil.rmtree(build)  # left by a run that was stopped before it published
    build.mkdir(parents=True)
    if settings.club.output.private:
        private_dir(build.parent)  # nobody else looks into an edition being assembled

    quarantine = pd.concat([s.quarantine for s in staged], ignore_index=True)
    write_table(quarantine, build / "tables", "quarantine")
    for name, frame in marts.items():
        write_table(frame, build / "tables", name)
    reconciliation = {s.table: s.reconciliation() for s in staged}
    record = run_record(
        month,
        settings.as_of_date(),
        _inputs(settings, staged),
        _config_record(settings),
        {**reconciliation, "contact_plan": contact_reconciliation},
        step_seconds(context),
    )
    write_json(build / "run.json", record)
    for part in RENDER_PARTS.values():
        os.replace(settings.render_dir(month, part), build / part)
    write_site(
        build, club=settings.club.club, edition=month, as_of=record["as_of"],
        reconciliation=reconciliation, sources={s.table: s.source for s in staged},
        quarantine=quarantine, plan=marts["contact_plan"], suppressed=marts["suppressed"],
        table_names=["quarantine", *marts],
    )
    final = settings.out / month
    publish(build, final, private=settings.club.output.private)
    report("edition", f"{final} in {time.perf_counter() - started:.1f} s")
    return dg.MaterializeResult(metadata={"path": str(final)})
