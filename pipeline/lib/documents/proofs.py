"""Proofs: one sample of every template branch, for marketing to approve before printing.

CONTRACT §4 `proofs/proofs.pdf`. Fictional specimen members (样例 / Sample: never a
real member) are rendered through the real renderers and templates:

- newsletters (newsletter/print.html.j2 with body.html.j2 and parts.html.j2) per
  language, one per content block as `newsletter.content_block` picks it from segment,
  lifecycle stage and tier, with and without the birthday note (ordinary and
  milestone), single and household addressee; the edition's own festivals, closures and
  events, so the calendar and event lists are this month's;
- greeting letters (letters/<language>.html.j2) per language: birthday, milestone
  birthday, every festival key the letter templates word themselves plus one with the
  generic festival wording, membership and ownership anniversary, household addressee.

Each specimen page gets a proof banner stamped in the blank strip above its letterhead
(template, branch, language, page): it is a separate layer, never part of the letter.
The cover lists every branch and the page it is on. Everything is rendered with
`pdf.render_pdf` (asset-only fetcher, warnings are errors) and merged with pypdf into
one deterministic document.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
from markupsafe import escape
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject

from pipeline.config import ClubConfig, Offers
from pipeline.lib.documents import i18n
from pipeline.lib.delivery import emails as em
from pipeline.lib.documents import letters as lt
from pipeline.lib.documents import newsletter as nl
from pipeline.lib.delivery import sms as sms_lib
from pipeline.lib.rules.calendar import festival_key, fixed_festivals, lunar_festivals
from pipeline.lib.edition import first_day_of
from pipeline.lib.documents.pdf import Rendered, RenderError, css, render_pdf
from pipeline.lib.documents.templating import environment
from pipeline.lib.rules.contact import safe_text

LANGUAGE_NAMES = {"zh-CN": "简体中文", "zh-TW": "繁體中文", "en": "English"}
NEWSLETTER_TEMPLATE = "newsletter/print.html.j2"

# Festival keys the letter templates word themselves; `qixi` stands for every other
# festival or club date, which gets the generic festival wording.
WORDED_FESTIVALS = ("new-year", "new-years-eve", "spring", "lantern", "qingming", "labour-day",
                    "dragon-boat", "mid-autumn", "national-day", "double-ninth",
                    "winter-solstice")
GENERIC_FESTIVAL = "qixi"

# Fictional names, cycled through the specimens of each language: (name, salutation).
NAMES = {
    "zh-CN": [("张样例", "mr"), ("李样例", "ms"), ("赵样例", "neutral"), ("刘样例", "ms"),
              ("陈样例", "mr"), ("周样例", "ms")],
    "zh-TW": [("陳樣例", "mr"), ("林樣例", "ms"), ("黃樣例", "neutral"), ("吳樣例", "ms"),
              ("蔡樣例", "mr"), ("許樣例", "ms")],
    "en": [("Sam Sample", "mr"), ("Sally Sample", "ms"), ("Alex Specimen", "neutral"),
           ("Mia Sample", "ms"), ("Max Specimen", "mr"), ("Ann Example", "ms")],
}
HOUSEHOLD_NAMES = {"zh-CN": ("王样例", "mr"), "zh-TW": ("王樣例", "mr"), "en": ("Pat Sample", "mr")}
ADDRESS = {"province": "上海市", "city": "上海市", "district": "样例区",
           "address": "样例路 8 号（样稿地址）", "postal_code": "200000"}


@dataclass(frozen=True)
class NewsletterCase:
    key: str
    branch: str  # what the proof label and the cover say
    segment: str
    stage: str
    tier: str
    frequency: int
    monetary: float
    birthday: str = ""  # '' | 'ordinary' | 'milestone'
    household: bool = False


# One specimen per content block (as content_block picks it), the birthday note and
# the household addressee spread over them.
NEWSLETTER_CASES = (
    NewsletterCase("nl-welcome-prospect", "welcome block · prospect, never purchased "
                   "(first-visit invitation)", "", "prospect", "ordinary", 0, 0.0),
    NewsletterCase("nl-welcome-new", "welcome block · new member · birthday note",
                   "Potential Loyalists", "new", "ordinary", 2, 1_680.0, "ordinary"),
    NewsletterCase("nl-win-back", "win_back block · At Risk, lapsing · milestone "
                   "birthday note", "At Risk", "lapsing", "important", 9, 12_800.0,
                   "milestone"),
    NewsletterCase("nl-welcome-back", "welcome_back block · won back · household addressee",
                   "Loyal Customers", "won_back", "important", 14, 9_600.0, "", True),
    NewsletterCase("nl-thank-you", "thank_you block · Champions, key tier",
                   "Champions", "active", "key", 36, 52_800.0),
    NewsletterCase("nl-regular", "regular block · Low Priority, active",
                   "Low Priority", "active", "ordinary", 3, 860.0),
)


@dataclass(frozen=True)
class LetterCase:
    key: str
    branch: str
    kind: str
    festival: str = ""
    household: bool = False


LETTER_CASES = (
    LetterCase("lt-birthday", "birthday", "birthday"),
    LetterCase("lt-birthday-milestone", "birthday · milestone (70)", "birthday"),
    *(LetterCase(f"lt-festival-{key}", f"festival-{key}", f"festival-{key}", key)
      for key in WORDED_FESTIVALS),
    LetterCase(f"lt-festival-{GENERIC_FESTIVAL}", f"festival-{GENERIC_FESTIVAL} · generic "
               "festival wording (any other festival or club date)",
               f"festival-{GENERIC_FESTIVAL}", GENERIC_FESTIVAL),
    LetterCase("lt-anniversary-membership", "anniversary-membership · 5 years",
               "anniversary-membership"),
    LetterCase("lt-anniversary-ownership", "anniversary-ownership · 10 years",
               "anniversary-ownership"),
    LetterCase("lt-household", "household addressee · festival-mid-autumn",
               "festival-mid-autumn", "mid-autumn", household=True),
)


@dataclass(frozen=True)
class Branch:
    """One specimen: where it is and what its proof banner says."""

    key: str  # the branch, the same in every language (a row of the cover)
    document: str  # 'Newsletter' or 'Greeting letter'
    template: str
    lang: str
    branch: str
    anchor: str  # the specimen's element id in its rendered document
    first_page: int = 0  # in proofs.pdf, 1-based (the cover is page 1)
    pages: int = 1

    @property
    def label(self) -> str:
        return f"{self.template} · {self.branch}"


@dataclass(frozen=True)
class Proofs:
    pdf: bytes
    pages: int
    branches: list[Branch]


# --- specimens -------------------------------------------------------------------------


def _print_config(config: ClubConfig) -> ClubConfig:
    """The club's paper and window, printed one side: no blank backs between specimens."""
    return config.model_copy(update={"print": config.print.model_copy(update={"duplex": False})})


def _name(lang: str, number: int, household: bool) -> tuple[str, str]:
    return HOUSEHOLD_NAMES[lang] if household else NAMES[lang][number % len(NAMES[lang])]


def newsletter_members(edition: str, offers: Offers | None = None
                       ) -> list[tuple[NewsletterCase, nl.MemberContext]]:
    """The fictional newsletter readers, per language and case; each case's block is the
    one `newsletter.content_block` picks for its segment, stage and tier; offers are
    the club's (`offers.*`), so a proof shows exactly the promises members will read."""
    start = first_day_of(edition)
    offers = offers or Offers()
    found = []
    for lang in i18n.LANGUAGES:
        for number, case in enumerate(NEWSLETTER_CASES):
            block = nl.content_block(case.segment, case.stage, case.tier)[0]
            if not case.branch.startswith(block + " block"):
                raise ValueError(f"proof {case.key}: content_block picks {block!r}")
            name, title = _name(lang, number, case.household)
            age = 60 if case.birthday == "milestone" else 38
            found.append((case, nl.MemberContext(
                member_id=f"PROOF-{lang}-{case.key}", name=name, title=title, lang=lang,
                tier=case.tier, monetary=case.monetary,
                frequency=case.frequency, has_purchased=case.frequency > 0,
                audience=case.segment, block=block,
                birthday=start.replace(day=18) if case.birthday else None,
                age_text=i18n.ordinal(age) if lang == "en" else str(age),
                is_milestone=case.birthday == "milestone",
                postal_code=ADDRESS["postal_code"],
                region=ADDRESS["province"] + ADDRESS["district"], street=ADDRESS["address"],
                household_size=2 if case.household else 1,
                piece_id=f"proof-{lang}-{case.key}",
                birthday_offer=offers.text("birthday", case.tier, lang) if case.birthday else "",
                block_offer=offers.text(block, case.tier, lang),
            )))
    return found


def festival_dates(edition: str) -> dict[str, tuple[date, str, str]]:
    """festival key -> (date, name, name_en): its next date from the edition month on."""
    start = first_day_of(edition)
    found: dict[str, tuple[date, str, str]] = {}
    for year in (start.year, start.year + 1):
        for day, name, name_en in sorted(lunar_festivals(year) + fixed_festivals(year)):
            key = festival_key(name, name_en)
            if day >= start and key not in found:
                found[key] = (day, name, name_en)
    return found


def letter_pieces(edition: str) -> pd.DataFrame:
    """The fictional greeting letters (letters.PIECE_COLUMNS), per language and case."""
    start = first_day_of(edition)
    festivals = festival_dates(edition)
    rows = []
    for lang in i18n.LANGUAGES:
        for number, case in enumerate(LETTER_CASES):
            name, title = _name(lang, number, case.household)
            on = pd.Timestamp(start.replace(day=12))
            row = dict.fromkeys(lt.PIECE_COLUMNS)
            row |= ADDRESS | {
                "piece_id": f"PROOF-{lang}-{case.key}", "member_id": f"PROOF-{lang}-{case.key}",
                "household_id": "", "household_size": 2 if case.household else 1,
                "kind": case.kind, "folder": lt.letter_folder(case.kind), "language": lang,
                "name": name, "salutation": title, "occasion_date": on,
            }
            if case.kind == "birthday":
                milestone = "milestone" in case.branch
                row |= {"age": 70 if milestone else 41, "milestone": milestone}
            elif case.kind.startswith("anniversary-"):
                years = 5 if case.kind == "anniversary-membership" else 10
                row |= {"years": years, "since_date": on - pd.DateOffset(years=years)}
            else:
                day, festival_name, festival_name_en = festivals[case.festival]
                row |= {"occasion_date": pd.Timestamp(day), "festival_key": case.festival,
                        "festival_name": festival_name, "festival_name_en": festival_name_en}
            rows.append(row)
    return pd.DataFrame(rows, columns=list(lt.PIECE_COLUMNS))


# --- rendering -------------------------------------------------------------------------


def _render_newsletters(holidays, events, config, edition) -> tuple[Rendered, list[Branch]]:
    specimens = newsletter_members(edition, config.offers)
    shared = nl.NewsletterEdition.build(holidays, events, config, edition,
                                        audiences={m.audience for _, m in specimens})
    members = [m for _, m in specimens]
    anchors = tuple(nl._piece_id(m) for m in members)
    rendered = render_pdf(nl.print_html(shared, members), "proofs: newsletters", anchors)
    branches = [
        Branch(case.key, "Newsletter", NEWSLETTER_TEMPLATE, m.lang, case.branch, anchor)
        for (case, m), anchor in zip(specimens, anchors)
    ]
    return rendered, branches


def _render_letters(config, edition) -> tuple[Rendered, list[Branch]]:
    pieces = letter_pieces(edition)
    lt.check_glyphs(pieces)
    batch = lt.Batch("proofs", 1, pieces)
    rendered, _, _ = lt.render_batch(batch, config, edition)
    cases = [case for _ in i18n.LANGUAGES for case in LETTER_CASES]
    branches = [
        Branch(case.key, "Greeting letter", f"letters/{lang}.html.j2", lang, case.branch,
               "piece-" + safe_text(piece_id))
        for case, lang, piece_id in zip(cases, pieces["language"], pieces["piece_id"])
    ]
    return rendered, branches


def _personal_cases(pieces: pd.DataFrame) -> pd.DataFrame:
    """The specimens e-mail and SMS have: every letter case but the household (a
    household piece goes by post only)."""
    return pieces[pieces["household_size"] == 1].reset_index(drop=True)


def _body(html: str) -> str:
    """What is between <body ...> and </body> of a rendered e-mail."""
    inner = html.split("<body", 1)[1]
    return inner[inner.index(">") + 1:].rsplit("</body>", 1)[0]


# The e-mails' tables laid out by the fixed algorithm: their columns have the widths the
# e-mail sets (one column, or cells of given widths), so pages come out the same to the
# pixel as with the automatic one, which measures every cell's content first and took
# half of the e-mail proofs' time.
_EMAIL_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>E-mail proofs</title>
<style>@page {{ size: {width:g}mm {height:g}mm; margin: 14mm 8mm 8mm 8mm; }}
body {{ margin: 0; }} section {{ break-before: page; }} section:first-child {{ break-before: auto; }}
table {{ max-width: 100%; table-layout: fixed; }}
p.head {{ margin: 0 0 2mm; font-family: "Noto Sans CJK SC", sans-serif; font-size: 8pt;
          color: #55625f; }}</style></head><body>{sections}</body></html>"""


def email_key(letter_key: str) -> str:
    """The e-mail specimen of a letter case: lt-birthday -> em-birthday."""
    return "em-" + letter_key.removeprefix("lt-")


def _render_emails(config, edition) -> tuple[Rendered, list[Branch]]:
    """Every greeting e-mail branch per language, as the member's mail program shows
    the HTML part (the letters' words in the e-mail frame)."""
    pieces = _personal_cases(letter_pieces(edition))
    greetings = em.Greetings(config)
    cases = [case for _ in i18n.LANGUAGES for case in LETTER_CASES if not case.household]
    sections, branches = [], []
    for case, piece in zip(cases, pieces.to_dict("records")):
        view = lt.piece_view(piece)
        subject, html, _ = greetings.render(view)
        anchor = "email-" + safe_text(view["piece_id"])
        head = escape(f"To: {view['name']}  ·  Subject: {subject}")  # as a mail program shows it
        sections.append(f'<section id="{anchor}" lang="{view["lang"]}"><p class="head">{head}</p>'
                        f'{_body(html)}</section>')
        branches.append(Branch(email_key(case.key), "Greeting e-mail", "email/greeting.html.j2",
                               view["lang"], case.branch, anchor))
    width, height = lt.PAPER_MM[config.print.paper]
    html = _EMAIL_HTML.format(width=width, height=height, sections="".join(sections))
    rendered = render_pdf(html, "proofs: greeting e-mails", tuple(b.anchor for b in branches))
    return rendered, branches


_SMS_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>SMS proofs</title>
<style>
@page { size: {{ width }}mm {{ height }}mm; margin: 16mm 12mm 12mm 12mm; }
html { font-family: "Noto Sans CJK SC", sans-serif; font-size: 8.5pt; color: #23302f; }
section { break-before: page; } section:first-child { break-before: auto; }
section:lang(zh-TW) { font-family: "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif; }
h1 { font-size: 12pt; color: #1d5b79; margin: 0 0 2mm; }
p.note { margin: 0 0 3mm; color: #55625f; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; background: #1d5b79; color: #fff; padding: 1mm 1.5mm; }
td { padding: 1mm 1.5mm; border-bottom: 0.3pt solid #d5dcda; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; } td.kind { white-space: nowrap; color: #1d5b79; }
tr.over td { color: #a4262c; }
</style></head><body>
{% for block in blocks %}
<section id="{{ block.anchor }}" lang="{{ block.lang }}">
<h1>SMS · {{ block.lang }} · 短信文案</h1>
<p class="note">Every wording for a specimen member ({{ block.name }}), in the order tried:
the full text, the short one when the full one is over the budget of {{ budget }}
segment(s), and the short one without the name when even that is over. Characters and
segments by 3GPP TS 23.038/23.040 (UCS-2: 70 in one message, 67 per segment; GSM-7: 160,
153). Red: over the budget, never sent as is.</p>
<table><thead><tr><th>Kind</th><th>Wording</th><th>Text</th><th>Chars</th><th>Segments</th></tr></thead>
<tbody>
{% for row in block.rows %}
<tr{% if row.over %} class="over"{% endif %}><td class="kind">{{ row.kind }}</td><td>{{ row.wording }}</td>
<td>{{ row.text }}</td><td class="n">{{ row.characters }} {{ row.encoding }}</td><td class="n">{{ row.segments }}</td></tr>
{% endfor %}
</tbody></table>
</section>
{% endfor %}
</body></html>"""


def _render_sms(config, edition) -> tuple[Rendered, list[Branch]]:
    """Every SMS wording per language with its character and segment count."""
    pieces = _personal_cases(letter_pieces(edition))
    blocks, branches = [], []
    for lang in i18n.LANGUAGES:
        rows = []
        for piece in pieces[pieces["language"] == lang].to_dict("records"):
            view = lt.piece_view(piece)
            kind = sms_lib.wording_key(view["kind"], view["is_milestone"], lang)
            for text in sms_lib.wordings(view, config):
                rows.append({"kind": kind, "wording": text.wording, "text": text.text,
                             "characters": text.characters, "encoding": text.encoding,
                             "segments": text.segments,
                             "over": text.segments > config.sms.max_segments})
        anchor = f"sms-PROOF-{lang}"
        blocks.append({"anchor": anchor, "lang": lang, "name": NAMES[lang][0][0], "rows": rows})
        branches.append(Branch("sms", "SMS", "sms/strings.yaml", lang,
                               "every SMS wording · characters and segments", anchor))
    width, height = lt.PAPER_MM[config.print.paper]
    html = environment().from_string(_SMS_HTML).render(
        blocks=blocks, budget=config.sms.max_segments, width=f"{width:g}", height=f"{height:g}")
    return render_pdf(html, "proofs: SMS wordings", tuple(b.anchor for b in branches)), branches


def _placed(branches: list[Branch], rendered: Rendered, offset: int) -> list[Branch]:
    """Branches with their first page in proofs.pdf and their page count."""
    firsts = [rendered.anchor_pages[b.anchor] for b in branches]
    ends = [*firsts[1:], rendered.pages + 1]
    return [replace(b, first_page=first + offset, pages=end - first)
            for b, first, end in zip(branches, firsts, ends)]


# Per paper: the cover's root font size, the banner's height (it must stay inside the
# blank strip above the letterhead: 9 mm on A5 letters) and its font size.
SIZES = {"A4": {"root_pt": 10, "band_mm": 7, "band_pt": 7},
         "Letter": {"root_pt": 9.4, "band_mm": 7, "band_pt": 7},
         "A5": {"root_pt": 7, "band_mm": 6, "band_pt": 5.5}}


def _paper_css(config: ClubConfig) -> str:
    width, height = lt.PAPER_MM[config.print.paper]
    return f"@page {{ size: {width:g}mm {height:g}mm; margin: 0; }}"


# The cover and the banners: the proofs' own pages, not a template members ever get.
_PROOF_HTML = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{{ title }}</title>
<style>
html { font-family: "Noto Sans CJK SC", sans-serif; color: #23302f; font-size: {{ size.root_pt }}pt; }
body { margin: 0; }
.stamp { height: 100vh; break-after: page; position: relative; }
.stamp:last-child { break-after: auto; }
.band { position: absolute; top: 0; left: 0; right: 0; height: {{ size.band_mm }}mm; padding: 0 6mm;
        background: #1d5b79; color: #fff; font-size: {{ size.band_pt }}pt;
        line-height: {{ size.band_mm }}mm; white-space: nowrap; overflow: hidden; }
.band .tag { font-weight: 700; letter-spacing: 0.12em; background: #f2c14e; color: #1d2b2a;
             padding: 0.6mm 2mm; margin-right: 2.5mm; }
.band .page { float: right; margin-left: 3mm; }
.band .lang { float: right; font-weight: 700; }
/* The cover in rem: one page on every paper size (club.yaml print.paper). */
.cover { padding: 3.6rem 4.5rem 2.4rem; }
.cover .kicker { font-size: 0.8rem; letter-spacing: 0.2em; color: #1d5b79; font-weight: 700; }
.cover h1 { font-family: "Noto Serif CJK SC", serif; font-size: 2.2rem; margin: 0.57rem 0 0.28rem;
            color: #1d2b2a; }
.cover .sub { font-size: 1rem; color: #55625f; margin: 0 0 1.4rem; }
.cover .note { font-size: 0.8rem; line-height: 1.55; color: #3d4947; margin: 0 0 1.4rem;
               border-left: 0.28rem solid #f2c14e; padding: 0.28rem 0 0.28rem 0.85rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.76rem; }
th { text-align: left; font-weight: 700; color: #fff; background: #1d5b79; padding: 0.4rem 0.57rem; }
td { padding: 0.2rem 0.57rem; border-bottom: 0.3pt solid #d5dcda; vertical-align: top; }
tr.group td { background: #eef3f2; font-weight: 700; color: #1d5b79; padding-top: 0.45rem; }
td.page, th.page { text-align: center; width: 4rem; }
td.page { font-weight: 700; font-size: 0.84rem; }
.template { color: #6a7674; font-family: monospace; font-size: 0.68rem; white-space: nowrap; }
.sign { margin-top: 1.4rem; font-size: 0.8rem; color: #3d4947; }
.sign span { display: inline-block; width: 16.4rem; border-top: 0.4pt solid #55625f;
             padding-top: 0.28rem; margin-right: 2.3rem; }
</style></head>
<body>
{% if cover %}
<section class="stamp cover">
<p class="kicker">PROOFS · 样稿 · 樣稿</p>
<h1>{{ club_zh }} · {{ edition }} 样稿</h1>
<p class="sub">{{ club_en }} · proofs of the {{ edition }} edition, every template branch in every language</p>
<p class="note">每一页是一个模板分支的样稿，收件人均为虚构的样例会员（样例 / Sample），并非真实会员资料。
页顶蓝色横条为审稿标注，不会印在寄出的信件上。请逐页审阅，确认后再付印。<br>
Each page is one template branch rendered for a fictional specimen member. The blue band
at the top is the proof label and is not printed on mailed pieces. Newsletters use the
edition's own calendar and events; e-mail newsletters carry the same words and blocks.</p>
<table>
<thead><tr><th>Branch</th><th>Template</th>{% for lang in languages %}<th class="page">{{ lang }}</th>{% endfor %}</tr></thead>
<tbody>
{% for group in groups %}
<tr class="group"><td colspan="{{ 2 + languages | length }}">{{ group.name }}</td></tr>
{% for row in group.rows %}
<tr><td>{{ row.branch }}</td><td class="template">{{ row.template }}</td>
{% for lang in languages %}<td class="page">{{ row.pages[lang] }}</td>{% endfor %}</tr>
{% endfor %}
{% endfor %}
</tbody>
</table>
<p class="sign"><span>审阅人 Reviewed by</span><span>日期 Date</span></p>
</section>
{% endif %}
{% for b in banners %}
<section class="stamp"><div class="band"><span class="tag">PROOF 样稿</span>{{ b.label }}
<span class="page">p. {{ b.page }} / {{ total }}</span><span class="lang">{{ b.lang }} · {{ b.lang_name }}</span></div></section>
{% endfor %}
</body>
</html>
"""


def _proof_html(**context) -> str:
    return environment().from_string(_PROOF_HTML).render(**context)


EMAIL_COVER_ROW = "every greeting-letter branch above but the household, as an e-mail"


def _cover_groups(branches: list[Branch]) -> list[dict]:
    """Rows of the cover: one per branch with its page per language; the greeting
    e-mails repeat the letters' branches, so they are one row of page ranges (the
    cover stays one page)."""
    groups: dict[str, dict[str, dict]] = {}
    for b in branches:
        rows = groups.setdefault(b.document, {})
        template = b.template.replace(b.lang, "<lang>")  # letters/<lang>.html.j2
        key, branch = (("em", EMAIL_COVER_ROW) if b.document == "Greeting e-mail"
                       else (b.key, b.branch))
        row = rows.setdefault(key, {"branch": branch, "template": template, "pages": {}})
        first, last = b.first_page, b.first_page + b.pages - 1
        if b.lang in row["pages"]:  # a range: from the first specimen to the last page
            first = int(str(row["pages"][b.lang]).split("–")[0])
        row["pages"][b.lang] = first if first == last else f"{first}–{last}"
    return [{"name": name, "rows": list(rows.values())} for name, rows in groups.items()]


def build_proofs(holidays: pd.DataFrame, events: pd.DataFrame, config: ClubConfig,
                 edition: str) -> Proofs:
    """proofs.pdf for `edition` (YYYY-MM): the cover, then every newsletter and letter
    specimen with its proof banner. `holidays` and `events` are the edition's tables."""
    config = _print_config(config)
    news, news_branches = _render_newsletters(holidays, events, config, edition)
    mail, mail_branches = _render_letters(config, edition)
    emails, email_branches = _render_emails(config, edition)
    texts, sms_branches = _render_sms(config, edition)
    documents = [(news, news_branches), (mail, mail_branches), (emails, email_branches),
                 (texts, sms_branches)]
    branches, offset = [], 1
    for rendered, found in documents:
        branches += _placed(found, rendered, offset)
        offset += rendered.pages
    total = offset
    banners = []
    for b in branches:
        for page in range(b.first_page, b.first_page + b.pages):
            suffix = "" if page == b.first_page else " (continued)"
            banners.append({"label": b.label + suffix, "lang": b.lang,
                            "lang_name": LANGUAGE_NAMES[b.lang], "page": page})
    paper = [css(_paper_css(config))]
    stamps = render_pdf(
        _proof_html(title=f"Proofs {edition}", cover=True, edition=edition,
                    club_zh=config.club.name_zh, club_en=config.club.name,
                    languages=i18n.LANGUAGES, groups=_cover_groups(branches),
                    banners=banners, total=total, size=SIZES[config.print.paper]),
        "proofs: cover and labels", stylesheets=paper)
    if stamps.pages != total:
        raise RenderError(f"proofs: the cover took {stamps.pages - len(banners)} pages, not one")
    return Proofs(_merge(stamps.pdf, [d.pdf for d, _ in documents], branches), total, branches)


def _merge(stamps: bytes, documents: list[bytes], branches: list[Branch]) -> bytes:
    """The cover, then each document's pages with its banner stamped on top; an outline
    entry per specimen."""
    labels = PdfReader(io.BytesIO(stamps))
    writer = PdfWriter()
    writer.add_page(labels.pages[0])
    for document in documents:
        for page in PdfReader(io.BytesIO(document)).pages:
            banner = labels.pages[len(writer.pages)]
            added = writer.add_page(page)
            _own_resources(added)
            added.merge_page(banner)
    for b in branches:
        writer.add_outline_item(title=f"{b.lang} · {b.label}", page_number=b.first_page - 1)
    writer.add_metadata({"/Title": "Proofs", "/Producer": "ClubPress"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _own_resources(page) -> None:
    """Give the page its own resource dictionaries (sharing the fonts and images in
    them). WeasyPrint shares one between all pages of a document, and stamping a banner
    adds the banner's fonts to it: shared, it would grow with every page stamped."""
    shared = page["/Resources"].get_object()
    page[NameObject("/Resources")] = DictionaryObject({
        key: DictionaryObject(value.get_object())
        if isinstance(value.get_object(), DictionaryObject) else value
        for key, value in shared.items()
    })
