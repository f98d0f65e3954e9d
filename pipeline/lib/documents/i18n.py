"""Words and formats in the members' languages: zh-CN (first), zh-TW, en.

Every document gets its salutations, dates and amounts from here, through the Jinja
filters registered in `templating.py`, so a letter and a newsletter never disagree.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import yaml

from pipeline.settings import PATHS

LANGUAGES = ("zh-CN", "zh-TW", "en")
DEFAULT_LANGUAGE = "zh-CN"

_TITLES = {
    "zh-CN": {"mr": "先生", "ms": "女士"},
    "zh-TW": {"mr": "先生", "ms": "女士"},
    "en": {"mr": "Mr", "ms": "Ms"},
}
_DEAR = {"zh-CN": "尊敬的", "zh-TW": "尊敬的", "en": "Dear"}
_MEMBER = {"zh-CN": "会员", "zh-TW": "會員", "en": "Member"}
_HOUSEHOLD = {"zh-CN": "{surname}府", "zh-TW": "{surname}府", "en": "The {surname} Household"}
_HOUSEHOLD_OF = {"zh-CN": "{name}", "zh-TW": "{name}", "en": "The Household of {name}"}


def language_strings(folder: str) -> dict[str, dict]:
    """templates/<folder>/strings.yaml, checked: every language has every key of the
    default language (ValueError naming the file, the language and the keys)."""
    words = yaml.safe_load((PATHS.templates / folder / "strings.yaml").read_text(encoding="utf-8"))
    reference = set(words[DEFAULT_LANGUAGE])
    for lang in LANGUAGES:
        missing = reference - set(words.get(lang, {}))
        if missing:
            raise ValueError(f"{folder} strings.yaml: {lang} lacks {sorted(missing)}")
    return words


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def _is_ideograph(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f"


def is_chinese_name(name: str) -> bool:
    return any(_is_ideograph(ch) for ch in name)


_WESTERN_SURNAME = re.compile(r"[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*\.?")


def surname(name: str) -> str | None:
    """Family name: the first character of a Chinese name (two for common compound
    surnames), the last word of a Western one; None when the name has none to offer
    (it starts with no ideograph and its last word is not a word: `{{ 7*7 }}先生`)."""
    name = name.strip()
    if name and _is_ideograph(name[0]):
        compound = name[:2]
        return compound if compound in COMPOUND_SURNAMES and len(name) > 2 else name[:1]
    parts = name.split()
    if parts and _WESTERN_SURNAME.fullmatch(parts[-1]) and not is_chinese_name(parts[-1]):
        return parts[-1]
    return None


COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 令狐 公孙 慕容 尉迟 长孙 宇文 司徒 夏侯 轩辕 端木 "
    "歐陽 司馬 諸葛 東方 長孫 夏侯 軒轅".split()
)


def salutation(name: str, title: str | None, lang: str) -> str:
    """尊敬的王先生 / 尊敬的王女士 / Dear Ms Wang; without a known gender or a usable
    family name, the full name: 尊敬的王伟会员 / Dear Wang Wei."""
    lang = language(lang)
    words, family = _TITLES[lang].get(title or ""), surname(name)
    if lang == "en":
        return f"Dear {words} {family}" if words and family else f"Dear {name}"
    if words and family:
        return f"{_DEAR[lang]}{family}{words}"
    return f"{_DEAR[lang]}{name}{_MEMBER[lang]}"


def household_name(name: str, lang: str) -> str:
    """The addressee of a household letter: 王府 / The Wang Household; without a usable
    family name, the member's name: {{ 7*7 }}先生 / The Household of {{ 7*7 }}."""
    family = surname(name)
    if family:
        return _HOUSEHOLD[language(lang)].format(surname=family)
    return _HOUSEHOLD_OF[language(lang)].format(name=name)


def format_date(value, lang: str) -> str:
    """2026年12月8日 / 2026年12月8日 / 8 December 2026."""
    if value is None or (not isinstance(value, date) and pd.isna(value)):
        return ""
    day = pd.Timestamp(value)
    if language(lang) == "en":
        return f"{day.day} {day.strftime('%B')} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def format_month_day(value, lang: str) -> str:
    """12月8日 / 8 December."""
    day = pd.Timestamp(value)
    if language(lang) == "en":
        return f"{day.day} {day.strftime('%B')}"
    return f"{day.month}月{day.day}日"


def format_cny(amount, lang: str) -> str:
    """¥1,234.50 in every language (the club's currency)."""
    if amount is None or pd.isna(amount):
        return ""
    return f"¥{float(amount):,.2f}"


def mask_phone(phone: str | None) -> str:
    """+8613812345678 -> +86 138****5678: enough to recognise, not to call."""
    if not phone or pd.isna(phone):
        return ""
    digits = str(phone)
    if digits.startswith("+86") and len(digits) == 14:
        return f"+86 {digits[3:6]}****{digits[-4:]}"
    return digits[:-4].rstrip("0123456789") + "****" + digits[-4:] if len(digits) > 4 else "****"


def mask_email(email: str | None) -> str:
    """wang.wei@example.com -> w***@example.com."""
    if not email or pd.isna(email) or "@" not in str(email):
        return ""
    local, domain = str(email).rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def ordinal(number: int) -> str:
    """English ordinals: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 22nd, 71st, 112th."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
