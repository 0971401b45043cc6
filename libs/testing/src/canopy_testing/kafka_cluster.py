"""A private Apache Kafka cluster (KRaft) for tests: three nodes for failure tests (kill a
node, bring it back), or one behind a SASL_SSL listener for the security tests.

Every node is a combined controller and broker on free ports, with its data in a folder of the
test's; topics get three replicas and ``min.insync.replicas=2`` by default, so a write is
acknowledged only once two nodes hold it, and the cluster keeps working with one node down.
:meth:`KafkaCluster.kill` is a SIGKILL (no controlled shutdown), :meth:`KafkaCluster.start`
brings a node back with its data. With ``sasl_ssl`` (a
:class:`~canopy_testing.kafka_security.SaslSsl`), clients and nodes speak SASL_SSL with
certificates and SCRAM users made for the cluster; :meth:`KafkaCluster.client_settings` says
how to reach it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from canopy_common.kafka_security import client_security, client_ssl_context
from canopy_common.settings import KafkaSettings
from canopy_dev.devstack.kafka import KraftNode, new_cluster_id
from canopy_dev.devstack.processes import (
    DevStackError,
    proc_start_ticks,
    process_alive,
    terminate,
)
from canopy_testing.http import free_port
from canopy_testing.kafka_security import SaslSsl, TlsFiles

NODES = 3
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
HOST = "127.0.0.1"
WAIT_INTERVAL_S = 0.25


@dataclass(frozen=True)
class PartitionState:
    """Who leads a partition (a node id, -1 for nobody), which nodes hold it and which of them
    are in sync with the leader."""

    leader: int
    replicas: frozenset[int]
    isr: frozenset[int]


@dataclass
class _Running:
    pid: int
    start_ticks: int | None


@dataclass
class KafkaCluster:
    """KRaft nodes (three by default) under ``folder``; use as a context manager (everything
    stops after).

    ``size`` nodes instead (one: a private broker a test may stop), with broker properties
    ``overrides`` (e.g. ``auto.create.topics.enable=false``, so a deleted topic stays deleted),
    and with ``sasl_ssl`` a SASL_SSL client listener and certificates made for it.
    """

    folder: Path
    partitions: int = 12
    size: int = NODES
    overrides: Mapping[str, str] = field(default_factory=dict)
    sasl_ssl: SaslSsl | None = None
    nodes: list[KraftNode] = field(init=False)
    _tls: TlsFiles | None = field(init=False, default=None)
    _running: dict[int, _Running] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.sasl_ssl is not None:
            self._tls = self.sasl_ssl.write_files(self.folder / "tls", HOST)
        self.nodes = [self._new_node(i) for i in range(1, self.size + 1)]

    def _new_node(self, node_id: int) -> KraftNode:
        broker_port, controller_port = free_port(), free_port()
        overrides = dict(self.overrides)
        if self.sasl_ssl is not None and self._tls is not None:
            overrides |= self.sasl_ssl.broker_properties(
                self._tls, host=HOST, broker_port=broker_port, controller_port=controller_port
            )
        return KraftNode(
            node_id=node_id,
            host=HOST,
            broker_port=broker_port,
            controller_port=controller_port,
            data_dir=self.folder / f"node{node_id}" / "data",
            heap="384m",
            overrides=overrides,
        )

    @property
    def bootstrap(self) -> str:
        """Every node's address, as ``CANOPY_KAFKA_BOOTSTRAP_SERVERS`` takes them."""
        return ",".join(node.bootstrap for node in self.nodes)

    def client_settings(self, **more: Any) -> KafkaSettings:
        """Canopy's settings for a client of the cluster: its address and, behind SASL_SSL,
        the CA, the SCRAM user and (mutual TLS) the client certificate. ``more``: any other
        ``KafkaSettings`` field."""
        if self.sasl_ssl is not None and self._tls is not None:
            return self.sasl_ssl.client_settings(self._tls, self.bootstrap, **more)
        return KafkaSettings(**({"bootstrap_servers": self.bootstrap} | more))

    def node(self, node_id: int) -> KraftNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def running(self, node_id: int) -> bool:
        state = self._running.get(node_id)
        return state is not None and process_alive(state.pid, state.start_ticks)

    def start_all(self) -> None:
        """Format the nodes (once) and start them all; returns when each answers."""
        cluster_id = new_cluster_id()
        scram = self.sasl_ssl.scram_users() if self.sasl_ssl is not None else []
        for node in self.nodes:
            node.write_config(self.nodes, partitions=self.partitions)
            node.format(cluster_id, scram=scram)
        for node in self.nodes:
            self._spawn(node)
        for node in self.nodes:
            self._wait_until_answering(node)

    def start(self, node_id: int) -> None:
        """Start one stopped node again, with its data; returns when it answers (a few seconds:
        from an event loop that must keep running, call it through ``asyncio.to_thread``)."""
        node = self.node(node_id)
        if self.running(node_id):
            return
        self._spawn(node)
        self._wait_until_answering(node)

    def kill(self, node_id: int) -> None:
        """SIGKILL one node: no controlled shutdown, as a crashed machine."""
        state = self._running.pop(node_id)
        if process_alive(state.pid, state.start_ticks):
            os.kill(state.pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while process_alive(state.pid, state.start_ticks) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop_all(self) -> None:
        """Stop every running node. All are told at once: one by one, the last ones would wait
        for a controller quorum that left before them."""
        for state in self._running.values():
            if process_alive(state.pid, state.start_ticks):
                os.kill(state.pid, signal.SIGTERM)
        for node_id, state in list(self._running.items()):
            terminate(state.pid, state.start_ticks, STOP_TIMEOUT_S)
            del self._running[node_id]

    async def describe(self, topic: str) -> dict[int, PartitionState]:
        """Each partition of ``topic`` as the cluster's metadata says now: its leader, its
        replicas and which of them are in sync."""
        async with self._admin() as admin:
            (described,) = await admin.describe_topics([topic])
        return {
            p["partition"]: PartitionState(
                p["leader"], frozenset(p["replicas"]), frozenset(p["isr"])
            )
            for p in described["partitions"]
        }

    async def topic_config(self, topic: str) -> dict[str, str]:
        """The settings ``topic`` has in force (its own, else the brokers' defaults)."""
        async with self._admin() as admin:
            (response,) = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic)]
            )
        (resource,) = response.to_object()["resources"]
        return {e["config_names"]: e["config_value"] for e in resource["config_entries"]}

    async def end_offsets(self, topic: str) -> dict[int, int]:
        """The offset after the last record of each partition of ``topic`` (its record count,
        while nothing has been deleted)."""
        partitions = [TopicPartition(topic, p) for p in await self.describe(topic)]
        settings = self.client_settings()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, request_timeout_ms=10_000, **client_security(settings)
        )
        await consumer.start()
        try:
            ends = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        return {tp.partition: offset for tp, offset in ends.items()}

    async def coordinators(self, prefixes: Iterable[str]) -> dict[str, int]:
        """The node coordinating each consumer group whose name starts with one of
        ``prefixes`` (the leader of the group's partition of ``__consumer_offsets``)."""
        wanted = tuple(prefixes)
        async with self._admin() as admin:
            groups = [g for g, _ in await admin.list_consumer_groups() if g.startswith(wanted)]
            return {group: await admin.find_coordinator(group) for group in sorted(groups)}

    async def leaders(self, topic: str) -> dict[int, int]:
        """The leader's node id of each partition of ``topic``."""
        return {p: state.leader for p, state in (await self.describe(topic)).items()}

    async def wait_for_leaders(self, topic: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until every partition of ``topic`` has a leader on a running node: after a SIGKILL,
        the controller moves the node's partitions once its broker session expires
        (``broker.session.timeout.ms``, 9 s)."""
        await self._wait(
            topic,
            lambda states: all(self.running(s.leader) for s in states.values()),
            "partitions without a running leader",
            timeout_s,
        )

    async def wait_for_in_sync(
        self, topic: str, node_id: int, timeout_s: float = START_TIMEOUT_S
    ) -> None:
        """Until ``node_id`` is an in-sync replica of every partition of ``topic`` again (a
        node brought back catches up from the leaders first)."""
        await self._wait(
            topic,
            lambda states: all(node_id in s.isr for s in states.values()),
            f"partitions node {node_id} is not in sync with",
            timeout_s,
        )

    async def _wait(
        self,
        topic: str,
        done: Callable[[dict[int, PartitionState]], bool],
        what: str,
        timeout_s: float,
    ) -> None:
        deadline = time.monotonic() + timeout_s
        states: dict[int, PartitionState] | Exception = {}
        while True:
            try:
                states = await self.describe(topic)
                if states and done(states):
                    return
            except Exception as exc:  # a node just killed: metadata may fail for a moment
                states = exc
            if time.monotonic() >= deadline:
                raise DevStackError(f"{topic}: {what} after {timeout_s:.0f}s: {states!r}")
            await asyncio.sleep(WAIT_INTERVAL_S)

    @asynccontextmanager
    async def _admin(self) -> AsyncIterator[AIOKafkaAdminClient]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap,
            request_timeout_ms=10_000,
            **client_security(self.client_settings()),
        )
        await admin.start()
        try:
            yield admin
        finally:
            await admin.close()

    def _spawn(self, node: KraftNode) -> None:
        pid = node.spawn()
        self._running[node.node_id] = _Running(pid, proc_start_ticks(pid))

    def _wait_until_answering(self, node: KraftNode) -> None:
        state = self._running[node.node_id]
        tls = client_ssl_context(self.client_settings())
        node.wait_until_answering(state.pid, state.start_ticks, START_TIMEOUT_S, tls=tls)

    def __enter__(self) -> Self:
        try:
            self.start_all()
        except BaseException:
            self.stop_all()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()
