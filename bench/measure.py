"""Run the data steps (ingest, marts, warehouse) of one edition in this process.

Prints one JSON line: seconds per step (from Dagster's events), rows read per table and
the process's peak memory. Documents are measured separately (render throughput).
"""

import json
import resource
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg

from pipeline.defs.marts import MARTS
from pipeline.definitions import defs
from pipeline.defs.resources import run_config
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


def main(exports: str, out: str, warehouse: str) -> None:
    job = defs.resolve_job_def("monthly_edition")
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        run_config=run_config(Path(exports), Path(out), date(2026, 11, 20), None, Path(warehouse)),
        partition_key="2026-12-01",
        asset_selection=[dg.AssetKey(name) for name in DATA_STEPS],
    )
    wall = time.perf_counter() - started
    seconds = step_seconds(instance, result.run_id)
    rows = {}
    for name in DATA_STEPS[:5]:
        for materialization in result.asset_materializations_for_node(name):
            rows[name] = materialization.metadata["rows_read"].value
    print(json.dumps({
        "ok": result.success, "wall_seconds": wall, "steps": seconds, "rows_read": rows,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
