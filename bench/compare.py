"""Figures derived from others of the same run: Canopy against its peer, against the Redis
ceiling and against the Kafka ceiling, and every headline figure against the target the project
set for it (issue 8)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bench.figures import Figure, format_value

WORKLOADS: Final = ("10k", "1000x100")
# Canopy's figure set beside each of the Kafka perf tools' (bench.kafka_ceiling).
KAFKA_PAIRS: Final = (
    ("produce", "kafka.produce.concurrent.w100"),
    ("consume", "kafka.consume.noop"),
)
MIB: Final = 2**20  # what the Kafka tools call a MB


@dataclass(frozen=True)
class Target:
    """Where a figure should be: ``at least`` or ``at most`` ``value``."""

    figure: str
    relation: str  # ">=" or "<="
    value: float

    def met(self, measured: float) -> bool:
        compare: Callable[[float, float], bool] = (
            operator.ge if self.relation == ">=" else operator.le
        )
        return compare(measured, self.value)


TARGETS: Final = (
    Target("fanout.10k.inserts_per_s", ">=", 150_000),
    Target("fanout.1000x100.inserts_per_s", ">=", 150_000),
    Target("compare.fanout_10k.canopy_over_sf", ">=", 13),
    Target("compare.fanout_1000x100.canopy_over_sf", ">=", 13),
    Target("fanout.10k.everywhere_p99_ms", "<=", 100),
    # CPU per operation, every process of the system (issue 20): what the noise blurs least.
    Target("fanout.10k.cpu_us_per_insert", "<=", 5),
    Target("fanout.1000x100.cpu_us_per_insert", "<=", 5),
    Target("e2e.500.answered_per_s", ">=", 480),
    Target("e2e.500.post_to_feeds_p99_ms", "<=", 150),
    Target("e2e.500.cpu_us_per_post", "<=", 2_000),
    Target("reads.home.max_rps", ">=", 3_000),
    Target("reads.home.1000rps.p99_ms", "<=", 10),
    Target("reads.home.max.cpu_us_per_page", "<=", 300),
    Target("reads.home.1000rps.cpu_us_per_page", "<=", 300),
    Target("ingest.upstream.events_per_s", ">=", 10_000),
    Target("analytics.counted_p99_ms", "<=", 2_000),
    Target("memory.timeline_full.bytes_per_entry", "<=", 24),
    # The web client's home page (issue 19): under a second, under 300 KB.
    Target("web.home.cold.first_post_p95_ms", "<=", 1_000),
    Target("web.home.warm.first_post_p95_ms", "<=", 1_000),
    Target("web.home.cold.kb_transferred", "<=", 300),
)


def derived(figures: Sequence[Figure]) -> list[Figure]:
    """Canopy ÷ Stream-Framework and Canopy ÷ the ZADD ceiling, for each fan-out workload,
    and Canopy ÷ the Kafka ceiling, for each figure whose both sides the run produced."""
    return _fanout(figures) + _kafka(figures)


def _fanout(figures: Sequence[Figure]) -> list[Figure]:
    """``compare.fanout_<workload>.canopy_over_sf`` and ``.share_of_ceiling``: Canopy ÷ each
    reference."""
    found = {f.name: f for f in figures}
    ceiling = found.get("ceiling.redis.zadd_per_s")
    out: list[Figure] = []
    for workload in WORKLOADS:
        canopy = found.get(f"fanout.{workload}.inserts_per_s")
        peer = found.get(f"peer.sf.fanout_{workload}.inserts_per_s")
        references = (
            ("canopy_over_sf", "x", "stream_framework", peer),
            ("share_of_ceiling", "fraction", "zadd_ceiling", ceiling),
        )
        for what, unit, label, reference in references:
            if canopy is None or reference is None or reference.value <= 0:
                continue
            params = {"canopy": round(canopy.value), label: round(reference.value)}
            ratio = canopy.value / reference.value
            out.append(Figure(f"compare.fanout_{workload}.{what}", ratio, unit, canopy.n, params))
    return out


def _kafka(figures: Sequence[Figure]) -> list[Figure]:
    """``compare.kafka_<side>.share_of_ceiling`` (records/s) and ``.cpu_client_over_ceiling``,
    ``.cpu_broker_over_ceiling`` (CPU per record): Canopy ÷ Kafka's perf tool."""
    found = {f.name: f for f in figures}
    out: list[Figure] = []
    for side, canopy_name in KAFKA_PAIRS:
        tool = f"kafka_ceiling.{side}"
        pairs = (
            ("share_of_ceiling", "fraction", canopy_name, f"{tool}.records_per_s"),
            ("cpu_client_over_ceiling", "x", f"{canopy_name}.cpu.client", f"{tool}.cpu.client"),
            ("cpu_broker_over_ceiling", "x", f"{canopy_name}.cpu.broker", f"{tool}.cpu.broker"),
        )
        for what, unit, canopy_figure, ceiling_figure in pairs:
            canopy, ceiling = found.get(canopy_figure), found.get(ceiling_figure)
            if canopy is None or ceiling is None or ceiling.value <= 0:
                continue
            params = {"canopy": round(canopy.value, 3), "ceiling": round(ceiling.value, 3)}
            ratio = canopy.value / ceiling.value
            out.append(Figure(f"compare.kafka_{side}.{what}", ratio, unit, canopy.n, params))
    return out


def against_kafka_ceiling(figures: Sequence[Figure]) -> str | None:
    """Canopy's producer and consumer beside Kafka's perf tools on the same broker: rates, MiB/s
    and CPU per record, and Canopy ÷ the tool; ``None`` when the run has neither side."""
    found = {f.name: f for f in figures}
    rows = [("", "Canopy", "Kafka tool", "Canopy ÷ tool", "Canopy figure")]
    for side, canopy_name in KAFKA_PAIRS:
        canopy_rate = found.get(canopy_name)
        canopy_mib = None
        if canopy_rate is not None and isinstance(size := canopy_rate.params.get("bytes"), int):
            canopy_mib = canopy_rate.value * size / MIB
        lines = (
            ("records/s", _value(found, canopy_name), "records_per_s", canopy_name),
            ("MiB/s", canopy_mib, "mib_per_s", f"{canopy_name} * bytes"),
            ("client CPU µs/record", *_cpu(found, canopy_name, "client")),
            ("broker CPU µs/record", *_cpu(found, canopy_name, "broker")),
        )
        for label, canopy, tool_what, canopy_figure in lines:
            tool = _value(found, f"kafka_ceiling.{side}.{tool_what}")
            if canopy is None and tool is None:
                continue
            ratio = canopy / tool if canopy is not None and tool else None
            row = (f"{side} {label}", _number(canopy), _number(tool), _number(ratio))
            rows.append((*row, canopy_figure))
    if len(rows) == 1:
        return None
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(
            [
                row[0].ljust(widths[0]),
                *(cell.rjust(width) for cell, width in zip(row[1:4], widths[1:], strict=True)),
                row[4],
            ]
        ).rstrip()
        for row in rows
    )


def _cpu(found: dict[str, Figure], canopy_name: str, side: str) -> tuple[float | None, str, str]:
    name = f"{canopy_name}.cpu.{side}"
    return _value(found, name), f"cpu.{side}", name


def _value(found: dict[str, Figure], name: str) -> float | None:
    figure = found.get(name)
    return figure.value if figure is not None else None


def _number(value: float | None) -> str:
    return "-" if value is None else format_value(value)


def against_targets(figures: Sequence[Figure]) -> str:
    """A table of every targeted figure of the run: measured, target, met or not."""
    found = {f.name: f for f in figures}
    rows = [("figure", "measured", "target", "")]
    for target in TARGETS:
        figure = found.get(target.figure)
        if figure is None:
            continue
        rows.append(
            (
                target.figure,
                f"{figure.value:,.1f} {figure.unit}",
                f"{target.relation} {target.value:,.0f}",
                "met" if target.met(figure.value) else "missed",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
