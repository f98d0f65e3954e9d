"""Every edition month from 2015-01 to 2035-12 through the pure functions of an edition:
birthdays, anniversaries, festival rows, the contact plan, letter pieces, newsletter
preparation and the report context, on the tiny fixture exports and on empty inputs.

A month without a festival, a birthday, an anniversary, an event or anyone to write to
must give empty tables with the right columns, never an error or a row of blanks; a
month with them must give each occasion once, dated inside the month.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.config import ClubConfig
from pipeline.defs.calendar.assets import club_calendar
from pipeline.lib.documents import letters
from pipeline.lib.documents import newsletter as nl
from pipeline.lib.rules.birthdays import (
    BIRTH_COLUMNS,
    SINCE_COLUMNS,
    anniversaries_in_window,
    birthdays_in_window,
)
from pipeline.lib.rules.calendar import festival_key, festivals_in_month
from pipeline.lib.rules.contact import plan_contacts
from pipeline.lib.edition import Edition
from pipeline.lib.read.ingest import ingest_table
from pipeline.lib.rules.occasions import greeting_festivals, requests
from pipeline.lib.documents.report import build_report_context
from pipeline.lib.read.schema import TABLES
from pipeline.lib.rules.segments import as_frame, build_segments
from tests.conftest import DATA

YEARS = range(2015, 2036)
# The whole chain on empty inputs costs about 0.3 s of CPU a month (pandas' per-call
# overhead, whatever the rows): the two years the job sweep also runs, one with a
# published holiday arrangement and one without, with and without festivals.
EMPTY_INPUT_YEARS = (2026, 2027)
CONFIG = ClubConfig()
FIXTURE_AS_OF = date(2026, 11, 20)


@lru_cache(maxsize=None)
def calendar(year: int) -> pd.DataFrame:
    return club_calendar(CONFIG, year)


def holidays(year: int) -> pd.DataFrame:
    """The `holidays` asset: the edition year and the next."""
    return pd.concat([calendar(year), calendar(year + 1)], ignore_index=True)


def editions(year: int) -> list[Edition]:
    """The twelve editions of `year`, each cut off on the 20th of the month before."""
    return [Edition.after(date(year - (m == 1), 12 if m == 1 else m - 1, 20)) for m in range(1, 13)]


@pytest.fixture(scope="module")
def staged() -> dict[str, pd.DataFrame]:
    """The fixture exports, staged: 8 members (a 29 February birth, lunar births one in a
    leap month, a household, one deceased), their purchases, complaints, contacts, events."""
    exports = DATA / "exports"
    members = ingest_table(exports, TABLES["members"], None, FIXTURE_AS_OF)
    known = pd.Index(members.frame["member_id"])
    frames = {"members": members.frame}
    for name in ("transactions", "complaints", "contacts", "events"):
        frames[name] = ingest_table(exports, TABLES[name], known, FIXTURE_AS_OF).frame
    return frames


@pytest.fixture(scope="module")
def empty(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Every table staged from a header-only export: its columns and no rows."""
    exports = tmp_path_factory.mktemp("header-only")
    for source in (DATA / "exports").iterdir():
        header = source.read_text("utf-8-sig").splitlines()[0]
        (exports / source.name).write_text(header + "\n", "utf-8")
    members = ingest_table(exports, TABLES["members"], None, FIXTURE_AS_OF)
    known = pd.Index(members.frame["member_id"])
    frames = {"members": members.frame}
    for name in ("transactions", "complaints", "contacts", "events"):
        frames[name] = ingest_table(exports, TABLES[name], known, FIXTURE_AS_OF).frame
    assert all(frame.empty for frame in frames.values())
    return frames


def segments_of(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return as_frame(build_segments(tables["members"], tables["transactions"], tables["complaints"],
                          FIXTURE_AS_OF, CONFIG.segments, CONFIG.scorecard.indicators,
                          CONFIG.scorecard.tiers, CONFIG.lifecycle))


def occasions(members: pd.DataFrame, edition: Edition) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The upcoming_birthdays and anniversaries assets, as the steps after them read them.

    Each SQL model runs once per edition and member rows: a DuckDB run costs ~0.1 s, and
    several tests sweep the same months over the same members."""
    columns = members[list(dict.fromkeys(BIRTH_COLUMNS + SINCE_COLUMNS))]
    key = (edition, tuple(pd.util.hash_pandas_object(columns, index=False)))
    if key not in _OCCASIONS:
        first, last = edition.first_day, edition.last_day
        _OCCASIONS[key] = (birthdays_in_window(columns, first, last, CONFIG.birthdays.milestones),
                           anniversaries_in_window(columns, first, last))
    born, kept = _OCCASIONS[key]
    return born.to_pandas(), kept.to_pandas()


_OCCASIONS: dict[tuple, tuple[pa.Table, pa.Table]] = {}


def greeted(edition: Edition) -> pd.DataFrame:
    first = edition.first_day
    return greeting_festivals(festivals_in_month(calendar(first.year), first.year, first.month),
                              CONFIG.calendar.greeting_festivals)


def in_month(values, edition: Edition) -> bool:
    days = pd.to_datetime(pd.Series(list(values), dtype=object)).dt.date
    return bool(((days >= edition.first_day) & (days <= edition.last_day)).all())


# --------------------------------------------------------------------------- birthdays


@pytest.mark.parametrize("year", YEARS)
def test_each_solar_birthday_once_a_year_in_its_month(staged, year):
    members = staged["members"]
    solar = members[(members["birth_calendar"] == "solar") & members["birth_date"].notna()]
    found = {}
    for edition in editions(year):
        born, _ = occasions(members, edition)
        assert list(born.columns) == ["member_id", "birthday", "calendar", "age", "milestone"]
        assert in_month(born["birthday"], edition), edition
        assert born["member_id"].is_unique, edition
        for row in born[born["calendar"] == "solar"].itertuples(index=False):
            found.setdefault(row.member_id, []).append((row.birthday, row.age))
    for member in solar.itertuples(index=False):
        born_on = member.birth_date.date()
        # 29 February falls on 28 February in a common year.
        day = 28 if (born_on.month, born_on.day) == (2, 29) and year % 4 else born_on.day
        assert found.pop(member.member_id) == [(date(year, born_on.month, day), year - born_on.year)]
    assert not found  # nobody else, nobody twice


@pytest.mark.parametrize("year", YEARS)
def test_each_lunar_birthday_falls_inside_its_month_with_a_lunar_age(staged, year):
    members = staged["members"].set_index("member_id")
    lunar = set(members.index[members["birth_calendar"] == "lunar"])
    seen = []
    for edition in editions(year):
        born, _ = occasions(staged["members"], edition)
        rows = born[born["calendar"] == "lunar"]
        assert set(rows["member_id"]) <= lunar
        for row in rows.itertuples(index=False):
            assert edition.first_day <= row.birthday <= edition.last_day
            # Lunar age: lunar years since the lunar birth year (within one of the solar).
            assert abs(row.age - (year - members.loc[row.member_id, "birth_date"].year)) <= 1
            seen.append(row.member_id)
    # A lunar birthday recurs every 354-384 days: once or twice in a Gregorian year.
    assert all(1 <= seen.count(m) <= 2 for m in lunar), seen


@pytest.mark.parametrize("year", YEARS)
def test_each_anniversary_once_a_year_in_its_month(staged, year):
    members = staged["members"]
    found = {}
    for edition in editions(year):
        _, kept = occasions(members, edition)
        assert list(kept.columns) == ["member_id", "anniversary_date", "years", "kind"]
        assert in_month(kept["anniversary_date"], edition), edition
        for row in kept.itertuples(index=False):
            found.setdefault((row.member_id, row.kind), []).append(row.years)
    expected = {}
    for column, kind in (("join_date", "membership"), ("move_in_date", "ownership")):
        for member_id, since in zip(members["member_id"], members[column]):
            if pd.notna(since) and since.year < year:
                expected[(member_id, kind)] = [year - since.year]
    assert found == expected


# --------------------------------------------------------------------------- festivals


@pytest.mark.parametrize("year", YEARS)
def test_each_greeted_festival_once_a_year_with_its_own_date(year):
    months = {}
    for edition in editions(year):
        chosen = greeted(edition)
        rows = letters._festival_rows(holidays(year), edition.month)
        assert list(rows.columns) == ["festival_key", "festival_date", "festival_name",
                                      "festival_name_en"]
        assert rows["festival_key"].notna().all() and rows["festival_key"].is_unique
        assert in_month(rows["festival_date"].dt.date, edition), edition
        own = calendar(year)
        own = own[(own["kind"] == "festival") & own["date"].map(
            lambda d, e=edition: e.first_day <= d <= e.last_day)]
        dated = dict(zip(rows["festival_key"], rows["festival_date"].dt.date))
        for day, name, name_en in zip(own["date"], own["name"], own["name_en"]):
            assert dated[festival_key(name, name_en)] == day  # the festival's own day
        for kind in chosen["kind"]:
            months.setdefault(kind, []).append(edition.month)
            assert kind.removeprefix("festival-") in dated
    # 元旦, 劳动节 and 国庆节 on their day, 清明 on 4-6 April, 春节 in January or February,
    # 端午 in May or June, 中秋 in September or October, 重阳 in October or November:
    # each greeted festival exactly once a year.
    allowed = {"new-year": (1,), "spring": (1, 2), "qingming": (4,), "labour-day": (5,),
               "dragon-boat": (5, 6), "mid-autumn": (9, 10), "national-day": (10,),
               "double-ninth": (10, 11)}
    assert sorted(CONFIG.calendar.greeting_festivals) == sorted(allowed)
    assert sorted(months) == sorted(f"festival-{k}" for k in allowed)
    for key, pair in allowed.items():
        (month,) = months[f"festival-{key}"]
        assert int(month[5:]) in pair, (key, month)


@pytest.mark.parametrize("year", YEARS)
def test_no_occasion_and_no_festival_row_from_empty_inputs(empty, year):
    no_holidays = holidays(year).iloc[0:0]
    for edition in editions(year):
        born, kept = occasions(empty["members"], edition)
        assert born.empty and list(born.columns) == ["member_id", "birthday", "calendar", "age",
                                                     "milestone"]
        assert kept.empty and list(kept.columns) == ["member_id", "anniversary_date", "years",
                                                     "kind"]
        rows = letters._festival_rows(no_holidays, edition.month)
        assert rows.empty and list(rows.columns) == ["festival_key", "festival_date",
                                                     "festival_name", "festival_name_en"]


def test_festival_rows_of_an_empty_holidays_table_are_empty():
    rows = letters._festival_rows(calendar(2027).iloc[0:0], "2027-01")
    assert rows.empty and list(rows.columns) == ["festival_key", "festival_date",
                                                 "festival_name", "festival_name_en"]
    assert greeted(Edition.after(date(2027, 2, 20))).empty  # March 2027: no festival


# --------------------------------------------------------------------------- one edition


def build(tables: dict[str, pd.DataFrame], segments: pd.DataFrame, edition: Edition) -> dict:
    """What the contact, render and report steps make of `tables` for `edition`."""
    members = tables["members"]
    born, kept = occasions(members, edition)
    wanted = requests(members, born, kept, greeted(edition), pd.Timestamp(edition.first_day),
                      CONFIG.calendar.festival_min_age)
    result = plan_contacts(members, wanted, tables["contacts"], edition, CONFIG.contact)
    plan, suppressed = result.plan, result.suppressed
    year_holidays = holidays(edition.first_day.year)
    pieces = letters.letter_pieces(plan, members, born, kept, year_holidays, edition.month)
    greetings = {channel: letters.letter_pieces(plan, members, born, kept, year_holidays,
                                                edition.month, channel=channel)
                 for channel in ("email", "sms")}
    prepared = nl.prepare(plan, members, segments, born, year_holidays, tables["events"],
                          CONFIG, edition.month)
    report_tables = {"segments": segments, "upcoming_birthdays": born, "anniversaries": kept,
                     "holidays": year_holidays}
    context = build_report_context(report_tables, members, tables["transactions"],
                                   {"contact_plan": result.reconciliation()}, plan, suppressed,
                                   CONFIG, edition)
    return {"born": born, "kept": kept, "wanted": wanted, "plan": plan,
            "suppressed": suppressed, "pieces": pieces, "greetings": greetings,
            "prepared": prepared,
            "context": context}


def check_edition(built: dict, edition: Edition, members: pd.DataFrame) -> None:
    """What a user would see for one edition, whatever its month and inputs."""
    plan, suppressed, wanted = built["plan"], built["suppressed"], built["wanted"]
    # Every request planned or suppressed once; piece ids carry the edition month.
    assert len(plan) + len(suppressed) == len(wanted)
    assert plan["piece_id"].str.startswith(edition.month.replace("-", "")).all()
    # Every birthday of the month is greeted or suppressed with a reason.
    asked = set(zip(plan["member_id"], plan["kind"])) | set(zip(suppressed["member_id"],
                                                                suppressed["kind"]))
    assert {(m, "birthday") for m in built["born"]["member_id"]} <= asked
    # Letters: exactly the post greetings, each dated inside the month.
    pieces = built["pieces"]
    post = plan[(plan["channel"] == "post") & (plan["kind"] != "newsletter")]
    assert list(pieces.columns) == list(letters.PIECE_COLUMNS)
    assert sorted(pieces["piece_id"]) == sorted(post["piece_id"])
    assert in_month(pieces["occasion_date"].dt.date, edition)
    festive = pieces[pieces["kind"].str.startswith("festival-")]
    assert festive["festival_name"].notna().all()
    # E-mail and SMS greetings: exactly the planned ones of the channel, dated in the month.
    for channel, found in built["greetings"].items():
        wanted_ids = plan.loc[(plan["channel"] == channel) & (plan["kind"] != "newsletter"),
                              "piece_id"]
        assert sorted(found["piece_id"]) == sorted(wanted_ids), channel
        assert in_month(found["occasion_date"].dt.date, edition), channel
    # Newsletters: every planned newsletter piece by e-mail, by post or counted as skipped;
    # a birthday note only for a birthday in the edition month.
    prepared = built["prepared"]
    newsletters = plan[plan["kind"] == "newsletter"]
    assert len(prepared.by_email) + len(prepared.by_post) + prepared.skipped == len(newsletters)
    assert sorted(m.member_id for m in prepared.by_email) == sorted(
        newsletters.loc[newsletters["channel"] == "email", "member_id"])
    for member in (*prepared.by_email, *prepared.by_post):
        assert member.birthday is None or edition.first_day <= member.birthday <= edition.last_day
    # The report: this edition on the cover, the month's birthdays and holidays only.
    context = built["context"]
    first = edition.first_day
    assert context["cover"]["edition_zh"] == f"{first.year}年{first.month}月刊"
    assert context["cover"]["members_on_file"] == len(members)
    assert context["birthdays"]["total"] == len(built["born"])
    assert all(first <= row["first"] <= edition.last_day for row in context["holidays"])


@pytest.mark.parametrize("year", YEARS)
def test_every_month_of_the_fixture_exports(staged, year):
    segments = segments_of(staged)
    for edition in editions(year):
        check_edition(build(staged, segments, edition), edition, staged["members"])


@pytest.mark.parametrize("year", EMPTY_INPUT_YEARS)
def test_every_month_with_members_only(staged, empty, year):
    # No transactions, complaints, contacts or events: nothing to count, nobody capped.
    tables = {**empty, "members": staged["members"]}
    segments = segments_of(tables)
    for edition in editions(year):
        built = build(tables, segments, edition)
        check_edition(built, edition, staged["members"])
        assert built["context"]["summary"] is not None


@pytest.mark.parametrize("year", EMPTY_INPUT_YEARS)
def test_every_month_with_no_members(empty, year):
    segments = segments_of(empty)
    for edition in editions(year):
        built = build(empty, segments, edition)
        check_edition(built, edition, empty["members"])
        assert built["plan"].empty and built["pieces"].empty
        assert not built["prepared"].by_email and not built["prepared"].by_post


@pytest.mark.parametrize(
    ("nobody_by", "flags"),
    [
        ("post", {"has_consent_post": False}),
        ("email", {"has_consent_email": False}),
        ("any channel", {"is_do_not_contact": True}),
    ],
)
def test_every_month_with_nobody_to_reach_on_a_channel(staged, nobody_by, flags):
    members = staged["members"].assign(**flags)
    tables = {**staged, "members": members}
    segments = segments_of(tables)
    for year in EMPTY_INPUT_YEARS:
        for edition in editions(year):
            built = build(tables, segments, edition)
            check_edition(built, edition, members)
            channels = set(built["plan"]["channel"])
            if nobody_by == "any channel":
                assert built["plan"].empty and built["pieces"].empty
            else:
                assert nobody_by not in channels
                if nobody_by == "post":
                    assert built["pieces"].empty and not built["prepared"].by_post
                else:
                    assert not built["prepared"].by_email
