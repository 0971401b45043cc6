"""Starting and stopping the programs the local stack runs, with every wait bounded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

KILL_WAIT_S = 5.0


class DevStackError(RuntimeError):
    """The local stack cannot be brought up or down (the message says what to do)."""


def proc_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (None when it does not exist).

    Recorded with every pid we start so that a pid the kernel reused is never signalled.
    """
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def _proc_stat(pid: int, task: int | None = None) -> tuple[str, int] | None:
    path = f"/proc/{pid}/task/{task}/stat" if task is not None else f"/proc/{pid}/stat"
    try:
        stat = Path(path).read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return fields[0], int(fields[19])


def _threads_running(pid: int) -> bool:
    """Whether any thread of ``pid`` has not exited. A process whose main thread has ended
    shows as a zombie while its other threads still run (a JVM in its shutdown hooks)."""
    try:
        tasks = [int(name) for name in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return False
    return any((stat := _proc_stat(pid, task)) and stat[0] not in ("Z", "X") for task in tasks)


def process_alive(pid: int, start_ticks: int | None = None) -> bool:
    """Whether ``pid`` still runs (and is the same process when ``start_ticks`` is given)."""
    with contextlib.suppress(ChildProcessError):  # reap our own exited child; init reaps others
        os.waitpid(pid, os.WNOHANG)
    stat = _proc_stat(pid)
    if stat is not None and stat[0] == "Z":  # it exited since: reap it now
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        stat = _proc_stat(pid)
    if stat is None:
        return False
    state, ticks = stat
    running = state not in ("Z", "X") or _threads_running(pid)
    return running and (start_ticks is None or ticks == start_ticks)


def terminate(pid: int, start_ticks: int | None, timeout_s: float) -> bool:
    """SIGTERM, wait up to ``timeout_s``, then SIGKILL; False when it was already gone."""
    if not process_alive(pid, start_ticks):
        return False
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, KILL_WAIT_S)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not process_alive(pid, start_ticks):
                return True
            time.sleep(0.05)
    raise DevStackError(f"process {pid} survived SIGKILL")


def spawn_detached(argv: list[str], log_path: Path, env: Mapping[str, str] | None = None) -> int:
    """Start ``argv`` in a new session with its output appended to ``log_path``; its pid.
    It gets ``env`` for its environment (default: this process's).

    ``posix_spawn`` rather than ``Popen``: the server outlives this process, and a dropped
    ``Popen`` of a running child warns.
    """
    append = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    return os.posix_spawn(
        argv[0],
        argv,
        os.environ if env is None else env,
        setsid=True,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log_path), append, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
    )


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_command(
    argv: list[str], timeout_s: float, what: str, env: Mapping[str, str] | None = None
) -> str:
    """Run a short command to completion; its stdout, or :class:`DevStackError` saying ``what``."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DevStackError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        raise DevStackError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh event loop in a worker thread.

    Callable from plain code and from inside a running loop (pytest-asyncio's) alike, and it
    leaves the caller's loop state alone.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="devstack") as pool:
        return pool.submit(asyncio.run, coro).result()
