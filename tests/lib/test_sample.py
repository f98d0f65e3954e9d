"""The sample export folder (`clubpress sample`): deterministic, realistic, readable.

Small member counts keep these fast; the one 5,000-member folder is shared by the
tests that need rare cases (29 February, odd date forms) in realistic proportions.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from pipeline.lib.read.ingest import VALUE_DROPPED, ingest_table
from pipeline.lib.rules.lunar import lunar_to_solar
from clubpress_tools.sample import DEFAULT_REFERENCE_DIR, MEMBER_HEADERS, UNKNOWN_MEMBER, write_sample
from pipeline.lib.read.schema import TABLES

AS_OF = date(2026, 11, 20)
FILES = ("members", "transactions", "complaints", "contacts", "events")
SEGMENTS = {
    "Champions", "Loyal Customers", "Potential Loyalists", "Can't Lose Them",
    "At Risk", "Hibernating", "Low Priority",
}
BAD_MEMBER_ROWS = 6


def _records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _frame(folder: Path, name: str) -> pd.DataFrame:
    return pd.DataFrame(_records(folder / f"{name}.csv"), dtype="str")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("small")
    return folder, write_sample(folder, 200)


@pytest.fixture(scope="module")
def club(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("club")
    return folder, write_sample(folder, 5000)


@pytest.fixture(scope="module")
def staged_members(club, members) -> pd.DataFrame:
    """The sample's good member rows as staging types them (by the SQL models)."""
    frame = ingest_table(club[0], TABLES["members"], as_of=AS_OF).frame
    return frame[frame["source_line"] <= len(members) + 1].reset_index(drop=True)


@pytest.fixture(scope="module")
def members(club) -> pd.DataFrame:
    """The 5,000 good members of `club`, deliberate bad rows left off."""
    return _frame(club[0], "members").iloc[:-BAD_MEMBER_ROWS]


# --- the folder as a whole --------------------------------------------------------------


def test_same_seed_gives_identical_files(small, tmp_path):
    again = write_sample(tmp_path, 200)
    assert again == small[1]
    for name in FILES:
        assert (tmp_path / f"{name}.csv").read_bytes() == (small[0] / f"{name}.csv").read_bytes(), name


def test_another_seed_gives_other_members_and_purchases(small, tmp_path):
    write_sample(tmp_path, 200, seed=7)
    for name in ("members", "transactions", "complaints", "contacts"):
        assert (tmp_path / f"{name}.csv").read_bytes() != (small[0] / f"{name}.csv").read_bytes(), name


def test_returned_counts_are_the_records_in_each_file(small):
    folder, counts = small
    assert set(counts) == set(FILES)
    for name in FILES:
        assert len(_records(folder / f"{name}.csv")) == counts[name], name


def test_multi_line_complaints_still_count_as_one_record_each(club):
    folder, counts = club
    physical_lines = (folder / "complaints.csv").read_text(encoding="utf-8").count("\n") - 1
    assert physical_lines > counts["complaints"]  # some descriptions span lines
    assert len(_records(folder / "complaints.csv")) == counts["complaints"]


def test_members_file_has_chinese_headers_and_a_bom_like_excel(small):
    raw = (small[0] / "members.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").splitlines()[0].split(",")
    assert header == [
        "会员编号", "姓名", "性别", "出生日期", "历法", "闰月", "手机号码", "邮箱", "省份", "城市",
        "区县", "详细地址", "邮编", "入会日期", "入住日期", "语言", "首选渠道", "同意邮寄",
        "同意邮件", "同意短信", "勿扰", "已故", "户号", "会员等级",
    ]


def test_member_headers_are_aliases_the_pipeline_knows():
    members = TABLES["members"]
    for canonical, header in MEMBER_HEADERS.items():
        if canonical == "member_tier":  # the one extra column, kept as member.extra
            assert canonical not in {c.name for c in members.columns}
            continue
        assert header in members.column(canonical).aliases, canonical


@pytest.mark.parametrize(
    "name, extra",
    [
        ("transactions", []),
        ("contacts", []),
        ("events", []),
        ("complaints", []),  # description is a declared free-text column
    ],
)
def test_other_files_have_canonical_english_headers_without_bom(small, name, extra):
    raw = (small[0] / f"{name}.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8").splitlines()[0].split(",")
    assert header == [c.name for c in TABLES[name].columns] + extra


# --- deliberate bad rows ----------------------------------------------------------------


def test_bad_rows_are_appended_after_unchanged_good_rows(small, tmp_path):
    clean = write_sample(tmp_path, 200, bad_rows=False)
    expected_extra = {"members": 6, "transactions": 3, "complaints": 2, "contacts": 1, "events": 0}
    for name in FILES:
        assert small[1][name] - clean[name] == expected_extra[name], name
        good = (tmp_path / f"{name}.csv").read_bytes()
        assert (small[0] / f"{name}.csv").read_bytes().startswith(good), name


def test_without_bad_rows_every_reference_holds(tmp_path):
    write_sample(tmp_path, 200, bad_rows=False)
    members = _frame(tmp_path, "members")
    assert members["会员编号"].is_unique and (members["会员编号"] != "").all()
    assert (members["姓名"] != "").all()
    known = set(members["会员编号"])
    transactions = _frame(tmp_path, "transactions")
    assert set(transactions["member_id"]) <= known
    assert set(_frame(tmp_path, "contacts")["member_id"]) <= known
    staged = ingest_table(tmp_path, TABLES["transactions"])
    assert not staged.quarantine["reason"].str.startswith("amount:").any()
    assert (transactions["date"] != "").all()


def test_bad_member_rows_hold_each_documented_problem(small):
    bad = _frame(small[0], "members").iloc[-BAD_MEMBER_ROWS:]
    assert bad["会员编号"].tolist() == ["M0000001", "", "M0000201", "M0000202", "M0000203", "M0000204"]
    assert bad["姓名"].iloc[2] == ""
    assert bad["出生日期"].iloc[3] == "2023-02-30"
    assert bad["手机号码"].iloc[4] == "12345"
    assert bad["邮箱"].iloc[5] == "wang.fang@163"


@pytest.mark.parametrize(
    "name, column, value",
    [
        ("transactions", "member_id", UNKNOWN_MEMBER),  # a purchase by nobody we know
        ("transactions", "amount", "abc"),  # an amount no parser can read
        ("transactions", "date", ""),  # a required timestamp left blank
        ("complaints", "received_at", "昨天下午3点"),  # free text where a time belongs
        ("complaints", "satisfaction", "6"),  # outside the 1-5 scale
        ("contacts", "member_id", UNKNOWN_MEMBER),  # a mailing to nobody we know
    ],
)
def test_bad_rows_in_other_files_only_when_asked(small, tmp_path, name, column, value):
    write_sample(tmp_path, 200, bad_rows=False)
    assert value in set(_frame(small[0], name)[column])
    assert value not in set(_frame(tmp_path, name)[column])


# --- members ----------------------------------------------------------------------------


def test_postal_codes_belong_to_the_district(members):
    region = pd.read_csv(DEFAULT_REFERENCE_DIR / "cn-postcodes" / "region.csv", dtype=str)
    codes = region.groupby(["province", "city", "county"])["zipCode"].agg(set).to_dict()
    for row in members[["省份", "城市", "区县", "邮编"]].itertuples(index=False):
        assert row[3] in codes[(row[0], row[1], row[2])], row


def test_municipalities_name_the_city_after_the_province(members):
    municipal = members[members["省份"].isin(["北京市", "上海市", "天津市", "重庆市"])]
    assert len(municipal) > 0
    assert (municipal["城市"] == municipal["省份"]).all()


def test_most_addresses_start_with_a_real_street_of_their_district(members):
    streets = pd.read_csv(DEFAULT_REFERENCE_DIR / "cn-admin-divisions" / "streets.csv", dtype=str)
    known = set(streets["name"])
    starts = members["详细地址"].str.extract(r"^(.+?(?:街道|镇|乡))")[0]
    assert starts.isin(known).mean() > 0.8
    assert members["详细地址"].str.fullmatch(r".+号.+(?:\d+栋\d+单元|\d+号楼)\d{3,4}室").all()


def test_households_share_one_address_and_postcode(members):
    shared = members[members["户号"] != ""]
    assert 0.07 < len(shared) / len(members) < 0.13
    per_household = shared.groupby("户号")
    assert per_household.size().between(2, 3).all()
    assert (per_household[["详细地址", "邮编", "区县"]].nunique() == 1).all().all()


def test_names_are_a_surname_and_one_or_two_given_characters(members):
    surnames = set(pd.read_csv(DEFAULT_REFERENCE_DIR / "cn-names" / "Chinese_Family_Name_1k.csv")["NameB"])
    names = members["姓名"]
    one_char = names.str.slice(0, 1).isin(surnames) & names.str.len().between(2, 3)
    two_chars = names.str.slice(0, 2).isin(surnames) & names.str.len().between(3, 4)
    assert (one_char | two_chars).all()
    assert names.str.contains("[𠮷喆堃燊犇淼昇玥赟頔]").any()  # rare characters test the fonts


@pytest.mark.parametrize(
    "pattern",
    [
        r"\d{4}-\d{2}-\d{2}",  # ISO, most rows
        r"\d{4}/\d{1,2}/\d{1,2}",  # 1990/5/3 as typed in Excel
        r"\d{4}\.\d{1,2}\.\d{1,2}",  # 1990.5.3
        r"\d{8}",  # 19900503
        r"\d{4}年\d{1,2}月\d{1,2}日",  # 1990年5月3日
    ],
)
def test_birth_dates_come_in_every_form_crms_export(members, pattern):
    assert members["出生日期"].str.fullmatch(pattern).any()


def test_ages_are_adults_mostly_between_30_and_65(members):
    years = pd.to_numeric(members["出生日期"].str.slice(0, 4), errors="coerce").dropna()
    ages = AS_OF.year - years
    assert ages.between(18, 92).all()
    assert 0.55 < ages.between(30, 65).mean() < 0.9


def test_29_february_births_are_present(small, members):
    # 29 February falls on 28 February in common years, so the sample must hold some,
    # even a small one.
    for frame in (_frame(small[0], "members").iloc[:-BAD_MEMBER_ROWS], members):
        solar = frame[frame["历法"] == "solar"]
        assert solar["出生日期"].str.fullmatch(r"\d{4}(-02-|/2/|\.2\.|02|年2月)29日?").sum() >= 2


def _lunar_births(frame: pd.DataFrame) -> pd.DataFrame:
    lunar = frame[frame["历法"].isin(["lunar", "农历", "阴历"])].copy()
    parts = lunar["出生日期"].str.extract(r"^(\d{4})\D?(\d{1,2})\D?(\d{1,2})")
    lunar[["y", "m", "d"]] = parts.astype(int).to_numpy()
    lunar["leap"] = lunar["闰月"].isin(["true", "是"])
    return lunar


def test_small_sample_has_lunar_leap_month_and_day_30_births(small):
    lunar = _lunar_births(_frame(small[0], "members").iloc[:-BAD_MEMBER_ROWS])
    assert lunar["leap"].any()
    assert (lunar["d"] == 30).any()


def test_lunar_births_exist_in_the_lunar_calendar(members):
    lunar = _lunar_births(members)
    assert 0.05 < len(lunar) / len(members) < 0.11
    assert lunar["历法"].eq("农历").any()
    for row in lunar.itertuples():
        lunar_to_solar(row.y, row.m, row.d, row.leap)  # raises if no such day


@pytest.mark.parametrize(
    "pattern",
    [
        r"1[3-9]\d{9}",  # plain mobile, most rows
        r"\+86 1[3-9]\d \d{4} \d{4}",  # international, spaced
        r"\+861[3-9]\d{9}",  # E.164 already
        r"1[3-9]\d-\d{4}-\d{4}",  # dashed
        r"[\uff10-\uff19]{11}",  # full-width digits from a Chinese input method
    ],
)
def test_phones_come_in_the_forms_people_type(members, pattern):
    assert members["手机号码"].str.fullmatch(pattern).any()


def test_good_values_parse_and_only_deliberate_ones_do_not(club):
    staged = ingest_table(club[0], TABLES["members"], as_of=date(2026, 11, 20))
    dropped = staged.quarantine[staged.quarantine["action"] == VALUE_DROPPED]
    by_column = dropped.groupby("column")["value"].apply(sorted).to_dict()
    # Only the deliberately bad values of the sample's bad rows (and no lunar date, which
    # may be 02-30, nor any flag, gender, postcode or join/move-in date).
    assert by_column == {"出生日期": ["2023-02-30"], "手机号码": ["12345"],
                         "邮箱": ["wang.fang@163"]}


@pytest.mark.parametrize(
    "header, value, low, high",
    [
        ("邮箱", "", 0.25, 0.35),  # about 70% gave an e-mail address
        ("语言", "zh-CN", 0.80, 0.90),
        ("语言", "zh-TW", 0.05, 0.11),
        ("语言", "en", 0.04, 0.10),
        ("入住日期", "", 0.35, 0.45),  # about 60% of owners have a move-in date
        ("性别", "", 0.005, 0.04),  # a few blanks
    ],
)
def test_member_shares_are_realistic(members, header, value, low, high):
    assert low < (members[header] == value).mean() < high


@pytest.mark.parametrize(
    "header, low, high",
    [
        ("勿扰", 0.01, 0.03),  # about 2% asked not to be contacted
        ("已故", 0.0005, 0.008),  # about 0.3% deceased
    ],
)
def test_rare_flags_are_rare(staged_members, header, low, high):
    column = {"勿扰": "is_do_not_contact", "已故": "is_deceased"}.get(header, header)
    assert low < staged_members[column].mean() < high


def test_consents_are_written_in_every_common_form(members):
    written = set(members["同意邮寄"]) | set(members["同意短信"])
    assert {"是", "否", "1", "0", "true", "false", ""} <= written


def test_join_dates_are_within_ten_years_and_ids_follow_them(staged_members):
    joined = staged_members["join_date"]
    assert joined.min() >= pd.Timestamp(AS_OF - timedelta(days=3653))
    assert joined.max() < pd.Timestamp(AS_OF)
    assert joined.is_monotonic_increasing


# --- transactions, complaints, contacts, events ----------------------------------------


@pytest.fixture(scope="module")
def purchases(club) -> pd.DataFrame:
    frame = _frame(club[0], "transactions").iloc[:-3]
    frame["at"] = pd.to_datetime(frame["date"], format="%Y-%m-%d %H:%M:%S")
    frame["amount"] = frame["amount"].astype(float)
    return frame


def test_every_purchase_names_a_member_but_the_deliberate_one(club, members):
    transactions = _frame(club[0], "transactions")
    unknown = set(transactions["member_id"]) - set(members["会员编号"])
    assert unknown == {UNKNOWN_MEMBER}


def test_purchases_cover_the_two_years_before_as_of(purchases):
    assert purchases["at"].min() >= pd.Timestamp(AS_OF - timedelta(days=730))
    assert purchases["at"].max() < pd.Timestamp(AS_OF)
    assert purchases["amount"].map(lambda x: round(x, 2) == x).all()
    assert purchases["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()


def test_purchase_behaviour_is_skewed_like_a_real_club(purchases, members):
    per_member = purchases.groupby("member_id")["txn_id"].nunique()
    never = 1 - len(per_member) / len(members)
    assert 0.15 < never < 0.25  # about 20% never bought
    assert per_member.median() <= 5 and per_member.max() >= 40  # most a little, a few a lot
    assert 0.01 < (purchases["amount"] < 0).mean() < 0.03  # returns
    assert (purchases.groupby("txn_id").size() > 1).mean() > 0.05  # line items


def test_some_buyers_have_lapsed_and_some_are_active(purchases):
    last = purchases.groupby("member_id")["at"].max()
    days_since = (pd.Timestamp(AS_OF) - last).dt.days
    assert (days_since > 365).mean() > 0.1  # lapsed: Can't Lose Them, Hibernating
    assert (days_since < 60).mean() > 0.2  # active: Champions, Potential Loyalists


def test_txn_ids_are_numbered_in_time_order(purchases):
    first_seen = purchases.drop_duplicates("txn_id")
    assert first_seen["at"].is_monotonic_increasing
    assert first_seen["txn_id"].is_monotonic_increasing


def test_complaints_look_like_a_service_desk(club, members):
    complaints = _frame(club[0], "complaints").iloc[:-2]
    assert len(complaints) >= 30
    assert set(complaints["status"]) == {"open", "resolved", "closed", "reopened"}
    assert 0.02 < (complaints["member_id"] == "").mean() < 0.1
    rated = complaints[complaints["satisfaction"] != ""]
    assert rated["status"].isin(["resolved", "closed"]).all()
    assert rated["satisfaction"].astype(int).between(1, 5).all()
    assert (complaints.loc[complaints["status"].isin(["open", "reopened"]), "resolved_at"] == "").all()
    known = set(members["会员编号"]) | {""}
    assert set(complaints["member_id"]) <= known


@pytest.mark.parametrize(
    "needle",
    [
        ",",  # an ASCII comma inside a field must be quoted
        '"',  # a double quote must be doubled
        "\n",  # a line break inside a field
    ],
)
def test_complaint_descriptions_hold_csv_special_characters(club, needle):
    descriptions = _frame(club[0], "complaints")["description"]
    assert descriptions.str.contains(needle, regex=False).any()


def test_contacts_are_recent_and_spare_do_not_contact_members(club, staged_members):
    contacts = _frame(club[0], "contacts").iloc[:-1]
    days = pd.to_datetime(contacts["date"])
    assert days.min() >= pd.Timestamp(AS_OF - timedelta(days=183))
    assert days.max() < pd.Timestamp(AS_OF)
    assert set(contacts["channel"]) == {"post", "email", "sms", "phone"}
    blocked = staged_members["is_do_not_contact"] | staged_members["is_deceased"]
    assert not set(contacts["member_id"]) & set(staged_members.loc[blocked, "member_id"])


def test_events_are_in_the_two_months_after_as_of(small):
    events = _frame(small[0], "events")
    days = pd.to_datetime(events["date"])
    assert len(events) == 6
    assert days.min() > pd.Timestamp(AS_OF) and days.max() <= pd.Timestamp(AS_OF + timedelta(days=61))
    assert set(events["audience"]) <= SEGMENTS | {"all"}
    assert events["title"].map(lambda t: re.search(r"[\u4e00-\u9fff]", t) is not None).all()


@pytest.mark.parametrize(
    "members",
    [
        0,  # an empty club is not a sample
        10_000_000,  # ids M0000001.. would collide with the deliberate unknown M9999999
    ],
)
def test_impossible_member_counts_are_refused(tmp_path, members):
    with pytest.raises(ValueError):
        write_sample(tmp_path, members)
