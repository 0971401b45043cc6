"""What a benchmark reports: named figures with a unit and a sample size, and their table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

JSONScalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured value, e.g. ``kafka.consume.noop`` = 12,345.6 records/s over n=20,000.

    ``params`` holds what the value depends on (payload size, partitions, window, ...), so
    two runs can be compared fairly; it is shown in the table's notes column.
    """

    name: str
    value: float
    unit: str
    n: int
    params: Mapping[str, JSONScalar] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The figure as ``results.json`` holds it."""
        out: dict[str, Any] = {
            "name": self.name,
            "value": round(self.value, 3),
            "unit": self.unit,
            "n": self.n,
        }
        if self.params:
            out["params"] = dict(self.params)
        return out


def rate(name: str, count: int, elapsed_s: float, unit: str, /, **params: JSONScalar) -> Figure:
    """A throughput figure: ``count`` things in ``elapsed_s`` seconds."""
    value = count / elapsed_s if elapsed_s > 0 else 0.0
    return Figure(name, value, unit, count, {**params, "elapsed_s": round(elapsed_s, 3)})


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-1) of an ordered sample: a value that was measured."""
    index = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def render_table(figures: Sequence[Figure]) -> str:
    """The figures as an aligned plain-text table, one row each."""
    header = ("figure", "value", "unit", "n", "notes")
    rows = [header] + [
        (f.name, format_value(f.value), f.unit, f"{f.n:,}", _notes(f.params)) for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            row[0].ljust(widths[0]),
            row[1].rjust(widths[1]),
            row[2].ljust(widths[2]),
            row[3].rjust(widths[3]),
            row[4],
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in [*widths, len(header[-1])]))
    return "\n".join(lines)


def format_value(value: float) -> str:
    """A figure's value as the table shows it: one decimal from 100 up, else three."""
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.3f}"


def _notes(params: Mapping[str, JSONScalar]) -> str:
    return ", ".join(f"{key}={value}" for key, value in params.items())
