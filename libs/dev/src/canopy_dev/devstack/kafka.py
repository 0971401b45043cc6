"""Apache Kafka in KRaft mode, run with ``java`` from the jars ``make setup`` fetched.

One node is a combined controller and broker (``process.roles=broker,controller``). The local
stack runs one; the failure tests run three (:mod:`canopy_testing.kafka_cluster`). A
node's data folder is formatted once and kept, so a stopped node comes back with its topics,
records and committed offsets. docs/kafka.md describes the layout and the settings.
"""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from canopy_dev.devstack.probes import kafka_answers, repo_root
from canopy_dev.devstack.processes import (
    DevStackError,
    log_tail,
    process_alive,
    run_command,
    spawn_detached,
    terminate,
)

# Bounded heap (the run, the tests and the benchmarks share a 2-core machine with Postgres,
# Redis and the services); Kafka's own JVM flags otherwise (bin/kafka-run-class.sh).
DEFAULT_HEAP = "512m"
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
FORMAT_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0  # a controlled shutdown, then SIGKILL
ANSWER_POLL_S = 0.1
META_PROPERTIES = "meta.properties"
# WARN, but for the lines that say a node started or stopped.
LOG4J2_PROPERTIES = """\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
"""


def kafka_home() -> Path:
    """Where the Kafka jars are: ``$CANOPY_KAFKA_HOME`` (a folder holding ``libs/``), else
    ``.cache/kafka`` at the repository root, where ``make setup`` puts them."""
    if override := os.environ.get("CANOPY_KAFKA_HOME"):
        return Path(override)
    cwd = Path.cwd()
    return (repo_root(cwd, Path(__file__).resolve().parent) or cwd) / ".cache" / "kafka"


def kafka_classpath() -> str:
    """The JVM class path of the broker and its tools; a clear error when the jars are missing."""
    libs = kafka_home() / "libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise DevStackError(
            f"the Apache Kafka jars are not in {libs}: run `make setup` (it fetches "
            "org.apache.kafka:kafka_2.13 from Maven Central with Maven, deploy/kafka/pom.xml), "
            "or set CANOPY_KAFKA_HOME to a Kafka installation (the folder holding libs/)"
        )
    return f"{libs}/*"


def kafka_version() -> str:
    """The version of the jars in :func:`kafka_home` (from the broker jar's name)."""
    jar = next((kafka_home() / "libs").glob("kafka_2.13-*.jar"), None)
    return jar.stem.removeprefix("kafka_2.13-") if jar is not None else "unknown"


def java_binary() -> str:
    """``$JAVA_HOME/bin/java``, else ``java`` on PATH; a clear error when there is none."""
    if java_home := os.environ.get("JAVA_HOME"):
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    if found := shutil.which("java"):
        return found
    raise DevStackError(
        "Apache Kafka needs Java 17 or newer and there is none: run `make setup` "
        "(it installs Debian's openjdk-17-jre-headless), or set JAVA_HOME"
    )


def java_command(main_class: str, *args: str, heap: str | None = None) -> list[str]:
    """``java`` running ``main_class`` from the Kafka jars (heap bounded when given)."""
    argv = [java_binary()]
    if heap is not None:
        argv += [f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS]
    return [*argv, "-cp", kafka_classpath(), main_class, *args]


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as Kafka's own
    ``Uuid.randomUuid``, which also never starts one with a dash)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


@dataclass(frozen=True)
class KraftNode:
    """One combined controller and broker: where it listens, where its data lives."""

    node_id: int
    host: str
    broker_port: int
    controller_port: int
    data_dir: Path
    heap: str = DEFAULT_HEAP
    # Extra broker properties, e.g. replication defaults of a cluster.
    overrides: Mapping[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.broker_port}"

    @property
    def voter(self) -> str:
        return f"{self.node_id}@{self.host}:{self.controller_port}"

    @property
    def properties_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.properties"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def properties(self, voters: Sequence[KraftNode], *, partitions: int) -> dict[str, str]:
        """The node's ``server.properties`` for a quorum of ``voters`` (itself included)."""
        replicas = len(voters)
        # One node: everything has one copy. Three: every write is on two before it counts.
        min_isr = str(min(2, replicas))
        return {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": ",".join(node.voter for node in voters),
            "listeners": (
                f"PLAINTEXT://{self.host}:{self.broker_port},"
                f"CONTROLLER://{self.host}:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": str(partitions),
            "default.replication.factor": str(replicas),
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": str(replicas),
            "transaction.state.log.replication.factor": str(replicas),
            "transaction.state.log.min.isr": min_isr,
            "share.coordinator.state.topic.replication.factor": str(replicas),
            "share.coordinator.state.topic.min.isr": min_isr,
            # A group's first member is assigned at once instead of 3 s later (the default
            # waits for more members; services start one by one anyway).
            "group.initial.rebalance.delay.ms": "0",
            **self.overrides,
        }

    def write_config(self, voters: Sequence[KraftNode], *, partitions: int) -> None:
        """Write the properties and the log4j2 configuration beside the data folder."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{k}={v}" for k, v in self.properties(voters, partitions=partitions).items()]
        self.properties_path.write_text("\n".join(lines) + "\n")
        self._log4j_path.write_text(LOG4J2_PROPERTIES)

    @property
    def _log4j_path(self) -> Path:
        return self.data_dir.parent / "log4j2.properties"

    @property
    def formatted(self) -> bool:
        return (self.data_dir / META_PROPERTIES).is_file()

    def format(self, cluster_id: str, *, scram: Sequence[str] = ()) -> None:
        """Format the data folder for ``cluster_id`` (once: a formatted folder is kept).

        ``scram`` lists SCRAM users to create with it, in kafka-storage's form
        (``SCRAM-SHA-512=[name=alice,password=secret]``): a KRaft broker with SCRAM listeners
        needs its own user before it starts, as nothing else can create it.
        """
        if self.formatted:
            return
        argv = java_command(
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            cluster_id,
            "--config",
            str(self.properties_path),
            "--ignore-formatted",
            *(arg for user in scram for arg in ("--add-scram", user)),
        )
        run_command(argv, FORMAT_TIMEOUT_S, f"formatting Kafka node {self.node_id}")

    def spawn(self) -> int:
        """Start the node in a session of its own, output appended to its log; its pid."""
        argv = java_command("kafka.Kafka", str(self.properties_path), heap=self.heap)
        argv.insert(1, f"-Dlog4j2.configurationFile={self._log4j_path}")
        return spawn_detached(argv, self.log_path)

    def wait_until_answering(
        self,
        pid: int,
        start_ticks: int | None,
        timeout_s: float,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """Return once the node started as ``pid`` answers on its broker port (over ``tls``
        for a TLS listener). Raises :class:`DevStackError` with the end of its log when it
        exits first, or when it does not answer within ``timeout_s`` (then it is stopped)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not process_alive(pid, start_ticks):
                raise DevStackError(
                    f"Kafka node {self.node_id} exited at start:\n{log_tail(self.log_path)}"
                )
            if kafka_answers(self.host, self.broker_port, timeout_s=1.0, tls=tls):
                return
            time.sleep(ANSWER_POLL_S)
        terminate(pid, start_ticks, STOP_TIMEOUT_S)
        raise DevStackError(
            f"Kafka node {self.node_id} did not answer on {self.bootstrap} within "
            f"{timeout_s:.0f}s:\n{log_tail(self.log_path)}"
        )


def cluster_id_of(node: KraftNode) -> str | None:
    """The cluster id a formatted node's data folder belongs to."""
    try:
        text = (node.data_dir / META_PROPERTIES).read_text()
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "cluster.id":
            return value.strip()
    return None
