"""What changed since the previous run of the same edition: `changes.md` and run.json `changes`.

A rerun of an edition month whose inputs (export files, configuration or cut-off) differ
from the run it replaces is compared with that run's tables: members added and removed
(`tables/segments.parquet`, one row per loaded member), members whose RFM segment moved,
and mail pieces added or withdrawn (`letters/manifest.csv`). The first run of a month,
and a rerun on the same inputs (which gives the same files), have nothing to compare and
get no changes.md.

Only identifiers reach changes.md: member_id and piece_id, never a name or an address.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

LISTED = 50  # ids listed per section; the counts are always complete
NO_SEGMENT = "(no purchase)"  # members who never bought have a blank rfm_segment


@dataclass(frozen=True)
class Snapshot:
    """The parts of an edition that are compared: run.json's fingerprint, every member's
    segment and every mail piece."""

    fingerprint: dict  # as_of, inputs and config of run.json
    segments: dict[str, str]  # member_id -> rfm_segment (NO_SEGMENT when blank)
    pieces: dict[str, str]  # piece_id -> kind


@dataclass(frozen=True)
class Changes:
    edition: str
    inputs_changed: list[str]  # one line per input that differs, e.g. "members.csv"
    members_added: list[str]
    members_removed: list[str]
    moves: list[tuple[str, str, str]]  # (member_id, from segment, to segment)
    letters_added: list[tuple[str, str]]  # (piece_id, kind)
    letters_withdrawn: list[tuple[str, str]]
    move_counts: dict[str, int] = field(default_factory=dict)  # "from → to" -> members


def fingerprint(record: dict) -> dict:
    """What decides the edition's contents, from a run.json record."""
    return {k: record.get(k) for k in ("as_of", "inputs", "config")}


def snapshot(record: dict, segments: pd.DataFrame, manifest: pd.DataFrame) -> Snapshot:
    """A Snapshot from a run record, the segments table and the letters manifest."""
    segment = segments["rfm_segment"].astype("string").fillna(NO_SEGMENT)
    kinds = manifest["kind"] if "kind" in manifest else pd.Series("", index=manifest.index)
    return Snapshot(
        fingerprint(record),
        dict(zip(segments["member_id"].astype(str), segment.astype(str))),
        dict(zip(manifest["piece_id"].astype(str), kinds.fillna("").astype(str))),
    )


def read_snapshot(edition_dir: Path) -> Snapshot | None:
    """The published edition in `edition_dir`, or None when there is none to compare
    (no folder, or one missing run.json, its segments table or its letters manifest)."""
    paths = [edition_dir / "run.json", edition_dir / "tables" / "segments.parquet",
             edition_dir / "letters" / "manifest.csv"]
    if not all(p.is_file() for p in paths):
        return None
    record = json.loads(paths[0].read_text(encoding="utf-8"))
    segments = pd.read_parquet(paths[1], columns=["member_id", "rfm_segment"])
    manifest = pd.read_csv(paths[2], dtype=str, encoding="utf-8-sig", keep_default_na=False)
    return snapshot(record, segments, manifest)


def _inputs_changed(before: dict, after: dict) -> list[str]:
    lines = []
    if before.get("as_of") != after.get("as_of"):
        lines.append(f"cut-off: {before.get('as_of')} → {after.get('as_of')}")
    old = {i["table"]: i for i in before.get("inputs") or []}
    new = {i["table"]: i for i in after.get("inputs") or []}
    for table in sorted(old.keys() | new.keys()):
        a, b = old.get(table), new.get(table)
        if a is None:
            lines.append(f"{table}: new export {b['file']}")
        elif b is None:
            lines.append(f"{table}: export {a['file']} no longer present")
        elif a["sha256"] != b["sha256"] or a["file"] != b["file"]:
            lines.append(f"{table}: {a['file']} sha256 {a['sha256'][:12]}… → "
                         f"{b['file']} sha256 {b['sha256'][:12]}…")
    if (before.get("config") or {}).get("sha256") != (after.get("config") or {}).get("sha256"):
        lines.append(f"configuration: {(after.get('config') or {}).get('file')} changed")
    return lines


def compare(previous: Snapshot | None, current: Snapshot, edition: str) -> Changes | None:
    """The changes from `previous` to `current`; None when there is nothing to compare:
    no previous run, or one on the same inputs, configuration and cut-off."""
    if previous is None or previous.fingerprint == current.fingerprint:
        return None
    old, new = previous.segments, current.segments
    moves = sorted((m, old[m], new[m]) for m in old.keys() & new.keys() if old[m] != new[m])
    counts = Counter(f"{a} → {b}" for _, a, b in moves)
    return Changes(
        edition=edition,
        inputs_changed=_inputs_changed(previous.fingerprint, current.fingerprint),
        members_added=sorted(new.keys() - old.keys()),
        members_removed=sorted(old.keys() - new.keys()),
        moves=moves,
        letters_added=sorted((p, current.pieces[p]) for p in current.pieces.keys() - previous.pieces.keys()),
        letters_withdrawn=sorted(
            (p, previous.pieces[p]) for p in previous.pieces.keys() - current.pieces.keys()
        ),
        move_counts=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def summary(changes: Changes | None) -> dict | None:
    """run.json `changes`: counts only (None when changes.md was not written)."""
    if changes is None:
        return None
    return {
        "members_added": len(changes.members_added),
        "members_removed": len(changes.members_removed),
        "members_moved_segment": len(changes.moves),
        "segment_moves": changes.move_counts,
        "letters_added": len(changes.letters_added),
        "letters_withdrawn": len(changes.letters_withdrawn),
    }


_INLINE = re.compile(r"([\\`*_\[\]<>|~])")  # emphasis, code, links, HTML, table cells
_BLOCK_START = re.compile(r"^(\d+)([.)])|^([#+=>-])")  # would open a heading, list or quote


def md(text: str) -> str:
    """Text from the CRM (an id, a file name) as literal Markdown on one line."""
    text = _INLINE.sub(r"\\\1", " ".join(str(text).split()))
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


def _listed(items: list[str], where: str) -> list[str]:
    lines = [f"- {item}" for item in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(f"- … and {len(items) - LISTED:,} more (see {where})")
    return lines


def markdown(changes: Changes) -> str:
    """changes.md: counts first, then the ids (at most LISTED per list)."""
    s = summary(changes)
    lines = [
        f"# Changes in edition {changes.edition} since its previous run",
        "",
        "This run replaced an earlier run of the same edition on different inputs:",
        "",
        *[f"- {md(line)}" for line in changes.inputs_changed],
        "",
        "| change | count |",
        "| --- | ---: |",
        f"| members added | {s['members_added']:,} |",
        f"| members removed | {s['members_removed']:,} |",
        f"| members who moved segment | {s['members_moved_segment']:,} |",
        f"| letters added | {s['letters_added']:,} |",
        f"| letters withdrawn | {s['letters_withdrawn']:,} |",
        "",
        "## Members added",
        "",
        *(_listed([md(m) for m in changes.members_added], "tables/segments.csv") or ["None."]),
        "",
        "## Members removed",
        "",
        *(_listed([md(m) for m in changes.members_removed], "the previous run's tables")
          or ["None."]),
        "",
        "## Segment moves",
        "",
    ]
    if changes.moves:
        lines += ["| from → to | members |", "| --- | ---: |"]
        lines += [f"| {md(move)} | {n:,} |" for move, n in changes.move_counts.items()]
        lines += [""]
        lines += _listed([f"{md(m)}: {md(a)} → {md(b)}" for m, a, b in changes.moves],
                         "tables/segments.csv")
    else:
        lines += ["None."]
    for title, pieces, where in (
        ("Letters added", changes.letters_added, "letters/manifest.csv"),
        ("Letters withdrawn", changes.letters_withdrawn, "the previous run's manifest"),
    ):
        lines += ["", f"## {title}", ""]
        lines += _listed([f"{md(p)} ({md(k)})" for p, k in pieces], where) or ["None."]
    return "\n".join(lines) + "\n"
