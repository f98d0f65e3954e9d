"""The export inbox: folders of CRM exports dropped for the next run.

A folder is ready when it holds a members export (by any name the ingest accepts) and
nothing in it has changed for `settle_seconds`: a CRM export or a copy that is still
being written is left alone until it is quiet. Each ready folder has a fingerprint of its
files (names, sizes, modification times), so a folder dropped again with new files is a
new run and an untouched one never runs twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.lib.read.readers import ExportError, find_export, load_mapping
from pipeline.lib.read.schema import TABLES


@dataclass(frozen=True)
class ExportFolder:
    path: Path
    fingerprint: str  # 16 hex digits over (name, size, mtime) of every file

    @property
    def run_key(self) -> str:
        return f"{self.path.name}:{self.fingerprint}"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def fingerprint(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def has_members(folder: Path) -> bool:
    """Whether the folder holds a members export (a broken columns.yaml counts: the run
    will stop and say why, which is better than waiting silently)."""
    try:
        mapping = load_mapping(folder).get("members")
        return find_export(folder, TABLES["members"], mapping) is not None
    except ExportError:
        return True


def ready_folders(inbox: Path, now: float, settle_seconds: float) -> list[ExportFolder]:
    """Export folders directly below `inbox`, in name order, that hold a members export
    and whose newest file is at least `settle_seconds` old (`now` as time.time())."""
    if not inbox.is_dir():
        return []
    ready = []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = _files(folder)
        if not files or not has_members(folder):
            continue
        if now - max(p.stat().st_mtime for p in files) < settle_seconds:
            continue  # still being written
        ready.append(ExportFolder(folder, fingerprint(files, folder)))
    return ready
