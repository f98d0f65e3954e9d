"""The monthly job for every edition month of 2026 and 2027, 2028-02 and a 31 December
cut-off, on one small generated sample (`clubpress sample`), in one process.

2026 has a published official holiday arrangement (data/reference/holiday-cn/), 2027 and
2028 have none; most months have a greeted festival, five a year have none. Every run must
complete, reconcile every export row and send exactly the greetings a user expects.

The runs share one exports folder, out folder and warehouse, as a club's monthly runs do.
Twelve members of the sample are given a solar birthday in each calendar month, by post,
so that every month prints birthday letters; the rest of the sample stays as generated
(lunar and leap-day births, households, bad rows that are quarantined).
"""

from __future__ import annotations

import csv
import shutil
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from clubpress_tools.sample import write_sample
from pipeline.run import run_edition

SAMPLE_MEMBERS = 30
SAMPLE_AS_OF = date(2026, 11, 20)
INPUT_TABLES = ("members", "transactions", "complaints", "contacts", "events")

# (edition month, cut-off): the schedule's day (the 20th of the month before), then a
# leap February and a cut-off on 31 December (the edition is the month after it).
SWEEP = [
    *((f"{y}-{m:02d}", date(y - (m == 1), 12 if m == 1 else m - 1, 20))
      for y in (2026, 2027) for m in range(1, 13)),
    ("2028-02", date(2028, 1, 20)),
    ("2028-01", date(2027, 12, 31)),
]

# The festivals the default club.yaml greets (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆,
# and 重阳 for members of 60 and over), by the month they fall in; March, July, August,
# November and December have no festival greeting.
FESTIVAL_MONTHS = {
    "2026-01": {"new-year"},
    "2026-02": {"spring"},                          # 春节 2026-02-17
    "2026-04": {"qingming"},                        # 清明 2026-04-05
    "2026-05": {"labour-day"},
    "2026-06": {"dragon-boat"},                     # 端午 2026-06-19
    "2026-09": {"mid-autumn"},                      # 中秋 2026-09-25
    "2026-10": {"national-day", "double-ninth"},    # 重阳 2026-10-18
    "2027-01": {"new-year"},
    "2027-02": {"spring"},                          # 春节 2027-02-06
    "2027-04": {"qingming"},                        # 清明 2027-04-05
    "2027-05": {"labour-day"},
    "2027-06": {"dragon-boat"},                     # 端午 2027-06-09
    "2027-09": {"mid-autumn"},                      # 中秋 2027-09-15
    "2027-10": {"national-day", "double-ninth"},    # 重阳 2027-10-08
    "2028-01": {"new-year", "spring"},              # 春节 2028-01-26
}
PUBLISHED_ARRANGEMENTS = {2026}  # of the years the sweep touches


def _shape_birthdays(members_csv: Path) -> None:
    """Give the first twelve members a solar birthday on the 15th of month 1..12, by
    post, at a usable address (outside any household)."""
    with members_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    at = {name: header.index(name) for name in header}
    for month, row in enumerate(body[:12], start=1):
        changes = {"出生日期": f"{1950 + month * 3}-{month:02d}-15", "历法": "solar", "闰月": "",
                   "首选渠道": "post", "同意邮寄": "是", "勿扰": "否", "已故": "否", "户号": "",
                   "详细地址": f"滨江大道{month}号", "邮编": "200120"}
        for column, value in changes.items():
            row[at[column]] = value
    with members_csv.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *body])


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    exports = tmp_path_factory.mktemp("sweep") / "exports"
    written = write_sample(exports, SAMPLE_MEMBERS, seed=2026, as_of=SAMPLE_AS_OF)
    _shape_birthdays(exports / "members.csv")
    return exports, written


@pytest.fixture(scope="module")
def club(tmp_path_factory) -> Path:
    """The out folder and warehouse every run of the sweep shares."""
    return tmp_path_factory.mktemp("club")


def _table(edition: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(edition / "tables" / f"{name}.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


@pytest.mark.parametrize(("month", "as_of"), SWEEP, ids=[f"{m}-cutoff-{a}" for m, a in SWEEP])
def test_every_edition_month_completes_and_sends_what_it_should(sample, club, month, as_of):
    exports, written = sample
    edition = run_edition(exports, club / "out", month, as_of, None, club / "warehouse.duckdb",
                          processes=1)
    assert edition == club / "out" / month

    # run.json: this edition and cut-off; every export row loaded or quarantined.
    record = json.loads((edition / "run.json").read_text("utf-8"))
    assert (record["edition"], record["as_of"]) == (month, as_of.isoformat())
    reconciliation = record["reconciliation"]
    for table in INPUT_TABLES:
        counts = reconciliation[table]
        assert counts["rows_read"] == written[table], table
        assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"], table
    contact = reconciliation["contact_plan"]
    assert contact["eligible"] == contact["planned"] + contact["suppressed"]

    # The letters are exactly the planned post greetings, in batches whose pages add up.
    plan = _table(edition, "contact_plan")
    manifest = pd.read_csv(edition / "letters" / "manifest.csv", encoding="utf-8-sig", dtype=str)
    posted = plan[(plan["channel"] == "post") & (plan["kind"] != "newsletter")]
    assert sorted(manifest["piece_id"]) == sorted(posted["piece_id"])
    for batch, rows in manifest.groupby("batch"):
        assert len(PdfReader(edition / "letters" / batch).pages) == rows["page_count"].astype(int).sum()

    # Birthday letters every month (the shaped members), each for a birthday in the month.
    birthdays = _table(edition, "upcoming_birthdays")
    assert (birthdays["birthday"].str[:7] == month).all()
    birthday_letters = manifest[manifest["kind"] == "birthday"]
    assert len(birthday_letters) >= 1
    assert set(birthday_letters["member_id"]) <= set(birthdays["member_id"])

    # Festival greetings in a month with a greeted festival, none in a month without;
    # letters for 春节 and 中秋 (the festivals greeted by post), e-mail or SMS for the rest.
    suppressed = _table(edition, "suppressed")
    asked = {k for k in [*plan["kind"], *suppressed["kind"]] if k.startswith("festival-")}
    expected = {f"festival-{key}" for key in FESTIVAL_MONTHS.get(month, ())}
    assert asked == expected
    festival_folders = {k for k in manifest["kind"] if k.startswith("festival-")}
    assert festival_folders == expected & {"festival-spring", "festival-mid-autumn"}

    # Every e-mail piece has its .eml in the outbox, every SMS piece its message row.
    outbox = pd.read_csv(edition / "email" / "outbox.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(outbox["piece_id"]) == sorted(plan.loc[plan["channel"] == "email", "piece_id"])
    assert all((edition / "email" / f).is_file() for f in outbox["file"])
    texts = pd.read_csv(edition / "sms" / "messages.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(texts["piece_id"]) == sorted(plan.loc[plan["channel"] == "sms", "piece_id"])

    # One e-mail newsletter per planned e-mail newsletter piece.
    emailed = plan[(plan["kind"] == "newsletter") & (plan["channel"] == "email")]
    assert len(list((edition / "newsletters" / "html").glob("*.html"))) == len(emailed) > 0

    # Official days off only for a year whose arrangement is published.
    holidays = _table(edition, "holidays")
    year = int(month[:4])
    days_off = holidays[(holidays["kind"] == "statutory_off") & holidays["date"].str.startswith(str(year))]
    assert (len(days_off) > 0) == (year in PUBLISHED_ARRANGEMENTS)

    # The report's cover names the edition; the proofs and the delivery archive are there.
    cover = PdfReader(edition / "report" / "monthly-report.pdf").pages[0].extract_text()
    assert f"{int(month[:4])}年{int(month[5:])}月刊" in cover
    assert (edition / "proofs" / "proofs.pdf").stat().st_size > 0
    assert (edition / "delivery" / f"mailing-house-{month}.zip").is_file()


# --------------------------------------------------------------------------- empty inputs


def _rewrite_members(members_csv: Path, changes: dict[str, str]) -> None:
    with members_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    for row in body:
        for column, value in changes.items():
            if len(row) == len(header):  # the sample's malformed rows stay as they are
                row[header.index(column)] = value
    with members_csv.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *body])


# name: (edition, cut-off, export files removed, files cut to their header, members changes)
EMPTY_INPUTS = {
    # January 2027: no festival; no transactions, complaints, contacts or events file;
    # nobody may be written to by post (no letters, no printed newsletter).
    "members-only-nobody-by-post": ("2027-01", date(2026, 12, 6),
                                    ("transactions", "complaints", "contacts", "events"), (),
                                    {"同意邮寄": "否"}),
    # October 2026 (国庆节, 重阳节): every other export header-only; no e-mail address, no birth,
    # join or move-in date (no birthday, no anniversary, no e-mail newsletter).
    "header-only-nobody-by-email": ("2026-10", date(2026, 9, 20), (),
                                    ("transactions", "complaints", "contacts", "events"),
                                    {"邮箱": "", "出生日期": "", "入会日期": "", "入住日期": ""}),
}


@pytest.mark.parametrize("name", list(EMPTY_INPUTS))
def test_an_edition_completes_with_empty_inputs_of_every_kind(sample, tmp_path, name):
    month, as_of, removed, header_only, changes = EMPTY_INPUTS[name]
    exports = tmp_path / "exports"
    shutil.copytree(sample[0], exports)
    for table in removed:
        (exports / f"{table}.csv").unlink()
    for table in header_only:
        path = exports / f"{table}.csv"
        path.write_text(path.read_text("utf-8-sig").splitlines()[0] + "\n", "utf-8-sig")
    _rewrite_members(exports / "members.csv", changes)

    edition = run_edition(exports, tmp_path / "out", month, as_of, None,
                          tmp_path / "warehouse.duckdb", processes=1)
    record = json.loads((edition / "run.json").read_text("utf-8"))
    for table in INPUT_TABLES:
        counts = record["reconciliation"][table]
        assert counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]
        if table in removed or table in header_only:
            assert counts["rows_read"] == 0, table
    plan = _table(edition, "contact_plan")
    manifest = pd.read_csv(edition / "letters" / "manifest.csv", encoding="utf-8-sig", dtype=str)
    posted = plan[(plan["channel"] == "post") & (plan["kind"] != "newsletter")]
    assert sorted(manifest["piece_id"]) == sorted(posted["piece_id"])
    emailed = list((edition / "newsletters" / "html").glob("*.html"))
    if "同意邮寄" in changes:
        assert "post" not in set(plan["channel"]) and manifest.empty
        assert not list((edition / "newsletters").rglob("*.pdf"))
        assert len(emailed) == ((plan["kind"] == "newsletter") & (plan["channel"] == "email")).sum() > 0
    else:
        assert "email" not in set(plan["channel"]) and not emailed
        assert _table(edition, "upcoming_birthdays").empty and _table(edition, "anniversaries").empty
        # No birthday, no anniversary, and 国庆节 is greeted by SMS: no letter. 重阳节 is
        # asked only for members known to be 60 or over, and no birth date is known.
        assert manifest.empty
        suppressed = _table(edition, "suppressed")
        assert {k for k in [*plan["kind"], *suppressed["kind"]]
                if k.startswith("festival-")} == {"festival-national-day"}
    assert _table(edition, "complaint_stats").empty
    cover = PdfReader(edition / "report" / "monthly-report.pdf").pages[0].extract_text()
    assert f"{int(month[:4])}年{int(month[5:])}月刊" in cover
