"""The DuckDB warehouse: one writer, one transaction per load, SQL read from files."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.settings import PATHS


def sql_text(name: str) -> str:
    """The text of `pipeline/sql/<name>.sql`, e.g. `staging/stg_members`."""
    return (PATHS.sql / f"{name}.sql").read_text(encoding="utf-8")


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path))


def load_tables(
    path: Path, tables: dict[tuple[str, str], tuple[str, pd.DataFrame | Path]]
) -> dict[str, int]:
    """Replace `schema.table` with `model(source)` for each entry, all or nothing.

    `tables` maps (schema, table) to (sql model name, source), the source being a frame
    or a Parquet file (read by DuckDB directly, never through pandas). Returns row counts.
    """
    counts: dict[str, int] = {}
    with connect(path) as con:
        # The staged rows' Parquet row groups (and a mart's Arrow batches) end where the
        # export's blocks did, not on DuckDB's row groups; loading them in file order made
        # DuckDB merge the pieces when it saved the tables (6 s at a million members,
        # against 0.1 s). A table's rows have no order (`order by source_line` gives the
        # file's).
        con.execute("set preserve_insertion_order = false")
        con.execute("begin transaction")
        for (schema, table), (model, source) in tables.items():
            con.execute(f'create schema if not exists "{schema}"')
            if isinstance(source, Path):
                con.read_parquet(str(source)).create_view("source", replace=True)
            else:
                con.register("source", source)
            con.execute(f'create or replace table "{schema}"."{table}" as {sql_text(model)}')
            if isinstance(source, Path):
                con.execute("drop view source")
            else:
                con.unregister("source")
            counts[f"{schema}.{table}"] = con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
        con.execute("commit")
    return counts


def load_parquet(path: Path, schema: str, files: dict[str, Path]) -> dict[str, int]:
    """Replace `schema.<name>` with each Parquet file as it is (marts are typed by their
    step), all or nothing. Returns row counts.

    DuckDB reads each file itself, with the types it was written with (also when it has
    no rows); its dictionary columns (a model's ENUM, such as the backlog's ordered age
    bands) become ENUMs of their values again (text when there are none). Reading the
    files as Arrow first took three times as long (3.6 s of marts at a million members)."""
    counts: dict[str, int] = {}
    with connect(path) as con:
        con.execute("set preserve_insertion_order = false")  # see load_tables
        con.execute("begin transaction")
        con.execute(f'create schema if not exists "{schema}"')
        for name, file in files.items():
            with pq.ParquetFile(file) as parquet:
                columns = _enums(parquet)
                counts[f"{schema}.{name}"] = parquet.metadata.num_rows
            con.read_parquet(str(file)).create_view("source", replace=True)
            con.execute(f'create or replace table "{schema}"."{name}" as '
                        f"select {columns} from source")
            con.execute("drop view source")
        con.execute("commit")
    return counts


def _enums(parquet: pq.ParquetFile) -> str:
    """A select list of the `parquet` file that casts each dictionary column to an ENUM
    of its dictionary's values, in their order (one with no values stays text)."""
    fields = parquet.schema_arrow
    dictionaries = [f.name for f in fields if pa.types.is_dictionary(f.type)]
    values = parquet.read(columns=dictionaries) if dictionaries else None
    items = []
    for field in fields:
        column = '"' + field.name.replace('"', '""') + '"'
        if field.name in dictionaries:
            chunks = values.column(field.name).chunks
            labels = chunks[0].dictionary.to_pylist() if chunks else []
            if labels and all(chunk.dictionary.to_pylist() == labels for chunk in chunks):
                listed = ", ".join("'" + str(v).replace("'", "''") + "'" for v in labels)
                column = f"{column}::enum({listed}) as {column}"
        items.append(column)
    return ", ".join(items)


Relation = pd.DataFrame | pa.Table | Path


def _connect_over(relations: dict[str, Relation], threads: int | None = None,
                  spill: tuple[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with each relation registered under its name: a frame or an
    Arrow table as it is, a Parquet file as a view DuckDB reads directly; the marts' macros
    (`sql/marts/macros.sql`) are defined. `threads`: at
    most that many threads (1: every operator sees the rows in their stored order);
    `spill`: (memory limit, folder) beyond which DuckDB writes what it holds to disk."""
    config: dict[str, object] = {"threads": threads} if threads else {}
    if spill:
        config |= {"memory_limit": spill[0], "temp_directory": spill[1]}
    con = duckdb.connect(config=config)
    con.execute(sql_text("marts/macros"))
    for name, relation in relations.items():
        if isinstance(relation, Path):
            con.read_parquet(str(relation)).create_view(name)
        else:
            con.register(name, relation)
    return con


def query(model: str, params: dict | None = None, *, threads: int | None = None,
          **relations: Relation) -> pd.DataFrame:
    """Run `pipeline/sql/<model>.sql` in an in-memory DuckDB over the given relations
    (frames, Arrow tables or Parquet files), with `params` bound to its `$name`
    placeholders (values are never pasted into SQL).

    Steps compute with their own in-memory connection and hand results on as Parquet, so
    only the warehouse step ever opens the warehouse file for writing.
    """
    with _connect_over(relations, threads) as con:
        return con.execute(sql_text(model), params or None).df()


def query_arrow(model: str, params: dict | None = None, *, threads: int | None = None,
                memory_limit: str | None = None, **relations: Relation) -> pa.Table:
    """`query`, returning an Arrow table (no pandas conversion of large results).
    `memory_limit` (DuckDB's, e.g. "1200MB"): beyond it the query spills to a temporary
    folder of its own, removed after."""
    with contextlib.ExitStack() as stack:
        spill = None
        if memory_limit:
            spill = (memory_limit, stack.enter_context(
                tempfile.TemporaryDirectory(prefix="clubpress-duckdb-")))
        con = stack.enter_context(_connect_over(relations, threads, spill))
        # con.sql, not con.execute: DuckDB 2 copies a DB-API result's rows once more for Arrow
        return con.sql(sql_text(model), params=params or None).to_arrow_table()
