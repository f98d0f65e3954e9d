"""Tests for pipeline.lib.documents.report: what marketing reads in the monthly report PDF.

The inputs are a tiny edition built here (5 members, as_of 2026-11-20, edition
2026-12): the reporting month is October 2026. Two reports are rendered once per
module (a full one and one with every optional table missing); the other tests check
the context, which is what the template prints.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date

import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from pipeline.config import ClubConfig
from pipeline.lib.edition import Edition
from pipeline.lib.documents.report import (
    build_report_context,
    consecutive_runs,
    festival_names,
    format_change,
    kind_words,
    months_back,
    render_report,
    report_period,
)

AS_OF = date(2026, 11, 20)
EDITION = "2026-12"
PHONES = {"M001": "+8613800000001", "M002": "+8613900000002", "M003": "+8613700000003"}
CHURN_NAMES = ("王伟", "李娜")
OTHER_NAME = "欧阳娜娜"  # a member who is not on the churn-risk list
OWNERS = ("赵磊", "陈静")


def _members() -> pd.DataFrame:
    return pd.DataFrame({
        "member_id": pd.array(["M001", "M002", "M003", "M004", "M005"], dtype="string"),
        "name": pd.array([*CHURN_NAMES, OTHER_NAME, "周杰", "吴昊"], dtype="string"),
        "phone": pd.array([PHONES["M001"], PHONES["M002"], PHONES["M003"], None, None],
                          dtype="string"),
        "email": pd.array(["wang.wei@example.com", None, "ouyang@example.com", None, None],
                          dtype="string"),
        "address": pd.array(["滨江大道88号3栋1201室"] * 5, dtype="string"),
        # M004 joined in October (the reporting month), M005 after it (November).
        "join_date": pd.to_datetime(
            ["2020-01-01", "2021-05-05", "2026-09-10", "2026-10-12", "2026-11-05"]),
    })


def _transactions() -> pd.DataFrame:
    rows = [  # txn_id, member_id, txn_at, amount_cny
        ("T1", "M001", "2026-08-03 10:00", 900.0),
        ("T2", "M001", "2026-09-14 11:00", 1200.0),
        ("T3", "M002", "2026-09-20 12:00", 80.0),
        ("T4", "M003", "2026-09-25 09:00", 300.0),
        ("T5", "M004", "2026-10-15 15:00", 450.0),  # first purchase: moves from no purchase
        ("T6", "M002", "2026-10-28 16:00", 60.0),
        ("T7", "M003", "2026-11-02 10:00", 999.0),  # after the reporting month: ignored
    ]
    frame = pd.DataFrame(rows, columns=["txn_id", "member_id", "txn_at", "amount_cny"])
    frame["txn_at"] = pd.to_datetime(frame["txn_at"])
    return frame


def _segments() -> pd.DataFrame:
    return pd.DataFrame({
        "member_id": ["M001", "M002", "M003", "M004", "M005"],
        "recency_days": pd.array([67, 23, 18, 36, None], dtype="Int64"),
        "frequency": pd.array([2, 2, 2, 1, None], dtype="Int64"),
        "monetary": [2100.0, 140.0, 1299.0, 450.0, None],
        "rfm_segment": pd.array(["Champions", "At Risk", "Champions", "Potential Loyalists", None],
                                dtype="string"),
        "score": [81.5, 55.0, 72.0, 40.5, 10.0],
        "tier": ["key", "important", "key", "important", "ordinary"],
        "action": ["strengthen", "maintain", "strengthen", "maintain", "review"],
        "lifecycle_stage": ["lapsing", "active", "active", "new", "prospect"],
    })


def _complaint_stats() -> pd.DataFrame:
    rows = [  # month, category, received, resolved, open, first response h, resolution h, breach
        ("2026-09", "all", 4, 3, 1, 3.0, 40.0, 0.25),
        ("2026-10", "all", 6, 5, 2, 4.5, 52.5, 0.5),
        ("2026-10", "维修", 6, 5, 2, 4.5, 52.5, 0.5),
    ]
    frame = pd.DataFrame(rows, columns=[
        "month", "category", "received", "resolved", "open_at_month_end",
        "median_first_response_hours", "median_resolution_hours", "sla_breach_rate"])
    return frame.assign(p90_resolution_hours=80.0, mean_satisfaction=4.2)


def _tables() -> dict[str, pd.DataFrame]:
    return {
        "segments": _segments(),
        "agg_monthly_activity": pd.DataFrame({
            "month": ["2026-09", "2026-10"], "active_members": [3, 2], "transactions": [3, 2],
            "net_sales_cny": [1580.0, 12345.6], "returns_cny": [0.0, 0.0],
            "average_ticket_cny": [526.67, 6172.8],
        }),
        "churn_risk": pd.DataFrame({
            "member_id": ["M001", "M002"], "reason": ["lapsing", "open_complaint"],
            "score": [81.5, 55.0], "tier": ["key", "important"],
            "rfm_segment": ["Champions", "At Risk"], "lifecycle_stage": ["lapsing", "active"],
        }),
        "upcoming_birthdays": pd.DataFrame({
            "member_id": ["M001", "M003"], "birthday": [date(2026, 12, 3), date(2026, 12, 24)],
            "calendar": ["solar", "lunar"], "age": [60, 35], "milestone": [True, False],
        }),
        "holidays": pd.DataFrame({
            "date": [date(2026, 12, 22), date(2027, 1, 1)], "name": ["冬至", "元旦"],
            "name_en": ["Winter Solstice", "New Year's Day"], "kind": ["festival", "statutory_off"],
        }),
        "complaint_stats": _complaint_stats(),
        "complaint_backlog": pd.DataFrame({
            "complaint_id": ["C1", "C2"], "owner": list(OWNERS),
            "age_band": pd.Categorical([">30d", "1-3d"],
                                       categories=["<1d", "1-3d", "3-7d", "7-30d", ">30d"]),
            "is_overdue": [True, True],
        }),
        "complaint_overdue_by_owner": pd.DataFrame({
            "owner": list(OWNERS), "overdue_cases": [2, 1], "oldest_age_hours": [900.0, 50.0],
        }),
        "quarantine": pd.DataFrame({
            "table": ["members"], "file": ["members.csv"], "line": [7], "column": ["会员编号"],
            "value": [""], "reason": ["member_id: required value is blank"],
            "action": ["row_quarantined"],
        }),
    }


def _plan() -> tuple[pd.DataFrame, pd.DataFrame]:
    plan = pd.DataFrame({
        "member_id": ["M001", "M003", "M001", "M002"],
        "kind": ["birthday", "birthday", "newsletter", "festival-winter-solstice"],
        "channel": ["post", "email", "email", "post"],
        "piece_id": ["202612-birthday-M001", "202612-birthday-M003", "202612-newsletter-M001",
                     "202612-festival-winter-solstice-M002"],
        "household_id": [None, None, None, "H1"], "household_size": [1, 1, 1, 2], "priority": 1,
    })
    suppressed = pd.DataFrame({
        "member_id": ["M004", "M005", "M003"],
        "kind": ["newsletter", "newsletter", "festival-winter-solstice"],
        "reason": ["no_consent", "no_consent", "household_duplicate"],
    })
    return plan, suppressed


RECONCILIATION = {
    "members": {"rows_read": 6, "rows_loaded": 5, "rows_quarantined": 1},
    "contact_plan": {"eligible": 7, "planned": 4, "suppressed": 3},
}


PRODUCED = {"planned_post": 2, "produced_post": 2, "planned_email": 2, "produced_email": 2,
            "planned_sms": 0, "produced_sms": 0, "missing": 0, "repeated": 0, "unplanned": 0,
            "wrong_channel": 0}


def _context(as_of: date = AS_OF, edition: str = EDITION) -> dict:
    plan, suppressed = _plan()
    return build_report_context(_tables(), _members(), _transactions(), RECONCILIATION, plan,
                                suppressed, ClubConfig(), Edition(edition, as_of), PRODUCED)


def _empty_context() -> dict:
    no_transactions = _transactions().iloc[0:0]
    return build_report_context({}, _members(), no_transactions, {}, pd.DataFrame(),
                                pd.DataFrame(), ClubConfig(), Edition(EDITION, AS_OF))


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def context() -> dict:
    return _context()


@pytest.fixture(scope="module")
def report(context):
    rendered = render_report(context)
    return rendered, _pages(rendered.pdf)


@pytest.fixture(scope="module")
def empty_context() -> dict:
    return _empty_context()


@pytest.fixture(scope="module")
def empty_report(empty_context):
    rendered = render_report(empty_context)
    return rendered, _pages(rendered.pdf)


# --------------------------------------------------------------------------- the period


@pytest.mark.parametrize(
    "as_of, first, last",
    [
        (date(2026, 11, 20), date(2026, 10, 1), date(2026, 10, 31)),  # the example
        (date(2027, 1, 5), date(2026, 12, 1), date(2026, 12, 31)),  # across the year end
        (date(2026, 11, 30), date(2026, 10, 1), date(2026, 10, 31)),  # November is not over
        (date(2026, 11, 1), date(2026, 10, 1), date(2026, 10, 31)),  # first day of a month
        (date(2028, 3, 15), date(2028, 2, 1), date(2028, 2, 29)),  # leap February
        (date(2026, 3, 15), date(2026, 2, 1), date(2026, 2, 28)),  # common February
    ],
)
def test_report_period_is_the_last_complete_month(as_of, first, last):
    assert report_period(Edition.after(as_of)) == (first, last)


def test_trend_window_across_the_year_end():
    # as_of 2027-01-05 reports December 2026 with the trend January-December 2026.
    cover = _context(as_of=date(2027, 1, 5), edition="2027-02")["cover"]
    assert cover["period_zh"] == "2026年12月1日 – 2026年12月31日"
    assert cover["period_en"] == "December 2026"
    assert cover["trend_zh"] == "2026年1月 – 2026年12月"
    assert cover["trend_en"] == "Jan 2026 – Dec 2026"
    assert months_back(date(2026, 12, 1), 12)[0] == date(2026, 1, 1)


# --------------------------------------------------------------------------- the PDF


def test_cover_shows_club_period_edition_and_cut_off(report):
    cover = report[1][0]
    club = ClubConfig().club
    for text in (club.name_zh, club.name, "2026年12月刊", "December 2026 edition",
                 "2026年10月1日 – 2026年10月31日", "October 2026",  # the reporting period
                 "2025年11月 – 2026年10月", "Nov 2025 – Oct 2026",  # the trend window
                 "2026年11月20日"):  # the data cut-off
        assert text in cover


def test_summary_numbers_equal_the_marts(context, report):
    summary = {kpi["label_en"]: kpi for kpi in context["summary"]}
    # October: 4 members had joined by 31 October (M005 joined in November), 1 of them in
    # October; sales and complaints are the marts' October rows.
    assert summary["Members at month end"]["value"] == "4"
    assert summary["New members joined"]["value"] == "1"
    assert summary["Net sales"]["value"] == "¥12,345.60"
    assert summary["Net sales"]["previous"] == "¥1,580.00"
    assert summary["Active members"]["change"] == "-1（-33.3%）"
    assert summary["Complaints received"]["value"] == "6"
    assert summary["SLA breach rate"]["change"] == "+25.0 个百分点"
    assert summary["SLA breach rate"]["tone"] == "bad"  # more breaches are bad news
    summary_page = report[1][1]
    assert "¥12,345.60" in summary_page and "Members at month end" in summary_page


def test_churn_list_names_members_with_masked_phones_only(report):
    text = "\n".join(report[1])
    for name in CHURN_NAMES:
        assert name in text
    assert "+86 138****0001" in text
    digits = re.sub(r"\s", "", text)
    for phone in PHONES.values():
        assert phone[3:] not in digits  # no full number, with or without +86
    assert OTHER_NAME not in text  # names appear in the churn-risk list only
    assert "@example.com" not in text and "滨江大道88号" not in text  # no e-mail, no address


def test_churn_reasons_are_in_chinese(report):
    churn_page = next(page for page in report[1] if "流失风险名单" in page and "王伟" in page)
    assert "超过 180 天未消费" in churn_page and "有未解决的投诉" in churn_page


def test_complaints_show_overdue_owners(report):
    complaints = "\n".join(p for p in report[1] if "超时投诉责任人" in p or "投诉与服务" in p)
    for owner in OWNERS:
        assert owner in complaints
    assert "52.5" in complaints  # October's median resolution hours


def test_every_character_has_a_glyph_in_the_report_font(report):
    # WeasyPrint prints an empty box for a character its fonts lack, without a warning.
    found = subprocess.run(["fc-match", "-f", "%{file}\t%{index}", "Noto Sans CJK SC"],
                           capture_output=True, text=True, check=True).stdout
    path, index = found.split("\t")
    cmap = TTFont(path, fontNumber=int(index), lazy=True).getBestCmap()
    text = "".join(report[1])
    assert {c for c in text if not c.isspace() and ord(c) not in cmap} == set()
    fonts = {str(font["/BaseFont"]) for page in PdfReader(io.BytesIO(report[0].pdf)).pages
             for font in page["/Resources"]["/Font"].values()}
    assert all("Noto" in font for font in fonts)  # no fallback font stood in


def test_pages_are_numbered_on_every_page_after_the_cover(report):
    rendered, pages = report
    assert rendered.pages > 1
    for number, text in enumerate(pages[1:], start=2):
        assert f"第 {number} 页 / 共 {rendered.pages} 页" in text


def test_contact_plan_counts_pieces_by_kind_and_reason(context, report):
    contact = context["contact"]
    assert [row["zh"] for row in contact["plan"]["rows"]] == ["生日贺卡", "冬至贺卡", "会员通讯"]
    assert contact["plan"]["channels"] == [("邮寄", "Post"), ("电子邮件", "E-mail")]
    assert contact["plan"]["totals"] == [2, 2]
    assert contact["plan"]["produced"] == [2, 2]  # what was produced, per channel
    page = next(text for text in report[1] if "已生成" in text)
    assert re.search(r"已生成\s*Produced\s*2\s*2\s*4", page)
    reason = contact["suppressed"][0]  # the most frequent reason first
    assert (reason["zh"], reason["count"]) == ("未获联系同意", 2)
    assert reason["share"] == pytest.approx(2 / 3)
    assert "未获联系同意" in "\n".join(report[1])


def test_segment_movement_compares_month_ends(context):
    movement = context["movement"]
    names = [en for _zh, en in movement["segments"]]
    matrix = pd.DataFrame(movement["matrix"], index=names, columns=names)
    assert int(matrix.to_numpy().sum()) == 5  # every member once, buyers or not
    # M004's first purchase was in October: from "no purchase" into a segment.
    assert matrix.loc["No purchase"].drop("No purchase").sum() == 1
    assert movement["moved"] == int((matrix.to_numpy().sum() - matrix.to_numpy().trace()))


def test_milestone_birthdays_and_edition_month_festivals(context):
    assert context["birthdays"]["milestones"] == 1
    assert context["birthdays"]["by_age"] == [{"age": 60, "count": 1}]
    assert [day["name"] for day in context["holidays"]] == ["冬至"]  # 元旦 is January


# --------------------------------------------------------------------------- no data


@pytest.mark.parametrize(
    "what",
    [
        "投诉 complaints",  # no complaints export
        "交易 transactions",  # no transactions: no trend, no segment movement
        "联系计划 contact plan",  # nothing planned
        "流失风险 churn risk",
    ],
)
def test_missing_tables_say_no_data(empty_report, what):
    assert f"暂无数据 · No data：{what}" in "\n".join(empty_report[1])


def test_summary_without_transactions_shows_dashes_not_zeros(empty_context):
    summary = {kpi["label_en"]: kpi for kpi in empty_context["summary"]}
    assert summary["Net sales"]["value"] == "—"
    assert summary["Members at month end"]["value"] == "4"


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    "current, previous, unit, text",
    [
        (4949, 4861, "count", "+88（+1.8%）"),
        (3, 0, "count", "+3"),  # no percentage of nothing
        (293820.49, 394327.38, "cny", "-25.5%"),
        (0.5, 0.667, "rate", "-16.7 个百分点"),  # rates change in percentage points
        (None, 12, "count", "—"),  # no data this month
    ],
)
def test_change_against_last_month(current, previous, unit, text):
    assert format_change(current, previous, unit) == text


def test_make_up_workdays_apart_stay_separate_rows():
    days = [date(2026, 2, 14), date(2026, 2, 28)]  # 春节调休: two Saturdays, not a block
    assert consecutive_runs(days) == [[days[0]], [days[1]]]
    block = [date(2026, 10, d) for d in range(1, 8)]  # 国庆节: one seven-day block
    assert consecutive_runs(block) == [block]


def test_quarantine_reasons_group_the_same_problem_on_different_lines():
    quarantine = pd.DataFrame({
        "table": ["members"] * 3, "file": ["members.csv"] * 3, "line": [9, 12, 14],
        "column": ["会员编号"] * 3, "value": ["M1", "M1", ""],
        "reason": ["member_id: duplicate of line 2 (the first is kept)",
                   "member_id: duplicate of line 5 (the first is kept)",
                   "member_id: required value is blank"],
        "action": ["row_quarantined"] * 3,
    })
    tables = _tables() | {"quarantine": quarantine}
    plan, suppressed = _plan()
    context = build_report_context(tables, _members(), _transactions(), RECONCILIATION, plan,
                                   suppressed, ClubConfig(), Edition(EDITION, AS_OF))
    reasons = context["data_quality"]["reasons"]
    assert [(r["reason"], r["count"]) for r in reasons] == [
        ("member_id: duplicate of line N (the first is kept)", 2),
        ("member_id: required value is blank", 1),
    ]
    assert "M1" not in str(reasons)  # values may be personal data: never shown


@pytest.mark.parametrize(
    "kind, words",
    [
        ("birthday", ("生日贺卡", "Birthday")),
        ("festival-mid-autumn", ("中秋节贺卡", "Festival: Mid autumn")),  # built-in festival
        ("festival-club-day", ("俱乐部日贺卡", "Festival: Club day")),  # the club's own date
        ("festival-unknown", ("Unknown", "Festival: Unknown")),  # no Chinese name: as given
    ],
)
def test_piece_kinds_in_chinese(kind, words):
    config = ClubConfig.model_validate(
        {"calendar": {"custom": [{"when": "06-18", "name": "俱乐部日", "name_en": "Club Day"}]}})
    assert kind_words(kind, festival_names(config)) == words


# --------------------------------------------------------------------------- what works


CARE = pd.DataFrame({
    "kind": ["birthday", "birthday", "birthday", "festival"],
    "channel": ["post", "sms", "none", "post"],
    "group": ["greeted", "greeted", "comparison", "greeted"],
    "members": [120, 40, 45, 12],
    "responded": [30, 6, 4, 3],
    "response_rate": [0.25, 0.15, 0.0889, 0.25],
})


@pytest.fixture(scope="module")
def care_report():
    plan, suppressed = _plan()
    tables = {**_tables(), "care_response": CARE}
    config = ClubConfig.model_validate({"costs": {"print_cny": 0.8, "postage_cny": 1.2,
                                                  "email_cny": 0.01}})
    context = build_report_context(tables, _members(), _transactions(), RECONCILIATION, plan,
                                   suppressed, config, Edition(EDITION, AS_OF), PRODUCED)
    return context, "\n".join(_pages(render_report(context).pdf))


def test_care_response_compares_with_the_group_not_sent_and_says_when_too_small(care_report):
    context, text = care_report
    flat = text.replace(" ", "").replace("\n", "")
    assert "关怀效果与成本" in flat
    assert "对照组（未发送）" in flat
    # birthday: 36 of 160 greeted (22.5%) against 4 of 45 not sent (8.9%)
    assert "生日：已问候22.5%（160人次），对照组8.9%（45人次），相差+13.6个百分点" in flat
    # festival: no comparison group at all
    assert "节日：没有对照组" in flat
    assert "样本过少" in flat  # 12 festival greetings are fewer than care.min_group (30)


def test_costs_per_kind_and_channel_and_per_responding_member(care_report):
    context, text = care_report
    costs = {(r["kind"], r["channel"]): r["cost_cny"] for r in context["care"]["costs"]}
    # the plan: two post pieces (birthday, festival) at 0.80 + 1.20, two e-mails at 0.01
    assert costs == {("birthday", "email"): 0.01, ("birthday", "post"): 2.0,
                     ("festival", "post"): 2.0, ("newsletter", "email"): 0.01}
    assert context["care"]["cost_total"] == 4.02
    flat = text.replace(" ", "").replace("\n", "")
    assert "¥4.02" in flat
    # 120 birthday letters at ¥2.00 for 30 buyers: ¥8.00 per responding member
    assert "生日·邮寄¥8.00" in flat


def test_no_unit_cost_no_cost_shown(report):
    flat = "".join(report[1]).replace(" ", "").replace("\n", "")
    assert "未设置单价" in flat and "¥4.02" not in flat
