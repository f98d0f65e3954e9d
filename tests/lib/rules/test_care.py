"""care_response: did greeted members buy within the window, against those not sent it."""

from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.lib.rules import care
from pipeline.lib.edition import Edition

EDITION = Edition("2027-01", date(2026, 12, 6))


def contacts(*rows):
    frame = pd.DataFrame(list(rows), columns=["member_id", "contact_date", "channel", "purpose"])
    return frame.assign(contact_date=pd.to_datetime(frame["contact_date"]))


def purchases(*rows):
    frame = pd.DataFrame(list(rows), columns=["member_id", "txn_at"])
    return frame.assign(txn_at=pd.to_datetime(frame["txn_at"], format="ISO8601"))


def test_greetings_by_purpose_bought_within_the_window():
    found = care.care_response(
        contacts(("M1", "2026-10-05", "post", "生日贺卡"),  # bought 10 days later
                 ("M2", "2026-10-05", "post", "生日贺卡"),  # bought 40 days later: too late
                 ("M3", "2026-10-05", "post", "缴费提醒"),  # a service contact: not a greeting
                 ("M4", "2026-11-20", "sms", "节日问候"),  # window not over by the cut-off
                 ("M5", "2026-03-01", "sms", "节日问候"),  # older than care.months
                 ("M6", "2026-09-10", "sms", "festival-mid-autumn")),  # our own kind
        care.earlier_plans(Path("/nonexistent"), "2027-01"),
        purchases(("M1", "2026-10-15 12:00"), ("M2", "2026-11-14"), ("M6", "2026-09-10 09:00")),
        care.CareRules(), EDITION)
    rows = {(r.kind, r.channel, r.group): (r.members, r.responded) for r in found.itertuples()}
    # M6 bought the same day the greeting went out: before it, so not a response
    assert rows == {("birthday", "post", "greeted"): (2, 1), ("festival", "sms", "greeted"): (1, 0)}
    assert list(found.columns) == list(care.COLUMNS)


def test_earlier_editions_give_greeted_and_comparison_groups(tmp_path):
    tables = tmp_path / "2026-10" / "tables"
    tables.mkdir(parents=True)
    pd.DataFrame({"member_id": ["M1", "M2"], "kind": ["birthday", "birthday"],
                  "channel": ["post", "email"]}).to_parquet(tables / "contact_plan.parquet")
    pd.DataFrame({"member_id": ["M3", "M4", "M5"], "kind": ["birthday"] * 3,
                  "reason": ["no_consent", "deceased", "household_duplicate"]}).to_parquet(
        tables / "suppressed.parquet")
    plans = care.earlier_plans(tmp_path, "2027-01")
    found = care.care_response(contacts(), plans,
                               purchases(("M1", "2026-10-12"), ("M3", "2026-10-20")),
                               care.CareRules(), EDITION)
    rows = {(r.channel, r.group): (r.members, r.responded) for r in found.itertuples()}
    # M4 died and M5's household got the letter: neither is a comparison member
    assert rows == {("email", "greeted"): (1, 0), ("post", "greeted"): (1, 1),
                    ("none", "comparison"): (1, 1)}
    assert care.earlier_plans(tmp_path, "2026-10").empty  # only editions before this one


def test_one_greeting_per_member_kind_channel_and_month_counted_from_its_first_day():
    found = care.care_response(
        contacts(("M1", "2026-10-05", "post", "生日贺卡"),  # twice in October: one greeting,
                 ("M1", "2026-10-20", "post", "生日贺卡"),  # from the 5th
                 ("M1", "2026-09-05", "post", "生日贺卡")),  # September's is another
        care.earlier_plans(Path("/nonexistent"), "2027-01"),
        purchases(("M1", "2026-10-08")),  # after the 5th, before the 20th: a response
        care.CareRules(), EDITION)
    rows = {(r.kind, r.channel, r.group): (r.members, r.responded) for r in found.itertuples()}
    assert rows == {("birthday", "post", "greeted"): (2, 1)}
