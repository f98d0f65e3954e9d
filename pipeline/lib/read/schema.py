"""The export tables of CONTRACT §2: canonical columns, header aliases and value kinds.

One place says what a CRM export may contain; readers, staging and the sample generator
all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, id, date, timestamp, bool, phone, email, gender, money, int, enum
    aliases: tuple[str, ...] = ()
    required: bool = False
    staged_as: str | None = None  # staging name when it differs (units in names)
    choices: tuple[str, ...] = ()  # for enum: accepted canonical values

    @property
    def staged_name(self) -> str:
        return self.staged_as or self.name


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: str | None = None  # unique id column; later duplicates are quarantined
    member_ref: str | None = None  # column that must name a loaded member
    member_ref_optional: bool = False  # blank or unknown member is kept (complaints)
    required_file: bool = False
    extra_columns: bool = False  # keep unknown columns as `extra` (members)
    one_of: tuple[str, ...] = ()  # at least one of these must be filled (returns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


MEMBERS = Table(
    name="members",
    key="member_id",
    required_file=True,
    extra_columns=True,
    columns=(
        Column("member_id", "id", ("会员编号", "会员号", "客户编号"), required=True),
        Column("name", "text", ("姓名", "客户姓名"), required=True),
        Column("gender", "gender", ("性别",)),
        Column("birth_date", "date", ("出生日期", "生日")),
        Column("birth_calendar", "enum", ("历法", "生日类型"), choices=("solar", "lunar")),
        Column("birth_lunar_leap", "bool", ("闰月",), staged_as="is_birth_lunar_leap"),
        Column("phone", "phone", ("手机", "手机号码", "联系电话")),
        Column("email", "email", ("邮箱", "电子邮件")),
        Column("province", "text", ("省份",)),
        Column("city", "text", ("城市",)),
        Column("district", "text", ("区县",)),
        Column("address", "text", ("详细地址", "地址")),
        Column("postal_code", "postcode", ("邮编", "邮政编码")),
        Column("join_date", "date", ("入会日期", "注册日期")),
        Column("move_in_date", "date", ("入住日期", "交房日期")),
        Column("language", "enum", ("语言",), choices=("zh-CN", "zh-TW", "en")),
        Column("preferred_channel", "enum", ("首选渠道",), choices=("post", "email", "sms")),
        Column("consent_post", "bool", ("同意邮寄",), staged_as="has_consent_post"),
        Column("consent_email", "bool", ("同意邮件",), staged_as="has_consent_email"),
        Column("consent_sms", "bool", ("同意短信",), staged_as="has_consent_sms"),
        Column("do_not_contact", "bool", ("勿扰",), staged_as="is_do_not_contact"),
        Column("deceased", "bool", ("已故",), staged_as="is_deceased"),
        Column("household_id", "text", ("户号",)),
    ),
)

TRANSACTIONS = Table(
    name="transactions",
    member_ref="member_id",
    columns=(
        Column("txn_id", "id", ("单号", "交易编号", "订单号"), required=True),
        Column("member_id", "id", ("会员编号", "会员号", "客户编号"), required=True),
        Column("date", "timestamp", ("日期", "交易日期", "交易时间"), required=True, staged_as="txn_at"),
        Column("amount", "money", ("金额", "交易金额"), required=True, staged_as="amount_cny"),
        Column("category", "text", ("类别", "品类")),
        Column("channel", "text", ("渠道",)),
    ),
)

COMPLAINTS = Table(
    name="complaints",
    key="complaint_id",
    member_ref="member_id",
    member_ref_optional=True,
    columns=(
        Column("complaint_id", "id", ("投诉编号",), required=True),
        Column("member_id", "id", ("会员编号", "会员号", "客户编号")),
        Column("received_at", "timestamp", ("受理时间",), required=True),
        Column("channel", "text", ("渠道",)),
        Column("category", "text", ("类别",)),
        Column("severity", "text", ("等级",)),
        Column("owner", "text", ("首问责任人",)),
        Column("first_response_at", "timestamp", ("首次响应时间",)),
        Column("resolved_at", "timestamp", ("解决时间",)),
        Column("status", "enum", ("状态",), choices=("open", "resolved", "closed", "reopened")),
        Column("satisfaction", "int", ("满意度",)),
        Column("description", "text", ("描述", "投诉内容", "问题描述")),
    ),
)

CONTACTS = Table(
    name="contacts",
    key="contact_id",
    member_ref="member_id",
    columns=(
        Column("contact_id", "id", ("联系编号", "记录编号"), required=True),
        Column("member_id", "id", ("会员编号", "会员号", "客户编号"), required=True),
        Column("date", "date", ("日期", "联系日期"), required=True, staged_as="contact_date"),
        Column("channel", "text", ("渠道",)),
        Column("purpose", "text", ("目的", "事由")),
    ),
)

EVENTS = Table(
    name="events",
    key="event_id",
    columns=(
        Column("event_id", "id", ("活动编号",), required=True),
        Column("title", "text", ("活动名称", "标题"), required=True),
        Column("date", "date", ("日期", "活动日期"), required=True, staged_as="event_date"),
        Column("location", "text", ("地点",)),
        Column("description", "text", ("描述", "活动介绍")),
        Column("audience", "text", ("对象", "受众")),
    ),
)

RETURNS = Table(
    name="returns",
    member_ref="member_id",
    one_of=("piece_id", "member_id"),
    columns=(
        Column("piece_id", "id", ("信函编号", "邮件编号", "邮件号")),
        Column("member_id", "id", ("会员编号", "会员号", "客户编号")),
        Column("returned_on", "date", ("退回日期", "退件日期", "退信日期"), required=True),
        Column("reason", "text", ("退件原因", "退回原因", "原因")),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (MEMBERS, TRANSACTIONS, COMPLAINTS, CONTACTS, EVENTS, RETURNS)
}
