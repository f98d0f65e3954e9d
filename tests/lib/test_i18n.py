"""English ordinals for ages and anniversaries in English letters and newsletters."""

import pytest

from pipeline.lib import i18n


@pytest.mark.parametrize(
    ("number", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
     (11, "11th"), (12, "12th"), (13, "13th"),  # the teens take "th"
     (21, "21st"), (22, "22nd"), (71, "71st"),
     (111, "111th"), (112, "112th"), (101, "101st")],  # a hundred and eleven, not "111st"
)
def test_ordinal(number, text):
    assert i18n.ordinal(number) == text
