"""`make bench`: speed and memory of the monthly job on synthetic samples.

For each size it generates a sample (cached in output/.bench/), then runs the real job
(`clubpress run`) in a child process and reads the step timings from run.json and the
child's peak memory from the operating system. Sizes: BENCH_SIZES="5000,1000000".
"""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
from pathlib import Path

from pipeline.defs.marts import MARTS
from pipeline.settings import PATHS

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "5000,1000000").split(",")]
AS_OF = "2026-11-20"
WORK = PATHS.output / ".bench"
MART_STEPS = set(MARTS) | {"contact_plan"}


def require_harfbuzz_subset() -> None:
    """Without HarfBuzz subsetting WeasyPrint embeds whole CJK fonts: fail loudly."""
    if ctypes.util.find_library("harfbuzz-subset") is None:
        sys.exit("bench: libharfbuzz-subset0 is not installed; PDF figures would be meaningless "
                 "(run `make setup`)")


def bench_size(members: int) -> dict:
    exports = WORK / f"sample-{members}"
    if not (exports / "members.csv").exists():
        subprocess.run([sys.executable, "-m", "pipeline.cli", "sample", "--members", str(members),
                        "--out", str(exports)], check=True, stdout=subprocess.DEVNULL)
    done = subprocess.run(
        [sys.executable, "-m", "bench.measure", str(exports), str(WORK / f"out-{members}"),
         str(WORK / f"warehouse-{members}.duckdb")],
        check=True, stdout=subprocess.PIPE, text=True, cwd=PATHS.root,
    )
    record = json.loads(done.stdout.strip().splitlines()[-1])
    steps, rows = record["steps"], sum(record["rows_read"].values())
    ingest = sum(v for k, v in steps.items() if k.startswith("stg_"))
    warehouse = sum(v for k, v in steps.items() if k.startswith("warehouse"))
    marts = sum(v for k, v in steps.items() if k in MART_STEPS)
    return {
        "members": members,
        "rows_read": rows,
        "ingest_seconds": round(ingest, 1),
        "ingest_rows_per_second": round(rows / ingest) if ingest else None,
        "marts_seconds": round(marts, 1),
        "warehouse_seconds": round(warehouse, 1),
        "run_seconds": round(record["wall_seconds"], 1),
        "peak_mib": record["peak_mib"],
    }


def main() -> None:
    require_harfbuzz_subset()
    WORK.mkdir(parents=True, exist_ok=True)
    results = []
    header = (f"{'members':>10} {'rows read':>11} {'ingest s':>9} {'rows/s':>10} "
              f"{'marts s':>8} {'DuckDB s':>9} {'run s':>7} {'peak MiB':>9}")
    print(header)
    for size in SIZES:
        r = bench_size(size)
        results.append(r)
        print(f"{r['members']:>10,} {r['rows_read']:>11,} {r['ingest_seconds']:>9} "
              f"{r['ingest_rows_per_second']:>10,} {r['marts_seconds']:>8} "
              f"{r['warehouse_seconds']:>9} {r['run_seconds']:>7} {r['peak_mib']:>9,}")
    target = Path(__file__).parent / "results"
    target.mkdir(exist_ok=True)
    (target / "latest.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
