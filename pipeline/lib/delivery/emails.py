"""E-mail pieces, ready to send (CONTRACT §4 `email/`).

Every planned piece of channel `email` becomes one RFC 5322 message file
`email/<kind>/<piece_id>.eml` (both parts reduced to `[A-Za-z0-9_-]`), and one row of
`email/outbox.csv`: piece_id, member_id, kind, to, subject, file (relative to
`email/`), send_on; for an ESP import or an SMTP sender.

- Greetings (birthday, anniversaries, festivals) say what the letter says, in the
  member's language (templates/email/greeting.html.j2 around the letter's wording)
  in the newsletter's e-mail frame: every style inline, nothing loaded from outside.
  The plain-text part is the same text. Names are autoescaped in the HTML and plain
  in the text part (`<b>` in a name is shown as `<b>`, never as markup).
- Newsletters are the files the newsletter step wrote (`newsletters/html/` and
  `newsletters/text/`), byte for byte, as the two parts.

Messages are built with Python's `email` package (its MIME classes: CRLF lines,
RFC 2047 encoded headers): `multipart/alternative` text + HTML, `Subject`, `From`
(`email.from_address`, else `club.email`), `To`, `Date` (the send_on day at the start of
the sending window, in the club's time zone), `Message-ID` (`<piece_id@sender domain>`)
and `List-Unsubscribe` (a mailto of `email.unsubscribe_mailto`, else `club.email`, and
the `email.unsubscribe_url`) with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058) when the URL is set. The same inputs give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pandas as pd
from markupsafe import Markup

from pipeline.config import ClubConfig
from pipeline.lib.documents import i18n
from pipeline.lib.documents import letters as lt
from pipeline.lib.documents import newsletter as nl
from pipeline.lib.edition import first_day_of
from pipeline.lib.rules.occasions import send_on
from pipeline.lib.privacy import spreadsheet_safe
from pipeline.lib.documents.templating import environment
from pipeline.lib.rules.contact import safe_text

CHANNEL = "email"
OUTBOX_COLUMNS: tuple[str, ...] = ("piece_id", "member_id", "kind", "to", "subject", "file",
                                   "send_on")
NO_SENDER = "members@clubpress.invalid"  # when neither email.from_address nor club.email
# CRLF line ends, as SMTP wants them. Headers are folded here (encoded words at 78, the
# List-Unsubscribe URIs one per line, never encoded) and written as folded, within the
# 998 characters a line may have.
POLICY = compat32.clone(linesep="\r\n", max_line_length=998)


@lru_cache(maxsize=1)
def strings() -> dict[str, dict]:
    """templates/email/strings.yaml, checked: every language has every key."""
    return i18n.language_strings("email")


@dataclass(frozen=True)
class Sender:
    """What every message of an edition shares: who sends it and how to unsubscribe."""

    address: str
    unsubscribe_mailto: str
    unsubscribe_url: str
    timezone: str
    window_start: time

    @classmethod
    def of(cls, config: ClubConfig) -> Sender:
        address = config.email.from_address or config.club.email or NO_SENDER
        start = config.sms.send_window.split("-")[0]
        return cls(address, config.email.unsubscribe_mailto or config.club.email or address,
                   config.email.unsubscribe_url, config.timezone, time.fromisoformat(start))

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1]


def _encoded(text: str, name: str) -> str:
    """Non-ASCII header text as RFC 2047 encoded words of at most 75 characters, on
    lines of at most 78 (the email package's Header)."""
    return Header(text, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=76)


def _subject(text: str) -> str:
    return text if text.isascii() else _encoded(text, "Subject")


def _address(name: str, address: str, field: str) -> str:
    """`name <address>`: an ASCII name quoted where it must be (formataddr), any other
    encoded."""
    if name.isascii():
        return formataddr((name, address))
    encoded = _encoded(name, field)
    lines = encoded.split("\r\n")
    used = len(lines[-1]) + (len(field) + 2 if len(lines) == 1 else 0)
    fold = " " if used + len(address) + 3 <= 78 else "\r\n "  # the address on its own line
    return f"{encoded}{fold}<{address}>"


def message(*, piece_id: str, subject: str, sender: Sender, sender_name: str, to_name: str,
            to_address: str, text: str, html: str, day: date) -> bytes:
    """One RFC 5322 message, multipart/alternative (text, then HTML).

    Built with the email package's MIME classes: its modern EmailMessage parses every
    header it is given and took four times as long per message."""
    msg = MIMEMultipart("alternative", boundary=f"=_clubpress_{piece_id}")  # not random
    msg["Subject"] = _subject(subject)
    msg["From"] = _address(sender_name, sender.address, "From")
    msg["To"] = _address(to_name, to_address, "To")
    msg["Date"] = format_datetime(datetime.combine(day, sender.window_start,
                                                   tzinfo=ZoneInfo(sender.timezone)))
    msg["Message-ID"] = f"<{piece_id}@{sender.domain}>"
    targets = [f"<mailto:{sender.unsubscribe_mailto}?subject={quote('unsubscribe ' + piece_id)}>"]
    if sender.unsubscribe_url:
        targets.append(f"<{sender.unsubscribe_url.replace('{piece_id}', quote(piece_id))}>")
    # URIs in angle brackets stay as they are, one per line, never encoded.
    msg["List-Unsubscribe"] = ",\r\n ".join(targets)
    if sender.unsubscribe_url:
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(MIMEText(html, "html", "utf-8"))
    return msg.as_bytes(policy=POLICY)


# --------------------------------------------------------------------------- greetings


def html_to_text(fragment: str) -> str:
    """The plain text of our own rendered (autoescaped) HTML: one line per paragraph or
    line break, tags removed and entities decoded (markupsafe's striptags)."""
    blocks = fragment.replace("<br>", "</p>").replace("</tr>", "</p>").split("</p>")
    lines = [Markup(block).striptags() for block in blocks]
    return "\n\n".join(line for line in lines if line) + "\n"


def _footer(config: ClubConfig, lang: str, st: dict) -> Markup:
    club = nl._club(config, lang)
    words = strings()[lang]
    club["why"] = words["why"].format(club=club["name"])
    unsubscribe = words["unsubscribe"].format(phone=club["phone"] or club["email"])
    macros = environment().get_template("newsletter/parts.html.j2").module
    return macros.footer(nl.strings()[lang], st, club, unsubscribe)


class Greetings:
    """Renders greeting e-mails; what a language shares (styles, footer, the letter's
    wording macros) is prepared once per edition and language."""

    def __init__(self, config: ClubConfig):
        self.config = config
        self.club = lt.club_view(config)
        env = environment()
        self.template = env.get_template("email/greeting.html.j2")
        self.words = {lang: env.get_template(f"letters/{lang}.html.j2").module
                      for lang in i18n.LANGUAGES}
        self.styles = {lang: nl.styles(lang, "email") for lang in i18n.LANGUAGES}
        self.footers = {lang: _footer(config, lang, self.styles[lang]) for lang in i18n.LANGUAGES}

    def club_name(self, lang: str) -> str:
        return nl.club_name(self.config, lang)

    def render(self, view: dict) -> tuple[str, str, str]:
        """(subject, html, text) of one greeting piece (`view` from letters.piece_view)."""
        lang = view["lang"]
        heading = Markup(str(self.words[lang].heading(view))).striptags()
        subject = f"{heading} · {self.club_name(lang)}"
        html = self.template.render(p=view, club=self.club, club_name=self.club_name(lang),
                                    subject=subject, st=self.styles[lang],
                                    footer=self.footers[lang])
        body = html.split("<body", 1)[1]
        return subject, html, html_to_text(body[body.index(">") + 1:])


def greeting_pieces(plan: pd.DataFrame, members: pd.DataFrame, birthdays: pd.DataFrame,
                    anniversaries: pd.DataFrame, festivals: pd.DataFrame,
                    edition: str) -> pd.DataFrame:
    """The plan's e-mail greetings (every kind but the newsletter) with the address."""
    pieces = lt.letter_pieces(plan, members, birthdays, anniversaries, festivals, edition,
                              channel=CHANNEL)
    addresses = members[["member_id", "email"]].astype({"member_id": "string"})
    return pieces.merge(addresses.drop_duplicates("member_id"), on="member_id", how="left")


def _eml_path(kind: str, piece_id: str) -> str:
    return f"{safe_text(kind)}/{safe_text(piece_id)}.eml"


def _write(folder: Path, relative: str, data: bytes) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_greetings(pieces: pd.DataFrame, config: ClubConfig, as_of: date,
                    folder: Path) -> list[tuple]:
    """An .eml per greeting piece below `folder`; their outbox rows."""
    sender, rows = Sender.of(config), []
    greetings = Greetings(config) if len(pieces) else None
    for piece in pieces.to_dict("records"):
        view = lt.piece_view(piece)
        address = lt._text(piece["email"])
        if not address:
            raise ValueError(f"email {view['piece_id']}: the member has no e-mail address")
        subject, html, text = greetings.render(view)
        day = send_on(view["occasion_date"], as_of)
        sender_name = greetings.club_name(view["lang"])
        data = message(piece_id=view["piece_id"], subject=subject, sender=sender,
                       sender_name=sender_name, to_name=view["name"], to_address=address,
                       text=text, html=html, day=day)
        relative = _eml_path(view["kind"], view["piece_id"])
        _write(folder, relative, data)
        rows.append((view["piece_id"], str(piece["member_id"]), view["kind"], address, subject,
                     relative, day.isoformat()))
    return rows


# --------------------------------------------------------------------------- newsletters


def write_newsletters(plan: pd.DataFrame, members: pd.DataFrame, config: ClubConfig,
                      edition: str, as_of: date, newsletters_dir: Path,
                      folder: Path) -> list[tuple]:
    """An .eml per e-mail newsletter piece, from the files in `newsletters_dir`
    (html/ and text/, as the newsletter step wrote them); their outbox rows."""
    pieces = plan[(plan["channel"] == CHANNEL) & (plan["kind"] == nl.KIND)]
    pieces = pieces[["piece_id", "member_id", "kind"]].astype("string").merge(
        members[["member_id", "name", "email", "language"]].astype({"member_id": "string"})
        .drop_duplicates("member_id"), on="member_id", how="left")
    sender, rows = Sender.of(config), []
    start = first_day_of(edition)
    day = send_on(start, as_of)
    subjects = {lang: nl._headline(config, start, lang)["title"] for lang in i18n.LANGUAGES}
    stems = nl.safe_names(pieces["member_id"].tolist())
    for piece, stem in zip(pieces.to_dict("records"), stems):
        lang = i18n.language(piece["language"] if isinstance(piece["language"], str) else None)
        subject = subjects[lang]
        html = (newsletters_dir / "html" / f"{stem}.html").read_text(encoding="utf-8")
        text = (newsletters_dir / "text" / f"{stem}.txt").read_text(encoding="utf-8")
        address = lt._text(piece["email"])
        if not address:
            raise ValueError(f"email {piece['piece_id']}: the member has no e-mail address")
        data = message(piece_id=str(piece["piece_id"]), subject=subject, sender=sender,
                       sender_name=nl.club_name(config, lang), to_name=lt._text(piece["name"]),
                       to_address=address, text=text, html=html, day=day)
        relative = _eml_path(nl.KIND, str(piece["piece_id"]))
        _write(folder, relative, data)
        rows.append((str(piece["piece_id"]), str(piece["member_id"]), nl.KIND, address, subject,
                     relative, day.isoformat()))
    return rows


def write_outbox(rows: list[tuple], folder: Path) -> pd.DataFrame:
    """email/outbox.csv (UTF-8 with BOM, formula-safe), in piece_id order."""
    folder.mkdir(parents=True, exist_ok=True)
    outbox = pd.DataFrame(rows, columns=list(OUTBOX_COLUMNS)).astype("string")
    outbox = outbox.sort_values("piece_id", kind="stable").reset_index(drop=True)
    spreadsheet_safe(outbox).to_csv(folder / "outbox.csv", index=False, encoding="utf-8-sig")
    return outbox
