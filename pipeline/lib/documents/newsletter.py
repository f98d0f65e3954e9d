"""The personalised newsletter, one per member and edition (CONTRACT §4 `newsletters/`).

Every planned newsletter piece (contact plan rows of kind `newsletter`) becomes

- channel `email`: `newsletters/html/<safe id>.html` (every style inline, tables for
  layout, no external resource of any kind) and `newsletters/text/<safe id>.txt`, the
  plain-text part with the same content;
- channel `post`: a print piece in `newsletters/print/batch-NNN.pdf` (A4 by default,
  the address in the envelope window, pieces in postcode order, at most
  `print.batch_size` pieces per file, one HTML document per batch).

What a member reads, in their language (zh-CN, zh-TW, en; words in
templates/newsletter/strings.yaml):

- the salutation (`i18n.salutation`) and their membership summary: tier, total spend
  (`monetary`, the RFM sum) and visits (`frequency`); a member who never purchased gets
  a first-visit invitation instead. The scorecard value is internal (it drops when a
  member complains) and never reaches a member;
- a birthday note when their birthday (`upcoming_birthdays`) falls in the edition month;
- one content block chosen by `content_block` (welcome, win-back with an invitation,
  welcome back, thank you, or member services);
- an offer after the birthday note and after the block only where `offers.*` in
  club.yaml sets one for that content, the member's tier and language;
- `member.extra["header"]`: the members export's own columns (会员等级, ...), for
  templates a club adapts;
- festivals of the edition month and the next, the service centre's closures over the
  same two months (statutory days off as date ranges) and make-up workdays;
- at most `MAX_EVENTS` club events for their audience ('all' or their RFM segment),
  dated in the edition month or later;
- the club's contact details and how to stop receiving the newsletter.

Speed: everything members share (masthead, calendar, footer, content blocks, events per
audience) is rendered once per edition, language and channel by `NewsletterEdition`;
per member there is one small `MemberContext` and one template render per part.

Safety: names, event titles and descriptions come from CRM exports and are only ever
autoescaped template values (never marked safe); the plain-text part is not HTML and
is written unescaped. File names come from `safe_name` (contact.safe_part).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import yaml
from markupsafe import Markup

from pipeline.config import ClubConfig, Offers
from pipeline.lib.documents import i18n, templating
from pipeline.lib.rules.contact import safe_part
from pipeline.lib.edition import first_day_of, first_of_next_month
from pipeline.lib.documents.pdf import Rendered, join_pdfs, render_pdf
from pipeline.lib.progress import rate, report
from pipeline.lib.documents.shards import slice_file
from pipeline.lib.documents.stamp import (
    WHOLE, Background, Kind, Split, Stamp, lay_out_backgrounds, split_piece, stamp_pieces)
from pipeline.lib.documents.templating import environment
from pipeline.settings import PATHS

KIND = "newsletter"
MAX_EVENTS = 3
FOLDER = "newsletter"  # below templates/
BLOCKS = ("welcome", "win_back", "welcome_back", "thank_you", "regular")
WELCOME_STAGES = ("new", "prospect")
WIN_BACK_STAGES = ("lapsing", "lapsed")
WIN_BACK_SEGMENTS = ("At Risk", "Can't Lose Them")
THANK_YOU_SEGMENTS = ("Champions",)
THANK_YOU_TIERS = ("key",)
TIERS = ("key", "important", "ordinary")
ALL = "all"  # the events audience every member sees

# Holiday names in Traditional characters for zh-TW readers: the characters of the
# calendar's festival and holiday names (lib/rules/calendar.py) that differ.
_TRADITIONAL = str.maketrans(
    "节阳劳动国庆妇亲圣诞调儿师灯会员乐业岁寿礼",
    "節陽勞動國慶婦親聖誕調兒師燈會員樂業歲壽禮",
)


# --------------------------------------------------------------------------- names


def safe_name(member_id: str) -> str:
    """A file-name stem for `member_id`: only [A-Za-z0-9_-]; a changed id gets a short
    hash of the original appended, so '../x', 'a/b' and 'a_b' stay apart."""
    return safe_names([member_id])[0]


def safe_names(member_ids: Iterable[str]) -> list[str]:
    """`safe_name` for many ids at once (vectorised, see contact.safe_part)."""
    return safe_part(pd.Series(list(member_ids), dtype="string")).tolist()


def content_block(rfm_segment, lifecycle_stage, tier) -> np.ndarray:
    """The content block per member, first match wins: welcome (new, prospect),
    win_back (lapsing, lapsed, At Risk, Can't Lose Them), welcome_back (won_back),
    thank_you (Champions or key tier), regular. Accepts scalars or arrays."""
    segment = pd.Series(np.atleast_1d(rfm_segment), dtype="string").fillna("")
    stage = pd.Series(np.atleast_1d(lifecycle_stage), dtype="string").fillna("")
    tiers = pd.Series(np.atleast_1d(tier), dtype="string").fillna("")
    conditions = [
        stage.isin(WELCOME_STAGES),
        stage.isin(WIN_BACK_STAGES) | segment.isin(WIN_BACK_SEGMENTS),
        stage.eq("won_back"),
        segment.isin(THANK_YOU_SEGMENTS) | tiers.isin(THANK_YOU_TIERS),
    ]
    chosen = np.select([c.to_numpy(dtype=bool) for c in conditions], list(BLOCKS[:4]), BLOCKS[4])
    return chosen.astype(object)


# --------------------------------------------------------------------------- members


@dataclass(frozen=True, slots=True)
class MemberContext:
    """What one member's newsletter needs beyond the shared parts."""

    member_id: str
    name: str
    title: str  # salutation: mr | ms | neutral
    lang: str
    tier: str
    monetary: float
    frequency: int
    has_purchased: bool
    audience: str  # RFM segment ('' when never purchased): which events they see
    block: str  # one of BLOCKS
    birthday: date | None  # only when in the edition month
    age_text: str  # '60' / '60th', for a milestone birthday
    is_milestone: bool
    postal_code: str = ""
    region: str = ""  # province, city and district, in Chinese address order
    street: str = ""
    household_size: int = 1
    piece_id: str = ""
    birthday_offer: str = ""  # offers.birthday for the member's tier and language
    block_offer: str = ""  # offers.<block> likewise
    extra: dict = field(default_factory=dict)  # member.extra["会员等级"]: other export columns


def _text(values: pd.Series) -> list[str]:
    return values.astype("string").fillna("").tolist()


def _region(frame: pd.DataFrame) -> list[str]:
    """省 市 区 joined; a municipality's city (上海市 上海市) is written once."""
    province, city, district = (_text(frame[c]) for c in ("province", "city", "district"))
    return [p + ("" if c == p else c) + d for p, c, d in zip(province, city, district)]


def _birthdays_in(birthdays: pd.DataFrame, start: date) -> pd.DataFrame:
    days = pd.to_datetime(birthdays["birthday"])
    inside = (days.dt.year == start.year) & (days.dt.month == start.month)
    picked = birthdays.loc[inside, ["member_id", "birthday", "age", "milestone"]].copy()
    picked["birthday"] = days[inside].dt.date
    return picked.drop_duplicates("member_id")


def _joined(pieces, members, segments, birthdays, start) -> pd.DataFrame:
    people = members.drop(columns=[c for c in ("household_size", "piece_id") if c in members])
    frame = pieces.merge(people, on="member_id", how="left", validate="many_to_one")
    frame = frame.merge(segments, on="member_id", how="left", validate="many_to_one")
    return frame.merge(_birthdays_in(birthdays, start), on="member_id", how="left")


def member_contexts(
    pieces: pd.DataFrame,
    members: pd.DataFrame,
    segments: pd.DataFrame,
    birthdays: pd.DataFrame,
    edition: str,
    offers: Offers | None = None,
) -> list[MemberContext]:
    """One `MemberContext` per row of `pieces` (member_id, optional piece_id and
    household_size), in that order, from staged members, segments and birthdays;
    `offers` (club.yaml) fills the offer sentences (none when None)."""
    frame = _joined(pieces[["member_id"] + [c for c in ("piece_id", "household_size") if c in pieces]],
                    members, segments, birthdays, first_day_of(edition))
    n = len(frame)
    frequency = frame["frequency"].astype("Float64").fillna(0).astype(int).tolist()
    segment = frame["rfm_segment"].astype("string")
    langs = [i18n.language(v) for v in _text(frame["language"])]
    ages = frame["age"].astype("Float64").fillna(0).astype(int).tolist()
    birthday = frame["birthday"].astype(object).where(frame["birthday"].notna(), None).tolist()
    tiers = [t if t in TIERS else "ordinary" for t in _text(frame["tier"])]
    blocks = content_block(segment, frame["lifecycle_stage"], frame["tier"]).tolist()
    offers = offers or Offers()
    columns = dict(
        member_id=_text(frame["member_id"]),
        name=_text(frame["name"]),
        title=_text(frame["salutation"]),
        lang=langs,
        tier=tiers,
        monetary=frame["monetary"].astype("Float64").fillna(0).astype(float).tolist(),
        frequency=frequency,
        has_purchased=[f > 0 for f in frequency],
        audience=_text(segment),
        block=blocks,
        birthday=birthday,
        age_text=[i18n.ordinal(a) if lang == "en" else str(a) for a, lang in zip(ages, langs)],
        is_milestone=frame["milestone"].astype("boolean").fillna(False).astype(bool).tolist(),
        postal_code=_text(frame["postal_code"]),
        region=_region(frame),
        street=_text(frame["address"]),
        household_size=(frame["household_size"].fillna(1).astype(int).tolist()
                        if "household_size" in frame else [1] * n),
        piece_id=_text(frame["piece_id"]) if "piece_id" in frame else [""] * n,
        birthday_offer=[offers.text("birthday", t, lang) if b is not None else ""
                        for t, lang, b in zip(tiers, langs, birthday)],
        block_offer=[offers.text(b, t, lang) for b, t, lang in zip(blocks, tiers, langs)],
        extra=extra_values(frame["extra"] if "extra" in frame else pd.Series([None] * n)),
    )
    return [MemberContext(*row) for row in zip(*columns.values())]


def extra_values(extra: pd.Series) -> list[dict]:
    """The staged `extra` JSON (the export's own member columns) as one dict per row,
    for `member.extra["header"]`; each distinct text is parsed once."""
    texts = extra.astype("string").fillna("{}")
    parsed = {text: json.loads(text) for text in texts.unique()}
    return [parsed[text] for text in texts]


# --------------------------------------------------------------------------- shared parts


@lru_cache(maxsize=1)
def strings() -> dict[str, dict]:
    """templates/newsletter/strings.yaml, checked: every language has every key."""
    return i18n.language_strings(FOLDER)


@lru_cache(maxsize=1)
def _email_style_file() -> dict:
    return yaml.safe_load((PATHS.templates / FOLDER / "email-styles.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def styles(lang: str, mode: str) -> dict[str, Markup]:
    """Style key -> attribute: `style="..."` for e-mail, `class="key"` for print."""
    document = _email_style_file()
    if mode == "print":
        return {key: Markup(f'class="{key}"') for key in document["styles"]}
    fonts = document["fonts"][lang]
    inline = {key: value.format(**fonts) for key, value in document["styles"].items()}
    if any('"' in value for value in inline.values()):
        raise ValueError("email-styles.yaml: use single quotes inside a style")
    return {key: Markup(f'style="{value}"') for key, value in inline.items()}


def _dated(holidays: pd.DataFrame) -> pd.DataFrame:
    frame = holidays.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame.sort_values(["date", "name"], kind="stable")


def _holiday_name(name: str, name_en: str, lang: str) -> str:
    """春节 / 春節 / Spring Festival."""
    if lang == "en":
        return str(name_en)
    return str(name).translate(_TRADITIONAL) if lang == "zh-TW" else str(name)


def _day_label(day: date, lang: str, words: dict) -> str:
    """12月22日 星期二 / Tuesday 22 December."""
    weekday = words["weekdays"][day.weekday()]
    if lang == "en":
        return f"{weekday} {i18n.format_month_day(day, lang)}"
    return f"{i18n.format_month_day(day, lang)} {weekday}"


def closure_blocks(holidays: pd.DataFrame, first: date, last: date) -> list[tuple[str, str, date, date]]:
    """Runs of consecutive statutory days off with one name, overlapping [first, last]:
    (name, name_en, start, end)."""
    off = _dated(holidays)
    off = off[off["kind"] == "statutory_off"]
    runs: list[list] = []
    for row in off.itertuples(index=False):
        if runs and runs[-1][0] == row.name and row.date - runs[-1][3] == timedelta(days=1):
            runs[-1][3] = row.date
        else:
            runs.append([row.name, row.name_en, row.date, row.date])
    return [tuple(run) for run in runs if run[2] <= last and run[3] >= first]


def _calendar_lines(holidays: pd.DataFrame, first: date, last: date, lang: str) -> dict:
    """Festivals, closures and make-up workdays of [first, last] as display lines."""
    words = strings()[lang]
    frame = _dated(holidays)
    inside = frame[(frame["date"] >= first) & (frame["date"] <= last)]
    festivals = [
        {"when": _day_label(row.date, lang, words), "name": _holiday_name(row.name, row.name_en, lang)}
        for row in inside[inside["kind"].isin(["festival", "custom"])].itertuples(index=False)
    ]
    closures = []
    for name, name_en, start, end in closure_blocks(holidays, first, last):
        template = words["closure"] if end > start else words["closure_day"]
        closures.append(template.format(name=_holiday_name(name, name_en, lang),
                                        start=i18n.format_month_day(start, lang),
                                        end=i18n.format_month_day(end, lang)))
    makeups = [
        words["makeup"].format(date=i18n.format_month_day(row.date, lang),
                               weekday=words["weekdays"][row.date.weekday()])
        for row in inside[inside["kind"] == "make_up_workday"].itertuples(index=False)
    ]
    return {"festivals": festivals, "closures": closures, "makeups": makeups}


def events_by_audience(
    events: pd.DataFrame, start: date, audiences: Iterable[str]
) -> dict[str, pd.DataFrame]:
    """Per audience ('' = no segment): the first MAX_EVENTS events dated on or after
    `start` whose audience is 'all' or that audience, by date then event_id."""
    frame = events.copy()
    frame["event_date"] = pd.to_datetime(frame["event_date"]).dt.date
    frame = frame[frame["event_date"] >= start].sort_values(["event_date", "event_id"], kind="stable")
    audience = frame["audience"].astype("string").fillna(ALL).str.strip()
    return {
        who: frame[(audience == ALL) | (audience == who)].head(MAX_EVENTS)
        for who in dict.fromkeys(["", *audiences])
    }


def _event_items(frame: pd.DataFrame, lang: str) -> list[dict]:
    words = strings()[lang]
    return [
        {"when": _day_label(row.event_date, lang, words), "title": title,
         "location": location, "description": description}
        for row, title, location, description in zip(
            frame.itertuples(index=False), _text(frame["title"]),
            _text(frame["location"]), _text(frame["description"]))
    ]


def club_name(config: ClubConfig, lang: str) -> str:
    """The club's name as a member reading `lang` sees it."""
    return config.club.name if lang == "en" else config.club.name_zh


def _club(config: ClubConfig, lang: str) -> dict:
    club, words = config.club, strings()[lang]
    name = club_name(config, lang)
    lines = club.return_address.lines
    joiner = "" if lines and i18n.is_chinese_name(lines[0]) else ", "  # 上海市浦东新区…
    address = joiner.join(lines)
    if club.return_address.postal_code:
        address = f"{address} {club.return_address.postal_code}".strip()
    return {
        "name": name,
        "sender": club.sender if lang == "en" else club.sender_zh,
        "address": address,
        "phone": club.phone,
        "tel": "tel:" + "".join(ch for ch in club.phone if ch.isdigit() or ch == "+"),
        "email": club.email,
        "why": words["why"].format(club=name),
    }


def _block_words(words: dict, block: str, phone: str) -> dict:
    found = words["blocks"][block]
    invitation = found.get("invitation", "").format(phone=phone) if phone else ""
    return {"heading": found["heading"], "body": found["body"], "invitation": invitation}


@dataclass(frozen=True)
class Parts:
    """The shared parts of one language and mode ('email', 'print' or 'text')."""

    base: dict  # template variables every member of this language shares
    blocks: dict[str, str]
    events: dict[str, str]
    wrapper: tuple[str, str] = ("", "")  # e-mail: the document before and after the body

    def context(self, member: MemberContext) -> dict:
        events = self.events.get(member.audience, self.events[""])
        return {**self.base, "m": member, "member": member, "block": self.blocks[member.block],
                "events": events}


class NewsletterEdition:
    """Everything an edition's newsletters share, rendered once (see `build`)."""

    def __init__(self, edition: str, config: ClubConfig, parts: dict[tuple[str, str], Parts]):
        self.edition = edition
        self.config = config
        self.start = first_day_of(edition)
        self.parts = parts
        self._load_templates()

    def _load_templates(self) -> None:
        env = environment()
        self.text_template = env.get_template(f"{FOLDER}/email.txt.j2")
        self.body_template = env.get_template(f"{FOLDER}/body.html.j2")
        self.print_template = env.get_template(f"{FOLDER}/print.html.j2")
        self._print_piece_module = None

    def print_piece_module(self):
        """print-piece.html.j2 with the club: `.piece(piece, stamp)`."""
        if self._print_piece_module is None:
            self._print_piece_module = templating.module(
                f"{FOLDER}/print-piece.html.j2", club=_club(self.config, i18n.DEFAULT_LANGUAGE))
        return self._print_piece_module

    def __getstate__(self) -> dict:
        """Pickled (the print plan hands it to the render shards) without the compiled
        templates, which the receiving process takes from its own environment."""
        return {k: v for k, v in self.__dict__.items()
                if not k.endswith("_template") and not k.endswith("_module")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._load_templates()

    @classmethod
    def build(cls, holidays: pd.DataFrame, events: pd.DataFrame, config: ClubConfig,
              edition: str, audiences: Iterable[str] = ()) -> NewsletterEdition:
        """Render the shared parts for every language and mode. `audiences`: the RFM
        segments to prepare event lists for (the config's segment names are added)."""
        start = first_day_of(edition)
        last = first_of_next_month(first_of_next_month(start)) - timedelta(days=1)
        wanted = [*audiences, *(rule.name for rule in config.segments)]
        chosen = events_by_audience(events, start, wanted)
        parts = {}
        for lang in i18n.LANGUAGES:
            calendar = _calendar_lines(holidays, start, last, lang)
            items = {who: _event_items(frame, lang) for who, frame in chosen.items()}
            for mode in ("email", "print", "text"):
                parts[(lang, mode)] = _parts(config, start, lang, mode, calendar, items)
        return cls(edition, config, parts)


def _headline(config: ClubConfig, start: date, lang: str) -> dict:
    words = strings()[lang]
    club = _club(config, lang)
    month_name = f"{start:%B}"
    issue = words["issue"].format(year=start.year, month=start.month, month_name=month_name)
    return {
        "club_name": club["name"],
        "title": f"{club['name']} · {words['title']} · {issue}",
        "issue": issue,
        "preheader": words["preheader"].format(month=start.month, month_name=month_name),
        "intro": words["intro"].format(club=club["name"]),
    }


class _TextMacros:
    """The plain-text macros, returning plain `str` (not Markup: the text is not HTML)
    without the blank lines around it."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name: str):
        macro = getattr(self.module, name)
        return lambda *args, **kwargs: str(macro(*args, **kwargs)).strip("\n")


def _parts(config, start, lang, mode, calendar, events) -> Parts:
    """Render the shared parts of one language and mode with the parts templates."""
    words, club = strings()[lang], _club(config, lang)
    head = _headline(config, start, lang)
    unsubscribe = words["unsubscribe_post" if mode == "print" else "unsubscribe_email"].format(
        phone=club["phone"], email=club["email"])
    blocks = {b: _block_words(words, b, club["phone"]) for b in BLOCKS}
    if mode == "text":
        st, shared, rendered_blocks, rendered_events = _text_parts(
            words, club, head, unsubscribe, calendar, blocks, events)
    else:
        st, shared, rendered_blocks, rendered_events = _html_parts(
            words, club, head, unsubscribe, calendar, blocks, events, styles(lang, mode), mode)
    shared |= {k: head[k] for k in ("title", "preheader", "intro", "issue", "club_name")}
    # Namespaces, not dicts: Jinja resolves `st.p` on an object in one getattr, on a
    # dict only after a failed getattr; per member that is most of the render time.
    base = {"lang": lang, "t": SimpleNamespace(**words), "st": SimpleNamespace(**st),
            "shared": SimpleNamespace(**shared)}
    wrapper = _email_wrapper(base) if mode == "email" else ("", "")
    return Parts(base, rendered_blocks, rendered_events, wrapper)


def _text_parts(words, club, head, unsubscribe, calendar, blocks, events):
    macros = _TextMacros(environment().get_template(f"{FOLDER}/parts.txt.j2").module)
    shared = {
        "masthead": macros.masthead(head["club_name"], words["title"], head["issue"]),
        "calendar": macros.calendar(words, **calendar),
        "footer": macros.footer(words, club, unsubscribe),
    }
    return ({}, shared, {b: macros.block(words, found) for b, found in blocks.items()},
            {who: macros.events(words, items) for who, items in events.items()})


def _html_parts(words, club, head, unsubscribe, calendar, blocks, events, st, mode):
    macros = environment().get_template(f"{FOLDER}/parts.html.j2").module
    shared = {"calendar": macros.calendar(words, st, **calendar)}
    if mode == "email":
        shared["masthead"] = macros.masthead(st, head["club_name"], words["title"], head["issue"])
        shared["footer"] = macros.footer(words, st, club, unsubscribe)
    else:  # print.html.j2 places the letterhead and the contact lines itself
        shared |= {"masthead": Markup(""), "footer": Markup(""),
                   "side": macros.side(words, club, unsubscribe)}
    return (st, shared, {b: macros.block(st, found) for b, found in blocks.items()},
            {who: macros.events(words, st, items) for who, items in events.items()})


_BODY_MARK = "\x00body\x00"  # NUL never occurs in rendered text (see _email_wrapper)


def _email_wrapper(base: dict) -> tuple[str, str]:
    """email.html.j2 rendered around a marker: (before the body, after the body)."""
    page = environment().get_template(f"{FOLDER}/email.html.j2").render(base, body=Markup(_BODY_MARK))
    before, after = page.split(_BODY_MARK)
    return before, after


# --------------------------------------------------------------------------- rendering


def render_member_html(edition: NewsletterEdition, member: MemberContext) -> str:
    """The member's e-mail newsletter, a complete HTML document."""
    parts = edition.parts[(member.lang, "email")]
    before, after = parts.wrapper
    return before + edition.body_template.render(parts.context(member)) + after


def render_member_text(edition: NewsletterEdition, member: MemberContext) -> str:
    """The plain-text part of the member's e-mail, the same content as the HTML."""
    return edition.text_template.render(edition.parts[(member.lang, "text")].context(member))


def _addressee(member: MemberContext) -> str:
    name = i18n.household_name(member.name, member.lang) if member.household_size > 1 else member.name
    return f"{name} {strings()[member.lang]['addressee_suffix']}"


def _piece_id(member: MemberContext) -> str:
    return "nl-" + (member.piece_id or safe_name(member.member_id))


def _print_piece(edition: NewsletterEdition, member: MemberContext, stamp: Stamp) -> dict:
    context = edition.parts[(member.lang, "print")].context(member)
    return {
        "id": _piece_id(member),
        "lang": member.lang,
        "m": member,
        "addressee": _addressee(member),
        "issue": context["shared"].issue,
        "club_name": context["shared"].club_name,
        "title": context["t"].title,
        "side": context["shared"].side,
        # our autoescaped output
        "body": Markup(edition.body_template.render({**context, "stamp": stamp})),
    }


def _print_document(edition: NewsletterEdition, sections: Sequence[str],
                    duplex: bool | None = None) -> str:
    config = edition.config
    title = strings()[i18n.DEFAULT_LANGUAGE]["title"]
    return edition.print_template.render(
        sections=[Markup(s) for s in sections], paper=config.print.paper, title=title,
        window=config.print.envelope_window, club=_club(config, i18n.DEFAULT_LANGUAGE),
        duplex=config.print.duplex if duplex is None else duplex,
    )


def print_html(edition: NewsletterEdition, members: Sequence[MemberContext],
               duplex: bool | None = None) -> str:
    """One HTML document for a print batch: one section per member, in the given order
    (`duplex` None: as club.yaml says)."""
    module = edition.print_piece_module()
    return _print_document(edition, [str(module.piece(_print_piece(edition, m, WHOLE), WHOLE))
                                     for m in members], duplex)


def stamp_kind(edition: NewsletterEdition) -> Kind:
    """Print newsletters for documents/stamp.py, laid out simplex."""
    return Kind("newsletters", lambda sections, overlay: _print_document(edition, sections, False),
                stacked=True)


def split_members(edition: NewsletterEdition, members: Sequence[MemberContext]) -> list[Split]:
    """Each member's print piece in split mode: its background and its own parts."""
    module = edition.print_piece_module()
    return [split_piece(lambda stamp, m=m: str(module.piece(_print_piece(edition, m, stamp),
                                                             stamp)))
            for m in members]


BACKGROUNDS_PER_DOCUMENT = 40  # newsletter backgrounds laid out as one document


def lay_out_print_backgrounds(edition: NewsletterEdition, sections: dict[str, str],
                              folder: Path, prefix: str = "newsletters"
                              ) -> dict[str, Background]:
    """Lay out backgrounds (key -> section) in documents of BACKGROUNDS_PER_DOCUMENT,
    folder/<prefix>-NNN.pdf; where each one is."""
    kind, keys, found = stamp_kind(edition), sorted(sections), {}
    for number, first in enumerate(range(0, len(keys), BACKGROUNDS_PER_DOCUMENT), start=1):
        chunk = {k: sections[k] for k in keys[first:first + BACKGROUNDS_PER_DOCUMENT]}
        found |= lay_out_backgrounds(kind, chunk, folder, f"{prefix}-{number:03d}.pdf")
    return found


def stamp_print(edition: NewsletterEdition, members: Sequence[MemberContext],
                backgrounds: dict[str, Background], folder: Path, what: str,
                splits: list[Split] | None = None) -> Rendered:
    """A print batch stamped over its backgrounds (laid out into `folder`); `splits`:
    the members' `split_members`, when already made."""
    stamped = stamp_pieces(
        stamp_kind(edition), splits or split_members(edition, members),
        lambda chosen: print_html(edition, [members[i] for i in chosen], duplex=False),
        backgrounds, folder, what, edition.config.print.duplex)
    report("newsletter", f"{what}: {stamped.backgrounds} backgrounds, "
           f"{stamped.whole} laid out whole")
    return Rendered(stamped.pdf, stamped.pages,
                    {_piece_id(m): p for m, p in zip(members, stamped.firsts)})


def print_order(members: Sequence[MemberContext]) -> list[MemberContext]:
    """Postcode order (then member id) for the mailing house."""
    return sorted(members, key=lambda m: (m.postal_code, m.member_id))


# --------------------------------------------------------------------------- writing


def _write(path: str, text: str) -> None:
    """One file, with the fewest system calls (thousands are written per edition)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(descriptor, text.encode("utf-8"))
    finally:
        os.close(descriptor)


_CHUNK = 250  # members rendered before their files are handed to the writer threads
_WRITERS = 2
_IN_FLIGHT = 4  # chunks rendered but not yet written (bounds the memory used)


def _write_files(files: list[tuple[str, str]]) -> None:
    for path, text in files:
        _write(path, text)


def write_email(edition: NewsletterEdition, members: Sequence[MemberContext], out_dir: Path) -> int:
    """newsletters/html/<id>.html and newsletters/text/<id>.txt per member; the count.

    Rendering holds the GIL but creating files is mostly kernel time that releases it,
    so writer threads store one chunk while the next is rendered: both cores work.
    """
    html_dir, text_dir = out_dir / "newsletters" / "html", out_dir / "newsletters" / "text"
    html_dir.mkdir(parents=True, exist_ok=True)
    text_dir.mkdir(parents=True, exist_ok=True)
    stems = safe_names(m.member_id for m in members)
    if len(set(stems)) != len(stems):
        raise ValueError("newsletter: two pieces for one member, or two ids with one file name")
    pending: list[Future] = []
    with ThreadPoolExecutor(max_workers=_WRITERS) as writers:
        for first in range(0, len(members), _CHUNK):
            chunk = list(zip(members[first:first + _CHUNK], stems[first:first + _CHUNK]))
            # One job per folder: creating files in one folder is serialised by the kernel.
            html = [(f"{html_dir}/{stem}.html", render_member_html(edition, m)) for m, stem in chunk]
            pending.append(writers.submit(_write_files, html))
            text = [(f"{text_dir}/{stem}.txt", render_member_text(edition, m)) for m, stem in chunk]
            pending.append(writers.submit(_write_files, text))
            while len(pending) > _IN_FLIGHT:
                pending.pop(0).result()
        for job in pending:
            job.result()  # raises the first write error, if any
    return len(members)


def _render_batch(job: tuple[str, str, tuple[str, ...]]) -> Rendered:
    html, what, anchors = job
    return render_pdf(html, what, anchors=anchors)


def _process_context():
    """`fork` when this process runs a single thread (workers start at once, sharing the
    loaded fonts); `spawn` otherwise, since forking a multi-threaded process can copy a
    lock that another thread holds (a Dagster run may have such threads)."""
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def render_batches(jobs: list[tuple[str, str, tuple[str, ...]]],
                   workers: int | None = None) -> Iterator[Rendered]:
    """render_pdf for each (html, what, anchors), in order, as each is done, on up to
    `workers` processes (default: one per CPU). Layout is CPU-bound Python, so batches
    render side by side only in separate processes; the bytes do not depend on the
    process. (Under `spawn` the caller's main module must be import-safe, as the CLI,
    Dagster and pytest are.)"""
    workers = min(workers or len(os.sched_getaffinity(0)), len(jobs))
    if workers <= 1:
        yield from map(_render_batch, jobs)
        return
    with ProcessPoolExecutor(workers, mp_context=_process_context()) as pool:
        yield from pool.map(_render_batch, jobs)


def print_batches(edition: NewsletterEdition,
                  members: Sequence[MemberContext]) -> list[list[MemberContext]]:
    """Post pieces in postcode order, cut into batches of at most print.batch_size;
    batch N (1-based) is newsletters/print/batch-NNN.pdf."""
    ordered = print_order(members)
    size = edition.config.print.batch_size
    return [ordered[first:first + size] for first in range(0, len(ordered), size)]


def print_job(edition: NewsletterEdition, batch: Sequence[MemberContext],
              number: int) -> tuple[str, str, tuple[str, ...]]:
    """(html, what, anchors) of print batch `number`, for render_batches."""
    return (print_html(edition, batch), f"newsletter print batch {number:03d}",
            tuple(_piece_id(m) for m in batch))


def print_path(number: int) -> str:
    """Relative to the edition folder: newsletters/print/batch-001.pdf."""
    return f"newsletters/print/batch-{number:03d}.pdf"


def write_print(edition: NewsletterEdition, members: Sequence[MemberContext], out_dir: Path,
                workers: int | None = None, numbers: Sequence[int] | None = None
                ) -> dict[str, int]:
    """newsletters/print/batch-NNN.pdf: postcode order, at most batch_size pieces each.
    `numbers` (1-based) renders only those batches."""
    batches = print_batches(edition, members)
    chosen = list(numbers) if numbers is not None else list(range(1, len(batches) + 1))
    return write_print_batches(edition, [(n, 1, 1, batches[n - 1]) for n in chosen], out_dir,
                               len(batches), workers)


def write_print_batches(edition: NewsletterEdition,
                        slices: Sequence[tuple[int, int, int, Sequence[MemberContext]]],
                        out_dir: Path, total: int, workers: int | None = None,
                        backgrounds: dict[str, Background] | None = None,
                        folder: Path | None = None,
                        splits: dict[tuple[int, int], list[Split]] | None = None,
                        ) -> dict[str, int]:
    """Print batches, or slices of them, as the print plan hands a render shard its
    share: for each (batch number of `total`, slice, slices, pieces) the file
    newsletters/print/batch-NNN.pdf, or batch-NNN.slice-KK.pdf when the batch is cut
    into slices (`join_print_slices` joins them). `batches` counts whole batches and
    first slices, so the shards' counts add up to the edition's batches. With
    `backgrounds` (laid out into `folder`) the pieces are stamped over them
    (`stamp_print`, in this process), `splits` holding each (number, slice)'s pieces'
    `split_members` when made before."""
    if slices:
        (out_dir / "newsletters" / "print").mkdir(parents=True, exist_ok=True)
    if backgrounds is not None:
        done: Iterable[Rendered] = (
            stamp_print(edition, members, backgrounds, folder,
                        f"newsletter print batch {number:03d}",
                        (splits or {}).get((number, part)))
            for number, part, _, members in slices)
    else:
        done = render_batches([print_job(edition, members, number)
                               for number, _, _, members in slices], workers)
    pages, started = 0, time.perf_counter()
    for (number, part, parts, _), rendered in zip(slices, done):
        (out_dir / slice_file(print_path(number), part, parts)).write_bytes(rendered.pdf)
        pages += rendered.pages
        report("newsletter", f"print batch {number}/{total}"
               + (f" slice {part}/{parts}" if parts > 1 else "") + ": "
               + rate(pages, time.perf_counter() - started, "pages"))
    return {"print_pieces": sum(len(members) for *_, members in slices), "print_pages": pages,
            "batches": sum(part == 1 for _, part, _, _ in slices)}


def join_print_slices(out_dir: Path, duplex: bool) -> int:
    """newsletters/print/batch-NNN.pdf from its slice files (removed), for every batch
    rendered in slices below `out_dir`; the number of batches joined. In duplex every
    piece starts on a front page, as in one document: a slice ending on a front page is
    followed by a blank back page."""
    folder = out_dir / "newsletters" / "print"
    sliced: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("batch-*.slice-*.pdf")):
        sliced.setdefault(path.name.split(".slice-")[0] + ".pdf", []).append(path)
    for name, paths in sliced.items():
        (folder / name).write_bytes(join_pdfs([p.read_bytes() for p in paths],
                                              pad_to_even=duplex))
        for path in paths:
            path.unlink()
    return len(sliced)


@dataclass(frozen=True)
class Prepared:
    """An edition's newsletter pieces, split by channel, with what they share."""

    edition: NewsletterEdition
    by_email: list[MemberContext]
    by_post: list[MemberContext]
    skipped: int  # planned for another channel


def prepare(plan: pd.DataFrame, members: pd.DataFrame, segments: pd.DataFrame,
            birthdays: pd.DataFrame, holidays: pd.DataFrame, events: pd.DataFrame,
            config: ClubConfig, edition: str) -> Prepared:
    pieces = plan[plan["kind"] == KIND]
    contexts = member_contexts(pieces, members, segments, birthdays, edition, config.offers)
    channels = pieces["channel"].astype("string").tolist()
    by_email = [m for m, c in zip(contexts, channels) if c == "email"]
    by_post = [m for m, c in zip(contexts, channels) if c == "post"]
    shared = NewsletterEdition.build(holidays, events, config, edition,
                                     audiences={m.audience for m in contexts})
    return Prepared(shared, by_email, by_post, len(contexts) - len(by_email) - len(by_post))


def write_newsletters(
    plan: pd.DataFrame,
    members: pd.DataFrame,
    segments: pd.DataFrame,
    birthdays: pd.DataFrame,
    holidays: pd.DataFrame,
    events: pd.DataFrame,
    config: ClubConfig,
    edition: str,
    out_dir: Path,
    workers: int | None = None,
) -> dict[str, int]:
    """Write every planned newsletter piece below `out_dir` (the edition folder):
    e-mail pieces as HTML + text, post pieces as print batches (rendered on `workers`
    processes, default one per CPU). Returns the counts html, text, print_pieces,
    print_pages, batches, and skipped (pieces planned for another channel)."""
    prepared = prepare(plan, members, segments, birthdays, holidays, events, config, edition)
    written = write_email_timed(prepared, out_dir)
    printed = write_print(prepared.edition, prepared.by_post, out_dir, workers)
    return {"html": written, "text": written, **printed, "skipped": prepared.skipped}


def write_email_timed(prepared: Prepared, out_dir: Path) -> int:
    """write_email for the prepared pieces, with a progress line; pieces written."""
    started = time.perf_counter()
    written = write_email(prepared.edition, prepared.by_email, out_dir)
    seconds = time.perf_counter() - started
    report("newsletter", rate(written, seconds, "e-mail newsletters (html + text)"))
    return written
