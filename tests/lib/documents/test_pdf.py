"""Joining the slices of one print batch (pdf.join_pdfs), and the user-agent stylesheet
our documents are laid out with."""

from __future__ import annotations

import io
import re

import weasyprint.html
from pypdf import PdfReader

from pipeline.lib.documents.pdf import NOTE_RULES, join_pdfs, render_pdf, user_agent_css
from pipeline.settings import PATHS

PAGE = '<section id="nl-{id}" style="break-after: page"><p>会员 {id} 您好</p></section>'


def _part(ids: list[str]) -> bytes:
    return render_pdf("<html><body>" + "".join(PAGE.format(id=i) for i in ids)
                      + "</body></html>", "test part").pdf


def test_joined_slices_keep_every_piece_anchor_on_its_own_page():
    """The produced check finds a printed newsletter by its anchor (a named destination);
    a batch cut into slices and joined again must still have every piece's anchor,
    pointing at the page that piece starts on."""
    joined = PdfReader(io.BytesIO(join_pdfs([_part(["A1", "A2"]), _part(["B1", "B2", "B3"])])))
    pages = {name: joined.get_destination_page_number(dest)
             for name, dest in joined.named_destinations.items()}
    assert pages == {"nl-A1": 0, "nl-A2": 1, "nl-B1": 2, "nl-B2": 3, "nl-B3": 4}
    assert "会员 B2" in joined.pages[3].extract_text()


def test_the_user_agent_stylesheet_drops_only_the_note_rules():
    """Every note rule is found and dropped, `::marker` narrowed to list items, nothing
    else touched (a WeasyPrint upgrade that moves these rules fails here, not quietly)."""
    original = weasyprint.html.UA.splitlines()
    trimmed = user_agent_css(weasyprint.html.UA).splitlines()
    dropped = [line for line in original if line.startswith(NOTE_RULES)]
    assert len(dropped) == len(NOTE_RULES)
    changed = [(a, b) for a, b in zip([l for l in original if l not in dropped], trimmed) if a != b]
    assert [b for _, b in changed] == [
        "li::marker { font-variant-numeric: tabular-nums; white-space: pre; text-transform: none }"]


def test_no_template_uses_footnotes_or_notes():
    """The trimmed stylesheet has no note rules: a template with footnotes would lose
    their numbers."""
    found = [path.name for path in PATHS.templates.rglob("*")
             if path.is_file() and re.search(r"footnote|float:\s*note|::note",
                                             path.read_text("utf-8", errors="replace"))]
    assert found == []


def test_a_numbered_list_keeps_its_numbers():
    html = "<html><body><ol><li>经营概览</li><li>会员分群</li></ol></body></html>"
    text = PdfReader(io.BytesIO(render_pdf(html, "list").pdf)).pages[0].extract_text()
    assert sorted(re.sub(r"\s+", " ", text).split()) == ["1.", "2.", "会员分群", "经营概览"]
