from datetime import datetime

import pandas as pd
import pytest

from pipeline.lib.read import parse


def one(parser, text, *args):
    parsed = parser(pd.Series([text], dtype="string"), *args)
    value = parsed.values.iloc[0]
    return (None if pd.isna(value) else value), bool(parsed.bad.iloc[0])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1990-05-03", datetime(1990, 5, 3)),  # ISO
        ("1990/5/3", datetime(1990, 5, 3)),  # slashes without zero padding
        ("1990.5.3", datetime(1990, 5, 3)),  # dots
        ("19900503", datetime(1990, 5, 3)),  # compact
        ("1990年5月3日", datetime(1990, 5, 3)),  # Chinese
        ("１９９０－０５－０３", datetime(1990, 5, 3)),  # full-width digits and dash
        ("33000", datetime(1990, 5, 7)),  # Excel serial day number
        ("45900.5", datetime(2025, 8, 31, 12)),  # Excel serial with a time of day
        ("2026-03-05 14:30", datetime(2026, 3, 5, 14, 30)),  # timestamp without seconds
        ("2026/3/5 9:05:07", datetime(2026, 3, 5, 9, 5, 7)),  # timestamp, single-digit hour
        ("2024-02-29", datetime(2024, 2, 29)),  # a real leap day
        ("2024-02-29 23:59:59", datetime(2024, 2, 29, 23, 59, 59)),  # ISO timestamp
        ("2026-03-05 12:00:60", datetime(2026, 3, 5, 12, 1)),  # a leap second rolls over
        ("2100-12-31 00:00:00", datetime(2100, 12, 31)),  # the last day in range
    ],
)
def test_timestamp_forms(text, expected):
    assert one(parse.parse_timestamp, text) == (pd.Timestamp(expected), False)


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-30",  # no 30 February
        "2023-02-29",  # 2023 is not a leap year
        "0000-00-00",  # CRM placeholder for "unknown"
        "1850-01-01",  # before 1900: not a member's date
        "yesterday",  # words
        "13/13/2020",  # no month 13
        "2023-02-30 10:00:00",  # no 30 February, with a time
        "2026-03-31 23:59:60",  # a leap second would roll over into 1 April
        "2026-03-05 24:00:00",  # no hour 24
        "2026-13-01",  # no month 13, ISO
    ],
)
def test_impossible_dates_are_bad(text):
    assert one(parse.parse_timestamp, text) == (None, True)


def test_blank_is_missing_not_bad():
    parsed = parse.parse_date(pd.Series(["", "  ", None, "\u3000"], dtype="string"))
    assert parsed.values.isna().all()
    assert not parsed.bad.any()


def test_date_drops_time_of_day():
    assert one(parse.parse_date, "2026-03-05 14:30") == (pd.Timestamp(2026, 3, 5), False)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("是", True), ("否", False), ("1", True), ("0", False),  # Chinese and digits
        ("TRUE", True), ("false", False), ("Y", True), ("no", False),  # English, any case
        ("１", True),  # full-width digit
    ],
)
def test_booleans(text, expected):
    assert one(parse.parse_bool, text) == (expected, False)


def test_unknown_boolean_is_bad():
    assert one(parse.parse_bool, "maybe") == (None, True)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13812345678", "+8613812345678"),  # plain mainland mobile
        ("+86 138 1234 5678", "+8613812345678"),  # international form with spaces
        ("0086-138-1234-5678", "+8613812345678"),  # 00 prefix and dashes
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits
        ("021-6234 5678", "+862162345678"),  # Shanghai landline
        ("+852 9123 4567", "+85291234567"),  # Hong Kong mobile
    ],
)
def test_phones_to_e164(text, expected):
    assert one(parse.parse_phone, text) == (expected, False)


@pytest.mark.parametrize("text", ["12345", "1381234567", "call me"])  # too short, 10 digits, words
def test_invalid_phones_are_bad(text):
    assert one(parse.parse_phone, text) == (None, True)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,234.50", 1234.5),  # thousands separator
        ("￥560", 560.0),  # full-width yen sign
        ("¥1,000.00", 1000.0),  # yen sign and separator
        ("88元", 88.0),  # yuan suffix
        ("-60.00", -60.0),  # a return
        ("(3.00)", -3.0),  # accounting negative
        ("RMB 12", 12.0),  # currency code
    ],
)
def test_money(text, expected):
    assert one(parse.parse_money, text) == (expected, False)


@pytest.mark.parametrize("text", ["abc", "12,34", "1.2.3"])  # words, misplaced separator, two dots
def test_bad_money(text):
    assert one(parse.parse_money, text) == (None, True)


@pytest.mark.parametrize(
    "text, expected",
    [("男", "M"), ("女", "F"), ("先生", "M"), ("女士", "F"), ("m", "M"), ("Female", "F")],
)
def test_gender(text, expected):
    assert one(parse.parse_gender, text) == (expected, False)


def test_email_domain_lowercased_and_invalid_flagged():
    assert one(parse.parse_email, "LI.NA@Example.COM") == ("LI.NA@example.com", False)
    assert one(parse.parse_email, "not-an-email") == (None, True)
    assert one(parse.parse_email, "a b@example.com") == (None, True)  # space inside


@pytest.mark.parametrize(
    "column, text, expected",
    [
        ("birth_calendar", "农历", "lunar"),  # Chinese name of the lunar calendar
        ("birth_calendar", "公历", "solar"),
        ("language", "繁體", "zh-TW"),  # Traditional Chinese
        ("language", "EN", "en"),
        ("preferred_channel", "短信", "sms"),
        ("status", "已解决", "resolved"),
    ],
)
def test_enum_synonyms(column, text, expected):
    choices = {"birth_calendar": ("solar", "lunar"), "language": ("zh-CN", "zh-TW", "en"),
               "preferred_channel": ("post", "email", "sms"),
               "status": ("open", "resolved", "closed", "reopened")}[column]
    assert one(parse.parse_enum, text, column, choices) == (expected, False)


def test_postcode_six_digits_only():
    assert one(parse.parse_postcode, "200120") == ("200120", False)
    assert one(parse.parse_postcode, "'010010") == ("010010", False)  # Excel text marker
    assert one(parse.parse_postcode, "21000") == (None, True)  # five digits


def test_satisfaction_bounds():
    parsed = parse.parse_column(pd.Series(["5", "6", "0", "3.0"]), "int", "satisfaction")
    assert parsed.values.tolist() == [5, pd.NA, pd.NA, 3]
    assert parsed.bad.tolist() == [False, True, True, False]
    assert "from 1 to 5" in parse.bad_value_reason("int", "satisfaction")
