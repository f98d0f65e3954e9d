"""The reader's byte screen (`lib/read/screen.py`): a row it calls plain skips the
staging models' screening and normalisation, so it must never call plain a value that
`hostile`, `norm` or `clean` (sql/staging/macros.sql) would act on."""

from __future__ import annotations

import functools

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.lib.read.ingest import staging_connection
from pipeline.lib.read.screen import LONGEST_ROW, careful_rows, distinct_characters


def careful(*values: str | None, text_type=pa.string()) -> list[bool]:
    """Each value as a row of one column."""
    return careful_rows([pa.array(values, text_type)], len(values)).tolist()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("王伟", False),  # the common case: nothing to do
        ("M0000001", False),
        ("2026-01-05 09:00:00", False),
        ("123.45", False),
        ("a b\u00a0c", False),  # spaces inside a value are its own
        ("丠", False),  # U+4E20 ends in the byte A0, as the no-break space does
        ("", False),  # blank: nothing to screen
        (" 王伟", True),  # a leading space is trimmed
        ("王伟 ", True),  # a trailing one too
        ("\t王伟", True),
        ("王伟\u00a0", True),  # a trailing no-break space
        ("\u00a0王伟", True),
        ("王\u3000伟", True),  # the ideographic space is made an ASCII one
        ("１２３", True),  # full-width digits are made ASCII
        ("Ｍ1", True),
        ("=HYPERLINK(\"x\")", True),  # a formula is screened out
        ("+cmd|' /C calc'!A0", True),
        ("-60", True),  # may be a formula: the careful path decides it is not
        ("@SUM(A1)", True),
        ("a\x00b", True),  # a NUL byte: a damaged export
        ("a\x7fb", True),
        ("a\x1bb", True),
    ],
)
def test_a_value_needs_a_careful_look(text, expected):
    assert careful(text) == [expected]


def test_a_row_is_careful_when_any_of_its_columns_is():
    columns = [pa.array(["M1", "M2", " M3"]), pa.array(["王伟", "＝1", "李娜"])]
    assert careful_rows(columns, 3).tolist() == [False, True, True]


def test_a_row_past_the_longest_row_is_careful():
    long = "字" * (LONGEST_ROW // 2)  # 5,000 characters in each of two columns
    columns = [pa.array(["a", long]), pa.array(["b", long])]
    assert careful_rows(columns, 2).tolist() == [False, True]


def test_blank_and_null_values_are_not_judged_by_their_neighbours():
    # A blank value's offsets point at its neighbours' bytes; they must not mark it.
    assert careful(" x", "", None, "", "y ", "z") == [True, False, False, False, True, False]


@pytest.mark.parametrize("text_type", [pa.string(), pa.large_string()])
def test_chunked_and_sliced_arrays_are_screened_row_by_row(text_type):
    values = ["ok", "１", "ok", "ok", " x", "ok", "ok"]
    whole = pa.array(["skipped", " skipped"] + values, text_type).slice(2)  # an offset
    chunked = pa.chunked_array([pa.array(values[:3], text_type),
                                pa.array(values[3:], text_type)])
    expected = [False, True, False, False, True, False, False]
    assert careful_rows([whole], len(values)).tolist() == expected
    assert careful_rows([chunked], len(values)).tolist() == expected


def test_a_column_the_export_lacks_is_all_null():
    assert careful_rows([pa.nulls(3, pa.string())], 3).tolist() == [False] * 3


@functools.cache
def _connection():
    return staging_connection()


# Pieces of text each rule of the careful path acts on, and their look-alikes.
TRICKY = [" ", "\t", "\n", "\r", "\f", "\v", "\u00a0", "\u3000", "\u2003", "=", "+", "-",
          "@", "SUM(", "cmd|", "A1!", "a", "1", ".", "王", "丠", "１", "ａ", "～", "\uff5f",
          "\x00", "\x1f", "\x7f", "é", "\u0085", "\ufeff", "\uffff", "𠀋"]
VALUES = st.lists(st.sampled_from(TRICKY), max_size=5).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUES, min_size=1, max_size=40))
@example(["-SUM(", "+cmd|", "@A1!", "=1", " a", "a ", "a\u00a0", "\u00a0a", "a\x7f", "１"])
def test_a_plain_value_is_its_own_screened_normalised_text(texts):
    """What the models do for a careful row (`hostile`, `norm`, `clean`) leaves the value
    of a row the screen called plain as it is, in any kind of column."""
    plain = [not c for c in careful(*texts)]
    con = _connection().cursor()
    con.register("cells", pa.table({"t": pa.array(texts, pa.string()),
                                    "plain": pa.array(plain)}))
    changed = con.execute(
        "select t from cells where plain and ("
        " hostile(t, true, false, []::varchar[]) is not null"
        " or hostile(t, false, false, []::varchar[]) is not null"
        " or norm(t) is distinct from nullif(t, '') or clean(t) is distinct from nullif(t, ''))"
    ).fetchall()
    assert changed == []


def test_distinct_characters_are_each_character_once_in_code_point_order():
    chunked = pa.chunked_array([pa.array(["王伟", None, ""]), pa.array(["伟a𠀋", "b"])])
    sliced = pa.array(["skipped", "１a"], pa.large_string()).slice(1)
    assert distinct_characters([chunked, sliced, pa.nulls(2, pa.string())]) == \
        "".join(sorted(set("王伟伟a𠀋b１a")))
    assert distinct_characters([pa.array([], pa.string())]) == ""
