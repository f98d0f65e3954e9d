"""Properties of ingest over generated exports, and of the value parsers.

Exports are written the way CRMs write them (any of the detected encodings, quoted
fields holding commas, quotes and line breaks, CJK outside the BMP and emoji); rows
are valid or broken by construction, and every row built valid must be loaded.
"""

from __future__ import annotations

import calendar
import csv
import functools
import io
from datetime import date, datetime
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.lib.read.ingest import ROW_QUARANTINED, ingest_table, staging_connection
from pipeline.lib.read.schema import TABLES


class Parsed(NamedTuple):
    values: pd.Series
    bad: pd.Series  # text was there (not blank) but is no value


@functools.cache
def _connection():
    return staging_connection()


def _parsed(macro: str, texts: pd.Series) -> Parsed:
    """A value parser of sql/staging/macros.sql over raw cells, as the models use it."""
    con = _connection().cursor()
    con.register("cells", pa.table({"position": pa.array(range(len(texts)), pa.int64()),
                                    "t": pa.array(texts.array, pa.large_string())}))
    frame = con.sql(f"select {macro}(norm(t)) as value, norm(t) is not null and value is null "
                    "as bad from cells order by position").df()
    return Parsed(frame["value"], frame["bad"].astype(bool))


def parse_timestamp(texts: pd.Series) -> Parsed:
    return _parsed("parse_timestamp", texts)


def parse_date(texts: pd.Series) -> Parsed:
    return _parsed("parse_date", texts)


def parse_money(texts: pd.Series) -> Parsed:
    return _parsed("parse_money", texts)


AS_OF = date(2026, 11, 20)
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16")

# Text a name or address may hold: Latin, common and rare CJK (𠮷 is outside the BMP)
# and the CSV-special characters that force quoting. Emoji are in no letter font: a
# name holding one quarantines the row, an address holding one is dropped.
LETTERS = st.sampled_from(list("AbZ王李娜伟喆堃燊𠮷田é"))
INNER = st.sampled_from(list("AbZ王李娜伟喆堃燊𠮷田é ,\"'\n;|\t-=+@<>{}%"))
EMOJI = st.sampled_from(list("😀🏠"))
names = st.builds(lambda first, rest: first + rest, LETTERS, st.text(INNER, max_size=12))


def date_forms(day: date) -> st.SearchStrategy[str]:
    """The ways CRMs write one date (README: ISO, slashes, dots, compact, 年月日)."""
    return st.sampled_from([
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        day.strftime("%Y%m%d"),
        f"{day.year}年{day.month}月{day.day}日",
    ])


valid_dates = st.dates(date(1900, 1, 1), AS_OF)
written_dates = valid_dates.flatmap(date_forms)
bad_dates = st.sampled_from(["0000-00-00", "2023-02-30", "1990-13-01", "abc", "31/31/1990"])


@st.composite
def member_rows(draw):
    """(fields, kind) where kind is what staging must do with the row."""
    kind = draw(st.sampled_from(["valid", "valid", "valid", "bad_birth", "blank_name",
                                 "short_record", "duplicate", "emoji_name", "emoji_address"]))
    birth = draw(bad_dates if kind == "bad_birth" else st.one_of(st.just(""), written_dates))
    name = "  " if kind == "blank_name" else draw(names)
    address = draw(st.one_of(st.just(""), names))
    if kind == "emoji_name":
        name += draw(EMOJI)
    if kind == "emoji_address":
        address += draw(EMOJI)
    fields = [name, birth, address]
    return fields[:1] if kind == "short_record" else fields, kind


@st.composite
def member_exports(draw):
    rows = draw(st.lists(member_rows(), min_size=1, max_size=25))
    encoding = draw(st.sampled_from(ENCODINGS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    return rows, encoding, newline, quoting


def write_members(folder, rows, encoding, newline, quoting) -> tuple[dict, int]:
    """Write members.csv; return {member_id: (name, address)} of rows valid by
    construction, and how many rows must be quarantined."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline, quoting=quoting)
    writer.writerow(["member_id", "name", "birth_date", "address"])
    valid, quarantined = {}, 0
    for number, (fields, kind) in enumerate(rows):
        member_id = f"M{number:03d}"
        if kind == "duplicate" and valid:  # the first row with this id is kept
            member_id = next(iter(valid))
            quarantined += 1
        elif kind in ("blank_name", "short_record", "emoji_name"):
            quarantined += 1
        elif kind == "emoji_address":  # the row stays, without its unprintable address
            valid[member_id] = (fields[0].strip(" \t\r\n"), None)
        else:  # bad_birth keeps the row (the date is dropped), as does a first "duplicate"
            valid[member_id] = (fields[0].strip(" \t\r\n"), fields[2].strip(" \t\r\n") or None)
        writer.writerow([member_id, *fields])
    (folder / "members.csv").write_bytes(buffer.getvalue().encode(encoding))
    return valid, quarantined


@SETTINGS
@given(export=member_exports())
def test_member_exports_lose_no_row(tmp_path_factory, export):
    folder = tmp_path_factory.mktemp("members")
    valid, quarantined = write_members(folder, *export)

    staged = ingest_table(folder, TABLES["members"], as_of=AS_OF)

    counts = staged.reconciliation()
    assert counts["rows_read"] == len(export[0])
    assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
    assert counts["rows_quarantined"] == quarantined
    loaded = staged.frame.set_index("member_id")
    assert set(valid) <= set(loaded.index)
    for member_id, (name, address) in valid.items():
        assert loaded.loc[member_id, "name"] == name  # text survives encoding and quoting
        got = loaded.loc[member_id, "address"]
        assert (None if pd.isna(got) else got) == address


amounts = st.decimals(min_value=-99_999_999, max_value=99_999_999, places=2,
                      allow_nan=False, allow_infinity=False)


def amount_forms(value) -> st.SearchStrategy[str]:
    """The ways an amount is written; each means `value`."""
    plain = f"{value:.2f}"
    grouped = f"{value:,.2f}"
    sign, body = ("-", grouped[1:]) if grouped.startswith("-") else ("", grouped)
    return st.sampled_from([
        plain, grouped, f"{sign}¥{body}", f"{grouped}元", f"CNY {grouped}",
        grouped.replace(",", " "), f"({body})" if sign else f"￥{plain}",
    ])


@st.composite
def transaction_rows(draw):
    kind = draw(st.sampled_from(["valid", "valid", "valid", "bad_amount", "bad_date",
                                 "unknown_member", "blank_id"]))
    value = draw(amounts)
    amount = draw(st.sampled_from(["abc", "1,23", "12 34", "US$5"]) if kind == "bad_amount"
                  else amount_forms(value))
    when = draw(bad_dates if kind == "bad_date" else written_dates)
    return kind, value, amount, when


@SETTINGS
@given(rows=st.lists(transaction_rows(), min_size=1, max_size=25),
       encoding=st.sampled_from(ENCODINGS), category=names)
def test_transaction_exports_lose_no_row(tmp_path_factory, rows, encoding, category):
    folder = tmp_path_factory.mktemp("transactions")
    (folder / "members.csv").write_text("member_id,name\nM1,王伟\n", "utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["txn_id", "member_id", "date", "amount", "category"])
    valid = {}
    for number, (kind, value, amount, when) in enumerate(rows):
        txn_id = "" if kind == "blank_id" else f"T{number:03d}"
        member = "M9" if kind == "unknown_member" else "M1"
        writer.writerow([txn_id, member, when, amount, category])
        if kind == "valid":
            valid[txn_id] = float(value)
    (folder / "transactions.csv").write_bytes(buffer.getvalue().encode(encoding))

    members = ingest_table(folder, TABLES["members"], as_of=AS_OF)
    staged = ingest_table(folder, TABLES["transactions"], pd.Index(members.frame["member_id"]), AS_OF)

    counts = staged.reconciliation()
    assert counts["rows_read"] == len(rows)
    assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
    assert counts["rows_loaded"] == len(valid)
    loaded = staged.frame.set_index("txn_id")["amount_cny"]
    assert {k: float(v) for k, v in loaded.items()} == valid
    quarantined = staged.quarantine[staged.quarantine["action"] == ROW_QUARANTINED]
    assert quarantined["line"].is_unique and (quarantined["line"] >= 2).all()


# --- parsers ------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=20))
def test_date_parsing_never_raises_and_flags_only_text(texts):
    parsed = parse_timestamp(pd.Series(texts, dtype="string"))
    blank = pd.Series([t.strip(" \t\r\n\u3000\u00a0") == "" for t in texts], dtype=bool)
    assert not (parsed.bad & blank).any()  # a blank cell is missing, never bad
    assert (parsed.values.notna() | parsed.bad | blank).all()  # each cell is one of three


@settings(max_examples=60, deadline=None)
@given(st.lists(valid_dates.flatmap(lambda d: st.tuples(st.just(d), date_forms(d))),
                min_size=1, max_size=20))
def test_every_written_date_round_trips(pairs):
    parsed = parse_date(pd.Series([text for _, text in pairs], dtype="string"))
    assert not parsed.bad.any()
    assert [v.date() for v in parsed.values] == [day for day, _ in pairs]


@settings(max_examples=60, deadline=None)
@given(st.datetimes(datetime(1900, 1, 1), datetime(2100, 12, 31)).map(lambda t: t.replace(microsecond=0)))
def test_iso_timestamps_round_trip(moment):
    parsed = parse_timestamp(pd.Series([moment.isoformat(sep=" ")], dtype="string"))
    assert parsed.values.iloc[0] == pd.Timestamp(moment)


impossible_days = st.tuples(st.integers(1900, 2100), st.integers(1, 12)).flatmap(
    lambda ym: st.tuples(st.just(ym[0]), st.just(ym[1]),
                         st.integers(calendar.monthrange(*ym)[1] + 1, 40)))


@settings(max_examples=60, deadline=None)
@given(impossible_days)
def test_impossible_days_are_bad_not_rolled_over(ymd):
    year, month, day = ymd
    texts = [f"{year}-{month:02d}-{day:02d}", f"{year}/{month}/{day}", f"{year}年{month}月{day}日"]
    parsed = parse_date(pd.Series(texts, dtype="string"))
    assert parsed.bad.all() and parsed.values.isna().all(), texts


@settings(max_examples=60, deadline=None)
@given(amounts.flatmap(lambda v: st.tuples(st.just(v), amount_forms(v))))
def test_amount_forms_parse_to_their_value(pair):
    value, text = pair
    parsed = parse_money(pd.Series([text], dtype="string"))
    assert not parsed.bad.iloc[0], text
    assert parsed.values.iloc[0] == float(value), text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=20))
def test_money_parsing_never_raises(texts):
    parsed = parse_money(pd.Series(texts, dtype="string"))
    assert len(parsed.values) == len(texts)
    assert (parsed.values.notna() | parsed.bad | pd.Series([not t.strip() for t in texts])).all()
