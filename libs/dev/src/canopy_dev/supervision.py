"""The four services under supervisord (PyPI ``supervisor``): its configuration, and what it
says about each service.

Why supervisord: a local run should behave like a small production host — a service that
crashes comes back by itself while the others keep serving — and honcho, which ran the
``Procfile`` before, stops every service as soon as one exits and restarts nothing.
supervisord restarts an exited program (``autorestart``), retries one that fails to start with
a growing delay (1 s, 2 s, 3 s... up to ``startretries`` attempts, then ``FATAL``), stops
process groups (a service with several API processes) and answers ``supervisorctl`` and
XML-RPC on a Unix socket in the run folder. circus would do too; supervisor is the older, more
widely packaged of the two and needs no ZeroMQ.

The programs are still the ``Procfile``'s lines (``name: command``), so that file stays the one
list of what runs.
"""

from __future__ import annotations

import re
import sys
import xmlrpc.client
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

CONFIG_FILE = "supervisord.conf"
SOCKET_FILE = "supervisor.sock"
SUPERVISOR_LOG = "supervisord.log"
# A service alive this long counts as started; one that dies sooner is retried with backoff.
# Settings errors and an unreachable database end a service within a second or two.
START_SECONDS = 5
# Retries of a service that keeps failing to start: 1 + 2 + ... + 8 s = 36 s of backoff before
# supervisord gives up on it (FATAL, shown by `make status`), long enough to ride out a
# restarting Postgres or broker.
START_RETRIES = 8
# Services finish in-flight work and commit on SIGTERM; then supervisord sends SIGKILL.
STOP_WAIT_S = 40
# AF_UNIX paths hold at most 107 bytes on Linux.
_MAX_SOCKET_PATH = 107
_SPAWNED = re.compile(r" spawned: '([^']+)' with pid \d+")
_STARTED = " supervisord started with pid "


@dataclass(frozen=True)
class Program:
    """One line of the Procfile: a service's name and its command."""

    name: str
    command: str


@dataclass(frozen=True)
class ServiceState:
    """One service as supervisord sees it now."""

    name: str
    state: str  # RUNNING, STARTING, BACKOFF, EXITED, FATAL, STOPPED...
    pid: int | None
    uptime_s: float | None
    restarts: int

    def describe(self) -> str:
        uptime = "-" if self.uptime_s is None else f"{self.uptime_s:.0f}s"
        pid = "-" if self.pid is None else str(self.pid)
        return (
            f"{self.name:<10} {self.state:<9} pid {pid:<8} up {uptime:<7} restarts {self.restarts}"
        )


def read_procfile(path: Path) -> list[Program]:
    """The programs of a Procfile (``name: command`` lines; blank lines and ``#`` skipped)."""
    programs = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        programs.append(Program(name.strip(), command.strip()))
    return programs


def _value(text: str | Path) -> str:
    # supervisord expands %(name)s in values: a literal % is written %%.
    return str(text).replace("%", "%%")


def render_config(
    programs: Sequence[Program], run_dir: Path, repo_root: Path, log_path: Path
) -> str:
    """supervisord's configuration: control socket, own log and pid file in ``run_dir``, and
    one ``[program:x]`` per service, every service's output appended to ``log_path``."""
    socket = run_dir / SOCKET_FILE
    if len(str(socket)) > _MAX_SOCKET_PATH:
        raise ValueError(f"run folder path too long for a Unix socket: {socket}")
    # The Procfile says `python`: this interpreter, the one with the workspace.
    python = sys.executable
    sections = [
        f"[unix_http_server]\nfile={_value(socket)}\nchmod=0700\n",
        "[supervisord]\n"
        f"logfile={_value(run_dir / SUPERVISOR_LOG)}\n"
        "logfile_maxbytes=0\n"  # never rotated: restart counts are read from it
        f"pidfile={_value(run_dir / 'supervisord.pid')}\n"
        f"childlogdir={_value(run_dir)}\n"
        f"directory={_value(repo_root)}\n"
        # The pid we spawn is supervisord's own, so `down` stops it by that pid; silent: its log
        # lines go to the logfile only, not once more to the output we spawn it with.
        "nodaemon=true\nsilent=true\n",
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl=unix://{_value(socket)}\n",
    ]
    for program in programs:
        command = program.command
        if command.split(" ", 1)[0] == "python":
            command = python + command.removeprefix("python")
        sections.append(
            f"[program:{program.name}]\n"
            f"command={_value(command)}\n"
            f"directory={_value(repo_root)}\n"
            "autostart=true\n"
            "autorestart=true\n"
            f"startsecs={START_SECONDS}\n"
            f"startretries={START_RETRIES}\n"
            "stopsignal=TERM\n"
            f"stopwaitsecs={STOP_WAIT_S}\n"
            # A service with several API processes forks: stop and kill them all.
            "stopasgroup=true\nkillasgroup=true\n"
            "redirect_stderr=true\n"
            f"stdout_logfile={_value(log_path)}\n"
            "stdout_logfile_maxbytes=0\n"
        )
    return "\n".join(sections)


def restart_counts(supervisor_log: Path) -> dict[str, int]:
    """How often supervisord started each program again since it last started itself.

    supervisord's XML-RPC reports no restart count; its log has a ``spawned: 'name'`` line for
    every start, and a ``supervisord started`` line when it starts itself.
    """
    try:
        lines = supervisor_log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return {}
    since = max((i for i, line in enumerate(lines) if _STARTED in line), default=0)
    spawns: dict[str, int] = {}
    for line in lines[since:]:
        if found := _SPAWNED.search(line):
            spawns[found.group(1)] = spawns.get(found.group(1), 0) + 1
    return {name: count - 1 for name, count in spawns.items()}


@contextmanager
def control(run_dir: Path) -> Iterator[Any]:
    """An XML-RPC proxy to the supervisord of ``run_dir`` (``supervisor.*`` methods)."""
    transport = SupervisorTransport(None, None, f"unix://{run_dir / SOCKET_FILE}")
    # The host is ignored: the transport talks to the Unix socket.
    with xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport) as proxy:
        yield proxy


def service_states(run_dir: Path) -> list[ServiceState]:
    """Every program's state, pid, uptime and restart count; OSError when supervisord does not
    answer."""
    with control(run_dir) as proxy:
        infos: list[Mapping[str, Any]] = proxy.supervisor.getAllProcessInfo()
    restarts = restart_counts(run_dir / SUPERVISOR_LOG)
    states = []
    for info in infos:
        running = info["statename"] == "RUNNING"
        states.append(
            ServiceState(
                name=info["name"],
                state=info["statename"],
                pid=info["pid"] or None,
                uptime_s=float(info["now"] - info["start"]) if running else None,
                restarts=restarts.get(info["name"], 0),
            )
        )
    return states
