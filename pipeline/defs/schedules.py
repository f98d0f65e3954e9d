"""When editions are built without anyone typing a command: a monthly schedule and a
sensor on the export inbox.

Both read `orchestration` from the club configuration (`CLUBPRESS_CONFIG`, else the
bundled club.yaml) when the definitions load, and start the same job the CLI runs, for
the month after the day they fire (in the club's time zone), with that day as the data
cut-off. Runs started here use the job's default executor: multiprocess, one step per
core, so the render shards run side by side.
"""

import os
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipeline.config import ClubConfig, load_config
from pipeline.lib.edition import Edition
from pipeline.lib.read.inbox import ready_folders
from pipeline.defs.resources import run_config
from pipeline.settings import PATHS


def config_file() -> Path | None:
    named = os.environ.get("CLUBPRESS_CONFIG", "")
    return Path(named).resolve() if named else None


def _path(text: str, default: Path) -> Path:
    return (PATHS.root / text).resolve() if text else default


def edition_request(config: ClubConfig, exports: Path, moment: datetime,
                    run_key: str | None = None, tags: dict | None = None) -> dg.RunRequest:
    """The run of the next edition as of `moment` (converted to the club's time zone)."""
    orchestration = config.orchestration
    day = moment.astimezone(ZoneInfo(config.timezone)).date()
    settings = run_config(
        exports, _path(orchestration.out, PATHS.output), day, config_file(),
        _path(orchestration.warehouse, PATHS.warehouse),
    )
    edition = Edition.after(day, config.timezone)  # 2026-11-20 -> edition 2026-12
    return dg.RunRequest(run_key=run_key, partition_key=edition.partition_key, run_config=settings,
                         tags={"clubpress/exports": str(exports), **(tags or {})})


def build_schedule(job, config: ClubConfig) -> dg.ScheduleDefinition:
    timing = config.orchestration.schedule

    @dg.schedule(
        name="monthly_edition_schedule",
        job=job,
        cron_schedule=f"{timing.minute} {timing.hour} {timing.day} * *",
        execution_timezone=config.timezone,
        default_status=(dg.DefaultScheduleStatus.RUNNING if timing.running
                        else dg.DefaultScheduleStatus.STOPPED),
        description=f"Day {timing.day} at {timing.hour:02d}:{timing.minute:02d} "
        f"({config.timezone}): the next month's edition from the configured exports.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        exports = _path(config.orchestration.exports, PATHS.sample_exports)
        return edition_request(config, exports, context.scheduled_execution_time)

    return _schedule


def build_sensor(job, config: ClubConfig) -> dg.SensorDefinition:
    orchestration = config.orchestration

    @dg.sensor(
        name="export_inbox_sensor",
        job=job,
        minimum_interval_seconds=orchestration.inbox_interval_seconds,
        default_status=(dg.DefaultSensorStatus.RUNNING if orchestration.inbox
                        else dg.DefaultSensorStatus.STOPPED),
        description="Starts the next month's edition when a new export folder has settled "
        "in the inbox (orchestration.inbox).",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        if not orchestration.inbox:
            return dg.SkipReason("no inbox configured (orchestration.inbox in club.yaml)")
        inbox = _path(orchestration.inbox, PATHS.root)
        if not inbox.is_dir():
            return dg.SkipReason(f"inbox {inbox} is not a folder")
        ready = ready_folders(inbox, time.time(), orchestration.inbox_settle_seconds)
        if not ready:
            return dg.SkipReason(f"no settled export folder in {inbox}")
        now = datetime.now(tz=ZoneInfo(config.timezone))
        return [edition_request(config, folder.path, now, run_key=folder.run_key,
                                tags={"clubpress/inbox_folder": folder.path.name})
                for folder in ready]

    return _sensor


def automation(job) -> tuple[list, list]:
    """The schedule and the sensor for `job`, from the club configuration."""
    config = load_config(config_file())
    return [build_schedule(job, config)], [build_sensor(job, config)]
