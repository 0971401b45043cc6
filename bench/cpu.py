"""CPU time spent on a measured run: this process's, the local servers' and the services'.

A rate says how fast; CPU per operation says what it cost, which a busy 2-core machine blurs
less. Linux only (``/proc``); a server that is not a local process this can read has its
share left out (``None``).

:class:`CpuMeter` reads every part of a system at once — each service's processes, Postgres
(the postmaster, its backends, and those that exited), Redis, the broker, and this process
(the load generator) — and :func:`cost_figure` turns the difference over a measured run into
one figure: the system's CPU µs per operation, with each part's share in its ``params``.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from redis import Redis as SyncRedis
from redis.exceptions import RedisError

from bench.figures import Figure, JSONScalar
from canopy_dev.devstack.probes import bootstrap_address, is_local_host

CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
TCP_LISTEN: Final = "0A"  # the state column of /proc/net/tcp
UNIT: Final = "CPU µs/record"


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """CPU seconds (user + system) used so far by the client side and by the broker."""

    client_s: float
    broker_s: float | None

    def __sub__(self, earlier: CpuTimes) -> CpuTimes:
        broker = None
        if self.broker_s is not None and earlier.broker_s is not None:
            broker = self.broker_s - earlier.broker_s
        return CpuTimes(self.client_s - earlier.client_s, broker)


def own_cpu_s() -> float:
    """CPU seconds of this process, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu_s() -> float:
    """CPU seconds of this process's children that have exited and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds of a running process (utime + stime of ``/proc/<pid>/stat``, in clock
    ticks: 10 ms on Linux); ``None`` when it is gone or unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # from field 3 (state) on: the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def broker_pid(bootstrap_servers: str) -> int | None:
    """The pid of the local process listening on the first bootstrap server's port; ``None``
    for a remote broker, or one this user cannot see."""
    host, port = bootstrap_address(bootstrap_servers)
    return listening_pid(host, port)


def listening_pid(host: str, port: int) -> int | None:
    """The pid of the local process listening on ``port``; ``None`` for a remote ``host``, or
    a process this user cannot see."""
    if not is_local_host(host):
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:  # gone, or not ours to look at
            continue
        if links & {f"socket:[{inode}]" for inode in inodes}:
            return int(proc.name)
    return None


def tree_cpu_s(pid: int) -> float | None:
    """CPU seconds of a process, its live descendants, and every descendant that exited and
    was waited for (a Postgres backend that served one connection): ``None`` when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    # utime, stime, cutime, cstime: fields 14-17 of stat(5), 12-15 after the name.
    spent = sum(int(f) for f in fields[11:15]) / CLOCK_TICKS
    for child in _children(pid):
        spent += tree_cpu_s(child) or 0.0
    return spent


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def broker_cpu_s(pid: int | None) -> float | None:
    """:func:`process_cpu_s` of the broker, when there is one to read."""
    return process_cpu_s(pid) if pid is not None else None


def own_times(broker: int | None) -> CpuTimes:
    """This process's CPU and the broker's, now."""
    return CpuTimes(own_cpu_s(), broker_cpu_s(broker))


def per_record(
    prefix: str, spent: CpuTimes, records: int, params: Mapping[str, JSONScalar]
) -> list[Figure]:
    """``<prefix>.cpu.client`` and ``<prefix>.cpu.broker``: CPU µs per record."""
    if records <= 0:
        return []
    spent_s = {"client": spent.client_s, "broker": spent.broker_s}
    return [
        Figure(f"{prefix}.cpu.{side}", cpu_s / records * 1e6, UNIT, records, dict(params))
        for side, cpu_s in spent_s.items()
        if cpu_s is not None
    ]


# The parts of a system that are the system; "bench" (this process: the load generator, or
# the service itself when a benchmark runs one in process) is reported beside them.
BENCH_PART: Final = "bench"
CHECKS_PART: Final = "bench_redis_checks"  # Redis's time in the benchmark's own checks


@dataclass(frozen=True)
class CpuMeter:
    """Readers of CPU seconds so far, by part name (``None``: that part cannot be read)."""

    parts: Mapping[str, Callable[[], float | None]]

    def read(self) -> dict[str, float | None]:
        return {name: reader() for name, reader in self.parts.items()}

    def since(self, earlier: Mapping[str, float | None]) -> dict[str, float]:
        """CPU seconds each part spent since ``earlier`` (parts unreadable either time left
        out)."""
        now = self.read()
        spent = {}
        for name, value in now.items():
            before = earlier.get(name)
            if value is not None and before is not None:
                spent[name] = max(value - before, 0.0)
        return spent


def server_parts(
    *,
    postgres_dsn: str | None,
    redis_url: str | None,
    broker: str | None,
    bench_commands: Sequence[str] = (),
) -> dict[str, Callable[[], float | None]]:
    """Readers for the local servers, found by the ports they listen on (from the Postgres
    DSN, the Redis URL, the broker's bootstrap servers), and for this process.

    ``bench_commands``: Redis commands only the benchmark sends (its checks that an entry
    arrived, e.g. ``zscore``): their time (Redis's own count, ``INFO commandstats``) is taken
    out of Redis's share and shown as :data:`CHECKS_PART`, beside the load generator's.
    """
    parts: dict[str, Callable[[], float | None]] = {BENCH_PART: own_cpu_s}
    postgres = _address(postgres_dsn, 5432) if postgres_dsn else None
    redis = _address(redis_url, 6379) if redis_url else None
    if postgres is not None and (pid := listening_pid(*postgres)) is not None:
        parts["postgres"] = _tree_reader(pid)
    if redis is not None and (pid := listening_pid(*redis)) is not None:
        checks = _command_seconds(redis, bench_commands)
        parts["redis"] = _less(_tree_reader(pid), checks)
        if bench_commands:
            parts[CHECKS_PART] = checks
    if broker is not None and (pid := broker_pid(broker)) is not None:
        parts["broker"] = _tree_reader(pid)
    return parts


def _address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _command_seconds(
    address: tuple[str, int], commands: Sequence[str]
) -> Callable[[], float | None]:
    """A reader of the seconds Redis spent in ``commands`` so far (``INFO commandstats``)."""

    def read() -> float | None:
        if not commands:
            return 0.0
        client = SyncRedis(host=address[0], port=address[1], socket_timeout=5)
        try:
            stats = client.info("commandstats")
        except RedisError:
            return None
        finally:
            client.close()
        return sum(int(stats.get(f"cmdstat_{c}", {}).get("usec", 0)) for c in commands) / 1e6

    return read


def _less(
    whole: Callable[[], float | None], part: Callable[[], float | None]
) -> Callable[[], float | None]:
    def read() -> float | None:
        total, taken = whole(), part()
        return None if total is None or taken is None else total - taken

    return read


def _tree_reader(pid: int) -> Callable[[], float | None]:
    return lambda: tree_cpu_s(pid)


def cost_figure(
    name: str,
    spent: Mapping[str, float],
    operations: int,
    params: Mapping[str, JSONScalar],
    *,
    in_system: frozenset[str] = frozenset(),
    per: str = "op",
) -> list[Figure]:
    """``name``: the system's CPU µs per operation — every part but :data:`BENCH_PART` and
    :data:`CHECKS_PART` (unless ``in_system`` names it) — with each part's µs per operation in
    ``params`` (``cpu.<part>``, the load generator's and its checks' too)."""
    if operations <= 0:
        return []
    outside = {BENCH_PART, CHECKS_PART} - in_system
    system = sum(s for part, s in spent.items() if part not in outside)
    shares: dict[str, JSONScalar] = {
        f"cpu.{part}": round(s / operations * 1e6, 2) for part, s in sorted(spent.items())
    }
    unit = f"CPU µs/{per}"
    return [Figure(name, system / operations * 1e6, unit, operations, {**params, **shares})]


def _listening_inodes(port: int) -> set[str]:
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            local, state, inode = columns[1], columns[3], columns[9]
            if state == TCP_LISTEN and int(local.rpartition(":")[2], 16) == port:
                found.add(inode)
    return found
