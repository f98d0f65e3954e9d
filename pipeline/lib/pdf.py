"""PDF rendering with WeasyPrint: safe, deterministic, loud, and fast in batches.

- Safe: `AssetFetcher` serves only files below the project's templates/assets folders;
  any other URL (http, data outside, file:///etc/passwd) is refused, so member data can
  never make a document fetch anything.
- Deterministic: fixed PDF identifier and metadata dates, so the same input gives the
  same bytes.
- Loud: every WeasyPrint warning (a missing image, an unknown CSS property, a refused
  URL) becomes a `RenderError` instead of a silently degraded document.
- Fast: one `FontConfiguration` and one image cache per process; many pieces are
  rendered as one document (`render_batch`), which is many times faster per page.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
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
    with _warnings_are_errors(what):
        document = HTML(
            string=html, base_url=PATHS.templates.as_uri() + "/", url_fetcher=fetcher()
        ).render(font_config=font_config(), stylesheets=stylesheets or [], cache=_IMAGE_CACHE)
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
        document.metadata.created = FIXED_DATE
        document.metadata.modified = FIXED_DATE
        pdf = document.write_pdf(pdf_identifier=PDF_IDENTIFIER)
    return Rendered(pdf, len(document.pages), placed)


def css(text: str) -> CSS:
    return CSS(string=text, font_config=font_config(), url_fetcher=fetcher())
