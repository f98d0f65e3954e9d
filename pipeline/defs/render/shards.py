"""Render shards: the print batches of an edition, rendered by independent steps.

Page layout is the slow part of an edition and runs in Python, so it scales only across
processes. The print batches (greeting letters of every kind and the print newsletters)
are dealt to `RENDER_SHARDS` shard assets (`pipeline.lib.shards.assign`); Dagster's
multiprocess executor runs them side by side (one process per core), and Kubernetes or
Celery executors one pod or worker each. A shard writes its PDFs to its own work folder
`out/.work/render/<edition>/shard-N/` and returns what it rendered; the `letters` and
`newsletters` steps gather the files and write the manifest. Shards share nothing but
the inputs and the out folder, so they may run on different machines when `out` is a
shared volume.

The number of shards is part of the asset graph, so it must be the same wherever the
definitions load: `CLUBPRESS_RENDER_SHARDS` (default 2, this machine's cores).
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.config import ClubConfig
from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings
from pipeline.lib import letters as letter_lib
from pipeline.lib import newsletter as newsletter_lib
from pipeline.lib.edition import Edition
from pipeline.lib.ingest import Staged
from pipeline.lib.progress import report
from pipeline.lib.shards import Job, assign

RENDER_SHARDS = int(os.environ.get("CLUBPRESS_RENDER_SHARDS", "2"))


def shard_name(index: int, count: int = RENDER_SHARDS) -> str:
    return f"print_shard_{index}_of_{count}"


SHARD_NAMES = [shard_name(i) for i in range(1, RENDER_SHARDS + 1)]


@dataclass(frozen=True)
class PrintWork:
    """Every print batch of the edition: letter batches by path, newsletter post pieces."""

    letter_batches: dict[str, letter_lib.Batch]
    newsletters: newsletter_lib.Prepared
    newsletter_batches: list[list]

    def jobs(self) -> list[Job]:
        return [
            *(Job("letters", path, len(b.pieces)) for path, b in self.letter_batches.items()),
            *(Job("newsletters", newsletter_lib.print_path(n), len(members))
              for n, members in enumerate(self.newsletter_batches, start=1)),
        ]


def print_work(config: ClubConfig, edition: str, plan: pd.DataFrame,
               members: pd.DataFrame, events: pd.DataFrame, segments: pd.DataFrame,
               birthdays: pd.DataFrame, anniversaries: pd.DataFrame,
               holidays: pd.DataFrame, as_of=None) -> PrintWork:
    """The edition's print batches; `as_of` (the cut-off) bounds the letters' mail_by."""
    pieces = letter_lib.letter_pieces(plan, members, birthdays, anniversaries, holidays, edition,
                                      as_of, config.print.lead_days, config.print.drops)
    letter_batches = {b.path: b for b in letter_lib.batches(pieces, config.print.batch_size)}
    prepared = newsletter_lib.prepare(plan, members, segments, birthdays, holidays, events,
                                      config, edition)
    return PrintWork(letter_batches, prepared,
                     newsletter_lib.print_batches(prepared.edition, prepared.by_post))


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NA as None) for the step's output."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def shard_dir(settings: ClubPressSettings, edition: Edition, index: int) -> Path:
    return settings.render_dir(edition.month, f"shard-{index}")


def build_shard(index: int, count: int) -> dg.AssetsDefinition:
    @dg.asset(
        name=shard_name(index, count),
        partitions_def=editions,
        group_name="render",
        description=f"Print batches, share {index} of {count}: greeting letters and print "
        "newsletters, rendered to this shard's work folder.",
    )
    def _shard(context: dg.AssetExecutionContext, settings: ClubPressSettings,
               contact_plan: pd.DataFrame, stg_members: Staged, stg_events: Staged,
               segments: pd.DataFrame, upcoming_birthdays: pd.DataFrame,
               anniversaries: pd.DataFrame, holidays: pd.DataFrame) -> dict:
        edition = settings.edition(context)
        folder = shard_dir(settings, edition, index)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        work = print_work(settings.club, edition.month, contact_plan,
                          stg_members.frame, stg_events.frame, segments, upcoming_birthdays,
                          anniversaries, holidays, edition.as_of)
        mine = assign(work.jobs(), count)[index - 1]
        chosen = [work.letter_batches[j.key] for j in mine if j.part == "letters"]
        if chosen:
            letter_lib.check_pieces(pd.concat([b.pieces for b in chosen], ignore_index=True))
        manifest = letter_lib.render_batches(chosen, settings.club, edition.month,
                                             folder / "letters")
        numbers = [int(j.key[-7:-4]) for j in mine if j.part == "newsletters"]
        printed = newsletter_lib.write_print(work.newsletters.edition, work.newsletters.by_post,
                                             folder, workers=1, numbers=numbers)
        pages = int(manifest["page_count"].sum()) if len(manifest) else 0
        report("render", f"shard {index}/{count}: {len(chosen)} letter batches ({pages:,} "
               f"pages), {printed['batches']} newsletter batches ({printed['print_pages']:,} pages)")
        return {"letters": _records(manifest), "newsletters": printed}

    return _shard


SHARD_ASSETS = [build_shard(i, RENDER_SHARDS) for i in range(1, RENDER_SHARDS + 1)]


def gather(source: Path, target: Path) -> int:
    """Hard-link (or copy) every file below `source` to the same place below `target`;
    the shard's files stay, so a re-executed gathering step finds them again."""
    count = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.unlink(missing_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)
        count += 1
    return count
