"""The HTTP port of each service in the local run (`make up`): one place for the run and demo."""

from __future__ import annotations

import os

SERVICE_PORTS = {"ingestion": 8001, "fanout": 8002, "notify": 8003, "analytics": 8004}


def service_ports() -> dict[str, int]:
    """Each service's HTTP port, from ``CANOPY_<SVC>_PORT`` or the default."""
    return {
        name: int(os.environ.get(f"CANOPY_{name.upper()}_PORT", default))
        for name, default in SERVICE_PORTS.items()
    }
