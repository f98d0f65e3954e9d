"""Staging: typed, normalised tables from raw export text, and the quarantine.

`stage` turns a `RawTable` into the rows that can be used and a quarantine entry for
every row that cannot (`row_quarantined`) and every optional value that had to be
blanked (`value_dropped`). It never drops anything silently:
`rows_read == rows_loaded + rows_quarantined` holds for every table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.lib.documents.glyphs import unprintable
from pipeline.lib.read.parse import (
    LUNAR_DATE_REASON,
    bad_value_reason,
    parse_column,
    parse_lunar_date,
    text_offsets,
)
from pipeline.lib.read.readers import (
    LINE_COLUMN,
    PROBLEM_COLUMN,
    ExportError,
    RawTable,
    find_export,
    load_mapping,
    read_export,
)
from pipeline.lib.read.schema import Column, Table

QUARANTINE_COLUMNS = ["table", "file", "line", "column", "value", "reason", "action"]
ROW_QUARANTINED = "row_quarantined"
VALUE_DROPPED = "value_dropped"
COLUMN_IGNORED = "column_ignored"
MAX_VALUE_CHARS = 200  # of a value quoted in the quarantine
MAX_TEXT_CHARS = 10_000  # longer values are not data a letter or a table can hold
CONTROL_RE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # NUL and friends; not tab or line breaks
# What a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`);
# `-60`, `+86 138...` and a lone `-` are not formulas.
FORMULA_RE = r"^\s*(?:=|[+\-@]\s*[A-Za-z_][\w.]*\s*[(|!])"
FORMULA_KINDS = ("text", "id")
# Columns printed on letters and print newsletters: a character no letter font has
# would print as an empty box, so such a value is screened out like the ones above.
PRINTED_COLUMNS = {"members": ("name", "province", "city", "district", "address")}
SOURCE_COLUMNS = ["source_file", "source_line"]
DEFAULT_CONSENT = {"consent_post": True, "consent_email": False, "consent_sms": False}
DEFAULT_FALSE = ("birth_lunar_leap", "do_not_contact", "deceased")


@dataclass
class Staged:
    """One table after staging: the usable rows, the quarantine and the counts."""

    table: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    source: str | None  # file name, None when the export has no such file
    encoding: str | None = None
    seconds: float = 0.0  # time taken to read and stage
    loaded: int | None = None  # rows loaded, when `frame` was not read back (summary only)

    @property
    def rows_loaded(self) -> int:
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


class _Problems:
    """Collects quarantine entries as arrays, one block per rule."""

    def __init__(self, raw: RawTable):
        self.raw = raw
        self.blocks: list[pd.DataFrame] = []
        self.quarantined = pd.Series(False, index=raw.frame.index)

    def _header(self, column: str | None) -> str | None:
        return self.raw.headers.get(column, column) if column else None

    def add(self, mask: pd.Series, column: str | None, values, reason, action: str) -> None:
        if action == ROW_QUARANTINED:
            mask = mask & ~self.quarantined  # one entry per row: the first reason found
            self.quarantined |= mask
        if not mask.any():
            return
        lines = self.raw.frame.loc[mask, LINE_COLUMN]
        count = len(lines)
        if isinstance(values, pd.Series):
            values = values[mask].astype("string").str.slice(0, MAX_VALUE_CHARS)
            values = values.str.replace(CONTROL_RE, "\ufffd", regex=True)  # keep tables readable
        else:
            values = [values] * count
        if isinstance(reason, pd.Series):
            reason = reason[mask].astype("string")
        else:
            reason = [reason] * count
        self.blocks.append(
            pd.DataFrame(
                {
                    "table": self.raw.table.name,
                    "file": self.raw.path.name,
                    "line": lines.to_numpy(),
                    "column": self._header(column),
                    "value": pd.Series(values, dtype="string").to_numpy(),
                    "reason": pd.Series(reason, dtype="string").to_numpy(),
                    "action": action,
                }
            )
        )

    def retract(self, mask: pd.Series, column: str) -> None:
        """Withdraw value_dropped entries of `column` on these rows (re-judged differently)."""
        header, lines = self._header(column), set(self.raw.frame.loc[mask, LINE_COLUMN])
        self.blocks = [
            block[~((block["column"] == header) & (block["action"] == VALUE_DROPPED)
                    & block["line"].isin(lines))]
            for block in self.blocks
        ]

    def ignored_headers(self) -> None:
        for position, header, why in self.raw.ignored_headers:
            self.blocks.append(
                pd.DataFrame(
                    {
                        "table": [self.raw.table.name],
                        "file": [self.raw.path.name],
                        "line": [1],
                        "column": [header or f"column {position + 1}"],
                        "value": [header],
                        "reason": [f"header ignored: {why}"],
                        "action": [COLUMN_IGNORED],
                    }
                )
            )

    def frame(self) -> pd.DataFrame:
        if not self.blocks:
            return empty_quarantine()
        result = pd.concat(self.blocks, ignore_index=True).astype(empty_quarantine().dtypes)
        return result.sort_values(["line", "action"], kind="stable", ignore_index=True)


def stage(
    raw: RawTable, known_members: pd.Index | None = None, as_of: date | None = None
) -> Staged:
    """Type, normalise and check one table; see the module docstring.

    `known_members` are the loaded member ids (for tables that refer to members);
    `as_of` is the data cut-off: a birth date after it is dropped.
    """
    table = raw.table
    problems = _Problems(raw)
    problems.ignored_headers()
    problems.add(raw.frame[PROBLEM_COLUMN].notna(), None, "", raw.frame[PROBLEM_COLUMN],
                 ROW_QUARANTINED)
    frame = _screen_values(raw, problems)

    staged: dict[str, pd.Series] = {}
    for column in table.columns:
        staged[column.staged_name] = _stage_column(frame, column, problems, as_of)
    if table.name == "members":
        staged.update(_stage_lunar_births(frame, staged, problems))
    _check_one_of(table, staged, problems)
    _check_key(table, frame, staged, problems)
    if table.member_ref and known_members is not None:
        staged.update(_check_member_ref(table, staged, known_members, problems))

    # Positions of the rows kept, taken from each column's array: selecting by a mask
    # through pandas' index costs seconds on seven million rows.
    keep = np.flatnonzero(~problems.quarantined.to_numpy())
    result = pd.DataFrame({name: values.array.take(keep) for name, values in staged.items()})
    if table.extra_columns:
        result["extra"] = _extra_json(frame.iloc[keep]).array
    result["source_line"] = frame[LINE_COLUMN].to_numpy()[keep].astype("int64")
    result = _apply_defaults(table, result)
    dropped = problems.frame()
    dropped = dropped[
        (dropped["action"] != VALUE_DROPPED) | ~dropped["line"].isin(_quarantined_lines(dropped))
    ]
    return Staged(
        table.name, result, dropped.reset_index(drop=True), len(frame), raw.path.name, raw.encoding
    )


def _screen_values(raw: RawTable, problems: _Problems) -> pd.DataFrame:
    """Blank values no document or table should carry, before any parsing.

    Control characters (a NUL byte is a damaged export), text longer than
    MAX_TEXT_CHARS and spreadsheet formulas in text columns. In a required column
    the row is quarantined; elsewhere the value is dropped and the row kept.
    """
    frame = raw.frame
    screened = {}
    for name in frame.columns:
        if name in (LINE_COLUMN, PROBLEM_COLUMN):
            continue
        column = raw.table.column(name) if not name.startswith("extra:") else None
        kind = column.kind if column else "text"
        label = column.name if column else name.removeprefix("extra:")
        bad_rows = pd.Series(False, index=frame.index)
        printed = name in PRINTED_COLUMNS.get(raw.table.name, ())
        for mask, why in _hostile(frame[name], kind, printed):
            action = ROW_QUARANTINED if column and column.required else VALUE_DROPPED
            problems.add(mask & ~bad_rows, name, frame[name], f"{label}: {why}", action)
            bad_rows |= mask
        if bad_rows.any():
            screened[name] = frame[name].mask(bad_rows, "")
    return frame.assign(**screened) if screened else frame


def _hostile(values: pd.Series, kind: str, printed: bool = False):
    """(mask, reason) for each kind of value that is screened out.

    Each test runs only on columns that a look at the bytes flags (a value can be too
    long only if it has that many bytes; a formula needs one of `=+-@`), so a clean
    million-row export pays for a few memchr passes per column.
    """
    text = pa.chunked_array(pa.array(values.array)).cast(pa.large_string())
    if _most_bytes(text) > MAX_TEXT_CHARS:  # never fewer bytes than characters
        too_long = pc.greater(pc.utf8_length(text), MAX_TEXT_CHARS)
        yield _mask(too_long, values), f"longer than {MAX_TEXT_CHARS:,} characters"
    if _has_bytes(text, _CONTROL_BYTES):
        control = pc.match_substring_regex(text, CONTROL_RE)
        yield _mask(control, values), "holds control characters such as NUL bytes (a damaged export)"
    if kind in FORMULA_KINDS and _has_bytes(text, _FORMULA_BYTES):
        first = pc.utf8_slice_codeunits(pc.utf8_ltrim_whitespace(text), 0, 1)
        if pc.any(pc.is_in(first, value_set=pa.array(list("=+-@"), pa.large_string()))).as_py():
            formula = pc.match_substring_regex(text, FORMULA_RE)
            yield _mask(formula, values), "looks like a spreadsheet formula, not a value"
    if printed:
        missing = unprintable([_joined(pc.unique(text).drop_null())])
        for char in sorted(missing):  # one reason per character: rows name their own
            found = pc.match_substring(text, char)
            yield _mask(found, values), (f"has the character U+{ord(char):04X} that no "
                                         "letter font can print (it would print as a box)")


# Bytes 0x00-0x1f (but tab and line breaks) and 0x7f; UTF-8 never uses them (nor the
# ASCII formula signs) inside a multi-byte character.
_CONTROL_BYTES = [bytes([b]) for b in (*range(9), 11, 12, *range(14, 32), 127)]
_FORMULA_BYTES = [sign.encode() for sign in "=+-@"]


def _has_bytes(text: pa.ChunkedArray, wanted: list[bytes]) -> bool:
    """Whether any of `wanted` occurs in the column's UTF-8 data (a memchr pass each)."""
    for chunk in text.chunks:
        data = chunk.buffers()[2]
        if data is not None:
            raw = data.to_pybytes()
            if any(byte in raw for byte in wanted):
                return True
    return False


def _most_bytes(text: pa.ChunkedArray) -> int:
    """The byte length of the column's longest value (from the offsets alone)."""
    longest = 0
    for chunk in text.chunks:
        if len(chunk):
            lengths = np.diff(text_offsets(chunk))
            longest = max(longest, int(lengths.max()))
    return longest


def _joined(text: pa.Array) -> str:
    """Every value of a text array without nulls as one string, decoded from its data
    buffer at once (not a Python string per value)."""
    data = text.buffers()[2]
    if data is None or len(text) == 0:
        return ""
    offsets = text_offsets(text)
    return memoryview(data)[offsets[0] : offsets[-1]].tobytes().decode("utf-8")


def _mask(found: pa.Array, values: pd.Series) -> pd.Series:
    return pd.Series(pc.fill_null(found, False).to_numpy(zero_copy_only=False), index=values.index)


def _quarantined_lines(quarantine: pd.DataFrame) -> pd.Series:
    return quarantine.loc[quarantine["action"] == ROW_QUARANTINED, "line"]


def _stage_column(
    frame: pd.DataFrame, column: Column, problems: _Problems, as_of: date | None
) -> pd.Series:
    if column.name not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype=_STAGED_DTYPES[column.kind])
    raw = frame[column.name]
    parsed = parse_column(raw, column.kind, column.name, column.choices)
    reason = bad_value_reason(column.kind, column.name, column.choices)
    if column.required:
        missing = parsed.values.isna() & ~parsed.bad
        problems.add(missing, column.name, raw, f"{column.name}: required value is blank", ROW_QUARANTINED)
        problems.add(parsed.bad, column.name, raw, reason, ROW_QUARANTINED)
    else:
        problems.add(parsed.bad, column.name, raw, reason, VALUE_DROPPED)
    values = parsed.values
    if column.name == "birth_date" and as_of is not None:
        values = _drop_future_births(frame, values, problems, as_of)
    return values.astype(_STAGED_DTYPES[column.kind])


def _stage_lunar_births(frame: pd.DataFrame, staged: dict, problems: _Problems) -> dict:
    """Lunar birth dates are read as lunar dates, not Gregorian ones.

    `birth_date` becomes the Gregorian day of birth and `birth_lunar` keeps the lunar
    date as written (`YYYY-MM-DD` text, since `1990-02-30` is a valid lunar date).
    """
    lunar = (staged["birth_calendar"] == "lunar").fillna(False).astype(bool)
    birth_lunar = pd.Series(pd.NA, index=frame.index, dtype="string")
    if not lunar.any() or "birth_date" not in frame:
        return {"birth_lunar": birth_lunar}
    problems.retract(lunar, "birth_date")
    parsed, lunar_text = parse_lunar_date(
        frame.loc[lunar, "birth_date"], staged["is_birth_lunar_leap"][lunar]
    )
    problems.add(parsed.bad.reindex(frame.index, fill_value=False), "birth_date",
                 frame["birth_date"], LUNAR_DATE_REASON, VALUE_DROPPED)
    birth_date = staged["birth_date"].copy()
    birth_date[lunar] = parsed.values
    birth_lunar[lunar] = lunar_text
    return {"birth_date": birth_date, "birth_lunar": birth_lunar}


def _drop_future_births(
    frame: pd.DataFrame, values: pd.Series, problems: _Problems, as_of: date
) -> pd.Series:
    """A birth date after the data cut-off cannot be right."""
    future = values.notna() & (values > pd.Timestamp(as_of))
    reason = f"birth_date: after the data cut-off {as_of.isoformat()}"
    problems.add(future, "birth_date", frame["birth_date"], reason, VALUE_DROPPED)
    return values.mask(future)


def _check_key(table: Table, frame: pd.DataFrame, staged: dict, problems: _Problems) -> None:
    """Duplicate keys after the first usable row are quarantined, naming the first line."""
    if table.key is None:
        return
    key = staged[table.key].where(~problems.quarantined)
    duplicated = key.notna() & key.duplicated(keep="first")
    if not duplicated.any():
        return
    first_lines = (
        pd.DataFrame({"key": key, "line": frame[LINE_COLUMN]})
        .dropna()
        .drop_duplicates("key")
        .set_index("key")["line"]
    )
    reason = (
        f"{table.key}: duplicate of line "
        + key[duplicated].map(first_lines).astype("Int64").astype("string")
        + " (the first is kept)"
    )
    problems.add(duplicated, table.key, frame[table.key], reason.reindex(key.index), ROW_QUARANTINED)


def _check_one_of(table: Table, staged: dict, problems: _Problems) -> None:
    """A row that fills none of `table.one_of` (a return naming neither the piece nor
    the member) cannot be used."""
    if not table.one_of:
        return
    blank = pd.concat([staged[name].isna() for name in table.one_of], axis=1).all(axis=1)
    reason = f"{' or '.join(table.one_of)}: required, all blank"
    problems.add(blank, table.one_of[0], "", reason, ROW_QUARANTINED)


def _check_member_ref(
    table: Table, staged: dict, known_members: pd.Index, problems: _Problems
) -> dict[str, pd.Series]:
    """Rows must name a loaded member, except where the table allows unknown members."""
    member = staged[table.member_ref]
    known = is_in(member, known_members)
    if table.member_ref_optional:
        return {"is_known_member": known}
    unknown = member.notna() & ~known
    reason = f"{table.member_ref}: not a loaded member"
    problems.add(unknown, table.member_ref, member, reason, ROW_QUARANTINED)
    return {}


def is_in(values: pd.Series, allowed: pd.Index) -> pd.Series:
    """Membership test in Arrow's hash kernel (pandas' isin on Arrow strings is slow)."""
    found = pc.is_in(
        pa.array(values.astype("string[pyarrow]").array).cast(pa.large_string()),
        value_set=pa.array(allowed.astype("string[pyarrow]").array).cast(pa.large_string()),
    )
    return pd.Series(pc.fill_null(found, False).to_numpy(zero_copy_only=False), index=values.index)


def _extra_json(frame: pd.DataFrame) -> pd.Series:
    """Unknown member columns as one JSON object per row, for `member.extra[...]`.

    Each distinct value is encoded once and the objects are assembled by string
    concatenation, so a million members cost a handful of vectorised operations.
    """
    extra = [c for c in frame.columns if c.startswith("extra:")]
    result = pd.Series("{", index=frame.index, dtype="string[pyarrow]")
    for number, column in enumerate(extra):
        values = frame[column].fillna("").astype("string[pyarrow]")
        encoded = {v: json.dumps(v, ensure_ascii=False) for v in values.unique()}
        key = json.dumps(column.removeprefix("extra:"), ensure_ascii=False)
        separator = ", " if number else ""
        result = result + f"{separator}{key}: " + values.map(encoded).astype("string[pyarrow]")
    return (result + "}").astype("string")


def _apply_defaults(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Contract defaults: solar calendar, zh-CN, post consent unless refused, flags false."""
    if table.name != "members":
        return frame
    frame["birth_calendar"] = frame["birth_calendar"].fillna("solar")
    frame["language"] = frame["language"].fillna("zh-CN")
    for name, default in DEFAULT_CONSENT.items():
        column = table.column(name).staged_name
        frame[column] = frame[column].fillna(default).astype(bool)
    for name in DEFAULT_FALSE:
        column = table.column(name).staged_name
        frame[column] = frame[column].fillna(False).astype(bool)
    frame["salutation"] = frame["gender"].map({"M": "mr", "F": "ms"}).fillna("neutral")
    return frame


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
) -> Staged:
    """Find, read and stage one table of an exports folder (`ExportError` if unusable)."""
    mapping = load_mapping(exports).get(table.name)
    path = find_export(exports, table, mapping)
    if path is None:
        if table.required_file:
            raise ExportError(f"{exports}: no {table.name} export (expected {table.name}.csv or .xlsx)")
        return missing_table(table)
    return stage(read_export(path, table, mapping), known_members, as_of)
