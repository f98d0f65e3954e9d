"""Joining the slices of one print batch (pdf.join_pdfs)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from pipeline.lib.documents.pdf import join_pdfs, render_pdf

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
