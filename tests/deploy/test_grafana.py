"""deploy/grafana: the dashboard parses, lays out, shows what operators need, and every panel's
query is PromQL promtool accepts over series the services export; the provisioning files point
at the Prometheus and the folder docker-compose.yml gives Grafana."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.deploy

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAFANA = REPO_ROOT / "deploy/grafana"
DASHBOARD = GRAFANA / "dashboards/canopy.json"
# Grafana's variables, as values promtool can parse.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "$service": ".*",
}
# What issue 7 asks the dashboard to show: a series each shows it through.
MUST_SHOW = {
    "request rate": r"rate\(\{__name__=~\"canopy_\[a-z\]\+_http_request_duration_seconds_count\"",
    "errors": r'status=~\\?"5\.\.',
    "latency": r"histogram_quantile\(0\.99, .*http_request_duration_seconds_bucket",
    "consumer lag": r"_consumer_lag_records",
    "fan-out latency": r"canopy_fanout_latency_seconds_bucket",
    "DLQ rate": r'outcome="dead_lettered"',
    "outbox backlog": r"canopy_ingestion_outbox_backlog_records",
}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def queries() -> Iterator[tuple[str, str]]:
    """(panel title and refId, expression) of every query."""
    for panel in panels():
        for target in panel["targets"]:
            yield f"{panel['title']} [{target['refId']}]", target["expr"]


def as_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a Grafana variable the test does not know: {expr}"
    return expr


def provisioned_datasource() -> dict[str, Any]:
    path = GRAFANA / "provisioning/datasources/prometheus.yml"
    (datasource,) = yaml.safe_load(path.read_text())["datasources"]
    return dict(datasource)


def test_the_dashboard_parses_with_unique_ids_and_no_overlapping_panels() -> None:
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    cells: dict[tuple[int, int], str] = {}
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]

    assert board["uid"]
    assert board["title"]
    assert len(ids) == len(set(ids))
    assert all(panel["targets"] for panel in panels())


def test_the_dashboard_shows_what_operators_need() -> None:
    expressions = "\n".join(expr for _, expr in queries())

    missing = [what for what, pattern in MUST_SHOW.items() if not re.search(pattern, expressions)]

    assert missing == []


def test_every_query_selects_series_the_services_export(
    unknown_series: Callable[[str], list[str]],
) -> None:
    unknown = {where: unknown_series(as_promql(expr)) for where, expr in queries()}
    (variable,) = dashboard()["templating"]["list"]
    values_of = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"]["query"])
    assert values_of is not None
    unknown["variable $service"] = unknown_series(values_of.group(1))

    assert {where: names for where, names in unknown.items() if names} == {}


def test_promtool_parses_every_query(promtool: str, tmp_path: Path) -> None:
    """Each query becomes a recording rule, which `promtool check rules` parses."""
    rules = [
        {"record": f"canopy_dashboard:query_{n}", "expr": as_promql(expr)}
        for n, (_, expr) in enumerate(queries())
    ]
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))

    done = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout


def test_every_panel_uses_the_provisioned_prometheus() -> None:
    uid = provisioned_datasource()["uid"]
    used = {
        (source.get("type"), source.get("uid"))
        for panel in panels()
        for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]
    }
    (variable,) = dashboard()["templating"]["list"]
    used.add((variable["datasource"]["type"], variable["datasource"]["uid"]))

    assert used == {("prometheus", uid)}


def test_grafana_in_docker_compose_gets_the_datasource_and_the_dashboards(
    compose: dict[str, Any],
) -> None:
    grafana = compose["services"]["grafana"]
    mounts = dict(v.removesuffix(":ro").split(":", 1) for v in grafana["volumes"])
    provider_path = Path(GRAFANA / "provisioning/dashboards/canopy.yml")
    (provider,) = yaml.safe_load(provider_path.read_text())["providers"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    datasource_host = re.fullmatch(r"http://([\w-]+):9090", provisioned_datasource()["url"])

    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert home == f"{provider['options']['path']}/{DASHBOARD.name}"
    assert datasource_host is not None
    assert datasource_host.group(1) in compose["services"]
