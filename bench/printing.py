"""The pipeline's print steps against WeasyPrint's floor, measured in one run.

Run after bench.measure (its tables are in `<out>/.work/2026-12-01/`). Everything is
measured here, back to back, so the machine's load (shared, two cores) is the same for
the floor and the pipeline; figures are pages per second and ratios to the floor.

- floor: the plain page (bench.render.PLAIN_PAGE) in warm processes, documents of
  FLOOR_PAGES pages, on one process and on every core;
- direct: WeasyPrint alone (`HTML(...).render().write_pdf()`) on the very HTML the
  pipeline lays out, one warm process: the first DIRECT_PIECES letters and print
  newsletters of the edition, per page, weighted by the edition's pages of each kind;
- pipeline: the Dagster steps `print_plan` and every `print_split_N_of_M`,
  `print_backgrounds_N_of_M` and `print_shard_N_of_M` on the
  multiprocess executor (forkserver with the pipeline preloaded, as `clubpress run`),
  first one step at a time, then one per core: print pages per second of wall time,
  plan included, and per shard.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import dagster as dg

from bench.measure import step_seconds
from bench.overhead import _direct
from bench.render import PARTITION, _render_plain, _table
from pipeline.config import load_config
from pipeline.defs.render.shards import SHARD_ASSETS, SHARD_NAMES
from pipeline.defs.resources import run_config
from pipeline.lib.documents import letters, newsletter
from pipeline.run import QUIET, monthly_job
from pipeline.steps import multiprocess_execution

FLOOR_PAGES = int(os.environ.get("BENCH_FLOOR_PAGES", "100"))
CORES = len(os.sched_getaffinity(0))
DIRECT_PIECES = int(os.environ.get("BENCH_DIRECT_PIECES", "100"))
EDITION = PARTITION[:7]
# split, backgrounds and shard steps (layout once, stamp many), in graph order
STEP_NAMES = [a.key.to_user_string() for a in SHARD_ASSETS]


def _steps() -> list[str]:
    """The print steps of this version of the pipeline, and `letters` (gathering, joining
    slices, the manifest and its checks)."""
    names = set(monthly_job().graph.node_dict)
    return [s for s in ("print_plan", *STEP_NAMES, "letters") if s in names]


def _join_newsletters(out: Path) -> float:
    """Seconds to gather the shards' print newsletters and join their slices, as the
    `print_newsletters` step does."""
    from pipeline.defs.render import shards

    started = time.perf_counter()
    target = out / ".work" / "bench-newsletters"
    shutil.rmtree(target, ignore_errors=True)
    render = out / ".work" / "render" / EDITION
    for index in range(1, len(SHARD_NAMES) + 1):
        shards.gather(render / f"shard-{index}" / "newsletters", target / "newsletters")
    join = getattr(newsletter, "join_print_slices", None)
    if join is not None:
        join(target, load_config().print.duplex)
    return time.perf_counter() - started


def direct_seconds_per_page(out: Path) -> tuple[float, float]:
    """WeasyPrint alone on the edition's own HTML: seconds per letter page and per print
    newsletter page, one warm process."""
    work = out / ".work" / PARTITION
    config = load_config()
    plan, members = _table(work, "contact_plan"), _table(work, "stg_members")
    birthdays, holidays = _table(work, "upcoming_birthdays"), _table(work, "holidays")
    pieces = letters.letter_pieces(plan, members, birthdays, _table(work, "anniversaries"),
                                   holidays, EDITION)
    batch = letters.batches(pieces, DIRECT_PIECES)[0]
    layout = letters.Layout(config.print.paper, config.print.envelope_window, config.print.duplex)
    views = [letters.piece_view(p) for p in batch.pieces.to_dict("records")]
    html = letters.batch_html(views, letters.club_view(config), EDITION, layout.duplex)
    sheet = letters._stylesheet(layout)
    _direct(html, [sheet])  # warm
    started = time.perf_counter()
    pages = len(pypdf_pages(_direct(html, [sheet])))
    letter = (time.perf_counter() - started) / pages
    prepared = newsletter.prepare(plan, members, _table(work, "segments"), birthdays, holidays,
                                  _table(work, "stg_events"), config, EDITION)
    posted = newsletter.print_order(prepared.by_post)[:DIRECT_PIECES]
    html = newsletter.print_job(prepared.edition, posted, 1)[0]
    started = time.perf_counter()
    pages = len(pypdf_pages(_direct(html)))
    return letter, (time.perf_counter() - started) / pages


def pypdf_pages(pdf: bytes):
    import io

    from pypdf import PdfReader
    return PdfReader(io.BytesIO(pdf)).pages


def floor(processes: int, documents: int) -> float:
    """Plain pages per second on `processes` warm processes."""
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_render_plain, [3] * processes * 2))  # fonts and caches loaded
        started = time.perf_counter()
        pages = sum(pool.map(_render_plain, [FLOOR_PAGES] * documents))
        return pages / (time.perf_counter() - started)


def pipeline(exports: Path, out: Path, warehouse: Path, processes: int) -> dict:
    """print_plan and the shards through Dagster's multiprocess executor."""
    config = run_config(exports, out, date(2026, 11, 20), None, warehouse)
    config["execution"] = multiprocess_execution(processes)
    home = out / ".work" / "dagster-bench"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    steps = _steps()
    started = time.perf_counter()
    with dg.DagsterInstance.local_temp(str(home), overrides=QUIET) as instance, \
            dg.execute_job(dg.reconstructable(monthly_job), instance, run_config=config,
                           tags={"dagster/partition": PARTITION},
                           asset_selection=[dg.AssetKey(s) for s in steps]) as result:
        wall = time.perf_counter() - started
        assert result.success, "print steps failed"
        pages, letter_pages = 0, 0
        seconds = {k: round(v, 2) for k, v in step_seconds(instance, result.run_id).items()}
        for name in SHARD_NAMES:
            meta = out / ".work" / PARTITION / name / "meta.json"  # the step's output
            value = json.loads(meta.read_text(encoding="utf-8"))["value"]
            letter_pages += sum(int(r["page_count"]) for r in value["letters"])
            pages += int(value["newsletters"]["print_pages"])
        pages += letter_pages
    wall += _join_newsletters(out)
    shutil.rmtree(home, ignore_errors=True)
    return {"pages": pages, "letter_pages": letter_pages, "wall_seconds": round(wall, 2),
            "step_seconds": seconds,
            "pages_per_second": round(pages / wall, 1)}


def main(exports: str, out: str, warehouse: str) -> None:
    floor_one = floor(1, 4)
    letter_s, newsletter_s = direct_seconds_per_page(Path(out))
    one = pipeline(Path(exports), Path(out), Path(warehouse), 1)
    floor_all = floor(CORES, 2 * CORES)
    every = pipeline(Path(exports), Path(out), Path(warehouse), CORES)
    floor_one_again = floor(1, 4)  # the load may have changed meanwhile
    base = (floor_one + floor_one_again) / 2
    direct = (one["letter_pages"] * letter_s
              + (one["pages"] - one["letter_pages"]) * newsletter_s)
    print(json.dumps({
        "cores": CORES,
        "steps": _steps(),
        "floor_one_core_pps": round(base, 1),
        "floor_all_cores_pps": round(floor_all, 1),
        "direct_letter_page_vs_floor": round(letter_s * base, 2),
        "direct_newsletter_page_vs_floor": round(newsletter_s * base, 2),
        "pipeline_one_core": one,
        "pipeline_all_cores": every,
        "pipeline_one_core_vs_direct": round(one["wall_seconds"] / direct, 2),
        # The same without the run's start-up (forkserver importing the pipeline, the
        # executor's own events): the print steps' own seconds.
        "print_steps_one_core_vs_direct": round(
            sum(one["step_seconds"].values()) / direct, 2),
        "pipeline_one_core_vs_floor": round(one["pages_per_second"] / base, 2),
        "pipeline_all_cores_vs_floor_all": round(every["pages_per_second"] / floor_all, 2),
        "pipeline_scaling": round(every["pages_per_second"] / one["pages_per_second"], 2),
        "floor_scaling": round(floor_all / base, 2),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
