"""The staff call list: who is on it, why, in which order, and who calls."""

from datetime import date

import pandas as pd
import pytest

from pipeline.lib.rules.calls import COLUMNS, CallRules, call_list, write_call_list
from pipeline.lib.edition import Edition

AS_OF = date(2026, 11, 20)
EDITION = Edition("2026-12", AS_OF)


def members():
    rows = [
        # member_id, name, phone, consent post/email/sms, dnc, deceased
        ("M01", "王伟", "+8613800000001", True, True, True, False, False),
        ("M02", "李娜", "+8613800000002", True, True, False, False, False),
        ("M03", "张敏", None, True, False, False, False, False),  # no phone: cannot be called
        ("M04", "刘芳", "+8613800000004", True, False, False, False, False),
        ("M05", "陈杰", "+8613800000005", True, False, False, False, False),
        ("M06", "O'Brien; drop table members", "+8613800000006", True, True, True, False, False),
        ("M07", "赵丽", "+8613800000007", True, True, True, False, False),
        ("M08", "孙强", "+8613800000008", False, False, False, False, False),  # no consent
        ("M09", "周敏", "+8613800000009", True, False, False, False, False),
        ("M10", "吴刚", "+8613800000010", True, True, True, True, False),  # do not contact
    ]
    frame = pd.DataFrame(rows, columns=["member_id", "name", "phone", "has_consent_post",
                                        "has_consent_email", "has_consent_sms",
                                        "is_do_not_contact", "is_deceased"])
    return frame.assign(email=[f"{m}@example.cn" for m in frame["member_id"]],
                        address="建国路1号", postal_code="100022")


SEGMENTS = pd.DataFrame({
    "member_id": [f"M{n:02d}" for n in range(1, 11)],
    "tier": ["key", "ordinary", "important", "key", "ordinary", "ordinary", "ordinary",
             "important", "ordinary", "key"],
    "recency_days": [200] * 10,
})
CHURN = pd.DataFrame({"member_id": ["M01", "M10"], "reason": ["lapsing", "lapsed+open_complaint"]})
BIRTHDAYS = pd.DataFrame({
    "member_id": ["M01", "M02", "M03", "M04", "M05"],
    "birthday": [date(2026, 12, 9), date(2026, 12, 12), date(2026, 12, 3), date(2026, 12, 20),
                 date(2026, 12, 5)],
    "age": [51, 60, 70, 45, 33],
    "milestone": [False, True, True, False, False],
})
COMPLAINTS = pd.DataFrame({
    "complaint_id": ["C1", "C2", "C3"],
    "member_id": ["M06", "M07", "M06"],
    "category": ["噪音", "维修", None],
    "owner": ["张敏", "李强", None],
    "resolved_at": pd.to_datetime(["2026-11-15 10:00", "2026-10-01 10:00", None]),
    "status": ["resolved", "closed", "open"],
    "is_known_member": [True, True, True],
})
RETURNED = pd.DataFrame({
    "member_id": ["M09"], "piece_id": ["202611-birthday-M09"],
    "returned_on": pd.to_datetime(["2026-11-10"]), "reason": ["查无此人"],
})


def build(rules=None):
    return call_list(members(), SEGMENTS, CHURN, BIRTHDAYS, COMPLAINTS, RETURNED,
                     rules or CallRules(), EDITION)


@pytest.fixture(scope="module")
def calls():
    return build().set_index("member_id")


def test_who_is_called_and_why(calls):
    assert calls["reason"].to_dict() == {
        "M06": "complaint_follow_up",  # resolved five days before the cut-off
        "M01": "churn_risk",  # also a key member's birthday: one row, both points
        "M02": "milestone_birthday",  # 60
        "M04": "key_member_birthday",
        "M09": "address_check",  # their letter came back
        "M08": "unreachable_valuable",  # important, no consent for any channel
    }
    # not called: M03 has no phone, M05 is an ordinary tier's ordinary birthday, M07's
    # complaint was resolved two months ago, M10 asked not to be contacted


def test_phones_are_full_and_columns_in_contract_order(calls):
    frame = build()
    assert list(frame.columns) == list(COLUMNS)
    assert calls.loc["M02", "phone"] == "+8613800000002"
    assert (frame[["called_at", "outcome", "notes"]] == "").all().all()


def test_priority_reason_then_tier_then_due_date(calls):
    assert calls.sort_values("priority").index.tolist() == ["M06", "M01", "M02", "M04", "M09", "M08"]
    assert calls["priority"].sort_values().tolist() == [1, 2, 3, 4, 5, 6]


def test_due_dates_and_owners(calls):
    assert calls.loc["M02", "due_on"] == "2026-12-12"  # on the birthday
    assert calls.loc["M06", "due_on"] == "2026-12-07"  # undated: within the first week
    assert calls.loc["M06", "owner"] == "张敏"  # the complaint's first-contact owner
    assert calls.loc["M01", "owner"] == "客户经理"  # key tier's default
    assert calls.loc["M09", "owner"] == "会员服务中心"


def test_talking_points_name_every_reason(calls):
    assert "流失风险（近期未消费）" in calls.loc["M01", "talking_points"]
    assert "12月09日 生日" in calls.loc["M01", "talking_points"]
    assert "60 岁整寿" in calls.loc["M02", "talking_points"]
    assert "投诉 C1（噪音）" in calls.loc["M06", "talking_points"]
    assert "信件被退回（查无此人）" in calls.loc["M09", "talking_points"]


def test_settings_turn_reasons_off_and_name_owners():
    rules = CallRules.model_validate({"reasons": ["milestone_birthday", "churn_risk"],
                                      "owners": {"key": "VIP 专员"}, "due_days": 3,
                                      "birthday_tiers": []})
    frame = build(rules).set_index("member_id")
    assert frame["reason"].to_dict() == {"M02": "milestone_birthday", "M01": "churn_risk"}
    assert frame.loc["M01", ["owner", "due_on"]].tolist() == ["VIP 专员", "2026-12-03"]


def test_file_is_utf8_with_bom_and_formula_safe(tmp_path):
    frame = build()
    frame.loc[0, "notes"] = "=HYPERLINK(\"http://x\")"
    path = write_call_list(frame, tmp_path / "calls")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "'+8613800000002" in text  # Excel would read +86... as a number and drop the +


def test_filled_in_call_list_loads_back_as_contact_history(exports):
    from pipeline.lib.read.ingest import ROW_QUARANTINED, ingest_table
    from pipeline.lib.read.schema import TABLES

    frame = call_list(members().assign(member_id=lambda f: f["member_id"].str.replace("M", "M00")),
                      SEGMENTS.assign(member_id=lambda f: f["member_id"].str.replace("M", "M00")),
                      CHURN.assign(member_id=["M0001", "M0010"]), BIRTHDAYS.head(0),
                      COMPLAINTS.head(0), RETURNED.head(0), CallRules(), EDITION)
    frame.loc[0, ["called_at", "outcome"]] = ["2026-12-03", "已联系，下周来会所"]
    (exports / "contacts.csv").unlink()  # the club uses the call list as its contacts
    write_call_list(frame, exports)
    (exports / "columns.yaml").write_text(
        "contacts:\n  file: call-list.csv\n  columns:\n    contact_id: call_id\n"
        "    date: called_at\n    purpose: reason\n", encoding="utf-8")
    known = pd.Index(ingest_table(exports, TABLES["members"], as_of=AS_OF).frame["member_id"])
    contacts = ingest_table(exports, TABLES["contacts"], known, AS_OF)
    assert contacts.frame[["member_id", "contact_date", "purpose"]].values.tolist() == [
        ["M0001", pd.Timestamp(2026, 12, 3), "churn_risk"]]
    not_called = contacts.quarantine[contacts.quarantine["action"] == ROW_QUARANTINED]
    assert not_called["reason"].tolist() == ["date: required value is blank"] * (len(frame) - 1)
    assert contacts.reconciliation()["rows_read"] == len(frame)
