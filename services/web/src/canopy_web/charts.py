"""Charts drawn on the server as inline SVG (docs/architecture.md §18): pure functions from a
series to markup, no chart library and no script.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``
(screen readers announce both); its drawing is hidden from them, since the page shows the same
figures as a table beside it. The page's Content-Security-Policy forbids ``style=""``, so the
look comes from SVG attributes and the CSS classes ``chart-*`` in canopy.css.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# The drawing's own coordinates; the SVG scales to its box (CSS width 100 %).
WIDTH = 640
LINE_HEIGHT = 220
BAR_ROW = 32  # one horizontal bar and its gap
_LEFT = 64  # room for the y-axis labels
_RIGHT = 12
_TOP = 12
_BOTTOM = 34  # room for the x-axis labels
_LABEL_W = 200  # a bar chart's label column
LABEL_CHARS = 16  # a longer bar label is cut (the table beside the chart has it whole)

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Datum:
    """One point or bar: its label (a day, a tag) and value (None: nothing to show there)."""

    label: str
    value: float | None


def plain(value: float) -> str:
    """A count as people write it: 1,234; a fraction with two decimals."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 * 10^n at or above ``value`` (1 for nothing): a round top for
    an axis, so its label reads well."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10.0 * power  # pragma: no cover - the loop ends at 10 * power


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    t_id, d_id = f"{chart_id}-title", f"{chart_id}-desc"
    head = (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'preserveAspectRatio="xMidYMid meet" aria-labelledby="{escape(t_id)} {escape(d_id)}">'
        f'<title id="{escape(t_id)}">{escape(title)}</title>'
        f'<desc id="{escape(d_id)}">{escape(desc)}</desc>'
        '<g aria-hidden="true">'
    )
    return Markup(head + "".join(body) + "</g></svg>")  # noqa: S704 - every text escaped


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "chart-label") -> str:
    return (
        f'<text class="{cls}" x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def line_chart(
    data: Sequence[Datum], *, chart_id: str, title: str, desc: str, fmt: Format = plain
) -> Markup:
    """A line over ``data`` in order, from zero up to a round top; a missing value breaks
    the line (each value also gets a dot, so a lone one shows)."""
    height = LINE_HEIGHT
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    values = [d.value for d in data if d.value is not None]
    top = nice_ceiling(max(values, default=0.0))
    base = _TOP + plot_h
    step = plot_w / (len(data) - 1) if len(data) > 1 else 0.0

    def x_of(i: int) -> float:
        return _LEFT + (i * step if len(data) > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return base - (max(v, 0.0) / top) * plot_h

    body = [
        f'<line class="chart-axis" x1="{_LEFT}" y1="{_num(base)}" x2="{WIDTH - _RIGHT}" '
        f'y2="{_num(base)}"/>',
        f'<line class="chart-grid" x1="{_LEFT}" y1="{_TOP}" x2="{WIDTH - _RIGHT}" y2="{_TOP}"/>',
        _text(_LEFT - 6, _TOP + 7, fmt(top), "end"),
        _text(_LEFT - 6, base + 7, fmt(0), "end"),
    ]
    runs: list[list[str]] = [[]]
    for i, d in enumerate(data):
        if d.value is None:
            runs.append([])
            continue
        x, y = x_of(i), y_of(d.value)
        runs[-1].append(f"{_num(x)},{_num(y)}")
        body.append(f'<circle class="chart-dot" cx="{_num(x)}" cy="{_num(y)}" r="3"/>')
    for run in runs:
        if len(run) > 1:
            body.append(f'<polyline class="chart-line" fill="none" points="{" ".join(run)}"/>')
    if data:
        body.append(_text(_LEFT, height - 8, data[0].label, "start"))
        if len(data) > 1:
            body.append(_text(WIDTH - _RIGHT, height - 8, data[-1].label, "end"))
    return _frame(chart_id, title, desc, height, body)


def bar_chart(
    data: Sequence[Datum], *, chart_id: str, title: str, desc: str, fmt: Format = plain
) -> Markup:
    """Horizontal bars, one row each, labelled on the left and valued at their end; the
    longest reaches a round top. A missing value draws no bar."""
    height = _TOP + BAR_ROW * max(len(data), 1) + 4
    value_w = 80
    plot_w = WIDTH - _LABEL_W - _RIGHT - value_w
    top = nice_ceiling(max((d.value for d in data if d.value is not None), default=0.0))
    body: list[str] = []
    for i, d in enumerate(data):
        y = _TOP + i * BAR_ROW
        body.append(_text(_LABEL_W - 8, y + 20, _cut(d.label), "end"))
        if d.value is None:
            continue
        w = max(d.value, 0.0) / top * plot_w
        body.append(
            f'<rect class="chart-bar" x="{_LABEL_W}" y="{y + 2}" width="{_num(w)}" '
            f'height="{BAR_ROW - 8}"/>'
        )
        body.append(_text(_LABEL_W + w + 6, y + 20, fmt(d.value)))
    return _frame(chart_id, title, desc, height, body)
