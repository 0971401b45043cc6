"""CPU time spent on a measured run: this process's, and the local broker's.

A rate says how fast; CPU per record says what it cost, which a busy 2-core machine blurs
less. Linux only (``/proc``); where the broker is not a local process this can read, its
share is left out (``None``).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

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
