"""Figures derived from others of the same run: Canopy against its peer and against the Redis
ceiling, and every headline figure against the target the project set for it (issue 8)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bench.figures import Figure

WORKLOADS: Final = ("10k", "1000x100")


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
    Target("e2e.500.post_to_feeds_p99_ms", "<=", 150),
    Target("reads.home.max_rps", ">=", 3_000),
    Target("reads.home.1000rps.p99_ms", "<=", 10),
    Target("ingest.upstream.events_per_s", ">=", 10_000),
    Target("memory.timeline_full.bytes_per_entry", "<=", 24),
)


def derived(figures: Sequence[Figure]) -> list[Figure]:
    """Canopy ÷ Stream-Framework and Canopy ÷ the ZADD ceiling, for each fan-out workload
    whose figures the run produced."""
    found = {f.name: f for f in figures}
    out: list[Figure] = []
    ceiling = found.get("ceiling.redis.zadd_per_s")
    for workload in WORKLOADS:
        canopy = found.get(f"fanout.{workload}.inserts_per_s")
        peer = found.get(f"peer.sf.fanout_{workload}.inserts_per_s")
        if canopy is None:
            continue
        if peer is not None and peer.value > 0:
            out.append(
                Figure(
                    f"compare.fanout_{workload}.canopy_over_sf",
                    canopy.value / peer.value,
                    "x",
                    canopy.n,
                    {"canopy": round(canopy.value), "stream_framework": round(peer.value)},
                )
            )
        if ceiling is not None and ceiling.value > 0:
            out.append(
                Figure(
                    f"compare.fanout_{workload}.share_of_ceiling",
                    canopy.value / ceiling.value,
                    "fraction",
                    canopy.n,
                    {"canopy": round(canopy.value), "zadd_ceiling": round(ceiling.value)},
                )
            )
    return out


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
