"""Render shards: the print batches of an edition, planned once and rendered by independent steps.

Page layout is the slow part of an edition and runs in Python, so it scales only across
processes. `print_plan` prepares the edition's print batches once (greeting letters of
every kind and the print newsletters, checked for repeated ids and missing glyphs), deals
them to `RENDER_SHARDS` shares (`pipeline.lib.documents.shards.assign`) and writes each share to a
file of its own; each `print_shard_N_of_M` step reads only its share and renders it.
Dagster's multiprocess executor runs the shards side by side (one process per core), and
Kubernetes or Celery executors one pod or worker each. A shard writes its PDFs to its own
work folder `out/.work/render/<edition>/shard-N/` and returns what it rendered; the
`letters` and `newsletters` steps gather the files and write the manifest. Shards share
nothing but the plan's files and the out folder, so they may run on different machines
when `out` is a shared volume.

The number of shards is part of the asset graph, so it must be the same wherever the
definitions load: `CLUBPRESS_RENDER_SHARDS` (default 2, this machine's cores).
"""

import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.config import ClubConfig
from pipeline.defs.partitions import editions
from pipeline.defs.resources import ClubPressSettings
from pipeline.lib.documents import letters as letter_lib
from pipeline.lib.documents import newsletter as newsletter_lib
from pipeline.lib.edition import Edition
from pipeline.lib.read.ingest import Staged
from pipeline.lib.progress import report
from pipeline.lib.documents.shards import Job, assign, split

RENDER_SHARDS = int(os.environ.get("CLUBPRESS_RENDER_SHARDS", "2"))
PLAN_PART = "print-plan"  # render_dir part holding one file per share


def shard_name(index: int, count: int = RENDER_SHARDS) -> str:
    return f"print_shard_{index}_of_{count}"


SHARD_NAMES = [shard_name(i) for i in range(1, RENDER_SHARDS + 1)]


@dataclass(frozen=True)
class Share:
    """What one shard renders: its letter batches (or slices of them), and its newsletter
    slices as (batch number, slice, slices, pieces) of `newsletter_total` batches, with
    the shared parts they are set with."""

    letter_batches: list[letter_lib.Batch]
    newsletters: newsletter_lib.NewsletterEdition
    newsletter_slices: list[tuple[int, int, int, list]]
    newsletter_total: int


def plan_shares(config: ClubConfig, edition: str, plan: pd.DataFrame,
                members: pd.DataFrame, events: pd.DataFrame, segments: pd.DataFrame,
                birthdays: pd.DataFrame, anniversaries: pd.DataFrame,
                holidays: pd.DataFrame, count: int, as_of=None) -> list[Share]:
    """Every print batch of the edition, prepared once, cut into slices and dealt to
    `count` shares (`pipeline.lib.documents.shards`); `as_of` (the cut-off) bounds the letters'
    mail_by. Raises ValueError / RenderError (naming the piece) before anything is laid
    out when a letter piece id repeats or a name or address has a character no font can
    print."""
    pieces = letter_lib.letter_pieces(plan, members, birthdays, anniversaries, holidays, edition,
                                      as_of, config.print.lead_days, config.print.drops)
    letter_lib.check_pieces(pieces)
    letter_batches = {b.path: b for b in letter_lib.batches(pieces, config.print.batch_size)}
    prepared = newsletter_lib.prepare(plan, members, segments, birthdays, holidays, events,
                                      config, edition)
    printed = newsletter_lib.print_batches(prepared.edition, prepared.by_post)
    jobs = [*(Job("letters", path, len(b.pieces)) for path, b in letter_batches.items()),
            *(Job("newsletters", newsletter_lib.print_path(n), len(batch))
              for n, batch in enumerate(printed, start=1))]
    shares = []
    for mine in assign(split(jobs, count), count):
        letter_slices, newsletter_slices = [], []
        for job in mine:
            end = job.first + job.pieces
            if job.part == "letters":
                whole = letter_batches[job.key]
                letter_slices.append(letter_lib.Batch(
                    whole.folder, whole.number,
                    whole.pieces.iloc[job.first:end].reset_index(drop=True),
                    job.slice, job.slices))
            else:
                number = int(job.key[-7:-4])
                newsletter_slices.append((number, job.slice, job.slices,
                                          printed[number - 1][job.first:end]))
        shares.append(Share(letter_slices, prepared.edition, newsletter_slices, len(printed)))
    return shares


def share_file(settings: ClubPressSettings, edition: Edition, index: int) -> Path:
    return settings.render_dir(edition.month, PLAN_PART) / f"share-{index}.pickle"


@dg.asset(
    partitions_def=editions,
    group_name="render",
    description="The edition's print batches (greeting letters and print newsletters), "
    "prepared and checked once and dealt to the render shards, one file per shard.",
)
def print_plan(context: dg.AssetExecutionContext, settings: ClubPressSettings,
               contact_plan: pd.DataFrame, stg_members: Staged, stg_events: Staged,
               segments: pd.DataFrame, upcoming_birthdays: pd.DataFrame,
               anniversaries: pd.DataFrame, holidays: pd.DataFrame) -> dict:
    edition = settings.edition(context)
    shares = plan_shares(settings.club, edition.month, contact_plan, stg_members.frame,
                         stg_events.frame, segments, upcoming_birthdays, anniversaries,
                         holidays, RENDER_SHARDS, edition.as_of)
    folder = settings.render_dir(edition.month, PLAN_PART)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    summary = []
    for index, share in enumerate(shares, start=1):
        # Our own work file, read back only by this run's shard steps.
        share_file(settings, edition, index).write_bytes(
            pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL))
        summary.append({
            "letter_slices": len(share.letter_batches),
            "letter_pieces": sum(len(b.pieces) for b in share.letter_batches),
            "newsletter_slices": len(share.newsletter_slices),
            "newsletter_pieces": sum(len(s[3]) for s in share.newsletter_slices),
        })
    report("render", "print plan: " + "; ".join(
        f"shard {i}: {s['letter_pieces']:,} letters, {s['newsletter_pieces']:,} newsletters"
        for i, s in enumerate(summary, start=1)))
    return {"shares": summary}


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NA as None) for the step's output."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def shard_dir(settings: ClubPressSettings, edition: Edition, index: int) -> Path:
    return settings.render_dir(edition.month, f"shard-{index}")


def render_share(share: Share, config: ClubConfig, edition: str, folder: Path) -> dict:
    """Render one share into `folder` (letters/..., newsletters/print/...); the letters'
    manifest rows and the newsletter counts."""
    manifest = letter_lib.render_batches(share.letter_batches, config, edition,
                                         folder / "letters")
    printed = newsletter_lib.write_print_batches(share.newsletters, share.newsletter_slices,
                                                 folder, share.newsletter_total, workers=1)
    return {"letters": manifest, "newsletters": printed}


def build_shard(index: int, count: int) -> dg.AssetsDefinition:
    @dg.asset(
        name=shard_name(index, count),
        partitions_def=editions,
        group_name="render",
        deps=[print_plan],
        description=f"Print batches, share {index} of {count} of the print plan: greeting "
        "letters and print newsletters, rendered to this shard's work folder.",
    )
    def _shard(context: dg.AssetExecutionContext, settings: ClubPressSettings) -> dict:
        edition = settings.edition(context)
        folder = shard_dir(settings, edition, index)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        share = pickle.loads(share_file(settings, edition, index).read_bytes())
        done = render_share(share, settings.club, edition.month, folder)
        manifest, printed = done["letters"], done["newsletters"]
        pages = int(manifest["page_count"].sum()) if len(manifest) else 0
        report("render", f"shard {index}/{count}: {len(share.letter_batches)} letter batches "
               f"({pages:,} pages), {printed['batches']} newsletter batches "
               f"({printed['print_pages']:,} pages)")
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
