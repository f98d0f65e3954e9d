"""Render shards: the print batches of an edition, planned once and rendered by independent steps.

Page layout is the slow part of an edition and runs in Python, so it scales only across
processes. `print_plan` prepares the edition's print batches once (greeting letters of
every kind and the print newsletters, checked for repeated ids and missing glyphs), deals
them whole to `RENDER_SHARDS` shares (`pipeline.lib.documents.shards.assign`) and writes
each share to a file of its own. Each share then goes through three steps, layout once
and stamp many (`pipeline.lib.documents.stamp`):

1. `print_split_N_of_M` renders its pieces' templates in split mode: each piece's
   background (keyed by its text) and its own parts;
2. `print_backgrounds_N_of_M` takes every share's backgrounds, so the edition's pool
   (each distinct background once), and lays out its part of the pool;
3. `print_shard_N_of_M` stamps its batches: the members' parts laid out as small
   overlays on the pool's pages.

Dagster's multiprocess executor runs the shards of a step side by side (one process per
core), and Kubernetes or Celery executors one pod or worker each. A shard writes its PDFs
to its own work folder `out/.work/render/<edition>/shard-N/` and returns what it
rendered; the `letters` and `print_newsletters` steps gather the files and write the
manifest.
Shards share nothing but the plan's files and the out folder, so they may run on
different machines when `out` is a shared volume.

The number of shards is part of the asset graph, so it must be the same wherever the
definitions load: `CLUBPRESS_RENDER_SHARDS` (default 2, this machine's cores).
"""

import math
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
from pipeline.lib.documents.shards import Job, assign
from pipeline.lib.documents.stamp import lay_out_backgrounds

RENDER_SHARDS = int(os.environ.get("CLUBPRESS_RENDER_SHARDS", "2"))
PLAN_PART = "print-plan"  # render_dir part holding one file per share and step
POOL_PART = "print-backgrounds"  # render_dir part holding the edition's backgrounds
MIN_PER_DOCUMENT = 8  # backgrounds laid out as one document, at least


def shard_name(index: int, count: int = RENDER_SHARDS, step: str = "shard") -> str:
    return f"print_{step}_{index}_of_{count}"


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
    """Every print batch of the edition, prepared once and dealt whole (a file carries
    each background it uses once) to `count` shares (`pipeline.lib.documents.shards`); `as_of` (the cut-off) bounds the letters'
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
    for mine in assign(jobs, count):
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
    for stale in (folder, settings.render_dir(edition.month, POOL_PART)):
        if stale.exists():
            shutil.rmtree(stale)
    folder.mkdir(parents=True)
    summary = []
    for index, share in enumerate(shares, start=1):
        _dump(share_file(settings, edition, index), share)
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


def _plan_file(settings: ClubPressSettings, edition: Edition, name: str) -> Path:
    return settings.render_dir(edition.month, PLAN_PART) / name


def _dump(path: Path, value) -> None:
    # Our own work files, read back only by this run's render steps.
    path.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _load(path: Path):
    return pickle.loads(path.read_bytes())


def split_share(share: Share, config: ClubConfig, edition: str) -> dict:
    """The share's pieces in split mode: per part, the splits of each batch (letters by
    batch file, newsletters by (number, slice)) and the distinct backgrounds."""
    letters = {b.file: letter_lib.split_pieces(b.pieces, config, edition)
               for b in share.letter_batches}
    newsletters = {(n, part): newsletter_lib.split_members(share.newsletters, members)
                   for n, part, _, members in share.newsletter_slices}
    sections: dict[str, dict[str, str]] = {"letters": {}, "newsletters": {}}
    for part, splits in (("letters", letters), ("newsletters", newsletters)):
        for pieces in splits.values():
            for piece in pieces:
                sections[part].setdefault(piece.key, piece.background)
    return {"letters": letters, "newsletters": newsletters, "sections": sections}


def pool_documents(sections: list[dict[str, dict[str, str]]], count: int
                   ) -> list[list[tuple[str, str, dict[str, str]]]]:
    """The edition's pool from every share's backgrounds: each distinct one once, in key
    order, cut into documents ((part, file, key -> section)) dealt to `count` shares by
    their layout cost."""
    documents = []
    for part, size in (("letters", letter_lib.BACKGROUNDS_PER_DOCUMENT),
                       ("newsletters", newsletter_lib.BACKGROUNDS_PER_DOCUMENT)):
        pool: dict[str, str] = {}
        for found in sections:
            pool |= found[part]
        keys = sorted(pool)
        # about two documents per shard, so the shards finish close together, but not
        # too small: each document subsets and writes its fonts once
        size = max(MIN_PER_DOCUMENT, min(size, math.ceil(len(keys) / (2 * count))))
        for number, first in enumerate(range(0, len(keys), size), start=1):
            documents.append((part, f"{part}-{number:03d}.pdf",
                              {k: pool[k] for k in keys[first:first + size]}))
    by_file = {d[1]: d for d in documents}
    shares = assign([Job(part, file, len(chunk)) for part, file, chunk in documents], count)
    return [[by_file[job.key] for job in jobs] for jobs in shares]


def lay_out_pool(documents: list[tuple[str, str, dict[str, str]]], share: Share,
                 config: ClubConfig, folder: Path) -> dict[str, dict]:
    """Lay out this share's documents of the pool into `folder`; per part, where each
    background is."""
    found: dict[str, dict] = {"letters": {}, "newsletters": {}}
    for part, file, chunk in documents:
        if part == "letters":
            kind = letter_lib.stamp_kind(config)
        else:
            kind = newsletter_lib.stamp_kind(share.newsletters)
        found[part] |= lay_out_backgrounds(kind, chunk, folder, file)
    return found


def render_share(share: Share, config: ClubConfig, edition: str, folder: Path,
                 split: dict | None = None, pool: dict | None = None,
                 pool_dir: Path | None = None) -> dict:
    """Render one share into `folder` (letters/..., newsletters/print/...); the letters'
    manifest rows and the newsletter counts. With `pool` (every background's place, in
    `pool_dir`) and `split` (`split_share`) the pieces are stamped; otherwise laid out
    whole."""
    pool = pool or {"letters": None, "newsletters": None}
    split = split or {"letters": None, "newsletters": None}
    manifest = letter_lib.render_batches(share.letter_batches, config, edition,
                                         folder / "letters", pool["letters"], pool_dir,
                                         split["letters"])
    printed = newsletter_lib.write_print_batches(
        share.newsletters, share.newsletter_slices, folder, share.newsletter_total, workers=1,
        backgrounds=pool["newsletters"], folder=pool_dir, splits=split["newsletters"])
    return {"letters": manifest, "newsletters": printed}


def build_split(index: int, count: int) -> dg.AssetsDefinition:
    @dg.asset(
        name=shard_name(index, count, "split"),
        partitions_def=editions,
        group_name="render",
        deps=[print_plan],
        description=f"Share {index} of {count} of the print plan in split mode: each "
        "piece's background (shared by many) and its own parts.",
    )
    def _split(context: dg.AssetExecutionContext, settings: ClubPressSettings) -> dict:
        edition = settings.edition(context)
        share = _load(share_file(settings, edition, index))
        done = split_share(share, settings.club, edition.month)
        _dump(_plan_file(settings, edition, f"split-{index}.pickle"), done)
        counts = {part: len(found) for part, found in done["sections"].items()}
        report("render", f"split {index}/{count}: {counts['letters']:,} letter and "
               f"{counts['newsletters']:,} newsletter backgrounds")
        return counts

    return _split


SPLIT_ASSETS = [build_split(i, RENDER_SHARDS) for i in range(1, RENDER_SHARDS + 1)]


def build_backgrounds(index: int, count: int) -> dg.AssetsDefinition:
    @dg.asset(
        name=shard_name(index, count, "backgrounds"),
        partitions_def=editions,
        group_name="render",
        deps=SPLIT_ASSETS,
        description=f"Part {index} of {count} of the edition's pool of backgrounds (each "
        "distinct background once), laid out.",
    )
    def _backgrounds(context: dg.AssetExecutionContext, settings: ClubPressSettings) -> dict:
        edition = settings.edition(context)
        sections = [_load(_plan_file(settings, edition, f"split-{i}.pickle"))["sections"]
                    for i in range(1, count + 1)]
        mine = pool_documents(sections, count)[index - 1]
        share = _load(share_file(settings, edition, index))
        folder = settings.render_dir(edition.month, POOL_PART)
        found = lay_out_pool(mine, share, settings.club, folder)
        _dump(_plan_file(settings, edition, f"pool-{index}.pickle"), found)
        counts = {part: len(places) for part, places in found.items()}
        report("render", f"backgrounds {index}/{count}: {counts['letters']:,} letter and "
               f"{counts['newsletters']:,} newsletter backgrounds laid out")
        return counts

    return _backgrounds


BACKGROUND_ASSETS = [build_backgrounds(i, RENDER_SHARDS) for i in range(1, RENDER_SHARDS + 1)]


def build_shard(index: int, count: int) -> dg.AssetsDefinition:
    @dg.asset(
        name=shard_name(index, count),
        partitions_def=editions,
        group_name="render",
        deps=BACKGROUND_ASSETS,
        description=f"Print batches, share {index} of {count} of the print plan: greeting "
        "letters and print newsletters stamped over the pool's backgrounds, rendered to "
        "this shard's work folder.",
    )
    def _shard(context: dg.AssetExecutionContext, settings: ClubPressSettings) -> dict:
        edition = settings.edition(context)
        folder = shard_dir(settings, edition, index)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        share = _load(share_file(settings, edition, index))
        split = _load(_plan_file(settings, edition, f"split-{index}.pickle"))
        pool: dict[str, dict] = {"letters": {}, "newsletters": {}}
        for i in range(1, count + 1):
            for part, places in _load(_plan_file(settings, edition, f"pool-{i}.pickle")).items():
                pool[part] |= places
        done = render_share(share, settings.club, edition.month, folder, split, pool,
                            settings.render_dir(edition.month, POOL_PART))
        manifest, printed = done["letters"], done["newsletters"]
        pages = int(manifest["page_count"].sum()) if len(manifest) else 0
        report("render", f"shard {index}/{count}: {len(share.letter_batches)} letter batches "
               f"({pages:,} pages), {printed['batches']} newsletter batches "
               f"({printed['print_pages']:,} pages)")
        return {"letters": _records(manifest), "newsletters": printed}

    return _shard


SHARD_ASSETS = [*SPLIT_ASSETS, *BACKGROUND_ASSETS,
                *(build_shard(i, RENDER_SHARDS) for i in range(1, RENDER_SHARDS + 1))]


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
