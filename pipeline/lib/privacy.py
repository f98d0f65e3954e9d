"""Keeping personal data where it belongs: owner-only files and spreadsheet-safe CSV.

- Owner-only: with `output.private` (the default) editions, the run's work folders, the
  warehouse and the erasure register are readable by their owner alone (files 0600,
  folders 0700). `restrict_tree` applies the modes to a finished folder;
  `owner_only_umask` makes files created inside the block private from the start.
- Spreadsheet-safe: a text cell that a spreadsheet would run as a formula (it starts
  with `=`, `+`, `-`, `@`, a tab or a carriage return) is written to CSV with a leading
  `'`, which spreadsheets show as text. Numeric columns, and text that is just a
  negative number (`-60.00`), are left as they are; Parquet keeps the original text.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

FILE_MODE = 0o600
DIR_MODE = 0o700

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")
_E164 = r"\+\d{7,15}"  # a phone number: a plus and digits, nothing a spreadsheet could run


def spreadsheet_cell(value):
    """One cell as it should go into a CSV that people open in a spreadsheet."""
    if (isinstance(value, str) and value.startswith(FORMULA_START)
            and not _NEGATIVE_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame, phones: tuple[str, ...] = ()) -> pd.DataFrame:
    """`frame` with every text cell passed through `spreadsheet_cell` (a copy when any
    cell changes; numbers, dates and booleans untouched).

    In the `phones` columns an E.164 number (`+8613800138000`) is left as it is: it holds
    no formula, and a file read by a machine (the SMS gateway's) needs it exactly."""
    result = frame
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
        risky &= ~text.str.fullmatch(_NEGATIVE_NUMBER.pattern).fillna(False).astype(bool)
        if column in phones:
            risky &= ~text.str.fullmatch(_E164).fillna(False).astype(bool)
        risky &= values.map(lambda v: isinstance(v, str)).astype(bool)
        if risky.any():
            if result is frame:
                result = frame.copy()
            result[column] = values.astype(object).mask(risky, "'" + text.astype(object))
    return result


def restrict_file(path: Path) -> None:
    if path.exists():
        os.chmod(path, FILE_MODE)


def restrict_tree(root: Path) -> None:
    """Owner-only modes on `root`, every folder below it (0700) and every file (0600)."""
    if not root.exists():
        return
    os.chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), DIR_MODE, follow_symlinks=False)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make the folder itself owner-only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


@contextmanager
def owner_only_umask(enabled: bool = True):
    """Files and folders created in the block are owner-only from the start (for files
    created by a library, such as DuckDB's database and its write-ahead log).

    The umask is per process: use it around a single-threaded step only."""
    if not enabled:
        yield
        return
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
