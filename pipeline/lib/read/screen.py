"""Which rows staging must look at closely, found from the values' bytes.

Almost every row of an export is plain: no control or full-width character, no value
that starts or ends with a space or starts like a spreadsheet formula, nothing past
10,000 characters. Each value of a plain row is its own screened, normalised text, so
the staging models skip `hostile`, `norm` and `clean` for it (`_plain` in
`sql/staging/*.sql`). Screening the UTF-8 bytes here, one pass over each column's
buffer, costs a fifth of a regular expression per row in DuckDB: 0.4 s against 2.4 s
for seven million transactions (the expression's call alone costs 135 ns a row).

The test errs one way only: a row it calls careful may turn out plain (CJK punctuation
or kana, which share the lead byte 0xE3 with U+3000; a tab inside a value), never the
reverse.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# A row read as one text longer than this (in bytes, so never fewer than its characters)
# may hold a value past 10,000 characters, which is no member's data (`hostile`).
LONGEST_ROW = 10_000
_SEPARATOR = 3  # bytes between two values where a row is read as one text (U+FFFF)

# Lead bytes of the characters `hostile` and `norm` act on: U+3000 (E3 80 80) and the
# full-width forms U+FF01..U+FF5E (EF BC 81..EF BD 9E). Every C0 control byte and DEL
# count too: the tab, newline and carriage return inside a value only cost the careful
# path, the others are damage.
_CAREFUL_LEADS = (b"\x7f", b"\xe3", b"\xef")
_CONTROL_BELOW = 0x20
_FIND_BLOCK = 8 << 20
_CAREFUL_BYTE = np.zeros(256, dtype=bool)  # (lookup tables: a tenth of `np.isin`'s time)
_CAREFUL_BYTE[:_CONTROL_BELOW] = True
_CAREFUL_BYTE[[lead[0] for lead in _CAREFUL_LEADS]] = True
# A value's first byte that needs a look: a space or control (Python's and RE2's `\s`
# are among them), 0xC2 (the no-break space U+00A0 is C2 A0) or a formula's first sign;
# its last byte: a space or control, or A0 after C2.
_FIRST_BYTE = np.zeros(256, dtype=bool)
_FIRST_BYTE[:ord(" ") + 1] = True
_FIRST_BYTE[[ord("="), ord("+"), ord("-"), ord("@"), 0xC2]] = True
_LAST_BYTE = np.zeros(256, dtype=bool)
_LAST_BYTE[:ord(" ") + 1] = True
_NO_BREAK_SPACE = (0xC2, 0xA0)


def careful_rows(columns: list[pa.Array | pa.ChunkedArray], rows: int) -> np.ndarray:
    """For each of `rows` rows, whether any of its text `columns` (string or large_string
    Arrow arrays of that length) holds a value staging must screen or normalise."""
    def marked(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, int]:
        """The column's careful rows and its longest value in bytes."""
        careful, start, longest = np.zeros(rows, dtype=bool), 0, 0
        for chunk in _chunks(column):
            longest = max(longest, _mark_chunk(chunk, careful[start:start + len(chunk)]))
            start += len(chunk)
        return careful, longest

    # Columns side by side: NumPy lets go of the GIL (0.45 s against 0.75 s for the
    # transactions on two cores, which DuckDB is not using yet).
    careful, longest_row = np.zeros(rows, dtype=bool), 0
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for column_careful, longest in pool.map(marked, columns):
            careful |= column_careful
            longest_row += longest + _SEPARATOR  # an upper bound of any row's length
    if longest_row > LONGEST_ROW:  # only then is each row's length needed
        careful |= _row_bytes(columns, rows) > LONGEST_ROW
    return careful


def _chunks(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return column.chunks if isinstance(column, pa.ChunkedArray) else [column]


def _utf8(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """A text chunk's value offsets (one more than its values) and its whole UTF-8
    buffer, as NumPy views; None when it holds no character."""
    if len(chunk) == 0 or chunk.null_count == len(chunk) or chunk.buffers()[2] is None:
        return None
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(chunk.buffers()[1], width, len(chunk) + 1,
                            chunk.offset * np.dtype(width).itemsize)
    if offsets[-1] == offsets[0]:  # only blank values
        return None
    return offsets, np.frombuffer(chunk.buffers()[2], np.uint8)


def _mark_chunk(chunk: pa.Array, careful: np.ndarray) -> int:
    """Set `careful` (a view of this chunk's rows) where a value needs a look; the
    chunk's longest value in bytes."""
    found = _utf8(chunk)
    if found is None:
        return 0
    offsets, data = found
    text = data[offsets[0]:offsets[-1]]
    if text.min() < _CONTROL_BELOW or _holds_a_lead(text):
        at = np.flatnonzero(_CAREFUL_BYTE[text])
        careful[np.searchsorted(offsets, at + offsets[0], "right") - 1] = True
    # The first and last byte of each non-blank value (a blank value has neither: the
    # bytes at its offsets are its neighbours').
    sizes = pc.fill_null(pc.binary_length(chunk), 0).to_numpy()
    filled = None if sizes.min() > 0 else np.flatnonzero(sizes > 0)
    first, last = offsets[:-1], offsets[1:] - 1
    if filled is not None:
        first, last = first[filled], last[filled]
    first, last_byte = data[first], data[last]
    needs_look = _FIRST_BYTE[first] | _LAST_BYTE[last_byte]
    ends_in_a0 = np.flatnonzero(last_byte == _NO_BREAK_SPACE[1])
    needs_look[ends_in_a0] |= data[last[ends_in_a0] - 1] == _NO_BREAK_SPACE[0]
    looked = np.flatnonzero(needs_look)
    careful[looked if filled is None else filled[looked]] = True
    return int(sizes.max())


def _holds_a_lead(text: np.ndarray) -> bool:
    """Whether `text` holds one of `_CAREFUL_LEADS`: `bytes.find` is memchr, a tenth of
    NumPy's `==` and `any`, on copies of 8 MiB at a time."""
    for start in range(0, len(text), _FIND_BLOCK):
        block = text[start:start + _FIND_BLOCK].tobytes()
        if any(block.find(lead) >= 0 for lead in _CAREFUL_LEADS):
            return True
    return False


def _row_bytes(columns: list[pa.Array | pa.ChunkedArray], rows: int) -> np.ndarray:
    """Each row's length in bytes, read as one text (an upper bound: blank values are
    counted with their separator)."""
    total = np.zeros(rows, dtype=np.int64)
    for column in columns:
        total += pc.fill_null(pc.binary_length(column), 0).to_numpy() + _SEPARATOR
    return total


def distinct_characters(columns: list[pa.Array | pa.ChunkedArray]) -> str:
    """Every character the text `columns` hold, once each, in code point order.

    Counted over each chunk's UTF-8 buffer as UTF-32 code points: 0.45 s for the five
    printed columns of a million members, against 1.5 s for their distinct values joined
    and 0.3 s more for Python's `set` of those characters.
    """
    seen = np.zeros(0, dtype=bool)
    for column in columns:
        for chunk in _chunks(column):
            found = _utf8(chunk)
            if found is None:
                continue
            offsets, data = found
            text = data[offsets[0]:offsets[-1]].tobytes().decode("utf-8")
            points = np.frombuffer(text.encode("utf-32-le"), np.uint32)
            counts = np.bincount(points)
            if len(counts) > len(seen):
                seen = np.pad(seen, (0, len(counts) - len(seen)))
            seen[:len(counts)] |= counts > 0
    return "".join(map(chr, np.flatnonzero(seen)))
