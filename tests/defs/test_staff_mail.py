"""Staff and mailing house end to end: the call list, mail-by dates in weekly drops, and
returned mail keeping members off post in the next edition.

One story on a 150-member synthetic sample, run through the command line:
1. December 2026 (cut-off 2026-11-20) with `print.drops: weekly`;
2. the mailing house returns three December letters (`returns.csv`);
3. February 2027 (cut-off 2027-01-20) from the same exports plus the returns.
"""

import stat
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from io import StringIO

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.lib.read.ingest import ingest_table
from pipeline.lib.read.schema import TABLES

CONFIG = "print:\n  drops: weekly\n  lead_days: 7\n"


def _cli(argv: list[str]) -> None:
    with redirect_stdout(StringIO()), redirect_stderr(StringIO()):
        assert main(argv) == 0, argv


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = tmp_path_factory.mktemp("staff")
    exports, out, config = root / "exports", root / "out", root / "club.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    _cli(["sample", "--members", "150", "--out", str(exports), "--seed", "7"])
    common = ["--exports", str(exports), "--out", str(out), "--config", str(config),
              "--warehouse", str(root / "w.duckdb"), "--processes", "1"]
    _cli(["run", *common, "--as-of", "2026-11-20"])
    december = out / "2026-12"
    manifest = pd.read_csv(december / "letters" / "manifest.csv", dtype=str, encoding="utf-8-sig")
    members = ingest_table(exports, TABLES["members"], as_of=date(2026, 11, 20)).frame
    # three returned letters, of members post alone can reach (so the suppression shows)
    post_only = members.loc[~members["has_consent_email"] & ~members["has_consent_sms"], "member_id"]
    picked = manifest[manifest["member_id"].isin(set(post_only))].head(3)
    assert len(picked) == 3, "the sample should post letters to three post-only members"
    pd.DataFrame({"信函编号": picked["piece_id"], "退回日期": "2026-12-10",
                  "退件原因": "查无此人"}).to_csv(exports / "退件.csv", index=False)
    _cli(["run", *common, "--as-of", "2027-01-20"])
    return {"root": root, "december": december, "next": out / "2027-02",
            "manifest": manifest, "members": members, "returned": picked}


def _table(edition, name):
    return pd.read_csv(edition / "tables" / f"{name}.csv", dtype=str, encoding="utf-8-sig",
                       keep_default_na=False)


def _calls(edition):
    return pd.read_csv(edition / "calls" / "call-list.csv", dtype=str, encoding="utf-8-sig",
                       keep_default_na=False)


def test_call_list_holds_every_milestone_birthday_and_key_member_at_risk(story):
    december, members = story["december"], story["members"].set_index("member_id")
    calls = _calls(december).set_index("member_id")
    callable_ = members[members["phone"].notna() & ~members["is_do_not_contact"]
                        & ~members["is_deceased"]].index
    birthdays = _table(december, "upcoming_birthdays")
    milestones = set(birthdays.loc[birthdays["milestone"] == "True", "member_id"]) & set(callable_)
    churn = _table(december, "churn_risk")
    key_at_risk = set(churn.loc[churn["tier"] == "key", "member_id"]) & set(callable_)
    assert key_at_risk, "the sample should have key members at risk"
    assert milestones | key_at_risk <= set(calls.index)
    assert calls.loc[sorted(milestones), "reason"].isin(
        ["milestone_birthday", "complaint_follow_up"]).all()
    # full phone numbers (written '+86... so a spreadsheet keeps the +), not masked
    for member_id in sorted(key_at_risk):
        assert calls.loc[member_id, "phone"] == "'" + members.loc[member_id, "phone"]
    assert not calls["phone"].str.contains(r"\*").any()
    assert calls["priority"].astype(int).tolist() == list(range(1, len(calls) + 1))


def test_call_list_is_staff_only(story):
    december = story["december"]
    path = december / "calls" / "call-list.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    phones = [p.lstrip("'") for p in _calls(december)["phone"]]
    archive = december / "delivery" / "mailing-house-2026-12.zip"
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        assert not any("call" in name for name in names)
        content = b"".join(opened.read(name) for name in names if not name.endswith(".pdf"))
    assert not any(phone.encode() in content for phone in phones)
    index = (december / "index.html").read_text("utf-8")
    assert 'href="calls/call-list.csv"' in index


def test_weekly_drops_mail_every_piece_within_its_week_and_before_its_day(story):
    manifest = story["manifest"]
    assert len(manifest) > 3
    mail_by, drop = pd.to_datetime(manifest["mail_by"]), pd.to_datetime(manifest["drop_on"])
    occasion = pd.to_datetime(manifest["occasion_date"])
    assert ((drop <= mail_by) & (mail_by <= drop + pd.Timedelta(days=6))).all()
    assert (mail_by <= occasion).all()
    assert (mail_by >= pd.Timestamp(2026, 11, 20)).all()
    assert manifest.groupby("batch")["drop_on"].nunique().max() == 1
    assert manifest["drop_on"].nunique() > 1  # a month of birthdays spans several weeks
    readme = (story["december"] / "letters" / "README.txt").read_text("utf-8-sig")
    for drop_on in manifest["drop_on"].unique():
        assert drop_on in readme


def test_returned_letters_keep_their_members_off_post_next_edition(story):
    later, returned = story["next"], story["returned"]
    ids = set(returned["member_id"])
    assert set(_table(later, "returned_addresses")["member_id"]) == ids
    plan = _table(later, "contact_plan")
    assert not ((plan["channel"] == "post") & plan["member_id"].isin(ids)).any()
    suppressed = _table(later, "suppressed")
    theirs = suppressed[suppressed["member_id"].isin(ids)]
    assert len(theirs) and (theirs["reason"] == "address_returned").all()
    calls = _calls(later).set_index("member_id")
    with_phone = {m for m in ids if pd.notna(story["members"].set_index("member_id").loc[m, "phone"])}
    assert with_phone <= set(calls.index)
    assert all("信件被退回（查无此人）" in calls.loc[m, "talking_points"] for m in with_phone)


def test_returns_reconcile_like_every_table(story):
    import json

    record = json.loads((story["next"] / "run.json").read_text("utf-8"))
    assert record["reconciliation"]["returns"] == {
        "rows_read": 3, "rows_loaded": 3, "rows_quarantined": 0}
