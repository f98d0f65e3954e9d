"""Pages of two PDFs compared the way a reader sees them: as images and as text."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pikepdf
from pypdf import PdfReader


def page_images(pdf: bytes, dpi: int = 100) -> list[np.ndarray]:
    """Every page rendered by poppler (pdftoppm) at `dpi`, as an RGB array."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), str(source), str(Path(folder) / "p")],
                       check=True)
        return [_read_ppm(path) for path in sorted(Path(folder).glob("p-*.ppm"))]


def _read_ppm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    magic, width, height, depth, rest = data.split(maxsplit=4)
    assert magic == b"P6" and depth == b"255"
    return np.frombuffer(rest, dtype=np.uint8).reshape(int(height), int(width), 3)


def differing_pixels(first: bytes, second: bytes) -> list[int]:
    """Per page, the pixels that differ (a page count mismatch fails at once)."""
    a, b = page_images(first), page_images(second)
    assert len(a) == len(b), f"{len(a)} pages against {len(b)}"
    return [int((x != y).any(axis=2).sum()) if x.shape == y.shape else x.size
            for x, y in zip(a, b)]


def page_texts(pdf: bytes) -> list[str]:
    import io
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def fonts(pdf: bytes) -> list[tuple[str, bool]]:
    """(name, embedded) of every font the pages use."""
    import io
    found = {}
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for font in (page.Resources.get("/Font") or {}).values():
                for face in font.get("/DescendantFonts", [font]):
                    descriptor = face.get("/FontDescriptor")
                    embedded = descriptor is not None and any(
                        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                    program = (next(descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3")
                               if k in descriptor).read_raw_bytes() if embedded else b"")
                    found.setdefault((str(face.BaseFont), embedded, hash(program)), None)
    return [(name, embedded) for name, embedded, _ in found]
