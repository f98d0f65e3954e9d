"""English ordinals for ages and anniversaries in English letters and newsletters."""

import pytest

from pipeline.lib.documents import i18n


@pytest.mark.parametrize(
    ("number", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
     (11, "11th"), (12, "12th"), (13, "13th"),  # the teens take "th"
     (21, "21st"), (22, "22nd"), (71, "71st"),
     (111, "111th"), (112, "112th"), (101, "101st")],  # a hundred and eleven, not "111st"
)
def test_ordinal(number, text):
    assert i18n.ordinal(number) == text


@pytest.mark.parametrize(
    ("name", "title", "lang", "text"),
    [("王伟", "mr", "zh-CN", "尊敬的王先生"),
     ("欧阳娜娜", "ms", "zh-TW", "尊敬的欧阳女士"),  # a compound surname
     ("王伟", None, "zh-CN", "尊敬的王伟会员"),  # no gender: the full name
     ("Wang Wei", "ms", "en", "Dear Ms Wei"),
     ("Mary O'Brien", "ms", "en", "Dear Ms O'Brien"),
     ("David Wang", "mr", "zh-CN", "尊敬的Wang先生"),
     # No family name to take: the name as written, never a stray character of it.
     ("{{ 7*7 }}先生", "mr", "zh-CN", "尊敬的{{ 7*7 }}先生会员"),
     ("{{ 7*7 }}", "ms", "en", "Dear {{ 7*7 }}"),
     ("<b>粗体</b> &amp; 王", "mr", "en", "Dear <b>粗体</b> &amp; 王")],
)
def test_salutation(name, title, lang, text):
    assert i18n.salutation(name, title, lang) == text


@pytest.mark.parametrize(
    ("name", "lang", "text"),
    [("王伟", "zh-CN", "王府"), ("Wang Wei", "en", "The Wei Household"),
     ("{{ 7*7 }}先生", "zh-CN", "{{ 7*7 }}先生"), ("{{ 7*7 }}", "en", "The Household of {{ 7*7 }}")],
)
def test_household_name(name, lang, text):
    assert i18n.household_name(name, lang) == text
