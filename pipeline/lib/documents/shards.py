"""Render shards: the edition's print batches shared out among independent steps.

Every print batch (greeting letters of each kind, print newsletters) is a job with a
weight (its pieces times what a piece of that kind costs to lay out). `assign` deals
the jobs to `count` shards, heaviest first, each to the least loaded shard, so the
shards finish close together. A few big batches cannot be dealt evenly (an edition of
1,500 members has two newsletter batches and two letter folders), so `split` first cuts
each batch into slices of about equal weight, about SLICES_PER_SHARD per shard and never
under MIN_SLICE_PIECES pieces (a document has a fixed cost: its fonts are subset and
written once); the slices of a batch are joined into its file after the shards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Layout cost of one piece, in milliseconds as measured in the bundled edition's shards
# (overlays stacked, documents/stamp.py): a print newsletter about 9.5, a one-page
# greeting letter about 13 (its footer is a box of its own in the overlay).
PIECE_COST = {"letters": 13, "newsletters": 9}
# Each slice embeds its own subsets of the fonts (about 1 MB for a newsletter batch), so
# a batch is cut only as far as evening out the shards needs.
SLICES_PER_SHARD = 2
MIN_SLICE_PIECES = 100


@dataclass(frozen=True, order=True)
class Job:
    part: str  # "letters" or "newsletters"
    key: str  # the batch's path within its part, e.g. "birthday/batch-001.pdf"
    pieces: int
    first: int = 0  # the slice's first piece within its batch (0-based)
    slice: int = 1  # 1-based, of `slices`
    slices: int = 1

    @property
    def weight(self) -> int:
        return self.pieces * PIECE_COST[self.part]


def split(jobs: list[Job], count: int) -> list[Job]:
    """Each batch as slices of consecutive pieces, of about equal weight, so that `count`
    shards get about SLICES_PER_SHARD slices each; no slice has fewer than
    MIN_SLICE_PIECES pieces unless its batch has, and one shard needs no slices."""
    if count <= 1:
        return list(jobs)
    unit = sum(j.weight for j in jobs) / (count * SLICES_PER_SHARD) or 1
    result = []
    for job in jobs:
        slices = max(1, min(math.ceil(job.weight / unit), job.pieces // MIN_SLICE_PIECES))
        bounds = [job.pieces * i // slices for i in range(slices + 1)]
        result += [Job(job.part, job.key, end - start, start, number, slices)
                   for number, (start, end) in enumerate(zip(bounds, bounds[1:]), start=1)]
    return result


def slice_file(path: str, slice_: int, slices: int) -> str:
    """Where a slice of batch `path` is rendered: the batch's own path when it is whole,
    else batch-001.slice-02.pdf beside it."""
    return path if slices == 1 else f"{path.removesuffix('.pdf')}.slice-{slice_:02d}.pdf"


def assign(jobs: list[Job], count: int) -> list[list[Job]]:
    """`jobs` dealt to `count` shards (longest processing time first); each shard's
    jobs in (part, key) order. Every job lands in exactly one shard."""
    if count < 1:
        raise ValueError(f"shard count must be at least 1, got {count}")
    shards: list[list[Job]] = [[] for _ in range(count)]
    loads = [0] * count
    for job in sorted(jobs, key=lambda j: (-j.weight, j.part, j.key)):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        shards[lightest].append(job)
        loads[lightest] += job.weight
    return [sorted(shard) for shard in shards]
