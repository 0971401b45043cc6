"""The server-drawn SVG charts: pure functions, checked by parsing what they draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from canopy_web.charts import Datum, bar_chart, line_chart, nice_ceiling, plain

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    # The markup is inline HTML (no xmlns): give it one so ElementTree parses it as SVG.
    return ET.fromstring(
        str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (0, 1),
        (-3, 1),
        (float("nan"), 1),
        (0.3, 0.5),
        (1, 1),
        (7, 10),
        (12, 20),
        (40, 50),
        (501, 1000),
    ],
)
def test_an_axis_tops_out_at_a_round_number_at_or_above_the_largest_value(
    value: float, top: float
) -> None:
    assert nice_ceiling(value) == pytest.approx(top)


def test_a_line_chart_is_an_image_named_and_described_for_screen_readers() -> None:
    data = [Datum("2026-12-01", 3), Datum("2026-12-02", 8), Datum("2026-12-03", 5)]
    svg = parse(line_chart(data, chart_id="c1", title="Active people", desc="Per day"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Active people"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}desc").text == "Per day"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}g").get("aria-hidden") == "true"  # type: ignore[union-attr]
    assert "style" not in line_chart(data, chart_id="c1", title="t", desc="d")  # CSP: no style=""
    line = svg.find(f".//{SVG}polyline")
    assert line is not None
    points = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
    assert len(points) == 3
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert xs == sorted(xs)  # in order, left to right
    assert ys[1] < ys[2] < ys[0]  # 8 highest (smallest y), then 5, then 3
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"10", "0", "2026-12-01", "2026-12-03"} <= set(labels)  # top 10, first and last day


def test_a_missing_value_breaks_the_line_and_a_lone_value_still_shows() -> None:
    data = [Datum("a", 1), Datum("b", 2), Datum("c", None), Datum("d", 4)]
    svg = parse(line_chart(data, chart_id="c", title="t", desc="d"))
    assert len(svg.findall(f".//{SVG}polyline")) == 1  # a-b; d alone
    assert len(svg.findall(f".//{SVG}circle")) == 3


def test_an_empty_or_all_zero_series_draws_an_axis_without_dividing_by_zero() -> None:
    for data in ([], [Datum("x", 0)], [Datum("x", None)]):
        svg = parse(line_chart(data, chart_id="e", title="t", desc="d"))
        assert svg.find(f".//{SVG}line") is not None


def test_bars_are_as_long_as_their_values_and_labelled_with_them() -> None:
    data = [Datum("release", 40), Datum("onboarding", 20), Datum("nothing", None)]
    svg = parse(bar_chart(data, chart_id="b", title="Trending", desc="Top tags"))
    widths = [float(r.get("width", "0")) for r in svg.iter(f"{SVG}rect")]
    assert len(widths) == 2
    assert widths[0] == pytest.approx(2 * widths[1])
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert labels == ["release", "40", "onboarding", "20", "nothing"]


def test_text_from_people_is_escaped_in_a_chart() -> None:
    hostile = '<script>alert(1)</script>"'
    markup = bar_chart([Datum(hostile, 1)], chart_id="x", title=hostile, desc=hostile)
    assert "<script>" not in markup
    svg = parse(markup)
    assert svg.find(f"{SVG}title").text == hostile  # type: ignore[union-attr]


def test_values_read_as_counts_or_two_decimals() -> None:
    assert plain(1234) == "1,234"
    assert plain(0.256) == "0.26"


def test_a_long_bar_label_is_cut_to_fit_its_column() -> None:
    svg = parse(bar_chart([Datum("x" * 40, 1)], chart_id="l", title="t", desc="d"))
    label = next(svg.iter(f"{SVG}text")).text or ""
    assert len(label) == 16
    assert label.endswith("…")
