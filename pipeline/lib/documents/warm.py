"""Warm WeasyPrint once in the step processes' parent: imported by the forkserver
(`pipeline.steps.PRELOAD`), so every step forked from it starts with the fonts found,
loaded and shaped, and the process's FontConfiguration (`pdf.font_config`) made.

Without it each render step spent its first seconds on fontconfig and on opening the
CJK fonts (tens of MB each), once per step and per shard.
"""

from __future__ import annotations

from pipeline.lib.documents import glyphs, pdf

# Every face the letters, newsletters and report use, in regular and bold.
FACES = ("Noto Serif CJK SC", "Noto Serif CJK TC", "Noto Sans CJK SC", "Noto Sans CJK TC",
         "Noto Serif", "Noto Sans")


def warm() -> int:
    """Lay out and write one page in every face; its page count."""
    lines = "".join(f'<p style="font-family: \'{face}\'">会员 會員 Member 2026 '
                    f'<b>会员 會員 Member</b></p>' for face in FACES)
    html = f"<html><body>{lines}</body></html>"
    document = pdf.lay_out(html, "warming the fonts")
    pdf.write_document(document, "warming the fonts")
    return len(document.pages)


warm()
# The letter fonts' character maps, decoded once here (about 1 s): the members' ingest
# and the letters check every name and address against them.
glyphs.missing_glyphs("", glyphs.LETTER_FONTS)
