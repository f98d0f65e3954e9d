"""Materialise the monthly job for one edition, the way the CLI (and tests) do it."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import dagster as dg

from pipeline.lib.readers import ExportError
from pipeline.settings import PATHS


class RunFailed(ExportError):
    """A step failed; the message is the step's own (file, line and column where known)."""


def run_config(
    exports: Path, out: Path, as_of: date, config_file: Path | None, warehouse: Path
) -> dict:
    settings = {
        "exports_dir": str(exports),
        "out_dir": str(out),
        "warehouse": str(warehouse),
        "config_file": str(config_file or ""),
        "as_of": as_of.isoformat(),
    }
    return {
        "resources": {
            "settings": {"config": settings},
            "io_manager": {"config": {"base_dir": str(out / ".work")}},
        },
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }


# A frame of a Jinja template in a stack trace: the template's file and line.
TEMPLATE_FRAME = re.compile(r'File "([^"]+\.j2)", line (\d+)')


def _root_message(error) -> str:
    """The innermost error message, which is ours (e.g. an ExportError naming the file);
    an error inside a template also names the template and its line."""
    while error.cause is not None:
        error = error.cause
    message = re.sub(rf"^[\w.]*{error.cls_name}: ", "", error.message.strip())
    frames = TEMPLATE_FRAME.findall("".join(error.stack))
    if frames:
        path, line = frames[-1]
        shown = Path(path).relative_to(PATHS.templates) if Path(path).is_relative_to(PATHS.templates) else path
        message += f" (template {shown}, line {line})"
    return message


# The executor's own step-by-step lines stay out of the operator's terminal (progress
# comes from the steps themselves, failures from RunFailed), and the steps' output goes
# to the terminal instead of Dagster's per-step log files.
QUIET = {
    "python_logs": {"python_log_level": "WARNING"},
    "compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                     "class": "NoOpComputeLogManager"},
    "telemetry": {"enabled": False},  # nothing about a run leaves the machine
}


# Step processes fork from a server that has imported these once; a fresh interpreter per
# step would spend seconds importing Dagster, pandas, DuckDB and WeasyPrint, some forty
# times a run. The server keeps the environment of the first multiprocess run in this
# process (the CLI makes one run per process).
PRELOAD = ["pipeline.definitions", "pipeline.run"]


def monthly_job() -> dg.JobDefinition:
    """The job, loadable by name in every process the multiprocess executor starts."""
    from pipeline.definitions import defs

    return defs.resolve_job_def("monthly_edition")


def run_edition(
    exports: Path,
    out: Path,
    month: str,
    as_of: date,
    config_file: Path | None,
    warehouse: Path,
    processes: int = 1,
) -> Path:
    """Build `out/<month>`; raise RunFailed (and leave `out` as it was) when a step fails.

    processes=1 runs every step in this process; more runs up to that many steps side by
    side with Dagster's multiprocess executor (the render shards in parallel), each step
    in its own process (forked from a server that has the code loaded, see PRELOAD), with
    the run's events in a temporary Dagster instance.
    """
    job = monthly_job()
    partition = f"{month}-01"
    if partition not in job.partitions_def.get_partition_keys():
        raise RunFailed(f"--month {month}: outside the editions this installation knows")
    config = run_config(exports, out, as_of, config_file, warehouse)
    if processes <= 1:
        result = job.execute_in_process(run_config=config, partition_key=partition,
                                        raise_on_error=False)
        _raise_on_failure(result)
        return out / month
    config["execution"] = {"config": {"multiprocess": {
        "max_concurrent": processes, "start_method": {"forkserver": {"preload_modules": PRELOAD}},
    }}}
    # The run's event log lives in the out folder's work area (not /tmp): a killed run's
    # leftovers are cleared by the next run, and nothing is written outside --out.
    home = out / ".work" / "dagster"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    try:
        with dg.DagsterInstance.local_temp(str(home), overrides=QUIET) as instance, \
                dg.execute_job(dg.reconstructable(monthly_job), instance, run_config=config,
                               tags={"dagster/partition": partition}) as result:
            _raise_on_failure(result)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return out / month


def _raise_on_failure(result) -> None:
    """RunFailed with what went wrong: each failed step's own message, each blocking
    check that failed (it stops the steps after it), else the run's failure message."""
    if result.success:
        return
    messages = []
    for event in result.all_events:
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_FAILURE:
            messages.append(_root_message(event.event_specific_data.error))
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.blocking:
                details = ", ".join(f"{k}={v.value}" for k, v in evaluation.metadata.items())
                messages.append(f"check {evaluation.asset_check_key.to_user_string()} failed"
                                + (f" ({details})" if details else ""))
        elif kind in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.ENGINE_EVENT):
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                messages.append(f"{event.message or 'the run failed'}: {_root_message(error)}")
    raise RunFailed("; ".join(dict.fromkeys(messages)) or "the run failed")
