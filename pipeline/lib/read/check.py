"""`clubpress check`: read and stage every export, print counts and problems, write nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TextIO

import pandas as pd

from pipeline.lib.read.ingest import ingest_table
from pipeline.lib.read.readers import ExportError
from pipeline.lib.read.schema import TABLES


def check_exports(exports: Path, as_of: date | None, out: TextIO) -> bool:
    """True when every export can be used (quarantined rows allowed), else False."""
    usable = True
    known = None
    for table in TABLES.values():
        try:
            staged = ingest_table(exports, table, known, as_of)
        except ExportError as error:
            print(f"ERROR {error}", file=out)
            usable = False
            if table.name == "members":
                return False
            continue
        if table.name == "members":
            known = pd.Index(staged.frame["member_id"])
        if staged.source is None:
            print(f"{table.name:<13} no export (optional: treated as no data)", file=out)
            continue
        counts = staged.reconciliation()
        print(
            f"{table.name:<13} {staged.source} ({staged.encoding}): "
            f"{counts['rows_read']:,} read, {counts['rows_loaded']:,} loaded, "
            f"{counts['rows_quarantined']:,} quarantined",
            file=out,
        )
        for row in staged.quarantine.itertuples(index=False):
            column = f", column {row.column}" if pd.notna(row.column) else ""
            value = f" (value {row.value!r})" if pd.notna(row.value) and row.value else ""
            print(
                f"  {row.file}, line {row.line}{column}: {row.reason}{value} [{row.action}]",
                file=out,
            )
    return usable
