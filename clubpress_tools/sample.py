"""A synthetic export folder for a Chinese property owners' club (`clubpress sample`).

`write_sample` writes the five CRM exports of CONTRACT §2 — members, transactions,
complaints, contacts and events — as a club's CRM would hand them over: members.csv
with the Chinese headers in UTF-8 with a BOM (as Excel saves it), the other files with
the canonical English headers in plain UTF-8. Everything is drawn from one
`numpy.random.default_rng(seed)` and vectorised, so a seed always gives byte-identical
files and a million members take well under two minutes.

What makes the data realistic:

- members: surnames by their real frequency (data/reference/cn-names), given names from
  common characters with a rare one now and then (𠮷 喆 堃 燊); 男/女 with a few blanks;
  ages 18-90, mostly 30-65; about 8% lunar birthdays (leap-month births, day 30),
  some 29 February births; a small share of birth dates as 1990/5/3, 1990.5.3,
  19900503 or 1990年5月3日; mainland mobiles, some with +86, spaces or full-width
  digits; province, city and district from data/reference/cn-postcodes with the
  district's postal code, and a real 街道/镇 of that district when the admin-division
  list has one; households of 2-3 members at one address; consents written as
  是/否, 1/0, true/false or blank; the extra column 会员等级. A lunar birth_date is
  the lunar year-month-day (CONTRACT §2), so a good row may hold 1991-02-30 or a
  29 February of a common year: such a day exists in the lunar calendar, and must
  not be checked as a Gregorian date.
- transactions: two years before `as_of`; about 20% of members never bought, most
  bought a little and a few a lot; lognormal amounts by category; some line items
  sharing a `txn_id`; about 2% returns (negative amounts); lapsed members whose last
  purchase is long ago, so every RFM segment is populated.
- complaints: about 0.05 per member in two years, with SLA-relevant response and
  resolution times (some missing, some open, some long overdue) and descriptions
  holding commas, double quotes and line breaks (a `description` column beside the
  contract's ones).
- contacts: the last six months of mailings, e-mails, text messages and calls.
- events: about six club events in the two months after `as_of`.

Deliberate bad rows (`bad_rows=True`) are appended after the good rows of each file,
so the good rows are the same with or without them (N is the number of members; the
records below are the last ones of their file, in this order):

| file             | record                                  | expected handling                     |
| ---------------- | --------------------------------------- | ------------------------------------- |
| members.csv      | M0000001 again (registered twice)       | row_quarantined: duplicate member_id  |
| members.csv      | blank 会员编号                           | row_quarantined: member_id missing    |
| members.csv      | M{N+1} with a blank 姓名                 | row_quarantined: name missing         |
| members.csv      | M{N+2} born 2023-02-30                  | value_dropped: birth_date             |
| members.csv      | M{N+3} with phone 12345                 | value_dropped: phone                  |
| members.csv      | M{N+4} with e-mail wang.fang@163        | value_dropped: email                  |
| transactions.csv | member M9999999                         | row_quarantined: unknown member       |
| transactions.csv | amount `abc`                            | row_quarantined: amount unparseable   |
| transactions.csv | blank date                              | row_quarantined: date missing         |
| complaints.csv   | received_at `昨天下午3点`                 | row_quarantined: received_at invalid  |
| complaints.csv   | satisfaction 6                          | value_dropped: satisfaction (1-5)     |
| contacts.csv     | member M9999999                         | row_quarantined: unknown member       |
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pipeline.lib.rules import lunar
from pipeline.lib.read.schema import COMPLAINTS
from pipeline.settings import PATHS

DEFAULT_REFERENCE_DIR = PATHS.reference
UNKNOWN_MEMBER = "M9999999"
TXN_WINDOW_DAYS = 730
CONTACT_WINDOW_DAYS = 183

# members.csv headers, as a Chinese CRM writes them (each an alias in schema.py).
MEMBER_HEADERS = {
    "member_id": "会员编号",
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "birth_calendar": "历法",
    "birth_lunar_leap": "闰月",
    "phone": "手机号码",
    "email": "邮箱",
    "province": "省份",
    "city": "城市",
    "district": "区县",
    "address": "详细地址",
    "postal_code": "邮编",
    "join_date": "入会日期",
    "move_in_date": "入住日期",
    "language": "语言",
    "preferred_channel": "首选渠道",
    "consent_post": "同意邮寄",
    "consent_email": "同意邮件",
    "consent_sms": "同意短信",
    "do_not_contact": "勿扰",
    "deceased": "已故",
    "household_id": "户号",
    "member_tier": "会员等级",  # not in the contract: kept as member.extra["会员等级"]
}
COMPLAINT_COLUMNS = [c.name for c in COMPLAINTS.columns] + ["description"]

# --- vocabulary -------------------------------------------------------------------------

MALE_CHARS = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳亮成建志国文博晨轩睿子豪泽然峰振海鸿东锋")
FEMALE_CHARS = list("芳娜敏静丽艳娟霞秀玲英红梅琳燕萍雪婷颖倩慧佳欣怡悦璐琪晶妍涵雯蕾莉嘉思诗梦月兰凤洁")
RARE_CHARS = list("𠮷喆堃燊犇淼昇玥赟頔")
SURNAME_PINYIN = dict(
    zip(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏丁任沈",
        "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng "
        "liang xie song tang xu han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai "
        "yu du ye cheng su wei ding ren shen".split(),
    )
)
EMAIL_DOMAINS = [
    "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com",
    "gmail.com", "hotmail.com", "139.com", "sohu.com",
]
EMAIL_DOMAIN_P = [0.30, 0.15, 0.08, 0.10, 0.09, 0.09, 0.05, 0.09, 0.05]
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 147 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 196 198 199"
).split()
ROADS = list(
    "人民路 解放路 中山路 建设路 和平路 新华路 文化路 胜利路 友谊路 朝阳路 长江路 黄河路 学府路 "
    "青年路 光明路 幸福路 团结路 工业路 滨河路 南京路 北京路 东风路 迎宾大道 世纪大道 体育路 "
    "花园路 健康路 金融街 科技路 公园路".split()
)
COMPOUNDS = list(
    "阳光花园 锦绣家园 翠湖苑 金色华府 和谐家园 书香名邸 滨江花园 御景湾 紫薇苑 丽景华庭 春华里 "
    "枫林湾 桃源居 香樟园 望江府 观澜苑 怡景园 幸福里 润泽园 海棠湾".split()
)
BIG_CITIES = {"广州市", "深圳市", "杭州市", "南京市", "苏州市", "成都市", "武汉市", "西安市"}
MEMBER_TIERS = ["普通会员", "银卡会员", "金卡会员", "钻石会员"]

# Transaction categories: (name, share of line items, median CNY, lognormal sigma).
CATEGORIES = [
    ("会所餐饮", 0.28, 180.0, 0.7),
    ("健身游泳", 0.12, 60.0, 0.5),
    ("家政保洁", 0.10, 150.0, 0.4),
    ("社区团购", 0.20, 45.0, 0.8),
    ("物业增值服务", 0.08, 300.0, 0.9),
    ("亲子课程", 0.08, 400.0, 0.6),
    ("商城购物", 0.14, 120.0, 1.0),
]
TXN_CHANNELS = ["会所前台", "微信小程序", "APP", "电话预订"]
TXN_CHANNEL_P = [0.45, 0.35, 0.12, 0.08]
# Relative activity per hour of day, 00-23.
SHOP_HOURS = [0.1, 0.1, 0, 0, 0, 0, 0.2, 1, 2, 3, 4, 5, 7, 6, 4, 4, 5, 6, 8, 9, 7, 5, 3, 1]
OFFICE_HOURS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 2, 6, 8, 8, 7, 4, 5, 7, 7, 6, 5, 4, 3, 3, 2, 1, 0.5]

COMPLAINT_CHANNELS = ["电话", "微信", "现场", "邮件"]
COMPLAINT_CHANNEL_P = [0.40, 0.35, 0.15, 0.10]
COMPLAINT_CATEGORIES = ["物业服务", "维修", "噪音", "停车", "账单", "其他"]
COMPLAINT_CATEGORY_P = [0.25, 0.30, 0.12, 0.13, 0.10, 0.10]
SEVERITIES = ["一般", "重要", "紧急"]
SEVERITY_P = [0.70, 0.22, 0.08]
FIRST_RESPONSE_MEDIAN_HOURS = np.array([6.0, 2.0, 0.5])  # by severity
RESOLUTION_MEDIAN_HOURS = np.array([72.0, 36.0, 8.0])  # by severity
STAFF = ["张敏", "李强", "王丽", "刘洋", "陈静", "杨帆", "赵磊", "黄婷"]
COMPLAINT_TEXTS = {
    "物业服务": ["保安夜间巡逻不到位", "垃圾清运不及时，楼道有异味", "前台接待态度差, 业主不满意", "快递柜经常满格"],
    "维修": ["卫生间漏水，楼下邻居家天花板受潮", "3号楼电梯故障, 困人约10分钟", "厨房下水道堵塞", "外墙渗水，客厅墙面发霉"],
    "噪音": ["楼上夜间装修噪音", "广场舞音响声音过大, 影响休息", "空调外机噪音明显", "地下车库道闸噪音"],
    "停车": ["车位被他人长期占用", "访客车辆无法登记入场", "地库照明不足, 存在安全隐患", "充电桩故障"],
    "账单": ["物业费账单金额有误", "水电分摊费用不清楚，要求明细", "重复扣款, 申请退款", "发票迟迟未开"],
    "其他": ["建议增加儿童游乐设施", "宠物粪便无人清理", "小区绿化修剪不及时", "门禁卡无法使用"],
}
COMPLAINT_FOLLOW_UPS = [
    ' 业主原话："已经反映三次了，还是没人管。"',
    "\n补充：业主要求书面答复。",
    ", 请尽快处理",
    '\n第二次来电：仍未处理, 业主情绪激动，称"要找媒体曝光"。',
]

CONTACT_CHANNELS = ["post", "email", "sms", "phone"]
CONTACT_PURPOSES = [  # per channel, three purposes each
    ["生日贺卡", "节日贺卡", "会刊"],
    ["电子会刊", "活动邀请", "满意度调查"],
    ["活动提醒", "缴费提醒", "节日问候"],
    ["满意度回访", "续费提醒", "活动邀请"],
]

# Club events: (title, location, description, audience).
EVENT_POOL = [
    ("业主联谊茶话会", "会所多功能厅", "新老业主欢聚一堂，品茶、聊天、抽奖, 欢迎携家人参加。", "all"),
    ("亲子烘焙课堂", "会所二楼活动室", '和孩子一起做"小熊饼干"，材料由会所提供，名额有限。', "all"),
    ("会所品鉴晚宴", "会所宴会厅", "主厨特别菜单, 搭配精选茶饮，仅限受邀会员。", "Champions"),
    ("老朋友回馈日", "会所大堂", "好久不见！到店即赠精美礼品一份，消费享八折。", "At Risk"),
    ("冬季养生讲座", "社区活动室", "三甲医院中医师主讲：冬季进补, 常见误区与饮食建议。", "all"),
    ("社区义诊", "小区中心花园", "量血压、测血糖、口腔检查，免费参加。", "all"),
    ("健身房体验周", "会所健身中心", '免费体验一周，私教课"买十送二"。', "Potential Loyalists"),
    ("写春联送福字", "会所书画室", "书法老师现场写春联, 业主可带回家。", "all"),
    ("会员专属红酒品鉴会", "会所酒廊", "侍酒师带领品鉴五款葡萄酒，含小食。", "Loyal Customers"),
    ("业主回家看看", "会所多功能厅", "为久未到访的会员准备了下午茶和专属优惠。", "Can't Lose Them"),
]


# --- reference data ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    surnames: pa.Array  # string
    surname_pinyin: pa.Array  # string, null where SURNAME_PINYIN has none
    surname_p: np.ndarray  # probabilities, summing to 1
    regions: pd.DataFrame  # province, city, district, postal_code, weight
    streets: pa.Array  # 街道/镇 names, grouped by region row
    street_start: np.ndarray  # per region row: first index into `streets`
    street_count: np.ndarray  # per region row: how many (0 = district not matched)

    def region_column(self, name: str) -> pa.Array:
        return pa.array(self.regions[name].to_numpy(dtype=object), pa.string())


@lru_cache(maxsize=4)
def load_reference(reference_dir: Path) -> Reference:
    """Surnames with frequencies, mainland districts with postcodes, and their streets."""
    names = pd.read_csv(reference_dir / "cn-names" / "Chinese_Family_Name_1k.csv")
    regions = _postcode_regions(reference_dir)
    street_table = _streets(reference_dir)
    area_codes = _match_area_codes(regions, reference_dir)
    codes = street_table["areaCode"].to_numpy()
    start = np.searchsorted(codes, area_codes, side="left")
    count = np.searchsorted(codes, area_codes, side="right") - start
    count[area_codes == ""] = 0
    regions["weight"] = _region_weights(regions, count > 0)
    surnames = names["NameB"].tolist()
    return Reference(
        surnames=pa.array(surnames, pa.string()),
        surname_pinyin=pa.array([SURNAME_PINYIN.get(s) for s in surnames], pa.string()),
        surname_p=(names["TF"] / names["TF"].sum()).to_numpy(),
        regions=regions,
        streets=pa.array(street_table["name"].tolist(), pa.string()),
        street_start=start,
        street_count=count,
    )


def _read_text_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _postcode_regions(reference_dir: Path) -> pd.DataFrame:
    """Mainland districts with a six-digit postcode; city-level summary rows left out."""
    raw = _read_text_csv(reference_dir / "cn-postcodes" / "region.csv")
    raw = raw[(raw["province"] != "港澳台") & raw["zipCode"].str.fullmatch(r"\d{6}")]
    raw = raw[raw["zipCode"] != "999999"]  # the source marks retired districts with 999999
    rows_per_city = raw.groupby(["province", "city"])["county"].transform("size")
    raw = raw[(raw["county"] != raw["city"]) | (rows_per_city == 1)]
    regions = raw.rename(columns={"county": "district", "zipCode": "postal_code"})
    regions = regions.drop_duplicates(["province", "city", "district"])
    return regions[["province", "city", "district", "postal_code"]].reset_index(drop=True)


def _streets(reference_dir: Path) -> pd.DataFrame:
    streets = _read_text_csv(reference_dir / "cn-admin-divisions" / "streets.csv")
    return streets.sort_values(["areaCode", "code"], kind="stable").reset_index(drop=True)


def _admin_areas(reference_dir: Path) -> pd.DataFrame:
    """Districts of the 2023 admin codes with their province and city names.

    Municipalities list their districts under 市辖区 or 县; the postcode file names the
    city after the province (北京市, 北京市, 东城区), so those take the province name.
    """
    folder = reference_dir / "cn-admin-divisions"
    provinces = _read_text_csv(folder / "provinces.csv").rename(columns={"name": "province"})
    cities = _read_text_csv(folder / "cities.csv").rename(columns={"name": "city"})
    areas = _read_text_csv(folder / "areas.csv").rename(columns={"name": "district"})
    areas = areas.merge(cities[["code", "city"]], left_on="cityCode", right_on="code", suffixes=("", "_city"))
    areas = areas.merge(provinces, left_on="provinceCode", right_on="code", suffixes=("", "_province"))
    municipal = areas["city"].isin(["市辖区", "县"])
    areas.loc[municipal, "city"] = areas.loc[municipal, "province"]
    return areas[["province", "city", "district", "code"]]


def _match_area_codes(regions: pd.DataFrame, reference_dir: Path) -> np.ndarray:
    """The admin area code of each postcode district ('' when it cannot be matched).

    By province, city and district first; then by province and district when that
    name is unique in the province (districts directly under a province).
    """
    areas = _admin_areas(reference_dir)
    exact = regions.merge(areas, on=["province", "city", "district"], how="left")["code"]
    unique = areas.drop_duplicates(["province", "district"], keep=False)
    loose = regions.merge(unique, on=["province", "district"], how="left")["code"]
    return exact.fillna(loose).fillna("").to_numpy(dtype=object).astype(str)


def _region_weights(regions: pd.DataFrame, has_streets: np.ndarray) -> np.ndarray:
    """Members live mostly in urban districts of big cities; outdated districts rarely."""
    urban = regions["district"].str.endswith("区").to_numpy()
    big = (regions["city"].isin(BIG_CITIES) | (regions["city"] == regions["province"])).to_numpy()
    weight = np.where(urban, 3.0, 1.0) * np.where(big, 3.0, 1.0) * np.where(has_streets, 1.0, 0.3)
    return weight / weight.sum()


# --- small vectorised helpers (Arrow compute kernels: millions of strings per second) ---

NULL_TEXT = pa.scalar(None, pa.string())


def _codes(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Identifiers such as M0000001 as a fixed-width bytes array."""
    numbers = np.asarray(numbers, dtype=np.int64)
    chars = np.empty((len(numbers), len(prefix) + width), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    rest = numbers.copy()
    for position in range(len(prefix) + width - 1, len(prefix) - 1, -1):
        chars[:, position] = rest % 10 + ord("0")
        rest //= 10
    return chars.view(f"S{chars.shape[1]}").ravel()


def _ascii(values: np.ndarray) -> pa.Array:
    """A fixed-width bytes array (from `_codes`) as Arrow strings, straight from its bytes."""
    width = values.dtype.itemsize
    offsets = np.arange(0, (len(values) + 1) * width, width, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(values).tobytes())]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def _strings(values: np.ndarray) -> pa.Array:
    """Integers or datetime64[D] as Arrow strings (dates as YYYY-MM-DD)."""
    return pa.array(values).cast(pa.string())


def _norm(p):
    if p is None:
        return None
    p = np.asarray(p, dtype=float)
    return p / p.sum()


def _pick(rng: np.random.Generator, options, size: int, p=None) -> pa.Array:
    """`size` draws from `options` (optionally weighted) as Arrow strings."""
    return pc.take(pa.array(options, pa.string()), rng.choice(len(options), size=size, p=_norm(p)))


def _concat(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and str scalars; null stays null."""
    return pc.binary_join_element_wise(*parts, "")


def _blank_where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, NULL_TEXT, values)


def _styled(rng: np.random.Generator, n: int, templates: list, p) -> pa.Array:
    """Per row, one of several renderings drawn with weights `p`, each row rendered once.

    A template is a tuple of full-length string arrays and literal text, concatenated
    (None renders a blank). Rows are grouped by template, rendered, and put back.
    """
    style = rng.choice(len(templates), size=n, p=_norm(p))
    order = np.argsort(style, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(style, minlength=len(templates)))[:-1])
    pieces = [_render(template, rows) for template, rows in zip(templates, groups)]
    return pc.take(pa.concat_arrays(pieces), np.argsort(order))


def _render(template: tuple | None, rows: np.ndarray) -> pa.Array:
    if template is None:
        return pa.nulls(len(rows), pa.string())
    parts = [part if isinstance(part, str) else pc.take(part, rows) for part in template]
    return _concat(*parts) if len(parts) > 1 else parts[0]


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of datetime64[D] values."""
    months = days.astype("datetime64[M]")
    years = months.astype("datetime64[Y]").astype(np.int64) + 1970
    return years, months.astype(np.int64) % 12 + 1, (days - months).astype(np.int64) + 1


def _seconds_of_day(rng: np.random.Generator, size: int, hour_weights) -> np.ndarray:
    hours = rng.choice(24, size=size, p=_norm(hour_weights))
    return (hours * 3600 + rng.integers(0, 3600, size=size)).astype("timedelta64[s]")


# --- members ----------------------------------------------------------------------------


@dataclass
class Roster:
    """The members as written (`table`, canonical column names) and what other tables need."""

    table: pa.Table
    ids: np.ndarray  # bytes, M0000001...
    joined: np.ndarray  # datetime64[D]
    channel: np.ndarray  # preferred channel as an index into CONTACT_CHANNELS
    reachable: np.ndarray  # bool: neither do-not-contact nor deceased
    deceased: np.ndarray  # bool
    value: np.ndarray  # latent spending propensity (drives tier and purchases)


def _members(rng: np.random.Generator, n: int, as_of: date, ref: Reference) -> Roster:
    ids = _codes("M", np.arange(1, n + 1), 7)
    joined = _join_dates(rng, n, as_of)
    is_male = rng.random(n) < 0.48
    value = rng.lognormal(0.0, 0.9, size=n)
    has_email = rng.random(n) < 0.70
    channel = _preferred_channels(rng, has_email)
    do_not_contact, deceased = rng.random(n) < 0.02, rng.random(n) < 0.003
    surname = rng.choice(len(ref.surnames), size=n, p=ref.surname_p)
    columns = {"member_id": _ascii(ids), "name": _names(rng, pc.take(ref.surnames, surname), is_male)}
    columns["gender"] = _gender_text(rng, is_male)
    columns["birth_date"], columns["birth_calendar"], columns["birth_lunar_leap"] = _births(rng, n, as_of)
    columns["phone"] = _phones(rng, n)
    columns["email"] = _emails(rng, pc.take(ref.surname_pinyin, surname), has_email)
    columns |= _places(rng, n, ref)
    columns["join_date"] = _date_text(rng, _ymd(joined), odd_share=0.03)
    columns["move_in_date"] = _move_in_dates(rng, joined)
    columns["language"] = _pick(rng, ["zh-CN", "zh-TW", "en"], n, [0.85, 0.08, 0.07])
    columns["preferred_channel"] = pc.take(pa.array(CONTACT_CHANNELS), channel)
    columns |= _consents(rng, has_email)
    columns["do_not_contact"] = _flag_text(rng, do_not_contact, blank_false=0.6)
    columns["deceased"] = _flag_text(rng, deceased, blank_false=0.9)
    columns |= _share_households(rng, columns)
    columns["member_tier"] = _tiers(value)
    table = pa.table({name: columns[name] for name in MEMBER_HEADERS})
    return Roster(table, ids, joined, channel, ~(do_not_contact | deceased), deceased, value)


def _join_dates(rng: np.random.Generator, n: int, as_of: date) -> np.ndarray:
    """Within the last ten years, more of them recently; ids follow the join order."""
    span = 3652
    offsets = np.sort(np.floor(span * np.sqrt(rng.random(n))).astype(np.int64))
    first = np.datetime64(as_of, "D") - span
    return np.minimum(first + offsets, np.datetime64(as_of, "D") - 1)


def _names(rng: np.random.Generator, surnames: pa.Array, is_male: np.ndarray) -> pa.Array:
    """Surname plus one or two given-name characters; rarely a rare character (𠮷 喆)."""
    n = len(is_male)

    def given() -> pa.Array:
        return pc.if_else(is_male, _pick(rng, MALE_CHARS, n), _pick(rng, FEMALE_CHARS, n))

    first = pc.if_else(rng.random(n) < 0.003, _pick(rng, RARE_CHARS, n), given())
    second = pc.if_else(rng.random(n) < 0.72, given(), "")
    return _concat(surnames, first, second)


def _gender_text(rng: np.random.Generator, is_male: np.ndarray) -> pa.Array:
    """男/女 mostly; a few F/M or 女士/先生; about 2% blank."""
    forms = pa.array(["女", "男", "F", "M", "女士", "先生", None, None], pa.string())
    style = rng.choice(4, size=len(is_male), p=[0.95, 0.02, 0.01, 0.02])
    return pc.take(forms, style * 2 + is_male)


def _date_text(rng: np.random.Generator, ymd, odd_share: float) -> pa.Array:
    """ISO dates, with `odd_share` written as 1990/5/3, 1990.5.3, 19900503 or 1990年5月3日.

    Built from the parts, not from datetime64, as a lunar date may be 1991-02-30.
    """
    years, months, days = (_strings(np.asarray(part, dtype=np.int64)) for part in ymd)
    mm, dd = pc.utf8_lpad(months, width=2, padding="0"), pc.utf8_lpad(days, width=2, padding="0")
    templates = [
        (years, "-", mm, "-", dd),
        (years, "/", months, "/", days),
        (years, ".", months, ".", days),
        (years, mm, dd),
        (years, "年", months, "月", days, "日"),
    ]
    odd = odd_share / 4
    return _styled(rng, len(years), templates, [1 - odd_share, odd, odd, odd, odd])


def _births(rng: np.random.Generator, n: int, as_of: date) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Birth date text, calendar (solar, or lunar/农历/阴历) and leap-month flag text."""
    days = _birth_days(rng, n, as_of)
    is_lunar = rng.random(n) < 0.08
    blank = rng.random(n) < 0.02
    days = _add_leap_day_births(rng, days, eligible=~is_lunar & ~blank)
    years, months, day_of_month = _ymd(days)
    is_leap = np.zeros(n, dtype=bool)
    lunar = np.flatnonzero(is_lunar & ~blank)
    years[lunar], months[lunar], day_of_month[lunar], is_leap[lunar] = _lunar_births(rng, years[lunar])
    text = _date_text(rng, (years, months, day_of_month), odd_share=0.08)
    calendar = pc.if_else(is_lunar, _pick(rng, ["lunar", "农历", "阴历"], n, [0.65, 0.30, 0.05]), "solar")
    leap = pc.if_else(is_leap, _pick(rng, ["true", "是"], n), NULL_TEXT)
    leap = pc.if_else(is_lunar & ~is_leap & (rng.random(n) < 0.4), "否", leap)
    return _blank_where(blank, text), _blank_where(blank, calendar), _blank_where(blank, leap)


def _birth_days(rng: np.random.Generator, n: int, as_of: date) -> np.ndarray:
    """Ages 18-90, most between 30 and 65."""
    ages = np.where(rng.random(n) < 0.8, rng.normal(47, 11, n), rng.uniform(18, 91, n))
    outside = (ages < 18) | (ages >= 91)
    ages[outside] = rng.uniform(18, 91, outside.sum())
    return np.datetime64(as_of, "D") - np.floor(ages * 365.2425).astype(np.int64)


def _add_leap_day_births(rng: np.random.Generator, days: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Move one solar birthday in 2,500 (at least two) to 29 February of an earlier leap year."""
    candidates = np.flatnonzero(eligible)
    count = min(len(candidates), max(2, len(days) // 2500))
    chosen = rng.choice(candidates, size=count, replace=False)
    years = _ymd(days[chosen])[0]
    leap_years = years - years % 4  # births are after 1930, so 1900 never comes up
    target = np.array([np.datetime64(f"{y}-02-29") for y in leap_years], dtype="datetime64[D]")
    target = np.where(target > days[chosen], target - 1461, target)  # four years earlier
    days = days.copy()
    days[chosen] = target
    return days


@lru_cache(maxsize=4)
def _lunar_months(first_year: int, last_year: int) -> pd.DataFrame:
    """Every lunar month of the years: year, month, is_leap, days (29 or 30), in order."""
    rows = []
    for year in range(first_year, last_year + 1):
        leap_month = lunar.leap_month(year)
        for month in range(1, 13):
            for is_leap in (False, True) if month == leap_month else (False,):
                rows.append((year, month, is_leap, _lunar_month_days(year, month, is_leap)))
    return pd.DataFrame(rows, columns=["year", "month", "is_leap", "days"])


def _lunar_month_days(year: int, month: int, is_leap: bool) -> int:
    return lunar.month_length(year, month, is_leap)


def _lunar_births(rng: np.random.Generator, years: np.ndarray):
    """A real lunar year, month, day and leap flag near each solar birth year.

    Leap months and day 30 occur at their natural rates; in addition the first lunar
    member is moved to the nearest leap month and the second to day 30 of a 30-day
    month, so even a small sample has both.
    """
    if len(years) == 0:
        return years.copy(), years.copy(), years.copy(), np.zeros(0, dtype=bool)
    table = _lunar_months(max(1901, int(years.min()) - 4), min(2099, int(years.max()) + 4))
    starts = table.reset_index().groupby("year")["index"].min()
    sizes = table.groupby("year").size()
    offset = np.floor(rng.random(len(years)) * sizes.loc[years].to_numpy()).astype(int)
    rows = starts.loc[years].to_numpy() + offset
    rows[0] = _nearest_leap_month(table, years[0])
    if len(rows) > 1:
        rows[1] = table.index[(table["year"] == years[1]) & (table["days"] == 30)][0]
    chosen = table.loc[rows]
    days = 1 + np.floor(rng.random(len(years)) * chosen["days"].to_numpy()).astype(int)
    if len(rows) > 1:
        days[1] = 30
    return chosen["year"].to_numpy(), chosen["month"].to_numpy(), days, chosen["is_leap"].to_numpy()


def _nearest_leap_month(table: pd.DataFrame, year: int) -> int:
    leap = table[table["is_leap"]]
    return int(leap.index[np.argmin(np.abs(leap["year"].to_numpy() - year))])


def _full_width(text: pa.Array) -> pa.Array:
    """Digits as typed with a Chinese input method in full-width mode: １３８."""
    for digit in "0123456789":
        text = pc.replace_substring(text, digit, chr(ord(digit) + 0xFEE0))
    return text


def _phones(rng: np.random.Generator, n: int) -> pa.Array:
    """11-digit mobiles; some +86, spaced or dashed; 1% in full-width digits; 2% blank."""
    prefix = _pick(rng, MOBILE_PREFIXES, n)
    body = pc.utf8_lpad(_strings(rng.integers(0, 10**8, size=n)), width=8, padding="0")
    head, tail = pc.utf8_slice_codeunits(body, 0, 4), pc.utf8_slice_codeunits(body, 4)
    templates = [
        (prefix, body),
        ("+86 ", prefix, " ", head, " ", tail),
        ("+86", prefix, body),
        (prefix, " ", head, " ", tail),
        (prefix, "-", head, "-", tail),
        None,
    ]
    phones = _styled(rng, n, templates, [0.89, 0.03, 0.03, 0.02, 0.01, 0.02])
    wide = rng.random(n) < 0.01
    return pc.replace_with_mask(phones, wide, _full_width(phones.filter(wide)))


def _emails(rng: np.random.Generator, pinyin: pa.Array, has_email: np.ndarray) -> pa.Array:
    """About 70% have one: QQ numbers @qq.com for a third, else pinyin or letters + digits."""
    n = len(pinyin)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    random_6 = _ascii(letters[rng.integers(0, 26, size=(n, 6))].view("S6").ravel())
    stem = pc.coalesce(pinyin, pc.utf8_slice_codeunits(random_6, 0, 4))
    local = _concat(stem, pc.utf8_slice_codeunits(random_6, 4, 6))
    local = pc.if_else(rng.random(n) < 0.3, local, _concat(local, _strings(rng.integers(60, 1000, size=n))))
    named = _concat(local, "@", _pick(rng, EMAIL_DOMAINS, n, EMAIL_DOMAIN_P))
    qq = _concat(_strings(rng.integers(10**5, 3 * 10**9, size=n)), "@qq.com")
    return _blank_where(~has_email, pc.if_else(rng.random(n) < 0.35, qq, named))


def _places(rng: np.random.Generator, n: int, ref: Reference) -> dict[str, pa.Array]:
    """Province, city, district and postcode of a real district; a street address in it."""
    rows = rng.choice(len(ref.regions), size=n, p=ref.regions["weight"].to_numpy())
    names = ("province", "city", "district", "postal_code")
    places = {name: pc.take(ref.region_column(name), rows) for name in names}
    count = ref.street_count[rows]
    index = ref.street_start[rows] + np.floor(rng.random(n) * np.maximum(count, 1)).astype(np.int64)
    street = pc.if_else(count > 0, pc.take(ref.streets, np.minimum(index, len(ref.streets) - 1)), "")
    places["address"] = _concat(street, _street_address(rng, n))
    return places


def _street_address(rng: np.random.Generator, n: int) -> pa.Array:
    """朝阳路88号锦绣家园3栋2单元1201室 or 朝阳路88号锦绣家园5号楼502室."""
    road = _concat(_pick(rng, ROADS, n), _strings(rng.integers(1, 400, n)), "号")
    building, unit = _strings(rng.integers(1, 31, n)), _strings(rng.integers(1, 7, n))
    room = _concat(_strings(rng.integers(1, 34, n) * 100 + rng.integers(1, 5, n)), "室")
    with_units = _concat(building, "栋", unit, "单元", room)
    tower = _concat(building, "号楼", room)
    return _concat(road, _pick(rng, COMPOUNDS, n), pc.if_else(rng.random(n) < 0.7, with_units, tower))


def _move_in_dates(rng: np.random.Generator, joined: np.ndarray) -> pa.Array:
    """Owners' move-in dates for about 60%: mostly a year or two before joining."""
    n = len(joined)
    before = np.floor(rng.exponential(400, n)).astype(np.int64)
    moved = np.maximum(joined - before, np.datetime64("2003-01-01"))
    return _blank_where(rng.random(n) >= 0.60, _strings(moved))


def _preferred_channels(rng: np.random.Generator, has_email: np.ndarray) -> np.ndarray:
    """Index into CONTACT_CHANNELS (post, email, sms); e-mail only with an address."""
    n = len(has_email)
    with_email = rng.choice([1, 2, 0], size=n, p=[0.45, 0.35, 0.20])
    without = rng.choice([2, 0], size=n, p=[0.60, 0.40])
    return np.where(has_email, with_email, without)


def _flag_text(rng: np.random.Generator, flags: np.ndarray, blank_false: float) -> pa.Array:
    """Yes/no as a mix of 是/否, 1/0, true/false, TRUE/FALSE; some `no`s left blank."""
    forms = pa.array(["否", "是", "0", "1", "false", "true", "FALSE", "TRUE"])
    style = rng.choice(4, size=len(flags), p=[0.5, 0.2, 0.25, 0.05])
    text = pc.take(forms, style * 2 + flags)
    return _blank_where(~flags & (rng.random(len(flags)) < blank_false), text)


def _consents(rng: np.random.Generator, has_email: np.ndarray) -> dict[str, pa.Array]:
    """Post consent for most, e-mail consent only with an address; ~8% left blank."""
    n = len(has_email)
    consents = {
        "consent_post": _flag_text(rng, rng.random(n) < 0.85, blank_false=0.0),
        "consent_email": _flag_text(rng, has_email & (rng.random(n) < 0.75), blank_false=0.3),
        "consent_sms": _flag_text(rng, rng.random(n) < 0.70, blank_false=0.0),
    }
    return {name: _blank_where(rng.random(n) < 0.08, text) for name, text in consents.items()}


HOUSEHOLD_SHARED = ("province", "city", "district", "address", "postal_code", "move_in_date")


def _share_households(rng: np.random.Generator, columns: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """About 10% of members live 2-3 to a household: one 户号, address and postcode.

    Returns the shared columns (copied from each household's first member) and
    household_id, numbered in the order of that first member; blank for the others.
    """
    n = len(columns["member_id"])
    sizes = rng.choice([2, 3], size=max(1, n // 23), p=[0.7, 0.3])
    sizes = sizes[np.cumsum(sizes) <= n]
    members = rng.permutation(n)[: sizes.sum()]
    group = np.repeat(np.arange(len(sizes)), sizes)
    heads = members[np.cumsum(sizes) - sizes]
    number = np.argsort(np.argsort(heads)) + 1
    source = np.arange(n)
    source[members] = heads[group]
    household = np.full(n, -1)
    household[members] = number[group]
    ids = pc.if_else(household > 0, _ascii(_codes("H", household, 6)), NULL_TEXT)
    return {name: pc.take(columns[name], source) for name in HOUSEHOLD_SHARED} | {"household_id": ids}


def _tiers(value: np.ndarray) -> pa.Array:
    """普通/银卡/金卡/钻石 by spending propensity: 60/25/12/3%."""
    cuts = np.quantile(value, [0.60, 0.85, 0.97])
    return pc.take(pa.array(MEMBER_TIERS), np.searchsorted(cuts, value, side="right"))


# --- transactions -----------------------------------------------------------------------


def _purchase_plan(rng: np.random.Generator, roster: Roster, as_of: date):
    """Per buying member: member index, purchase count, first and last possible day.

    About 20% never buy. Buyers are active (last purchase within weeks), cooling
    (3-9 months ago) or lapsed (9-23 months ago); the deceased are lapsed.
    """
    n = len(roster.ids)
    today = np.datetime64(as_of, "D")
    status = rng.choice(3, size=n, p=[0.60, 0.15, 0.25])
    status[roster.deceased] = 2
    gap_days = [rng.integers(0, 46, n), rng.integers(90, 271, n), rng.integers(270, 701, n)]
    gap = np.choose(status, gap_days)
    start = np.maximum(roster.joined, today - TXN_WINDOW_DAYS)
    end = np.maximum(today - 1 - gap, start)
    yearly = 3.0 * roster.value * np.array([1.3, 0.8, 0.5])[status]
    years = (end - start).astype(np.int64) / 365.0
    counts = np.minimum(1 + rng.poisson(yearly * years), 300)
    buyers = np.flatnonzero(rng.random(n) >= 0.20)
    return buyers, counts[buyers], start[buyers], end[buyers]


def _purchases(rng: np.random.Generator, roster: Roster, as_of: date) -> dict[str, np.ndarray]:
    """Line items: txn (a key, lines of one txn adjacent), member, at, channel, category, cents."""
    buyers, counts, start, end = _purchase_plan(rng, roster, as_of)
    member = np.repeat(buyers, counts)
    first, last = np.repeat(start, counts), np.repeat(end, counts)
    span = (last - first).astype(np.int64) + 1
    day = first + np.floor(rng.random(len(member)) * span).astype(np.int64)
    at = day.astype("datetime64[s]") + _seconds_of_day(rng, len(member), SHOP_HOURS)
    channel = rng.choice(len(TXN_CHANNELS), size=len(member), p=TXN_CHANNEL_P).astype(np.int8)
    lines = rng.choice([1, 2, 3, 4], size=len(member), p=[0.85, 0.10, 0.04, 0.01])
    txn = np.repeat(np.arange(len(member)), lines)
    category, cents = _line_amounts(rng, roster.value[member[txn]])
    return {
        "txn": txn, "member": member[txn], "at": at[txn], "channel": channel[txn],
        "category": category, "cents": cents,
    }


def _line_amounts(rng: np.random.Generator, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Category and amount in cents: lognormal by category, scaled by the member's spend."""
    n = len(value)
    category = rng.choice(len(CATEGORIES), size=n, p=_norm([c[1] for c in CATEGORIES])).astype(np.int8)
    median = np.array([c[2] for c in CATEGORIES])[category]
    sigma = np.array([c[3] for c in CATEGORIES])[category]
    spend = rng.lognormal(0.0, 0.35, n) * value**0.15
    yuan = np.maximum(median * np.exp(sigma * rng.standard_normal(n)) * spend, 1.0)
    whole = rng.random(n) < 0.5  # half the prices are whole yuan (188.00)
    cents = np.where(whole, np.round(yuan) * 100, np.round(yuan * 100)).astype(np.int64)
    return category, cents


def _returns(rng: np.random.Generator, items: dict[str, np.ndarray], as_of: date) -> dict[str, np.ndarray]:
    """About 2% of line items come back within two weeks, each as its own negative txn."""
    chosen = np.flatnonzero(rng.random(len(items["txn"])) < 0.02)
    returned = {name: column[chosen] for name, column in items.items()}
    later = returned["at"] + rng.integers(1, 15, len(chosen)).astype("timedelta64[D]")
    returned["at"] = np.minimum(later, np.datetime64(as_of, "s") - 60)
    returned["cents"] = -returned["cents"]
    returned["txn"] = np.max(items["txn"], initial=-1) + 1 + np.arange(len(chosen))
    return returned


def _transactions(rng: np.random.Generator, roster: Roster, as_of: date) -> pa.Table:
    """Line items in time order; txn_id T000000001... numbered in that order."""
    purchases = _purchases(rng, roster, as_of)
    returns = _returns(rng, purchases, as_of)
    items = {name: np.concatenate([purchases[name], returns[name]]) for name in purchases}
    seconds = items["at"].astype(np.int64)
    key = (seconds - seconds.min(initial=0)) * (items["txn"].max(initial=0) + 1) + items["txn"]
    order = np.argsort(key, kind="stable")  # by time, then txn; a txn's lines keep their order
    items = {name: column[order] for name, column in items.items()}
    txn = items["txn"]
    number = np.cumsum(np.r_[True, txn[1:] != txn[:-1]]) if len(txn) else txn
    return pa.table(
        {
            "txn_id": _ascii(_codes("T", number, 9)),
            "member_id": _ascii(roster.ids[items["member"]]),
            "date": pa.array(items["at"].astype("datetime64[s]")),
            "amount": pa.array(items["cents"] / 100).cast(pa.decimal128(12, 2)),
            "category": pc.take(pa.array([c[0] for c in CATEGORIES]), items["category"]),
            "channel": pc.take(pa.array(TXN_CHANNELS), items["channel"]),
        }
    )


# --- complaints -------------------------------------------------------------------------


def _complaints(rng: np.random.Generator, roster: Roster, as_of: date) -> pa.Table:
    """About 0.05 complaints per member over two years, in order of receipt."""
    count = int(rng.poisson(0.05 * len(roster.ids)))
    day = np.datetime64(as_of, "D") - rng.integers(1, TXN_WINDOW_DAYS + 1, count)
    received = np.sort(day.astype("datetime64[s]") + _seconds_of_day(rng, count, OFFICE_HOURS))
    member = _ascii(roster.ids[rng.integers(0, len(roster.ids), count)])
    severity = rng.choice(len(SEVERITIES), size=count, p=SEVERITY_P)
    category = rng.choice(len(COMPLAINT_CATEGORIES), size=count, p=COMPLAINT_CATEGORY_P)
    columns = {
        "complaint_id": _ascii(_codes("C", np.arange(1, count + 1), 6)),
        "member_id": _blank_where(rng.random(count) < 0.05, member),
        "received_at": _minutes(received),
        "channel": _pick(rng, COMPLAINT_CHANNELS, count, COMPLAINT_CHANNEL_P),
        "category": pc.take(pa.array(COMPLAINT_CATEGORIES), category),
        "severity": pc.take(pa.array(SEVERITIES), severity),
        "owner": _pick(rng, STAFF, count),
    }
    columns |= _complaint_handling(rng, received, severity, as_of)
    columns["description"] = _complaint_descriptions(rng, category)
    return pa.table({name: columns[name] for name in COMPLAINT_COLUMNS})


def _minutes(stamps: np.ndarray) -> pa.Array:
    """datetime64 (NaT = blank) as `YYYY-MM-DD HH:MM`, as complaint systems export."""
    return pc.strftime(pa.array(stamps.astype("datetime64[s]"), from_pandas=True), format="%Y-%m-%d %H:%M")


def _complaint_handling(
    rng: np.random.Generator, received: np.ndarray, severity: np.ndarray, as_of: date
) -> dict[str, pa.Array]:
    """First response and resolution times, status and satisfaction.

    Responses come within hours (5% not recorded); resolutions within days, 6% long
    overdue and 3% never; whatever lies after `as_of` has not happened yet. A quarter
    of the resolved complainants do not rate; slow resolutions rate lower.
    """
    n = len(received)
    now = np.datetime64(as_of, "s")
    response_h = FIRST_RESPONSE_MEDIAN_HOURS[severity] * rng.lognormal(0, 1.0, n)
    resolve_h = response_h + RESOLUTION_MEDIAN_HOURS[severity] * rng.lognormal(0, 1.0, n)
    resolve_h = np.where(rng.random(n) < 0.06, resolve_h * rng.uniform(5, 20, n), resolve_h)
    responded = received + (response_h * 3600).astype("timedelta64[s]")
    resolved = received + (resolve_h * 3600).astype("timedelta64[s]")
    is_resolved = (resolved < now) & (rng.random(n) >= 0.03)
    has_response = (responded < now) & (rng.random(n) >= 0.05)
    done = _pick(rng, ["closed", "resolved"], n, [0.65, 0.35])
    status = pc.if_else(is_resolved, done, _pick(rng, ["open", "reopened"], n, [0.75, 0.25]))
    mood = 4.4 - 0.5 * np.log1p(resolve_h / 72)
    score = np.clip(np.rint(rng.normal(mood, 0.9)), 1, 5).astype(np.int64)
    rated = is_resolved & (rng.random(n) < 0.75)
    return {
        "first_response_at": _minutes(np.where(has_response, responded, np.datetime64("NaT"))),
        "resolved_at": _minutes(np.where(is_resolved, resolved, np.datetime64("NaT"))),
        "status": status,
        "satisfaction": _blank_where(~rated, _strings(score)),
    }


def _complaint_descriptions(rng: np.random.Generator, category: np.ndarray) -> pa.Array:
    """A sentence per category; one in four with a follow-up: quotes, commas, line breaks."""
    n = len(category)
    sentences = pa.array([text for name in COMPLAINT_CATEGORIES for text in COMPLAINT_TEXTS[name]])
    per_category = len(COMPLAINT_TEXTS[COMPLAINT_CATEGORIES[0]])
    base = pc.take(sentences, category * per_category + rng.integers(0, per_category, n))
    follow_up = pc.if_else(rng.random(n) < 0.25, _pick(rng, COMPLAINT_FOLLOW_UPS, n), "")
    return _concat(base, follow_up)


# --- contacts and events ----------------------------------------------------------------


def _contacts(rng: np.random.Generator, roster: Roster, as_of: date) -> pa.Table:
    """Mailings, e-mails, texts and calls in the last six months, in date order.

    Nobody on do-not-contact and nobody deceased; mostly the preferred channel.
    """
    reachable = np.flatnonzero(roster.reachable)
    member = np.repeat(reachable, rng.poisson(1.3, len(reachable)))
    n = len(member)
    channel = np.where(rng.random(n) < 0.7, roster.channel[member], rng.integers(0, len(CONTACT_CHANNELS), n))
    purposes = pa.array([purpose for options in CONTACT_PURPOSES for purpose in options])
    purpose = channel * 3 + rng.integers(0, 3, n)
    day = np.datetime64(as_of, "D") - rng.integers(1, CONTACT_WINDOW_DAYS + 1, n)
    order = np.argsort(day, kind="stable")
    return pa.table(
        {
            "contact_id": _ascii(_codes("K", np.arange(1, n + 1), 8)),
            "member_id": _ascii(roster.ids[member[order]]),
            "date": pa.array(day[order]),
            "channel": pc.take(pa.array(CONTACT_CHANNELS), channel[order]),
            "purpose": pc.take(purposes, purpose[order]),
        }
    )


def _events(rng: np.random.Generator, as_of: date) -> pa.Table:
    """Six club events on distinct days in the two months after `as_of`."""
    chosen = rng.choice(len(EVENT_POOL), size=6, replace=False)
    days = np.sort(rng.choice(np.arange(3, 61), size=6, replace=False))
    rows = [EVENT_POOL[i] for i in chosen]
    return pa.table(
        {
            "event_id": [f"E{i:03d}" for i in range(1, len(rows) + 1)],
            "title": [row[0] for row in rows],
            "date": _strings(np.datetime64(as_of, "D") + days),
            "location": [row[1] for row in rows],
            "description": [row[2] for row in rows],
            "audience": [row[3] for row in rows],
        }
    )


# --- deliberate bad rows ----------------------------------------------------------------


def _member_code(number: int) -> str:
    return f"M{number:07d}"


def _bad_member_rows(members: pa.Table) -> list[list[str]]:
    """Six members with the problems listed in the module docstring, after the good ones.

    Each borrows the address and dates of a different good member (no household),
    with its own name and phone, so only the deliberate problem stands out.
    """
    n = members.num_rows

    def row(source: int, **changes) -> list[str]:
        values = members.slice(source % n, 1).to_pylist()[0]
        values |= {"email": "", "household_id": "", "do_not_contact": "", "deceased": ""} | changes
        return ["" if values[column] is None else values[column] for column in MEMBER_HEADERS]

    return [
        row(0, phone="13900001111"),  # M0000001 registered twice
        row(1, member_id="", name="周晓燕", gender="女", phone="13900002222"),
        row(2, member_id=_member_code(n + 1), name="", gender="男", phone="13900003333"),
        row(3, member_id=_member_code(n + 2), name="吴建国", gender="男", phone="13900004444",
            birth_date="2023-02-30", birth_calendar="solar", birth_lunar_leap=""),
        row(4, member_id=_member_code(n + 3), name="郑丽娟", gender="女", phone="12345"),
        row(5, member_id=_member_code(n + 4), name="王芳", gender="女", phone="13900005555",
            email="wang.fang@163"),
    ]


def _bad_transaction_rows(transactions: pa.Table, as_of: date) -> list[list[str]]:
    """Txn numbers never exceed the row count, so these ids are new."""
    at = f"{np.datetime64(as_of, 'D') - 1} 15:30:00"
    first = transactions.num_rows + 1
    return [
        [f"T{first:09d}", UNKNOWN_MEMBER, at, "128.00", "会所餐饮", "会所前台"],
        [f"T{first + 1:09d}", _member_code(1), at, "abc", "商城购物", "APP"],
        [f"T{first + 2:09d}", _member_code(2), "", "56.00", "社区团购", "微信小程序"],
    ]


def _bad_complaint_rows(complaints: pa.Table, as_of: date) -> list[list[str]]:
    first = complaints.num_rows + 1
    day = f"{np.datetime64(as_of, 'D') - 1}"
    common = ["电话", "噪音", "一般", STAFF[0]]
    return [
        [f"C{first:06d}", _member_code(1), "昨天下午3点", *common, "", "", "open", "", "楼下商铺音乐声太大"],
        [f"C{first + 1:06d}", _member_code(2), f"{day} 09:10", *common, f"{day} 09:40", f"{day} 16:00",
         "closed", "6", "夜间施工噪音，已协调停工"],
    ]


def _bad_contact_rows(contacts: pa.Table, as_of: date) -> list[list[str]]:
    contact_id = f"K{contacts.num_rows + 1:08d}"
    return [[contact_id, UNKNOWN_MEMBER, str(np.datetime64(as_of, "D") - 2), "sms", "活动提醒"]]


def _bad_rows(tables: dict[str, pa.Table], as_of: date) -> dict[str, list[list[str]]]:
    return {
        "members": _bad_member_rows(tables["members"]),
        "transactions": _bad_transaction_rows(tables["transactions"], as_of),
        "complaints": _bad_complaint_rows(tables["complaints"], as_of),
        "contacts": _bad_contact_rows(tables["contacts"], as_of),
    }


# --- writing ----------------------------------------------------------------------------


def _write_plain(path: Path, headers: list[str], table: pa.Table, bom: bool = False) -> None:
    """Values without quoting, fast; Arrow raises on any value that would need quotes."""
    with path.open("wb") as handle:
        handle.write((("\ufeff" if bom else "") + ",".join(headers) + "\n").encode("utf-8"))
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        pa_csv.write_csv(table, handle, options)


def _write_quoted(path: Path, table: pa.Table) -> None:
    """Quoted only where needed (free text with commas, quotes and line breaks)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows(zip(*(column.to_pylist() for column in table.columns)))


def _append_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _write_tables(out_dir: Path, tables: dict[str, pa.Table], bad: dict[str, list[list[str]]]) -> None:
    _write_plain(out_dir / "members.csv", list(MEMBER_HEADERS.values()), tables["members"], bom=True)
    _write_plain(out_dir / "transactions.csv", tables["transactions"].column_names, tables["transactions"])
    _write_quoted(out_dir / "complaints.csv", tables["complaints"])
    _write_plain(out_dir / "contacts.csv", tables["contacts"].column_names, tables["contacts"])
    _write_quoted(out_dir / "events.csv", tables["events"])
    for name, rows in bad.items():
        _append_rows(out_dir / f"{name}.csv", rows)


def write_sample(
    out_dir: Path,
    members: int,
    seed: int = 2026,
    as_of: date = date(2026, 11, 20),
    bad_rows: bool = True,
    reference_dir: Path | None = None,
) -> dict[str, int]:
    """Write members.csv, transactions.csv, complaints.csv, contacts.csv, events.csv into
    out_dir; return rows written per table (records, bad rows included).

    The same arguments always give byte-identical files. See the module docstring for
    what the data looks like and which deliberate bad rows `bad_rows=True` appends.
    """
    if not 1 <= members <= 9_999_990:
        raise ValueError(f"members must be from 1 to 9,999,990, not {members}")
    ref = load_reference(Path(reference_dir or DEFAULT_REFERENCE_DIR).resolve())
    member_rng, txn_rng, complaint_rng, contact_rng, event_rng = np.random.default_rng(seed).spawn(5)
    roster = _members(member_rng, members, as_of, ref)
    tables = {
        "members": roster.table,
        "transactions": _transactions(txn_rng, roster, as_of),
        "complaints": _complaints(complaint_rng, roster, as_of),
        "contacts": _contacts(contact_rng, roster, as_of),
        "events": _events(event_rng, as_of),
    }
    bad = _bad_rows(tables, as_of) if bad_rows else {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_tables(out_dir, tables, bad)
    return {name: table.num_rows + len(bad.get(name, [])) for name, table in tables.items()}
