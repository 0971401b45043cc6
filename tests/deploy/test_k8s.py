"""deploy/k8s: every manifest validates (strictly: no unknown field) against a pinned
Kubernetes, offline; each service and the web client has its Deployment with health and
readiness probes, Service, HorizontalPodAutoscaler and PodDisruptionBudget wired to the same
pods (the services migrate first, the web client has nothing to migrate); the ConfigMap and
Secret are settings every service and the web client load in production, with placeholder
credentials only."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from canopy_common.settings import ServiceSettings
from canopy_dev.ports import API_SERVICES, SERVICE_PORTS
from canopy_web.settings import Settings as WebSettings

pytestmark = pytest.mark.deploy

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S = REPO_ROOT / "deploy/k8s"
# The oldest Kubernetes the manifests promise to work on.
KUBERNETES_VERSION = "1.33.0"
PLACEHOLDER = "REPLACE-ME"
SettingsLoader = Callable[[Mapping[str, str]], dict[str, ServiceSettings]]
WebSettingsLoader = Callable[[Mapping[str, str]], WebSettings]


def manifests() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, document)
        for path in sorted(K8S.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def resource(kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for _, d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def configuration() -> dict[str, str]:
    """The environment envFrom gives every pod: the ConfigMap's and the Secret's keys."""
    config = resource("ConfigMap", "canopy-config")["data"]
    secret = resource("Secret", "canopy-secrets")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    return {**config, **decoded, **secret.get("stringData", {})}


@pytest.mark.parametrize(
    ("path", "document"),
    [
        pytest.param(p, d, id=f"{p.name}:{d['kind']}/{d['metadata']['name']}")
        for p, d in manifests()
    ],
)
def test_the_manifest_validates_strictly_against_the_pinned_kubernetes(
    path: Path, document: dict[str, Any]
) -> None:
    problem = None
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        problem = f"{'.'.join(map(str, error.path))}: {error.message}"

    assert problem is None, f"{path.name}: {problem}"


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_each_service_has_probes_scaling_and_a_disruption_budget_on_the_same_pods(
    service: str,
) -> None:
    name = f"canopy-{service}"
    port = SERVICE_PORTS[service]
    deployment = resource("Deployment", name)
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    # The services apply their migrations before serving; the web client has no database.
    migrations = pod["spec"].get("initContainers", [])
    pod_labels = pod["metadata"]["labels"]
    hpa = resource("HorizontalPodAutoscaler", name)
    pdb = resource("PodDisruptionBudget", name)
    svc = resource("Service", name)

    if service in API_SERVICES:
        assert container["command"] == ["python", "-m", f"canopy_{service}", "all"]
        assert [m["command"] for m in migrations] == [
            ["python", "-m", f"canopy_{service}", "migrate"]
        ]
        assert [m["image"] for m in migrations] == [container["image"]]
    else:
        assert container["command"] == ["python", "-m", f"canopy_{service}"]
        assert migrations == []
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    for spec in (container, *migrations):
        assert spec["envFrom"] == [
            {"configMapRef": {"name": "canopy-config"}},
            {"secretRef": {"name": "canopy-secrets"}},
        ]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    assert pod_labels["app.kubernetes.io/component"] == service  # Prometheus' `service` label
    for selector in (
        deployment["spec"]["selector"]["matchLabels"],
        pdb["spec"]["selector"]["matchLabels"],
        svc["spec"]["selector"],
    ):
        assert selector.items() <= pod_labels.items()
    assert svc["spec"]["ports"][0]["port"] == port
    assert (hpa["apiVersion"], pdb["apiVersion"]) == ("autoscaling/v2", "policy/v1")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    # More consumers than partitions would sit idle.
    partitions = int(configuration()["CANOPY_KAFKA_PARTITIONS"])
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions


def test_every_resource_is_in_the_canopy_namespace() -> None:
    outside = [
        f"{path.name}: {d['kind']}/{d['metadata']['name']}"
        for path, d in manifests()
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "canopy"
    ]

    assert outside == []
    assert resource("Namespace", "canopy")


def test_the_configuration_is_production_settings_every_service_loads(
    setting_names: frozenset[str], settings_from: SettingsLoader
) -> None:
    environment = configuration()

    loaded = settings_from(environment)

    assert set(environment) - setting_names == set()
    for service, settings in loaded.items():
        assert settings.env == "production", service
        assert settings.kafka.enable_idempotence is True, service
        assert settings.auth.algorithm != "HS256", service  # tokens from the identity provider


def test_the_web_client_calls_the_services_by_their_kubernetes_names_in_production(
    web_settings_from: WebSettingsLoader, tmp_path: Path
) -> None:
    # The signing key as the Secret canopy-web-signing-key would mount it (a real key here).
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    mounted = resource("Deployment", "canopy-web")["spec"]["template"]["spec"]
    (volume,) = [v for v in mounted["volumes"] if v.get("secret")]
    assert volume["secret"]["secretName"] == "canopy-web-signing-key"
    environment = configuration()
    assert environment["CANOPY_WEB_SIGNING_KEY_FILE"].endswith("/key.pem")
    settings = web_settings_from({**environment, "CANOPY_WEB_SIGNING_KEY_FILE": str(pem)})

    assert settings.env == "production"
    assert settings.production_errors() == []  # https, no local sign-in, no shared secret
    assert {name: getattr(settings, f"{name}_url") for name in API_SERVICES} == {
        name: f"http://{resource('Service', f'canopy-{name}')['metadata']['name']}.canopy.svc:"
        f"{resource('Service', f'canopy-{name}')['spec']['ports'][0]['port']}"
        for name in API_SERVICES
    }


@pytest.mark.parametrize("name", ["canopy-secrets", "canopy-web-signing-key"])
def test_the_secrets_hold_placeholders_only(name: str) -> None:
    secret = resource("Secret", name)
    decoded = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    values = {**decoded, **secret.get("stringData", {})}

    assert values
    assert [key for key, value in values.items() if PLACEHOLDER not in value] == []


def test_the_services_trust_the_web_clients_key() -> None:
    environment = configuration()

    assert environment["CANOPY_JWT_ALGORITHM"] == "ES256"
    assert environment["CANOPY_JWT_ISSUER"] == environment["CANOPY_WEB_PUBLIC_URL"]
