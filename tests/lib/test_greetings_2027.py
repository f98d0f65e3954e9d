"""Every greeting of every edition month of 2027 is produced on its channel: the
festivals of the year through the contact plan into SMS rows, .eml files and letters.
(The job tests cover the newsletters and the PDFs.)"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.defs.calendar.assets import club_calendar
from pipeline.lib.delivery import emails, produced, sms
from pipeline.lib.documents import letters
from pipeline.lib.rules.calendar import festivals_in_month
from pipeline.lib.rules.contact import plan_contacts
from pipeline.lib.edition import Edition
from pipeline.lib.rules.occasions import greeting_festivals, requests

CONFIG = load_config()
AS_OF = date(2026, 12, 20)
BASE = {
    "household_id": None, "address": "滨江大道88号", "postal_code": "200120",
    "province": "上海市", "city": "上海市", "district": "浦东新区",
    "preferred_channel": None, "has_consent_post": True, "has_consent_email": True,
    "has_consent_sms": True, "is_do_not_contact": False, "is_deceased": False,
    "join_date": pd.NaT, "move_in_date": pd.NaT,
}
# member_id, name, salutation, language, email, phone, preferred channel, birth date
MEMBERS = [
    ("M1", "王伟", "mr", "zh-CN", "wang@example.cn", "+8613812345678", "email", "1950-03-01"),
    ("M2", "陳美玲", "ms", "zh-TW", None, "+8613900001111", "sms", "1990-05-03"),
    ("M3", "Emma Clarke", "ms", "en", "emma@example.com", "+8613700003333", None, "1985-01-01"),
    # a landline only: SMS is unusable, e-mail carries what it can
    ("M4", "张建国", "mr", "zh-CN", "zhang@example.cn", "+862158880000", "sms", "1960-10-01"),
    # a 40-character name that still fits one SMS, by the fallback wording
    ("M5", "欧阳" + "测试名字很长" * 6 + "娜", "neutral", "zh-CN", None, "+8613600002222", "sms",
     "1966-09-09"),
]


def members() -> pd.DataFrame:
    rows = [BASE | {"member_id": m, "name": n, "salutation": t, "language": lang, "email": e,
                    "phone": p, "preferred_channel": c, "birth_date": pd.Timestamp(born)}
            for m, n, t, lang, e, p, c, born in MEMBERS]
    frame = pd.DataFrame(rows)
    text = ["member_id", "name", "household_id", "address", "postal_code", "province", "city",
            "district", "email", "phone", "preferred_channel", "language", "salutation"]
    return frame.astype({c: "string" for c in text})


NO_BIRTHDAYS = pd.DataFrame({"member_id": pd.Series([], dtype="string"), "birthday": [],
                             "age": pd.Series([], dtype="Int64"), "milestone": []})
NO_ANNIVERSARIES = pd.DataFrame({"member_id": pd.Series([], dtype="string"), "kind": [],
                                 "anniversary_date": [], "years": pd.Series([], dtype="Int64")})


def edition_outputs(month: str, tmp_path):
    edition = Edition(month, AS_OF)
    holidays = club_calendar(CONFIG, edition.first_day.year)
    festivals = greeting_festivals(
        festivals_in_month(holidays, edition.first_day.year, edition.first_day.month),
        CONFIG.calendar.greeting_festivals)
    people = members()
    wanted = requests(people, NO_BIRTHDAYS, NO_ANNIVERSARIES, festivals,
                      pd.Timestamp(edition.first_day), CONFIG.calendar.festival_min_age)
    plan = plan_contacts(people, wanted, None, edition, CONFIG.contact).plan
    greetings = plan[plan["kind"] != "newsletter"]
    args = (greetings, people, NO_BIRTHDAYS, NO_ANNIVERSARIES, holidays, month)
    texts = sms.messages(sms.sms_pieces(*args), CONFIG, AS_OF)
    folder = tmp_path / month / "email"
    outbox = emails.write_outbox(
        emails.write_greetings(emails.greeting_pieces(*args), CONFIG, AS_OF, folder), folder)
    printed = letters.letter_pieces(*args)
    found = pd.DataFrame({
        "piece_id": [*printed["piece_id"], *outbox["piece_id"], *texts["piece_id"]],
        "channel": ["post"] * len(printed) + ["email"] * len(outbox) + ["sms"] * len(texts),
    }).astype("string")
    return greetings, found, texts, outbox


@pytest.mark.parametrize("month", [f"2027-{m:02d}" for m in range(1, 13)])
def test_every_greeting_of_the_month_has_exactly_one_output(month, tmp_path):
    greetings, found, texts, _ = edition_outputs(month, tmp_path)
    counts = produced.against_plan(greetings, found)
    assert produced.is_complete(counts), counts
    assert (texts["segments"] <= CONFIG.sms.max_segments).all()
    assert "M4" not in set(texts["member_id"])  # nothing goes to the landline


@pytest.mark.parametrize(
    ("month", "kind", "sms_words", "subject"),
    [
        ("2027-01", "festival-new-year", "元旦快乐", "元旦快乐 · 江畔花园业主俱乐部"),
        ("2027-05", "festival-labour-day", "劳动节快乐", "劳动节快乐 · 江畔花园业主俱乐部"),
        ("2027-10", "festival-national-day", "国庆快乐", "国庆快乐 · 江畔花园业主俱乐部"),
    ],
)
def test_the_festivals_clubs_greet_are_sent_with_their_wording(month, kind, sms_words, subject,
                                                               tmp_path):
    greetings, _, texts, outbox = edition_outputs(month, tmp_path)
    assert set(greetings.loc[greetings["kind"] == kind, "member_id"]) == {"M1", "M2", "M3", "M4",
                                                                          "M5"}
    ours = texts[texts["kind"] == kind].set_index("member_id")
    assert sms_words in ours.loc["M5", "text"] and ours.loc["M5", "wording"] == "short"
    assert ours.loc["M2", "text"].endswith("回T退訂")  # zh-TW
    mails = outbox[outbox["kind"] == kind].set_index("member_id")
    assert mails.loc["M1", "subject"] == subject
    assert set(mails.index) == {"M1", "M3", "M4"}  # M4's landline: e-mail instead
