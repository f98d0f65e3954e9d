"""Greeting letters for the mailing house: print-ready batches, a manifest and a README.

CONTRACT §4: `letters/<kind>/batch-NNN.pdf`, `letters/manifest.csv`.

Flow: `letter_pieces` joins the contact plan's post pieces (every kind but the
newsletter) with what the templates need and dates each piece (`mail_dates`): it must
be posted by `mail_by` (the occasion minus `print.lead_days`, never before `as_of`) and
goes out in the drop of `drop_on` (`print.drops`: `monthly`, one drop on the earliest
`mail_by`; `weekly`, one drop per Monday-to-Sunday week of `mail_by`, dated its Monday
or `as_of` when later). `write_letters` groups them by folder (`letter_folder`) and
drop, sorts each group by postal code then piece id, cuts it into batches
of at most `print.batch_size` pieces (numbered on within a folder, earliest drop first) and renders each batch as ONE HTML document
(`templates/letters/batch.html.j2`), which is many times faster than a document per
letter. Each piece is a `<section>` starting on a new page, or on a new sheet (an odd
page) when printing duplex; its first page comes back from the layout (`render_pdf`
anchors) and its page count is the distance to the next piece, blank back pages
included. In duplex a batch also ends on an even page, so every piece is whole sheets.

Names and addresses come from a CRM: they reach the HTML only through Jinja's
autoescaping, element ids and file names are reduced to `[A-Za-z0-9_-]`, and a piece
whose text has a character no letter font can draw stops the run (`RenderError` naming
the piece) instead of printing an empty box.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from pipeline.config import ClubConfig, EnvelopeWindow
from pipeline.lib.documents import i18n, templating
from pipeline.lib.rules.calendar import festival_key
from pipeline.lib.rules.contact import safe_part, safe_text
from pipeline.lib.edition import first_day_of
from pipeline.lib.documents.glyphs import LETTER_FONTS, missing_glyphs
from pipeline.lib.documents.pdf import Rendered, RenderError, css, join_pdfs, page_count, render_pdf
from pipeline.lib.privacy import spreadsheet_safe
from pipeline.lib.progress import rate, report
from pipeline.lib.documents.shards import slice_file
from pipeline.lib.documents.stamp import (
    WHOLE, Background, Kind, Split, lay_out_backgrounds, split_piece, stamp_pieces)
from pipeline.lib.documents.templating import render

# The letter fonts, in CSS order; zh-TW letters put the Traditional face first.
FONT_FAMILIES: tuple[str, ...] = LETTER_FONTS

PIECE_COLUMNS: tuple[str, ...] = (
    "piece_id", "member_id", "household_id", "household_size", "kind", "folder",
    "language", "name", "salutation", "province", "city", "district", "address",
    "postal_code", "occasion_date", "age", "milestone", "years", "since_date",
    "festival_key", "festival_name", "festival_name_en", "extra", "mail_by", "drop_on",
)
MANIFEST_COLUMNS: tuple[str, ...] = (
    "piece_id", "member_id", "household_id", "kind", "batch", "first_page", "page_count",
    "name", "postal_code", "address_lines", "batch_sha256", "occasion_date", "mail_by",
    "drop_on",
)
# Member text checked for glyphs before rendering (the rest is the club's own wording).
CHECKED_FIELDS: tuple[str, ...] = (
    "name", "province", "city", "district", "address", "postal_code",
    "festival_name", "festival_name_en",
)

# Sheet sizes and page margins in mm, body font size in pt.
PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "Letter": (215.9, 279.4)}
MARGINS_MM = {"A4": (14, 22, 18, 22), "A5": (9, 14, 13, 14), "Letter": (14, 20, 16, 20)}
FONT_PT = {"A4": 11.5, "A5": 9, "Letter": 11}
LINE_HEIGHT = {"A4": 1.9, "A5": 1.6, "Letter": 1.85}
# What the mailing house should fold the sheet into (README).
ENVELOPES = {
    "A4": ("DL 国内5号开窗信封 (110 × 220 mm)，A4 三折",
           "DL window envelope (110 × 220 mm), A4 folded in three"),
    "A5": ("DL 国内5号开窗信封 (110 × 220 mm)，A5 对折",
           "DL window envelope (110 × 220 mm), A5 folded once"),
    "Letter": ("US #10 开窗信封 (4⅛ × 9½ in)，Letter 三折",
               "US #10 window envelope (4⅛ × 9½ in), Letter folded in three"),
}


# --- names that become ids and paths ------------------------------------------------


def letter_folder(kind: str) -> str:
    """'birthday', 'festival-<key>' or 'anniversary' (both anniversary kinds)."""
    if kind == "birthday":
        return "birthday"
    if kind.startswith("anniversary-"):
        return "anniversary"
    if kind.startswith("festival-") and len(kind) > len("festival-"):
        return "festival-" + safe_text(kind.removeprefix("festival-"))
    raise ValueError(f"{kind!r} is not a greeting letter kind")


# --- pieces ------------------------------------------------------------------------


def _timestamps(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[us]")


def _festival_rows(festivals: pd.DataFrame, edition: str) -> pd.DataFrame:
    """One row per festival key in the edition month: the festival or club date itself
    wins over official days off of the same name (春节 is both)."""
    columns = ["festival_key", "festival_date", "festival_name", "festival_name_en"]
    # The dates go in by position before filtering: assigning a Series aligns on the
    # index, and an empty frame would adopt the Series' index (rows of NA) instead.
    rows = festivals.assign(festival_date=_timestamps(festivals["date"]).to_numpy())
    rows = rows[rows["festival_date"].dt.strftime("%Y-%m") == edition]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns}).astype(
            {"festival_date": "datetime64[us]"})
    kinds = rows["kind"] if "kind" in rows else pd.Series("festival", index=rows.index)
    rows = rows.assign(
        festival_key=[festival_key(n, e) for n, e in zip(rows["name"], rows["name_en"])],
        rank=kinds.map({"festival": 0, "custom": 0}).fillna(1),
    )
    rows = rows.sort_values(["rank", "festival_date"], kind="stable").drop_duplicates("festival_key")
    return rows.rename(columns={"name": "festival_name", "name_en": "festival_name_en"})[columns]


def _occasions(birthdays: pd.DataFrame, anniversaries: pd.DataFrame) -> pd.DataFrame:
    """member_id, kind, occasion_date, age, milestone, years for birthdays and anniversaries."""
    born = pd.DataFrame({
        "member_id": birthdays["member_id"], "kind": "birthday",
        "occasion_date": _timestamps(birthdays["birthday"]),
        "age": birthdays["age"], "milestone": birthdays["milestone"].astype("boolean"),
    })
    kept = pd.DataFrame({
        "member_id": anniversaries["member_id"],
        "kind": "anniversary-" + anniversaries["kind"].astype(str),
        "occasion_date": _timestamps(anniversaries["anniversary_date"]),
        "years": anniversaries["years"],
    })
    occasions = pd.concat([born, kept], ignore_index=True)
    return occasions.drop_duplicates(["member_id", "kind"]).astype(
        {"member_id": "string", "age": "Int64", "years": "Int64"})


def _since_date(pieces: pd.DataFrame) -> pd.Series:
    """Join date for membership, move-in date for ownership anniversaries."""
    since = pd.Series(pd.NaT, index=pieces.index, dtype="datetime64[us]")
    since = since.mask(pieces["kind"] == "anniversary-membership", _timestamps(pieces["join_date"]))
    return since.mask(pieces["kind"] == "anniversary-ownership", _timestamps(pieces["move_in_date"]))


def mail_dates(occasions: pd.Series, as_of: date | None, lead_days: int = 7,
               drops: str = "monthly") -> tuple[pd.Series, pd.Series]:
    """(mail_by, drop_on) per occasion date, as in the module notes; `as_of` None means
    no lower bound (proofs)."""
    occasion = _timestamps(occasions).dt.normalize()
    mail_by = occasion - pd.Timedelta(days=lead_days)
    floor = pd.Timestamp(as_of) if as_of is not None else None
    if floor is not None:
        mail_by = mail_by.where(mail_by >= floor, floor)
    if drops == "weekly":
        monday = mail_by - pd.to_timedelta(mail_by.dt.day_of_week, unit="D")
        drop_on = monday.where(monday >= floor, floor) if floor is not None else monday
    elif drops == "monthly":
        drop_on = pd.Series(mail_by.min(), index=mail_by.index, dtype="datetime64[us]")
    else:
        raise ValueError(f"print.drops must be monthly or weekly, got {drops!r}")
    return mail_by.astype("datetime64[us]"), drop_on.astype("datetime64[us]")


def letter_pieces(
    plan: pd.DataFrame,
    members: pd.DataFrame,
    birthdays: pd.DataFrame,
    anniversaries: pd.DataFrame,
    festivals: pd.DataFrame,
    edition: str,
    as_of: date | None = None,
    lead_days: int = 7,
    drops: str = "monthly",
    channel: str = "post",
) -> pd.DataFrame:
    """The edition's greeting letters: post pieces of every kind but the newsletter
    (the greetings of another `channel`: `sms`, `email`, for their own renderers),
    with the member's name, salutation ('mr'|'ms'|'neutral'), language and address,
    the occasion (date; age and milestone; years and since_date; festival key and
    names) and the folder. Columns: PIECE_COLUMNS, sorted by piece_id.

    `festivals` are holidays rows (date, name, name_en, kind); those of the edition
    month (YYYY-MM) are used. A piece whose member or occasion is missing raises
    ValueError naming it: a letter is never sent half-filled. `as_of`, `lead_days` and
    `drops` date the pieces (`mail_dates`).
    """
    first_day_of(edition)  # ValueError unless YYYY-MM
    post = plan[(plan["channel"] == channel) & (plan["kind"] != "newsletter")]
    post = post.astype({"member_id": "string", "kind": "string"})
    people = members.drop(columns=["household_id"], errors="ignore")
    people = people.astype({"member_id": "string"}).drop_duplicates("member_id")
    pieces = post.merge(people, on="member_id", how="left", indicator="_member")
    _require(pieces, pieces["_member"] == "left_only", "no member with this member_id")
    pieces = pieces.merge(_occasions(birthdays, anniversaries), on=["member_id", "kind"], how="left")
    pieces["festival_key"] = pieces["kind"].str.removeprefix("festival-").where(
        pieces["kind"].str.startswith("festival-"))
    pieces = pieces.merge(_festival_rows(festivals, edition), on="festival_key", how="left")
    pieces["occasion_date"] = pieces["occasion_date"].fillna(pieces["festival_date"])
    _require(pieces, pieces["occasion_date"].isna(), f"no occasion in edition {edition}")
    pieces["since_date"] = _since_date(pieces)
    mail_by, drop_on = mail_dates(pieces["occasion_date"], as_of, lead_days, drops)
    pieces["mail_by"], pieces["drop_on"] = mail_by.to_numpy(), drop_on.to_numpy()
    pieces["folder"] = [letter_folder(k) for k in pieces["kind"]]
    pieces["language"] = [i18n.language(v if isinstance(v, str) else None) for v in pieces["language"]]
    result = pieces.reindex(columns=list(PIECE_COLUMNS)).sort_values("piece_id", kind="stable")
    return result.reset_index(drop=True)


def _require(pieces: pd.DataFrame, broken: pd.Series, problem: str) -> None:
    if broken.any():
        named = ", ".join(pieces.loc[broken, "piece_id"].astype(str).head(5))
        raise ValueError(f"letter piece(s) {named}: {problem}")


# --- what a piece prints -----------------------------------------------------------


def _text(value) -> str:
    """A CRM value as stripped text; blank for None/NA."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _number(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _household_size(piece: dict) -> int:
    """Members the piece is addressed to (more than one: the household)."""
    return _number(piece["household_size"]) or 1


def _day(value) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def region_line(province: str, city: str, district: str) -> str:
    """Province, city and district, each part once: a city that repeats its province
    (上海市 上海市 浦东新区) is written once (上海市浦东新区)."""
    parts: list[str] = []
    for part in (province, city, district):
        if part and part not in parts:
            parts.append(part)
    return "".join(parts)


def addressee(name: str, title: str, household_size: int, lang: str) -> str:
    """The name line of the envelope window: 王伟 先生 收, 王府 收, 张敏 收."""
    if household_size > 1:
        household_lang = "zh-CN" if i18n.is_chinese_name(name) else "en"
        return f"{i18n.household_name(name, household_lang)} 收"
    word = {"mr": "先生", "ms": "女士"}.get(title)
    return f"{name} {word} 收" if word else f"{name} 收"


def address_lines(piece: dict) -> list[str]:
    """The window's lines in Chinese address order: postal code, region, street, addressee."""
    region = region_line(_text(piece["province"]), _text(piece["city"]), _text(piece["district"]))
    lines = [_text(piece["postal_code"]), region, _text(piece["address"]),
             addressee(_text(piece["name"]), _text(piece["salutation"]),
                       _household_size(piece), piece["language"])]
    return [line for line in lines if line]


def chinese_numeral(number: int) -> str:
    """0..999 in Chinese numerals: 4 -> 四, 12 -> 十二, 70 -> 七十, 105 -> 一百零五."""
    digits = "零一二三四五六七八九"
    if number == 0:
        return digits[0]
    hundreds, tens, ones = number // 100, number // 10 % 10, number % 10
    text = f"{digits[hundreds]}百" if hundreds else ""
    if tens:
        text += ("" if tens == 1 and not hundreds else digits[tens]) + "十"  # 十二, 一百一十
    elif hundreds and ones:
        text += "零"  # 一百零五
    return text + (digits[ones] if ones else "")


def piece_views(pieces: pd.DataFrame) -> list[dict]:
    """piece_view of every row, the element ids made at once (safe_part is vectorised)."""
    ids = "piece-" + safe_part(pieces["piece_id"].astype(str).astype("string"))
    return [piece_view(p) for p in pieces.assign(_element_id=ids.to_numpy()).to_dict("records")]


def piece_view(piece: dict) -> dict:
    """Everything the piece template prints, from one row of `letter_pieces` (with
    `_element_id` when piece_views made the ids)."""
    age, years = _number(piece["age"]), _number(piece["years"])
    name, occasion = _text(piece["name"]), _day(piece["occasion_date"])
    count = age if piece["kind"] == "birthday" else years
    return {
        "id": piece.get("_element_id") or "piece-" + safe_text(str(piece["piece_id"])),
        "piece_id": str(piece["piece_id"]),
        "lang": piece["language"],
        "kind": piece["kind"],
        "name": name,
        "title": _text(piece["salutation"]) or "neutral",
        "surname": i18n.surname(name),
        "is_household": _household_size(piece) > 1,
        "address_lines": address_lines(piece),
        "occasion_date": occasion,
        "age": age,
        "is_milestone": bool(piece["milestone"]) if pd.notna(piece["milestone"]) else False,
        "years": years,
        "count_zh": chinese_numeral(count) if count else "",
        "count_ordinal": i18n.ordinal(count) if count else "",
        "since_date": _day(piece["since_date"]),
        "festival_key": _text(piece["festival_key"]),
        "festival_name": _text(piece["festival_name"]),
        "festival_name_en": _text(piece["festival_name_en"]),
        # Zodiac animal of the occasion's year (0 = rat): right for 春节 and 除夕, which
        # fall in January or February of the lunar year they open or close.
        "zodiac": (occasion.year - 4) % 12 if occasion else 0,
        # The export's own member columns: `member.extra["会员等级"]` in a template.
        "extra": json.loads(piece["extra"]) if isinstance(piece.get("extra"), str) else {},
    }


def check_glyphs(pieces: pd.DataFrame) -> None:
    """RenderError naming the first piece whose member text has a character no letter
    font covers (it would print as an empty box)."""
    fields = [f for f in CHECKED_FIELDS if f in pieces]
    texts = pieces[fields].fillna("").astype(str)
    if not missing_glyphs("".join(texts.to_numpy().ravel()), FONT_FAMILIES):
        return
    for piece_id, row in zip(pieces["piece_id"], texts.itertuples(index=False)):
        for field, value in zip(fields, row):
            missing = missing_glyphs(value, FONT_FAMILIES)
            if missing:
                shown = ", ".join(f"U+{ord(c):04X}" for c in sorted(missing))
                raise RenderError(
                    f"letter {piece_id}: {field} {value!r} has character(s) {shown} that no "
                    f"letter font ({', '.join(FONT_FAMILIES)}) can print")


# --- layout ------------------------------------------------------------------------


LETTERHEAD_MM = 17  # logo and club names, from the top margin down to the hairline


@dataclass(frozen=True)
class Layout:
    """Paper, margins and the envelope window, as CSS for WeasyPrint.

    The page's top margin reaches into the window: the letterhead (a running element
    in that margin) ends with the return line just inside the window's top edge, and
    the page area, where each piece begins with its address, starts below it. The
    geometry is `!important`: it is a user stylesheet, and letter.css (the look) must
    not move anything the envelope window depends on.
    """

    paper: str
    window: EnvelopeWindow
    duplex: bool

    def stylesheet(self) -> str:
        top, right, bottom, left = MARGINS_MM[self.paper]
        w = self.window
        band = w.top_mm + 7.5  # the page area starts below the return line
        width = PAPER_MM[self.paper][0] - left - right
        inset = w.left_mm + 4 - left  # the window's text, 4 mm inside its left edge
        return_gap = max(w.top_mm + 1.5 - top - LETTERHEAD_MM, 0)
        fonts = ", ".join(f'"{f}"' for f in FONT_FAMILIES)
        traditional = ", ".join(
            f'"{f}"' for f in sorted(FONT_FAMILIES, key=lambda f: "TC" not in f))
        return f"""
@page {{ size: {self.paper}; margin: {band:g}mm {right}mm {bottom}mm {left}mm;
        @top-left {{ content: element(letterhead); vertical-align: top; width: {width:g}mm; }}
        @bottom-left {{ width: {width:g}mm;{" font-size: 5.5pt; letter-spacing: 0;" if self.paper == "A5" else ""} }} }}
html {{ font-family: {fonts}; font-size: {FONT_PT[self.paper]}pt;
        line-height: {LINE_HEIGHT[self.paper]}; }}
.piece:lang(zh-TW) {{ font-family: {traditional}; }}
.piece {{ break-before: {"right" if self.duplex else "page"} !important; }}
.letterhead {{ width: {width:g}mm !important; padding-top: {top}mm !important; }}
.club {{ height: {LETTERHEAD_MM:g}mm !important; }}
.return-line {{ margin: {return_gap:g}mm 0 0 {inset:g}mm !important;
                width: {w.width_mm - 8:g}mm !important; }}
.address {{ margin: 0 0 {4 if self.paper == "A5" else 8}mm {inset:g}mm !important;
            width: {w.width_mm - 8:g}mm !important;
            min-height: {w.top_mm + w.height_mm - band - 2:g}mm !important; }}
"""


@lru_cache(maxsize=8)
def _stylesheet(layout: Layout):
    return css(layout.stylesheet())


# --- batches -----------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    folder: str
    number: int
    pieces: pd.DataFrame
    slice: int = 1  # a slice of the batch's pieces, rendered on its own (shards.split)
    slices: int = 1

    @property
    def path(self) -> str:
        """Relative to letters/: birthday/batch-001.pdf."""
        return f"{self.folder}/batch-{self.number:03d}.pdf"

    @property
    def file(self) -> str:
        """Where this batch (or slice of one) is rendered, relative to letters/."""
        return slice_file(self.path, self.slice, self.slices)


def batches(pieces: pd.DataFrame, batch_size: int) -> list[Batch]:
    """Per folder (in name order) and drop (earliest first): pieces by postal code then
    piece id, cut into batches numbered on within the folder. A batch holds one drop."""
    drop = (_timestamps(pieces["drop_on"]).dt.strftime("%Y-%m-%d").fillna("")
            if "drop_on" in pieces else pd.Series("", index=pieces.index))
    ordered = pieces.assign(_drop=drop.to_numpy()).sort_values(
        ["folder", "_drop", "postal_code", "piece_id"], kind="stable")
    result = []
    for folder, in_folder in ordered.groupby("folder", sort=True):
        number = 0
        for _, group in in_folder.groupby("_drop", sort=True):
            for start in range(0, len(group), batch_size):
                number += 1
                chunk = group.iloc[start:start + batch_size].drop(columns="_drop")
                result.append(Batch(str(folder), number, chunk.reset_index(drop=True)))
    return result


def club_view(config: ClubConfig) -> dict:
    """The club's names, return line, logo (a file in assets/) and contact details."""
    club = config.club
    logo = club.logo or "logo.svg"
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_./-]*", logo) or ".." in logo:
        raise ValueError(f"club.logo {logo!r}: expected the name of a file in assets/")
    return_address = " ".join([*club.return_address.lines, club.return_address.postal_code])
    return {
        "name": club.name, "name_zh": club.name_zh,
        "sender": club.sender, "sender_zh": club.sender_zh,
        "return_line": f"{club.sender_zh} {return_address}".strip(),
        "logo": "../assets/" + logo,
        "contact": [item for item in (club.phone, club.email) if item],
    }


def _piece_module(club: dict, edition: str):
    """letters/piece.html.j2 with the club and the letter date: `.piece(p, is_last, stamp)`."""
    return templating.module("letters/piece.html.j2", club=club,
                             letter_date=first_day_of(edition))


def _document(club: dict, sections: list, overlay: bool, pad_to_sheet: bool) -> str:
    return render("letters/batch.html.j2", sections=sections, club=club, overlay=overlay,
                  pad_to_sheet=pad_to_sheet)


def batch_html(views: list[dict], club: dict, edition: str, pad_to_sheet: bool) -> str:
    """One HTML document for a batch: `views` from piece_view, `club` from club_view;
    `pad_to_sheet` ends it with a blank page when the last piece ends on a front."""
    module = _piece_module(club, edition)
    sections = [module.piece(v, i == len(views) - 1, WHOLE) for i, v in enumerate(views)]
    return _document(club, sections, False, pad_to_sheet)


def _whole_sheets(anchor_pages: dict[str, int]) -> int:
    """Duplex: the pages up to the back of the sheet the last piece ends on. The pad
    after it starts a new sheet, so when the last piece already ends on a back page the
    pad and the page before it are a blank sheet, which is left out."""
    last = anchor_pages["batch-end"]
    return last + last % 2


def _layout(config: ClubConfig, duplex: bool | None = None) -> Layout:
    return Layout(config.print.paper, config.print.envelope_window,
                  config.print.duplex if duplex is None else duplex)


def stamp_kind(config: ClubConfig) -> Kind:
    """Letters for documents/stamp.py: backgrounds and overlays are laid out simplex
    (stamp_pieces places the blank back pages)."""
    club = club_view(config)
    return Kind("letters", lambda sections, overlay: _document(
        club, [Markup(s) for s in sections], overlay, False),
        (_stylesheet(_layout(config, False)),), stacked=True, footer="data-footer")


def _splits(views: list[dict], club: dict, edition: str) -> list[Split]:
    module = _piece_module(club, edition)
    return [split_piece(lambda stamp, v=v: str(module.piece(v, False, stamp))) for v in views]


def render_batch(
    batch: Batch, config: ClubConfig, edition: str,
    backgrounds: dict[str, Background] | None = None, folder: Path | None = None,
    splits: list[Split] | None = None,
) -> tuple[Rendered, list[int], list[int]]:
    """The batch PDF, each piece's first page and page count (blank back pages included).
    With `backgrounds` (layout once: `lay_out_letter_backgrounds` into `folder`, holding
    every piece's background) the pieces are stamped over them (`splits`: the pieces'
    `split_pieces`, when already made); otherwise laid out whole."""
    layout = _layout(config)
    views = piece_views(batch.pieces)
    club = club_view(config)
    ids = tuple(v["id"] for v in views)
    what = f"letters {batch.path}"
    if backgrounds is not None:
        stamped = stamp_pieces(
            stamp_kind(config), splits or _splits(views, club, edition),
            lambda chosen: batch_html([views[i] for i in chosen], club, edition, False),
            backgrounds, folder, what, layout.duplex, pad_end=layout.duplex)
        rendered = Rendered(stamped.pdf, stamped.pages, dict(zip(ids, stamped.firsts)))
        report("letters", f"{what}: {stamped.backgrounds} backgrounds, {stamped.whole} laid out whole")
    elif layout.duplex:
        html = batch_html(views, club, edition, pad_to_sheet=True)
        rendered = render_pdf(html, what, ids + ("batch-end", "sheet-pad"),
                              [_stylesheet(layout)], keep_pages=_whole_sheets)
    else:
        rendered = render_pdf(batch_html(views, club, edition, False), what, ids,
                              [_stylesheet(layout)])
    firsts = [rendered.anchor_pages[i] for i in ids]
    counts = [b - a for a, b in zip(firsts, [*firsts[1:], rendered.pages + 1])]
    return rendered, firsts, counts


BACKGROUNDS_PER_DOCUMENT = 60  # backgrounds laid out as one document (a file of the pool)


def split_pieces(pieces: pd.DataFrame, config: ClubConfig, edition: str) -> list[Split]:
    """Every piece in split mode (documents/stamp.py): its background and its own parts."""
    return _splits(piece_views(pieces), club_view(config), edition)


def lay_out_letter_backgrounds(sections: dict[str, str], config: ClubConfig, folder: Path,
                               prefix: str = "letters") -> dict[str, Background]:
    """Lay out backgrounds (key -> section) in documents of BACKGROUNDS_PER_DOCUMENT,
    folder/<prefix>-NNN.pdf; where each one is."""
    kind, keys, found = stamp_kind(config), sorted(sections), {}
    for number, first in enumerate(range(0, len(keys), BACKGROUNDS_PER_DOCUMENT), start=1):
        chunk = {k: sections[k] for k in keys[first:first + BACKGROUNDS_PER_DOCUMENT]}
        found |= lay_out_backgrounds(kind, chunk, folder, f"{prefix}-{number:03d}.pdf")
    return found


# --- files for the mailing house -----------------------------------------------------


def _manifest_rows(
    batch: Batch, firsts: list[int], counts: list[int], sha256: str
) -> pd.DataFrame:
    records = batch.pieces.to_dict("records")
    return pd.DataFrame({
        "piece_id": batch.pieces["piece_id"].astype(str),
        "member_id": batch.pieces["member_id"].astype(str),
        "household_id": batch.pieces["household_id"],
        "kind": batch.folder,
        "batch": batch.path,
        "first_page": firsts,
        "page_count": counts,
        "name": batch.pieces["name"],
        "postal_code": batch.pieces["postal_code"],
        "address_lines": [" | ".join(address_lines(p)) for p in records],
        "batch_sha256": sha256,
        **{column: _iso_days(batch.pieces, column) for column in ("occasion_date", "mail_by",
                                                                  "drop_on")},
    })


def _iso_days(pieces: pd.DataFrame, column: str) -> list[str]:
    """A date column as YYYY-MM-DD text (blank when absent), as the manifest shows it."""
    if column not in pieces:
        return [""] * len(pieces)
    return _timestamps(pieces[column]).dt.strftime("%Y-%m-%d").fillna("").tolist()


def write_letters(
    pieces: pd.DataFrame, config: ClubConfig, edition: str, letters_dir: Path
) -> pd.DataFrame:
    """Render every batch to letters_dir/<folder>/batch-NNN.pdf and write manifest.csv
    (UTF-8 with BOM) and README.txt; returns the manifest (MANIFEST_COLUMNS).

    Raises RenderError naming the piece when a name or address has a character no
    letter font can print, or when WeasyPrint warns about anything.
    """
    check_pieces(pieces)
    rendered = render_batches(batches(pieces, config.print.batch_size), config, edition,
                              letters_dir)
    return finish_letters([rendered], config, edition, letters_dir)


def check_pieces(pieces: pd.DataFrame) -> None:
    """ValueError on a repeated piece id; RenderError on a character no font can print."""
    repeated = pieces["piece_id"][pieces["piece_id"].duplicated()]
    if len(repeated):
        raise ValueError(f"letter piece_id repeated: {', '.join(map(str, repeated[:5]))}")
    check_glyphs(pieces)


def render_batches(
    selected: list[Batch], config: ClubConfig, edition: str, letters_dir: Path,
    backgrounds: dict[str, Background] | None = None, folder: Path | None = None,
    splits: dict[str, list[Split]] | None = None,
) -> pd.DataFrame:
    """Render `selected` batches to letters_dir/<folder>/batch-NNN.pdf; their manifest
    rows. A render shard passes its share of `batches(...)`; `finish_letters` joins them.
    With `backgrounds` (in `folder`) the batches are stamped (`render_batch`), `splits`
    holding each batch's (by its `file`) when made before."""
    parts = []
    for batch in selected:
        started = time.perf_counter()
        rendered, firsts, counts = render_batch(
            batch, config, edition, backgrounds, folder, (splits or {}).get(batch.file))
        target = letters_dir / batch.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rendered.pdf)
        sha256 = hashlib.sha256(rendered.pdf).hexdigest()
        parts.append(_manifest_rows(batch, firsts, counts, sha256).assign(slice=batch.slice))
        report("letters", f"{batch.file}: {len(batch.pieces):,} pieces, "
                          + rate(rendered.pages, time.perf_counter() - started, "pages"))
    columns = [*MANIFEST_COLUMNS, "slice"]
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(parts, ignore_index=True)[columns] if parts else empty


def join_slices(manifest: pd.DataFrame, letters_dir: Path) -> pd.DataFrame:
    """Batches rendered as slices (by several shards): each batch's slice files joined in
    order into its batch file (`pdf.join_pdfs`) and removed; the manifest rows' first
    pages moved on by the pages of the slices before theirs, and `batch_sha256` that of
    the joined file. Rows of whole batches are returned as they are."""
    if manifest.empty or "slice" not in manifest or (manifest["slice"].astype(int) == 1).all():
        return manifest.drop(columns="slice", errors="ignore")
    joined = manifest.assign(slice=manifest["slice"].astype(int),
                             first_page=manifest["first_page"].astype(int))
    for batch, rows in joined.groupby("batch", sort=True):
        if (letters_dir / str(batch)).exists():
            continue  # rendered whole
        numbers = sorted(rows["slice"].unique())
        files = [letters_dir / slice_file(str(batch), n, len(numbers)) for n in numbers]
        documents = [f.read_bytes() for f in files]
        pdf = join_pdfs(documents)
        (letters_dir / str(batch)).write_bytes(pdf)
        offset = 0
        for number, path in zip(numbers, files):
            mine = rows.index[rows["slice"] == number]
            joined.loc[mine, "first_page"] += offset
            offset += page_count(path)
            path.unlink()
        joined.loc[rows.index, "batch_sha256"] = hashlib.sha256(pdf).hexdigest()
    return joined.drop(columns="slice")


def finish_letters(
    parts: list[pd.DataFrame], config: ClubConfig, edition: str, letters_dir: Path
) -> pd.DataFrame:
    """manifest.csv and README.txt in letters_dir from the manifest rows of every
    rendered batch (in any order): batches in path order, pieces in page order."""
    letters_dir.mkdir(parents=True, exist_ok=True)
    manifest = pd.concat(parts, ignore_index=True)[list(MANIFEST_COLUMNS)]
    if len(manifest):
        order = manifest.assign(_page=manifest["first_page"].astype(int))
        manifest = order.sort_values(["batch", "_page"], kind="stable").drop(columns="_page")
        manifest = manifest.reset_index(drop=True)
    spreadsheet_safe(manifest).to_csv(letters_dir / "manifest.csv", index=False, encoding="utf-8-sig")
    summary = [(str(path), len(rows), int(rows["page_count"].astype(int).sum()))
               for path, rows in manifest.groupby("batch", sort=True)]
    drops = drop_summary(manifest)
    (letters_dir / "README.txt").write_text(readme(config, edition, summary, drops),
                                            encoding="utf-8-sig")
    return manifest


def drop_summary(manifest: pd.DataFrame) -> list[dict]:
    """Per drop (earliest first): its date, the latest mail_by in it, its batches,
    pieces and pages."""
    if manifest.empty:
        return []
    found = []
    for drop_on, rows in manifest.groupby(manifest["drop_on"].fillna("").astype(str), sort=True):
        found.append({
            "drop_on": drop_on, "mail_by": str(rows["mail_by"].fillna("").astype(str).max()),
            "batches": sorted(rows["batch"].astype(str).unique()), "pieces": len(rows),
            "pages": int(rows["page_count"].astype(int).sum()),
        })
    return found


def readme(config: ClubConfig, edition: str, summary: list[tuple[str, int, int]],
           drops: list[dict] | None = None) -> str:
    """The note for the mailing house, in Chinese and English."""
    return render("letters/README.txt.j2", edition=edition, paper=config.print.paper,
                  window=config.print.envelope_window, duplex=config.print.duplex,
                  envelope=ENVELOPES[config.print.paper], batches=summary,
                  total_pieces=sum(s[1] for s in summary), drops=drops or [],
                  weekly=config.print.drops == "weekly", lead_days=config.print.lead_days,
                  total_pages=sum(s[2] for s in summary), club=club_view(config))
