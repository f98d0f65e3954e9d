"""Layout once, stamp many: print pieces as a shared background under a small overlay.

Most of a greeting letter or a print newsletter is the same for many members: only the
address window, the salutation, a few values and the reference differ. The templates
mark those parts (`{% call stamp.var("name") %}...{% endcall %}` inside an element
carrying `{{ stamp.mark("name") }}`, per-member attributes with `stamp.attr`), and one
template source is rendered three ways:

- whole (`WHOLE`, the Jinja global `stamp`): the piece as it always was;
- split (`Stamp(split=True)`): the *background*, the piece with every marked part
  replaced by an invisible placeholder of one line (`hold=True`) or nothing, and the
  member's parts on the side. The background's text is its key: an edition lays out
  each distinct background once (`lay_out_backgrounds`), and records where each marked
  element landed (page, position, width, height, and the room its clipping box leaves);
- overlay (`stamp_pieces`): per member, only the marked elements, each absolutely
  positioned where the background placed it, inside copies of its ancestors' tags (so
  the same CSS rules and inherited styles apply) that are laid out but never drawn.
  The position is a class per place and the language a wrapper per language, not
  attributes of each piece: WeasyPrint computes a style once for all elements with the
  same parent style and rules, but apart for an element with a `style`, `lang` or `id`
  attribute and everything inside it, which cost a print newsletter page a quarter of
  its time. A piece whose parts inherit different languages is laid out whole.

`stamp_pieces` then composes each page with pikepdf: the background page as a Form
XObject (each one carried once per file, however many pieces use it) drawn under the
overlay page. Borders and fills belong to the background only (the overlay draws the
marked elements' text; ancestors are hidden).

Geometry guard: a piece whose marked element comes out of the overlay with another
height than the placeholder had (a salutation that wraps, a five-line address), or
overflowing the box that clips it, would have moved or clipped shared content; such
pieces are laid out whole the normal way, together in one document per call.

Every page is pixel-identical to the whole rendering (tests/lib/documents/test_stamp.py
compares them with pdftoppm).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from markupsafe import Markup
from weasyprint import CSS
from weasyprint.document import Page
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder

from pipeline.lib.documents.pdf import (
    RenderError, _name_subsets_by_content, css, lay_out, write_document)

LANG_WRAPPER = "stamp-lang"  # the class of the wrapper that carries a group's language
BG_ID = "stamp-bg-id"  # the background section's data-bg, replaced by its key once keyed
# An invisible line: what a one-line marked part holds in the background.
HOLD = Markup('<span class="stamp-hold">\u00a0</span>')
_EPSILON = 1e-3  # CSS px: a layout difference below this is rounding, not geometry

# Every document mode's extra rules. Backgrounds: placeholders take their line but are
# not drawn. Overlays: ancestors are laid out only for CSS inheritance and selector
# matching, without boxes of their own (no margins, borders, fills or page breaks), and
# the marked elements are placed absolutely; the page footer's rule belongs to the
# background.
BACKGROUND_CSS = """
.stamp-hold { visibility: hidden; }
.stamp-lang + .stamp-lang > :first-child { break-before: page !important; }
"""
OVERLAY_CSS = """
.stamp-anc { display: block !important; position: static !important; margin: 0 !important;
  padding: 0 !important; border: 0 none !important; width: auto !important;
  height: auto !important; min-height: 0 !important; max-height: none !important;
  visibility: hidden !important; background: none !important; overflow: visible !important;
  break-before: auto !important; break-after: auto !important; float: none !important; }
.stamp-var { position: absolute !important; margin: 0 !important;
  visibility: visible !important; break-before: auto !important; }
@page { @bottom-left { border-top-color: transparent !important; } }
"""
# Where each overlay page (a `.stamp-page`) goes: a page of its own, or, stacked, all of
# them on one page, each positioned at the page area's top left (see `Kind.stacked`).
PAGED_CSS = """
.stamp-page { position: relative; break-before: page !important; }
.stamp-lang:first-child > .stamp-page:first-child { break-before: auto !important; }
"""
STACKED_CSS = """
.stamp-page { position: absolute !important; top: 0; left: 0; width: 100%; }
.stamp-margin { position: absolute !important; margin: 0 !important; padding: 0 !important;
  border: 0 none !important; text-indent: 0 !important; text-align: left !important;
  visibility: visible !important; }
@page { @bottom-left { content: none !important; } }
"""


class Stamp:
    """The `stamp` object templates call; whole mode prints everything as it is."""

    def __init__(self, split: bool):
        self.split = split
        self.parts: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def var(self, name: str, hold: bool = True, caller=None) -> Markup:
        content = caller()
        if not self.split:
            return content
        self.parts[name] = str(content)
        return HOLD if hold else Markup("")

    def mark(self, name: str) -> Markup:
        return Markup(' data-stamp="{}"').format(name) if self.split else Markup("")

    def attr(self, name: str, value) -> Markup:
        """A per-member attribute: ` name="value"`; the background has it empty, and the
        section id is the background's own."""
        if not self.split:
            return Markup(' {}="{}"').format(name, value)
        self.values[name] = str(value)
        if name == "id":
            return Markup(' data-bg="{}"').format(BG_ID)
        return Markup(' {}=""').format(name)


WHOLE = Stamp(split=False)


@dataclass(frozen=True)
class Split:
    """One piece rendered in split mode."""

    key: str  # 16 hex of the background section's SHA-256
    background: str  # the background section (data-bg="<key>")
    parts: dict[str, str]  # marked part -> the member's HTML
    values: dict[str, str]  # per-member attribute -> value (id, data-footer)


def split_piece(render_section: Callable[[Stamp], str]) -> Split:
    """`render_section(stamp)` (the piece's section HTML) in split mode, keyed."""
    stamp = Stamp(split=True)
    section = str(render_section(stamp))  # plain text, also when given Markup
    key = hashlib.sha256(section.encode("utf-8")).hexdigest()[:16]
    return Split(key, section.replace(BG_ID, key), stamp.parts, stamp.values)


@dataclass(frozen=True)
class Var:
    """Where a marked element of a background landed."""

    name: str
    page: int  # 0-based within the background
    left: float  # border box, CSS px from the page area's top left
    top: float
    width: float  # content width
    height: float  # border box
    room: float | None  # below a clipping ancestor: the height it leaves, else None
    ancestors: tuple[tuple[str, str], ...]  # (start tag, name), overlay classes added
    lang: str | None  # the language it inherits, when its ancestors' tags leave it out
    place: str  # the class that puts the element there (`place_class`)
    opening: str  # the element's start tag, with that class
    closing: str  # its end tag


def place_class(left: float, top: float, width: float) -> str:
    """A class per position (a rule in the overlay's stylesheet, not a style attribute):
    WeasyPrint computes one style for every element with the same parent style and rules,
    so the pieces sharing a background share their overlay's styles too."""
    digest = hashlib.sha256(f"{left!r} {top!r} {width!r}".encode()).hexdigest()[:12]
    return f"stamp-at-{digest}"


def _place_rules(places: dict[str, Var]) -> str:
    return "".join(f".{name} {{ left: {v.left!r}px !important; top: {v.top!r}px !important; "
                   f"width: {v.width!r}px !important; }}\n" for name, v in sorted(places.items()))


@dataclass(frozen=True)
class Background:
    key: str
    file: str  # the PDF holding it (name within the backgrounds folder)
    first: int  # 0-based page in that file
    pages: int
    vars: tuple[Var, ...]
    # Per page: its footer margin box, as a rule for the overlay's look-alike, or None
    # (`Kind.footer`).
    footers: tuple[tuple[str, str, str] | None, ...] = ()  # (class, rule, lang)


@dataclass(frozen=True)
class Kind:
    """How one kind of document is assembled: `document(sections, overlay)` is the batch
    HTML around section strings (overlay: without the shared furniture, e.g. the
    letterhead); `stylesheets` the user stylesheets (page geometry, simplex)."""

    name: str
    document: Callable[[list[str], bool], str]
    stylesheets: tuple[CSS, ...] = ()
    # Stacked: the overlay lays out every piece's pages on one page, on top of each
    # other, and then gives each its own page (`_unstacked`). WeasyPrint's cost of a page
    # as such (its styles and sixteen margin boxes, the page type being new for every page
    # index) is then paid once, not per page, and pieces of one background share the
    # copies of its ancestors: an overlay page costs about half as much. A piece's own
    # value in a margin box needs `footer`; page mode remains for kinds without either.
    stacked: bool = False
    # The per-piece value (a `stamp.attr`) that the page's bottom-left margin box prints
    # with `string()`, as the letters' footer does. A stacked overlay has one page, and so
    # one such box for all its pieces: it prints each piece's value instead in a box of
    # its own, where the background's margin box is and with its computed style.
    footer: str | None = None


def _tag(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _start_tag(element, extra_class: str, data: str = "", drop: tuple[str, ...] = ()) -> str:
    attrs = {k: v for k, v in element.attrib.items()
             if k not in ("id", "data-stamp") and k not in drop}
    attrs["class"] = (attrs.get("class", "") + " " + extra_class).strip()
    text = "".join(f' {k}="{html_lib.escape(v, quote=True)}"' for k, v in attrs.items())
    return f"<{_tag(element)}{text}{data}>"


def _walk(box, stack: list, found: list, marks: tuple[str, ...] = ("data-stamp",)) -> None:
    """Pre-order: (box, its ancestors) for each block box whose element has one of the
    attributes `marks`, its first fragment only."""
    element = getattr(box, "element", None)
    if (element is not None and isinstance(box, (boxes.BlockContainerBox, boxes.FlexBox))
            and not isinstance(box, boxes.LineBox)
            and any(mark in element.attrib for mark in marks)
            and not any(b.element is element for b in stack)):
        found.append((box, list(stack)))
    stack.append(box)
    for child in box.all_children():
        child = getattr(child, "_box", child)  # an absolutely positioned box's placeholder
        if isinstance(child, boxes.Box):
            _walk(child, stack, found, marks)
    stack.pop()


def _clip_bottom(ancestors: list) -> float | None:
    for box in reversed(ancestors):
        if box.element is not None and box.style["overflow"] == "hidden":
            return box.padding_box_y() + box.padding_height()
    return None


def _var(box, ancestors: list, page: int, page_box) -> Var:
    chain, seen, wrapper_lang = [], set(), set()
    for ancestor in ancestors:
        element = ancestor.element
        if element is None or id(element) in seen or _tag(element) in ("html", "body"):
            continue
        seen.add(id(element))
        if LANG_WRAPPER in element.attrib.get("class", "").split():
            wrapper_lang |= {element.attrib["lang"]} if "lang" in element.attrib else set()
            continue  # the background's wrapper: the overlay has its own
        chain.append(element)
    left = box.border_box_x() - page_box.content_box_x()
    top = box.border_box_y() - page_box.content_box_y()
    clip = _clip_bottom(ancestors)
    # One language for the whole chain (the piece's) moves from the ancestors' tags to the
    # overlay's wrapper of that language (see stamp_pieces); several stay where they are.
    langs = wrapper_lang | {e.attrib["lang"] for e in chain if "lang" in e.attrib}
    lang = langs.pop() if len(langs) == 1 else None
    drop = ("lang",) if lang else ()
    ancestors = tuple((_start_tag(e, "stamp-anc", drop=drop), _tag(e)) for e in chain)
    place = place_class(left, top, box.width)
    opening = _start_tag(box.element, f"stamp-var {place}", ' data-stamp-at="{at}"')
    closing = f"</{_tag(box.element)}>"
    return Var(box.element.attrib["data-stamp"], page, left, top, box.width,
               box.border_height(), None if clip is None else clip - box.border_box_y(),
               ancestors, lang, place, opening, closing)


def lay_out_backgrounds(kind: Kind, sections: dict[str, str], folder: Path, file: str
                        ) -> dict[str, Background]:
    """Lay out the backgrounds `sections` (key -> split section) as one document,
    folder/file; where each one's pages and marked elements are.

    As in the overlay, the sections are grouped under a wrapper per language, their own
    `lang` and `id` left out (each is found by its `data-bg`), so WeasyPrint shares the
    styles of their elements."""
    groups: dict[str | None, list[str]] = {}
    for key in sorted(sections):
        lang, section = _without_lang(sections[key])
        groups.setdefault(lang, []).append(section)
    html = kind.document([_wrapped(lang, parts) for lang, parts in groups.items()], False)
    what = f"{kind.name} backgrounds {file}"
    document = lay_out(html, what, [*kind.stylesheets, css(BACKGROUND_CSS)])
    # One walk per page: a background's section (data-bg) comes before its marked parts,
    # and each background starts on a page of its own.
    firsts: dict[str, int] = {}
    found: dict[str, list[Var]] = {k: [] for k in sections}
    current = None
    for number, page in enumerate(document.pages):
        marked: list = []
        _walk(page._page_box, [], marked, ("data-bg", "data-stamp"))
        for box, ancestors in marked:
            key = box.element.attrib.get("data-bg")
            if key is not None:
                if key not in firsts:  # its first page (a section can span pages)
                    firsts[key], current = number, key
            else:
                found[current].append(_var(box, ancestors, number - firsts[current],
                                           page._page_box))
    footers = [_footer(page._page_box) if kind.footer else None for page in document.pages]
    missing = [k for k in sections if k not in firsts]
    if missing:
        raise RenderError(f"{what}: no page holds background(s) {', '.join(missing[:3])}")
    order = sorted(firsts.values()) + [len(document.pages)]
    ends = {first: order[i + 1] for i, first in enumerate(order[:-1])}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_bytes(write_document(document, what))
    return {k: Background(k, file, firsts[k], ends[firsts[k]] - firsts[k], tuple(found[k]),
                          tuple(footers[firsts[k]:ends[firsts[k]]]))
            for k in sorted(sections)}


def _footer(page_box) -> tuple[str, str, str] | None:
    """The page's generated bottom-left margin box as a class for an absolutely
    positioned box in its place: its content box, relative to the page area, and the
    computed values of the properties that set text."""
    for box in page_box.children:
        if isinstance(box, boxes.MarginBox) and box.at_keyword == "@bottom-left":
            if not box.is_generated:
                return None
            style = box.style

            def length(value, number_unit: str) -> str:
                """A computed length as CSS; a bare number takes `number_unit` (none for
                line-height's multiplier, px for spacing)."""
                if value == "normal":
                    return "normal"
                if isinstance(value, (int, float)):
                    return f"{value!r}{number_unit}"
                return f"{value.value!r}{value.unit}"

            red, green, blue, alpha = style["color"].to("srgb")
            rules = {
                "left": f"{box.content_box_x() - page_box.content_box_x()!r}px",
                "top": f"{box.content_box_y() - page_box.content_box_y()!r}px",
                "width": f"{box.width!r}px",
                "font-family": ", ".join(f'"{f}"' for f in style["font_family"]),
                "font-size": f"{style['font_size']!r}px",
                "font-weight": str(style["font_weight"]),
                "font-style": style["font_style"],
                "line-height": length(style["line_height"], ""),
                "letter-spacing": length(style["letter_spacing"], "px"),
                "word-spacing": length(style["word_spacing"], "px"),
                "text-transform": style["text_transform"],
                "color": f"color(srgb {red!r} {green!r} {blue!r} / {alpha!r})",
            }
            rule = "; ".join(f"{k}: {v} !important" for k, v in rules.items())
            name = "stamp-foot-" + hashlib.sha256(
                (rule + str(style["lang"])).encode()).hexdigest()[:12]
            return name, f".{name} {{ {rule}; }}\n", str(style["lang"])
    return None


_FIRST_TAG = re.compile(r"\s*<[^>]*>")
_LANG_ATTR = re.compile(r'\slang="([^"]*)"')


def _without_lang(section: str) -> tuple[str | None, str]:
    """The language of a section's own tag (None without one), and the section
    without it."""
    tag = _FIRST_TAG.match(section)
    found = _LANG_ATTR.search(tag.group()) if tag else None
    if found is None:
        return None, section
    bare = tag.group()[:found.start()] + tag.group()[found.end():]
    return html_lib.unescape(found.group(1)), bare + section[tag.end():]


def _wrapped(lang: str | None, sections: list[str]) -> str:
    """Sections under a wrapper carrying their language (see `_overlay`)."""
    attribute = f' lang="{html_lib.escape(lang, quote=True)}"' if lang else ""
    return f'<div class="{LANG_WRAPPER}"{attribute}>' + "".join(sections) + "</div>"


@dataclass
class Stamped:
    pdf: bytes
    pages: int
    firsts: list[int]  # 1-based first page of each piece
    whole: int = 0  # pieces the geometry guard rendered whole
    backgrounds: int = 0  # distinct backgrounds in the file
    fallback: list[str] = field(default_factory=list)


def _overlay_section(indexes: list[int], splits: Sequence[Split], background: Background,
                     stacked: bool, footer: str | None = None) -> str:
    """The overlay of the pieces `indexes` (one, unless stacked), which share a
    background and the values of its ancestors' tags: a page per background page,
    holding their marked elements; elements of a page under the same ancestors share
    their copies. Stacked, each page says which pieces it holds (`_unstacked` gives each
    its own)."""
    values = splits[indexes[0]].values

    def member(tag: str) -> str:
        for name, value in values.items():
            if name != "id":
                tag = tag.replace(f' {name}=""', f' {name}="{html_lib.escape(value, quote=True)}"')
        return tag

    out = []
    for page in range(background.pages):
        out.append(f'<div class="stamp-page" data-stamp-page="{page}" data-stamp-pieces='
                   f'"{" ".join(map(str, indexes))}">' if stacked else '<div class="stamp-page">')
        open_: list[tuple[str, str]] = []
        for number, var in enumerate(background.vars):
            if var.page != page:
                continue
            shared = 0
            while (shared < min(len(open_), len(var.ancestors))
                   and open_[shared] == var.ancestors[shared]):
                shared += 1
            out.extend(f"</{name}>" for _, name in reversed(open_[shared:]))
            out.extend(member(tag) for tag, _ in var.ancestors[shared:])
            open_ = list(var.ancestors)
            out.extend(var.opening.replace("{at}", f"{index}:{number}")
                       + splits[index].parts.get(var.name, "") + var.closing for index in indexes)
        out.extend(f"</{name}>" for _, name in reversed(open_))
        margin = background.footers[page] if stacked and footer and background.footers else None
        if margin is not None:
            name, _, lang = margin
            out.extend(f'<div class="stamp-margin {name}" lang="{html_lib.escape(lang)}" '
                       f'data-stamp-piece="{index}">'
                       f'{html_lib.escape(splits[index].values.get(footer, ""))}</div>'
                       for index in indexes)
        out.append("</div>")
    return "".join(out)


def _misplaced(document, splits: Sequence[Split], backgrounds: dict[str, Background],
               starts: list[int]) -> set[int]:
    """Pieces (indexes) whose marked elements would move or overflow shared content."""
    bad: set[int] = set()
    seen: set[tuple[int, int]] = set()
    for number, page in enumerate(document.pages):
        marked: list = []
        _walk(page._page_box, [], marked, ("data-stamp-at",))
        for box, _ in marked:
            at = box.element.attrib["data-stamp-at"]
            index, which = map(int, at.split(":"))
            var = backgrounds[splits[index].key].vars[which]
            seen.add((index, which))
            height = box.border_height()
            fits = (height <= var.room + _EPSILON if var.room is not None
                    else abs(height - var.height) <= _EPSILON)
            if not fits or number != starts[index] + var.page:
                bad.add(index)
    for index, split in enumerate(splits):
        if any((index, n) not in seen for n in range(len(backgrounds[split.key].vars))):
            bad.add(index)
    return bad


STACK_SHARE = 32  # stacked: pieces at most under one copy of a background's ancestors


def _overlay(splits: Sequence[Split], backgrounds: dict[str, Background], stacked: bool,
             footer: str | None = None) -> tuple[list[str], list[int], int, str]:
    """The overlay document's body: the pieces grouped by language, each group in a
    wrapper carrying it, so that WeasyPrint computes one style for the elements of every
    piece of a background (an element with a `lang` or `id` of its own gets a style of
    its own, and so do its descendants). Stacked, pieces of one background (and the same
    ancestor values) share the copies of its ancestors, STACK_SHARE at a time. Also each
    piece's first overlay page (-1 for a piece left out: its parts inherit different
    languages, so it is laid out whole), the overlay's pages and the rules placing its
    boxes."""
    langs = [{var.lang for var in backgrounds[s.key].vars} for s in splits]
    kept = [i for i, found in enumerate(langs) if len(found) <= 1]
    kept.sort(key=lambda i: (next(iter(langs[i]), None) or "", i))
    sets: dict[tuple, list[int]] = {}
    starts, total, places, footers = [-1] * len(splits), 0, {}, {}
    for index in kept:
        split = splits[index]
        background = backgrounds[split.key]
        starts[index] = total
        total += background.pages
        places |= {var.place: var for var in background.vars}
        footers |= {f[0]: f[1] for f in background.footers if f is not None}
        same = (tuple(sorted((k, v) for k, v in split.values.items() if k not in ("id", footer)))
                if stacked else index)
        sets.setdefault((next(iter(langs[index]), None) or "", split.key, same),
                        []).append(index)
    groups: dict[str, list[str]] = {}
    for (lang, key, _), indexes in sets.items():
        for at in range(0, len(indexes), STACK_SHARE):
            groups.setdefault(lang, []).append(_overlay_section(
                indexes[at:at + STACK_SHARE], splits, backgrounds[key], stacked, footer))
    rules = _place_rules(places) + ("".join(footers[k] for k in sorted(footers))
                                    if stacked and footer else "")
    return ([_wrapped(lang or None, parts) for lang, parts in groups.items()],
            starts, total, rules)


def stamp_pieces(kind: Kind, splits: Sequence[Split], whole: Callable[[list[int]], str],
                 backgrounds: dict[str, Background], folder: Path, what: str,
                 duplex: bool, pad_end: bool = False) -> Stamped:
    """One PDF of `splits` (in order) from their backgrounds (laid out into `folder`):
    each piece starts on a new page, on a front page when `duplex`; `pad_end` ends the
    file on a back page. `whole(indexes)` is the normal batch HTML of those pieces, for
    the ones the geometry guard keeps whole (anchored by their `id` value)."""
    groups, starts, total, placing = _overlay(splits, backgrounds, kind.stacked, kind.footer)
    rules = OVERLAY_CSS + (STACKED_CSS if kind.stacked else PAGED_CSS) + placing
    document = lay_out(kind.document(groups, True), f"{what} (overlay)",
                       [*kind.stylesheets, css(rules)])
    if kind.stacked:
        document = _unstacked(document, starts, total)
    if len(document.pages) == total:
        bad = sorted(_misplaced(document, splits, backgrounds, starts))
    else:  # an overlay broke a page: which piece is unknown, so all are laid out whole
        bad = list(range(len(splits)))
    overlay = write_document(document, f"{what} (overlay)")
    fallback = None
    if bad:
        fallback = lay_out(whole(bad), f"{what} (whole)", list(kind.stylesheets))
        fallback_pdf = write_document(fallback, f"{what} (whole)")
    return _compose(splits, backgrounds, folder, overlay, starts, bad,
                    (fallback, fallback_pdf) if fallback is not None else None, duplex, pad_end)


def _stacked_pages(box, path: list, found: list) -> None:
    """Pre-order: for each `.stamp-page` box, (its holders from the page box down, each
    with the index of the next one among its children; the placeholder its parent holds,
    STACKED_CSS making it absolute; one that is not is left out, and so is its page)."""
    for index, child in enumerate(box.children):
        inner = getattr(child, "_box", child)  # an absolutely positioned box's placeholder
        element = getattr(inner, "element", None)
        if element is None or not isinstance(inner, boxes.ParentBox):
            continue
        classes = element.attrib.get("class", "").split()
        if "stamp-page" in classes:
            if inner is not child:
                found.append(([*path, (box, index)], child))
        elif "stamp-var" not in classes and inner is child:
            _stacked_pages(child, [*path, (box, index)], found)


def _piece_of(child) -> str | None:
    """The piece index (as text) of a marked element's box, None for any other box."""
    element = getattr(getattr(child, "_box", child), "element", None)
    if element is None:
        return None
    at = element.attrib.get("data-stamp-at")
    return at.split(":")[0] if at else element.attrib.get("data-stamp-piece")


def _holding(box, piece: str):
    """`box` without the marked elements of pieces other than `piece`, copying only the
    boxes that hold some."""
    if not isinstance(box, boxes.ParentBox):
        return box
    children, changed = [], False
    for child in box.children:
        owner = _piece_of(child)
        if owner is not None:
            changed |= owner != piece
            if owner == piece:
                children.append(child)
            continue
        kept = _holding(child, piece) if getattr(child, "_box", child) is child else child
        changed |= kept is not child
        children.append(kept)
    return box.copy_with_children(children) if changed else box


def _placeholder(box):
    """A laid-out absolutely positioned box as its parent holds it."""
    holder = AbsolutePlaceholder(box)
    holder.set_laid_out_box(box)
    return holder


def _unstacked(document, starts: list[int], total: int):
    """A stacked overlay (one laid-out page) as its `total` pages: piece i's page p at
    starts[i] + p, a copy of the laid-out page with that piece's marked elements only
    (the page's margin boxes and anything else kept). The layout is WeasyPrint's,
    untouched; only the drawing is per page. A layout of more than one page, or one
    missing a page, is returned as it is (the caller finds the page count wrong and
    lays every piece out whole)."""
    if len(document.pages) != 1:
        return document
    page_box = document.pages[0]._page_box
    found: list = []
    _stacked_pages(page_box, [], found)
    leaves = {id(leaf) for _, leaf in found}
    holders = {id(box): box for path, _ in found for box, _ in path}
    rest = {key: [(i, c) for i, c in enumerate(box.children)
                  if id(c) not in leaves and id(c) not in holders]
            for key, box in holders.items()}
    pages: list = [None] * total
    for path, leaf in found:  # each leaf the placeholder of an absolute `.stamp-page`
        element = leaf._box.element
        page = int(element.attrib["data-stamp-page"])
        for piece in element.attrib["data-stamp-pieces"].split():
            node = _holding(leaf._box, piece)
            node = leaf if node is leaf._box else _placeholder(node)
            for box, index in reversed(path):
                others = rest[id(box)]
                node = box.copy_with_children([c for i, c in others if i < index] + [node]
                                              + [c for i, c in others if i > index])
            at = starts[int(piece)] + page
            if 0 <= at < total:
                pages[at] = Page(node)
    if any(page is None for page in pages):
        return document
    return document.copy(pages)


def _compose(splits, backgrounds, folder, overlay_pdf, starts, bad, fallback, duplex,
             pad_end) -> Stamped:
    anchors = [s.values["id"] for s in splits]
    whole_pages: dict[int, list[int]] = {}
    if fallback is not None:
        document, _ = fallback
        owner = {}
        for number, page in enumerate(document.pages):
            for anchor in page.anchors:
                owner.setdefault(anchor, number)
        marks = sorted((owner[anchors[i]], i) for i in bad)
        bounds = [m for m, _ in marks] + [len(document.pages)]
        for (first, index), end in zip(marks, bounds[1:]):
            whole_pages[index] = list(range(first, end))
    opened: dict[str, pikepdf.Pdf] = {}
    with pikepdf.new() as out, pikepdf.open(io.BytesIO(overlay_pdf)) as overlay:
        extra = pikepdf.open(io.BytesIO(fallback[1])) if fallback is not None else None
        try:
            forms: dict[tuple[str, int], pikepdf.Object] = {}
            names: dict[tuple[str, int], pikepdf.Name] = {}
            firsts = []
            size = overlay.pages[0].mediabox if len(overlay.pages) else None
            for index, split in enumerate(splits):
                if duplex and len(out.pages) % 2:
                    _blank(out, size)
                firsts.append(len(out.pages) + 1)
                if index in whole_pages:
                    for number in whole_pages[index]:
                        out.pages.append(extra.pages[number])
                    continue
                background = backgrounds[split.key]
                for page in range(background.pages):
                    out.pages.append(overlay.pages[starts[index] + page])
                    spot = (background.file, background.first + page)
                    if spot not in forms:
                        if background.file not in opened:
                            opened[background.file] = pikepdf.open(folder / background.file)
                        source = opened[background.file]
                        form = pikepdf.Page(source.pages[spot[1]]).as_form_xobject()
                        forms[spot] = out.copy_foreign(form)
                        names[spot] = pikepdf.Name(f"/Bg{len(forms)}")
                    _underlay(out, out.pages[-1], names[spot], forms[spot])
            if pad_end and duplex and len(out.pages) % 2:
                _blank(out, size)
            _destinations(out, anchors, firsts)
            out.docinfo = out.copy_foreign(overlay.make_indirect(overlay.docinfo))
            for key in ("/Lang", "/ViewerPreferences", "/MarkInfo"):
                if key in overlay.Root:
                    out.Root[key] = out.copy_foreign(overlay.make_indirect(overlay.Root[key]))
            _name_subsets_by_content(out)
            buffer = io.BytesIO()
            out.save(buffer, deterministic_id=True, compress_streams=True,
                     object_stream_mode=pikepdf.ObjectStreamMode.generate)
            pages = len(out.pages)
        finally:
            if extra is not None:
                extra.close()
            for source in opened.values():
                source.close()
    return Stamped(buffer.getvalue(), pages, firsts, len(bad), len(forms),
                   [anchors[i] for i in bad])


def _blank(out: pikepdf.Pdf, box) -> None:
    out.add_blank_page(page_size=(float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))


def _underlay(out: pikepdf.Pdf, page: pikepdf.Page, name: pikepdf.Name,
              form: pikepdf.Object) -> None:
    """Draw `form` under everything else on `page`."""
    resources = pikepdf.Dictionary(page.obj.get("/Resources", pikepdf.Dictionary()))
    xobjects = pikepdf.Dictionary(resources.get("/XObject", pikepdf.Dictionary()))
    xobjects[name] = form
    resources.XObject = xobjects
    page.obj.Resources = resources
    page.contents_add(pikepdf.Stream(out, b"q " + bytes(name.unparse()) + b" Do Q\n"),
                      prepend=True)


def _destinations(out: pikepdf.Pdf, anchors: list[str], firsts: list[int]) -> None:
    """A named destination per piece (its anchor) at the top of its first page."""
    tree = pikepdf.NameTree.new(out)
    for anchor, first in sorted(zip(anchors, firsts)):
        page = out.pages[first - 1]
        top = float(page.mediabox[3])
        tree[anchor] = pikepdf.Array([page.obj, pikepdf.Name.XYZ, 0, top, 0])
    if len(tree):
        out.Root.Names = pikepdf.Dictionary(Dests=tree.obj)
