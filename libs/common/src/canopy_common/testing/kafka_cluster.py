"""A three-node Apache Kafka cluster (KRaft) for failure tests: kill a node, bring it back.

Every node is a combined controller and broker on free ports, with its data in a folder of the
test's; topics get three replicas and ``min.insync.replicas=2`` by default, so a write is
acknowledged only once two nodes hold it, and the cluster keeps working with one node down.
:meth:`KafkaCluster.kill` is a SIGKILL (no controlled shutdown), :meth:`KafkaCluster.start`
brings a node back with its data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from aiokafka.admin import AIOKafkaAdminClient

from canopy_common.devstack.kafka import KraftNode, new_cluster_id
from canopy_common.devstack.probes import kafka_answers
from canopy_common.devstack.processes import (
    DevStackError,
    log_tail,
    proc_start_ticks,
    process_alive,
    terminate,
)
from canopy_common.testing.http import free_port

NODES = 3
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
HOST = "127.0.0.1"


@dataclass
class _Running:
    pid: int
    start_ticks: int | None


@dataclass
class KafkaCluster:
    """Three KRaft nodes under ``folder``; use as a context manager (everything stops after)."""

    folder: Path
    partitions: int = 12
    nodes: list[KraftNode] = field(init=False)
    _running: dict[int, _Running] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.nodes = [
            KraftNode(
                node_id=i,
                host=HOST,
                broker_port=free_port(),
                controller_port=free_port(),
                data_dir=self.folder / f"node{i}" / "data",
                heap="384m",
            )
            for i in range(1, NODES + 1)
        ]

    @property
    def bootstrap(self) -> str:
        """Every node's address, as ``CANOPY_KAFKA_BOOTSTRAP_SERVERS`` takes them."""
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> KraftNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def running(self, node_id: int) -> bool:
        state = self._running.get(node_id)
        return state is not None and process_alive(state.pid, state.start_ticks)

    def start_all(self) -> None:
        """Format the nodes (once) and start them all; returns when each answers."""
        cluster_id = new_cluster_id()
        for node in self.nodes:
            node.write_config(self.nodes, partitions=self.partitions)
            node.format(cluster_id)
        for node in self.nodes:
            self._spawn(node)
        for node in self.nodes:
            self._wait_until_answering(node)

    def start(self, node_id: int) -> None:
        """Start one stopped node again, with its data; returns when it answers."""
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
        for node_id, state in list(self._running.items()):
            terminate(state.pid, state.start_ticks, STOP_TIMEOUT_S)
            del self._running[node_id]

    async def leaders(self, topic: str) -> dict[int, int]:
        """The leader's node id of each partition of ``topic``."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([topic])
        finally:
            await admin.close()
        return {p["partition"]: p["leader"] for p in described["partitions"]}

    async def wait_for_leaders(self, topic: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Until every partition of ``topic`` has a leader on a running node."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                leaders = await self.leaders(topic)
                if leaders and all(self.running(n) for n in leaders.values()):
                    return
            except Exception:  # a node just killed: metadata may be stale for a moment
                if time.monotonic() >= deadline:
                    raise
            if time.monotonic() >= deadline:
                raise DevStackError(f"{topic}: partitions without a running leader: {leaders}")
            await asyncio.sleep(0.5)

    def _spawn(self, node: KraftNode) -> None:
        pid = node.spawn()
        self._running[node.node_id] = _Running(pid, proc_start_ticks(pid))

    def _wait_until_answering(self, node: KraftNode) -> None:
        state = self._running[node.node_id]
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not process_alive(state.pid, state.start_ticks):
                raise DevStackError(
                    f"Kafka node {node.node_id} exited at start:\n{log_tail(node.log_path)}"
                )
            if kafka_answers(node.host, node.broker_port, timeout_s=1.0):
                return
            time.sleep(0.2)
        raise DevStackError(
            f"Kafka node {node.node_id} did not answer within {START_TIMEOUT_S:.0f}s:\n"
            f"{log_tail(node.log_path)}"
        )

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
