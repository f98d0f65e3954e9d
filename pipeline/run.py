"""Materialise the monthly job for one edition, the way the CLI (and tests) do it."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import dagster as dg

from pipeline.defs.resources import run_config
from pipeline.lib.privacy import owner_only_umask, restrict_file
from pipeline.lib.read.readers import ExportError
from pipeline.settings import PATHS
from pipeline.steps import multiprocess_execution


class RunFailed(ExportError):
    """A step failed; the message is the step's own (file, line and column where known)."""


# A frame of a Jinja template in a stack trace: the template's file and line.
TEMPLATE_FRAME = re.compile(r'File "([^"]+\.j2)", line (\d+)')
# Any frame: file, line and function.
FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')

# Errors the project raises on purpose, whose message already says what and where (the
# export's file, line and column; the batch; the setting). Anything else is unexpected:
# the operator is told the step, the error and the project's own line where it happened.
EXPECTED_ERRORS = {"ExportError", "RunFailed", "ErasureError", "DeliveryError", "RenderError",
                   "FontsMissing", "ConfigError"}

# Where the full traceback of an unexpected error is kept, inside --out.
FAILURE_LOG = Path(".work") / "last-failure.log"


def _innermost(error):
    while error.cause is not None:
        error = error.cause
    return error


def project_frame(stack: list[str]) -> str | None:
    """The innermost frame of the project's own code in a formatted stack, as
    `pipeline/lib/documents/letters.py:116 in _festival_rows` (None when no frame is ours)."""
    package = PATHS.root / "pipeline"
    for path, line, function in reversed(FRAME.findall("".join(stack))):
        if Path(path).is_relative_to(package):
            return f"{Path(path).relative_to(PATHS.root).as_posix()}:{line} in {function}"
    return None


def _root_message(error) -> str:
    """The innermost error message, which is ours (e.g. an ExportError naming the file);
    an error inside a template also names the template and its line; an unexpected
    error also names its type and the project's own frame where it happened."""
    error = _innermost(error)
    message = re.sub(rf"^[\w.]*{error.cls_name}: ", "", error.message.strip())
    frames = TEMPLATE_FRAME.findall("".join(error.stack))
    if frames:
        path, line = frames[-1]
        shown = Path(path).relative_to(PATHS.templates) if Path(path).is_relative_to(PATHS.templates) else path
        message += f" (template {shown}, line {line})"
    elif error.cls_name not in EXPECTED_ERRORS:
        where = project_frame(error.stack)
        message = f"{error.cls_name}: {message}" + (f" ({where})" if where else "")
    return message


def _is_unexpected(error) -> bool:
    error = _innermost(error)
    return error.cls_name not in EXPECTED_ERRORS and not TEMPLATE_FRAME.search("".join(error.stack))


# The executor's own step-by-step lines stay out of the operator's terminal (progress
# comes from the steps themselves, failures from RunFailed), and the steps' output goes
# to the terminal instead of Dagster's per-step log files.
QUIET = {
    "python_logs": {"python_log_level": "WARNING"},
    "compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                     "class": "NoOpComputeLogManager"},
    "telemetry": {"enabled": False},  # nothing about a run leaves the machine
}


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
    in its own process (forked from a server that has the code loaded, see `pipeline.steps`), with
    the run's events in a temporary Dagster instance.
    """
    job = monthly_job()
    partition = f"{month}-01"
    if partition not in job.partitions_def.get_partition_keys():
        raise RunFailed(f"--month {month}: outside the editions this installation knows")
    config = run_config(exports, out, as_of, config_file, warehouse)
    (out / FAILURE_LOG).unlink(missing_ok=True)  # it describes the last run only
    if processes <= 1:
        result = job.execute_in_process(run_config=config, partition_key=partition,
                                        raise_on_error=False)
        _raise_on_failure(result, out)
        return out / month
    config["execution"] = multiprocess_execution(processes)
    # The run's event log lives in the out folder's work area (not /tmp): a killed run's
    # leftovers are cleared by the next run, and nothing is written outside --out.
    home = out / ".work" / "dagster"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    try:
        with dg.DagsterInstance.local_temp(str(home), overrides=QUIET) as instance, \
                dg.execute_job(dg.reconstructable(monthly_job), instance, run_config=config,
                               tags={"dagster/partition": partition}) as result:
            _raise_on_failure(result, out)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return out / month


def _raise_on_failure(result, out: Path) -> None:
    """RunFailed with what went wrong: each failed step's own message, each blocking
    check that failed (it stops the steps after it), else the run's failure message.

    A step that failed on an unexpected error is named with the error's type and the
    project's own frame, and the full tracebacks go to `out/.work/last-failure.log`."""
    if result.success:
        return
    messages, tracebacks = [], []
    for event in result.all_events:
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            if _is_unexpected(error):
                messages.append(f"step {event.step_key} failed: {_root_message(error)}")
                tracebacks.append(f"step {event.step_key}\n{error.to_string()}")
            else:
                messages.append(_root_message(error))
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.blocking:
                details = ", ".join(f"{k}={v.value}" for k, v in evaluation.metadata.items())
                messages.append(f"check {evaluation.asset_check_key.to_user_string()} failed"
                                + (f" ({details})" if details else ""))
        elif kind in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.ENGINE_EVENT):
            error = getattr(event.event_specific_data, "error", None)
            if error is not None and not messages:  # else it repeats a step's failure
                messages.append(f"{event.message or 'the run failed'}: {_root_message(error)}")
                if _is_unexpected(error):
                    tracebacks.append(error.to_string())
    message = "; ".join(dict.fromkeys(messages)) or "the run failed"
    if tracebacks:
        message += f"; full traceback in {write_failure_log(out, tracebacks)}"
    raise RunFailed(message)


def write_failure_log(out: Path, tracebacks: list[str]) -> Path:
    """`out/.work/last-failure.log`, owner-only: tracebacks may quote member data."""
    path = out / FAILURE_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    with owner_only_umask():
        path.write_text("\n\n".join(tracebacks) + "\n", encoding="utf-8")
    restrict_file(path)
    return path
