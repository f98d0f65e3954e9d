"""The edition folder: tables, run.json, and the atomic move into place."""

from __future__ import annotations

import ctypes
import json
import os
import platform
import shutil
from datetime import date
from importlib import metadata
from pathlib import Path

import pandas as pd

from pipeline.lib.privacy import restrict_tree, spreadsheet_safe

VERSIONED = ("clubpress", "dagster", "duckdb", "pandas", "pyarrow", "jinja2", "weasyprint")


def write_table(frame: pd.DataFrame, tables_dir: Path, name: str) -> dict[str, str]:
    """`tables/<name>.csv` (UTF-8 with BOM, so spreadsheets show Chinese) and `.parquet`.

    In the CSV a text cell a spreadsheet would run as a formula gets a leading `'`
    (privacy.spreadsheet_safe); the Parquet keeps the text as it is."""
    tables_dir.mkdir(parents=True, exist_ok=True)
    csv_path = tables_dir / f"{name}.csv"
    spreadsheet_safe(frame).to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\n")
    frame.to_parquet(tables_dir / f"{name}.parquet", index=False)
    return {"csv": csv_path.name, "parquet": f"{name}.parquet"}


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def run_record(
    edition: str,
    as_of: date,
    inputs: list[dict],
    config: dict,
    reconciliation: dict[str, dict[str, int]],
    timings: dict[str, float],
) -> dict:
    """The contents of run.json (no personal data: counts, hashes and versions only)."""
    return {
        "edition": edition,
        "as_of": as_of.isoformat(),
        "inputs": inputs,
        "config": config,
        "versions": versions(),
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "reconciliation": reconciliation,
    }


def write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux `renameat2` with RENAME_EXCHANGE);
    False, with nothing changed, where the system or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def publish(build: Path, final: Path, private: bool = False) -> None:
    """Move a complete edition into place; the previous one stays until the new one is in.
    `private`: the edition's folders and files are made owner-only (0700, 0600) first.

    Where the system can (Linux), the two folders are swapped in one atomic step, so
    there is no moment without an edition at `final`; the previous one, now at `build`,
    is then removed (a run stopped before that leaves it for the next run to clear).
    Elsewhere a directory cannot be renamed over a non-empty one, so the old edition is
    first renamed aside, the new one renamed in, and only then is the old one removed.
    """
    if private:
        restrict_tree(build)
    final.parent.mkdir(parents=True, exist_ok=True)
    retired = final.with_name(f".{final.name}.previous")
    if retired.exists() and not final.exists():
        os.replace(retired, final)  # an earlier publish was cut off between its renames
    if retired.exists():
        shutil.rmtree(retired)
    if final.exists() and exchange(build, final):
        shutil.rmtree(build)
    elif final.exists():
        os.replace(final, retired)
        os.replace(build, final)
    else:
        os.replace(build, final)
    if retired.exists():
        shutil.rmtree(retired)
    try:
        build.parent.rmdir()  # the `.build` folder, when no other edition is being built
    except OSError:
        pass
