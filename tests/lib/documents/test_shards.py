"""Dealing print batches to render shards: every piece printed once, shards kept even."""

from __future__ import annotations

import pytest

from pipeline.lib.documents.shards import MIN_SLICE_PIECES, Job, assign, slice_file, split

# An edition of 1,500 members: two newsletter batches and two letter folders.
EDITION = [Job("newsletters", "newsletters/print/batch-001.pdf", 500),
           Job("newsletters", "newsletters/print/batch-002.pdf", 282),
           Job("letters", "anniversary/batch-001.pdf", 114),
           Job("letters", "birthday/batch-001.pdf", 64)]


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_every_piece_of_every_batch_is_in_exactly_one_slice_in_order(count):
    """A slice is a run of consecutive pieces; together they are the batch, once."""
    for job in EDITION:
        slices = sorted((s for s in split(EDITION, count) if s.key == job.key),
                        key=lambda s: s.slice)
        assert [s.slice for s in slices] == list(range(1, len(slices) + 1))
        assert all(s.slices == len(slices) for s in slices)
        starts = [s.first for s in slices]
        assert starts[0] == 0 and sum(s.pieces for s in slices) == job.pieces
        assert all(a.first + a.pieces == b.first for a, b in zip(slices, slices[1:]))
        # A document pays for its fonts once: no tiny slices of a big batch.
        assert len(slices) == 1 or min(s.pieces for s in slices) >= MIN_SLICE_PIECES


def test_two_shards_get_about_the_same_work():
    """Whole batches would give one shard 4,500 and the other 4,852 units of work (the
    edition waits for the slower); sliced, they end within one slice of each other."""
    shares = assign(split(EDITION, 2), 2)
    loads = [sum(j.weight for j in share) for share in shares]
    biggest = max(j.weight for j in split(EDITION, 2))
    assert sorted(j for share in shares for j in share) == sorted(split(EDITION, 2))
    assert max(loads) - min(loads) <= biggest
    assert max(loads) / (sum(loads) / 2) < 1.1


def test_one_shard_renders_every_batch_whole():
    assert split(EDITION, 1) == EDITION


@pytest.mark.parametrize("path, number, slices, file", [
    ("birthday/batch-001.pdf", 1, 1, "birthday/batch-001.pdf"),  # whole: its own name
    ("birthday/batch-001.pdf", 2, 3, "birthday/batch-001.slice-02.pdf"),
])
def test_slice_files_sit_beside_their_batch(path, number, slices, file):
    assert slice_file(path, number, slices) == file
