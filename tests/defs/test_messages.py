"""SMS and e-mail pieces end to end: the October 2027 edition of the fixture exports (国庆节
and 重阳节) through the job, then the blocking check that every planned piece has one
output, with an output taken away."""

from __future__ import annotations

import email
import shutil
from datetime import date
from email import policy

import dagster as dg
import pandas as pd
import pytest

from pipeline.defs.render.messages import EVERY_PIECE_ONCE, produced
from pipeline.defs.resources import ClubPressSettings
from pipeline.lib.delivery import produced as produced_lib
from pipeline.run import run_edition

AS_OF = date(2026, 12, 20)
MONTH = "2027-10"


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    from tests.conftest import DATA

    root = tmp_path_factory.mktemp("messages")
    shutil.copytree(DATA / "exports", root / "exports")
    run_edition(exports=root / "exports", out=root / "out", month=MONTH, as_of=AS_OF,
                config_file=None, warehouse=root / "warehouse.duckdb")
    return root / "out" / MONTH


def _csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def test_every_piece_of_the_plan_has_exactly_one_output(edition):
    plan = _csv(edition / "tables" / "contact_plan.csv")
    found = produced_lib.outputs(edition / "letters", edition / "newsletters",
                                 edition / "sms", edition / "email")
    counts = produced_lib.against_plan(plan, found)
    assert produced_lib.is_complete(counts), counts
    assert counts["planned_email"] > 0 and counts["planned_sms"] > 0  # both channels used


def test_national_day_goes_by_email_and_sms_with_its_wording(edition):
    texts = _csv(edition / "sms" / "messages.csv")
    national = texts[texts["kind"] == "festival-national-day"]
    # 张三 (M0005) consents to SMS only: his mobile gets the greeting on 1 October
    row = national.set_index("member_id").loc["M0005"]
    assert row["text"].startswith("【江畔花园】尊敬的张先生，") and "国庆快乐" in row["text"]
    assert row["text"].endswith("回T退订")
    assert (row["send_on"], row["segments"], row["phone"]) == ("2027-10-01", "1", "+8613500004444")  # E.164 as the gateway needs it
    outbox = _csv(edition / "email" / "outbox.csv").set_index("piece_id")
    mail = outbox.loc["202710-festival-national-day-M0001"]
    assert mail["subject"] == "国庆快乐 · 江畔花园业主俱乐部"
    msg = email.message_from_bytes((edition / "email" / mail["file"]).read_bytes(),
                                   policy=policy.default)
    assert msg["To"] == "王伟 <wang.wei@example.com>"
    assert "举国同庆" in msg.get_body(("plain",)).get_content()
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_double_ninth_only_for_members_aged_60_and_over(edition):
    plan = _csv(edition / "tables" / "contact_plan.csv")
    suppressed = _csv(edition / "tables" / "suppressed.csv")
    asked = set(plan.loc[plan["kind"] == "festival-double-ninth", "member_id"]) | set(
        suppressed.loc[suppressed["kind"] == "festival-double-ninth", "member_id"])
    assert asked == {"M0003", "M0005"}  # born 1966 and 1957; everyone else is younger
    assert "M0001" in set(plan.loc[plan["kind"] == "festival-national-day", "member_id"])


def test_no_festival_letter_outside_spring_and_mid_autumn(edition):
    plan = _csv(edition / "tables" / "contact_plan.csv")
    festivals = plan[plan["kind"].str.startswith("festival-")]
    assert set(festivals["channel"]) <= {"email", "sms"}


def test_site_links_the_sms_list_the_outbox_and_sample_emails(edition):
    site = (edition / "index.html").read_text("utf-8")
    assert 'href="sms/messages.csv"' in site and 'href="email/outbox.csv"' in site
    assert 'href="email/festival-national-day/202710-festival-national-day-' in site


def _check(work, plan: pd.DataFrame) -> dg.AssetCheckResult:
    settings = ClubPressSettings(out_dir=str(work), as_of=AS_OF.isoformat())
    context = dg.build_asset_context(partition_key=f"{MONTH}-01", resources={"settings": settings})
    results = list(produced(context, contact_plan=plan))
    return next(r for r in results if isinstance(r, dg.AssetCheckResult))


def test_the_blocking_check_fails_when_a_planned_sms_was_not_written(edition, tmp_path):
    plan = _csv(edition / "tables" / "contact_plan.csv")
    render = tmp_path / ".work" / "render" / MONTH
    for part in ("letters", "newsletters", "sms", "email"):
        shutil.copytree(edition / part, render / part)
    whole = _check(tmp_path, plan)
    assert whole.check_name == EVERY_PIECE_ONCE and whole.passed
    texts = _csv(render / "sms" / "messages.csv")
    texts.iloc[1:].to_csv(render / "sms" / "messages.csv", index=False, encoding="utf-8-sig")
    broken = _check(tmp_path, plan)
    assert not broken.passed and broken.metadata["missing"].value == 1
