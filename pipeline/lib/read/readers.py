"""Reading export files: find them, detect the encoding, split records, keep line numbers.

A reader returns every record of a file as text, untouched, with the physical line on
which the record starts (the header is line 1), so every later problem can name the
line a user opens the file at. Nothing here judges values; staging does that.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

from pipeline.lib.read.schema import TABLES, Table

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
FILE_ALIASES = {
    "members": ("会员", "会员信息", "会员名单", "客户"),
    "transactions": ("交易", "交易记录", "消费记录", "订单"),
    "complaints": ("投诉", "投诉记录", "客诉"),
    "contacts": ("联系记录", "接触记录", "触达记录"),
    "events": ("活动", "俱乐部活动"),
    "returns": ("退件", "退信", "退件记录", "退回邮件"),
}
MAX_FIELD_CHARS = 64 * 1024 * 1024
CHUNK_ROWS = 200_000
LINE_COLUMN = "_line"
PROBLEM_COLUMN = "_problem"


class ExportError(Exception):
    """An export that cannot be used at all; the message names the file (and line)."""


@dataclass
class RawTable:
    """The records of one export file as text, with canonical column names."""

    table: Table
    path: Path
    encoding: str
    frame: pd.DataFrame  # canonical + extra columns as strings, `_line`, `_problem`
    headers: dict[str, str]  # column in `frame` -> header as written in the file
    ignored_headers: list[tuple[int, str, str]] = field(default_factory=list)  # (pos, header, why)

    @property
    def rows_read(self) -> int:
        return len(self.frame)

    def release(self) -> None:
        """Drop the frame, returning its memory to the system at once (Arrow's allocator
        would keep it for reuse): staging keeps the text it needs as Arrow, and for a
        large export the frame is the largest thing in memory."""
        self.frame = self.frame.iloc[:0]
        pa.default_memory_pool().release_unused()


# --- locating files -------------------------------------------------------------------


@dataclass(frozen=True)
class TableMapping:
    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header in file


def load_mapping(exports: Path) -> dict[str, TableMapping]:
    """Read `columns.yaml` in the exports folder, if any; errors name the key."""
    path = exports / "columns.yaml"
    if not path.exists():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ExportError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ExportError(f"{path}: expected a mapping of table names")
    mappings = {}
    for table_name, spec in document.items():
        if table_name not in TABLES:
            raise ExportError(
                f"{path}: unknown table {table_name!r} (expected one of {', '.join(TABLES)})"
            )
        spec = spec or {}
        unknown = set(spec) - {"file", "columns"}
        if unknown:
            raise ExportError(f"{path}: {table_name}: unknown key {sorted(unknown)[0]!r}")
        columns = spec.get("columns") or {}
        canonical = {c.name for c in TABLES[table_name].columns}
        for name in columns:
            if name not in canonical:
                raise ExportError(
                    f"{path}: {table_name}.columns: unknown column {name!r} "
                    f"(expected one of {', '.join(sorted(canonical))})"
                )
        mappings[table_name] = TableMapping(
            spec.get("file"), {k: str(v) for k, v in columns.items()}
        )
    return mappings


def find_export(exports: Path, table: Table, mapping: TableMapping | None) -> Path | None:
    """The file holding `table`, by the mapping, its canonical name or a Chinese name."""
    if mapping and mapping.file:
        path = exports / mapping.file
        if not path.is_file():
            raise ExportError(f"{path}: named in columns.yaml for {table.name} but not found")
        return path
    stems = {table.name, *FILE_ALIASES.get(table.name, ())}
    found = sorted(
        p
        for p in exports.iterdir()
        if p.is_file()
        and p.stem.lower() in stems
        and p.suffix.lower() in CSV_SUFFIXES + XLSX_SUFFIXES
    )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ExportError(f"{exports}: several files for {table.name}: {names}; keep one")
    return found[0] if found else None


# --- encodings ------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM or zero-byte pattern) or GB18030."""
    with path.open("rb") as handle:
        marked = _marked_encoding(handle.read(HEAD_BYTES))
    if marked is not None:
        return marked
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "gb18030"):
        _refuse_mixed_encodings(path)
        return "gb18030"
    _refuse_mixed_encodings(path)
    line = _first_undecodable_line(path, "utf-8")
    raise ExportError(
        f"{path}: line {line}: neither UTF-8 nor GBK/GB18030 text; save the export as UTF-8"
    )


HEAD_BYTES = 4096  # what a byte-order mark or UTF-16's zero bytes show in


def _marked_encoding(head: bytes) -> str | None:
    """The encoding the file's first HEAD_BYTES declare by a byte-order mark or show by
    UTF-16's zero bytes; None for the rest (UTF-8 or GB18030, told apart by decoding)."""
    head = head[:HEAD_BYTES]
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _zero_bytes_at(head, 1) > len(head) // 4 and _zero_bytes_at(head, 0) < len(head) // 16:
        return "utf-16-le"
    if _zero_bytes_at(head, 0) > len(head) // 4 and _zero_bytes_at(head, 1) < len(head) // 16:
        return "utf-16-be"
    return None


def _zero_bytes_at(head: bytes, parity: int) -> int:
    """Zero bytes at even (0) or odd (1) offsets: UTF-16 text has them on one side only;
    a file padded with NUL bytes has them on both, and is not UTF-16."""
    return head[parity::2].count(0) if len(head) >= 4 else 0


_UTF8_SYMBOLS = "¥·×÷°±"  # two-byte characters that Chinese UTF-8 exports do hold


def _line_encoding(line: bytes) -> str | None:
    """"UTF-8" or "GBK/GB18030" for one line of a file; None when it cannot tell.

    Many short GBK strings are also valid UTF-8 (two bytes C2-DF then A1-BF), mostly as
    Latin, Greek or Cyrillic letters; so a line counts as UTF-8 only when it holds CJK
    (three-byte) characters, no such two-byte letters, and is not plain GB2312 text,
    which real UTF-8 Chinese practically never is.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if (
        text is not None
        and max(map(ord, text)) >= 0x800
        and not any(0x80 <= ord(c) < 0x800 and c not in _UTF8_SYMBOLS for c in text)
        and not _decodes_bytes(line, "gb2312")
    ):
        return "UTF-8"
    if text is None and _decodes_bytes(line, "gb18030"):
        return "GBK/GB18030"
    return None


def _decodes_bytes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_mixed_encodings(path: Path) -> None:
    """Stop on a file whose lines are partly UTF-8 and partly GBK (two exports pasted
    together): decoded either way, some names would be silently garbled."""
    first: tuple[int, str] | None = None
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            label = _line_encoding(line)
            if label is None:
                continue
            if first is None:
                first = (number, label)
            elif label != first[1]:
                raise ExportError(
                    f"{path}: line {number}: {label} text, but line {first[0]} is "
                    f"{first[1]}: the file mixes encodings and names would be garbled; "
                    "save the export again in one encoding (UTF-8)"
                )


def _decodes(path: Path, encoding: str) -> bool:
    if encoding == "utf-8":
        return _valid_utf8(path)
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _valid_utf8(path: Path) -> bool:
    """Whether the whole file is UTF-8, checked by Arrow's validator on the memory-mapped
    bytes (ten times faster than Python's decoder on a 500 MB export)."""
    size = path.stat().st_size
    if size == 0:
        return True
    with pa.memory_map(str(path)) as source:
        data = source.read_buffer()
        offsets = pa.py_buffer(np.array([0, size], dtype=np.int64).tobytes())
        text = pa.LargeStringArray.from_buffers(1, offsets, data)
        try:
            text.validate(full=True)
        except pa.ArrowInvalid:
            return False
    return True


def _first_undecodable_line(path: Path, encoding: str) -> int:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return number
    return 1


# --- headers --------------------------------------------------------------------------


def _header_key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "_", header.strip().strip("\ufeff").lower())


def map_headers(
    headers: list[str], table: Table, mapping: TableMapping | None, path: Path
) -> tuple[dict[int, str], list[tuple[int, str, str]]]:
    """Column position -> canonical (or extra) name, and headers that were ignored."""
    lookup: dict[str, str] = {}
    for column in table.columns:
        for alias in (column.name, *column.aliases):
            lookup.setdefault(_header_key(alias), column.name)
    if mapping:
        for canonical, header in mapping.columns.items():
            lookup[_header_key(header)] = canonical
    positions: dict[int, str] = {}
    ignored: list[tuple[int, str, str]] = []
    taken: dict[str, int] = {}
    for position, header in enumerate(headers):
        key = _header_key(header)
        name = lookup.get(key)
        if name is None:
            if not key:
                ignored.append((position, header, "blank header"))
                continue
            if not table.extra_columns:
                ignored.append((position, header, "not a column of this table"))
                continue
            name = f"extra:{header.strip()}"
        if name in taken:
            first = headers[taken[name]]
            ignored.append((position, header, f"duplicate of column {taken[name] + 1} ({first})"))
            continue
        taken[name] = position
        positions[position] = name
    missing = [c for c in table.required_columns if c not in taken]
    if missing and any("\x00" in header for header in headers):
        raise ExportError(
            f"{path}: line 1: the header holds NUL bytes, so its columns cannot be found "
            "(the file is damaged or not a text export)"
        )
    if missing:
        names = ", ".join(
            f"{c} ({' / '.join(table.column(c).aliases) or c})" for c in missing
        )
        raise ExportError(f"{path}: line 1: missing required column {names}")
    return positions, ignored


# --- CSV ------------------------------------------------------------------------------


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _records(text: io.TextIOBase, delimiter: str, path: Path):
    """(start line, end line, fields, problem) per record; physical lines, so quoted
    line breaks count. `problem` is set for a last record cut off inside a quoted field.
    """
    consumed: list[str] = []  # the physical lines of the record being read

    def lines():
        for line in text:
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter, strict=False)
    previous = 0
    while True:
        consumed.clear()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ExportError(f"{path}: line {reader.line_num}: {error}") from error
        start, previous = previous + 1, reader.line_num
        if not fields:  # a blank line is not a record
            continue
        problem = None
        if "".join(consumed).count('"') % 2 and _ends_inside_quotes(consumed, delimiter):
            if previous > start:
                swallowed = (
                    f"line {previous}" if previous == start + 1 else f"lines {start + 1}-{previous}"
                )
                raise ExportError(
                    f"{path}: line {start}: a quoted field opens on this line and is not "
                    f"closed before the end of the file, so {swallowed} cannot be read as "
                    "records; close or remove the stray quote"
                )
            problem = "the line ends inside a quoted field (the file looks cut off here)"
        yield start, previous, fields, problem


def _ends_inside_quotes(lines: list[str], delimiter: str) -> bool:
    """Whether one record's text ends in an open quoted field (only the end of the file
    can do that; the lenient reader would silently take the rest as the field)."""
    try:
        for _ in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def read_csv(path: Path, table: Table, mapping: TableMapping | None) -> RawTable:
    """Arrow's multithreaded reader when the file is regular, else Python's csv module.

    Both give the same records and physical line numbers; the fast path declines (and
    the careful one runs) whenever a record does not have the header's field count or
    the record boundaries found by the line scan disagree with Arrow's.
    """
    tried = None
    if _starts_as_utf8(path):
        # Arrow checks every value is UTF-8 as it reads, so the whole-file check of
        # `detect_encoding` (0.4 s for 500 MB) is left for a file Arrow refuses.
        tried = "utf-8"
        try:
            fast = _read_csv_fast(path, tried, table, mapping)
        except UnicodeDecodeError:  # a header line past the first megabyte
            fast = None
        if fast is not None:
            return fast
    encoding = detect_encoding(path)
    # A UTF-8 file the fast path declined is not read by it twice.
    fast = None if encoding == tried else _read_csv_fast(path, encoding, table, mapping)
    return fast if fast is not None else _read_csv_careful(path, encoding, table, mapping)


def _starts_as_utf8(path: Path) -> bool:
    """Whether the file's first megabyte is UTF-8 and marks no other encoding (a
    byte-order mark, UTF-16's zero bytes): most likely a UTF-8 export (GBK text is
    seldom valid UTF-8 for long)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if _marked_encoding(head) is not None:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


FAST_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "gb18030": "gb18030"}
SCAN_CHUNK = 1 << 24


def record_start_lines(path: Path) -> np.ndarray:
    """Physical line (1-based) on which each non-blank CSV record starts."""
    return _scan_records(path)[0]


def _scan_records(path: Path) -> tuple[np.ndarray, bool]:
    """Record start lines, and whether the file's double quotes are balanced.

    Scans bytes: a newline ends a record when an even number of double quotes precedes
    it (quotes inside quoted fields are doubled, so they keep the parity). Valid for
    UTF-8 and GB18030, whose multi-byte sequences never contain `"` or a newline.
    An odd number of quotes in all means a stray quote or a file cut off inside a
    quoted field, which only the careful reader can report.
    """
    size = path.stat().st_size
    if size == 0:
        return np.zeros(0, np.int64), True
    end_pos, end_line, quotes_before, lines_before = [], [], 0, 0
    # Read into one buffer rather than mapping the file: a mapped file's pages count as
    # the process's memory, the size of the export.
    buffer = bytearray(SCAN_CHUNK)
    offset = 0
    with path.open("rb") as handle:
        while count := handle.readinto(buffer):
            chunk = np.frombuffer(buffer, np.uint8, count)
            quote_at = np.flatnonzero(chunk == 34)
            newline_at = np.flatnonzero(chunk == 10)
            # Quotes before each newline: a search among the (usually few) quotes.
            parity = (np.searchsorted(quote_at, newline_at) + quotes_before) & 1
            outside = parity == 0
            end_pos.append(newline_at[outside] + offset)
            end_line.append(np.arange(1, len(newline_at) + 1)[outside] + lines_before)
            quotes_before = (quotes_before + len(quote_at)) & 1
            lines_before += len(newline_at)
            offset += count
    ends = np.concatenate(end_pos)
    start_pos = np.concatenate([[0], ends + 1])
    start_line = np.concatenate([[1], np.concatenate(end_line) + 1])
    length = np.append(ends, size) - start_pos  # the last record may lack a newline
    blank = length == 0
    single = np.flatnonzero(length == 1)  # a lone carriage return is blank too
    if len(single):  # reads the pages of those records only
        blank[single] = np.memmap(path, dtype=np.uint8, mode="r")[start_pos[single]] == 13
    return start_line[~blank], quotes_before == 0


def _line_counts(path: Path) -> tuple[bool, int, bool]:
    """Whether the file holds a double quote; its lines (a last line without a newline
    counts); whether it holds a carriage return outside CR LF (Arrow and editors end a
    line there, the record scan does not). One read: half a second for 500 MB, most of
    it the reading."""
    quoted, newlines, lone_return, open_return, last = False, 0, False, False, 10
    buffer = bytearray(SCAN_CHUNK)
    with path.open("rb") as handle:
        while count := handle.readinto(buffer):
            data = np.frombuffer(buffer, np.uint8, count)
            line_end = data == 10
            newlines += int(np.count_nonzero(line_end))
            quoted = quoted or buffer.find(b'"', 0, count) >= 0
            lone_return = lone_return or (open_return and not line_end[0])
            if buffer.find(b"\r", 0, count) >= 0:  # CR LF files, and lone CRs
                returns = data == 13
                lone_return = lone_return or bool(np.any(returns[:-1] & ~line_end[1:]))
                open_return = bool(returns[-1])  # its LF, if any, starts the next chunk
            else:
                open_return = False
            last = data[-1]
    return quoted, newlines + int(last != 10), bool(lone_return or open_return)


def _read_csv_fast(path: Path, encoding: str, table: Table, mapping: TableMapping | None):
    if encoding not in FAST_ENCODINGS:
        return None
    with path.open(encoding=encoding, newline="") as text:
        first = text.readline()
    if not first.strip():
        raise ExportError(f"{path}: line 1: the file is empty (no header row)")
    delimiter = _sniff_delimiter(first)
    width = next(csv.reader([first], delimiter=delimiter)).__len__()
    names = [f"f{i}" for i in range(width)]
    invalid: list = []
    quoted, physical, lone_return = _line_counts(path)
    if lone_return:  # numbered as editors do, line by line, by the careful reader
        return None
    try:
        arrow = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, encoding=FAST_ENCODINGS[encoding], block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                # Without a quote in the file, no value holds a newline, and Arrow splits
                # records at twice the speed (1.2 s against 2.8 s for 7 million lines).
                newlines_in_values=quoted,
                invalid_row_handler=lambda row: invalid.append(row) or "skip",
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    # Without quotes and lone CRs a line is one record unless blank, which Arrow skips:
    # as many records as lines means none is blank.
    if not quoted and arrow.num_rows == physical:
        lines, balanced = np.arange(1, physical + 1, dtype=np.int64), True
    else:
        lines, balanced = _scan_records(path)
    if invalid or not balanced or arrow.num_rows != len(lines) or arrow.num_rows == 0:
        return None
    headers = [str(v) for v in arrow.slice(0, 1).to_pylist()[0].values()]
    headers[0] = headers[0].lstrip("\ufeff")
    positions, ignored = map_headers(headers, table, mapping, path)
    body = arrow.slice(1)
    columns = [body.column(p) for p in positions]
    columns += [pa.array(lines[1:], pa.int64()), pa.nulls(body.num_rows, pa.large_string())]
    frame = pa.table(columns, names=list(positions.values()) + [LINE_COLUMN, PROBLEM_COLUMN])
    frame = frame.to_pandas(types_mapper=_arrow_types)
    return RawTable(table, path, encoding, frame, _header_names(headers, positions), ignored)


def _read_csv_careful(path: Path, encoding: str, table: Table, mapping: TableMapping | None) -> RawTable:
    csv.field_size_limit(MAX_FIELD_CHARS)
    with path.open(encoding=encoding, newline="") as text:
        first = text.readline()
        if not first.strip():
            raise ExportError(f"{path}: line 1: the file is empty (no header row)")
        delimiter = _sniff_delimiter(first)
        text.seek(0)
        records = _records(text, delimiter, path)
        try:
            _, _, headers, _ = next(records)
        except StopIteration:
            raise ExportError(f"{path}: line 1: the file is empty (no header row)") from None
        positions, ignored = map_headers(headers, table, mapping, path)
        frame = _frame_from_records(records, positions, len(headers))
    return RawTable(table, path, encoding, frame, _header_names(headers, positions), ignored)


def _header_names(headers: list[str], positions: dict[int, str]) -> dict[str, str]:
    return {name: headers[pos].strip().strip("\ufeff") for pos, name in positions.items()}


def _frame_from_records(records, positions: dict[int, str], width: int) -> pd.DataFrame:
    """Collect records in chunks of Arrow string columns (bounded memory per chunk)."""
    names = list(positions.values())
    chunks: list[pa.Table] = []
    while True:
        lines, problems, columns = [], [], {p: [] for p in positions}
        for line, end, fields, problem in records:
            lines.append(line)
            problems.append(problem or _width_problem(len(fields), width, line, end))
            if len(fields) < width:
                fields = fields + [""] * (width - len(fields))
            for position, values in columns.items():
                values.append(fields[position])
            if len(lines) == CHUNK_ROWS:
                break
        if not lines:
            break
        arrays = [pa.array(columns[p], pa.large_string()) for p in positions]
        arrays += [pa.array(lines, pa.int64()), pa.array(problems, pa.large_string())]
        chunks.append(pa.table(arrays, names=names + [LINE_COLUMN, PROBLEM_COLUMN]))
        if len(lines) < CHUNK_ROWS:
            break
    if not chunks:
        return _empty_frame(names)
    return pa.concat_tables(chunks).to_pandas(types_mapper=_arrow_types)


def _width_problem(count: int, width: int, line: int, end: int) -> str | None:
    if count == width:
        return None
    problem = f"the record has {count} fields, the header has {width}"
    if end > line:  # a stray quote can join lines into one record
        problem += f" (it runs from line {line} to line {end}: check its quotes)"
    return problem


def _arrow_types(arrow_type: pa.DataType):
    if arrow_type in (pa.large_string(), pa.string()):
        return pd.StringDtype("pyarrow")
    return None


def _empty_frame(names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({n: pd.Series([], dtype="string[pyarrow]") for n in names})
    frame[LINE_COLUMN] = pd.Series([], dtype="int64")
    frame[PROBLEM_COLUMN] = pd.Series([], dtype="string[pyarrow]")
    return frame


# --- XLSX -----------------------------------------------------------------------------


def _cell_text(value) -> str:
    """Spreadsheet cell to export text: whole floats without `.0`, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def read_xlsx(path: Path, table: Table, mapping: TableMapping | None) -> RawTable:
    from openpyxl import load_workbook  # heavy import, only when an XLSX arrives

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ExportError(f"{path}: not a readable XLSX workbook: {error}") from error
    try:
        sheet = book[table.name] if table.name in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None or not any(v is not None for v in header_row):
            raise ExportError(f"{path}: line 1: the sheet {sheet.title!r} has no header row")
        headers = [_cell_text(v) for v in header_row]
        positions, ignored = map_headers(headers, table, mapping, path)
        records = (
            (line, [_cell_text(v) for v in row])
            for line, row in enumerate(rows, start=2)
            if any(v is not None and v != "" for v in row)
        )
        frame = _frame_from_records(
            ((line, line, _fit(fields, len(headers)), None) for line, fields in records),
            positions,
            len(headers),
        )
    finally:
        book.close()
    return RawTable(table, path, "xlsx", frame, _header_names(headers, positions), ignored)


def _fit(fields: list[str], width: int) -> list[str]:
    """Spreadsheet rows have no record structure to break: trailing blank cells only."""
    if len(fields) > width and not any(fields[width:]):
        return fields[:width]
    return fields


def read_export(path: Path, table: Table, mapping: TableMapping | None) -> RawTable:
    """Read one export file, CSV or XLSX, into text columns with line numbers."""
    if path.suffix.lower() in XLSX_SUFFIXES:
        return read_xlsx(path, table, mapping)
    try:
        return read_csv(path, table, mapping)
    except OSError as error:
        raise ExportError(f"{path}: cannot be read: {error.strerror or error}") from error
