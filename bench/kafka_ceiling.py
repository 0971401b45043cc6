"""``kafka_ceiling``: what the broker takes from Kafka's own clients, beside Canopy's figures.

Kafka's ``kafka-producer-perf-test`` (``org.apache.kafka.tools.ProducerPerformance``) and
``kafka-consumer-perf-test`` (``org.apache.kafka.tools.ConsumerPerformance``), from the jars the
broker runs from (``make setup``, docs/kafka.md), in a JVM on this machine, against the same
broker as :mod:`bench.kafka`, on a topic of its own with as many partitions:

- ``kafka_ceiling.produce.records_per_s`` and ``.mib_per_s``: :data:`RECORDS` records as large
  as :mod:`bench.kafka`'s (an encoded team post, measured at run time), keyed round-robin over
  as many keys (:data:`~bench.kafka.ACTORS`), ``acks=all``, idempotent, unthrottled: the tool's
  own summary line. The Java
  producer's other settings are its defaults: 16 KiB batches as aiokafka's, but ``linger.ms=5``
  where aiokafka sends at once.
- ``kafka_ceiling.consume.records_per_s`` and ``.mib_per_s``: the same records read back by a
  new group (``read_committed``, as Canopy's consumers), from the end of the group join to the
  last record (the tool's ``fetch.*`` columns); the join is ``.assignment``, left out of the
  rates as in ``kafka.consume.*``. The tool commits in the background (every 5 s and at the
  end), where Canopy commits after each batch, and skips the records' CRC checks (it forces
  ``check.crcs=false``), which aiokafka makes.
- ``.cpu.client`` and ``.cpu.broker``: CPU µs per record of the tool's JVM and of the broker
  (``/proc``, when the broker is a local process), the JVM's start-up left out: each tool runs
  :data:`START_UP_RECORDS` records first, and the two runs' difference in CPU is divided by
  their difference in records (Canopy's clients run in the bench's process, already started).
  The broker's includes whatever else it serves meanwhile.

Canopy's ``kafka.produce.concurrent.w100`` and ``kafka.consume.noop`` are set beside these by
:func:`bench.compare.against_kafka_ceiling` (MiB are 2^20 bytes, as the tools count them).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Final

from bench.cpu import CpuTimes, broker_cpu_s, broker_pid, children_cpu_s, per_record
from bench.figures import Figure, JSONScalar
from bench.harness import BenchContext, Benchmark
from bench.kafka import ACTORS, PARTITIONS, delete_topics, team_posts
from canopy_common.kafka import ensure_topics
from canopy_dev.devstack.kafka import java_command, kafka_version

PRODUCER_TOOL: Final = "org.apache.kafka.tools.ProducerPerformance"
CONSUMER_TOOL: Final = "org.apache.kafka.tools.ConsumerPerformance"
RECORDS: Final = 100_000  # 240 MB of team posts: 3-8 s of producing on a 2-core VM
START_UP_RECORDS: Final = 1_000
TOOL_HEAP: Final = "512m"  # what kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh give
TOOL_TIME_LIMIT_S: Final = 120.0
# The consumer tool gives up when this long passes without a record.
CONSUMER_IDLE_TIMEOUT_MS: Final = 20_000
STDERR_TAIL_CHARS: Final = 2_000
# kafka-producer-perf-test's last line: "N records sent, R records/sec (M MB/sec), A ms avg
# latency, X ms max latency, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th."
_PRODUCER_SUMMARY = re.compile(
    r"^(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mib>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, [\d.]+ ms max latency, (?P<p50>\d+) ms 50th, "
    r"\d+ ms 95th, (?P<p99>\d+) ms 99th",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class ToolRun:
    """A tool's standard output, and the CPU it and the broker used while it ran."""

    report: str
    cpu: CpuTimes


async def run(ctx: BenchContext) -> list[Figure]:
    """Produce with the producer tool, read back with the consumer tool, on a scratch topic."""
    settings = ctx.kafka.model_copy(update={"partitions": PARTITIONS})
    topic = f"bench.ceiling.{uuid.uuid4().hex[:10]}"
    record_bytes = len(team_posts(1)[0].value)
    broker = broker_pid(settings.bootstrap_servers)
    bootstrap = settings.bootstrap_servers
    params: dict[str, JSONScalar] = {
        "bytes": record_bytes,
        "partitions": PARTITIONS,
        "keys": ACTORS,
        "kafka": kafka_version(),
    }
    await ensure_topics(settings, [topic])
    try:
        start_up = await run_tool(
            producer_command(bootstrap, topic, START_UP_RECORDS, record_bytes), broker
        )
        measured = await run_tool(producer_command(bootstrap, topic, RECORDS, record_bytes), broker)
        figures = producer_figures(start_up, measured, params)
        start_up = await run_tool(consumer_command(bootstrap, topic, START_UP_RECORDS), broker)
        measured = await run_tool(consumer_command(bootstrap, topic, RECORDS), broker)
        figures += consumer_figures(start_up, measured, params)
        return figures
    finally:
        await delete_topics(settings, [topic])


def producer_command(bootstrap: str, topic: str, records: int, record_bytes: int) -> list[str]:
    """``kafka-producer-perf-test``: ``records`` unthrottled, acks=all, idempotent, keyed."""
    return java_command(
        PRODUCER_TOOL,
        *("--bootstrap-server", bootstrap, "--topic", topic),
        *("--num-records", str(records), "--record-size", str(record_bytes)),
        *("--throughput", "-1"),
        *("--key-distribution", "range", "--record-key-range", str(ACTORS)),
        *("--command-property", "acks=all", "enable.idempotence=true"),
        heap=TOOL_HEAP,
    )


def consumer_command(bootstrap: str, topic: str, records: int) -> list[str]:
    """``kafka-consumer-perf-test``: the first ``records`` of ``topic`` as a new group."""
    return java_command(
        CONSUMER_TOOL,
        *("--bootstrap-server", bootstrap, "--topic", topic),
        *("--num-records", str(records), "--group", f"bench-ceiling-{uuid.uuid4().hex[:10]}"),
        *("--timeout", str(CONSUMER_IDLE_TIMEOUT_MS)),
        *("--command-property", "isolation.level=read_committed"),
        heap=TOOL_HEAP,
    )


async def run_tool(command: list[str], broker: int | None) -> ToolRun:
    """Run a tool to its end; its output, and its own CPU and the broker's meanwhile.

    The tool's CPU is that of this process's waited-for children (``RUSAGE_CHILDREN``), which
    grows by the tool's whole CPU when it is reaped: nothing else is started meanwhile.
    """
    before = CpuTimes(children_cpu_s(), broker_cpu_s(broker))
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), TOOL_TIME_LIMIT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TimeoutError(f"{command[-1]} ran over {TOOL_TIME_LIMIT_S:.0f} s") from None
    spent = CpuTimes(children_cpu_s(), broker_cpu_s(broker)) - before
    if process.returncode != 0:
        tail = err.decode(errors="replace")[-STDERR_TAIL_CHARS:]
        raise RuntimeError(f"{' '.join(command[-12:])} exited {process.returncode}: {tail}")
    return ToolRun(out.decode(errors="replace"), spent)


def producer_figures(
    start_up: ToolRun, measured: ToolRun, params: dict[str, JSONScalar]
) -> list[Figure]:
    """Rates and latencies from the producer tool's summary, CPU from the two runs."""
    summary = _producer_summary(measured.report)
    records, per_s = int(summary["records"]), float(summary["rate"])
    run_params = {
        **params,
        "acks": "all",
        "idempotence": True,
        "p50_ms": int(summary["p50"]),
        "p99_ms": int(summary["p99"]),
        "elapsed_s": round(records / per_s, 3) if per_s > 0 else 0.0,
    }
    return [
        Figure("kafka_ceiling.produce.records_per_s", per_s, "records/s", records, run_params),
        Figure(
            "kafka_ceiling.produce.mib_per_s", float(summary["mib"]), "MiB/s", records, run_params
        ),
        *per_record(
            "kafka_ceiling.produce",
            measured.cpu - start_up.cpu,
            records - int(_producer_summary(start_up.report)["records"]),
            params,
        ),
    ]


def consumer_figures(
    start_up: ToolRun, measured: ToolRun, params: dict[str, JSONScalar]
) -> list[Figure]:
    """Rates from the consumer tool's summary (its ``fetch.*`` columns), CPU from the two runs."""
    summary = consumer_summary(measured.report)
    records = int(summary["data.consumed.in.nMsg"])
    if records < RECORDS:
        raise RuntimeError(f"the consumer tool read {records} of {RECORDS} records")
    run_params = {
        **params,
        "isolation": "read_committed",
        "elapsed_s": round(summary["fetch.time.ms"] / 1000, 3),
    }
    assignment_s = summary["rebalance.time.ms"] / 1000
    return [
        Figure("kafka_ceiling.consume.assignment", assignment_s, "s", 1, {}),
        Figure(
            "kafka_ceiling.consume.records_per_s",
            summary["fetch.nMsg.sec"],
            "records/s",
            records,
            run_params,
        ),
        Figure(
            "kafka_ceiling.consume.mib_per_s",
            summary["fetch.MB.sec"],
            "MiB/s",
            records,
            run_params,
        ),
        *per_record(
            "kafka_ceiling.consume",
            measured.cpu - start_up.cpu,
            records - int(consumer_summary(start_up.report)["data.consumed.in.nMsg"]),
            params,
        ),
    ]


def consumer_summary(report: str) -> dict[str, float]:
    """The numeric columns of ``kafka-consumer-perf-test``'s summary: its last line, named by
    the header line above it."""
    lines = [line for line in report.splitlines() if line.strip()]
    headers = [i for i, line in enumerate(lines) if line.startswith("start.time,")]
    if not headers or headers[-1] + 1 >= len(lines):
        raise RuntimeError(f"no summary in the consumer tool's output: {report[-500:]!r}")
    names = [name.strip() for name in lines[headers[-1]].split(",")]
    values = [value.strip() for value in lines[-1].split(",")]
    return {
        name: float(value)
        for name, value in zip(names, values, strict=True)
        if name not in ("start.time", "end.time")  # dates
    }


def _producer_summary(report: str) -> dict[str, str]:
    found = list(_PRODUCER_SUMMARY.finditer(report))
    if not found:
        raise RuntimeError(f"no summary in the producer tool's output: {report[-500:]!r}")
    return found[-1].groupdict()


BENCHMARK = Benchmark(
    "kafka_ceiling",
    "Kafka's own producer and consumer perf tools on the same broker, records as large as Canopy's",
    run,
)
