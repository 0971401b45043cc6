"""The HTTP port of each service in the local run (`make up`): one place for the run and demo."""

from __future__ import annotations

import os

SERVICE_PORTS = {"ingestion": 8001, "fanout": 8002, "notify": 8003, "analytics": 8004, "web": 8080}
# The services whose APIs the web client calls (every service but the web client itself).
API_SERVICES = ("ingestion", "fanout", "notify", "analytics")


def web_environment(ports: dict[str, int]) -> dict[str, str]:
    """The settings that point the web client at the other services of this run."""
    env = {
        f"CANOPY_WEB_{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}"
        for name in API_SERVICES
        if name in ports
    }
    if "web" in ports:
        env["CANOPY_WEB_PUBLIC_URL"] = f"http://127.0.0.1:{ports['web']}"
    return env


def service_ports() -> dict[str, int]:
    """Each service's HTTP port, from ``CANOPY_<SVC>_PORT`` or the default."""
    return {
        name: int(os.environ.get(f"CANOPY_{name.upper()}_PORT", default))
        for name, default in SERVICE_PORTS.items()
    }
