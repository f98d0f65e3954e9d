"""Deliver: pack and verify the mailing-house archive, then assemble the edition folder
aside and move it into place when complete.

`mailing_house` packs the rendered letters into `out/.work/render/<edition>/delivery/`
and verifies the archive; `edition` moves every part into the build folder, compares it
with the edition it replaces (changes.md), writes run.json and the site, and publishes.
"""


import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.defs.marts import MARTS
from pipeline.defs.partitions import editions
from pipeline.defs.render.assets import RENDER_PARTS, fresh_dir
from pipeline.defs.render.shards import PLAN_PART
from pipeline.defs.resources import SUMMARY_ONLY, ClubPressSettings
from pipeline.lib.rules import changes as edition_changes
from pipeline.lib.delivery.delivery import check, write_archive
from pipeline.lib.delivery.publish import publish, run_record, write_json, write_table
from pipeline.lib.read.ingest import Staged, file_sha256
from pipeline.lib.privacy import private_dir
from pipeline.lib.progress import report
from pipeline.lib.read.schema import TABLES
from pipeline.lib.delivery.site import write_site
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
    return dict(sorted(seconds.items()))  # by step, not by the order steps happened to end


# Steps that fill an edition folder beside the render steps, and the folder each fills.
DELIVERY_PARTS = {"mailing_house": "delivery", "call_list": "calls"}


@dg.asset(
    partitions_def=editions,
    group_name="deliver",
    deps=["letters"],
    description="delivery/mailing-house-YYYY-MM.zip: the letters batches, manifest.csv, "
    "README.txt and their SHA256SUMS in one reproducible archive, verified after writing.",
)
def mailing_house(context: dg.AssetExecutionContext,
                  settings: ClubPressSettings) -> dg.MaterializeResult:
    started = time.perf_counter()
    edition = settings.edition(context)
    month = edition.month
    folder = fresh_dir(settings, edition, DELIVERY_PARTS["mailing_house"])
    archive = write_archive(settings.render_dir(month, "letters"), folder, month)
    checked = check(archive)  # raises DeliveryError naming every problem: the run fails
    report("delivery", f"{archive.name}: {checked['files']} files, {checked['batches']} "
           f"batches, {checked['pages']:,} pages verified in {time.perf_counter() - started:.1f} s")
    return dg.MaterializeResult(metadata={
        "archive": archive.name, "bytes": archive.stat().st_size,
        **{k: checked[k] for k in ("files", "batches", "pieces", "pages")},
    })


def _changes(previous, build: Path, record: dict, segments: pd.DataFrame, month: str):
    """The changes since the edition being replaced, from the build folder's manifest."""
    manifest = pd.read_csv(build / "letters" / "manifest.csv", dtype=str,
                           encoding="utf-8-sig", keep_default_na=False)
    current = edition_changes.snapshot(record, segments, manifest)
    return edition_changes.compare(previous, current, month)


@dg.asset(
    partitions_def=editions,
    group_name="deliver",
    deps=["warehouse", "warehouse_marts", *RENDER_PARTS, *DELIVERY_PARTS, "produced"],
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
    stg_returns: Staged,
    contact_reconciliation: dict,
    **marts: pd.DataFrame,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    this = settings.edition(context)
    month = this.month
    staged = [stg_members, stg_transactions, stg_complaints, stg_contacts, stg_events,
              stg_returns]
    build = settings.build_dir(month)
    final = settings.out / month
    previous = edition_changes.read_snapshot(final)  # before it is replaced
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
        this.as_of,
        _inputs(settings, staged),
        _config_record(settings),
        {**reconciliation, "contact_plan": contact_reconciliation},
        step_seconds(context),
    )
    for part in dict.fromkeys([*RENDER_PARTS.values(), *DELIVERY_PARTS.values()]):
        os.replace(settings.render_dir(month, part), build / part)
    changes = _changes(previous, build, record, marts["segments"], month)
    record["changes"] = edition_changes.summary(changes)
    if changes is not None:
        (build / "changes.md").write_text(edition_changes.markdown(changes), encoding="utf-8")
    write_json(build / "run.json", record)
    write_site(
        build, club=settings.club.club, edition=month, as_of=record["as_of"],
        reconciliation=reconciliation, sources={s.table: s.source for s in staged},
        quarantine=quarantine, plan=marts["contact_plan"], suppressed=marts["suppressed"],
        table_names=["quarantine", *marts],
    )
    publish(build, final, private=settings.club.output.private)
    for shard in settings.render_dir(month, "-").parent.glob("shard-*"):
        shutil.rmtree(shard)  # gathered into letters/ and newsletters/ above
    shutil.rmtree(settings.render_dir(month, PLAN_PART), ignore_errors=True)
    _remove_empty(settings.render_dir(month, "-").parent)
    report("edition", f"{final} in {time.perf_counter() - started:.1f} s")
    return dg.MaterializeResult(metadata={"path": str(final)})


def _remove_empty(folder: Path) -> None:
    """Remove `folder` and its parents up to `.work` while they are empty."""
    while folder.name != ".work":
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
