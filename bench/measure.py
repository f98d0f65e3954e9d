"""Run the data steps (ingest, marts, warehouse) of one edition in this process.

Prints one JSON line: seconds per step (from Dagster's events), rows read per table and
the process's peak memory. Documents are measured separately (render throughput). The
process starts as `clubpress run`'s step server does, with the letter fonts' character
maps decoded.

Then each step runs again on its own, in a new process, as `clubpress run`'s executor
runs it (its inputs are the files the first run left in `OUT/.work`): `step_peak_mib`
is each step's peak memory there, and `isolated_peak_mib` the largest. The first run's
`peak_mib` is higher, as one process keeps what every earlier step allocated.
"""

import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg

from pipeline.defs.marts import MARTS
from pipeline.definitions import defs
from pipeline.defs.resources import run_config
from pipeline.lib.documents import glyphs
from pipeline.lib.read.schema import TABLES

DATA_STEPS = [*(f"stg_{table}" for table in TABLES),
              "warehouse", *MARTS, "contact_reconciliation", "warehouse_marts"]


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds from start to success of each step of a run, from its event log."""
    starts, seconds = {}, {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            seconds[event.step_key] = record.timestamp - starts[event.step_key]
    return seconds


def step_assets(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[str]]:
    """The assets each step of a run materialised, steps in the order they started."""
    assets: dict[str, list[str]] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            assets.setdefault(event.step_key, [])
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            assets[event.step_key].append(event.asset_key.to_user_string())
    return assets


def peak_mib() -> int:
    """This process's peak resident memory (VmHWM: unlike getrusage's ru_maxrss, a new
    program does not inherit its parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _execute(exports: str, out: str, warehouse: str, assets: list[str]):
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("monthly_edition").execute_in_process(
        instance=instance,
        run_config=run_config(Path(exports), Path(out), date(2026, 11, 20), None, Path(warehouse)),
        partition_key="2026-12-01",
        asset_selection=[dg.AssetKey(name) for name in assets],
    )
    return instance, result


def main(exports: str, out: str, warehouse: str) -> None:
    # As in `clubpress run`, whose step server decodes the letter fonts' character maps
    # before any step (pipeline/lib/documents/warm.py): the members' ingest checks every
    # name and address against them, and no step of a run pays that 0.7 s.
    glyphs.missing_glyphs("", glyphs.LETTER_FONTS)
    started = time.perf_counter()
    instance, result = _execute(exports, out, warehouse, DATA_STEPS)
    wall = time.perf_counter() - started
    seconds = step_seconds(instance, result.run_id)
    rows = {}
    for name in DATA_STEPS[:5]:
        for materialization in result.asset_materializations_for_node(name):
            rows[name] = materialization.metadata["rows_read"].value
    peaks = {}
    for step, assets in step_assets(instance, result.run_id).items():
        child = subprocess.run([sys.executable, "-m", "bench.measure", "--step", exports, out,
                                warehouse, *assets], check=True, capture_output=True, text=True)
        peaks[step] = json.loads(child.stdout.strip().splitlines()[-1])["peak_mib"]
    print(json.dumps({
        "ok": result.success, "wall_seconds": wall, "steps": seconds, "rows_read": rows,
        "peak_mib": peak_mib(),
        "step_peak_mib": peaks, "isolated_peak_mib": max(peaks.values()),
    }))


def one_step(exports: str, out: str, warehouse: str, *assets: str) -> None:
    """Run one step (the assets it materialises) in this process; print its peak memory."""
    _, result = _execute(exports, out, warehouse, list(assets))
    print(json.dumps({"ok": result.success, "peak_mib": peak_mib()}))


if __name__ == "__main__":
    if sys.argv[1] == "--step":
        one_step(*sys.argv[2:])
    else:
        main(*sys.argv[1:4])
