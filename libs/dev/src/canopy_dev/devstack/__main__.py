"""``python -m canopy_dev.devstack up|down|status [--run-dir DIR]``.

``up`` prints ``CANOPY_*=...`` lines on stdout (progress goes to stderr) and exits 1 with a
message when a server cannot be brought up; ``down`` stops what ``up`` started.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from canopy_dev.devstack.processes import DevStackError
from canopy_dev.devstack.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m canopy_dev.devstack",
        description="Postgres, Redis and Apache Kafka (KRaft) on this machine, without Docker.",
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--run-dir", type=Path, help="default: $CANOPY_RUN_DIR, else <repo>/.run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="devstack: %(message)s", stream=sys.stderr)
    stack = LocalStack.from_env(args.run_dir)
    try:
        if args.command == "up":
            endpoints = stack.up()
            print(f"CANOPY_PG_DSN={endpoints.pg_dsn}")
            print(f"CANOPY_REDIS_URL={endpoints.redis_url}")
            print(f"CANOPY_KAFKA_BOOTSTRAP_SERVERS={endpoints.kafka_bootstrap}")
        elif args.command == "down":
            stack.down()
        else:
            for server in stack.status():
                print(server.describe())
    except DevStackError as exc:
        print(f"devstack: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
