"""Render shards: the edition's print batches shared out among independent steps.

Every print batch (greeting letters of each kind, print newsletters) is a job with a
weight (its pieces times what a piece of that kind costs to lay out). `assign` deals
the jobs to `count` shards, heaviest first, each to the least loaded shard, so the
shards finish close together; it depends only on the jobs, so every shard (in its own
process, pod or worker) computes the same split without talking to the others.
"""

from __future__ import annotations

from dataclasses import dataclass

# Layout cost of one piece relative to a one-page greeting letter (measured: a print
# newsletter is two to three pages with tables).
PIECE_COST = {"letters": 1, "newsletters": 3}


@dataclass(frozen=True, order=True)
class Job:
    part: str  # "letters" or "newsletters"
    key: str  # the batch's path within its part, e.g. "birthday/batch-001.pdf"
    pieces: int

    @property
    def weight(self) -> int:
        return self.pieces * PIECE_COST[self.part]


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
