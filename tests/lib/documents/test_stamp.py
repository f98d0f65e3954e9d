"""Layout once, stamp many (documents/stamp.py) against the normal layout: every page
of the proofs set and of a small edition (rare characters, markup in names, English,
zh-TW, households, a long address and a wrapping salutation) looks the same to the
pixel at 100 dpi, reads the same (pdftotext, per page) and embeds every font."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pikepdf
import pytest
from markupsafe import Markup, escape
from pypdf import PdfReader

from pipeline.config import load_config
from pipeline.lib.documents import letters as lt
from pipeline.lib.documents import newsletter as nl
from pipeline.lib.documents import proofs
from pipeline.lib.documents.pdf import lay_out, render_pdf, write_document
from pipeline.lib.documents.stamp import (WHOLE, Kind, lay_out_backgrounds, split_piece,
                                          stamp_pieces)
from pipeline.lib.rules.calendar import build_calendar
from pipeline.settings import PATHS

sys.path.insert(0, str(Path(__file__).parent))
import test_letters  # noqa: E402  (the small edition's letters)
import test_newsletter  # noqa: E402  (the small edition's newsletters)

EDITION = "2026-12"
LONG_STREET = "幸福路" + "一二三四五六七八九十" * 8 + "号"  # wraps: over 5 lines
LONG_NAME = "欧阳" + "德" * 40  # the salutation wraps


def _config(duplex: bool, paper: str = "A4"):
    config = load_config()
    update = {"duplex": duplex, "paper": paper}
    if paper == "A5":
        update["envelope_window"] = test_letters.A5_WINDOW
    return config.model_copy(update={"print": config.print.model_copy(update=update)})


def _pages(pdf: Path, folder: Path) -> list[np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "100", str(pdf), str(folder / "p")], check=True)
    found = []
    for path in sorted(folder.glob("p-*.ppm")):
        data = path.read_bytes()
        # P6 header: magic, width, height, maxval, each followed by whitespace
        magic, width, height, maxval, pixels = data.split(maxsplit=4)
        found.append(np.frombuffer(pixels, np.uint8).reshape(int(height), int(width), 3))
    return found


def _texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")


def _fonts(pdf: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    return [line.split() for line in out[2:]]


def assert_same(normal: bytes, stamped: bytes, folder: Path) -> None:
    """Pages as images equal pixel for pixel, the same text per page, fonts embedded."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "normal.pdf").write_bytes(normal)
    (folder / "stamped.pdf").write_bytes(stamped)
    a = _pages(folder / "normal.pdf", folder / "normal")
    b = _pages(folder / "stamped.pdf", folder / "stamped")
    assert len(a) == len(b) > 0
    differing = {n + 1: int((x != y).any(axis=2).sum()) for n, (x, y) in enumerate(zip(a, b))
                 if x.shape != y.shape or (x != y).any()}
    assert differing == {}, f"pixels differ on pages {differing}"
    assert _texts(folder / "normal.pdf") == _texts(folder / "stamped.pdf")
    fonts = _fonts(folder / "stamped.pdf")
    assert fonts and all("yes" == row[-5] for row in fonts), fonts  # the emb column
    # a subset's name says which subset it is: one name, one font program
    programs: dict[str, set] = {}
    with pikepdf.open(folder / "stamped.pdf") as document:
        for font in document.objects:
            if isinstance(font, pikepdf.Dictionary) and font.get("/Type") == "/FontDescriptor":
                program = font.get("/FontFile3") or font.get("/FontFile2")
                if program is not None:
                    programs.setdefault(str(font.FontName), set()).add(program.read_raw_bytes())
    assert programs and all(len(found) == 1 for found in programs.values())


def _stamped_letters(pieces: pd.DataFrame, config, folder: Path):
    batch = lt.Batch("sample", 1, pieces)
    splits = lt.split_pieces(pieces, config, EDITION)
    sections = {s.key: s.background for s in splits}
    backgrounds = lt.lay_out_letter_backgrounds(sections, config, folder)
    return lt.render_batch(batch, config, EDITION, backgrounds, folder, splits), len(sections)


def _sample_letters() -> pd.DataFrame:
    pieces = test_letters._pieces()
    long = pieces.iloc[[0, 1]].assign(piece_id=["X-long-address", "X-long-name"])
    long.loc[long.index[0], "address"] = LONG_STREET
    long.loc[long.index[1], "name"] = LONG_NAME
    return pd.concat([pieces, long], ignore_index=True)


@pytest.mark.parametrize("duplex, paper", [(False, "A4"), (True, "A4"), (True, "A5")],
                         ids=["simplex", "duplex", "A5-duplex"])
def test_letters_stamped_look_and_read_as_laid_out_whole(duplex, paper, tmp_path):
    """Also on A5, whose footer (printed in the stacked overlay in a box of its own, with
    the margin box's computed style) is set smaller and without letter spacing."""
    config, pieces = _config(duplex, paper), _sample_letters()
    normal, firsts, counts = lt.render_batch(lt.Batch("sample", 1, pieces), config, EDITION)
    (stamped, s_firsts, s_counts), distinct = _stamped_letters(pieces, config, tmp_path / "bg")
    assert (s_firsts, s_counts) == (firsts, counts)  # page numbers in the manifest
    assert distinct < len(pieces)  # some pieces share a background
    assert_same(normal.pdf, stamped.pdf, tmp_path / "cmp")
    # text read in content-stream order (pypdf) still finds names and dates per piece
    reader = PdfReader(tmp_path / "cmp" / "stamped.pdf")
    first = re.sub(r"\s+", "", reader.pages[firsts[0] - 1].extract_text())
    assert "刘芳女士收" in first and "2021年12月5日" in first


def test_the_guard_lays_out_whole_what_would_move_shared_content(tmp_path):
    """A 5-line address and a wrapping salutation are laid out whole, in one document."""
    config, pieces = _config(False), _sample_letters()
    splits = lt.split_pieces(pieces, config, EDITION)
    backgrounds = lt.lay_out_letter_backgrounds({s.key: s.background for s in splits},
                                                config, tmp_path)
    views = lt.piece_views(pieces)
    club = lt.club_view(config)
    wholes: list[list[int]] = []

    def whole(chosen):
        wholes.append(chosen)
        return lt.batch_html([views[i] for i in chosen], club, EDITION, False)

    stamped = stamp_pieces(lt.stamp_kind(config), splits, whole, backgrounds, tmp_path,
                           "guard", duplex=False)
    assert wholes == [[len(pieces) - 2, len(pieces) - 1]]  # once, both pieces
    assert stamped.whole == 2 and stamped.pages == len(pieces)


def test_every_background_is_carried_once_per_file_and_reruns_match(tmp_path):
    config = _config(False)
    pieces = test_letters._pieces()
    pieces = pd.concat([pieces.iloc[[0]]] * 4, ignore_index=True).assign(
        piece_id=[f"P{n}" for n in range(4)])  # four letters, one background
    (stamped, *_), distinct = _stamped_letters(pieces, config, tmp_path)
    assert distinct == 1
    (again, *_), _ = _stamped_letters(pieces, config, tmp_path / "again")
    assert again.pdf == stamped.pdf  # a rerun gives the same bytes
    with pikepdf.open(io.BytesIO(stamped.pdf)) as document:
        forms = {page.Resources.XObject[name].objgen for page in document.pages
                 for name in page.Resources.XObject.keys() if name.startswith("/Bg")}
    assert len(forms) == 1


def _two_language_kind(stacked: bool = False) -> Kind:
    def document(sections, overlay):
        return ('<html lang="zh-CN"><head><style>@page { size: A6; margin: 10mm } '
                "body { margin: 0 } section { break-before: page } "
                "section:first-child { break-before: auto } "
                ".to { font-size: 14pt; line-height: 24px } "
                ".sal { color: #805030; line-height: 20px }</style></head><body>"
                + "".join(sections) + "</body></html>")
    return Kind("two languages", document, stacked=stacked)


def _two_language_piece(name: str, mixed: bool, stamp) -> str:
    """A piece in zh-TW (its name's 骨 and 直 are drawn differently in zh-CN); `mixed`
    puts its salutation under English."""
    to = stamp.var("to", caller=lambda: escape(name))
    sal = stamp.var("sal", caller=lambda: escape(f"{name} 您好"))
    salutation = f'<p class="sal"{stamp.mark("sal")}>{sal}</p>'
    if mixed:
        salutation = f'<div lang="en">{salutation}</div>'
    return Markup(f'<section{stamp.attr("id", "p-" + name)} lang="zh-TW">'
                  f'<p class="to"{stamp.mark("to")}>{to}</p><p>會員通訊</p>'
                  f"{salutation}</section>")


@pytest.mark.parametrize("stacked", [False, True], ids=["paged", "stacked"])
def test_a_piece_whose_parts_inherit_two_languages_is_laid_out_whole(stacked, tmp_path):
    """The overlay sets each piece's parts under a wrapper of the piece's language
    (styles shared across members); parts that inherit two languages cannot be, so that
    piece is laid out whole, and every page still looks as laid out whole, whether the
    overlay lays its pages out one by one or stacked on one page."""
    kind = _two_language_kind(stacked)
    names, mixed = ["骨一", "直二", "骨直三"], [False, True, False]
    splits = [split_piece(lambda st, i=i: _two_language_piece(names[i], mixed[i], st))
              for i in range(3)]
    backgrounds = lay_out_backgrounds(kind, {s.key: s.background for s in splits},
                                      tmp_path, "bg.pdf")

    def whole(chosen):
        return kind.document([_two_language_piece(names[i], mixed[i], WHOLE)
                              for i in chosen], False)

    stamped = stamp_pieces(kind, splits, whole, backgrounds, tmp_path, "two", duplex=False)
    assert stamped.fallback == ["p-直二"] and stamped.pages == 3
    normal = write_document(lay_out(whole([0, 1, 2]), "normal"), "normal")
    assert_same(normal, stamped.pdf, tmp_path / "cmp")


@pytest.fixture(scope="module")
def holidays():
    return pd.concat([build_calendar(y, PATHS.reference) for y in (2026, 2027)])


def _newsletters_both_ways(edition, members, tmp_path):
    normal = render_pdf(nl.print_html(edition, members), "normal",
                        tuple(nl._piece_id(m) for m in members))
    splits = nl.split_members(edition, members)
    backgrounds = nl.lay_out_print_backgrounds(
        edition, {s.key: s.background for s in splits}, tmp_path / "bg")
    stamped = nl.stamp_print(edition, members, backgrounds, tmp_path / "bg", "stamped", splits)
    assert stamped.anchor_pages == normal.anchor_pages
    assert_same(normal.pdf, stamped.pdf, tmp_path / "cmp")
    return stamped


def test_sample_newsletters_stamped_look_and_read_the_same(holidays, tmp_path):
    """Duplex: the letters' test covers stamp_pieces' blank backs, the same for both."""
    config = _config(False)
    edition = nl.NewsletterEdition.build(holidays, test_newsletter.EVENTS, config,
                                         test_newsletter.EDITION)
    frame = test_newsletter.MEMBERS
    frame = pd.concat([frame, frame.iloc[[0]].assign(member_id="M9", address=LONG_STREET)])
    segments = pd.concat([test_newsletter.SEGMENTS,
                          test_newsletter.SEGMENTS.iloc[[0]].assign(member_id="M9")])
    members = nl.print_order(nl.member_contexts(frame[["member_id"]], frame, segments,
                                                test_newsletter.BIRTHDAYS,
                                                test_newsletter.EDITION))
    _newsletters_both_ways(edition, members, tmp_path)


def test_proofs_stamped_look_and_read_the_same(holidays, tmp_path):
    """Every letter and newsletter branch of the proofs set."""
    config = proofs._print_config(load_config())
    pieces = proofs.letter_pieces(EDITION)
    normal, firsts, _ = lt.render_batch(lt.Batch("proofs", 1, pieces), config, EDITION)
    (stamped, s_firsts, _), _ = _stamped_letters(pieces, config, tmp_path / "letters")
    assert s_firsts == firsts
    assert_same(normal.pdf, stamped.pdf, tmp_path / "letters-cmp")
    events = pd.DataFrame(columns=["event_id", "title", "event_date", "location",
                                   "description", "audience"])
    members = [m for _, m in proofs.newsletter_members(EDITION, config.offers)]
    edition = nl.NewsletterEdition.build(holidays, events, config, EDITION,
                                         audiences={m.audience for m in members})
    _newsletters_both_ways(edition, members, tmp_path / "newsletters")
