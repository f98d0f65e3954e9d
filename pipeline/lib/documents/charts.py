"""SVG charts for the monthly report, drawn with matplotlib and embedded inline.

- Text stays text (`svg.fonttype = 'none'`): WeasyPrint sets the labels in Noto Sans
  CJK SC, so Chinese labels are crisp, searchable and extractable from the PDF.
- Deterministic: a fixed `svg.hashsalt` per chart and no date metadata, so the same
  data gives the same bytes (and the same PDF).
- Ready to inline in HTML: WeasyPrint's HTML cascade would read the SVG's `style`
  attributes as HTML CSS (warning on `fill`, `stroke`, ...) and treat every `id` as a
  document anchor, so `_inline_ready` turns styles into presentation attributes, keeps
  only the ids something refers to (prefixed with the chart's name, so two charts never
  clash) and drops the metadata and `<style>` elements.

Every function returns the `<svg>` element as text, sized to the report's text column
(170 mm), with a calm palette shared by all charts.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

FONT_FAMILY = "Noto Sans CJK SC"
WIDTH_IN = 170 / 25.4  # the report's text column (A4 with 20 mm margins)

# Calm and consistent: a deep teal accent, its light tint for comparisons, warm ochre
# for lines drawn over bars, muted greys for axes and text.
PALETTE = {
    "primary": "#2E6A6F",
    "tint": "#9DC3BF",
    "line": "#C0803F",
    "ink": "#34403F",
    "muted": "#7D8886",
    "grid": "#E3E8E7",
}
BAR_COLOURS = (PALETTE["primary"], PALETTE["tint"], "#D9C7A3")

_RC = {
    "svg.fonttype": "none",
    "font.family": [FONT_FAMILY],
    "font.size": 7.5,
    "text.parse_math": False,  # labels come from exports: "$" is a character, not math
    "axes.unicode_minus": False,
    "text.color": PALETTE["ink"],
    "axes.labelcolor": PALETTE["ink"],
    "axes.edgecolor": PALETTE["muted"],
    "axes.linewidth": 0.6,
    "xtick.color": PALETTE["muted"],
    "ytick.color": PALETTE["muted"],
    "xtick.labelcolor": PALETTE["ink"],
    "ytick.labelcolor": PALETTE["ink"],
    "legend.frameon": False,
    "legend.fontsize": 7.5,
}

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL_REF = re.compile(r"url\(#([^)]+)\)")


def _count(value: float, _position=None) -> str:
    return f"{value:,.0f}"


def _percent(value: float, _position=None) -> str:
    return f"{value:.0%}"


def _cny(value: float, _position=None) -> str:
    """Axis money in the Chinese way: ¥30万 rather than ¥300,000."""
    if abs(value) >= 10_000:
        return f"¥{value / 10_000:,.4g}万"
    return f"¥{value:,.0f}"


FORMATS: dict[str, Callable[[float], str]] = {"count": _count, "percent": _percent, "cny": _cny}


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    name: str,
    annotations: Sequence[str] | None = None,
    muted: Sequence[bool] | None = None,
) -> str:
    """Horizontal bars, first label on top, each bar annotated (default: its value);
    `muted` bars (e.g. "no purchase") are drawn in the light tint."""
    with mpl.rc_context(_RC | {"svg.hashsalt": f"clubpress-{name}"}):
        figure = _figure(height_in=0.4 + 0.22 * max(len(labels), 1))
        axes = figure.add_subplot()
        positions = range(len(labels))
        muted = muted or [False] * len(labels)
        colours = [PALETTE["tint"] if m else PALETTE["primary"] for m in muted]
        bars = axes.barh(positions, values, height=0.62, color=colours)
        axes.set_yticks(list(positions), labels=list(labels))
        axes.invert_yaxis()
        notes = annotations if annotations is not None else [_count(v) for v in values]
        axes.bar_label(bars, labels=list(notes), padding=4, color=PALETTE["ink"])
        axes.set_xlim(0, max([*values, 1]) * 1.22)  # room for the annotations
        axes.xaxis.set_major_formatter(FuncFormatter(_count))
        axes.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        _quiet_axes(axes, grid_axis="x")
        return _svg(figure, name)


def trend_chart(
    categories: Sequence[str],
    bars: Mapping[str, Sequence[float]],
    *,
    name: str,
    bar_format: str = "count",
    line: tuple[str, Sequence[float | None]] | None = None,
    line_format: str = "count",
    height_in: float = 2.3,
) -> str:
    """Monthly bars (one or more series side by side) with an optional line on a
    second axis, e.g. complaints received and resolved with the SLA breach rate."""
    with mpl.rc_context(_RC | {"svg.hashsalt": f"clubpress-{name}"}):
        figure = _figure(height_in=height_in)
        axes = figure.add_subplot()
        count = max(len(bars), 1)
        width = 0.8 / count
        for index, (label, series) in enumerate(bars.items()):
            offsets = [i + (index - (count - 1) / 2) * width for i in range(len(categories))]
            axes.bar(offsets, list(series), width=width * 0.92, label=label,
                     color=BAR_COLOURS[index % len(BAR_COLOURS)])
        axes.set_xticks(range(len(categories)), labels=list(categories))
        axes.set_xlim(-0.6, len(categories) - 0.4)
        axes.yaxis.set_major_formatter(FuncFormatter(FORMATS[bar_format]))
        axes.yaxis.set_major_locator(MaxNLocator(5, integer=bar_format == "count"))
        axes.set_ylim(bottom=0)
        _quiet_axes(axes, grid_axis="y")
        handles, labels = axes.get_legend_handles_labels()
        if line is not None:
            handles, labels = _add_line(axes, line, line_format, handles, labels)
        axes.legend(handles, labels, loc="lower left", bbox_to_anchor=(0, 1.0),
                    ncol=len(labels), borderaxespad=0.3, handlelength=1.4, columnspacing=1.6)
        return _svg(figure, name)


def _add_line(axes, line, line_format, handles, labels):
    label, values = line
    points = [float("nan") if v is None else float(v) for v in values]
    second = axes.twinx()
    axes.tick_params(left=False)  # twinx turns the left tick marks back on
    drawn = second.plot(range(len(points)), points, color=PALETTE["line"], linewidth=1.6,
                        marker="o", markersize=3.2, label=label)
    second.yaxis.set_major_formatter(FuncFormatter(FORMATS[line_format]))
    second.yaxis.set_major_locator(MaxNLocator(5))
    finite = [p for p in points if p == p]
    top = max(finite, default=0)
    second.set_ylim(0, top * 1.15 if top > 0 else (1 if line_format == "percent" else 10))
    second.tick_params(right=False)
    for side in ("top", "left", "bottom"):
        second.spines[side].set_visible(False)
    second.spines["right"].set_color(PALETTE["grid"])
    return handles + drawn, labels + [label]


def _figure(height_in: float) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    FigureCanvasAgg(figure)  # the Agg canvas measures the text; SVG is written from it
    figure.get_layout_engine().set(w_pad=0.02, h_pad=0.02)
    return figure


def _quiet_axes(axes, grid_axis: str) -> None:
    axes.tick_params(left=False, bottom=False)  # labels only, no tick marks
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["left" if grid_axis == "y" else "bottom"].set_visible(False)
    axes.grid(axis=grid_axis, color=PALETTE["grid"], linewidth=0.6)
    axes.set_axisbelow(True)


def _svg(figure: Figure, name: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _inline_ready(buffer.getvalue(), prefix=name)


def _inline_ready(svg_text: str, prefix: str) -> str:
    """Matplotlib's SVG document as an `<svg>` element WeasyPrint can inline cleanly."""
    root = ET.fromstring(svg_text)
    _drop(root, {f"{{{_SVG_NS}}}metadata", f"{{{_SVG_NS}}}style"})
    for element in root.iter():
        for declaration in element.attrib.pop("style", "").split(";"):
            if ":" in declaration:
                key, value = declaration.split(":", 1)
                element.set(key.strip(), value.strip())
        if _XLINK_HREF in element.attrib:
            element.set("href", element.attrib.pop(_XLINK_HREF))
    _rename_ids(root, prefix)
    _unwrap_plain_groups(root)
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]
    root.set("xmlns", _SVG_NS)
    # What matplotlib's dropped <style> said, as inherited presentation attributes.
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    return ET.tostring(root, encoding="unicode")


def _drop(root: ET.Element, tags: set[str]) -> None:
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in tags:
                parent.remove(child)


def _unwrap_plain_groups(root: ET.Element) -> None:
    """Replace every `<g>` without attributes by its children (matplotlib nests many):
    fewer elements, the same drawing, and a faster layout in WeasyPrint."""
    group = f"{{{_SVG_NS}}}g"
    for parent in list(root.iter()):
        children = list(parent)
        if not any(c.tag == group and not c.attrib for c in children):
            continue
        flat = []
        for child in children:
            flat.extend(_flattened(child) if child.tag == group and not child.attrib else [child])
        parent[:] = flat


def _flattened(group: ET.Element) -> list[ET.Element]:
    result = []
    for child in group:
        plain = child.tag == group.tag and not child.attrib
        result.extend(_flattened(child) if plain else [child])
    return result


def _rename_ids(root: ET.Element, prefix: str) -> None:
    """Keep only referenced ids (clip paths, markers), each prefixed with the chart name."""
    referenced = set()
    for element in root.iter():
        for key, value in element.attrib.items():
            referenced.update(_URL_REF.findall(value))
            if key == "href" and value.startswith("#"):
                referenced.add(value[1:])
    renamed = {old: f"{prefix}-{old}" for old in referenced}
    for element in root.iter():
        old = element.attrib.pop("id", None)
        if old in renamed:
            element.set("id", renamed[old])
        for key, value in list(element.attrib.items()):
            if key == "href" and value.startswith("#"):
                element.set(key, "#" + renamed[value[1:]])
            elif "url(#" in value:
                element.set(key, _URL_REF.sub(lambda m: f"url(#{renamed[m.group(1)]})", value))
