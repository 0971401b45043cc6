"""deploy/prometheus against the running system: a real Prometheus with the repository's scrape
config and alert rules (only the targets' ports and the intervals changed) scrapes all four
services and the web client, finds every target up, holds the series the alerts and the
dashboard rely on, and evaluates every alert rule without an error.

Prometheus is Debian's ``prometheus`` package (``scripts/setup.sh`` installs it): missing, the
test is skipped on a developer's machine and fails in CI (``CI`` set), as ``tests/deploy`` does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml

from canopy_dev.devstack.processes import proc_start_ticks, spawn_detached, terminate
from canopy_testing.http import free_port
from canopy_testing.polling import eventually
from canopy_testing.system import RunningSystem, SystemClient, person, upstream_activity

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy/prometheus"
SCRAPE_INTERVAL = "1s"
STOP_TIMEOUT_S = 10.0
NEVER = "0001-01-01"  # the lastEvaluation of a rule not evaluated yet
# What the alerts and the dashboard watch: after a little traffic, each series is there for
# every service named (analytics counts its records as a stream, not as a consumer).
SERVICES = ("ingestion", "fanout", "notify", "analytics")
TARGETS = (*SERVICES, "web")  # the web client: no consumers, no topics
KEY_SERIES = {
    'up{job="canopy"} == 1': TARGETS,
    "{__name__=~'canopy_.+_http_request_duration_seconds_count'}": TARGETS,
    "{__name__=~'canopy_.+_consumer_lag_records'}": SERVICES,
    "{__name__=~'canopy_.+_consumer_records_total'}": ("ingestion", "fanout", "notify"),
    "canopy_analytics_stream_records_total": ("analytics",),
    "canopy_analytics_stream_running == 1": ("analytics",),
    "canopy_ingestion_outbox_backlog_records": ("ingestion",),
    "canopy_ingestion_outbox_published_total": ("ingestion",),
    "canopy_fanout_recipients_count": ("fanout",),
    "canopy_fanout_latency_seconds_count": ("fanout",),
    "canopy_fanout_feed_reads_total": ("fanout",),
    "canopy_notify_notifications_created_total": ("notify",),
    "canopy_notify_stream_connections": ("notify",),
    "canopy_web_live_streams_open": ("web",),
}


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        message = "prometheus is not installed: scripts/setup.sh installs it"
        if _running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


def write_config(directory: Path, system: RunningSystem) -> Path:
    """deploy/prometheus's config and rules, with the system's ports in the targets file."""
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] |= {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL}
    for rules in config["rule_files"]:
        shutil.copy(DEPLOY / rules, directory / rules)
    layout = yaml.safe_load((DEPLOY / "targets.yml").read_text())
    for group in layout:
        group["targets"] = [f"127.0.0.1:{system.ports[group['labels']['service']]}"]
    [job] = config["scrape_configs"]
    [targets_file] = job["file_sd_configs"][0]["files"]
    (directory / targets_file).write_text(yaml.safe_dump(layout))
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass(frozen=True)
class Prometheus:
    url: str
    log_path: Path


@pytest.fixture
def prometheus(
    prometheus_binary: str, system: RunningSystem, tmp_path: Path
) -> Iterator[Prometheus]:
    """A Prometheus scraping the system. Stopped (by its pid) afterwards."""
    port = free_port()
    argv = [
        prometheus_binary,
        f"--config.file={write_config(tmp_path, system)}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    log_path = tmp_path / "prometheus.log"
    pid = spawn_detached(argv, log_path)
    ticks = proc_start_ticks(pid)
    try:
        yield Prometheus(f"http://127.0.0.1:{port}", log_path)
    finally:
        terminate(pid, ticks, STOP_TIMEOUT_S)


@pytest_asyncio.fixture(loop_scope="session")
async def api(prometheus: Prometheus) -> AsyncIterator[httpx.AsyncClient]:
    """Prometheus's HTTP API, once it answers ready."""
    async with httpx.AsyncClient(base_url=prometheus.url, timeout=10.0) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/-/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, what=f"Prometheus to start (log: {prometheus.log_path})")
        yield client


async def query(api: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    answer = (await api.get("/api/v1/query", params={"query": expr})).json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


async def make_some_traffic(canopy: SystemClient, tenant: str) -> None:
    """An HR joiner on the upstream topic and a post mentioning a reader: what the labelled
    series need (each consumer's lag appears once it has handled a record), whatever ran
    before."""
    await canopy.provision(tenant, "ada", "bob", bots=("hr-bot",))
    joiner = person(tenant, "grace", "Grace Hopper")
    await canopy.publish_upstream(
        upstream_activity(tenant, "hr-bot", "Create", joiner), key=f"{tenant}:hr"
    )

    async def grace_known() -> bool:
        found = await canopy.request("ingestion", "GET", "/v1/users/grace", tenant, "ada")
        return found.status_code == 200

    await eventually(grace_known, what="the upstream joiner's profile")
    assert await canopy.feed("/v1/feeds/home", tenant, "bob") == []
    post = await canopy.post(tenant, "ada", "Hello @bob")
    await eventually(
        partial(canopy.feed_holds, "/v1/feeds/home", tenant, "bob", post["id"]),
        what="the post in bob's home feed",
    )


async def test_prometheus_scrapes_every_service_up_with_the_key_series(
    api: httpx.AsyncClient, canopy: SystemClient, tenant_id: str
) -> None:
    await make_some_traffic(canopy, tenant_id)

    async def all_up() -> list[dict[str, Any]] | None:
        targets = (await api.get("/api/v1/targets")).json()["data"]["activeTargets"]
        up = [target for target in targets if target["health"] == "up"]
        return targets if len(up) == len(targets) == len(TARGETS) else None

    targets = await eventually(all_up, what="every target up", timeout_s=30)
    assert sorted(t["labels"]["service"] for t in targets) == sorted(TARGETS)
    assert {t["labels"]["job"] for t in targets} == {"canopy"}

    async def present(expr: str, services: tuple[str, ...]) -> bool:
        found = {series["metric"]["service"] for series in await query(api, expr)}
        return found >= set(services)

    for expr, services in KEY_SERIES.items():
        await eventually(partial(present, expr, services), what=f"{expr} for {services}")

    async def rules_evaluated() -> list[dict[str, Any]] | None:
        groups = (await api.get("/api/v1/rules")).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        evaluated = [r for r in rules if not r["lastEvaluation"].startswith(NEVER)]
        return rules if rules and len(evaluated) == len(rules) else None

    rules = await eventually(rules_evaluated, what="every alert rule evaluated")
    assert {rule["name"]: rule["health"] for rule in rules} == {
        rule["name"]: "ok" for rule in rules
    }
