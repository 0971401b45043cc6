"""``make up`` / ``make down``: the whole system on this machine, no Docker.

``up`` brings up Postgres, Redis and the broker with :class:`~canopy_dev.devstack.LocalStack`,
then the four services (the ``Procfile`` at the repository root) under supervisord, which
restarts a service that exits (:mod:`canopy_dev.supervision`), waits until every ``/readyz``
answers 200, and seeds the demo tenant ``acme`` (:mod:`canopy_dev.demo`; ``CANOPY_DEMO_SEED=0``
skips it). ``status`` shows each service's state, pid, uptime and restarts. ``down`` stops
supervisord (which stops the services), then exactly the servers ``up`` started. Logs, pids and
supervisord's socket live in the run folder (``.run/``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from canopy_dev.devstack.processes import (
    DevStackError,
    log_tail,
    proc_start_ticks,
    process_alive,
    spawn_detached,
    terminate,
)
from canopy_dev.devstack.stack import LocalStack, StackEndpoints, default_run_dir
from canopy_dev.ports import service_ports, web_environment
from canopy_dev.supervision import (
    CONFIG_FILE,
    STOP_WAIT_S,
    SUPERVISOR_LOG,
    ServiceState,
    read_procfile,
    render_config,
    service_states,
)

# Default HTTP ports of the services (each overridable with CANOPY_<SVC>_PORT).
READY_TIMEOUT_S = 120.0  # migrations, topic metadata and four consumer-group joins
# supervisord stops the services (SIGTERM, STOP_WAIT_S, then SIGKILL) before it exits itself.
STOP_TIMEOUT_S = STOP_WAIT_S + 10.0
STATE_FILE = "services.json"
LOG_FILE = "services.log"


@dataclass(frozen=True)
class ServicesRecord:
    pid: int
    start_ticks: int | None
    ports: dict[str, int]


def stack_environment(endpoints: StackEndpoints) -> dict[str, str]:
    """The settings that point every service at the stack's servers."""
    return {
        "CANOPY_PG_DSN": endpoints.pg_dsn,
        "CANOPY_REDIS_URL": endpoints.redis_url,
        "CANOPY_KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
    }


def readiness(port: int, timeout_s: float = 2.0) -> int | None:
    """The status ``/readyz`` answers on ``port``, None when nothing answers."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/readyz", timeout=timeout_s
        ) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def wait_ready(ports: dict[str, int], timeout_s: float, alive: Path | None = None) -> None:
    """Wait until every service answers ``/readyz`` with 200."""
    deadline = time.monotonic() + timeout_s
    waiting = dict(ports)
    while waiting:
        waiting = {name: port for name, port in waiting.items() if readiness(port) != 200}
        if not waiting:
            return
        if time.monotonic() > deadline:
            tail = log_tail(alive, 40) if alive else ""
            raise DevStackError(f"not ready after {timeout_s:.0f}s: {sorted(waiting)}\n{tail}")
        time.sleep(0.5)


class LocalSystem:
    """The local stack plus the four services under supervisord."""

    def __init__(self, run_dir: Path, repo_root: Path) -> None:
        self.run_dir = run_dir
        self.repo_root = repo_root
        self.stack = LocalStack.from_env(run_dir)

    @property
    def state_path(self) -> Path:
        return self.run_dir / STATE_FILE

    def record(self) -> ServicesRecord | None:
        try:
            return ServicesRecord(**json.loads(self.state_path.read_text()))
        except FileNotFoundError:
            return None

    def up(self, services: Sequence[str] | None = None) -> dict[str, int]:
        """Start everything (reusing what already runs), or only ``services`` of the
        Procfile (a benchmark measuring one path); the started services' ports."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        endpoints = self.stack.up()
        ports = service_ports()
        if services is not None:
            ports = {name: ports[name] for name in services}
        previous = self.record()
        if previous and process_alive(previous.pid, previous.start_ticks):
            print(f"services already running (supervisord pid {previous.pid})")
        else:
            os.environ.update(stack_environment(endpoints))
            for name, value in web_environment(service_ports()).items():
                os.environ.setdefault(name, value)
            os.environ.setdefault("CANOPY_WEB_DEV_PEOPLE", ",".join(demo_guide_people()))
            log_path = self.run_dir / LOG_FILE
            programs = read_procfile(self.repo_root / "Procfile")
            if services is not None:
                programs = [p for p in programs if p.name in services]
            config = self.run_dir / CONFIG_FILE
            config.write_text(render_config(programs, self.run_dir, self.repo_root, log_path))
            argv = [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)]
            pid = spawn_detached(argv, self.run_dir / SUPERVISOR_LOG)
            record = ServicesRecord(pid, proc_start_ticks(pid), ports)
            self.state_path.write_text(json.dumps(asdict(record)) + "\n")
            print(f"services starting under supervisord (pid {pid}), log: {log_path}")
        wait_ready(ports, READY_TIMEOUT_S, self.run_dir / LOG_FILE)
        return ports

    def down(self) -> None:
        """Stop the services, then the servers ``up`` started."""
        record = self.record()
        if record is not None:
            if terminate(record.pid, record.start_ticks, STOP_TIMEOUT_S):
                print(f"stopped the services (supervisord pid {record.pid})")
            self.state_path.unlink(missing_ok=True)
        for stopped in self.stack.down():
            print(f"stopped {stopped}")

    def services(self) -> list[ServiceState]:
        """Each service's state, pid, uptime and restarts; empty when supervisord is not up."""
        record = self.record()
        if record is None or not process_alive(record.pid, record.start_ticks):
            return []
        try:
            return service_states(self.run_dir)
        except OSError:  # starting, or stopping: its socket does not answer
            return []

    def print_services(self) -> None:
        """``make status``'s lines about the services."""
        record = self.record()
        states = {state.name: state for state in self.services()}
        for name, port in (record.ports if record else service_ports()).items():
            state = states.get(name)
            supervised = state.describe() if state else f"{name:<10} not running"
            print(f"{supervised}  http://127.0.0.1:{port} readyz={readiness(port)}")
        if record and states:
            print(f"supervisord pid {record.pid}, log: {self.run_dir / LOG_FILE}")


def demo_guide_people() -> list[str]:
    """The demo people the web client's local sign-in offers first (the guide's reader first:
    the directory is read as them)."""
    from canopy_dev.demo.company import build_company  # the company only when starting

    company = build_company()
    return [company.reader_id, company.analyst_id, company.admin_id]


def _repo_root() -> Path:
    cwd = Path.cwd()
    return next((d for d in (cwd, *cwd.parents) if (d / "Procfile").is_file()), cwd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m canopy_dev.localrun")
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    system = LocalSystem(default_run_dir(), _repo_root())
    try:
        if args.command == "up":
            ports = system.up()
            print("\nCanopy is up:")
            for name, port in ports.items():
                what = "open it in a browser" if name == "web" else "docs: /docs, ready: /readyz"
                print(f"  {name:<10} http://127.0.0.1:{port}  ({what})")
            from canopy_dev.demo import cli as demo  # httpx: only when seeding

            if demo.seeding_enabled():
                return demo.seed_and_guide(ports)
            print("\nA token:   make token TENANT=acme USER=alice ROLES=member")
            print("Stop it:   make down")
        elif args.command == "down":
            system.down()
        else:
            for server in system.stack.status():
                print(server.describe())
            system.print_services()
    except DevStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
