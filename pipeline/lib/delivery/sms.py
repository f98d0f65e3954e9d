"""SMS greetings, ready for a gateway (CONTRACT §4 `sms/messages.csv`).

Every planned piece of channel `sms` becomes one row: piece_id, member_id, kind, phone
(E.164), send_on, send_window, text, characters, segments, then encoding (`gsm7` or
`ucs2`) and wording (`full`, `short` or `generic`).

The text comes from templates/sms/strings.yaml, per language and kind (the birthday
with a milestone variant, each festival the club greets, the anniversaries; a festival
without its own wording gets the generic one). It starts with the club's signature in
【】 (`club.sms_signature`, else `club.name_zh`), as Chinese SMS rules require, greets
the member as the letters do (`i18n.salutation`), and a festival text, marketing, ends
with the opt-out phrase (`sms.opt_out`).

Budget: a text may take at most `sms.max_segments` segments (`sms_length`). When the
full wording would take more, the shorter wording is used; when that is still too long
with the member's name (a 40-character name), the same wording with a salutation
without the name (尊敬的会员). A name is never cut. When even that does not fit, the
club's own words are too long: `ValueError` naming the kind and language.

`send_on` is the occasion's day (the birthday itself, the festival, the anniversary),
or the day after the cut-off when the occasion falls on or before it (a late run).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from pipeline.config import ClubConfig
from pipeline.lib.documents import i18n
from pipeline.lib.documents import letters as lt
from pipeline.lib.rules.occasions import send_on
from pipeline.lib.privacy import spreadsheet_safe
from pipeline.lib.delivery.sms_length import sms_length

CHANNEL = "sms"
COLUMNS: tuple[str, ...] = ("piece_id", "member_id", "kind", "phone", "send_on", "send_window",
                            "text", "characters", "segments", "encoding", "wording")
WORDINGS = ("full", "short", "generic")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict]:
    """templates/sms/strings.yaml, checked: every language words the same kinds."""
    return i18n.language_strings("sms")


def signature(config: ClubConfig) -> str:
    """【江畔花园】: club.sms_signature (brackets optional), else club.name_zh."""
    name = (config.club.sms_signature or config.club.name_zh).strip().strip("【】")
    return f"【{name}】"


def wording_key(kind: str, is_milestone: bool, lang: str) -> str:
    """The strings.yaml entry for a kind: its own, the milestone birthday's, or the
    generic festival wording."""
    words = strings()[lang]
    if kind == "birthday" and is_milestone:
        return "birthday-milestone"
    if kind in words:
        return kind
    if kind.startswith("festival-"):
        return "festival"
    raise ValueError(f"sms: no wording for kind {kind!r}")


def _fields(view: dict, config: ClubConfig, salutation: str) -> dict[str, str]:
    lang, words = view["lang"], strings()[view["lang"]]
    count = view["age"] if view["kind"] == "birthday" else view["years"]
    count_text = view["count_zh"] if lang != "en" else str(count or "")
    title = words["milestone_titles"].get(view["age"]) or words["milestone_title"].format(
        count=view["count_zh"], age=view["age"], ordinal=view["count_ordinal"])
    festival = view["festival_name_en"] if lang == "en" else view["festival_name"]
    return {
        "signature": signature(config),
        "salutation": salutation,
        "title": title,
        "age": str(view["age"] or ""),
        "count": count_text,
        "festival": festival,
        "zodiac": words["zodiac"][view["zodiac"]],
        "opt_out": config.sms.opt_out[lang],
    }


@dataclass(frozen=True)
class Text:
    text: str
    characters: int
    segments: int
    encoding: str
    wording: str


def wordings(view: dict, config: ClubConfig) -> list[Text]:
    """Every wording of one piece, in the order they are tried: full, short, and short
    with the generic salutation (what the proofs show)."""
    lang = view["lang"]
    words = strings()[lang]
    entry = words[wording_key(view["kind"], view["is_milestone"], lang)]
    named = i18n.salutation(view["name"], view["title"], lang)
    texts = []
    for wording, template, salutation in (("full", entry["full"], named),
                                          ("short", entry["short"], named),
                                          ("generic", entry["short"], words["generic_salutation"])):
        text = template.format(**_fields(view, config, salutation))
        length = sms_length(text)
        texts.append(Text(text, length.characters, length.segments, length.encoding, wording))
    return texts


def compose(view: dict, config: ClubConfig) -> Text:
    """The SMS for one piece (`view` from letters.piece_view), within the budget."""
    budget = config.sms.max_segments
    texts = wordings(view, config)
    for text in texts:
        if text.segments <= budget:
            return text
    lang, length = view["lang"], texts[-1]
    raise ValueError(
        f"sms {view['piece_id']}: the shortest {lang} wording for {view['kind']} takes "
        f"{length.segments} segments, more than sms.max_segments = {budget}; shorten "
        f"club.sms_signature or sms.opt_out")


def sms_pieces(plan: pd.DataFrame, members: pd.DataFrame, birthdays: pd.DataFrame,
               anniversaries: pd.DataFrame, festivals: pd.DataFrame, edition: str) -> pd.DataFrame:
    """The plan's SMS pieces with what their text needs and the member's phone."""
    pieces = lt.letter_pieces(plan, members, birthdays, anniversaries, festivals, edition,
                              channel=CHANNEL)
    phones = members[["member_id", "phone"]].astype({"member_id": "string"})
    return pieces.merge(phones.drop_duplicates("member_id"), on="member_id", how="left")


def messages(pieces: pd.DataFrame, config: ClubConfig, as_of: date) -> pd.DataFrame:
    """One row per piece (COLUMNS), in piece_id order."""
    rows = []
    for piece in pieces.to_dict("records"):
        view = lt.piece_view(piece)
        phone = lt._text(piece["phone"])
        if not phone:
            raise ValueError(f"sms {view['piece_id']}: the member has no phone number")
        text = compose(view, config)
        rows.append((view["piece_id"], str(piece["member_id"]), view["kind"], phone,
                     send_on(view["occasion_date"], as_of).isoformat(), config.sms.send_window,
                     text.text, text.characters, text.segments, text.encoding, text.wording))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.astype({c: "string" for c in COLUMNS if c not in ("characters", "segments")})
    frame = frame.astype({"characters": "int64", "segments": "int64"})
    return frame.sort_values("piece_id", kind="stable").reset_index(drop=True)


def write_messages(frame: pd.DataFrame, folder: Path) -> Path:
    """sms/messages.csv: UTF-8 with BOM, formula-safe; the phone as the gateway needs it
    (E.164, no quote before the plus)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "messages.csv"
    spreadsheet_safe(frame, phones=("phone",)).to_csv(path, index=False, encoding="utf-8-sig")
    return path
