"""One service's HTTP API served by several processes on one port (``CANOPY_<SVC>_API_PROCESSES``).

A Python process serves HTTP on one core at most. :func:`serve_processes` binds the port, then
forks the processes and waits for them: the first runs the service's mode (its consumers and
workers too, in ``all`` mode), the others the API only. They accept connections from the one
listening socket, so the kernel spreads connections over them. SIGTERM or SIGINT stops them
all gracefully (uvicorn's shutdown in each); when one ends by itself the others are stopped
and the parent exits with its status, for the process manager to restart the service; a
child whose parent died is stopped (Linux).

Prometheus metrics go to files, one set per process (``prometheus_client``'s multiprocess
mode, in a folder of this run, removed afterwards), and ``/metrics`` answers from any process
with every process's series: counters and histograms summed, gauges per ``pid``. The
``process_*`` and ``python_*`` series are not collected in this mode.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from types import FrameType
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI

from canopy_common.metrics import enable_multiprocess_metrics
from canopy_common.settings import ServiceSettings

log = structlog.get_logger(__name__)

# Connections waiting to be accepted: the processes take them as fast as they can.
BACKLOG = 2048
STARTUP_FAILURE = 3  # uvicorn's exit status when the app did not start (its lifespan failed)
_PR_SET_PDEATHSIG = 1  # prctl(2)


def uvicorn_options(settings: ServiceSettings, port: int) -> dict[str, Any]:
    """How every Canopy service runs uvicorn (``uvicorn.run(app, **options)``)."""
    return {
        "host": settings.host,
        "port": port,
        "log_config": None,  # logging is configured by run_cli (structlog JSON)
        "access_log": False,
        "timeout_graceful_shutdown": 30,
    }


def serve_processes(
    make_app: Callable[[bool], FastAPI], settings: ServiceSettings, port: int, count: int
) -> int:
    """Serve on ``port`` from ``count`` forked processes until stopped; the exit status.

    ``make_app(first)`` builds each process's app, after the fork: ``first`` for the process
    that also runs what the mode runs besides the API. Call it before anything starts a
    thread or an event loop (fork copies only the calling thread).
    """
    metrics_dir = tempfile.mkdtemp(prefix=f"canopy-{settings.service_name}-metrics-")
    enable_multiprocess_metrics(metrics_dir)
    listener = socket.create_server((settings.host, port), backlog=BACKLOG)
    listener.set_inheritable(True)
    children: list[int] = []
    parent = os.getpid()
    try:
        for index in range(count):
            pid = os.fork()
            if pid == 0:  # the child: serve, and never return into the parent's code
                status = 1
                try:
                    _die_with(parent)
                    config = uvicorn.Config(make_app(index == 0), **uvicorn_options(settings, port))
                    server = uvicorn.Server(config)
                    server.run(sockets=[listener])
                    status = 0 if server.started else STARTUP_FAILURE
                except BaseException:
                    log.exception("api process failed")
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(status)
            children.append(pid)
        log.info("api processes started", pids=children, port=port)
        return _supervise(children)
    finally:
        listener.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _supervise(children: list[int]) -> int:
    """Wait for every child; stop them all on a signal, or when one ends by itself."""
    running = set(children)
    stopping = False

    def stop_all(signum: int | None = None, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in running:
            with contextlib.suppress(ProcessLookupError):  # uvicorn: graceful, however often
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    status = 0
    while running:
        pid, wait_status = os.wait()
        running.discard(pid)
        code = os.waitstatus_to_exitcode(wait_status)
        if not stopping:
            log.error("api process ended; stopping the others", pid=pid, status=code)
            status = code or 1
            stop_all()
    return status


def _die_with(parent: int) -> None:
    """Have the kernel send SIGTERM to this child when ``parent`` dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
