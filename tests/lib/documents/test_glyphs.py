"""missing_glyphs: which characters would print as empty boxes with the letter fonts."""

import pytest

from pipeline.lib.documents import glyphs
from pipeline.lib.documents.glyphs import family_coverage, missing_glyphs
from pipeline.lib.documents.letters import FONT_FAMILIES


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("王伟 先生 收", set()),  # everyday name and address words
        ("𠮷喆堃燊", set()),  # rare name characters, 𠮷 outside the BMP (Ext B)
        ("陳美玲 臺北", set()),  # Traditional characters
        ("Emma Clarke, 5 Rue d'Été", set()),  # Latin with accents
        ("王\ue000", {"\ue000"}),  # a private-use code point from a CRM: no font has it
        ("\t\n \u3000\u200d\ufe0f", set()),  # whitespace, ideographic space, ZWJ, selectors
    ],
)
def test_missing_glyphs_finds_only_characters_no_font_can_draw(text, missing):
    assert missing_glyphs(text, FONT_FAMILIES) == missing


def test_a_long_text_is_screened_like_a_short_one():
    # Past glyphs._LONG_TEXT characters NumPy tallies code points instead of a set.
    text = "幸福路1号 𠮷田喆\ue000😀" * (glyphs._LONG_TEXT // 10)
    assert missing_glyphs(text, FONT_FAMILIES) == {"\ue000", "😀"}


def test_a_family_that_is_not_installed_covers_nothing():
    # A typo in a font name must not pass silently as "everything is covered".
    assert missing_glyphs("王A", ("No Such Font Family",)) == {"王", "A"}


def test_cmaps_are_read_once_per_family():
    assert family_coverage(FONT_FAMILIES[0]) is family_coverage(FONT_FAMILIES[0])


def test_unprintable_names_the_characters_no_letter_font_has():
    assert glyphs.unprintable(["王伟", "𠮷田喆", "幸福路😀1号", "陳\ue000"]) == {"😀", "\ue000"}


def test_a_machine_without_the_letter_fonts_is_told_to_install_them():
    with pytest.raises(glyphs.FontsMissing, match="fonts-noto-cjk"):
        glyphs.unprintable(["王伟"], ("No Such Font Family",))
