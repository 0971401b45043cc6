"""`LocalStack`: reuse the servers that answer, start the missing ones, stop only those."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from canopy_common.kafka import ensure_topics
from canopy_common.settings import KafkaSettings, PostgresSettings, RedisSettings
from canopy_dev.devstack import postgres
from canopy_dev.devstack.kafka import KraftNode, cluster_id_of, kafka_version, new_cluster_id
from canopy_dev.devstack.probes import (
    bootstrap_address,
    free_port,
    is_local_host,
    is_port_open,
    repo_root,
    url_address,
    wait_for_port,
)
from canopy_dev.devstack.processes import (
    DevStackError,
    log_tail,
    proc_start_ticks,
    process_alive,
    run_command,
    run_coroutine,
    terminate,
)

log = logging.getLogger("canopy.devstack")

STATE_FILE = "stack.json"
BROKER_PID_FILE = "kafka/broker.pid"
SERVERS = ("postgres", "redis", "broker")  # start order; `down` goes in reverse
# Every wait is bounded. Kafka answers in 3-5 s on two cores (JVM start, KRaft election);
# Postgres may replay its WAL.
BROKER_START_TIMEOUT_S = 30.0
SERVER_START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
PREPARE_TIMEOUT_S = 90.0  # creating the database and the topics, together
APT_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class StackEndpoints:
    """Where the three servers answer, in the form the settings take."""

    pg_dsn: str
    redis_url: str
    kafka_bootstrap: str


@dataclass(frozen=True)
class ServerRecord:
    """One server as ``up`` left it: reused, or started by us (and then how to stop it)."""

    name: str
    endpoint: str
    started: bool
    pid: int | None = None
    start_ticks: int | None = None  # guards against signalling a reused pid
    pg_cluster: str | None = None  # "<version>/<name>" of a Debian cluster we started


@dataclass(frozen=True)
class ServerStatus:
    """What :meth:`LocalStack.status` reports for one server."""

    name: str
    endpoint: str
    running: bool
    started_by_devstack: bool
    pid: int | None

    def describe(self) -> str:
        """One status line: name, endpoint, up/down, and whether devstack started it."""
        owner = "not started by devstack"
        if self.started_by_devstack:
            owner = "started by devstack" + (f", pid {self.pid}" if self.pid else "")
        state = "up" if self.running else "down"
        return f"{self.name:<10} {self.endpoint:<22} {state:<5} {owner}"


def default_run_dir() -> Path:
    """``$CANOPY_RUN_DIR``, else ``.run/`` at the repository root (found from the cwd)."""
    if override := os.environ.get("CANOPY_RUN_DIR"):
        return Path(override)
    cwd = Path.cwd()
    return (repo_root(cwd) or cwd) / ".run"


class LocalStack:
    """Postgres, Redis and an Apache Kafka broker (KRaft) on this machine.

    ``up`` reuses a server that answers at its configured address and otherwise starts one
    (installing Postgres or Redis from Debian first when it is missing); ``<run_dir>/stack.json``
    records which, so ``down`` stops exactly what was started and nothing else. The broker's
    data lives in ``<run_dir>/kafka``: a later ``up`` finds its topics, records and committed
    offsets, unless ``fresh_broker`` asks for an empty one (the test session's).
    """

    def __init__(
        self,
        run_dir: Path,
        pg: PostgresSettings,
        redis: RedisSettings,
        kafka: KafkaSettings,
        *,
        broker_start_timeout_s: float = BROKER_START_TIMEOUT_S,
        fresh_broker: bool = False,
    ) -> None:
        self.run_dir = run_dir
        self.pg = pg
        self.redis = redis
        self.kafka = kafka
        self.broker_start_timeout_s = broker_start_timeout_s
        self.fresh_broker = fresh_broker
        self._apt_updated = False

    @classmethod
    def from_env(cls, run_dir: Path | None = None) -> LocalStack:
        """The stack the ``CANOPY_*`` environment describes."""
        settings = (PostgresSettings(), RedisSettings(), KafkaSettings())
        return cls(run_dir or default_run_dir(), *settings)

    @property
    def endpoints(self) -> StackEndpoints:
        return StackEndpoints(self.pg.dsn, self.redis.url, self.kafka.bootstrap_servers)

    @property
    def state_path(self) -> Path:
        return self.run_dir / STATE_FILE

    def records(self) -> dict[str, ServerRecord]:
        """What the last ``up`` recorded, by server name (empty after ``down``)."""
        try:
            raw = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return {}
        return {name: ServerRecord(**fields) for name, fields in raw.items()}

    def _save(self, records: dict[str, ServerRecord]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({n: asdict(r) for n, r in records.items()}, indent=2) + "\n")
        tmp.replace(self.state_path)

    # up / down / status ------------------------------------------------------------------

    def up(self) -> StackEndpoints:
        """Reuse or start the three servers, then create the database and the topics.

        Each server is recorded as soon as it is settled, so after a failure half-way
        :meth:`down` still stops what was started.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        records = self.records()
        ensure: dict[str, Callable[[ServerRecord | None], ServerRecord]] = {
            "postgres": self._ensure_postgres,
            "redis": self._ensure_redis,
            "broker": self._ensure_broker,
        }
        for name in SERVERS:
            records[name] = ensure[name](records.get(name))
            self._save(records)
        try:
            run_coroutine(asyncio.wait_for(self._prepare(), PREPARE_TIMEOUT_S))
        except DevStackError:
            raise
        except Exception as exc:  # asyncpg, aiokafka, timeouts: say which step failed
            raise DevStackError(f"creating the database and topics failed: {exc!r}") from exc
        return self.endpoints

    def down(self) -> list[str]:
        """Stop what :meth:`up` started, newest first; the names of the servers stopped."""
        records = self.records()
        stopped = []
        for name in reversed(SERVERS):
            record = records.get(name)
            if record is not None and record.started and self._stop(record):
                stopped.append(name)
        for leftover in (STATE_FILE, BROKER_PID_FILE, "redis.pid"):
            (self.run_dir / leftover).unlink(missing_ok=True)
        log.info("stopped %s", ", ".join(stopped) if stopped else "nothing (nothing was started)")
        return stopped

    def status(self) -> list[ServerStatus]:
        """Whether each server answers, and whether devstack started it."""
        records = self.records()
        report = []
        for name, (host, port) in self._addresses().items():
            record = records.get(name)
            ours = record is not None and record.started
            report.append(
                ServerStatus(
                    name=name,
                    endpoint=f"{host}:{port}",
                    running=is_port_open(host, port),
                    started_by_devstack=ours,
                    pid=record.pid if record is not None and ours else None,
                )
            )
        return report

    def _addresses(self) -> dict[str, tuple[str, int]]:
        return {
            "postgres": url_address(self.pg.dsn, 5432),
            "redis": url_address(self.redis.url, 6379),
            "broker": bootstrap_address(self.kafka.bootstrap_servers),
        }

    # shared steps ------------------------------------------------------------------------

    def _reused(self, name: str, endpoint: str, previous: ServerRecord | None) -> ServerRecord:
        """The record of a server that answers: still ours if an earlier ``up`` started it."""
        if (
            previous is not None
            and previous.started
            and previous.endpoint == endpoint
            and (previous.pid is None or process_alive(previous.pid, previous.start_ticks))
        ):
            log.info("%s: already running at %s (started by devstack earlier)", name, endpoint)
            return previous
        log.info("%s: reusing the server at %s", name, endpoint)
        return ServerRecord(name, endpoint, started=False)

    def _settle_previous(self, previous: ServerRecord | None, endpoint: str) -> None:
        """Stop a server an earlier ``up`` started at another address before we forget it."""
        if previous is not None and previous.started and previous.endpoint != endpoint:
            self._stop(previous)

    @staticmethod
    def _require_local(what: str, host: str, port: int, variable: str) -> None:
        if not is_local_host(host):
            raise DevStackError(
                f"{what} at {host}:{port} does not answer, and devstack starts servers only on "
                f"this machine: start it or point {variable} elsewhere"
            )

    def _apt_install(self, package: str) -> None:
        if shutil.which("apt-get") is None:
            raise DevStackError(f"{package} is missing and there is no apt-get: install it")
        if os.geteuid() != 0:
            raise DevStackError(f"{package} is missing: sudo apt-get install -y {package}")
        if not self._apt_updated:
            log.info("apt-get update")
            run_command(["apt-get", "update", "-q"], APT_TIMEOUT_S, "apt-get update")
            self._apt_updated = True
        log.info("apt-get install -y %s", package)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        argv = ["apt-get", "install", "-y", "-q", package]
        run_command(argv, APT_TIMEOUT_S, f"apt-get install {package}", env)

    def _stop(self, record: ServerRecord) -> bool:
        if record.pg_cluster is not None:
            log.info("postgres: stopping cluster %s", record.pg_cluster)
            postgres.pg_ctlcluster(record.pg_cluster, "stop")
            return True
        if record.pid is None:
            return False
        if terminate(record.pid, record.start_ticks, STOP_TIMEOUT_S):
            log.info("%s: stopped pid %d", record.name, record.pid)
            return True
        log.info("%s: pid %d had already exited", record.name, record.pid)
        return False

    async def _prepare(self) -> None:
        await postgres.ensure_database(self.pg.dsn)
        # A broker that has just started answers before it may host partitions: retry until
        # the whole step's deadline.
        while True:
            try:
                created = await ensure_topics(self.kafka)
                break
            except Exception as exc:
                log.info("broker: not ready for topics yet (%r), retrying", exc)
                await asyncio.sleep(0.5)
        log.info("broker: topics ready (%d created)", len(created))

    # the three servers -------------------------------------------------------------------

    def _ensure_postgres(self, previous: ServerRecord | None) -> ServerRecord:
        host, port = url_address(self.pg.dsn, 5432)
        endpoint = f"{host}:{port}"
        self._settle_previous(previous, endpoint)
        if is_port_open(host, port):
            return self._reused("postgres", endpoint, previous)
        self._require_local("Postgres", host, port, "CANOPY_PG_DSN")
        if not postgres.server_installed():
            self._apt_install("postgresql")
        cluster, online = postgres.cluster_on_port(port)
        if online and wait_for_port(host, port, SERVER_START_TIMEOUT_S):
            # Started by the package's install scripts: a system service, not ours to stop.
            return self._reused("postgres", endpoint, previous)
        log.info("postgres: starting cluster %s on port %d", cluster, port)
        postgres.pg_ctlcluster(cluster, "start")
        if not wait_for_port(host, port, SERVER_START_TIMEOUT_S):
            raise DevStackError(f"Postgres {cluster} started but nothing answers on {endpoint}")
        return ServerRecord("postgres", endpoint, started=True, pg_cluster=cluster)

    def _ensure_redis(self, previous: ServerRecord | None) -> ServerRecord:
        host, port = url_address(self.redis.url, 6379)
        endpoint = f"{host}:{port}"
        self._settle_previous(previous, endpoint)
        if is_port_open(host, port):
            return self._reused("redis", endpoint, previous)
        self._require_local("Redis", host, port, "CANOPY_REDIS_URL")
        if shutil.which("redis-server") is None:
            self._apt_install("redis-server")
            if wait_for_port(host, port, 2.0):  # the package started its system service
                return self._reused("redis", endpoint, previous)
        pid_path, log_path = self.run_dir / "redis.pid", self.run_dir / "redis.log"
        pid_path.unlink(missing_ok=True)
        log.info("redis: starting redis-server on %s (log %s)", endpoint, log_path)
        run_command(
            [shutil.which("redis-server") or "redis-server", "--daemonize", "yes",
             "--port", str(port), "--bind", host, "--save", "", "--appendonly", "no",
             "--pidfile", str(pid_path), "--logfile", str(log_path), "--dir", str(self.run_dir)],
            SERVER_START_TIMEOUT_S,
            "starting redis-server",
        )  # fmt: skip
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            pid_text = pid_path.read_text().strip() if pid_path.exists() else ""
            if pid_text.isdigit() and is_port_open(host, port):
                pid = int(pid_text)
                return ServerRecord("redis", endpoint, True, pid, proc_start_ticks(pid))
            time.sleep(0.1)
        raise DevStackError(f"redis-server did not come up on {endpoint}:\n{log_tail(log_path)}")

    def _ensure_broker(self, previous: ServerRecord | None) -> ServerRecord:
        host, port = bootstrap_address(self.kafka.bootstrap_servers)
        endpoint = f"{host}:{port}"
        self._settle_previous(previous, endpoint)
        if is_port_open(host, port):
            return self._reused("broker", endpoint, previous)
        self._require_local("The broker", host, port, "CANOPY_KAFKA_BOOTSTRAP_SERVERS")
        node = KraftNode(
            node_id=1,
            host=host,
            broker_port=port,
            controller_port=controller_port_for(host, port),
            data_dir=self.run_dir / "kafka" / "data",
        )
        if self.fresh_broker:
            shutil.rmtree(node.data_dir, ignore_errors=True)
        node.write_config([node], partitions=self.kafka.partitions)
        node.format(cluster_id_of(node) or new_cluster_id())
        log.info("broker: starting Apache Kafka %s on %s (log %s)", kafka_version(), endpoint,
                 node.log_path)  # fmt: skip
        pid = node.spawn()
        (self.run_dir / BROKER_PID_FILE).write_text(f"{pid}\n")
        record = ServerRecord("broker", endpoint, True, pid, proc_start_ticks(pid))
        node.wait_until_answering(pid, record.start_ticks, self.broker_start_timeout_s)
        log.info("broker: Kafka (pid %d) answers on %s", pid, endpoint)
        return record


def controller_port_for(host: str, broker_port: int) -> int:
    """The KRaft controller's port: the one after the broker's when free, else any free one."""
    if not is_port_open(host, broker_port + 1, timeout_s=0.2):
        return broker_port + 1
    return free_port(host)
