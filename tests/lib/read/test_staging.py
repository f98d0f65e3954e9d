"""The staging models (sql/staging/stg_<table>.sql) on one-row exports: a raw value goes
in as the export's text, and comes out staged or with its quarantine reason."""

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from pipeline.lib.read.ingest import ROW_QUARANTINED, VALUE_DROPPED, stage
from pipeline.lib.read.readers import LINE_COLUMN, PROBLEM_COLUMN, RawTable
from pipeline.lib.read.schema import TABLES

AS_OF = date(2026, 11, 20)
FILLED = {  # a valid value for each required column
    "members": {"member_id": "M1", "name": "王伟"},
    "transactions": {"txn_id": "T1", "member_id": "M1", "date": "2026-01-05",
                     "amount": "10"},
    "complaints": {"complaint_id": "C1", "received_at": "2026-01-05 09:00"},
}


def staged(table: str, column: str, text: str):
    """Stage one export row of `table` whose `column` holds `text`: the staged row (None
    when it was quarantined) and the quarantine as (action, reason) pairs."""
    values = FILLED[table] | {column: text}
    frame = pd.DataFrame({name: pd.Series([value], dtype="string[pyarrow]")
                          for name, value in values.items()})
    frame[LINE_COLUMN] = 2
    frame[PROBLEM_COLUMN] = pd.Series([None], dtype="string[pyarrow]")
    raw = RawTable(TABLES[table], Path(f"{table}.csv"), "utf-8", frame,
                   {name: name for name in values})
    result = stage(raw, pd.Index(["M1"]), AS_OF)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    row = result.frame.iloc[0] if len(result.frame) else None
    return row, list(zip(result.quarantine["action"], result.quarantine["reason"]))


def staged_value(table: str, column: str, text: str, staged_as: str):
    row, quarantine = staged(table, column, text)
    assert quarantine == []
    value = row[staged_as]
    return None if pd.isna(value) else value


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1990-05-03", datetime(1990, 5, 3)),  # ISO
        ("2026/1/5", datetime(2026, 1, 5)),  # slashes without zero padding
        ("1990.5.3", datetime(1990, 5, 3)),  # dots
        ("19900503", datetime(1990, 5, 3)),  # compact
        ("1990年5月3日", datetime(1990, 5, 3)),  # Chinese
        ("１９９０－０５－０３", datetime(1990, 5, 3)),  # full-width digits and dash
        ("33000", datetime(1990, 5, 7)),  # Excel serial day number
        ("45900.5", datetime(2025, 8, 31, 12)),  # Excel serial with a time of day
        ("2026-03-05 14:30", datetime(2026, 3, 5, 14, 30)),  # timestamp without seconds
        ("2026/3/5 9:05:07", datetime(2026, 3, 5, 9, 5, 7)),  # single-digit hour
        ("2026-03-05T14:30:00", datetime(2026, 3, 5, 14, 30)),  # ISO with a T
        ("2024-02-29 23:59:59", datetime(2024, 2, 29, 23, 59, 59)),  # a real leap day
        ("2026-03-05 12:00:60", datetime(2026, 3, 5, 12, 1)),  # a leap second rolls over
        ("2100-12-31 00:00:00", datetime(2100, 12, 31)),  # the last instant in range
        ("  2026-01-05\u3000", datetime(2026, 1, 5)),  # spaces, ideographic too, trimmed
    ],
)
def test_timestamp_forms(text, expected):
    assert staged_value("transactions", "date", text, "txn_at") == pd.Timestamp(expected)


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-30",  # no 30 February
        "2023-02-29",  # 2023 is not a leap year
        "0000-00-00",  # CRM placeholder for "unknown"
        "1850-01-01",  # before 1900: not a member's date
        "yesterday",  # words
        "13/13/2020",  # no month 13
        "2026-03-31 23:59:60",  # a leap second would roll over into 1 April
        "2026-03-05 24:00:00",  # no hour 24
        "2026-3-5 10:00:60",  # leap seconds only in the zero-padded ISO form
        "1990503",  # seven digits are no compact date (strptime's %Y%m%d would read them)
        "2023/2/30",  # the other forms strptime reads are checked as strictly
        "2023年2月29日",
    ],
)
def test_impossible_dates_quarantine_a_required_date(text):
    row, quarantine = staged("transactions", "date", text)
    assert row is None
    assert quarantine == [(ROW_QUARANTINED, "date: not a valid date or time")]


def test_impossible_optional_date_is_dropped_and_the_row_kept():
    row, quarantine = staged("members", "join_date", "2023-02-30")
    assert pd.isna(row["join_date"]) and row["name"] == "王伟"
    assert quarantine == [(VALUE_DROPPED, "join_date: not a valid date")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1990/5/3", pd.Timestamp(1990, 5, 3)),
        ("1990.05.03", pd.Timestamp(1990, 5, 3)),
        ("1990年5月3日", pd.Timestamp(1990, 5, 3)),
        ("1990年5月3号", pd.Timestamp(1990, 5, 3)),
        ("19900503", pd.Timestamp(1990, 5, 3)),
        ("1990 / 5 / 3", pd.Timestamp(1990, 5, 3)),  # spaces around the separators
        ("1990/5/3 10:00", pd.Timestamp(1990, 5, 3)),  # a time of day is dropped
    ],
)
def test_date_forms(text, expected):
    assert staged_value("members", "join_date", text, "join_date") == expected


@pytest.mark.parametrize("text", ["1990503", "1990/2/29", "1990.13.1", "0000-00-00"])
def test_impossible_dates_are_dropped_in_every_form(text):
    row, quarantine = staged("members", "join_date", text)
    assert pd.isna(row["join_date"])
    assert quarantine == [(VALUE_DROPPED, "join_date: not a valid date")]


def test_date_drops_time_of_day():
    assert staged_value("members", "join_date", "2026-03-05 14:30", "join_date") == \
        pd.Timestamp(2026, 3, 5)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("是", True), ("否", False), ("1", True), ("0", False),  # Chinese and digits
        ("TRUE", True), ("false", False), ("Y", True), ("N", False),  # English, any case
        ("１", True),  # full-width digit
        ("", False),  # blank: the contract default (no e-mail consent)
    ],
)
def test_booleans(text, expected):
    assert staged_value("members", "consent_email", text, "has_consent_email") == expected


def test_unknown_boolean_is_dropped_and_the_default_applies():
    row, quarantine = staged("members", "consent_post", "maybe")
    assert row["has_consent_post"]  # post is consented unless refused
    assert quarantine == [(VALUE_DROPPED, "consent_post: not a yes/no value")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13812345678", "+8613812345678"),  # plain mainland mobile
        ("+86 138 1234 5678", "+8613812345678"),  # international form with spaces
        ("0086-138-1234-5678", "+8613812345678"),  # 00 prefix and dashes
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits
        ("021-6234 5678", "+862162345678"),  # Shanghai landline (phonenumbers)
        ("+852 9123 4567", "+85291234567"),  # Hong Kong mobile (phonenumbers)
    ],
)
def test_phones_to_e164(text, expected):
    assert staged_value("members", "phone", text, "phone") == expected


@pytest.mark.parametrize("text", ["12345", "1381234567", "call me"])  # short, 10 digits, words
def test_invalid_phones_are_dropped(text):
    row, quarantine = staged("members", "phone", text)
    assert pd.isna(row["phone"])
    assert quarantine == [(VALUE_DROPPED, "phone: not a valid phone number")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,234.50", 1234.5),  # thousands separator
        ("¥1,234.50", 1234.5),  # yen sign and separator
        ("￥560", 560.0),  # full-width yen sign
        ("88元", 88.0),  # yuan suffix
        ("-60.00", -60.0),  # a return
        ("(3.00)", -3.0),  # accounting negative
        ("RMB 12", 12.0),  # currency code
        ("1 234", 1234.0),  # thousands separated by a space
        ("１２.５", 12.5),  # full-width digits
    ],
)
def test_money(text, expected):
    assert staged_value("transactions", "amount", text, "amount_cny") == expected


@pytest.mark.parametrize("text", ["abc", "12,34", "1.2.3"])  # words, misplaced separator, two dots
def test_bad_amount_quarantines_the_transaction(text):
    row, quarantine = staged("transactions", "amount", text)
    assert row is None
    assert quarantine == [(ROW_QUARANTINED, "amount: not an amount")]


@pytest.mark.parametrize(
    "text, expected",
    [("男", "M"), ("女", "F"), ("先生", "M"), ("女士", "F"), ("m", "M"), ("Female", "F")],
)
def test_gender(text, expected):
    assert staged_value("members", "gender", text, "gender") == expected


@pytest.mark.parametrize(
    "table, column, text, staged_as, expected",
    [
        ("members", "birth_calendar", "公历", "birth_calendar", "solar"),  # Chinese name
        ("members", "language", "繁體", "language", "zh-TW"),  # Traditional Chinese
        ("members", "language", "EN", "language", "en"),  # canonical value, any case
        ("members", "preferred_channel", "短信", "preferred_channel", "sms"),
        ("complaints", "status", "已解决", "status", "resolved"),
    ],
)
def test_enum_synonyms(table, column, text, staged_as, expected):
    assert staged_value(table, column, text, staged_as) == expected


def test_unknown_enum_value_names_the_choices():
    assert staged("members", "language", "fr")[1] == [
        (VALUE_DROPPED, "language: not one of zh-CN/zh-TW/en")]


def test_email_domain_lowercased_and_invalid_dropped():
    assert staged_value("members", "email", "LI.NA@Example.COM", "email") == "LI.NA@example.com"
    assert staged("members", "email", "a b@example.com")[1] == [  # a space inside
        (VALUE_DROPPED, "email: not a valid e-mail address")]


def test_postcode_six_digits_only():
    assert staged_value("members", "postal_code", "'010010", "postal_code") == "010010"  # Excel
    assert staged("members", "postal_code", "21000")[1] == [  # five digits
        (VALUE_DROPPED, "postal_code: not a six-digit postal code")]


@pytest.mark.parametrize("text, expected", [("5", 5), ("3.0", 3)])
def test_satisfaction_is_a_whole_number(text, expected):
    assert staged_value("complaints", "satisfaction", text, "satisfaction") == expected


@pytest.mark.parametrize("text", ["6", "0", "4.5"])  # outside 1-5, not whole
def test_satisfaction_out_of_bounds_is_dropped(text):
    assert staged("complaints", "satisfaction", text)[1] == [
        (VALUE_DROPPED, "satisfaction: not a whole number from 1 to 5")]


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])  # empty, spaces, ideographic space
def test_blank_required_id_quarantines_the_row(text):
    row, quarantine = staged("transactions", "txn_id", text)
    assert row is None
    assert quarantine == [(ROW_QUARANTINED, "txn_id: required value is blank")]


def test_ids_are_half_width_and_trimmed():
    assert staged_value("transactions", "txn_id", " Ｔ０００１ ", "txn_id") == "T0001"


def test_unknown_member_quarantines_the_transaction():
    assert staged("transactions", "member_id", "M2")[1] == [
        (ROW_QUARANTINED, "member_id: not a loaded member")]


@pytest.mark.parametrize(
    "column, text, action, reason",
    [
        # A formula in a required column: the row cannot be used.
        ("name", "=HYPERLINK(\"http://x\")", ROW_QUARANTINED,
         "name: looks like a spreadsheet formula, not a value"),
        # A NUL byte in an optional column: the value is dropped, the row kept.
        ("address", "路\x00号", VALUE_DROPPED,
         "address: holds control characters such as NUL bytes (a damaged export)"),
        # Text no letter or table can hold.
        ("address", "路" * 10_001, VALUE_DROPPED, "address: longer than 10,000 characters"),
    ],
)
def test_hostile_values_are_screened(column, text, action, reason):
    assert staged("members", column, text)[1] == [(action, reason)]


@pytest.mark.parametrize("text", ["-60", "+86 138 1234 5678", "-"])  # numbers, not formulas
def test_signs_that_are_not_formulas_are_kept(text):
    assert staged_value("members", "household_id", text, "household_id") == text


def test_an_unusable_row_reports_its_first_reason_only():
    # The blank name quarantines the row: its bad phone is not reported as dropped too,
    # and the duplicate check never sees it.
    row, quarantine = staged("members", "name", "")
    assert row is None and quarantine == [(ROW_QUARANTINED, "name: required value is blank")]
    values = FILLED["members"] | {"name": "", "phone": "12345"}
    frame = pd.DataFrame({k: pd.Series([v, v], dtype="string[pyarrow]") for k, v in values.items()})
    frame.loc[1, "name"] = "李娜"  # line 3: same member id, usable
    frame[LINE_COLUMN] = [2, 3]
    frame[PROBLEM_COLUMN] = pd.Series([None, None], dtype="string[pyarrow]")
    raw = RawTable(TABLES["members"], Path("members.csv"), "utf-8", frame,
                   {name: name for name in values})
    result = stage(raw, None, AS_OF)
    assert result.frame["name"].tolist() == ["李娜"]  # the first usable row is kept
    assert list(zip(result.quarantine["line"], result.quarantine["action"],
                    result.quarantine["reason"])) == [
        (2, ROW_QUARANTINED, "name: required value is blank"),
        (3, VALUE_DROPPED, "phone: not a valid phone number"),
    ]
