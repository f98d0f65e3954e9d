"""E-mail pieces as a mail server and a member see them: RFC 5322 files that parse, the
headers an ESP needs, nothing loaded from outside, hostile names shown as text."""

from __future__ import annotations

import email
import re
from datetime import date
from email import policy

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.lib.delivery import emails

CONFIG = load_config()
HOSTILE = '<img src="https://evil.example/x.png">{{ 7*7 }}'
AS_OF = date(2026, 12, 20)


def piece(**changes) -> dict:
    """One row of emails.greeting_pieces."""
    row = {
        "piece_id": "202701-birthday-M1", "member_id": "M1", "kind": "birthday",
        "language": "zh-CN", "name": "王伟", "salutation": "mr", "household_size": 1,
        "household_id": None, "occasion_date": pd.Timestamp(2027, 1, 8), "age": 45,
        "milestone": False, "years": None, "since_date": None, "festival_key": None,
        "festival_name": None, "festival_name_en": None, "email": "wang@example.cn",
        "province": "", "city": "", "district": "", "address": "", "postal_code": "",
    }
    return row | changes


FESTIVALS = [
    ("festival-new-year", "new-year", "元旦", "New Year's Day", date(2027, 1, 1)),
    ("festival-labour-day", "labour-day", "劳动节", "Labour Day", date(2027, 5, 1)),
    ("festival-national-day", "national-day", "国庆节", "National Day", date(2027, 10, 1)),
]


def festival_piece(kind, key, name, name_en, day, lang="zh-CN", member="M2"):
    return piece(piece_id=f"{day:%Y%m}-{kind}-{member}", member_id=member, kind=kind,
                 language=lang, occasion_date=pd.Timestamp(day), age=None,
                 festival_key=key, festival_name=name, festival_name_en=name_en)


def written(tmp_path, rows, config=CONFIG) -> tuple[pd.DataFrame, dict]:
    folder = tmp_path / "email"
    outbox = emails.write_outbox(
        emails.write_greetings(pd.DataFrame(rows), config, AS_OF, folder), folder)
    parsed = {row.piece_id: email.message_from_bytes((folder / row.file).read_bytes(),
                                                     policy=policy.default)
              for row in outbox.itertuples()}
    return outbox, parsed


def test_every_eml_parses_with_the_headers_an_esp_needs(tmp_path):
    outbox, parsed = written(tmp_path, [piece()])
    msg = parsed["202701-birthday-M1"]
    assert msg["Subject"] == "生日快乐 · 江畔花园业主俱乐部"
    assert msg["From"] == "江畔花园业主俱乐部 <club@riverside-garden.example>"
    assert msg["To"] == "王伟 <wang@example.cn>"
    assert msg["Date"] == "Fri, 08 Jan 2027 09:00:00 +0800"  # the birthday, window start
    assert msg["Message-ID"] == "<202701-birthday-M1@riverside-garden.example>"
    assert msg["List-Unsubscribe"] == (
        "<mailto:club@riverside-garden.example?subject=unsubscribe%20202701-birthday-M1>, "
        "<https://riverside-garden.example/unsubscribe?piece=202701-birthday-M1>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text = msg.get_body(("plain",)).get_content()
    assert "尊敬的王先生：" in text and "2027年1月8日" in text  # the birthday, under the heading
    assert list(outbox.columns) == list(emails.OUTBOX_COLUMNS)
    assert outbox.iloc[0]["file"] == "birthday/202701-birthday-M1.eml"
    assert outbox.iloc[0]["send_on"] == "2027-01-08"


def test_html_loads_nothing_from_outside(tmp_path):
    rows = [piece()] + [festival_piece(*f, lang=lang, member=f"M{i}{lang}")
                        for i, f in enumerate(FESTIVALS) for lang in ("zh-CN", "zh-TW", "en")]
    _, parsed = written(tmp_path, rows)
    for msg in parsed.values():
        html = msg.get_body(("html",)).get_content()
        assert not re.search(r"<(img|link|script|iframe|object|embed|video|audio)\b", html, re.I)
        assert not re.search(r"\bsrc=|url\(|@import|<style", html, re.I)
        assert 'style="' in html  # every style is inline


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh-CN", ["元旦快乐", "劳动节快乐", "国庆快乐"]),
     ("zh-TW", ["元旦快樂", "勞動節快樂", "國慶快樂"]),
     ("en", ["Happy New Year", "Happy Labour Day", "Happy National Day"])],
)
def test_new_festivals_have_their_written_wording(tmp_path, lang, words):
    _, parsed = written(tmp_path, [festival_piece(*f, lang=lang, member=f"M{i}")
                                   for i, f in enumerate(FESTIVALS)])
    subjects = [parsed[k]["Subject"] for k in sorted(parsed)]
    assert [s.split(" · ")[0] for s in subjects] == words
    # sent on the festival day itself, at the start of the sending window
    assert [parsed[k]["Date"] for k in sorted(parsed)] == [
        "Fri, 01 Jan 2027 09:00:00 +0800", "Sat, 01 May 2027 09:00:00 +0800",
        "Fri, 01 Oct 2027 09:00:00 +0800"]


def test_markup_in_a_name_is_text(tmp_path):
    _, parsed = written(tmp_path, [piece(name=HOSTILE, salutation="neutral")])
    msg = parsed["202701-birthday-M1"]
    html = msg.get_body(("html",)).get_content()
    assert "&lt;img src=" in html and "<img" not in html
    assert HOSTILE in msg.get_body(("plain",)).get_content()  # plain text, as written
    assert msg["To"].addresses[0].display_name == HOSTILE


def test_same_inputs_same_bytes(tmp_path):
    first = emails.write_greetings(pd.DataFrame([piece()]), CONFIG, AS_OF, tmp_path / "a")
    second = emails.write_greetings(pd.DataFrame([piece()]), CONFIG, AS_OF, tmp_path / "b")
    assert first == second
    path = "birthday/202701-birthday-M1.eml"
    assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def test_without_an_unsubscribe_url_the_mailto_alone(tmp_path):
    config = CONFIG.model_copy(update={"email": CONFIG.email.model_copy(
        update={"unsubscribe_url": "", "unsubscribe_mailto": "stop@riverside-garden.example"})})
    _, parsed = written(tmp_path, [piece()], config)
    msg = parsed["202701-birthday-M1"]
    assert msg["List-Unsubscribe"] == (
        "<mailto:stop@riverside-garden.example?subject=unsubscribe%20202701-birthday-M1>")
    assert msg["List-Unsubscribe-Post"] is None  # RFC 8058 needs an https URI


def test_a_hostile_member_id_stays_inside_the_email_folder(tmp_path):
    outbox, _ = written(tmp_path, [piece(piece_id="202701-birthday-___x_d6b96a97",
                                         member_id="../x")])
    assert outbox.iloc[0]["file"] == "birthday/202701-birthday-___x_d6b96a97.eml"
    assert [p.name for p in (tmp_path / "email").rglob("*.eml")] == [
        "202701-birthday-___x_d6b96a97.eml"]


def test_outbox_is_formula_safe_utf8_with_bom(tmp_path):
    written(tmp_path, [piece(email="-x@example.cn")])
    raw = (tmp_path / "email" / "outbox.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    outbox = pd.read_csv(tmp_path / "email" / "outbox.csv", dtype=str, encoding="utf-8-sig")
    assert outbox.iloc[0]["to"] == "'-x@example.cn"  # a leading - is quoted, not run


def test_headers_stay_within_rfc_line_and_encoded_word_limits(tmp_path):
    long_name = "欧阳" + "测试名字很长" * 6 + "娜"  # 40 characters
    outbox, parsed = written(tmp_path, [piece(name=long_name, salutation="neutral")])
    raw = (tmp_path / "email" / outbox.iloc[0]["file"]).read_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are ASCII on the wire
    assert all(len(w) <= 75 for w in re.findall(r"=\?utf-8\?b\?[^?]*\?=", head))  # RFC 2047
    assert all(len(line) <= 78 for line in head.split("\r\n")
               if "<mailto:" not in line and "<https:" not in line)  # a URI is never split
    assert all(len(line) <= 998 for line in head.split("\r\n"))
    assert long_name.replace(" ", "") == str(parsed["202701-birthday-M1"]["To"]).split(" <")[0] \
        .replace(" ", "")
