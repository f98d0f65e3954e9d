"""Staging: typed, normalised tables from raw export text, and the quarantine.

`stage` hands a `RawTable` (the reader's text columns with physical line numbers) to
DuckDB, where `sql/staging/stg_<table>.sql` casts and normalises every value and flags
every row that cannot be used (`row_quarantined`) and every optional value that had to
be blanked (`value_dropped`); `duplicate_ids.sql` and `unknown_members.sql` then flag
the rows whose id came earlier or whose member is not loaded, and `quarantine.sql`
turns the flags into the quarantine. Nothing is dropped silently: `rows_read ==
rows_loaded + rows_quarantined` holds for every table. Python supplies what SQL cannot
do well (`parse.py`: phone numbers, lunar dates, synonym tables; the letter fonts'
coverage, for printed columns).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.lib.documents.glyphs import unprintable
from pipeline.lib.read import parse
from pipeline.lib.read.readers import (
    LINE_COLUMN,
    PROBLEM_COLUMN,
    ExportError,
    RawTable,
    find_export,
    load_mapping,
    read_export,
)
from pipeline.lib.read.schema import TABLES, Table
from pipeline.lib.read.screen import careful_rows, distinct_characters
from pipeline.lib.warehouse import sql_text

QUARANTINE_COLUMNS = ["table", "file", "line", "column", "value", "reason", "action"]
ROW_QUARANTINED = "row_quarantined"
VALUE_DROPPED = "value_dropped"
COLUMN_IGNORED = "column_ignored"
# Columns printed on letters and print newsletters: a character no letter font has
# would print as an empty box, so such a value is screened out (`hostile` in macros.sql).
PRINTED_COLUMNS = {"members": ("name", "province", "city", "district", "address")}
SOURCE_COLUMNS = ["source_file", "source_line"]


@dataclass
class Staged:
    """One table after staging: the usable rows, the quarantine and the counts.

    The rows are a frame, or (`rows_file`) the Parquet file DuckDB wrote them to, read
    into `frame` only when something asks for it: an ingest step hands the file on as it
    is, without holding seven million rows in Python.
    """

    table: str
    _frame: pd.DataFrame | None
    quarantine: pd.DataFrame
    rows_read: int
    source: str | None  # file name, None when the export has no such file
    encoding: str | None = None
    seconds: float = 0.0  # time taken to read and stage
    loaded: int | None = None  # rows loaded, when `frame` was not read back (summary only)
    rows_file: Path | None = None  # the rows as DuckDB wrote them, when `_frame` is None

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = read_rows(self.rows_file, self.table)
        return self._frame

    @property
    def rows_loaded(self) -> int:
        if self._frame is None and self.loaded is None and self.rows_file is not None:
            return pq.ParquetFile(self.rows_file).metadata.num_rows  # without reading rows
        return len(self.frame) if self.loaded is None else self.loaded

    @property
    def rows_quarantined(self) -> int:
        rows = self.quarantine[self.quarantine["action"] == ROW_QUARANTINED]
        return int(rows["line"].nunique())

    def reconciliation(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
        }


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.Series([], dtype="string"),
            "file": pd.Series([], dtype="string"),
            "line": pd.Series([], dtype="int64"),
            "column": pd.Series([], dtype="string"),
            "value": pd.Series([], dtype="string"),
            "reason": pd.Series([], dtype="string"),
            "action": pd.Series([], dtype="string"),
        }
    )


def empty_staged_frame(table: Table) -> pd.DataFrame:
    """The staged columns with no rows, for an optional export that is absent."""
    columns = {c.staged_name: pd.Series([], dtype=_STAGED_DTYPES[c.kind]) for c in table.columns}
    if table.extra_columns:
        columns["extra"] = pd.Series([], dtype="string")
    if table.name == "members":
        columns["birth_lunar"] = pd.Series([], dtype="string")
    if table.member_ref_optional:
        columns["is_known_member"] = pd.Series([], dtype="bool")
    columns["source_line"] = pd.Series([], dtype="int64")
    return pd.DataFrame(columns)


_STAGED_DTYPES = {
    "text": "string", "id": "string", "enum": "string", "gender": "string",
    "email": "string", "phone": "string", "postcode": "string",
    "date": "datetime64[us]", "timestamp": "datetime64[us]",
    "bool": "boolean", "money": "Float64", "int": "Int64",
}


# The members model's problems of unknown columns (`extra_problems`); other tables have none.
_EXTRA_PROBLEMS = "struct(column_name varchar, reason varchar)[]"
REASON_COLUMN = re.compile(r"q\d[rv]_")  # a model's reason column: q<stage><r|v>_<column>


def staging_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the staging macros, `e164` and `lunar_solar` (Python
    functions, called once per distinct value) and the `synonyms` table."""
    con = duckdb.connect()
    con.execute(sql_text("staging/macros"))
    con.create_function("e164", _e164, ["VARCHAR"], "VARCHAR", null_handling="special")
    con.create_function("lunar_solar", _lunar_solar, ["INTEGER"] * 3 + ["BOOLEAN"], "DATE",
                        null_handling="special")
    con.register("synonyms", parse.synonyms())
    return con


def _e164(number: str | None) -> str | None:
    return None if number is None else parse.e164(number)


def _lunar_solar(year, month, day, is_leap) -> date | None:
    if year is None or month is None or day is None:
        return None
    return parse.lunar_birth(year, month, day, bool(is_leap))


def stage(
    raw: RawTable, known_members: pd.Index | None = None, as_of: date | None = None,
    rows_file: Path | None = None,
) -> Staged:
    """Type, normalise and check one table; see the module docstring.

    `known_members` are the loaded member ids (for tables that refer to members);
    `as_of` is the data cut-off: a birth date after it is dropped. With `rows_file`,
    DuckDB writes the usable rows there as Parquet (`read_rows` reads them back).
    `raw` is consumed: its text is released once the quarantine is taken, before the
    rows are written, so the two largest buffers never meet.
    """
    table = raw.table
    known = pa.array([] if known_members is None else known_members.astype(str), pa.string())
    params: dict = {}
    if table.name == "members":
        params |= {"as_of": as_of, "unprintable": _unprintable(raw)}
    rows_read, source, encoding = raw.rows_read, raw.path.name, raw.encoding
    ignored, headers = _ignored_headers(raw), _columns(raw)
    text = _raw_relation(raw)
    raw.release()  # `text` shares its characters; the frame's 64-bit offsets go
    with staging_connection() as con:
        con.register("raw", text)
        con.register("columns", headers)
        con.register("known_members", pa.table({"member_id": known}))
        model = sql_text(f"staging/stg_{table.name}")
        reasons = [c for c in con.sql(model, params=params or None).columns
                   if REASON_COLUMN.match(c)]
        con.execute(f"create temp table checked as {_with_reasons_text(model, reasons)}", params)
        if table.key is not None:
            con.execute("create temp view ids as select source_line, is_quarantined, "
                        f"{table.key} as id from checked")
            con.execute(sql_text("staging/duplicate_ids"),
                        {"reason": f"q5r_{table.key}", "key": table.key})
        if table.member_ref and not table.member_ref_optional and known_members is not None:
            con.execute(sql_text("staging/unknown_members"))
        # What quarantine.sql reads: the rows with a problem (the others have none to
        # report, and reading their reasons cost 0.5 s for 7 million transactions), the
        # reasons as columns again, and the columns this table's model has none of, as a
        # view (altering a table of millions of rows would copy it, and lose its order).
        columns = [f"reasons ->> '{name}' as {name}" for name in reasons]
        problems = "reasons is not null"
        if table.extra_columns:
            problems += " or len(extra_problems) > 0"
        else:
            columns.append(f"[]::{_EXTRA_PROBLEMS} as extra_problems")
        if "member_id" not in {c.name for c in table.columns}:  # quoted for unknown members
            columns.append("null::varchar as member_id")
        con.execute("create temp view staged as select * exclude (reasons), "
                    + ", ".join(columns) + f" from checked where {problems}")
        # ... and the export's text of those rows only: quarantine.sql quotes their values,
        # and finding a few lines among all of them in DuckDB read every column of every
        # row (0.4 s of CPU for 7 million transactions, against 0.03 s here).
        lines = con.sql("select source_line from staged").to_arrow_table()["source_line"]
        con.unregister("raw")
        con.register("raw", text.filter(pc.is_in(text["_line"], value_set=lines)))
        quarantine = con.execute(sql_text("staging/quarantine"),
                                 {"table": table.name, "file": source}).df()
        con.unregister("raw")
        del text
        pa.default_memory_pool().release_unused()  # the text, before the rows are written
        rows = ("select * exclude (is_quarantined, reasons"
                + (", extra_problems" if table.extra_columns else "") + ") "
                "from checked where not is_quarantined"
                + ("" if _in_file_order(con) else " order by source_line"))
        frame = None
        if rows_file is None:
            frame = _typed(con.sql(rows).to_arrow_table(), table)
        else:
            _write_parquet(con, rows, rows_file)
    quarantine = pd.concat([ignored, quarantine.astype(empty_quarantine().dtypes)],
                           ignore_index=True)
    return Staged(table.name, frame, quarantine, rows_read, source, encoding,
                  rows_file=rows_file)


# Values a Parquet column chunk may hold in a dictionary before the writer falls back to
# writing them plainly. DuckDB's default collects far more before it gives up on a column
# of ids: writing 7 million transactions took 2.05 s, against 1.7 s with this limit, and
# the file is the same size (the ids, amounts and times are written plainly either way).
_DICTIONARY_SIZE_LIMIT = 1000


def _write_parquet(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """The rows of `query` as a Parquet file at `path` (our own file in the work folder)."""
    target = str(path).replace("'", "''")
    con.execute(f"copy ({query}) to '{target}' "
                f"(format parquet, dictionary_size_limit {_DICTIONARY_SIZE_LIMIT})")


def _with_reasons_text(model: str, reasons: list[str]) -> str:
    """A stg_<table> model's rows with its q<stage><r|v>_<column> reasons folded into one
    JSON text, `reasons`, which is NULL for a row without a problem. DuckDB keeps a table
    of the rows in memory, uncompressed, and eleven reason columns that are almost all
    blank took 400 MB for 7 million transactions, a third of the table; one blank text
    per row takes a tenth of that."""
    names = ", ".join(reasons)
    return (f"select * exclude ({names}), case when coalesce({names}) is not null "
            f"then to_json(struct_pack({names})) end as reasons from ({model})")


def _in_file_order(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `checked` holds its rows in file order already. A model without joins or
    windows keeps the reader's order (DuckDB preserves insertion order), and skipping the
    sort saves a large table (7 million transactions) seconds and a copy in memory."""
    lines = con.sql("select source_line from checked").fetchnumpy()["source_line"]
    return bool(np.all(lines[1:] > lines[:-1]))


def read_rows(path: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Staged rows from their Parquet file (written by `stage` or by pandas), in the
    staged frame's dtypes."""
    return _typed(pq.read_table(path, columns=columns), TABLES[table])


def _typed(rows: pa.Table, table: Table) -> pd.DataFrame:
    frame = rows.to_pandas(types_mapper=_pandas_type)
    return frame.astype({name: dtype for name, dtype in _staged_dtypes(table).items()
                         if name in frame})


def _raw_relation(raw: RawTable) -> pa.Table:
    """The export's text by canonical column name (NULL columns for the ones the file
    lacks), `_line`, `_problem`, `_extra`: each row's unknown columns (members only) as a
    list of (column_name, value), and `_plain`: nothing in the row's columns to screen or
    normalise (`screen.careful_rows`). Text columns share the frame's characters, with
    32-bit offsets (`_narrow`)."""
    frame = raw.frame
    columns = {}
    for column in raw.table.columns:
        if column.name in frame:
            columns[column.name] = _narrow(pa.array(frame[column.name].array, pa.large_string()))
        else:
            columns[column.name] = pa.nulls(len(frame), pa.string())
    columns["_plain"] = pa.array(~careful_rows(list(columns.values()), len(frame)))
    columns["_line"] = pa.array(frame[LINE_COLUMN].to_numpy(), pa.int64())
    columns["_problem"] = _narrow(pa.array(frame[PROBLEM_COLUMN].array, pa.large_string()))
    columns["_extra"] = _extra_lists(frame)  # empty lists but for members
    return pa.table(columns)


def _narrow(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Text with 32-bit offsets, sharing the characters: pandas holds text with 64-bit
    offsets, 8 bytes a value, which for seven million rows of seven columns is 400 MB.
    Text of 2 GiB or more in one chunk keeps its 64-bit offsets."""
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    if any(chunk.buffers()[2] is not None and chunk.buffers()[2].size >= 2**31 - 1
           for chunk in chunks):
        return text
    return text.cast(pa.string())


def _extra_lists(frame: pd.DataFrame) -> pa.Array:
    """Each row's unknown columns as a list of {column_name, value}, in file order."""
    extra = [c for c in frame.columns if c.startswith("extra:")]
    rows, width = len(frame), len(extra)
    cells = pa.chunked_array([chunk for c in extra for chunk in _chunks(frame[c])],
                             pa.large_string())
    # Row-major: row 0's columns, then row 1's (the concatenation is column-major).
    order = (np.arange(width)[None, :] * rows + np.arange(rows)[:, None]).ravel()
    names = pa.array(np.tile(np.array(extra, dtype=object), rows), pa.large_string())
    cells = pa.StructArray.from_arrays([names, cells.take(order).combine_chunks()],
                                       names=["column_name", "value"])
    offsets = np.arange(rows + 1, dtype=np.int32) * width
    return pa.ListArray.from_arrays(pa.array(offsets), cells)


def _chunks(values: pd.Series) -> list[pa.Array]:
    """A text column's Arrow chunks (a large export's column has several)."""
    text = pa.array(values.array, pa.large_string())
    return text.chunks if isinstance(text, pa.ChunkedArray) else [text]


def _columns(raw: RawTable) -> pa.Table:
    """Each column of the raw relation: its header as written, its position in the file
    (hostile values are reported in that order) and in the schema (parsed values are)."""
    schema_index = {c.name: i for i, c in enumerate(raw.table.columns)}
    names = [c for c in raw.frame.columns if c not in (LINE_COLUMN, PROBLEM_COLUMN)]
    return pa.table({
        "name": pa.array(names, pa.string()),
        "header": pa.array([raw.headers.get(n, n) for n in names], pa.string()),
        "position": pa.array(range(len(names)), pa.int64()),
        "schema_index": pa.array([schema_index.get(n, len(schema_index)) for n in names],
                                 pa.int64()),
    })


def _unprintable(raw: RawTable) -> list[str]:
    """The characters of the printed columns that no letter font has, sorted (the first
    one a value holds is named in its reason)."""
    printed = [c for c in PRINTED_COLUMNS.get(raw.table.name, ()) if c in raw.frame]
    if not printed:
        return []
    columns = [pa.array(raw.frame[name].array, pa.large_string()) for name in printed]
    return sorted(unprintable([distinct_characters(columns)]))


def _ignored_headers(raw: RawTable) -> pd.DataFrame:
    """A `column_ignored` entry (line 1) for each header the reader could not use."""
    ignored = raw.ignored_headers
    return pd.DataFrame({
        "table": [raw.table.name] * len(ignored),
        "file": [raw.path.name] * len(ignored),
        "line": [1] * len(ignored),
        "column": [header or f"column {position + 1}" for position, header, _ in ignored],
        "value": [header for _, header, _ in ignored],
        "reason": [f"header ignored: {why}" for _, _, why in ignored],
        "action": [COLUMN_IGNORED] * len(ignored),
    }).astype(empty_quarantine().dtypes)


def _pandas_type(arrow_type: pa.DataType):
    if arrow_type in (pa.large_string(), pa.string()):
        return pd.StringDtype("pyarrow")
    return None


def _staged_dtypes(table: Table) -> dict[str, str]:
    """The pandas dtypes of the staged frame (those of `empty_staged_frame`, and the
    members' contract defaults, which are never blank)."""
    dtypes = dict(empty_staged_frame(table).dtypes.astype(str))
    if table.name == "members":
        for column in ("has_consent_post", "has_consent_email", "has_consent_sms",
                       "is_birth_lunar_leap", "is_do_not_contact", "is_deceased"):
            dtypes[column] = "bool"
        dtypes["salutation"] = "string"
    return dtypes


def missing_table(table: Table) -> Staged:
    """An optional export that is not in the folder: no rows, nothing to quarantine."""
    return Staged(table.name, empty_staged_frame(table), empty_quarantine(), 0, None)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()




def ingest_table(
    exports: Path,
    table: Table,
    known_members: pd.Index | None = None,
    as_of: date | None = None,
    rows_file: Path | None = None,
) -> Staged:
    """Find, read and stage one table of an exports folder (`ExportError` if unusable);
    `rows_file`: see `stage`."""
    mapping = load_mapping(exports).get(table.name)
    path = find_export(exports, table, mapping)
    if path is None:
        if table.required_file:
            raise ExportError(f"{exports}: no {table.name} export (expected {table.name}.csv or .xlsx)")
        return missing_table(table)
    return stage(read_export(path, table, mapping), known_members, as_of, rows_file)


def normalise_ids(values: pd.Series) -> pd.Series:
    """Ids as staging reads them (`norm` in sql/staging/macros.sql: half-width, trimmed,
    blank is missing), for matching ids written elsewhere against staged ones."""
    with staging_connection() as con:
        con.register("ids", pa.table({"id": pa.array(values.astype("string").array,
                                                     pa.large_string())}))
        ids = con.sql("select norm(id) as id from ids").to_arrow_table()
    return pd.Series(ids.column("id").to_pandas(types_mapper=_pandas_type).array,
                     index=values.index, dtype="string")
