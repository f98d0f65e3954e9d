"""Value parsers for CRM exports, vectorised over pandas Series of raw strings.

Every parser takes the raw text column and returns a `Parsed` pair: the typed values
and a mask of cells that held text which could not be understood (blank cells are
never bad; they are simply missing). The caller decides whether a bad cell drops the
value or quarantines the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, as CRMs fed by Chinese
# input methods write digits and punctuation.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FULLWIDTH_RE = "[\uff01-\uff5e\u3000]"
_STRING = "string[pyarrow]"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EARLIEST = pd.Timestamp("1900-01-01")
_LATEST = pd.Timestamp("2100-12-31")

_DATE_RE = (
    r"^(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?"
    r"(?:[ T]+(?P<hour>\d{1,2})[:：](?P<minute>\d{1,2})(?:[:：](?P<second>\d{1,2})(?:\.\d+)?)?)?$"
)
_COMPACT_RE = r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$"
_SERIAL_RE = r"^\d{3,5}(?:\.\d+)?$"

_TRUE = {"true", "t", "yes", "y", "1", "是", "对", "有", "√", "✓", "同意"}
_FALSE = {"false", "f", "no", "n", "0", "否", "不", "无", "×", "✗", "不同意"}
_GENDER = {
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


@dataclass(frozen=True)
class Parsed:
    values: pd.Series
    bad: pd.Series  # bool: the cell held text that is not a valid value


def to_halfwidth(text: pd.Series) -> pd.Series:
    """Full-width digits, letters and punctuation to ASCII; the ideographic space to a space.

    Only the cells that hold such characters are translated (a regex test runs in Arrow;
    the translation itself is Python, so it is kept to the few cells that need it).
    """
    text = text.astype(_STRING)
    ascii_only = pc.fill_null(pc.string_is_ascii(pa.array(text.array)), True)
    if pc.all(ascii_only).as_py():
        return text
    wide = text.str.contains(_FULLWIDTH_RE, regex=True).fillna(False).astype(bool)
    if wide.any():
        text = text.copy()
        text[wide] = text[wide].str.translate(_FULLWIDTH)
    return text


def clean_text(raw: pd.Series) -> pd.Series:
    """Trim (including ideographic spaces); blank cells become missing.

    In Arrow throughout: pandas' mask on Arrow strings rebuilds the column row by row.
    """
    text = pc.utf8_trim(pa.array(raw.astype(_STRING).array), " \t\r\n\u3000\u00a0")
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    return pd.Series(pd.arrays.ArrowStringArray(text), index=raw.index, name=raw.name)


def _normalised(raw: pd.Series) -> pd.Series:
    return clean_text(to_halfwidth(raw))


def parse_text(raw: pd.Series) -> Parsed:
    values = clean_text(raw)
    return Parsed(values, pd.Series(False, index=raw.index))


def parse_id(raw: pd.Series) -> Parsed:
    """Identifiers: half-width, trimmed, kept as text (leading zeros matter)."""
    values = _normalised(raw)
    return Parsed(values, pd.Series(False, index=raw.index))


_CLOCK_LIMITS = {"hour": 23, "minute": 59, "second": 59}


def _components_to_timestamp(parts: pd.DataFrame) -> pd.Series:
    """Timestamps from date and time parts; a time past the clock (25:00, 23:61) is NaT,
    where pandas would roll it over into the next day."""
    numbers = parts.apply(pd.to_numeric, errors="coerce")
    on_clock = pd.Series(True, index=numbers.index)
    for column, limit in _CLOCK_LIMITS.items():
        if column not in numbers:
            numbers[column] = 0
        numbers[column] = numbers[column].fillna(0)
        on_clock &= numbers[column] <= limit
    stamps = pd.to_datetime(
        numbers[["year", "month", "day", "hour", "minute", "second"]], errors="coerce"
    )
    return stamps.where(on_clock)


def parse_timestamp(raw: pd.Series) -> Parsed:
    """Dates and timestamps in every form CRMs export.

    ISO (`1990-05-03`, with an optional time), `1990/5/3`, `1990.5.3`, `19900503`,
    `1990年5月3日`, and Excel serial day numbers (1900 date system). Impossible dates
    (2023-02-30) and years outside 1900..2100 are bad.
    """
    text = _normalised(raw)
    result = _iso_fast_path(text)
    present = text.notna()
    if not present.any():
        return Parsed(result, present)
    candidates = text[present & result.isna()]
    for pattern in (_DATE_RE, _COMPACT_RE):
        pending = result.loc[candidates.index].isna()
        todo = candidates[pending.to_numpy()]
        if todo.empty:
            break
        parts = todo.str.extract(pattern)
        matched = parts["year"].notna()
        if matched.any():
            stamps = _components_to_timestamp(parts[matched])
            result.loc[stamps.index] = stamps.astype("datetime64[us]")
    pending = candidates[result.loc[candidates.index].isna().to_numpy()]
    serial = pending[pending.str.fullmatch(_SERIAL_RE).fillna(False).astype(bool)]
    if not serial.empty:
        days = serial.astype(float)
        result.loc[serial.index] = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).astype(
            "datetime64[us]"
        ).dt.round("s")
    in_range = result.between(_EARLIEST, _LATEST)
    result = result.where(in_range)
    return Parsed(result, present & result.isna())


# Zero-padded ISO dates and timestamps: (width, {position: separator}); the other
# positions are ASCII digits.
_ISO_LAYOUTS = (
    (10, {4: "-", 7: "-"}),  # 1990-05-03
    (19, {4: "-", 7: "-", 10: " ", 13: ":", 16: ":"}),  # 1990-05-03 14:05:09
)
# The ranges strptime("%Y-%m-%d %H:%M:%S") accepts, which this path reproduces:
# seconds 60 and 61 (leap seconds) roll over into the next minute.
_ISO_RANGES = {"month": (1, 12), "day": (1, 31), "hour": (0, 23), "minute": (0, 59),
               "second": (0, 61)}


def text_offsets(values: pa.Array) -> np.ndarray:
    """The len + 1 byte offsets of a large_string array's values into its data buffer
    (a slice's own offsets, without copying): value i is bytes offsets[i]:offsets[i + 1]."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)
    return offsets[values.offset : values.offset + len(values) + 1]


def _iso_fast_path(text: pd.Series) -> pd.Series:
    """Zero-padded ISO dates and timestamps, parsed as digits in NumPy; others stay NaT.

    A day past the month's end (2023-02-30) or a leap second that rolls over into the
    next day is left NaT for the general path to reject, as Arrow's strptime followed by
    a same-day test did (the same values, without a regular expression per row).
    """
    values = pa.array(text.array).cast(pa.large_string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    result = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    if len(values) == 0:
        return pd.Series(result, index=text.index)
    offsets = text_offsets(values)
    lengths = np.diff(offsets)
    data = np.frombuffer(values.buffers()[2] or b"", dtype=np.uint8)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    for width, separators in _ISO_LAYOUTS:
        rows = np.flatnonzero((lengths == width) & valid)
        for block in range(0, len(rows), _ISO_BLOCK):  # blocks that stay in the CPU's cache
            part = rows[block : block + _ISO_BLOCK]
            first, last = offsets[part[0]], offsets[part[-1] + 1]
            if last - first == width * len(part):  # no other bytes between: they are the matrix
                chars = data[first:last].reshape(len(part), width)
            else:
                chars = data[offsets[part][:, None] + np.arange(width)]
            stamps, ok = _iso_stamps(chars, separators)
            result[part[ok]] = stamps[ok]
    return pd.Series(result, index=text.index)


def _iso_stamps(chars: np.ndarray, separators: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps of an (n, width) byte matrix of ISO text and where they are valid."""
    columns = np.ascontiguousarray(chars.T)  # one row per character position: fast passes
    digits = columns - np.uint8(ord("0"))  # uint8: a byte below "0" wraps round, above 9
    ok = np.ones(len(chars), dtype=bool)
    for position, column in enumerate(columns):
        if position in separators:
            ok &= column == ord(separators[position])
        else:
            ok &= digits[position] <= 9

    def number(first: int, count: int) -> np.ndarray:
        pairs = [digits[i] * np.uint8(10) + digits[i + 1] for i in range(first, first + count, 2)]
        value = pairs[0].astype(np.int64)
        for pair in pairs[1:]:
            value = value * 100 + pair
        return value

    year, parts = number(0, 4), {"month": number(5, 2), "day": number(8, 2)}
    if len(columns) > 10:
        parts |= {"hour": number(11, 2), "minute": number(14, 2), "second": number(17, 2)}
    for name, values in parts.items():
        low, high = _ISO_RANGES[name]
        ok &= (values >= low) & (values <= high)
    month, day = parts["month"], parts["day"]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= day <= _DAYS_IN_MONTH[np.clip(month, 1, 12)] + (leap & (month == 2))
    seconds = sum(parts.get(name, 0) * factor
                  for name, factor in (("hour", 3600), ("minute", 60), ("second", 1)))
    ok &= seconds < 86_400  # 23:59:60 would roll over into the next day
    micros = (_days_since_epoch(year, month, day) * 86_400 + seconds) * 1_000_000
    return np.where(ok, micros, 0).view("datetime64[us]"), ok


_ISO_BLOCK = 1 << 20
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _days_since_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 of proleptic Gregorian dates, in integer arithmetic
    (the "days from civil" algorithm: years that start in March, eras of 400 years)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def parse_date(raw: pd.Series) -> Parsed:
    """As `parse_timestamp`, keeping the calendar date only."""
    parsed = parse_timestamp(raw)
    return Parsed(parsed.values.dt.normalize(), parsed.bad)


def parse_lunar_date(raw: pd.Series, is_leap: pd.Series) -> tuple[Parsed, pd.Series]:
    """Lunar birth dates as written (`1990-02-30` is a valid lunar date).

    Returns the Gregorian date of that lunar date (the real day of birth) and the lunar
    date itself as `YYYY-MM-DD` text. A month or day that the lunar calendar of that year
    does not have (a leap month the year lacks, day 30 of a 29-day month) is bad.
    """
    text = _normalised(raw)
    parts = text.str.extract(_DATE_RE)[["year", "month", "day"]]
    compact = parts["year"].isna() & text.notna()
    if compact.any():
        parts.loc[compact] = text[compact].str.extract(_COMPACT_RE)[["year", "month", "day"]]
    parts = parts.apply(pd.to_numeric, errors="coerce").astype("Int64")
    parts["leap"] = is_leap.fillna(False).astype(bool)
    keys = parts.dropna().astype({"year": int, "month": int, "day": int})
    unique = keys.drop_duplicates()
    solar = [_lunar_to_solar(*row) for row in unique.itertuples(index=False)]
    lookup = unique.assign(
        gregorian=pd.to_datetime(pd.Series(solar, index=unique.index, dtype="object")),
        lunar_text=[
            f"{y:04d}-{m:02d}-{d:02d}" if g is not None else None
            for y, m, d, g in zip(unique["year"], unique["month"], unique["day"], solar)
        ],
    )
    found = keys.reset_index().merge(lookup, on=["year", "month", "day", "leap"]).set_index("index")
    gregorian = found["gregorian"].reindex(raw.index).astype("datetime64[us]")
    lunar_text = found["lunar_text"].reindex(raw.index).astype("string")
    return Parsed(gregorian, text.notna() & gregorian.isna()), lunar_text


@lru_cache(maxsize=None)
def _lunar_to_solar(year: int, month: int, day: int, is_leap: bool) -> date | None:
    from pipeline.lib.rules.lunar import lunar_to_solar

    if not 1900 <= year <= 2100:
        return None
    try:
        return lunar_to_solar(year, month, day, is_leap)
    except ValueError:
        return None


def _lookup(key: pd.Series, table: dict[str, str]) -> pd.Series:
    """`key.map(table)` as text, by Arrow's hash lookup (twice as fast as pandas' map
    on Arrow-backed strings)."""
    found = pc.index_in(pa.array(key.array).cast(pa.large_string()),
                        value_set=pa.array(list(table), pa.large_string()))
    values = pa.array(list(table.values()), pa.large_string()).take(found)
    return pd.Series(pd.arrays.ArrowStringArray(values), index=key.index, name=key.name).astype(
        "string")


def parse_bool(raw: pd.Series) -> Parsed:
    """true/false, 1/0, yes/no, 是/否 (and a few more) to a nullable boolean."""
    key = _normalised(raw).str.lower()
    values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    values[key.isin(_TRUE).fillna(False).astype(bool)] = True
    values[key.isin(_FALSE).fillna(False).astype(bool)] = False
    return Parsed(values, key.notna() & values.isna())


def parse_gender(raw: pd.Series) -> Parsed:
    """M/F, 男/女, 先生/女士 and English words to `M` or `F`."""
    key = _normalised(raw).str.lower()
    values = _lookup(key, _GENDER)
    return Parsed(values, key.notna() & values.isna())


def parse_enum(raw: pd.Series, column: str, choices: tuple[str, ...]) -> Parsed:
    """Canonical values or their Chinese/English synonyms, case-insensitive."""
    synonyms = {c.lower(): c for c in choices} | ENUM_SYNONYMS.get(column, {})
    key = _normalised(raw).str.lower()
    values = _lookup(key, synonyms)
    return Parsed(values, key.notna() & values.isna())


_MONEY_CLEAN_RE = r"[¥￥$]|CNY|RMB|元"
# Thousands separated by commas or by spaces (`1 234`, also no-break and thin spaces),
# one kind per amount and always in groups of three: `12 34` is not an amount.
_MONEY_RE = (
    r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:\.\d+)?$"
)


def parse_money(raw: pd.Series) -> Parsed:
    """Amounts in CNY: currency signs, 元, thousands separators; `(12.50)` is negative."""
    text = _normalised(raw)
    values = pa.array(text.array)
    plain_arrow = pc.fill_null(pc.match_substring_regex(values, _PLAIN_NUMBER_RE), False)
    numbers = pc.cast(pc.if_else(plain_arrow, values, pa.scalar(None, values.type)), pa.float64())
    amounts = pd.Series(pd.arrays.FloatingArray(
        numbers.fill_null(0).to_numpy(zero_copy_only=False), ~plain_arrow.to_numpy(zero_copy_only=False)
    ), index=text.index).round(2)
    plain = pd.Series(plain_arrow.to_numpy(zero_copy_only=False), index=text.index)
    if plain.all() or not (text.notna() & ~plain).any():
        return Parsed(amounts, pd.Series(False, index=text.index))
    other = _parse_decorated_money(text[text.notna() & ~plain])
    amounts[other.values.index] = other.values
    bad = pd.Series(False, index=text.index)
    bad[other.bad.index] = other.bad
    return Parsed(amounts, bad)


_PLAIN_NUMBER_RE = r"^-?\d+(?:\.\d+)?$"


def _parse_decorated_money(text: pd.Series) -> Parsed:
    negative = text.str.fullmatch(r"\(.*\)").fillna(False).astype(bool)
    text = text.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    text = text.str.replace(_MONEY_CLEAN_RE, "", regex=True, case=False)
    text = text.str.strip(" \u00a0\u202f").str.replace(r"^([+-])\s+", r"\1", regex=True)
    valid = text.str.fullmatch(_MONEY_RE).fillna(False).astype(bool)
    digits = text.where(valid).str.replace(r"[,\s\u00a0\u202f]", "", regex=True)
    amounts = pd.to_numeric(digits, errors="coerce")
    amounts = amounts.astype("Float64").where(~negative, -amounts)
    return Parsed(amounts.round(2), text.notna() & amounts.isna())


def parse_int(raw: pd.Series, low: int | None = None, high: int | None = None) -> Parsed:
    """Whole numbers (`4`, `4.0`), optionally within [low, high]."""
    text = _normalised(raw)
    numbers = pd.to_numeric(text, errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers))
    if low is not None:
        whole &= numbers >= low
    if high is not None:
        whole &= numbers <= high
    values = numbers.where(whole).astype("Int64")
    return Parsed(values, text.notna() & values.isna())


_EMAIL_RE = r"^[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$"


def parse_email(raw: pd.Series) -> Parsed:
    """A plausible address (one @, a dotted domain, no spaces); the domain lower-cased."""
    text = _normalised(raw)
    valid = text.str.fullmatch(_EMAIL_RE).fillna(False).astype(bool)
    values = text.where(valid)
    upper_domain = values.str.contains(r"@.*[A-Z]", regex=True).fillna(False).astype(bool)
    if upper_domain.any():
        parts = values[upper_domain].str.rsplit("@", n=1)
        values[upper_domain] = parts.str[0] + "@" + parts.str[-1].str.lower()
    return Parsed(values, text.notna() & ~valid)


_MAINLAND_MOBILE_RE = r"^(?:\+?(?:00)?86)?1[3-9]\d{9}$"


def _e164(number: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_phone(raw: pd.Series, region: str = "CN") -> Parsed:
    """Phone numbers to E.164 (+86 by default). Full-width digits, spaces, dashes accepted.

    Mainland mobiles take a vectorised fast path; anything else (landlines, Hong Kong,
    foreign numbers) goes through `phonenumbers`, once per distinct value.
    """
    text = _normalised(raw)
    decorated = text.str.contains(r"[^0-9]", regex=True).fillna(False).astype(bool)
    compact = text.copy()
    if decorated.any():
        compact[decorated] = text[decorated].str.replace(r"[\s\-().]", "", regex=True)
    is_mobile = compact.str.fullmatch(_MAINLAND_MOBILE_RE).fillna(False).astype(bool)
    values = ("+86" + compact.str.slice(-11)).where(is_mobile).astype("string")
    mobile = values
    others = compact[compact.notna() & mobile.isna()]
    if not others.empty:
        lookup = {value: _e164(value, region) for value in others.unique()}
        values.loc[others.index] = others.map(lookup).astype("string")
    return Parsed(values, text.notna() & values.isna())


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


_POSTCODE_RE = r"^\d{6}$"


def parse_postcode(raw: pd.Series) -> Parsed:
    """Mainland postal codes: six digits (a leading apostrophe from Excel is dropped)."""
    text = _normalised(raw).str.lstrip("'")
    valid = text.str.fullmatch(_POSTCODE_RE).fillna(False).astype(bool)
    return Parsed(text.where(valid), text.notna() & ~valid)


def parse_column(raw: pd.Series, kind: str, column: str, choices: tuple[str, ...] = ()) -> Parsed:
    """Dispatch on the column kind declared in `schema.py`."""
    match kind:
        case "text":
            return parse_text(raw)
        case "id":
            return parse_id(raw)
        case "date":
            return parse_date(raw)
        case "timestamp":
            return parse_timestamp(raw)
        case "bool":
            return parse_bool(raw)
        case "gender":
            return parse_gender(raw)
        case "enum":
            return parse_enum(raw, column, choices)
        case "money":
            return parse_money(raw)
        case "int":
            return parse_int(raw, *_INT_BOUNDS.get(column, (None, None)))
        case "email":
            return parse_email(raw)
        case "phone":
            return parse_phone(raw)
        case "postcode":
            return parse_postcode(raw)
    raise ValueError(f"unknown column kind {kind!r} for {column}")


_INT_BOUNDS = {"satisfaction": (1, 5)}

LUNAR_DATE_REASON = "birth_date: not a valid lunar date (month, day or leap month)"

_REASONS = {
    "date": "not a valid date",
    "timestamp": "not a valid date or time",
    "bool": "not a yes/no value",
    "gender": "not a gender (M/F/男/女/先生/女士)",
    "enum": "not one of {choices}",
    "money": "not an amount",
    "int": "not a whole number{bounds}",
    "email": "not a valid e-mail address",
    "phone": "not a valid phone number",
    "postcode": "not a six-digit postal code",
}


def bad_value_reason(kind: str, column: str, choices: tuple[str, ...] = ()) -> str:
    """The human reason recorded in the quarantine for an unparseable value."""
    low, high = _INT_BOUNDS.get(column, (None, None))
    bounds = f" from {low} to {high}" if low is not None else ""
    template = _REASONS.get(kind, "not a valid value")
    return f"{column}: " + template.format(choices="/".join(choices), bounds=bounds)

