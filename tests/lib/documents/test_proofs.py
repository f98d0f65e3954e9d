"""proofs/proofs.pdf: every template branch, per language, labelled, with a contents cover."""

import re
import sys
from io import BytesIO
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from pipeline.config import load_config
from pipeline.lib.documents import proofs
from pipeline.lib.rules.calendar import build_calendar
from pipeline.lib.documents.glyphs import missing_glyphs
from pipeline.settings import PATHS

sys.path.insert(0, str(Path(__file__).parent))
from test_stamp import assert_same  # noqa: E402  (pages compared as images)

EDITION = "2026-02"  # Spring Festival month: festivals, closures and make-up workdays
EVENTS = pd.DataFrame(
    [
        ("E1", "新春联欢会", "2026-02-10", "多功能厅", "欢迎携家人参加", "all"),
        ("E2", "品鉴晚宴", "2026-02-12", "宴会厅", "仅限受邀会员", "Champions"),
    ],
    columns=["event_id", "title", "event_date", "location", "description", "audience"],
)

# (branch, language) -> words only that branch prints (whitespace is ignored).
PHRASES = {
    # Newsletters: the content block's heading, and the notes the case adds.
    ("nl-welcome-prospect", "zh-CN"): ["会所设施，等您体验", "期待您的首次光临"],
    ("nl-welcome-prospect", "zh-TW"): ["會所設施，等您體驗", "期待您的首次光臨"],
    ("nl-welcome-prospect", "en"): ["Make the most of your membership",
                                    "We look forward to your first visit"],
    ("nl-welcome-new", "zh-CN"): ["会所设施，等您体验", "您的生日：2月18日"],
    ("nl-welcome-new", "zh-TW"): ["會所設施，等您體驗", "生日祝福"],
    ("nl-welcome-new", "en"): ["Make the most of your membership", "Happy birthday"],
    ("nl-win-back", "zh-CN"): ["好久不见，我们想念您", "您将迎来60岁生日"],
    ("nl-win-back", "zh-TW"): ["好久不見，我們想念您", "您將迎來60歲生日"],
    ("nl-win-back", "en"): ["We have missed you", "your 60th birthday"],
    ("nl-welcome-back", "zh-CN"): ["欢迎回来", "王府收"],  # the household addressee
    ("nl-welcome-back", "zh-TW"): ["歡迎回來", "王府收"],
    ("nl-welcome-back", "en"): ["Welcome back", "TheSampleHousehold收"],
    ("nl-thank-you", "zh-CN"): ["感谢有您", "尊享会员"],
    ("nl-thank-you", "zh-TW"): ["感謝有您", "尊享會員"],
    ("nl-thank-you", "en"): ["Thank you", "Premier Member"],
    ("nl-regular", "zh-CN"): ["会员服务"],
    ("nl-regular", "zh-TW"): ["會員服務"],
    ("nl-regular", "en"): ["Member Services"],
    # Greeting letters: the heading of each kind and festival.
    ("lt-birthday", "zh-CN"): ["生日快乐"],
    ("lt-birthday", "zh-TW"): ["生日快樂"],
    ("lt-birthday", "en"): ["Happy Birthday"],
    ("lt-birthday-milestone", "zh-CN"): ["七十大寿", "古稀之庆"],
    ("lt-birthday-milestone", "zh-TW"): ["七十大壽", "古稀之慶"],
    ("lt-birthday-milestone", "en"): ["Happy 70th Birthday"],
    ("lt-festival-new-year", "zh-CN"): ["元旦快乐", "万象更新"],
    ("lt-festival-new-year", "zh-TW"): ["元旦快樂", "萬象更新"],
    ("lt-festival-new-year", "en"): ["Happy New Year", "new year begins"],
    ("lt-festival-labour-day", "zh-CN"): ["劳动节快乐", "劳动创造美好生活"],
    ("lt-festival-labour-day", "zh-TW"): ["勞動節快樂", "勞動創造美好生活"],
    ("lt-festival-labour-day", "en"): ["Happy Labour Day"],
    ("lt-festival-national-day", "zh-CN"): ["国庆快乐", "举国同庆"],
    ("lt-festival-national-day", "zh-TW"): ["國慶快樂", "舉國同慶"],
    ("lt-festival-national-day", "en"): ["Happy National Day", "Golden Week"],
    ("lt-festival-new-years-eve", "zh-CN"): ["除夕团圆"],
    ("lt-festival-new-years-eve", "zh-TW"): ["除夕團圓"],
    ("lt-festival-new-years-eve", "en"): ["Happy New Year's Eve"],
    ("lt-festival-spring", "zh-CN"): ["新春快乐", "马年新春佳节"],  # 2026: the Horse
    ("lt-festival-spring", "zh-TW"): ["新春快樂", "馬年新春佳節"],
    ("lt-festival-spring", "en"): ["Happy Spring Festival", "Year of the Horse"],
    ("lt-festival-lantern", "zh-CN"): ["元宵快乐"],
    ("lt-festival-lantern", "zh-TW"): ["元宵快樂"],
    ("lt-festival-lantern", "en"): ["Happy Lantern Festival"],
    ("lt-festival-qingming", "zh-CN"): ["清明安康"],
    ("lt-festival-qingming", "zh-TW"): ["清明安康", "慎終追遠"],
    ("lt-festival-qingming", "en"): ["Qingming Greetings"],
    ("lt-festival-dragon-boat", "zh-CN"): ["端午安康"],
    ("lt-festival-dragon-boat", "zh-TW"): ["端午安康", "粽葉飄香"],
    ("lt-festival-dragon-boat", "en"): ["Dragon Boat Festival Greetings"],
    ("lt-festival-mid-autumn", "zh-CN"): ["中秋快乐"],
    ("lt-festival-mid-autumn", "zh-TW"): ["中秋快樂"],
    ("lt-festival-mid-autumn", "en"): ["Happy Mid-Autumn Festival"],
    ("lt-festival-double-ninth", "zh-CN"): ["重阳安康", "敬老爱老"],
    ("lt-festival-double-ninth", "zh-TW"): ["重陽安康", "敬老愛老"],
    ("lt-festival-double-ninth", "en"): ["Double Ninth Festival Greetings"],
    ("lt-festival-winter-solstice", "zh-CN"): ["冬至安康"],
    ("lt-festival-winter-solstice", "zh-TW"): ["冬至安康", "冬至大如年"],
    ("lt-festival-winter-solstice", "en"): ["Winter Solstice Greetings"],
    ("lt-festival-qixi", "zh-CN"): ["七夕快乐", "值此七夕"],  # the generic wording
    ("lt-festival-qixi", "zh-TW"): ["七夕快樂", "值此七夕"],
    ("lt-festival-qixi", "en"): ["Warm Wishes for Qixi Festival"],
    ("lt-anniversary-membership", "zh-CN"): ["相伴五周年"],
    ("lt-anniversary-membership", "zh-TW"): ["相伴五週年"],
    ("lt-anniversary-membership", "en"): ["5 Years Together"],
    ("lt-anniversary-ownership", "zh-CN"): ["乔迁十周年"],
    ("lt-anniversary-ownership", "zh-TW"): ["喬遷十週年"],
    ("lt-anniversary-ownership", "en"): ["Happy 10th Home Anniversary"],
    ("lt-household", "zh-CN"): ["尊敬的王府阖家", "王府收"],
    ("lt-household", "zh-TW"): ["尊敬的王府闔家", "王府收"],
    ("lt-household", "en"): ["Dear Sample Family", "TheSampleHousehold收"],
}
# Greeting e-mails carry the letters' words (every personal case: a household piece goes
# by post only); the SMS pages list every wording with its counts.
PHRASES |= {
    (proofs.email_key(key), lang): words for (key, lang), words in list(PHRASES.items())
    if key.startswith("lt-") and key != "lt-household"
}
PHRASES |= {
    ("sms", "zh-CN"): ["【江畔花园】尊敬的张先生，", "元旦快乐", "回T退订", "47ucs2"],
    ("sms", "zh-TW"): ["元旦快樂", "回T退訂", "尊敬的會員"],
    ("sms", "en"): ["Happy New Year!", "Reply T to opt out"],
}
FICTIONAL = re.compile("样例|樣例|Sample|Specimen|Example")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def built():
    holidays = pd.concat([build_calendar(2026, PATHS.reference),
                          build_calendar(2027, PATHS.reference)])
    # build_proofs raises RenderError on any WeasyPrint warning: building at all is the
    # check that nothing (a font, an image, a CSS property) went missing.
    return proofs.build_proofs(holidays, EVENTS, load_config(), EDITION)


@pytest.fixture(scope="module")
def pages(built) -> list[str]:
    return [_flat(page.extract_text()) for page in PdfReader(BytesIO(built.pdf)).pages]


@pytest.fixture(scope="module")
def by_branch(built, pages) -> dict[tuple[str, str], str]:
    return {(b.key, b.lang): pages[b.first_page - 1] for b in built.branches}


def test_one_page_per_branch_and_a_cover(built, pages):
    assert len(pages) == built.pages
    personal = [c for c in proofs.LETTER_CASES if not c.household]
    assert len(built.branches) == 3 * (len(proofs.NEWSLETTER_CASES) + len(proofs.LETTER_CASES)
                                       + len(personal) + 1)  # + e-mails + the SMS list
    # no specimen spills onto a 2nd page; the SMS list of a language takes two
    assert all(b.pages == 1 for b in built.branches if b.key != "sms")
    assert len(pages) == len(built.branches) + 1 + sum(b.pages - 1 for b in built.branches)
    assert set(PHRASES) == {(b.key, b.lang) for b in built.branches}


@pytest.mark.parametrize(("key", "lang"), sorted(PHRASES))
def test_each_branch_shows_its_template_and_its_own_words(built, by_branch, key, lang):
    branch = next(b for b in built.branches if (b.key, b.lang) == (key, lang))
    text = by_branch[(key, lang)]
    template = branch.template
    assert template in text  # the proof banner
    assert _flat(branch.branch) in text
    assert f"{lang}·{proofs.LANGUAGE_NAMES[lang]}" in text
    assert f"p.{branch.first_page}/{built.pages}" in text
    for phrase in PHRASES[(key, lang)]:
        assert _flat(phrase) in text, phrase


def test_every_language_is_there_in_its_own_script(by_branch):
    assert "尊敬的张先生" in by_branch[("lt-birthday", "zh-CN")]
    assert "敬禮" in by_branch[("lt-birthday", "zh-TW")]  # Traditional, not 敬礼
    assert "DearMrSample" in by_branch[("lt-birthday", "en")]


def test_specimens_are_fictional_members(built, by_branch):
    for key, text in by_branch.items():
        assert FICTIONAL.search(text), key
    assert all(b.anchor and "PROOF" in b.anchor.upper() for b in built.branches)


def test_newsletters_carry_the_editions_calendar_and_events_by_segment(by_branch):
    champions = by_branch[("nl-thank-you", "zh-CN")]
    assert "春节：2月15日至2月23日休息" in champions  # the closure of the edition
    assert "新春联欢会" in champions and "品鉴晚宴" in champions  # for Champions too
    assert "品鉴晚宴" not in by_branch[("nl-regular", "zh-CN")]  # Champions only


def test_cover_lists_every_branch_with_its_page_per_language(built, pages):
    cover = pages[0]
    assert f"{EDITION}" in cover and "样稿" in cover
    emails = [b for b in built.branches if b.document == "Greeting e-mail"]
    ranges = "".join(f"{min(b.first_page for b in emails if b.lang == lang)}–"
                     f"{max(b.first_page for b in emails if b.lang == lang)}"
                     for lang in ("zh-CN", "zh-TW", "en"))
    assert _flat(proofs.EMAIL_COVER_ROW) + "email/greeting.html.j2" + ranges in cover
    for key in dict.fromkeys(b.key for b in built.branches if b.document != "Greeting e-mail"):
        rows = [b for b in built.branches if b.key == key]
        template = rows[0].template.replace(rows[0].lang, "<lang>")
        in_columns = sorted(rows, key=lambda b: ["zh-CN", "zh-TW", "en"].index(b.lang))
        numbers = "".join(str(b.first_page) if b.pages == 1
                          else f"{b.first_page}–{b.first_page + b.pages - 1}" for b in in_columns)
        assert _flat(rows[0].branch) + template + numbers in cover, key


def test_festival_letters_name_the_festivals_next_date(by_branch):
    assert "9月25日" in by_branch[("lt-festival-mid-autumn", "zh-CN")]  # 中秋 2026
    assert "2月17日" in by_branch[("lt-festival-spring", "zh-CN")]  # 春节 2026
    assert "2027年" not in by_branch[("lt-festival-winter-solstice", "zh-CN")]


def test_cover_and_banners_have_a_glyph_for_every_character(built, pages):
    own_text = pages[0] + "".join(b.label + proofs.LANGUAGE_NAMES[b.lang] for b in built.branches)
    assert missing_glyphs(own_text, ("Noto Sans CJK SC",)) == set()  # no empty boxes


def test_email_proofs_look_as_with_the_automatic_table_layout(tmp_path, monkeypatch):
    """The e-mail proofs' tables are laid out by the fixed algorithm (fast); the e-mails
    set their columns' widths, so every page equals the automatic layout's to the pixel."""
    config = proofs._print_config(load_config())
    fixed, _ = proofs._render_emails(config, EDITION)
    automatic = proofs._EMAIL_HTML.replace("table-layout: fixed; ", "")
    assert automatic != proofs._EMAIL_HTML
    monkeypatch.setattr(proofs, "_EMAIL_HTML", automatic)
    normal, _ = proofs._render_emails(config, EDITION)
    assert_same(normal.pdf, fixed.pdf, tmp_path)
