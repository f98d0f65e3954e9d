"""SMS greetings as a gateway and a member see them: 3GPP lengths, the wording within
the segment budget, the signature and opt-out, send dates and a safe CSV."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.lib.delivery import sms
from pipeline.lib.rules.occasions import send_on
from pipeline.lib.delivery.sms_length import sms_length

CONFIG = load_config()
LONG_NAME = "欧阳" + "测试名字很长" * 6 + "娜"  # 40 characters, as a CRM may hold


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "segments"),
    [
        ("", "gsm7", 0, 1),  # an empty text is still one message
        ("Happy birthday!", "gsm7", 15, 1),  # plain ASCII: GSM-7
        ("a" * 160, "gsm7", 160, 1),  # a full single GSM-7 message
        ("a" * 161, "gsm7", 161, 2),  # one more: two segments of at most 153
        ("a" * 306, "gsm7", 306, 2),  # 2 x 153
        ("a" * 307, "gsm7", 307, 3),
        ("Price: 5€", "gsm7", 10, 1),  # € is in the extension table: it counts two
        ("{}[]~^|\\", "gsm7", 16, 1),  # every extension character counts two
        ("€" * 80, "gsm7", 160, 1),  # 80 escapes fill one message exactly
        ("€" * 81, "gsm7", 162, 2),
        ("a" * 152 + "€" + "a" * 8, "gsm7", 162, 2),  # an escape is not split: fits 153
        ("a" * 152 + "€" * 5, "gsm7", 162, 2),
        ("a" * 152 + "€" * 77, "gsm7", 306, 3),  # 152 + (76 x 2 = 152): a third segment
        ("Ça va? é ü ñ", "gsm7", 12, 1),  # accented letters of the basic table count one
        ("ça", "ucs2", 2, 1),  # lower-case ç is not in the GSM alphabet: UCS-2
        ("`", "ucs2", 1, 1),  # nor the backtick
        ("生日快乐", "ucs2", 4, 1),  # Chinese: UCS-2
        ("你" * 70, "ucs2", 70, 1),  # a full single UCS-2 message
        ("你" * 71, "ucs2", 71, 2),  # one more: segments of 67
        ("你" * 134, "ucs2", 134, 2),  # 2 x 67
        ("你" * 135, "ucs2", 135, 3),
        ("𠮷", "ucs2", 2, 1),  # outside the BMP: a surrogate pair, two units
        ("𠮷" * 35, "ucs2", 70, 1),
        ("𠮷" * 36, "ucs2", 72, 2),
        ("你" * 66 + "𠮷" + "你", "ucs2", 69, 1),  # 69 units still fit one message
        ("你" * 66 + "𠮷" * 3, "ucs2", 72, 2),  # a pair is never split: 66 + 2 | 2 + 2
        ("你" * 66 + "𠮷" + "你" * 3, "ucs2", 71, 2),
        ("😀", "ucs2", 2, 1),  # emoji: outside the BMP too
        ("Hi 😀", "ucs2", 5, 1),  # one emoji makes the ASCII text UCS-2
        ("【江畔花园】Happy birthday", "ucs2", 20, 1),  # 【】 are not GSM: UCS-2
        ("a" * 69 + "€", "gsm7", 71, 1),  # mixed but all GSM: 69 + 2 septets
        ("a" * 69 + "中", "ucs2", 70, 1),  # mixed with Chinese: UCS-2, 70 units
        ("a" * 70 + "中", "ucs2", 71, 2),
    ],
)
def test_sms_length_follows_3gpp(text, encoding, characters, segments):
    length = sms_length(text)
    assert (length.encoding, length.characters, length.segments) == (encoding, characters, segments)


def view(**changes) -> dict:
    """A piece as letters.piece_view gives it."""
    base = {"piece_id": "202701-birthday-M1", "lang": "zh-CN", "kind": "birthday",
            "name": "王伟", "title": "mr", "is_milestone": False, "age": 45, "years": None,
            "count_zh": "四十五", "count_ordinal": "45th", "festival_key": "",
            "festival_name": "", "festival_name_en": "", "zodiac": 7,
            "occasion_date": date(2027, 1, 8)}
    return base | changes


def test_birthday_sms_starts_with_the_signature_and_greets_by_name():
    text = sms.compose(view(), CONFIG)
    assert text.text.startswith("【江畔花园】尊敬的王先生，")
    assert "生日快乐" in text.text and "退订" not in text.text  # a birthday is not marketing
    assert (text.wording, text.segments, text.encoding) == ("full", 1, "ucs2")


@pytest.mark.parametrize(
    ("kind", "lang", "words"),
    [
        ("festival-new-year", "zh-CN", "元旦快乐"),
        ("festival-labour-day", "zh-CN", "劳动节"),
        ("festival-national-day", "zh-CN", "国庆快乐"),
        ("festival-national-day", "zh-TW", "國慶快樂"),
        ("festival-labour-day", "en", "Labour Day"),
        ("festival-spring", "zh-CN", "羊年"),  # 2027 is the Year of the Goat
    ],
)
def test_festival_sms_has_its_wording_and_ends_with_the_opt_out(kind, lang, words):
    text = sms.compose(view(kind=kind, lang=lang, name="Wei Wang" if lang == "en" else "王伟"),
                       CONFIG)
    assert words in text.text
    assert text.text.endswith(CONFIG.sms.opt_out[lang])
    assert text.segments == 1


def test_milestone_birthday_has_its_own_wording():
    text = sms.compose(view(age=70, is_milestone=True, count_zh="七十"), CONFIG)
    assert "七十大寿" in text.text


def test_a_festival_without_its_own_wording_gets_the_generic_one():
    text = sms.compose(view(kind="festival-qixi", festival_name="七夕"), CONFIG)
    assert "值此七夕来临之际" in text.text


@pytest.mark.parametrize(
    ("name", "wording", "kept"),
    [
        ("王伟", "full", "尊敬的王伟会员"),  # no gender known: the full name, as in the letters
        # 40 characters: the full wording would take two messages, the short one fits
        (LONG_NAME, "short", "尊敬的" + LONG_NAME + "会员"),
        # 60 characters: even the short wording is too long with it, so the name is left
        # out (never cut) and the member is greeted as 尊敬的会员
        (LONG_NAME + "测试名字很长" * 3 + "欧阳", "generic", "尊敬的会员"),
        # a rare character outside the BMP counts two units: 25 of them are 50
        ("𠮷" * 25, "generic", "尊敬的会员"),
    ],
)
def test_budget_falls_back_to_shorter_wording_never_cuts_a_name(name, wording, kept):
    text = sms.compose(view(name=name, title="neutral"), CONFIG)
    assert text.wording == wording
    assert kept in text.text
    assert text.segments <= CONFIG.sms.max_segments
    if wording != "generic":
        assert name in text.text


def test_a_larger_budget_keeps_the_full_wording_with_a_long_name():
    config = CONFIG.model_copy(update={"sms": CONFIG.sms.model_copy(update={"max_segments": 2})})
    text = sms.compose(view(name=LONG_NAME, title="neutral"), config)
    assert (text.wording, text.segments) == ("full", 2)
    assert LONG_NAME in text.text


def test_a_signature_too_long_for_any_wording_stops_with_the_setting_named():
    club = CONFIG.club.model_copy(update={"sms_signature": "很长的签名" * 14})
    with pytest.raises(ValueError, match="sms.max_segments"):
        sms.compose(view(), CONFIG.model_copy(update={"club": club}))


@pytest.mark.parametrize(
    ("occasion", "as_of", "expected"),
    [
        (date(2027, 1, 8), date(2026, 12, 20), date(2027, 1, 8)),  # the day itself
        (date(2027, 1, 1), date(2027, 1, 1), date(2027, 1, 2)),  # on the cut-off: the day after
        (date(2027, 1, 3), date(2027, 1, 10), date(2027, 1, 11)),  # a late run
    ],
)
def test_send_on(occasion, as_of, expected):
    assert send_on(occasion, as_of) == expected


def test_messages_csv_is_formula_safe_utf8_with_bom(tmp_path):
    pieces = pd.DataFrame([{
        "piece_id": "202701-birthday-M1", "member_id": "M1", "kind": "birthday",
        "language": "zh-CN", "name": "=HYPERLINK(1)", "salutation": "neutral",
        "household_size": 1, "occasion_date": pd.Timestamp(2027, 1, 8), "age": 30,
        "milestone": False, "years": None, "since_date": None, "festival_key": None,
        "festival_name": None, "festival_name_en": None, "phone": "+8613800138000",
        "province": "", "city": "", "district": "", "address": "", "postal_code": "",
    }])
    frame = sms.messages(pieces, CONFIG, date(2026, 12, 20))
    path = sms.write_messages(frame, tmp_path / "sms")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    read = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    assert list(read.columns) == list(sms.COLUMNS)
    row = read.iloc[0]
    # the gateway sends to the phone as written: E.164, no quote (it holds no formula)
    assert (row["phone"], row["send_on"], row["send_window"]) == (
        "+8613800138000", "2027-01-08", "09:00-20:00")
    assert "=HYPERLINK(1)" in row["text"]  # the name is kept as text in the message
    assert int(row["characters"]) == sms_length(frame["text"].iloc[0]).characters
