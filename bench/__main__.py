"""``python -m bench [--only NAME ...]``: run the benchmarks, print a table, write results.json.

The servers come from :class:`~canopy_dev.devstack.LocalStack`, as in the tests: running
ones are reused, missing ones are started and stopped again at the end. They are brought up
only when a selected benchmark needs them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    analytics_lag,
    ceiling,
    compare,
    e2e,
    embeddings,
    events,
    fanout,
    ingest,
    kafka,
    kafka_ceiling,
    peer,
    ratelimit,
    reads,
    search,
    similar,
    social,
    web,
)
from bench.figures import Figure, render_table
from bench.harness import (
    RESULTS_PATH,
    BenchContext,
    Benchmark,
    bench_stack,
    context_for,
    results_document,
    write_results,
)
from canopy_common.logging import configure_logging
from canopy_common.settings import RateLimitSettings
from canopy_dev.devstack import LocalStack, StackEndpoints
from canopy_dev.devstack.postgres import ensure_database

# Every benchmark, in the order they run; a new one adds its module's BENCHMARK here.
BENCHMARKS: tuple[Benchmark, ...] = (
    events.BENCHMARK,
    kafka.BENCHMARK,
    kafka_ceiling.BENCHMARK,
    ingest.BENCHMARK,
    fanout.BENCHMARK,
    e2e.BENCHMARK,
    analytics_lag.BENCHMARK,
    reads.BENCHMARK,
    peer.BENCHMARK,
    ceiling.BENCHMARK,
    ratelimit.BENCHMARK,
    social.BENCHMARK,
    search.BENCHMARK,
    similar.BENCHMARK,
    embeddings.BENCHMARK,
    web.BENCHMARK,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; 0 when every one produced its figures."""
    args = _parser().parse_args(argv)
    if args.list:
        for benchmark in BENCHMARKS:
            print(f"{benchmark.name:12} {benchmark.summary}")
        return 0
    selected = _select(args.only)
    raise_budgets()
    configure_logging(args.log_level, json=False, service="bench")

    started_at, started = datetime.now(UTC), time.monotonic()
    stack = bench_stack() if any(b.needs_stack for b in selected) else None
    try:
        endpoints = _up(stack) if stack is not None else None
        figures, errors = asyncio.run(_run_all(selected, context_for(endpoints)))
    finally:
        if stack is not None:
            _down(stack)
    duration_s = time.monotonic() - started

    figures += compare.derived(figures)
    document = results_document(
        figures,
        benchmarks=[b.name for b in selected],
        duration_s=duration_s,
        errors=errors,
        started_at=started_at,
    )
    report = "\n\n".join(
        [
            f"Canopy benchmarks, {document['date']}, {document['cpu_count']} cores, "
            f"Python {document['python']}, commit {(document['git_commit'] or '?')[:12]}"
            f"{' (dirty)' if document['git_dirty'] else ''}, {duration_s:.0f} s",
            render_table(figures),
            "Against the targets:\n" + compare.against_targets(figures),
        ]
    )
    if kafka_table := compare.against_kafka_ceiling(figures):
        report += "\n\nAgainst Kafka's own perf tools (kafka_ceiling):\n" + kafka_table
    print(report)
    for name, error in errors.items():
        print(f"FAILED {name}: {error}", file=sys.stderr)
    write_results(document, args.output)
    args.output.with_suffix(".txt").write_text(report + "\n")
    print(f"\n{len(figures)} figures -> {args.output} and {args.output.with_suffix('.txt')}")
    return 1 if errors else 0


async def _run_all(
    selected: Sequence[Benchmark], ctx: BenchContext
) -> tuple[list[Figure], dict[str, str]]:
    """Run each benchmark in turn; one that fails is reported and the rest still run."""
    if any(b.needs_stack for b in selected):
        await ensure_database(ctx.postgres.dsn)
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    for benchmark in selected:
        print(f"running {benchmark.name}: {benchmark.summary}", file=sys.stderr, flush=True)
        began = time.monotonic()
        try:
            figures += await benchmark.run(ctx)
        except Exception as exc:
            traceback.print_exception(exc, file=sys.stderr)
            errors[benchmark.name] = f"{type(exc).__name__}: {exc}"
        print(f"  {benchmark.name}: {time.monotonic() - began:.1f} s", file=sys.stderr)
    return figures, errors


# The benchmarks drive thousands of reads a second from one person and hundreds of posts a
# second from a few: far past the budgets a deployment wants (README, Rate limits). The
# services still check every request (its cost is in the figures); none is refused.
BENCH_BUDGET = 100_000_000


def raise_budgets() -> None:
    """Every ``CANOPY_RATE_LIMIT_*`` budget the environment does not set, for the services
    this run starts (they inherit the environment)."""
    for field in RateLimitSettings.model_fields:
        if field.endswith(("_per_person", "_per_tenant")):
            os.environ.setdefault(f"CANOPY_RATE_LIMIT_{field.upper()}", str(BENCH_BUDGET))


def _up(stack: LocalStack) -> StackEndpoints:
    endpoints = stack.up()
    servers = [f"{r.name} {'started' if r.started else 'reused'}" for r in stack.records().values()]
    print(f"servers: {', '.join(servers)}", file=sys.stderr)
    return endpoints


def _down(stack: LocalStack) -> None:
    """Stop only what :func:`_up` started (a dev broker already running stays up)."""
    stopped = stack.down()
    if stopped:
        print(f"servers stopped: {', '.join(stopped)}", file=sys.stderr)


def _select(only: Sequence[str] | None) -> list[Benchmark]:
    if not only:
        return list(BENCHMARKS)
    known = {b.name: b for b in BENCHMARKS}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    return [b for b in BENCHMARKS if b.name in only]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (repeat for several); see --list",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_PATH,
        help=f"where to write the figures (default: {RESULTS_PATH})",
    )
    parser.add_argument("--log-level", default="WARNING", help="default: WARNING")
    return parser


if __name__ == "__main__":
    sys.exit(main())
