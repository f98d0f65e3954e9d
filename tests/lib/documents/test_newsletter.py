"""The personalised newsletter: what each member reads, and what the files look like."""

import html as entities
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from pipeline.config import ClubConfig, Print, load_config
from pipeline.lib.documents import newsletter as nl
from pipeline.lib.rules.calendar import build_calendar
from pipeline.settings import PATHS

EDITION = "2026-02"  # Spring Festival: closures, make-up workdays and festivals
EVIL_NAME = '<img src="file:///etc/passwd">'
INJECTED = "{{ 7*7 }}"

MEMBER_COLUMNS = ["member_id", "name", "salutation", "language", "province", "city",
                  "district", "address", "postal_code"]
MEMBERS = pd.DataFrame(
    [
        ("M1", "王伟", "mr", "zh-CN", "上海市", "上海市", "浦东新区", "滨江大道1号", "200120"),
        ("M2", "陈美玲", "ms", "zh-TW", "广东省", "深圳市", "南山区", "科技园路2号", "518000"),
        ("M3", "Jane Smith", "ms", "en", "北京市", "北京市", "朝阳区", "建国路3号", "100020"),
        ("M4", EVIL_NAME, "neutral", "zh-CN", "浙江省", "杭州市", "西湖区", "文三路4号", "310000"),
        ("M5", INJECTED, "neutral", "zh-CN", "江苏省", "南京市", "玄武区", "中山路5号", "210000"),
        ("../evil", "李雷", "mr", "zh-CN", "四川省", "成都市", "武侯区", "人民南路6号", "610000"),
    ],
    columns=MEMBER_COLUMNS,
)
SEGMENTS = pd.DataFrame(
    [
        ("M1", 40, 52_300.5, 92.0, "key", "Champions", "active"),
        ("M2", 12, 8_800.0, 61.0, "important", "Can't Lose Them", "lapsing"),
        ("M3", None, None, 20.0, "ordinary", None, "prospect"),
        ("M4", 2, 120.0, 30.0, "ordinary", "Low Priority", "active"),
        ("M5", 3, 300.0, 35.0, "ordinary", "Low Priority", "lapsed"),
        ("../evil", 5, 900.0, 45.0, "important", "Loyal Customers", "active"),
    ],
    columns=["member_id", "frequency", "monetary", "score", "tier", "rfm_segment", "lifecycle_stage"],
)
BIRTHDAYS = pd.DataFrame(
    [
        ("M1", date(2026, 2, 3), 60, True),  # in the edition month, a milestone
        ("M2", date(2026, 3, 5), 45, False),  # next month: no note yet
    ],
    columns=["member_id", "birthday", "age", "milestone"],
)
EVENTS = pd.DataFrame(
    [
        ("E1", "年终答谢会", "2026-01-20", "会所", "已结束", "all"),  # before the edition
        ("E2", "新春联欢会", "2026-02-10", "多功能厅", "欢迎携家人参加", "all"),
        ("E3", "品鉴晚宴", "2026-02-12", "宴会厅", "仅限受邀会员", "Champions"),
        ("E4", "业主回家看看", "2026-02-20", "会所", "下午茶", "Can't Lose Them"),
        ("E5", INJECTED, "2026-03-01", EVIL_NAME, None, "all"),
        ("E6", "春季踏青", "2026-03-15", "郊野公园", None, "all"),
    ],
    columns=["event_id", "title", "event_date", "location", "description", "audience"],
)


@pytest.fixture(scope="module")
def holidays():
    return pd.concat([build_calendar(2026, PATHS.reference), build_calendar(2027, PATHS.reference)])


@pytest.fixture(scope="module")
def edition(holidays):
    return nl.NewsletterEdition.build(holidays, EVENTS, load_config(), EDITION)


@pytest.fixture(scope="module")
def contexts():
    found = nl.member_contexts(MEMBERS[["member_id"]], MEMBERS, SEGMENTS, BIRTHDAYS, EDITION)
    return {m.member_id: m for m in found}


@pytest.fixture(scope="module")
def html(edition, contexts):
    return {key: nl.render_member_html(edition, m) for key, m in contexts.items()}


@pytest.fixture(scope="module")
def text(edition, contexts):
    return {key: nl.render_member_text(edition, m) for key, m in contexts.items()}


def visible(page: str) -> str:
    """The HTML's text as a reader sees it."""
    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("member", "present", "absent"),
    [
        # Simplified Chinese, a man: 尊敬的 + surname + 先生
        ("M1", ["尊敬的王先生", "会员通讯", "您的会员概况", "节庆与休息安排"], ["會員", "節日"]),
        # Traditional Chinese: every word of ours in Traditional characters
        ("M2", ["尊敬的陈女士", "會員通訊", "您的會員概況", "節日與休假安排", "春節"], ["会员", "节庆"]),
        # English: Dear + Ms + family name, English dates and holiday names
        ("M3", ["Dear Ms Smith,", "Members' Newsletter", "Spring Festival", "Tuesday 17 February"],
         ["会员通讯"]),
    ],
)
def test_language_and_salutation(html, text, member, present, absent):
    for part in (visible(html[member]), text[member]):
        for words in present:
            assert words in part
        for words in absent:
            assert words not in part


@pytest.mark.parametrize(
    ("member", "lang"),
    [("M1", "zh-CN"), ("M2", "zh-TW"), ("M3", "en")],  # the lang attribute drives fonts
)
def test_document_declares_language_and_charset(html, member, lang):
    assert f'<html lang="{lang}">' in html[member]
    assert '<meta charset="utf-8">' in html[member]


# --------------------------------------------------------------------------- content


def test_membership_summary_shows_tier_spend_and_visits(text):
    assert "会员等级：尊享会员" in text["M1"]
    assert "累计消费：¥52,300.50" in text["M1"]
    assert "消费次数：40 次" in text["M1"]


def test_scorecard_value_never_reaches_a_member(html, text):
    # M1's internal score is 92: it drops when a member complains, so it stays internal
    for member in ("M1", "M2", "M3"):
        for page in (visible(html[member]), text[member]):
            assert "92/100" not in page and "61/100" not in page
            assert not any(word in page for word in ("会员指数", "會員指數", "Member score"))


PROMISES = ("礼遇", "禮遇", "优惠", "優惠", "预留", "預留", "treat", "offer", "hold seats")


def test_no_offer_is_promised_when_none_is_configured(html, text):
    for member in html:
        for page in (visible(html[member]), text[member]):
            assert not any(word in page for word in PROMISES), member


OFFERS = {
    "birthday": {"key": {"zh-CN": "生日当月到会所消费可享八折。"}},
    "win_back": {"all": {"zh-TW": "出示本通訊可享迎賓茶點一份。", "en": "Show this for tea."}},
}


@pytest.fixture(scope="module")
def offered(holidays):
    config = ClubConfig.model_validate({"offers": OFFERS})
    shared = nl.NewsletterEdition.build(holidays, EVENTS, config, EDITION)
    found = nl.member_contexts(MEMBERS[["member_id"]], MEMBERS, SEGMENTS, BIRTHDAYS, EDITION,
                               config.offers)
    return {m.member_id: (visible(nl.render_member_html(shared, m)), nl.render_member_text(shared, m))
            for m in found}


@pytest.mark.parametrize(
    ("member", "shown", "not_shown"),
    [
        # key tier, birthday this month, zh-CN: the key tier's birthday offer
        ("M1", ["生日当月到会所消费可享八折。"], ["迎賓茶點"]),
        # Can't Lose Them in zh-TW: the win-back offer set for all tiers
        ("M2", ["出示本通訊可享迎賓茶點一份。"], ["八折"]),
        # lapsed, ordinary, zh-CN: win_back has no zh-CN text, so no sentence at all
        ("M5", [], ["八折", "迎賓茶點", "Show this for tea."]),
        # never purchased (welcome block): no welcome offer configured
        ("M3", [], ["Show this for tea.", "八折"]),
    ],
)
def test_offers_come_from_config_by_content_tier_and_language(offered, member, shown, not_shown):
    for page in offered[member]:
        for words in shown:
            assert words in page
        for words in not_shown:
            assert words not in page


def test_unknown_offer_key_names_the_key(tmp_path):
    from pipeline.config import ConfigError
    path = tmp_path / "club.yaml"
    path.write_text("offers:\n  birthday:\n    gold: {zh-CN: 八折}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="offers.birthday.gold"):
        load_config(path)


def test_member_extra_reaches_templates_from_the_sample_export(holidays, edition):
    # The bundled sample carries 会员等级, a column the contract does not name.
    from pipeline.lib.read.ingest import ingest_table
    from pipeline.lib.read.schema import TABLES
    from pipeline.lib.documents.templating import environment
    members = ingest_table(PATHS.sample_exports, TABLES["members"]).frame.head(50)
    found = nl.member_contexts(members[["member_id"]], members, SEGMENTS, BIRTHDAYS, EDITION)
    grades = [m.extra.get("会员等级", "") for m in found]
    assert any(grades), "the sample's 会员等级 did not reach the member context"
    template = environment().from_string('{{ member.extra["会员等级"] }}|{{ m.member_id }}')
    for member, grade in zip(found[:10], grades):
        context = edition.parts[(member.lang, "email")].context(member)
        assert template.render(context) == f"{grade}|{member.member_id}"


def test_never_purchased_gets_first_visit_block_instead_of_spend(text):
    assert "We look forward to your first visit" in text["M3"]
    assert "Total spend" not in text["M3"]


@pytest.mark.parametrize(
    ("member", "has_note"),
    [
        ("M1", True),  # birthday on 3 February, the edition month
        ("M2", False),  # birthday in March: next edition's news
        ("M4", False),  # no birthday on file
    ],
)
def test_birthday_note_only_in_birthday_month(text, html, member, has_note):
    notes = ("生日祝福", "生日祝福", "Happy birthday")
    assert any(n in text[member] for n in notes) is has_note
    assert any(n in html[member] for n in notes) is has_note


def test_milestone_birthday_names_the_age(text):
    assert "您的生日：2月3日\n今年您将迎来60岁生日" in text["M1"]


@pytest.mark.parametrize(
    ("segment", "stage", "tier", "block"),
    [
        ("Champions", "active", "key", "thank_you"),
        ("Loyal Customers", "active", "key", "thank_you"),  # key tier is thanked too
        ("Low Priority", "lapsing", "ordinary", "win_back"),
        ("Low Priority", "lapsed", "ordinary", "win_back"),
        ("At Risk", "active", "important", "win_back"),  # the segment alone is enough
        ("Can't Lose Them", "active", "important", "win_back"),
        ("Champions", "lapsing", "key", "win_back"),  # winning back comes before thanks
        (None, "prospect", "ordinary", "welcome"),  # never purchased
        ("Potential Loyalists", "new", "ordinary", "welcome"),
        ("Loyal Customers", "won_back", "important", "welcome_back"),
        ("Low Priority", "active", "ordinary", "regular"),
    ],
)
def test_content_block_by_segment_and_lifecycle(segment, stage, tier, block):
    assert nl.content_block(segment, stage, tier).tolist() == [block]


def test_win_back_invitation_for_lapsing_member_not_for_champion(html, text):
    assert "好久不見，我們想念您" in html["M2"] and "預約請致電" in text["M2"]
    assert "想念" not in html["M1"]
    assert "感谢有您" in html["M1"]


@pytest.mark.parametrize(
    ("member", "titles"),
    [
        # Champions: their own event; at most 3, the earliest first; nothing past
        ("M1", ["新春联欢会", "品鉴晚宴", INJECTED]),
        # Can't Lose Them: their event instead of the Champions' one
        ("M2", ["新春联欢会", "业主回家看看", INJECTED]),
        # never purchased: only events for everyone
        ("M3", ["新春联欢会", INJECTED, "春季踏青"]),
    ],
)
def test_events_filtered_by_audience(text, member, titles):
    shown = [t for t in ["年终答谢会", "新春联欢会", "品鉴晚宴", "业主回家看看", INJECTED, "春季踏青"]
             if t in text[member]]
    assert shown == titles


def test_closures_summarised_as_ranges(text):
    assert "春节：2月15日至2月23日 休息" in text["M1"]
    assert "2月14日（星期六）正常上班（调休）" in text["M1"]
    assert "2月28日（星期六）正常上班（调休）" in text["M1"]
    assert "Spring Festival: closed 15 February to 23 February" in text["M3"]
    assert "春節：2月15日至2月23日 休息" in text["M2"]


def test_closure_blocks_join_consecutive_days(holidays):
    blocks = nl.closure_blocks(holidays, date(2026, 2, 1), date(2026, 3, 31))
    assert blocks == [("春节", "Spring Festival", date(2026, 2, 15), date(2026, 2, 23))]


def test_festivals_of_edition_month_and_next(text):
    assert "2月16日 星期一  除夕" in text["M1"]
    assert "3月3日 星期二  元宵节" in text["M1"]  # next month
    assert "清明节" not in text["M1"]  # April: two months ahead


@pytest.mark.parametrize(
    ("member", "line"),
    [
        ("M1", "请直接回复本邮件并注明“退订”，或致电 +86 21 5888 0000"),
        ("M2", "請直接回覆本郵件並註明「取消訂閱」，或致電 +86 21 5888 0000"),
        ("M3", 'reply to this email with "unsubscribe" or call +86 21 5888 0000'),
    ],
)
def test_footer_says_how_to_unsubscribe(text, html, member, line):
    assert line in text[member]
    assert line.replace('"', "&#34;") in html[member]


# --------------------------------------------------------------------------- e-mail HTML


def test_no_external_resources(html):
    for page in html.values():
        references = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
        assert all(ref.startswith(("mailto:", "tel:")) for ref in references), references
        assert "http://" not in page and "https://" not in page
        assert not re.search(r"<(link|script|style|img|iframe|object)\b", page)
        assert "url(" not in page and "@import" not in page


def test_every_element_is_styled_inline(html):
    page = html["M1"]
    body = page[page.index("<body"):]
    tags = re.findall(r"<(?:body|div|table|td|p|h2|h3|a|span)\b[^>]*>", body)
    assert len(tags) > 40
    assert all('style="' in tag for tag in tags), [t for t in tags if 'style="' not in t]


def test_email_layout_for_mail_clients(html):
    page = html["M1"]
    assert "max-width:600px" in page
    assert 'role="presentation"' in page
    assert re.search(r'<div style="display:none;[^"]*">[^<]*2月会员通讯', page)  # preheader


def test_email_css_is_standard(html):
    # WeasyPrint rejects unknown properties (render_pdf turns warnings into errors), so
    # the e-mail can also be proofed as a PDF
    assert nl.render_pdf(html["M1"], "e-mail proof").pages >= 1


@pytest.mark.parametrize(
    ("member", "raw", "escaped"),
    [
        # markup in a name is text: escaped in HTML, as written in plain text
        ("M4", EVIL_NAME, "&lt;img src=&#34;file:///etc/passwd&#34;&gt;"),
        # template syntax in data is never evaluated (no 49)
        ("M5", INJECTED, INJECTED),
    ],
)
def test_untrusted_names_show_literally(html, text, member, raw, escaped):
    assert f"尊敬的{escaped}会员" in html[member]
    assert f"尊敬的{raw}会员" in text[member]
    assert "尊敬的49会员" not in html[member] + text[member]
    assert "<img" not in html[member]


def test_untrusted_event_text_shows_literally(html):
    assert f"{INJECTED}</p>" in html["M1"]  # the title, as written
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html["M1"]  # the location


def test_text_part_has_the_same_key_facts(html, text):
    facts = ["尊敬的王先生", "尊享会员", "¥52,300.50", "2月3日", "感谢有您", "除夕",
             "2月15日至2月23日", "品鉴晚宴", "+86 21 5888 0000", "退订"]
    for fact in facts:
        assert fact in visible(html["M1"]), fact
        assert fact in text["M1"], fact


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "member_id",
    ["../x", "a/b", "M 1", "a\x00b", "..", "-rf", "会员1"],  # traversal, separators, NUL, CJK
)
def test_safe_name_is_a_plain_file_name(member_id):
    name = nl.safe_name(member_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert name not in (".", "..")


def test_safe_names_stay_apart_and_keep_plain_ids():
    ids = ["../x", "a/b", "a_b", "M 1", "M_1", "M0000001"]
    names = nl.safe_names(ids)
    assert len(set(names)) == len(ids)
    assert names[2] == "a_b" and names[5] == "M0000001"  # already safe: unchanged


# --------------------------------------------------------------------------- writing


def plan(channels: dict[str, str], sizes: dict[str, int] | None = None) -> pd.DataFrame:
    rows = [
        (member, "newsletter", channel, f"202602-newsletter-{nl.safe_name(member)}", None,
         (sizes or {}).get(member, 1), 4)
        for member, channel in channels.items()
    ]
    return pd.DataFrame(rows, columns=["member_id", "kind", "channel", "piece_id", "household_id",
                                       "household_size", "priority"])


POST = {"M1": "post", "M2": "post", "M3": "post"}
PLAN = plan(POST | {"M4": "email", "M5": "email", "../evil": "email"}, sizes={"M1": 2})


@pytest.fixture(scope="module")
def written(tmp_path_factory, holidays):
    """An edition folder written with batches of 2 (so two batches, two processes)."""
    out = tmp_path_factory.mktemp("edition")
    config = ClubConfig(club=load_config().club, print=Print(batch_size=2))
    counts = nl.write_newsletters(PLAN, MEMBERS, SEGMENTS, BIRTHDAYS, holidays, EVENTS, config,
                                  EDITION, out)
    return out, counts


def test_write_counts_and_email_files(written):
    out, counts = written
    assert counts == {"html": 3, "text": 3, "print_pieces": 3, "print_pages": counts["print_pages"],
                      "batches": 2, "skipped": 0}
    assert counts["print_pages"] >= 3
    html_files = sorted(p.name for p in (out / "newsletters" / "html").iterdir())
    assert html_files[:2] == ["M4.html", "M5.html"]
    assert re.fullmatch(r"___evil_[0-9a-f]{8}\.html", html_files[2])  # inside html/, not above
    assert not (out / "evil.html").exists() and not (out / "newsletters" / "evil.html").exists()
    text_part = (out / "newsletters" / "text" / "M4.txt").read_text(encoding="utf-8")
    assert text_part.startswith("江畔花园业主俱乐部")


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_print_batches_in_postcode_order_with_window_address(written):
    out, _ = written
    first = pdf_text(out / "newsletters" / "print" / "batch-001.pdf")
    second = pdf_text(out / "newsletters" / "print" / "batch-002.pdf")
    # postcodes 100020 (M3), 200120 (M1), 518000 (M2): two per batch
    assert first.index("Jane Smith 收") < first.index("王府 收")  # M1's piece covers 2: household
    assert "陈美玲 收" in second and "陈美玲" not in first
    assert "100020" in first and "北京市朝阳区" in first  # a municipality is written once
    # post: how to stop the post (lines wrap in the narrow panel beside the window)
    assert "如不希望再收到纸质通讯，请致电+8621" in re.sub(r"\s+", "", first)
    assert "如不希望再收到紙本通訊，請致電+8621" in re.sub(r"\s+", "", second)


def test_print_pieces_start_on_their_own_page(written):
    out, _ = written
    batch = PdfReader(out / "newsletters" / "print" / "batch-001.pdf")
    pages = [page.extract_text() for page in batch.pages]
    assert "Jane Smith 收" in pages[0]
    starts = [i for i, page in enumerate(pages) if re.search(r" 收$", page, re.MULTILINE)]
    assert len(starts) == 2 and starts[0] == 0


def test_same_input_same_bytes(written, edition, contexts):
    out, _ = written
    member = contexts["M4"]
    html = nl.render_member_html(edition, member)
    assert html == nl.render_member_html(edition, member)
    assert (out / "newsletters" / "html" / "M4.html").read_text(encoding="utf-8") == html
    # batch-001 was rendered in a worker process; rendered again here, in this one
    pieces = nl.member_contexts(PLAN[PLAN["channel"] == "post"], MEMBERS, SEGMENTS, BIRTHDAYS, EDITION)
    document = nl.print_html(edition, nl.print_order(pieces)[:2])
    again = next(nl.render_batches([(document, "again", ())], workers=1))
    assert again.pdf == (out / "newsletters" / "print" / "batch-001.pdf").read_bytes()


def test_print_order_is_postcode_order(contexts):
    pieces = [contexts["M2"], contexts["M1"], contexts["M3"]]
    expected = [contexts["M3"], contexts["M1"], contexts["M2"]]  # 100020, 200120, 518000
    assert nl.print_order(pieces) == nl.print_order(pieces[::-1]) == expected


def test_a_birthday_note_keeps_its_date_on_a_line_of_its_own(edition):
    """Members whose birthdays fall on different days of the month read the same note
    but for the date line, so their print newsletters share one background."""
    frame = pd.concat([MEMBERS[MEMBERS["member_id"] == "M4"],
                       MEMBERS[MEMBERS["member_id"] == "M4"].assign(member_id="M6")])
    segments = pd.concat([SEGMENTS[SEGMENTS["member_id"] == "M4"],
                          SEGMENTS[SEGMENTS["member_id"] == "M4"].assign(member_id="M6")])
    birthdays = pd.DataFrame([("M4", date(2026, 2, 7), 45, False),
                              ("M6", date(2026, 2, 21), 38, False)],
                             columns=["member_id", "birthday", "age", "milestone"])
    members = nl.member_contexts(frame[["member_id"]], frame, segments, birthdays, EDITION)
    splits = nl.split_members(edition, members)
    assert splits[0].key == splits[1].key
    assert sorted(s.parts["birthday"] for s in splits) == ["您的生日：2月21日", "您的生日：2月7日"]
    text = nl.render_member_text(edition, members[0])
    assert "您的生日：2月" in text and "俱乐部全体同仁提前祝您生日快乐" in text
