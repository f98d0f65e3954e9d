from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.lib.read.ingest import (
    ROW_QUARANTINED, VALUE_DROPPED, empty_staged_frame, ingest_table)
from pipeline.lib.read.readers import ExportError
from pipeline.lib.read.schema import TABLES

AS_OF = date(2026, 11, 20)


@pytest.fixture
def members(exports):
    return ingest_table(exports, TABLES["members"], as_of=AS_OF)


def staged_for(exports, members, name):
    return ingest_table(exports, TABLES[name], pd.Index(members.frame["member_id"]), AS_OF)


def problems(staged, action):
    rows = staged.quarantine[staged.quarantine["action"] == action]
    return sorted(zip(rows["line"], rows["column"], rows["reason"]))


def test_members_reconcile_and_quarantine_reasons(members):
    assert members.reconciliation() == {"rows_read": 10, "rows_loaded": 8, "rows_quarantined": 2}
    assert problems(members, ROW_QUARANTINED) == [
        (9, "会员编号", "member_id: duplicate of line 2 (the first is kept)"),
        (10, "姓名", "name: required value is blank"),
    ]


def test_unparseable_optional_values_are_blanked_and_reported(members):
    assert problems(members, VALUE_DROPPED) == [
        (8, "出生日期", "birth_date: not a valid date"),
        (8, "手机号码", "phone: not a valid phone number"),
        (8, "邮箱", "email: not a valid e-mail address"),
        (8, "邮编", "postal_code: not a six-digit postal code"),
        (11, "同意邮寄", "consent_post: not a yes/no value"),
    ]
    row = members.frame.set_index("member_id").loc["M0006"]
    assert pd.isna(row["birth_date"]) and pd.isna(row["phone"]) and pd.isna(row["email"])
    assert row["name"] == "赵敏"  # the row itself is kept


def test_first_of_duplicate_members_is_kept(members):
    assert members.frame.set_index("member_id").loc["M0001", "name"] == "王伟"
    assert members.frame["member_id"].is_unique


def test_member_values_are_normalised(members):
    m = members.frame.set_index("member_id")
    assert m.loc["M0002", "birth_date"] == pd.Timestamp(1988, 2, 29)  # 1988/2/29
    assert m.loc["M0002", "phone"] == "+8613900001111"
    assert m.loc["M0003", "phone"] == "+8613600002222"  # full-width digits
    assert m.loc["M0003", "birth_calendar"] == "lunar"  # 农历
    assert m.loc["M0003", "language"] == "zh-TW"
    assert m.loc["M0004", "join_date"] == pd.Timestamp(2020, 1, 1)  # Excel serial 43831
    assert m.loc["M0005", "is_birth_lunar_leap"]  # 闰月 = 是
    assert (m.loc["M0005", "gender"], m.loc["M0005", "salutation"]) == ("M", "mr")  # 先生
    assert (m.loc["M0006", "gender"], m.loc["M0006", "salutation"]) == ("F", "ms")  # 女士


def test_contract_consent_defaults(members):
    m = members.frame.set_index("member_id")
    # M0004 left every consent blank: post is consented, email and sms are not.
    assert m.loc["M0004", ["has_consent_post", "has_consent_email", "has_consent_sms"]].tolist() == [
        True, False, False
    ]
    assert m.loc["M0009", ["is_do_not_contact", "is_deceased"]].tolist() == [True, True]


def test_extra_columns_are_kept_as_json(members):
    import json

    extra = members.frame.set_index("member_id").loc["M0001", "extra"]
    assert json.loads(extra) == {"会员等级": "金卡"}


def test_transactions_for_unknown_members_and_bad_values_are_quarantined(exports, members):
    txns = staged_for(exports, members, "transactions")
    assert txns.reconciliation() == {"rows_read": 9, "rows_loaded": 6, "rows_quarantined": 3}
    assert problems(txns, ROW_QUARANTINED) == [
        (6, "member_id", "member_id: not a loaded member"),
        (7, "date", "date: required value is blank"),
        (8, "amount", "amount: not an amount"),
    ]
    by_line = txns.frame.set_index("source_line")
    assert by_line.loc[2, "amount_cny"] == 1280.0  # "1,280.00"
    assert by_line.loc[4, "amount_cny"] == 560.0  # "￥560"
    assert by_line.loc[9, "txn_at"] == pd.Timestamp(2025, 8, 31, 12)  # Excel serial 45900.5
    assert (txns.frame["txn_id"] == "T0001").sum() == 2  # line items share a txn_id


def test_a_large_export_keeps_file_order_around_unknown_members(tmp_path, members):
    """The staged rows follow the file (the warehouse and every rerun see the same order)
    when members are looked up: many rows, so DuckDB works on them in parallel."""
    known = list(members.frame["member_id"])
    lines = ["txn_id,member_id,date,amount"]
    unknown = set()
    for n in range(1, 300_001):
        member = known[n % len(known)]
        if n % 50_000 == 7:
            member = f"M9{n:06d}"
            unknown.add(n + 1)  # the header is line 1
        lines.append(f"T{n:07d},{member},2026-10-{n % 28 + 1:02d},{n % 900 + 10}.50")
    (tmp_path / "transactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    staged = ingest_table(tmp_path, TABLES["transactions"], pd.Index(known), AS_OF,
                          tmp_path / "rows.parquet")
    rows = pd.read_parquet(tmp_path / "rows.parquet", columns=["source_line", "txn_id"])
    assert rows["source_line"].is_monotonic_increasing and rows["source_line"].is_unique
    assert len(rows) == 300_000 - len(unknown)
    assert rows["txn_id"].iloc[0] == "T0000001" and rows["txn_id"].iloc[-1] == "T0300000"
    assert {line for line, _, _ in problems(staged, ROW_QUARANTINED)} == unknown
    assert staged.reconciliation() == {"rows_read": 300_000, "rows_loaded": 300_000 - len(unknown),
                                       "rows_quarantined": len(unknown)}


def test_staged_rows_files_hold_the_staged_columns_only(tmp_path, exports, members):
    """What DuckDB writes for the next steps and the warehouse: the contract's columns
    and the source line, without the reasons staging kept beside them."""
    known = pd.Index(members.frame["member_id"])
    checked = set()
    folder = tmp_path / "the club's run"  # a quote in the output folder is only a name
    folder.mkdir()
    for name, table in TABLES.items():
        rows_file = folder / f"{name}.parquet"
        if ingest_table(exports, table, known, AS_OF, rows_file).source is None:
            continue  # an optional export the folder does not have: nothing is written
        names = set(pq.ParquetFile(rows_file).schema_arrow.names)
        staged = set(empty_staged_frame(table).columns)
        # members also carry the salutation staging derives for the letters
        assert staged <= names and names - staged <= {"salutation"}, name
        assert pq.ParquetFile(rows_file).metadata.num_rows == ingest_table(
            exports, table, known, AS_OF).rows_loaded, name
        checked.add(name)
    assert checked == {"members", "transactions", "complaints", "contacts", "events"}


def test_complaints_from_unknown_or_blank_members_still_count(exports, members):
    complaints = staged_for(exports, members, "complaints")
    assert complaints.reconciliation() == {"rows_read": 4, "rows_loaded": 3, "rows_quarantined": 1}
    c = complaints.frame.set_index("complaint_id")
    assert pd.isna(c.loc["C0002", "member_id"]) and not c.loc["C0002", "is_known_member"]
    assert c.loc["C0003", "member_id"] == "M7777" and not c.loc["C0003", "is_known_member"]
    assert pd.isna(c.loc["C0003", "satisfaction"])  # 6 is outside 1-5
    assert problems(complaints, ROW_QUARANTINED) == [
        (6, "received_at", "received_at: not a valid date or time")
    ]


def test_contacts_duplicates_and_unknown_members(exports, members):
    contacts = staged_for(exports, members, "contacts")
    assert contacts.reconciliation() == {"rows_read": 4, "rows_loaded": 2, "rows_quarantined": 2}
    assert problems(contacts, ROW_QUARANTINED) == [
        (4, "member_id", "member_id: not a loaded member"),
        (5, "contact_id", "contact_id: duplicate of line 2 (the first is kept)"),
    ]


def test_a_duplicate_of_a_line_naming_an_unknown_member_is_still_a_duplicate(exports, members):
    # Ids are checked before members: line 4 holds K0003 though its member is unknown, so
    # line 6 reusing K0003 is its duplicate, not the first K0003 loaded.
    with (exports / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write("K0003,M0002,2026-11-12,sms,festival\n")
    contacts = staged_for(exports, members, "contacts")
    assert contacts.reconciliation() == {"rows_read": 5, "rows_loaded": 2, "rows_quarantined": 3}
    assert problems(contacts, ROW_QUARANTINED) == [
        (4, "member_id", "member_id: not a loaded member"),
        (5, "contact_id", "contact_id: duplicate of line 2 (the first is kept)"),
        (6, "contact_id", "contact_id: duplicate of line 4 (the first is kept)"),
    ]
    assert contacts.frame["contact_id"].tolist() == ["K0001", "K0002"]  # in file order


def test_missing_optional_export_is_no_data(exports):
    (exports / "events.csv").unlink()
    events = ingest_table(exports, TABLES["events"])
    assert events.source is None
    assert events.reconciliation() == {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    assert "event_date" in events.frame.columns


def test_missing_members_export_is_an_error(exports):
    (exports / "members.csv").unlink()
    with pytest.raises(ExportError, match="no members export"):
        ingest_table(exports, TABLES["members"])


def test_birth_after_the_cut_off_is_dropped(tmp_path):
    (tmp_path / "members.csv").write_text("member_id,name,birth_date\nM1,王伟,2027-01-01\n", "utf-8")
    members = ingest_table(tmp_path, TABLES["members"], as_of=AS_OF)
    assert problems(members, VALUE_DROPPED) == [
        (2, "birth_date", "birth_date: after the data cut-off 2026-11-20")
    ]


def test_mapped_exports(mapped_exports):
    members = ingest_table(mapped_exports, TABLES["members"], as_of=AS_OF)
    assert members.source == "crm_customers.csv"
    assert members.frame["phone"].tolist() == ["+85291234567", "+8613800001234"]
    assert problems(members, VALUE_DROPPED) == [(3, "DOB", "birth_date: not a valid date")]
    complaints = ingest_table(
        mapped_exports, TABLES["complaints"], pd.Index(members.frame["member_id"]), AS_OF
    )
    assert complaints.source == "export_2026.csv"
    assert complaints.frame["is_known_member"].tolist() == [True, False]


def test_lunar_birth_dates_are_read_as_lunar(members):
    m = members.frame.set_index("member_id")
    # 1966年8月15日 lunar is Mid-Autumn 1966: born 29 September 1966.
    assert (m.loc["M0003", "birth_lunar"], m.loc["M0003", "birth_date"]) == (
        "1966-08-15", pd.Timestamp(1966, 9, 29)
    )
    # 1957 had a leap 8th month, starting 24 September; its 15th day is 8 October.
    assert (m.loc["M0005", "birth_lunar"], m.loc["M0005", "birth_date"]) == (
        "1957-08-15", pd.Timestamp(1957, 10, 8)
    )
    assert pd.isna(m.loc["M0001", "birth_lunar"])  # solar births have no lunar date


@pytest.mark.parametrize(
    "birth, leap, expected",
    [
        ("1990-02-30", "", "1990-02-30"),  # the 2nd lunar month of 1990 has 30 days
        ("19900230", "", "1990-02-30"),  # compact form
        ("1957-08-01", "是", "1957-08-01"),  # 1957 has a leap 8th month
    ],
)
def test_lunar_dates_that_are_not_gregorian_are_kept(tmp_path, birth, leap, expected):
    (tmp_path / "members.csv").write_text(
        f"member_id,name,birth_date,birth_calendar,birth_lunar_leap\nM1,王伟,{birth},农历,{leap}\n",
        "utf-8",
    )
    members = ingest_table(tmp_path, TABLES["members"], as_of=AS_OF)
    assert members.frame.loc[0, "birth_lunar"] == expected
    assert members.quarantine.empty


@pytest.mark.parametrize(
    "birth, leap",
    [
        ("1966-08-30", ""),  # the 8th lunar month of 1966 has only 29 days
        ("1990-04-01", "是"),  # 1990's leap month is the 5th, not the 4th
        ("1990-13-01", ""),  # no 13th month
    ],
)
def test_impossible_lunar_dates_are_dropped(tmp_path, birth, leap):
    (tmp_path / "members.csv").write_text(
        f"member_id,name,birth_date,birth_calendar,birth_lunar_leap\nM1,王伟,{birth},lunar,{leap}\n",
        "utf-8",
    )
    members = ingest_table(tmp_path, TABLES["members"], as_of=AS_OF)
    assert problems(members, VALUE_DROPPED) == [
        (2, "birth_date", "birth_date: not a valid lunar date (month, day or leap month)")
    ]
    assert pd.isna(members.frame.loc[0, "birth_date"])


def test_returns_by_chinese_file_name_and_headers_reconcile(exports, members):
    (exports / "退件.csv").write_text(
        "信函编号,会员编号,退回日期,退件原因\n"
        "202612-birthday-M0001,,2026-11-02,查无此人\n"  # by piece: the member comes later
        ",M0002,2026/11/3,地址不详\n"  # by member
        ",,2026-11-04,拒收\n"  # names nobody: unusable
        ",M9999,2026-11-05,迁出\n"  # not a member
        "202612-birthday-M0003,,not a date,\n",  # returned when?
        encoding="utf-8")
    returns = staged_for(exports, members, "returns")
    assert returns.source == "退件.csv"
    assert returns.reconciliation() == {"rows_read": 5, "rows_loaded": 2, "rows_quarantined": 3}
    assert [(line, column) for line, column, _ in problems(returns, ROW_QUARANTINED)] == [
        (4, "信函编号"), (5, "会员编号"), (6, "退回日期")]
    assert "piece_id or member_id" in problems(returns, ROW_QUARANTINED)[0][2]
    assert returns.frame["piece_id"].tolist()[0] == "202612-birthday-M0001"
    assert returns.frame["returned_on"].tolist()[1] == pd.Timestamp(2026, 11, 3)
