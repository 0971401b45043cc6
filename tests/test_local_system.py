"""`make up` / `make down` as a newcomer uses them: the four services start under honcho against
the stack's servers, every /readyz answers 200, and `down` leaves nothing of ours running."""

from __future__ import annotations

from pathlib import Path

import pytest

from canopy_dev.devstack import StackEndpoints, process_alive
from canopy_dev.localrun import LocalSystem, readiness
from canopy_dev.ports import SERVICE_PORTS
from canopy_testing.http import free_port

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[1]


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
    assert (tmp_path / "run" / "services.log").read_text().count("service started") == 4
