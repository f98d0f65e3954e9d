"""The monthly schedule and the inbox sensor: which edition they ask for, with what."""

import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipeline.config import load_config
from pipeline.definitions import defs
from pipeline.defs import schedules
from pipeline.lib.edition import Edition
from pipeline.settings import PATHS

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPOSITORY = defs.get_repository_def()


def _settings(request: dg.RunRequest) -> dict:
    return request.run_config["resources"]["settings"]["config"]


def test_schedule_fires_on_the_20th_at_six_in_the_club_time_zone():
    schedule = defs.resolve_schedule_def("monthly_edition_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 20 * *", "Asia/Shanghai")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "monthly_edition"


@pytest.mark.parametrize(
    ("fired", "partition", "as_of"),
    [
        (datetime(2026, 11, 20, 6, tzinfo=SHANGHAI), "2026-12-01", "2026-11-20"),
        # December's run builds January of the next year.
        (datetime(2026, 12, 20, 6, tzinfo=SHANGHAI), "2027-01-01", "2026-12-20"),
        # 23:30 UTC on the 19th is already the 20th in Shanghai.
        (datetime(2026, 11, 19, 23, 30, tzinfo=ZoneInfo("UTC")), "2026-12-01", "2026-11-20"),
    ],
)
def test_scheduled_run_builds_the_next_edition(fired, partition, as_of):
    schedule = defs.resolve_schedule_def("monthly_edition_schedule")
    context = dg.build_schedule_context(scheduled_execution_time=fired, repository_def=REPOSITORY)
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == partition
    settings = _settings(request)
    assert settings["as_of"] == as_of
    assert settings["exports_dir"] == str(PATHS.sample_exports)
    assert settings["out_dir"] == str(PATHS.output)


def test_schedule_timing_and_paths_come_from_club_yaml(tmp_path):
    config = load_config().model_copy(update={"orchestration": load_config().orchestration.model_copy(
        update={"schedule": load_config().orchestration.schedule.model_copy(
            update={"day": 25, "hour": 9, "minute": 30, "running": False}),
            "exports": str(tmp_path / "crm"), "out": str(tmp_path / "editions")})})
    schedule = schedules.build_schedule(defs.resolve_job_def("monthly_edition"), config)
    assert schedule.cron_schedule == "30 9 25 * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 25, 9, 30, tzinfo=SHANGHAI), repository_def=REPOSITORY)
    settings = _settings(schedule.evaluate_tick(context).run_requests[0])
    assert (settings["exports_dir"], settings["out_dir"]) == (str(tmp_path / "crm"), str(tmp_path / "editions"))


def _sensor_for(inbox, settle=60):
    base = load_config()
    config = base.model_copy(update={"orchestration": base.orchestration.model_copy(
        update={"inbox": str(inbox), "inbox_settle_seconds": settle})})
    return schedules.build_sensor(defs.resolve_job_def("monthly_edition"), config)


def test_sensor_starts_a_run_for_a_settled_export_folder(tmp_path):
    folder = tmp_path / "inbox" / "crm-2026-11"
    folder.mkdir(parents=True)
    (folder / "members.csv").write_text("member_id,name\nM1,王伟\n", encoding="utf-8")
    old = time.time() - 600
    os.utime(folder / "members.csv", (old, old))
    sensor = _sensor_for(tmp_path / "inbox")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    requests = sensor.evaluate_tick(dg.build_sensor_context(repository_def=REPOSITORY)).run_requests
    assert len(requests) == 1
    assert _settings(requests[0])["exports_dir"] == str(folder)
    assert requests[0].run_key.startswith("crm-2026-11:")
    assert requests[0].partition_key == Edition.after(datetime.now(SHANGHAI).date()).partition_key


def test_sensor_waits_for_a_folder_still_being_written(tmp_path):
    folder = tmp_path / "inbox" / "crm"
    folder.mkdir(parents=True)
    (folder / "members.csv").write_text("member_id,name\n", encoding="utf-8")
    result = _sensor_for(tmp_path / "inbox").evaluate_tick(dg.build_sensor_context(repository_def=REPOSITORY))
    assert result.run_requests == []
    assert "no settled export folder" in result.skip_message


def test_sensor_without_an_inbox_is_off_and_says_why():
    sensor = defs.resolve_sensor_def("export_inbox_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED  # bundled club.yaml has none
    result = sensor.evaluate_tick(dg.build_sensor_context(repository_def=REPOSITORY))
    assert result.run_requests == [] and "no inbox configured" in result.skip_message
