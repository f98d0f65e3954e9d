"""Tests for pipeline.lib.documents.charts: SVG text that prints, reads and repeats exactly."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from pipeline.lib.documents import charts
from pipeline.lib.documents.pdf import render_pdf

SVG = "{http://www.w3.org/2000/svg}"
SEGMENTS = ["冠军会员 Champions", "忠诚会员 Loyal Customers", "无消费 No purchase"]
MONTHS = ["8月", "9月", "10月"]


def _bars() -> str:
    return charts.bar_chart(SEGMENTS, [934, 453, 950], name="segments",
                            annotations=["934 · 18.7%", "453 · 9.1%", "950 · 19.0%"],
                            muted=[False, False, True])


def _trend() -> str:
    return charts.trend_chart(
        MONTHS, {"受理 Received": [12, 15, 9], "解决 Resolved": [11, 15, 8]}, name="complaints",
        line=("SLA 超时率 Breach rate", [0.25, None, 0.5]), line_format="percent",
    )


def _texts(svg: str) -> list[str]:
    return [element.text for element in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize(
    "draw, labels",
    [
        (_bars, SEGMENTS + ["934 · 18.7%"]),  # category labels and the value annotations
        (_trend, MONTHS + ["受理 Received", "SLA 超时率 Breach rate"]),  # axis and legend
    ],
)
def test_charts_are_svg_with_their_labels_as_text(draw, labels):
    svg = draw()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = _texts(svg)
    for label in labels:
        assert label in texts  # text, not paths: searchable and set in Noto Sans CJK


@pytest.mark.parametrize("draw", [_bars, _trend])
def test_same_data_gives_the_same_bytes(draw):
    # A rerun with the same inputs must give the same report (CONTRACT §4).
    assert draw().encode() == draw().encode()


def test_labels_from_exports_stay_literal_text():
    # A category from a CRM export may hold $ (matplotlib math) or markup characters.
    label = "退款 $5 <急> & 其他"
    svg = charts.bar_chart([label], [3], name="odd")
    assert label in _texts(svg)


def test_text_uses_the_report_font():
    families = {t.get("font-family") for t in ET.fromstring(_bars()).iter(f"{SVG}text")}
    assert families == {"'Noto Sans CJK SC'"}


def test_only_referenced_ids_remain_each_prefixed_with_the_chart_name():
    svg = _trend()
    ids = re.findall(r' id="([^"]+)"', svg)
    assert ids and all(i.startswith("complaints-") for i in ids)
    for i in ids:
        assert f"#{i}" in svg  # every kept id is used by a clip path or marker
    assert "style=" not in svg


def test_two_charts_render_in_one_document_without_warnings():
    # WeasyPrint warnings (unknown CSS property, anchor defined twice) would be errors.
    html = f"<html><body>{_bars()}{_trend()}{_bars().replace('segments-', 'again-')}</body></html>"
    rendered = render_pdf(html, "charts")
    assert rendered.pages >= 1


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.bar_chart([], [], name="empty"),  # a section with no rows
        lambda: charts.trend_chart(MONTHS, {"受理": [0, 0, 0]}, name="zeros",
                                   line=("SLA", [None, None, None]), line_format="percent"),
    ],
)
def test_empty_or_all_zero_data_still_draws(draw):
    assert ET.fromstring(draw()).tag == f"{SVG}svg"


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (350_000, "cny", "¥35万"),  # Chinese axes count money in 万 (10,000)
        (5_000, "cny", "¥5,000"),  # below 万 the plain amount reads better
        (0.25, "percent", "25%"),
        (1200, "count", "1,200"),
    ],
)
def test_axis_formats(value, unit, text):
    assert charts.FORMATS[unit](value) == text
