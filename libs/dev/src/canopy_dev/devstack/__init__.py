"""The local stack without Docker: Postgres, Redis and Apache Kafka in KRaft mode (docs/kafka.md).

Servers already answering at the configured addresses are reused; missing ones are started
(installed from Debian first when needed, and only on this machine). What was started is
recorded in ``<run>/stack.json`` so that :meth:`LocalStack.down` stops exactly that and
nothing else. ``make up`` and the pytest plugin both go through :class:`LocalStack`::

    python -m canopy_dev.devstack up|down|status
"""

from canopy_dev.devstack.probes import (
    dsn_with_database,
    is_local_host,
    is_port_open,
    kafka_answers,
)
from canopy_dev.devstack.processes import DevStackError, process_alive
from canopy_dev.devstack.stack import (
    LocalStack,
    ServerRecord,
    ServerStatus,
    StackEndpoints,
    default_run_dir,
)

__all__ = [
    "DevStackError",
    "LocalStack",
    "ServerRecord",
    "ServerStatus",
    "StackEndpoints",
    "default_run_dir",
    "dsn_with_database",
    "is_local_host",
    "is_port_open",
    "kafka_answers",
    "process_alive",
]
