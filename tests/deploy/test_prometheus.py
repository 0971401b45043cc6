"""deploy/prometheus: promtool accepts the scrape configs (local, compose, Kubernetes) and the
alert rules, the alerts' unit tests pass, and every alert watches series the services export."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from canopy_dev.ports import SERVICE_PORTS

pytestmark = pytest.mark.deploy

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO_ROOT / "deploy/prometheus"
# What operators are promised an alert for (issue 7): one alert at least for each.
REQUIRED_ALERTS = {
    "CanopyServiceDown",
    "CanopyConsumerLagHigh",
    "CanopyDeadLetterRateHigh",
    "CanopyOutboxBacklogHigh",
    "CanopyHttp5xxRatioHigh",
    "CanopyFanoutLatencyP99High",
}


def run_promtool(promtool: str, *args: str | Path) -> str:
    done = subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output  # e.g. a targets file that is not there
    return output


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def targets(path: Path) -> dict[str, str]:
    """service label → target of a file_sd targets file."""
    return {
        group["labels"]["service"]: target
        for group in yaml.safe_load(path.read_text())
        for target in group["targets"]
    }


def test_the_local_config_is_valid_and_scrapes_every_service_at_its_port(promtool: str) -> None:
    run_promtool(promtool, "check", "config", PROMETHEUS / "prometheus.yml")

    assert targets(PROMETHEUS / "targets.yml") == {
        service: f"127.0.0.1:{port}" for service, port in SERVICE_PORTS.items()
    }


def test_the_config_as_docker_compose_mounts_it_is_valid_and_scrapes_every_service(
    promtool: str, compose: dict[str, Any], tmp_path: Path
) -> None:
    mounted = tmp_path / "etc-prometheus"
    for volume in compose["services"]["prometheus"]["volumes"]:
        source, _, target = volume.removesuffix(":ro").partition(":")
        if source.startswith("./") and target.startswith("/etc/prometheus/"):
            destination = mounted / target.removeprefix("/etc/prometheus/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / source, destination)

    run_promtool(promtool, "check", "config", mounted / "prometheus.yml")

    assert targets(mounted / "targets.yml") == {
        name: f"{name}:{port}" for name, port in SERVICE_PORTS.items()
    }
    assert set(SERVICE_PORTS) <= set(compose["services"])


def test_the_kubernetes_scrape_config_is_valid(promtool: str, tmp_path: Path) -> None:
    """Debian's promtool is built without Kubernetes discovery: everything else is checked,
    the discovery block standing in as a static target."""
    jobs = yaml.safe_load((PROMETHEUS / "scrape.k8s.yml").read_text())
    for job in jobs:
        assert job.pop("kubernetes_sd_configs")[0]["namespaces"]["names"] == ["canopy"]
        job["static_configs"] = [{"targets": ["10.0.0.1:8001"]}]
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")
    config = {"rule_files": ["alerts.yml"], "scrape_configs": jobs}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    run_promtool(promtool, "check", "config", tmp_path / "prometheus.yml")

    labels = {r.get("target_label") for job in jobs for r in job["relabel_configs"]}
    assert {"service", "instance"} <= labels  # what alerts.yml and the dashboard group by


def test_the_alert_rules_are_valid(promtool: str) -> None:
    output = run_promtool(promtool, "check", "rules", PROMETHEUS / "alerts.yml")

    assert f"SUCCESS: {len(alert_rules())} rules found" in output


def test_the_alert_unit_tests_pass(promtool: str) -> None:
    run_promtool(promtool, "test", "rules", PROMETHEUS / "alerts.test.yml")


def test_the_alert_unit_tests_name_real_alerts() -> None:
    """A test of a misspelt alert expecting no alert would pass without testing anything."""
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}

    assert tested <= {rule["alert"] for rule in alert_rules()}
    assert len(tested) >= 2


def test_every_promised_alert_exists_with_a_severity_and_a_summary() -> None:
    rules = alert_rules()

    assert {rule["alert"] for rule in rules} >= REQUIRED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_every_alert_watches_series_the_services_export(
    unknown_series: Callable[[str], list[str]],
) -> None:
    unknown = {rule["alert"]: unknown_series(rule["expr"]) for rule in alert_rules()}

    assert {alert: names for alert, names in unknown.items() if names} == {}


def test_the_series_check_sees_through_strings_labels_and_functions(
    unknown_series: Callable[[str], list[str]],
) -> None:
    real = (
        'sum by (service, le) (rate(canopy_fanout_latency_seconds_bucket{path!~"canopy_x"}[5m]))'
        " / on (service) group_left up"
    )

    assert unknown_series(real) == []
    assert unknown_series("rate(canopy_fanout_latency_seconds_total[5m]) > bool 1e3") == [
        "canopy_fanout_latency_seconds_total"
    ]
    assert unknown_series('sum({__name__=~"canopy_[a-z]+_lag_seconds"})') == [
        '__name__ matching "canopy_[a-z]+_lag_seconds"'
    ]
    assert unknown_series("vector(1)") == ["no metric at all"]
