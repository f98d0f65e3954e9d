"""PDF rendering with WeasyPrint: safe, deterministic, loud, and fast in batches.

- Safe: `AssetFetcher` serves only files below the project's templates/assets folders;
  any other URL (http, data outside, file:///etc/passwd) is refused, so member data can
  never make a document fetch anything.
- Deterministic: fixed PDF identifier and metadata dates, so the same input gives the
  same bytes.
- Loud: every WeasyPrint warning (a missing image, an unknown CSS property, a refused
  URL) becomes a `RenderError` instead of a silently degraded document.
- Fast: one `FontConfiguration` and one image cache per process; many pieces are
  rendered as one document (`render_batch`), which is many times faster per page. A
  batch too big for one process is laid out in parts on several and joined
  (`join_pdfs`, qpdf through pikepdf: pages copied as they are, nothing laid out again).
"""

from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pikepdf
import weasyprint.html
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from pipeline.settings import PATHS

PDF_IDENTIFIER = b"clubpress"
FIXED_DATE = "2000-01-01T00:00:00+00:00"


class RenderError(Exception):
    """A document could not be rendered exactly as written (the message says why)."""


class AssetFetcher(URLFetcher):
    """A URL fetcher that serves files below `roots` and refuses everything else."""

    def __init__(self, roots: tuple[Path, ...]):
        super().__init__(allowed_protocols={"file"})
        self.roots = tuple(r.resolve() for r in roots)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RenderError(f"refused to fetch {url!r}: only the project's assets are served")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise RenderError(f"refused to fetch {url!r}: not one of the project's assets")
        mime, _ = mimetypes.guess_type(path.name)
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), {"Content-Type": mime or "application/octet-stream"}
        )


@lru_cache(maxsize=1)
def font_config() -> FontConfiguration:
    """One font configuration per process: font lookup and subsetting caches are shared."""
    return FontConfiguration()


@lru_cache(maxsize=1)
def fetcher() -> AssetFetcher:
    return AssetFetcher((PATHS.templates, PATHS.assets))


_IMAGE_CACHE: dict = {}

# WeasyPrint's user-agent stylesheet gives pseudo-elements to every element: five rules
# style footnote and note calls and markers (`::footnote-call { ... }`), and `::marker`
# every list marker, each without an element in its selector, so it matches them all.
# WeasyPrint then computes six pseudo-element styles for each element, none of them ever
# drawn: 5-10% of a print overlay page's time, a few percent of a background's. Our
# templates use no footnotes or notes (`float: footnote`, checked by
# tests/lib/documents/test_pdf.py), and only `li` is a list item in them.
NOTE_RULES = ("::footnote-call {", "::footnote-marker {", "::note-call {", "::note-marker {",
              "::note-callback {")
MARKER_RULE = ("::marker {", "li::marker {")


def user_agent_css(text: str) -> str:
    """WeasyPrint's user-agent stylesheet `text` without the note rules, its `::marker`
    rule for list items only."""
    kept = [line for line in text.splitlines() if not line.startswith(NOTE_RULES)]
    return "\n".join(line.replace(*MARKER_RULE) if line.startswith(MARKER_RULE[0]) else line
                     for line in kept)


@lru_cache(maxsize=1)
def _user_agent_stylesheet() -> CSS:
    # Its own counter styles: WeasyPrint's already hold the sheet's @counter-style rules,
    # and a second definition of one is refused with a warning.
    return CSS(string=user_agent_css(weasyprint.html.UA), counter_style=CounterStyle())


class _HTML(HTML):
    """An HTML document laid out with `user_agent_css`'s stylesheet."""

    def _ua_stylesheets(self, forms=False):
        return [_user_agent_stylesheet(), *super()._ua_stylesheets(forms)[1:]]


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _warnings_are_errors(what: str):
    """Turn any WeasyPrint warning during the block into a RenderError naming `what`."""
    logger = logging.getLogger("weasyprint")
    collect = _Collect()
    logger.addHandler(collect)
    previous = logger.propagate
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(collect)
        logger.propagate = previous
    if collect.messages:
        raise RenderError(f"{what}: " + "; ".join(dict.fromkeys(collect.messages)))


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    anchor_pages: dict[str, int]  # anchor id -> 1-based page on which it starts


def render_pdf(
    html: str,
    what: str,
    anchors: tuple[str, ...] = (),
    stylesheets: list[CSS] | None = None,
    keep_pages: Callable[[dict[str, int]], int] | None = None,
) -> Rendered:
    """HTML to PDF bytes; `anchors` are element ids whose first page is reported.

    For a batch of letters, put every piece in one HTML document (each piece an element
    with an id and `break-before: page`) and pass the ids: one layout for the whole
    batch is many times faster per page than one document per piece.

    `keep_pages`, given the anchors' pages, says how many leading pages to write (the
    rest are left out, without laying the document out again).
    """
    document = lay_out(html, what, stylesheets)
    found = {}
    for number, page in enumerate(document.pages, start=1):
        for anchor in page.anchors:
            found.setdefault(anchor, number)
    missing = [a for a in anchors if a not in found]
    if missing:
        raise RenderError(f"{what}: no page holds the element(s) {', '.join(missing[:5])}")
    placed = {a: found[a] for a in anchors}
    if keep_pages is not None:
        document = document.copy(document.pages[:keep_pages(placed)])
    return Rendered(write_document(document, what), len(document.pages), placed)


def lay_out(html: str, what: str, stylesheets: list[CSS] | None = None) -> Document:
    """WeasyPrint's layout of `html` (pages and their boxes), warnings as RenderError."""
    with _warnings_are_errors(what):
        return _HTML(
            string=html, base_url=PATHS.templates.as_uri() + "/", url_fetcher=fetcher()
        ).render(font_config=font_config(), stylesheets=stylesheets or [], cache=_IMAGE_CACHE)


def write_document(document: Document, what: str) -> bytes:
    """A laid-out document as PDF bytes, with the fixed identifier and dates."""
    with _warnings_are_errors(what):
        document.metadata.created = FIXED_DATE
        document.metadata.modified = FIXED_DATE
        return document.write_pdf(pdf_identifier=PDF_IDENTIFIER)


def css(text: str) -> CSS:
    return CSS(string=text, font_config=font_config(), url_fetcher=fetcher())


def join_pdfs(documents: list[bytes], pad_to_even: bool = False) -> bytes:
    """The pages of `documents` (WeasyPrint PDFs, parts of one batch) in one PDF, each
    page as it was laid out: its content, fonts and images are copied, not redrawn.

    WeasyPrint tags a font subset after the font file alone, so the parts carry
    different subsets of one font under the same name; each subset is renamed after a
    hash of its own bytes, which a printer's font cache can tell apart. The result
    depends only on the parts' bytes (fixed identifier, the first part's metadata).
    `pad_to_even` follows every part but the last that has an odd number of pages with a
    blank page of its last page's size (duplex: the next part starts on a front page).
    """
    if len(documents) == 1:
        return documents[0]
    with pikepdf.new() as joined:
        sources = [pikepdf.open(io.BytesIO(data)) for data in documents]
        destinations = pikepdf.NameTree.new(joined)
        try:
            for number, source in enumerate(sources, start=1):
                offset = len(joined.pages)
                joined.pages.extend(source.pages)
                _copy_destinations(source, joined, offset, destinations)
                if pad_to_even and number < len(sources) and len(source.pages) % 2:
                    box = source.pages[-1].mediabox
                    joined.add_blank_page(page_size=(float(box[2]) - float(box[0]),
                                                     float(box[3]) - float(box[1])))
            first = sources[0]
            joined.docinfo = joined.copy_foreign(first.make_indirect(first.docinfo))
            for key in ("/Lang", "/ViewerPreferences", "/MarkInfo"):
                if key in first.Root:
                    joined.Root[key] = joined.copy_foreign(first.make_indirect(first.Root[key]))
            if len(destinations):
                joined.Root.Names = pikepdf.Dictionary(Dests=destinations.obj)
            _name_subsets_by_content(joined)
            buffer = io.BytesIO()
            joined.save(buffer, deterministic_id=True, compress_streams=True,
                        object_stream_mode=pikepdf.ObjectStreamMode.generate)
        finally:
            for source in sources:
                source.close()
    return buffer.getvalue()


def _destinations(document: pikepdf.Pdf) -> pikepdf.NameTree | None:
    """The document's named destinations (each piece's anchor), if it has any."""
    names = document.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return None
    return pikepdf.NameTree(names.Dests)


def destination_names(path: Path) -> list[str]:
    """The names of a PDF's named destinations, in name order (read by qpdf: pypdf takes
    seven times as long on a batch of a thousand pieces)."""
    with pikepdf.open(path) as document:
        tree = _destinations(document)
        return list(tree.keys()) if tree is not None else []


def _copy_destinations(source: pikepdf.Pdf, joined: pikepdf.Pdf, offset: int,
                       into: pikepdf.NameTree) -> None:
    """Add the named destinations of `source` (each piece's anchor) to `into`, pointing
    at the same page among `joined`'s pages, which hold `source`'s from `offset` on."""
    tree = _destinations(source)
    if tree is None:
        return
    index = {page.objgen: number for number, page in enumerate(source.pages)}
    for name, target in tree.items():
        if isinstance(target, pikepdf.Dictionary):  # the {/D [...]} form
            target = target.D
        page = index.get(target[0].objgen)
        if page is None:
            continue  # a destination to no page of the part (none is written)
        rest = [joined.copy_foreign(item) if isinstance(item, pikepdf.Object) and
                item.is_indirect else item for item in list(target)[1:]]
        into[name] = pikepdf.Array([joined.pages[offset + page].obj, *rest])


_SUBSET_TAG = 6  # letters before the "+" of a subset font's name


def _subset_tag(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:_SUBSET_TAG])


def _renamed(name: pikepdf.Name, tag: str) -> pikepdf.Name:
    text = str(name)[1:]
    if len(text) > _SUBSET_TAG and text[_SUBSET_TAG] == "+":
        text = text[_SUBSET_TAG + 1:]
    return pikepdf.Name("/" + tag + "+" + text)


def _name_subsets_by_content(document: pikepdf.Pdf) -> None:
    """Rename every embedded font subset after the SHA-256 of its font program."""
    for font in document.objects:
        if not isinstance(font, pikepdf.Dictionary) or font.get("/Type") != "/Font":
            continue
        if font.get("/Subtype") != "/Type0":
            continue
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get("/FontDescriptor")
            program = next((descriptor[k] for k in ("/FontFile2", "/FontFile3", "/FontFile")
                            if descriptor is not None and k in descriptor), None)
            if program is None:
                continue
            tag = _subset_tag(program.read_raw_bytes())
            descendant.BaseFont = _renamed(descendant.BaseFont, tag)
            descriptor.FontName = _renamed(descriptor.FontName, tag)
            font.BaseFont = _renamed(font.BaseFont, tag)


def page_count(path: Path) -> int:
    """Pages of a PDF file, from its page tree (qpdf reads no content)."""
    with pikepdf.open(path) as document:
        return len(document.pages)
