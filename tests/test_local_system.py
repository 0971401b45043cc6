"""`make up` / `make down` as a newcomer uses them: the four services and the web client start
under supervisord against the stack's servers, every /readyz answers 200, and `down` leaves
nothing of ours running; a service killed meanwhile comes back by itself while the others keep
serving."""

from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from canopy_dev.devstack import StackEndpoints, process_alive
from canopy_dev.localrun import LocalSystem, readiness
from canopy_dev.ports import SERVICE_PORTS
from canopy_dev.supervision import service_states
from canopy_testing.http import free_port
from canopy_testing.system import running_system

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[1]
# supervisord starts an exited service again at once; the service then needs its migrations
# check, topic metadata and consumer-group join before /readyz answers 200.
RESTART_WITHIN_S = 60.0


def test_up_starts_every_service_ready_and_down_stops_them_all(
    stack: StackEndpoints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = {name: free_port() for name in SERVICE_PORTS}
    for name, port in ports.items():
        monkeypatch.setenv(f"CANOPY_{name.upper()}_PORT", str(port))
    system = LocalSystem(tmp_path / "run", REPO_ROOT)

    try:
        started = system.up()
        record = system.record()
        statuses = {name: readiness(port) for name, port in started.items()}
    finally:
        system.down()

    assert started == ports
    assert statuses == dict.fromkeys(ports, 200)
    assert record is not None
    assert not process_alive(record.pid, record.start_ticks)
    assert {name: readiness(port, timeout_s=0.5) for name, port in ports.items()} == dict.fromkeys(
        ports
    )
    assert system.record() is None
    # The four services' start-up line (the web client, no ServiceDefinition, logs none).
    assert (tmp_path / "run" / "services.log").read_text().count("service started") == 4


def test_a_killed_service_is_restarted_while_the_others_keep_serving(
    stack: StackEndpoints, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    with running_system(REPO_ROOT, run_dir, stack.pg_dsn) as system:
        # Ready can come before supervisord's START_SECONDS: a service killed then counts as
        # failing to start. This test kills one that runs.
        deadline = time.monotonic() + RESTART_WITHIN_S
        while {s.state for s in service_states(run_dir)} != {"RUNNING"}:
            assert time.monotonic() < deadline, service_states(run_dir)
            time.sleep(0.2)
        before = {state.name: state for state in service_states(run_dir)}
        victim = before["fanout"]
        assert victim.state == "RUNNING"
        assert victim.pid is not None
        others = [name for name in system.ports if name != "fanout"]

        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        answers: dict[str, list[int | None]] = {name: [] for name in others}
        while True:
            for name in others:
                answers[name].append(_health(system.ports[name]))
            after = {state.name: state for state in service_states(run_dir)}
            back = after["fanout"]
            if back.state == "RUNNING" and readiness(system.ports["fanout"]) == 200:
                break
            assert time.monotonic() - killed_at < RESTART_WITHIN_S, after
            time.sleep(0.2)

    assert back.pid != victim.pid
    assert back.restarts == 1
    assert {name: after[name].restarts for name in others} == dict.fromkeys(others, 0)
    assert {name: after[name].pid for name in others} == {name: before[name].pid for name in others}
    # Every probe of the other three while fanout was down and coming back answered 200.
    assert {name: set(codes) for name, codes in answers.items()} == {key: {200} for key in others}
    assert all(not process_alive(state.pid) for state in after.values() if state.pid)


def _health(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2.0) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None
