"""Which characters of a text no font of a family list can draw (they would print as tofu).

WeasyPrint never fails on a character its fonts lack: it prints an empty box. Letters
carry names and addresses from a CRM, where rare characters (𠮷, 喆, 堃, 燊) and stray
private-use code points both occur, so a render checks its member text first with
`missing_glyphs(text, families)`.

Font files come from fontconfig (`fc-list`, the same lookup WeasyPrint uses), their
character maps are read once per process with fontTools; a `.ttc` collection is read
at the face index fontconfig reports.
"""

from __future__ import annotations

import hashlib
import subprocess
import unicodedata
from functools import lru_cache

import numpy as np
from fontTools.ttLib import TTFont

# The fonts letters and print newsletters are set in (fonts-noto-cjk), in CSS order.
LETTER_FONTS: tuple[str, ...] = ("Noto Serif CJK SC", "Noto Serif CJK TC", "Noto Sans CJK SC")


class FontsMissing(RuntimeError):
    """None of the letter fonts is installed: every document would print empty boxes."""


# Characters that need no glyph of their own: they are laid out, not drawn.
_IGNORED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _is_ignored(char: str) -> bool:
    """Whitespace, controls, format characters and variation selectors."""
    if char.isspace() or unicodedata.category(char) in _IGNORED_CATEGORIES:
        return True
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _font_faces(family: str) -> tuple[tuple[str, int], ...]:
    """(file, face index) of every installed face whose family is exactly `family`."""
    listing = subprocess.run(
        ["fc-list", "-f", "%{file}\t%{index}\t%{family}\n", f":family={family}"],
        capture_output=True, text=True, check=True,
    ).stdout
    faces = []
    for line in listing.splitlines():
        path, index, families = line.split("\t", 2)
        if family in families.split(","):
            faces.append((path, int(index or 0)))
    return tuple(sorted(set(faces)))


# Character maps by the SHA-1 of their bytes: the Regular and Bold files of a family
# carry identical maps, which are then decoded once.
_CMAPS: dict[bytes, frozenset[int]] = {}


@lru_cache(maxsize=None)
def _face_coverage(path: str, index: int) -> frozenset[int]:
    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        key = hashlib.sha1(font.reader["cmap"]).digest()
        if key not in _CMAPS:
            _CMAPS[key] = frozenset(font.getBestCmap() or {})
        return _CMAPS[key]
    finally:
        font.close()


@lru_cache(maxsize=None)
def family_coverage(family: str) -> frozenset[int]:
    """Code points some installed face of `family` maps; empty when it is not installed."""
    covered: set[int] = set()
    for path, index in _font_faces(family):
        covered |= _face_coverage(path, index)
    return frozenset(covered)


@lru_cache(maxsize=None)
def _coverage(families: tuple[str, ...]) -> frozenset[int]:
    return frozenset().union(*(family_coverage(f) for f in families))


def missing_glyphs(text: str, font_families: tuple[str, ...]) -> set[str]:
    """Characters of `text` that no font of `font_families` covers (whitespace and
    controls ignored); an uninstalled family covers nothing."""
    covered = _coverage(tuple(font_families))
    return {ch for ch in _distinct(text) if ord(ch) not in covered and not _is_ignored(ch)}


_LONG_TEXT = 100_000  # characters; from here on NumPy counts code points faster


def _distinct(text: str) -> set[str]:
    """The characters of `text`; a long one (a million addresses) is tallied by code
    point in NumPy, where a Python set of twenty million characters takes seconds."""
    if len(text) < _LONG_TEXT:
        return set(text)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return {chr(code) for code in np.flatnonzero(np.bincount(codes))}


def unprintable(texts: list[str], font_families: tuple[str, ...] = LETTER_FONTS) -> set[str]:
    """Characters of any of `texts` that no font of `font_families` covers. Raises
    FontsMissing when none of the families is installed at all (a machine set up without
    `make setup`), instead of calling every character unprintable."""
    if not _coverage(tuple(font_families)):
        raise FontsMissing(
            f"none of the letter fonts ({', '.join(font_families)}) is installed; install "
            "fonts-noto-cjk (`make setup` does) and run again")
    return missing_glyphs("".join(texts), font_families)
