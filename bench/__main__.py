"""`make bench`: speed and memory of the monthly job on synthetic samples, as one table.

For each size (BENCH_SIZES, default 5,000, 100,000 and 1,000,000 members) it generates a
sample (cached in output/.bench/), then in child processes: the data steps (ingest,
marts, DuckDB) through Dagster with their step times and peak memory (bench.measure:
"peak MiB" in one process, "step peak MiB" the largest step in a process of its own, as
`clubpress run` runs them),
the ingest steps against DuckDB loading the same CSV files raw (`read_csv`, all text:
"x raw DuckDB", the floor of any ingest; `python -m bench.ingest EXPORTS` per table),
render throughput with the real templates on that size's data (bench.render), and for
the sizes in BENCH_E2E (default 5,000) `clubpress run` end to end, and for BENCH_PRINT
(default 5,000) the pipeline's print steps against WeasyPrint's floor in the same run
(bench.printing: `print_plan` and the shards on one core and on every core, as ratios to
the plain page and to WeasyPrint alone on the same HTML). Results also go to
bench/results/latest.json. At 1,000,000 members it then checks the data steps' targets
(ingest plus marts under 30 s of step time, the largest step under 2 GiB alone) and
fails when one is missed. Fails at once when HarfBuzz subsetting is missing.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import raw_duckdb_seconds
from pipeline.defs.marts import MARTS
from pipeline.lib.documents.pdf import page_count
from pipeline.settings import PATHS
from pipeline.steps import small_pages

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "5000,10000,100000,1000000").split(",")]
# Sizes also run end to end with `clubpress run` (all documents): 10,000 members in a
# December edition is the print target (print pages per wall second against the floor).
E2E = [int(s) for s in os.environ.get("BENCH_E2E", "5000,10000").split(",") if s]
# Sizes whose print steps are measured through Dagster against the floor (bench.printing).
PRINT = [int(s) for s in os.environ.get("BENCH_PRINT", "5000").split(",") if s]
AS_OF = "2026-11-20"
WORK = PATHS.output / ".bench"
MART_STEPS = set(MARTS) | {"contact_plan"}
# The data steps' targets at a million members (issue 15): (figure, limit, unit).
TARGET_MEMBERS = 1_000_000
TARGETS = [("ingest_and_marts_seconds", 30, "s"), ("isolated_peak_mib", 2048, "MiB")]


def require_harfbuzz_subset() -> None:
    """Without HarfBuzz subsetting WeasyPrint embeds whole CJK fonts: fail loudly."""
    if ctypes.util.find_library("harfbuzz-subset") is None:
        sys.exit("bench: libharfbuzz-subset0 is not installed; PDF figures would be meaningless "
                 "(run `make setup`)")


def _child(module: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", module, *args], check=True,
                          stdout=subprocess.PIPE, text=True, cwd=PATHS.root)
    return json.loads(done.stdout.strip().splitlines()[-1])


def end_to_end(members: int, exports: Path) -> tuple[float, int]:
    """Wall seconds of `clubpress run` (every step, its default processes) on the sample,
    and the print pages it made (letters and print newsletters)."""
    out = WORK / f"e2e-{members}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--exports", str(exports),
                    "--out", str(out), "--as-of", AS_OF, "--warehouse",
                    str(WORK / f"e2e-{members}.duckdb")],
                   check=True, stdout=subprocess.DEVNULL, cwd=PATHS.root)
    seconds = time.perf_counter() - started
    edition = next(p for p in sorted(out.iterdir()) if p.is_dir() and p.name[:2] == "20")
    printed = [*edition.glob("letters/*/*.pdf"), *edition.glob("newsletters/print/*.pdf")]
    return seconds, sum(page_count(p) for p in printed)


def bench_size(members: int, email_dir: Path) -> dict:
    exports = WORK / f"sample-{members}"
    if not (exports / "members.csv").exists():
        subprocess.run([sys.executable, "-m", "pipeline.cli", "sample", "--members", str(members),
                        "--out", str(exports)], check=True, stdout=subprocess.DEVNULL)
    out = WORK / f"out-{members}"
    record = _child("bench.measure", str(exports), str(out),
                    str(WORK / f"warehouse-{members}.duckdb"))
    steps, rows = record["steps"], sum(record["rows_read"].values())
    ingest = sum(v for k, v in steps.items() if k.startswith("stg_"))
    raw = sum(raw_duckdb_seconds(path) for path in sorted(exports.glob("*.csv")))
    warehouse = sum(v for k, v in steps.items() if k.startswith("warehouse"))
    marts = sum(v for k, v in steps.items() if k in MART_STEPS)
    render = _child("bench.render", str(out), str(email_dir))
    printing = {}
    if members in PRINT:
        measured = _child("bench.printing", str(exports), str(out),
                          str(WORK / f"warehouse-{members}.duckdb"))
        printing = {
            "print_steps_pages_per_second": measured["pipeline_all_cores"]["pages_per_second"],
            "print_steps_vs_floor": measured["pipeline_all_cores_vs_floor_all"],
            "print_steps_vs_direct": measured["print_steps_one_core_vs_direct"],
            "print_steps_scaling": measured["pipeline_scaling"],
            "print_floor_scaling": measured["floor_scaling"],
        }
    return {
        "members": members,
        "rows_read": rows,
        "ingest_seconds": round(ingest, 1),
        "raw_duckdb_seconds": round(raw, 1),
        "ingest_vs_raw_duckdb": round(ingest / raw, 1) if raw else None,
        "ingest_rows_per_second": round(rows / ingest) if ingest else None,
        "marts_seconds": round(marts, 1),
        # issue 15's target: ingest plus marts under 30 s at a million members
        "ingest_and_marts_seconds": round(ingest + marts, 1),
        "ingest_and_marts_vs_raw_duckdb": round((ingest + marts) / raw, 1) if raw else None,
        "warehouse_seconds": round(warehouse, 1),
        "data_steps_seconds": round(record["wall_seconds"], 1),
        # the same run's reference: this shared machine's speed varies by a third
        "data_steps_vs_raw_duckdb": round(record["wall_seconds"] / raw, 1) if raw else None,
        "peak_mib": record["peak_mib"],
        "isolated_peak_mib": record["isolated_peak_mib"],
        **render,
        **printing,
        "letters_batched_vs_one_by_one": round(
            render["letter_pages_per_second"] / render["one_by_one_pages_per_second"], 1),
        **e2e_figures(members, exports, render["plain_pages_per_second"]),
    }


def e2e_figures(members: int, exports: Path, floor: float) -> dict:
    """`clubpress run` end to end: seconds, print pages per wall second and that as a
    ratio to the plain floor of the same size's run."""
    if members not in E2E:
        return {"end_to_end_seconds": None}
    seconds, pages = end_to_end(members, exports)
    return {"end_to_end_seconds": round(seconds, 1), "end_to_end_print_pages": pages,
            "end_to_end_print_pages_per_second": round(pages / seconds, 1),
            "end_to_end_print_vs_floor": round(pages / seconds / floor, 2)}


COLUMNS = [  # (heading, key, format)
    ("members", "members", "{:,}"),
    ("rows read", "rows_read", "{:,}"),
    ("ingest s", "ingest_seconds", "{}"),
    ("ingest rows/s", "ingest_rows_per_second", "{:,}"),
    ("x raw DuckDB", "ingest_vs_raw_duckdb", "{}"),
    ("marts s", "marts_seconds", "{}"),
    ("ingest+marts s", "ingest_and_marts_seconds", "{}"),
    ("x raw DuckDB", "ingest_and_marts_vs_raw_duckdb", "{}"),
    ("DuckDB s", "warehouse_seconds", "{}"),
    ("data s", "data_steps_seconds", "{}"),
    ("x raw DuckDB", "data_steps_vs_raw_duckdb", "{}"),
    ("peak MiB", "peak_mib", "{:,}"),
    ("step peak MiB", "isolated_peak_mib", "{:,}"),
    ("plain p/s", "plain_pages_per_second", "{}"),
    ("letter p/s", "letter_pages_per_second", "{}"),
    ("x floor", "letters_vs_floor", "{}"),
    ("whole letter p/s", "whole_letter_pages_per_second", "{}"),
    ("1-by-1 p/s", "one_by_one_pages_per_second", "{}"),
    ("batched x", "letters_batched_vs_one_by_one", "{}"),
    ("print nl p/s", "print_newsletter_pages_per_second", "{}"),
    ("x floor", "print_newsletters_vs_floor", "{}"),
    ("whole nl p/s", "whole_print_newsletter_pages_per_second", "{}"),
    ("e-mails/s", "emails_per_second", "{:,}"),
    ("print steps p/s", "print_steps_pages_per_second", "{}"),
    ("x floor", "print_steps_vs_floor", "{}"),
    ("1 core x direct", "print_steps_vs_direct", "{}"),
    ("all vs 1 core", "print_steps_scaling", "{}"),
    ("floor all vs 1", "print_floor_scaling", "{}"),
    ("end-to-end s", "end_to_end_seconds", "{}"),
    ("e2e print p/s", "end_to_end_print_pages_per_second", "{}"),
    ("x floor", "end_to_end_print_vs_floor", "{}"),
]


def row(values: list[str]) -> str:
    return " ".join(f"{v:>{max(len(h), 9)}}" for v, (h, _, _) in zip(values, COLUMNS))


def main() -> None:
    require_harfbuzz_subset()
    small_pages()  # as the pipeline's processes run; the raw DuckDB reference and children too
    WORK.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"{len(os.sched_getaffinity(0))} cores; letters and print newsletters on every core "
          "(p/s = pages per second in total), e-mails on one")
    print(row([h for h, _, _ in COLUMNS]))
    # Each size's e-mails stay on disk until every size is measured. Removing tens of
    # thousands of files just before the next size writes its own makes creating files
    # several times slower on ext4 without a journal (new inodes skip recently freed
    # ones, a scan per file), which the e-mails/s of the larger sizes used to measure.
    with tempfile.TemporaryDirectory(prefix="clubpress-bench-emails-") as emails:
        for size in SIZES:
            r = bench_size(size, Path(emails) / str(size))
            results.append(r)
            print(row([fmt.format(r[key]) if r.get(key) is not None else "-"
                       for _, key, fmt in COLUMNS]))
    target = Path(__file__).parent / "results"
    target.mkdir(exist_ok=True)
    (target / "latest.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    missed = check_targets(results)
    if missed:
        sys.exit(f"bench: {missed} target(s) missed")


def check_targets(results: list[dict]) -> int:
    """Print each target of the million-member size as met or missed; the number missed
    (none when that size was not measured)."""
    measured = [r for r in results if r["members"] == TARGET_MEMBERS]
    missed = 0
    for r in measured:
        for key, limit, unit in TARGETS:
            met = r[key] < limit
            missed += not met
            print(f"target at {TARGET_MEMBERS:,} members: {key} {r[key]:,} {unit} "
                  f"< {limit:,} {unit}: {'met' if met else 'MISSED'}")
    return missed


if __name__ == "__main__":
    main()
