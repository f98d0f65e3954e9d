"""The monthly report for marketing (CONTRACT §4 `report/monthly-report.pdf`).

`build_report_context` turns the edition's marts, the staged members and transactions,
the reconciliation and the contact plan into plain numbers, labels and rows;
`render_report` draws the charts and renders `templates/report/report.html.j2` to PDF.

Time. The report covers the *reporting month*: the last complete calendar month
before `as_of` (as_of 2026-11-20 -> October 2026; any day of November gives October),
compared with the month before it, and a 12-month trend window ending with it
(November 2025 - October 2026). Counts "at month end" include everything dated on the
month's last day. Tables that are a state of the data cut-off rather than of a month
(segments, tiers, churn risk, complaint backlog) say so in the report.

Personal data. Member names appear only in the churn-risk list, phones only masked
(by the template's `mask_phone` filter), no e-mail or street address anywhere.

Inputs. `tables` holds the edition's marts by table name (CONTRACT §4): segments,
agg_monthly_activity, churn_risk, upcoming_birthdays, anniversaries, holidays,
complaint_stats, complaint_backlog, complaint_overdue_by_owner, quarantine. Segment
movement recomputes RFM from the staged transactions at both month ends with the SQL
models `int_rfm.sql` and `agg_segment_movement.sql` (`segments.segment_movement`), using
the club's segment rules (`config.segments`) so it agrees with the segments table.

Every input may be missing or empty: the section then says 暂无数据 / No data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from markupsafe import Markup

from pipeline.config import ClubConfig
from pipeline.lib.rules import care
from pipeline.lib.documents import charts, i18n
from pipeline.lib.rules.calendar import FESTIVAL_KEYS, festival_key
from pipeline.lib.rules.complaints import AGE_BANDS
from pipeline.lib.edition import Edition, first_of_next_month
from pipeline.lib.documents.pdf import Rendered, render_pdf
from pipeline.config.segments import (
    LIFECYCLE_STAGES,
    UNCLASSIFIED,
    LifecycleThresholds,
    SegmentRule,
    TierRule,
)
from pipeline.lib.rules.segments import NO_PURCHASE, segment_movement
from pipeline.lib.documents.templating import render

TEMPLATE = "report/report.html.j2"
TREND_MONTHS = 12
CHURN_LIST_LENGTH = 30
TOP_QUARANTINE_REASONS = 10
TOP_SEGMENT_FLOWS = 6

# --- words ---------------------------------------------------------------------------

SEGMENT_ZH = {
    "Champions": "冠军会员",
    "Loyal Customers": "忠诚会员",
    "Potential Loyalists": "潜力会员",
    "Can't Lose Them": "重要挽留",
    "At Risk": "流失风险",
    "Hibernating": "休眠会员",
    "Low Priority": "低优先级",
    UNCLASSIFIED: "未分类",
    NO_PURCHASE: "无消费",
}
TIER_WORDS = {  # tier: (zh, en)
    "key": ("重点会员", "Key"),
    "important": ("重要会员", "Important"),
    "ordinary": ("普通会员", "Ordinary"),
}
ACTION_WORDS = {  # action: (zh, en, what marketing should do)
    "strengthen": ("加强维系", "Strengthen", "专属顾问一对一维护，优先邀请参加会所活动与新品体验"),
    "maintain": ("稳定维护", "Maintain", "定期关怀与节日问候，推荐合适的活动以提升到访频次"),
    "review": ("评估激活", "Review", "以低成本渠道触达，根据响应情况再决定投入"),
}
LIFECYCLE_WORDS = {  # stage: (zh, en, description with the configured day counts)
    "prospect": ("潜在会员", "Prospect", "尚无消费记录"),
    "new": ("新会员", "New", "首次消费在 {new_days} 天内"),
    "won_back": ("回流会员", "Won back", "沉寂超过 {lapsed_days} 天后再次消费"),
    "active": ("活跃会员", "Active", "{active_days} 天内有消费"),
    "lapsing": ("流失预警", "Lapsing", "{active_days}–{lapsed_days} 天未消费"),
    "lapsed": ("已流失", "Lapsed", "超过 {lapsed_days} 天未消费"),
}
CHURN_REASON_ZH = {
    "lapsing": "超过 {active_days} 天未消费",
    "lapsed": "超过 {lapsed_days} 天未消费",
    "open_complaint": "有未解决的投诉",
}
SUPPRESSION_WORDS = {
    "deceased": ("会员已故", "Deceased"),
    "do_not_contact": ("要求勿扰", "Do not contact"),
    "no_consent": ("未获联系同意", "No consent"),
    "no_valid_address": ("无有效地址", "No valid address"),
    "no_valid_email": ("无有效邮箱", "No valid e-mail"),
    "no_valid_phone": ("无有效手机号", "No valid phone"),
    "household_duplicate": ("同户合并寄送", "Household duplicate"),
    "frequency_cap": ("超出联系频次上限", "Frequency cap"),
}
CHANNEL_WORDS = {"post": ("邮寄", "Post"), "email": ("电子邮件", "E-mail"), "sms": ("短信", "SMS")}
KIND_WORDS = {
    "birthday": ("生日贺卡", "Birthday"),
    "anniversary-membership": ("入会周年贺卡", "Membership anniversary"),
    "anniversary-ownership": ("入住周年贺卡", "Ownership anniversary"),
    "newsletter": ("会员通讯", "Newsletter"),
}
KIND_FAMILY_ORDER = ("birthday", "anniversary", "festival", "newsletter")
HOLIDAY_KIND_WORDS = {
    "festival": ("传统节日", "Festival"),
    "statutory_off": ("法定假日", "Public holiday"),
    "make_up_workday": ("调休上班", "Make-up workday"),
    "custom": ("俱乐部纪念日", "Club date"),
}
AGE_BAND_ZH = {"<1d": "1 天内", "1-3d": "1–3 天", "3-7d": "3–7 天", "7-30d": "7–30 天", ">30d": "30 天以上"}
TABLE_WORDS = {
    "members": ("会员", "Members"),
    "transactions": ("交易", "Transactions"),
    "complaints": ("投诉", "Complaints"),
    "contacts": ("联系记录", "Contacts"),
    "events": ("活动", "Events"),
}
QUARANTINE_ACTION_ZH = {"row_quarantined": "整行隔离", "value_dropped": "清空该值，保留行"}
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


# --- time ----------------------------------------------------------------------------


def report_period(edition: Edition) -> tuple[date, date]:
    """First and last day of the last complete calendar month before the cut-off day."""
    first = edition.report_month
    return first, first_of_next_month(first) - timedelta(days=1)


def months_back(first_day: date, count: int) -> list[date]:
    """First days of the `count` months ending with `first_day`'s month, oldest first."""
    index = first_day.year * 12 + first_day.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def _month_zh(month: date) -> str:
    return f"{month.year}年{month.month}月"


def _month_en(month: date, short: bool = False) -> str:
    name = EN_MONTHS[month.month - 1]
    return f"{name[:3] if short else name} {month.year}"


def _axis_month(month: date, first: bool) -> str:
    """Chart axis label: the month, with the year under the first month and January."""
    return f"{month.month}月\n{month.year}" if first or month.month == 1 else f"{month.month}月"


# --- the context ---------------------------------------------------------------------


def build_report_context(
    tables: dict[str, pd.DataFrame],
    members: pd.DataFrame,
    transactions: pd.DataFrame,
    reconciliation: dict,
    plan: pd.DataFrame,
    suppressed: pd.DataFrame,
    config: ClubConfig,
    edition: Edition,
    produced: dict | None = None,
) -> dict:
    """Everything the report shows, as plain numbers, labels and rows (no charts yet).
    `produced`: the outputs per channel (`produced.against_plan`), when known."""
    first, last = report_period(edition)
    months = months_back(first, TREND_MONTHS)
    edition_month, as_of = edition.first_day, edition.as_of
    segments = _present(tables.get("segments"))
    thresholds = config.lifecycle
    return {
        "cover": _cover(config, edition_month, first, last, months, as_of, members),
        "summary": _summary(members, tables, first),
        "activity_trend": _activity_trend(_present(tables.get("agg_monthly_activity")), months),
        "segments": _segment_distribution(segments, config.segments),
        "movement": _segment_movement(members, transactions, first, last, config.segments),
        "tiers": _tiers(segments, config.scorecard.tiers),
        "lifecycle": _lifecycle(segments, config.scorecard.tiers, thresholds),
        "churn": _churn(_present(tables.get("churn_risk")), members, thresholds),
        "birthdays": _birthdays(_present(tables.get("upcoming_birthdays")),
                                _present(tables.get("anniversaries"))),
        "holidays": _holidays(_present(tables.get("holidays")), edition_month),
        "contact": _contact(_present(plan), _present(suppressed), reconciliation,
                            festival_names(config), produced),
        "care": care_section(tables.get("care_response"), _present(plan), config),
        "complaints": _complaints(tables, months),
        "data_quality": _data_quality(reconciliation, _present(tables.get("quarantine"))),
    }


CARE_KINDS_ZH = {"birthday": "生日", "festival": "节日", "anniversary": "周年",
                 "newsletter": "会刊"}
CHANNELS_ZH = {"post": "邮寄", "email": "邮件", "sms": "短信", "phone": "电话", "none": "—",
               "unknown": "未知"}
GROUPS_ZH = {"greeted": "已问候", "comparison": "对照组（未发送）"}


def care_section(care_table: pd.DataFrame | None, plan: pd.DataFrame | None,
                 config: ClubConfig) -> dict:
    """What works (care_response rows with labels and a plain verdict per kind) and the
    edition's estimated cost (costs.*), for the report."""
    rules, costs = config.care, config.costs
    frame = care_table if care_table is not None else pd.DataFrame(columns=list(care.COLUMNS))
    rows = [
        {**row, "kind_zh": CARE_KINDS_ZH.get(row["kind"], row["kind"]),
         "channel_zh": CHANNELS_ZH.get(row["channel"], row["channel"]),
         "group_zh": GROUPS_ZH.get(row["group"], row["group"]),
         "too_small": int(row["members"]) < rules.min_group}
        for row in frame.to_dict("records")
    ]
    notes = []
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        greeted = [r for r in mine if r["group"] == "greeted"]
        compared = [r for r in mine if r["group"] == "comparison"]
        label = CARE_KINDS_ZH.get(kind, kind)
        sent = sum(int(r["members"]) for r in greeted)
        held = sum(int(r["members"]) for r in compared)
        if not compared:
            notes.append(f"{label}：没有对照组（往期联系计划不在输出目录中，或没有应收未收的会员），"
                         f"无法判断问候是否带来消费；已问候 {sent} 人次。")
        elif sent < rules.min_group or held < rules.min_group:
            notes.append(f"{label}：样本过少（已问候 {sent} 人次，对照组 {held} 人次，"
                         f"每组至少 {rules.min_group} 人次才比较），暂不下结论。")
        else:
            rate = sum(int(r["responded"]) for r in greeted) / sent
            base = sum(int(r["responded"]) for r in compared) / held
            notes.append(f"{label}：已问候 {rate:.1%}（{sent} 人次），对照组 {base:.1%}（{held} 人次），"
                         f"相差 {100 * (rate - base):+.1f} 个百分点。")
    cost_rows = [
        {**row, "kind_zh": CARE_KINDS_ZH.get(row["kind"], row["kind"]),
         "channel_zh": CHANNELS_ZH.get(row["channel"], row["channel"])}
        for row in care.edition_costs(plan if plan is not None else pd.DataFrame(
            columns=["kind", "channel"]), costs)
    ]
    per_response = [
        {"kind_zh": CARE_KINDS_ZH.get(kind, kind), "channel_zh": CHANNELS_ZH.get(channel, channel),
         "cost": cost}
        for (kind, channel), cost in care.cost_per_response(frame, costs).items() if cost is not None
    ]
    return {"months": rules.months, "response_days": rules.response_days, "rows": rows,
            "notes": notes, "costs": cost_rows,
            "cost_pieces": sum(r["pieces"] for r in cost_rows),
            "cost_total": round(sum(r["cost_cny"] for r in cost_rows), 2),
            "per_response": per_response}


def _present(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The frame, or None when the table is missing or has no rows."""
    return None if frame is None or frame.empty else frame


def _cover(config, edition_month, first, last, months, as_of, members) -> dict:
    return {
        "club_zh": config.club.name_zh,
        "club_en": config.club.name,
        "edition_zh": f"{edition_month.year}年{edition_month.month}月刊",
        "edition_en": f"{_month_en(edition_month)} edition",
        "period_zh": f"{i18n.format_date(first, 'zh-CN')} – {i18n.format_date(last, 'zh-CN')}",
        "period_en": _month_en(first),
        "trend_zh": f"{_month_zh(months[0])} – {_month_zh(months[-1])}",
        "trend_en": f"{_month_en(months[0], short=True)} – {_month_en(months[-1], short=True)}",
        "cutoff_zh": i18n.format_date(as_of, "zh-CN"),
        "cutoff_en": i18n.format_date(as_of, "en"),
        "members_on_file": len(members),
        "month_zh": f"{first.month}月",
        "previous_month_zh": f"{months_back(first, 2)[0].month}月",
        "edition_month_zh": _month_zh(edition_month),
    }


# --- 1. summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    label: str
    label_en: str
    unit: str  # count | cny | rate
    higher_is_better: bool | None = None


METRICS = {
    "members": Metric("会员总数（月末）", "Members at month end", "count", True),
    "active_members": Metric("活跃会员", "Active members", "count", True),
    "transactions": Metric("交易笔数", "Transactions", "count", True),
    "net_sales": Metric("净销售额", "Net sales", "cny", True),
    "average_ticket": Metric("客单价", "Average ticket", "cny", True),
    "new_members": Metric("新入会会员", "New members joined", "count", True),
    "complaints": Metric("投诉受理", "Complaints received", "count", False),
    "sla_breach_rate": Metric("SLA 超时率", "SLA breach rate", "rate", False),
}


def _summary(members: pd.DataFrame, tables: dict, first: date) -> list[dict]:
    previous = months_back(first, 2)[0]
    activity = _by_month(_present(tables.get("agg_monthly_activity")))
    complaints = _complaints_all(_present(tables.get("complaint_stats")))
    now = _month_values(members, activity, complaints, first)
    before = _month_values(members, activity, complaints, previous)
    return [_kpi(METRICS[name], now[name], before[name]) for name in METRICS]


def _by_month(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if frame is None else frame.set_index("month")


def _complaints_all(stats: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if stats is None else stats[stats["category"] == "all"].set_index("month")


def _month_values(members, activity, complaints, month: date) -> dict:
    start, end = pd.Timestamp(month), pd.Timestamp(first_of_next_month(month))
    joined = members["join_date"] if "join_date" in members else pd.Series(dtype="datetime64[us]")
    sales = _activity_month(_row(activity, _key(month))) if activity is not None else {}
    complaint = _row(complaints, _key(month))
    return {
        "members": int((joined.isna() | (joined < end)).sum()),
        "active_members": sales.get("active_members"),  # None: no transactions export
        "transactions": sales.get("transactions"),
        "net_sales": sales.get("net_sales"),
        "average_ticket": sales.get("average_ticket"),
        "new_members": int(((joined >= start) & (joined < end)).sum()),
        "complaints": None if complaints is None else int(complaint.get("received", 0)),
        "sla_breach_rate": _number(complaint.get("sla_breach_rate")),
    }


def _row(frame: pd.DataFrame | None, month: str) -> dict:
    if frame is None or month not in frame.index:
        return {}
    return frame.loc[month].to_dict()


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def format_value(value: float | None, unit: str) -> str:
    """A metric as the report prints it: 1,234 / ¥1,234.50 / 12.5% / — (no data)."""
    if value is None:
        return "—"
    if unit == "cny":
        return i18n.format_cny(value, "zh-CN")
    if unit == "rate":
        return f"{value:.1%}"
    return f"{int(value):,}"


def format_change(current: float | None, previous: float | None, unit: str) -> str:
    """Change on last month: +88（+1.8%） for counts, +5.2% for money, +3.1 个百分点 for rates."""
    if current is None or previous is None:
        return "—"
    difference = current - previous
    if unit == "rate":
        return f"{difference * 100:+.1f} 个百分点"
    relative = f"{difference / abs(previous):+.1%}" if previous else ""
    if unit == "cny":
        return relative or "—"
    return f"{int(difference):+,}" + (f"（{relative}）" if relative else "")


def _kpi(metric: Metric, current, previous) -> dict:
    direction = "none"
    if current is not None and previous is not None:
        direction = "up" if current > previous else "down" if current < previous else "flat"
    tone = "neutral"
    if metric.higher_is_better is not None and direction in ("up", "down"):
        tone = "good" if (direction == "up") == metric.higher_is_better else "bad"
    return {
        "label": metric.label,
        "label_en": metric.label_en,
        "value": format_value(current, metric.unit),
        "previous": format_value(previous, metric.unit),
        "change": format_change(current, previous, metric.unit),
        "direction": direction,
        "tone": tone,
    }


def _activity_trend(activity: pd.DataFrame | None, months: list[date]) -> dict | None:
    if activity is None:
        return None
    by_month = _by_month(activity)
    rows = [_activity_month(_row(by_month, _key(m))) | {"month_zh": _month_zh(m)} for m in months]
    return {
        "labels": [_axis_month(m, i == 0) for i, m in enumerate(months)],
        "rows": rows,
        "net_sales": [r["net_sales"] for r in rows],
        "active_members": [r["active_members"] for r in rows],
    }


def _activity_month(row: dict) -> dict:
    """One month of `agg_monthly_activity`; a month without transactions is zeros."""
    return {
        "active_members": int(row.get("active_members", 0)),
        "transactions": int(row.get("transactions", 0)),
        "net_sales": float(row.get("net_sales_cny", 0.0)),
        "returns": float(row.get("returns_cny", 0.0)),
        "average_ticket": _number(row.get("average_ticket_cny")),
    }


# --- 2. segments ---------------------------------------------------------------------


def segment_words(name: str) -> tuple[str, str]:
    """(zh, en) of an RFM segment; a club's own segment names are shown as written."""
    return SEGMENT_ZH.get(name, name), name


def _segment_order(rules: Sequence[SegmentRule], present) -> list[str]:
    names = [rule.name for rule in rules]
    extras = sorted(set(present) - set(names) - {NO_PURCHASE})
    return names + extras + [NO_PURCHASE]


def _segment_distribution(segments: pd.DataFrame | None, rules) -> dict | None:
    if segments is None:
        return None
    segment = segments["rfm_segment"].astype("object").where(segments["rfm_segment"].notna(),
                                                             NO_PURCHASE)
    total = len(segments)
    rows = []
    for name in _segment_order(rules, segment.unique()):
        chosen = segments[(segment == name).to_numpy()]
        zh, en = segment_words(name)
        rows.append({
            "name": name, "zh": zh, "en": en, "count": len(chosen),
            "share": len(chosen) / total,
            "mean_monetary": _number(chosen["monetary"].mean()) if len(chosen) else None,
            "mean_recency_days": _number(chosen["recency_days"].mean()) if len(chosen) else None,
        })
    return {"rows": rows, "total": total}


def _segment_movement(members, transactions, first: date, last: date, rules) -> dict | None:
    """Segments at the end of the previous month against the end of the reporting month."""
    if transactions is None or transactions.empty:
        return None
    pairs = segment_movement(members[["member_id"]], transactions, first,
                             last + timedelta(days=1), rules)
    order = _segment_order(rules, set(pairs["previous_segment"]) | set(pairs["current_segment"]))
    matrix = pairs.pivot(index="previous_segment", columns="current_segment", values="members")
    matrix = matrix.reindex(index=order, columns=order).fillna(0).astype(int)
    moved = int(pairs.loc[pairs["previous_segment"] != pairs["current_segment"], "members"].sum())
    flows = [
        {"from": segment_words(a), "to": segment_words(b), "count": int(matrix.at[a, b])}
        for a in order for b in order if a != b and matrix.at[a, b] > 0
    ]
    flows.sort(key=lambda flow: -flow["count"])
    return {
        "segments": [segment_words(name) for name in order],
        "matrix": matrix.to_numpy().tolist(),
        "moved": moved,
        "members": int(pairs["members"].sum()),
        "flows": flows[:TOP_SEGMENT_FLOWS],
        "from_zh": f"{(first - timedelta(days=1)).month}月末",
        "to_zh": f"{last.month}月末",
    }


# --- 3. tiers and lifecycle -------------------------------------------------------------


def _tier_ranges(tiers: Sequence[TierRule]) -> list[tuple[TierRule, str]]:
    ordered = sorted(tiers, key=lambda t: -t.min_score)
    ranges, upper = [], None
    for tier in ordered:
        low = f"{tier.min_score:g}"
        ranges.append((tier, f"≥ {low}" if upper is None else f"{low} – {upper}"))
        upper = low
    return ranges


def _tiers(segments: pd.DataFrame | None, tiers: Sequence[TierRule]) -> list[dict] | None:
    if segments is None:
        return None
    rows = []
    for tier, score_range in _tier_ranges(tiers):
        chosen = segments[(segments["tier"] == tier.name).fillna(False).to_numpy(dtype=bool)]
        zh, en = TIER_WORDS.get(tier.name, (tier.name, tier.name))
        action_zh, action_en, advice = ACTION_WORDS.get(tier.action, (tier.action, tier.action, ""))
        rows.append({
            "zh": zh, "en": en, "score_range": score_range, "count": len(chosen),
            "share": len(chosen) / len(segments),
            "mean_score": _number(chosen["score"].mean()) if len(chosen) else None,
            "action_zh": action_zh, "action_en": action_en, "advice": advice,
        })
    return rows


def _lifecycle(segments, tiers: Sequence[TierRule], thresholds: LifecycleThresholds) -> dict | None:
    if segments is None:
        return None
    tier_names = [t.name for t, _range in _tier_ranges(tiers)]
    stage = segments["lifecycle_stage"].astype("object")
    stages = list(LIFECYCLE_STAGES) + sorted(set(stage.dropna()) - set(LIFECYCLE_STAGES))
    days = thresholds.model_dump()
    rows = []
    for name in stages:
        chosen = segments[(stage == name).to_numpy(dtype=bool)]
        zh, en, description = LIFECYCLE_WORDS.get(name, (name, name, ""))
        by_tier = chosen["tier"].value_counts()
        rows.append({
            "zh": zh, "en": en, "description": description.format(**days),
            "count": len(chosen), "share": len(chosen) / len(segments),
            "by_tier": [int(by_tier.get(t, 0)) for t in tier_names],
        })
    return {"rows": rows, "tiers": [TIER_WORDS.get(t, (t, t)) for t in tier_names]}


# --- 4. churn risk -------------------------------------------------------------------


def churn_reason_zh(reason: str, thresholds: LifecycleThresholds) -> str:
    """'lapsed+open_complaint' -> 超过 365 天未消费；有未解决的投诉."""
    days = thresholds.model_dump()
    return "；".join(CHURN_REASON_ZH.get(part, part).format(**days) for part in reason.split("+"))


def _churn(churn: pd.DataFrame | None, members: pd.DataFrame, thresholds) -> dict | None:
    if churn is None:
        return None
    top = churn.sort_values(["score", "member_id"], ascending=[False, True], kind="stable")
    top = top.head(CHURN_LIST_LENGTH).merge(
        members[["member_id", "name", "phone"]], on="member_id", how="left"
    )
    rows = [
        {
            "name": _text(row.name), "phone": _text(row.phone),
            "tier": TIER_WORDS.get(row.tier, (row.tier, row.tier))[0] if _text(row.tier) else "",
            "segment": segment_words(row.rfm_segment)[0] if _text(row.rfm_segment) else "无消费",
            "reason": churn_reason_zh(row.reason, thresholds), "score": float(row.score),
        }
        for row in top.itertuples(index=False)
    ]
    reasons = churn["reason"].str.split("+").explode().value_counts()
    by_reason = [
        {"zh": churn_reason_zh(r, thresholds), "count": int(reasons.get(r, 0))}
        for r in CHURN_REASON_ZH if r in reasons.index
    ]
    return {"rows": rows, "total": len(churn), "by_reason": by_reason}


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


# --- 5. birthdays and the edition month's calendar -------------------------------------


WEEKS = ((1, 7), (8, 14), (15, 21), (22, 31))  # days of the month, for the delivery plan


def _birthdays(upcoming: pd.DataFrame | None, anniversaries: pd.DataFrame | None) -> dict:
    result = {"total": 0, "lunar": 0, "milestones": 0, "by_age": [], "by_week": [],
              "anniversaries": []}
    if upcoming is not None:
        is_milestone = upcoming["milestone"].fillna(False).astype(bool).to_numpy()
        ages = upcoming["age"][is_milestone].value_counts().sort_index()
        day = pd.to_datetime(upcoming["birthday"]).dt.day.to_numpy()
        result |= {
            "total": len(upcoming),
            "lunar": int((upcoming["calendar"] == "lunar").sum()),
            "milestones": int(is_milestone.sum()),
            "by_age": [{"age": int(age), "count": int(n)} for age, n in ages.items()],
            "by_week": [
                {"days": f"{first}–{last}日" if last < 31 else f"{first}日–月末",
                 "count": int(((day >= first) & (day <= last)).sum()),
                 "milestones": int(((day >= first) & (day <= last) & is_milestone).sum())}
                for first, last in WEEKS
            ],
        }
    if anniversaries is not None:
        kinds = anniversaries["kind"].value_counts()
        words = {"membership": ("入会周年", "Membership"), "ownership": ("入住周年", "Ownership")}
        result["anniversaries"] = [
            {"zh": words.get(k, (k, k))[0], "en": words.get(k, (k, k))[1], "count": int(n)}
            for k, n in kinds.sort_index().items()
        ]
    return result


def _holidays(holidays: pd.DataFrame | None, edition_month: date) -> list[dict]:
    """The edition month's festivals and holidays; consecutive days off are one row."""
    if holidays is None:
        return []
    days = pd.to_datetime(holidays["date"]).dt.date
    inside = ((days >= edition_month) & (days < first_of_next_month(edition_month))).to_numpy()
    month = holidays[inside].assign(day=days[inside].to_numpy())
    rows = []
    for (name, kind), group in month.groupby(["name", "kind"], sort=False):
        kind_zh, kind_en = HOLIDAY_KIND_WORDS.get(kind, (kind, kind))
        for run in consecutive_runs(sorted(group["day"])):
            rows.append({
                "first": run[0], "name": name, "name_en": group["name_en"].iloc[0],
                "when": _day_span(run[0], run[-1]), "days": len(run), "kind_zh": kind_zh,
                "kind_en": kind_en, "is_off": kind == "statutory_off",
            })
    return sorted(rows, key=lambda r: (r["first"], r["name"]))


def consecutive_runs(days: list[date]) -> list[list[date]]:
    """Sorted days split where a day does not follow the previous one: two make-up
    workdays a fortnight apart stay two rows, a seven-day holiday block is one."""
    runs: list[list[date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _day_span(first: date, last: date) -> str:
    start = i18n.format_month_day(first, "zh-CN")
    return start if first == last else f"{start} – {i18n.format_month_day(last, 'zh-CN')}"


# --- 6. contact plan -----------------------------------------------------------------


def festival_names(config: ClubConfig) -> dict[str, str]:
    """Festival key -> Chinese name: the built-in festivals and the club's own dates."""
    names = {key: name for name, key in FESTIVAL_KEYS.items()}
    return names | {festival_key(d.name, d.name_en): d.name for d in config.calendar.custom}


def kind_words(kind: str, festivals: dict[str, str]) -> tuple[str, str]:
    """(zh, en) of a piece kind: festival-mid-autumn -> (中秋节贺卡, Festival: Mid autumn)."""
    if kind in KIND_WORDS:
        return KIND_WORDS[kind]
    if kind.startswith("festival-"):
        key = kind.removeprefix("festival-")
        en = key.replace("-", " ").capitalize()
        return (f"{festivals[key]}贺卡" if key in festivals else en, f"Festival: {en}")
    return kind, kind


def _kind_sort_key(kind: str) -> tuple[int, str]:
    family = kind.split("-", 1)[0]
    order = KIND_FAMILY_ORDER
    return (order.index(family) if family in order else len(order)), kind


def _contact(plan, suppressed, reconciliation: dict, festivals: dict[str, str],
             produced: dict | None = None) -> dict | None:
    if plan is None and suppressed is None:
        return None
    table = _plan_table(plan, festivals)
    if table is not None and produced is not None:
        # Outputs per channel beside the planned totals: a gap is a failed check upstream.
        table["produced"] = [int(produced.get(f"produced_{c}", 0)) for c in table["channel_keys"]]
    return {
        "plan": table,
        "households": _households(plan),
        "suppressed": _suppression_table(suppressed),
        "totals": reconciliation.get("contact_plan"),
    }


def _plan_table(plan: pd.DataFrame | None, festivals: dict[str, str]) -> dict | None:
    if plan is None:
        return None
    channels = [c for c in CHANNEL_WORDS if c in set(plan["channel"])]
    channels += sorted(set(plan["channel"]) - set(channels))
    counts = pd.crosstab(plan["kind"], plan["channel"]).reindex(columns=channels, fill_value=0)
    rows = []
    for kind in sorted(counts.index, key=_kind_sort_key):
        zh, en = kind_words(kind, festivals)
        values = [int(v) for v in counts.loc[kind]]
        rows.append({"zh": zh, "en": en, "counts": values, "total": sum(values)})
    return {
        "channels": [CHANNEL_WORDS.get(c, (c, c)) for c in channels],
        "channel_keys": channels,
        "rows": rows,
        "totals": [int(counts[c].sum()) for c in channels],
        "total": len(plan),
    }


def _households(plan: pd.DataFrame | None) -> dict:
    if plan is None or "household_size" not in plan:
        return {"pieces": 0, "members": 0}
    shared = plan[plan["household_size"].fillna(1) > 1]
    return {"pieces": len(shared), "members": int(shared["household_size"].sum())}


def _suppression_table(suppressed: pd.DataFrame | None) -> list[dict]:
    if suppressed is None:
        return []
    counts = suppressed["reason"].value_counts()
    return [
        {"zh": SUPPRESSION_WORDS.get(r, (r, r))[0], "en": SUPPRESSION_WORDS.get(r, (r, r))[1],
         "count": int(n), "share": n / len(suppressed)}
        for r, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


# --- 7. complaints -------------------------------------------------------------------


def _complaints(tables: dict, months: list[date]) -> dict | None:
    stats = _present(tables.get("complaint_stats"))
    if stats is None:
        return None
    overall = _complaints_all(stats)
    trend = [_complaint_row(_row(overall, _key(m))) | {"month_zh": _month_zh(m)} for m in months]
    categories = stats[(stats["month"] == _key(months[-1])) & (stats["category"] != "all")]
    categories = categories.sort_values(["received", "category"], ascending=[False, True])
    return {
        "trend": trend,
        "labels": [_axis_month(m, i == 0) for i, m in enumerate(months)],
        "current": trend[-1],
        "previous": trend[-2],
        "categories": [_complaint_row(row) for row in categories.to_dict("records")],
        "backlog": _backlog(_present(tables.get("complaint_backlog"))),
        "overdue": _overdue(_present(tables.get("complaint_overdue_by_owner"))),
    }


def _complaint_row(row: dict) -> dict:
    """One month (or category) of complaint statistics; an absent month is all zeros."""
    return {
        "category": row.get("category", "all"),
        "received": int(row.get("received", 0)),
        "resolved": int(row.get("resolved", 0)),
        # A month without a statistics row had no complaints; its backlog is unknown.
        "open_at_month_end": _number(row.get("open_at_month_end")),
        **{column: _number(row.get(column)) for column in (
            "sla_breach_rate", "median_first_response_hours", "median_resolution_hours",
            "p90_resolution_hours", "mean_satisfaction",
        )},
    }


def _backlog(backlog: pd.DataFrame | None) -> list[dict]:
    if backlog is None:
        return []
    bands = backlog["age_band"].astype("object")
    overdue = backlog["is_overdue"].fillna(False).astype(bool)
    return [
        {"band": AGE_BAND_ZH.get(b, b), "open": int((bands == b).sum()),
         "overdue": int(((bands == b) & overdue).sum())}
        for b in AGE_BANDS
    ]


def _overdue(overdue: pd.DataFrame | None) -> list[dict]:
    if overdue is None:
        return []
    ordered = overdue.sort_values(["overdue_cases", "oldest_age_hours", "owner"],
                                  ascending=[False, False, True])
    return [
        {"owner": _text(row.owner) or "（未指定）", "cases": int(row.overdue_cases),
         "oldest_days": float(row.oldest_age_hours) / 24}
        for row in ordered.itertuples(index=False)
    ]


# --- 8. data quality -----------------------------------------------------------------


def _data_quality(reconciliation: dict, quarantine: pd.DataFrame | None) -> dict:
    dropped = (
        quarantine[quarantine["action"] == "value_dropped"]["table"].value_counts()
        if quarantine is not None else pd.Series(dtype=int)
    )
    tables = [
        {"zh": TABLE_WORDS.get(name, (name, name))[0], "en": TABLE_WORDS.get(name, (name, name))[1],
         "read": counts["rows_read"], "loaded": counts["rows_loaded"],
         "quarantined": counts["rows_quarantined"], "dropped": int(dropped.get(name, 0)),
         "balanced": counts["rows_read"] == counts["rows_loaded"] + counts["rows_quarantined"]}
        for name, counts in reconciliation.items()
        if isinstance(counts, dict) and "rows_read" in counts
    ]
    return {"tables": tables, "reasons": _quarantine_reasons(quarantine)}


def _quarantine_reasons(quarantine: pd.DataFrame | None) -> list[dict]:
    """The most frequent problems; values are left out (they may be personal data)."""
    if quarantine is None:
        return []
    keys = ["table", "column", "reason", "action"]
    problems = quarantine.fillna({k: "" for k in keys})
    # "duplicate of line 2" and "duplicate of line 9" are one problem.
    problems["reason"] = problems["reason"].str.replace(r"\bline \d+", "line N", regex=True)
    counts = problems.groupby(keys, sort=False).size()
    counts = counts.reset_index(name="rows").sort_values(
        ["rows", "table", "reason"], ascending=[False, True, True], kind="stable"
    )
    return [
        {"table": TABLE_WORDS.get(r.table, (r.table,))[0], "column": r.column, "reason": r.reason,
         "action": QUARANTINE_ACTION_ZH.get(r.action, r.action), "count": int(r.rows)}
        for r in counts.head(TOP_QUARANTINE_REASONS).itertuples(index=False)
    ]


# --- rendering -----------------------------------------------------------------------


def report_charts(context: dict) -> dict[str, str | None]:
    """The report's charts as inline SVG (None where the section has no data)."""
    drawn = {
        "segments": _segments_chart(context["segments"]),
        "activity": _activity_chart(context["activity_trend"]),
        "complaints": _complaints_chart(context["complaints"]),
    }
    # Markup: the SVG is our own drawing (labels XML-escaped by the serialiser).
    return {name: None if svg is None else Markup(svg) for name, svg in drawn.items()}


def _segments_chart(distribution: dict | None) -> str | None:
    if distribution is None:
        return None
    rows = distribution["rows"]
    return charts.bar_chart(
        [f"{r['zh']} {r['en']}" for r in rows],
        [r["count"] for r in rows],
        name="segments",
        annotations=[f"{r['count']:,} · {r['share']:.1%}" for r in rows],
        muted=[r["name"] == NO_PURCHASE for r in rows],
    )


def _activity_chart(trend: dict | None) -> str | None:
    if trend is None:
        return None
    return charts.trend_chart(
        trend["labels"], {"净销售额 Net sales": trend["net_sales"]}, name="activity",
        bar_format="cny", line=("活跃会员 Active members", trend["active_members"]),
        height_in=2.0,  # leaves room for the 12-month table on the same page
    )


def _complaints_chart(complaints: dict | None) -> str | None:
    if complaints is None:
        return None
    trend = complaints["trend"]
    return charts.trend_chart(
        complaints["labels"],
        {"受理 Received": [m["received"] for m in trend],
         "解决 Resolved": [m["resolved"] for m in trend]},
        name="complaints",
        line=("SLA 超时率 Breach rate", [m["sla_breach_rate"] for m in trend]),
        line_format="percent",
    )


def render_report(context: dict) -> Rendered:
    """The monthly report as PDF bytes (A4 portrait), charts inline."""
    html = render(TEMPLATE, **context, charts=report_charts(context))
    return render_pdf(html, "monthly report")
