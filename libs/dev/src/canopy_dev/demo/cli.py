"""``python -m canopy_dev.demo seed|traffic|guide``, and the seeding step of ``make up``.

Every command talks to the services on this machine, on the ports ``make up`` uses
(``CANOPY_<SVC>_PORT``), with tokens signed by ``CANOPY_JWT_SECRET``; the upstream events go to
``CANOPY_KAFKA_BOOTSTRAP_SERVERS``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence

from canopy_common.settings import AuthSettings, KafkaSettings
from canopy_dev.demo.client import Api, DemoError, Endpoints, http_client
from canopy_dev.demo.company import DEFAULT_SEED, DEFAULT_TENANT, build_company
from canopy_dev.demo.guide import guide
from canopy_dev.demo.seed import Seeder, SeedReport
from canopy_dev.demo.traffic import DEFAULT_RATE, run_traffic
from canopy_dev.ports import service_ports  # the ports `make up` uses

SEED_VARIABLE = "CANOPY_DEMO_SEED"
_OFF = frozenset({"0", "false", "no", "off"})


def seeding_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """Whether ``make up`` seeds the demo tenant (``CANOPY_DEMO_SEED=0`` turns it off)."""
    return env.get(SEED_VARIABLE, "1").strip().lower() not in _OFF


async def seed_demo(
    ports: Mapping[str, int], *, tenant: str = DEFAULT_TENANT, generator_seed: int = DEFAULT_SEED
) -> SeedReport:
    """Seed the demo company into ``tenant`` of the services listening on ``ports``."""
    company = build_company(tenant, seed=generator_seed)
    async with http_client() as client:
        api = Api(Endpoints.local(ports), tenant, client, AuthSettings())
        return await Seeder(company, api, KafkaSettings(), say=_say).run()


def seed_and_guide(ports: Mapping[str, int], tenant: str = DEFAULT_TENANT) -> int:
    """``make up``'s last step: seed, then print what to try. An exit status."""
    print(f"\nSeeding the demo tenant {tenant} (skip it with `make up SEED=0`)...", flush=True)
    try:
        asyncio.run(seed_demo(ports, tenant=tenant))
    except Exception as exc:  # whatever failed, the services stay up: say so and how to retry
        print(f"error: seeding the demo failed: {exc!r}", file=sys.stderr)
        print("The services are running; retry with: uv run python -m canopy_dev.demo seed")
        return 1
    print()
    print(guide(build_company(tenant), ports))
    return 0


def _say(line: str) -> None:
    print(f"  demo: {line}", flush=True)


async def _traffic(
    ports: Mapping[str, int], tenant: str, rate: float, duration: float | None
) -> int:
    company = build_company(tenant)
    async with http_client() as client:
        api = Api(Endpoints.local(ports), tenant, client, AuthSettings())
        return await run_traffic(
            company, api, KafkaSettings(), rate=rate, duration_s=duration, say=print
        )


def main(argv: Sequence[str] | None = None) -> int:

    parser = argparse.ArgumentParser(prog="python -m canopy_dev.demo")
    parser.add_argument("command", choices=["seed", "traffic", "guide"])
    parser.add_argument("--tenant", default=DEFAULT_TENANT)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="traffic: actions/s")
    parser.add_argument("--duration", type=float, default=None, help="traffic: seconds")
    args = parser.parse_args(argv)
    ports = service_ports()
    try:
        if args.command == "seed":
            return seed_and_guide(ports, args.tenant)
        if args.command == "guide":
            print(guide(build_company(args.tenant), ports))
            return 0
        done = asyncio.run(_traffic(ports, args.tenant, args.rate, args.duration))
        print(f"{done} actions")
    except KeyboardInterrupt:
        print("\nstopped")
    except (DemoError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
