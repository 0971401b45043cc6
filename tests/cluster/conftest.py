"""A three-node Kafka cluster (KRaft) for the failure tests of this folder, stopped after its
last test, and the whole system running on it, stopped after the last test of the module that
asked for it (docs/kafka.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from canopy_common.kafka import Producer
from canopy_dev.devstack import StackEndpoints
from canopy_testing.kafka_cluster import KafkaCluster
from canopy_testing.system import RunningSystem, SystemClient, client_limits, running_system

REPO_ROOT = Path(__file__).resolve().parents[2]
# Topics of six partitions, not twelve: a third of the replicas for three JVMs and the four
# services to keep on a two-core machine, and still more partitions than the test's keys.
PARTITIONS = 6
# Shorter than the ~9 s a killed leader's partitions wait for a new one (the controller's
# broker session timeout): the waits of producers writing to them run out during the
# failover, so the outbox relay fails a pass and restarts its producer, and the test's
# upstream sends time out and go again, as in a longer outage, within a short test. The
# default, 30 s, outlasts the failover: nothing would fail.
REQUEST_TIMEOUT_MS = 5_000
HTTP_TIMEOUT_S = 10.0


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    with KafkaCluster(tmp_path_factory.mktemp("kafka-cluster"), partitions=PARTITIONS) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def system(
    stack: StackEndpoints, cluster: KafkaCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    """The four services on the cluster. The local stack finds a broker answering on the
    first address and starts none; Postgres and Redis are the session's."""
    env = {
        "CANOPY_KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap,
        "CANOPY_KAFKA_REPLICATION_FACTOR": "3",
        "CANOPY_KAFKA_PARTITIONS": str(PARTITIONS),
        "CANOPY_KAFKA_REQUEST_TIMEOUT_MS": str(REQUEST_TIMEOUT_MS),
    }
    run_dir = tmp_path_factory.mktemp("cluster-run")
    with running_system(REPO_ROOT, run_dir, stack.pg_dsn, extra_env=env) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def canopy(system: RunningSystem) -> AsyncIterator[SystemClient]:
    """HTTP to the services, and a producer to the cluster's upstream topic."""
    async with (
        httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, limits=client_limits()) as http,
        Producer(system.kafka, client_id="cluster-test-upstream") as producer,
    ):
        yield SystemClient(system, http, producer)
