"""Ingest per table against DuckDB's own CSV reader on the same files.

`python -m bench.ingest EXPORTS` prints one JSON line: per table, the seconds to find,
read and stage it as the ingest steps do (`ingest_table`: the reader, then the staging
models in DuckDB), the seconds DuckDB takes to load the same file raw (`read_csv`, every
column as text, into a table: the floor of any ingest), their ratio, and the peak memory
of the process (staging every table in turn, as one worker would).
"""

import json
import resource
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.lib.read.ingest import ingest_table
from pipeline.lib.read.schema import TABLES

AS_OF = date(2026, 11, 20)


def raw_duckdb_seconds(path: Path) -> float:
    """Seconds for DuckDB to load one export as text columns (no casts, no checks)."""
    with duckdb.connect() as con:
        started = time.perf_counter()
        con.execute("create table raw as select * from read_csv(?, all_varchar = true)",
                    [str(path)])
        return time.perf_counter() - started


def main(exports: str) -> None:
    folder = Path(exports)
    tables, known = {}, None
    for table in TABLES.values():
        started = time.perf_counter()
        staged = ingest_table(folder, table, known, AS_OF)
        seconds = time.perf_counter() - started
        if table.name == "members":
            known = pd.Index(staged.frame["member_id"])
        if staged.source is None:
            continue
        raw = raw_duckdb_seconds(folder / staged.source)
        tables[table.name] = {"rows_read": staged.rows_read, "seconds": round(seconds, 2),
                              "raw_duckdb_seconds": round(raw, 2),
                              "vs_raw_duckdb": round(seconds / raw, 1) if raw else None}
    total = sum(t["seconds"] for t in tables.values())
    raw = sum(t["raw_duckdb_seconds"] for t in tables.values())
    print(json.dumps({
        "tables": tables, "seconds": round(total, 2), "raw_duckdb_seconds": round(raw, 2),
        "vs_raw_duckdb": round(total / raw, 1) if raw else None,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
