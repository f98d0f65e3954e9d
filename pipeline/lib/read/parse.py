"""What the staging models need from Python: synonym tables, phone numbers, lunar dates.

Every cast and normalisation of export text happens in DuckDB (`sql/staging/macros.sql`
and the `stg_<table>.sql` models). This module supplies what SQL cannot do well, and
`ingest.staging_connection` registers it on the connection:

- `synonyms()`: the yes/no words, genders and enum synonyms below, as a table the
  models join (case-insensitive keys);
- `e164`: `phonenumbers` for the numbers that are not plain mainland mobiles;
- `lunar_birth`: the Gregorian day of a lunar date (`lunar_python`).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.lib.read.schema import TABLES

TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "对", "有", "√", "✓", "同意"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "不", "无", "×", "✗", "不同意"}
GENDERS = {
    "m": "M", "male": "M", "男": "M", "先生": "M", "男性": "M",
    "f": "F", "female": "F", "女": "F", "女士": "F", "女性": "F", "小姐": "F",
}
ENUM_SYNONYMS: dict[str, dict[str, str]] = {
    "birth_calendar": {
        "solar": "solar", "gregorian": "solar", "公历": "solar", "阳历": "solar", "新历": "solar",
        "lunar": "lunar", "农历": "lunar", "阴历": "lunar", "旧历": "lunar", "農曆": "lunar",
        "陰曆": "lunar",
    },
    "language": {
        "zh-cn": "zh-CN", "zh_cn": "zh-CN", "zh": "zh-CN", "zh-hans": "zh-CN", "简体": "zh-CN",
        "简体中文": "zh-CN", "中文": "zh-CN",
        "zh-tw": "zh-TW", "zh_tw": "zh-TW", "zh-hk": "zh-TW", "zh-hant": "zh-TW", "繁体": "zh-TW",
        "繁體": "zh-TW", "繁体中文": "zh-TW", "繁體中文": "zh-TW",
        "en": "en", "en-us": "en", "en-gb": "en", "english": "en", "英文": "en", "英语": "en",
    },
    "preferred_channel": {
        "post": "post", "mail": "post", "letter": "post", "邮寄": "post", "信件": "post",
        "纸质": "post", "email": "email", "e-mail": "email", "邮件": "email",
        "电子邮件": "email", "sms": "sms", "短信": "sms", "text": "sms",
    },
    "status": {
        "open": "open", "待处理": "open", "处理中": "open", "未解决": "open",
        "resolved": "resolved", "已解决": "resolved", "closed": "closed", "已关闭": "closed",
        "关闭": "closed", "已结案": "closed", "reopened": "reopened", "重新打开": "reopened",
        "重开": "reopened",
    },
}


def synonyms() -> pa.Table:
    """(column_name, key, value): the lower-cased words a value may be written as, and
    the staged value. `bool` rows serve every yes/no column, `gender` the gender; each
    enum column of `schema.py` takes its canonical values (any case) and its synonyms."""
    rows = [("bool", word, "true") for word in sorted(TRUE_WORDS)]
    rows += [("bool", word, "false") for word in sorted(FALSE_WORDS)]
    rows += [("gender", word, value) for word, value in GENDERS.items()]
    for table in TABLES.values():
        for column in table.columns:
            if column.kind == "enum":
                words = {c.lower(): c for c in column.choices} | ENUM_SYNONYMS.get(column.name, {})
                rows += [(column.name, word, value) for word, value in words.items()]
    names = ("column_name", "key", "value")
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})


@lru_cache(maxsize=1 << 16)
def e164(number: str, region: str = "CN") -> str | None:
    """A phone number (spaces, dashes and brackets already removed) in E.164, or None
    when `phonenumbers` finds it invalid: landlines, Hong Kong and foreign numbers."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1 << 17)
def lunar_birth(year: int, month: int, day: int, is_leap: bool) -> date | None:
    """The Gregorian date of a lunar date as written, or None when the lunar calendar of
    that year has no such day (a leap month the year lacks, day 30 of a 29-day month) or
    the year is outside 1900..2100."""
    from pipeline.lib.rules.lunar import lunar_to_solar

    if not 1900 <= year <= 2100:
        return None
    try:
        return lunar_to_solar(year, month, day, is_leap)
    except ValueError:
        return None


_SMS_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _mainland_mobile_re() -> str:
    """phonenumbers' own pattern of a mainland mobile, as a regex over E.164 text."""
    pattern = phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern
    return rf"^\+86(?:{pattern})$"


def _takes_sms(number: str) -> bool:
    try:
        return phonenumbers.number_type(phonenumbers.parse(number)) in _SMS_TYPES
    except phonenumbers.NumberParseException:
        return False


def takes_sms(phones: pd.Series) -> np.ndarray:
    """True where a staged (E.164) phone can receive an SMS: `phonenumbers` types it a
    mobile, or a number that may be either (some countries cannot tell); a landline, a
    blank or an unparseable number cannot. Mainland numbers are matched against
    phonenumbers' mobile pattern in one vectorised pass, others looked up once per
    distinct value."""
    text = pa.array(phones.astype("string").array, type=pa.large_string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    mainland = pc.starts_with(text, "+86").fill_null(False)
    result = pc.match_substring_regex(text, _mainland_mobile_re()).fill_null(False)
    result = result.to_numpy(zero_copy_only=False).copy()
    others = (pc.invert(mainland).to_numpy(zero_copy_only=False)
              & pc.is_valid(text).to_numpy(zero_copy_only=False))
    if others.any():
        values = text.filter(pa.array(others))
        lookup = {v: _takes_sms(v) for v in pc.unique(values).to_pylist()}
        result[others] = [lookup[v] for v in values.to_pylist()]
    return result
