"""What the deploy checks share: the repository's files, the tools that check them, the series
the services really export (read from their source) and the settings they really read.

The tools (promtool, docker-compose) come from scripts/setup.sh. A test needing one that is
missing is skipped on a developer's machine and fails in CI (``CI`` set), where setup ran.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from canopy_analytics.settings import Settings as AnalyticsSettings
from canopy_common.settings import ServiceSettings
from canopy_dev.ports import SERVICE_PORTS
from canopy_fanout.settings import Settings as FanoutSettings
from canopy_ingestion.settings import Settings as IngestionSettings
from canopy_notify.settings import Settings as NotifySettings
from canopy_web.settings import Settings as WebSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
# The four services: Postgres, Kafka, Redis, migrations and consumers.
SETTINGS: dict[str, type[ServiceSettings]] = {
    "ingestion": IngestionSettings,
    "fanout": FanoutSettings,
    "notify": NotifySettings,
    "analytics": AnalyticsSettings,
}
# The web client: Redis and the four services' APIs only (docs/architecture.md §18).
WEB = "web"

# Series Prometheus adds itself to every scrape.
PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
_FACTORIES = {
    "get_or_create_counter": ("_total", "_created"),
    "get_or_create_gauge": ("",),
    "get_or_create_histogram": ("_bucket", "_sum", "_count", "_created"),
}
# canopy_common code that registers a metric for the service it is given: which services that
# is. A new one fails the catalogue below until it is named here.
_COMMON_METRIC_OWNERS = {
    "HttpMetrics": "every service (create_service_app adds it)",
    "RateLimiter": "every service (create_service_app builds one with the Redis client)",
    "StatementCounter": "every service, when CANOPY_PG_COUNT_STATEMENTS is on",
    "consumer_metrics": "services whose ServiceDefinition has consumers",
    "partition_lag": "those, and services that call it themselves (analytics' stream)",
}


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed: scripts/setup.sh installs it"
        if _running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool (Debian's prometheus package)."""
    return _tool("promtool")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """docker-compose v1 (Debian's docker-compose package); `config` needs no engine."""
    return _tool("docker-compose")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml, anchors and merge keys resolved."""
    document: dict[str, Any] = load_yaml(REPO_ROOT / "docker-compose.yml")
    return document


# --- the series the services export ---------------------------------------------------------


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _registrations(path: Path) -> Iterator[tuple[str, str, str | None, str]]:
    """(factory, noun, service if literal, enclosing top-level def or class) of each
    ``get_or_create_*(metric_name(service, "name"), ...)`` in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    scope_of = {
        id(child): top.name
        for top in tree.body
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        for child in ast.walk(top)
    }
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _called_name(node) in _FACTORIES and node.args):
            continue
        named = node.args[0]
        if not (isinstance(named, ast.Call) and _called_name(named) == "metric_name"):
            raise AssertionError(f"{path}:{node.lineno}: name a metric with metric_name()")
        service, noun = named.args
        if not (isinstance(noun, ast.Constant) and isinstance(noun.value, str)):
            raise AssertionError(f"{path}:{node.lineno}: metric noun must be a literal")
        literal = service.value if isinstance(service, ast.Constant) else None
        assert literal is None or isinstance(literal, str), f"{path}:{node.lineno}"
        yield _called_name(node) or "", noun.value, literal, scope_of.get(id(node), "")


def _has_consumers(package: Path) -> bool:
    tree = ast.parse((package / "app.py").read_text())
    return any(
        isinstance(node, ast.Call)
        and _called_name(node) == "ServiceDefinition"
        and any(k.arg == "consumers" for k in node.keywords)
        for node in ast.walk(tree)
    )


def _calls(package: Path, name: str) -> bool:
    return any(
        isinstance(node, ast.Call) and _called_name(node) == name
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
    )


def _mentions(package: Path, name: str) -> bool:
    return any(
        isinstance(node, ast.Name) and node.id == name
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
    )


def _exports(scope: str, package: Path) -> bool:
    """Whether the service in ``package`` registers what ``scope`` of canopy_common does."""
    if package.name == f"canopy_{WEB}":  # no ServiceDefinition: only what it wires itself
        return _mentions(package, scope)
    if scope in {"HttpMetrics", "RateLimiter", "StatementCounter"}:
        return True
    return _has_consumers(package) or (scope == "partition_lag" and _calls(package, scope))


def exported_series() -> frozenset[str]:
    """Every series name the services and the web client expose on /metrics, read from their
    source."""
    packages = {
        p.name.removeprefix("canopy_"): p for p in REPO_ROOT.glob("services/*/src/canopy_*")
    }
    assert sorted(packages) == sorted(SERVICE_PORTS), packages
    series: set[str] = set(PROMETHEUS_SERIES)

    def add(service: str, factory: str, noun: str) -> None:
        if factory == "get_or_create_counter":  # x_total is exposed as x_total and x_created
            noun = noun.removesuffix("_total")
        series.update(f"canopy_{service}_{noun}{suffix}" for suffix in _FACTORIES[factory])

    for service, package in packages.items():
        for path in package.rglob("*.py"):
            for factory, noun, literal, _ in _registrations(path):
                add(literal or service, factory, noun)
    common = REPO_ROOT / "libs/common/src/canopy_common"
    for path in common.rglob("*.py"):
        for factory, noun, literal, scope in _registrations(path):
            if literal is not None:
                add(literal, factory, noun)
                continue
            assert scope in _COMMON_METRIC_OWNERS, (
                f"{path}: {scope} registers {noun} per service: say in tests/deploy/conftest.py "
                "which services export it"
            )
            for service, package in packages.items():
                if _exports(scope, package):
                    add(service, factory, noun)
    return frozenset(series)


@pytest.fixture(scope="session")
def series() -> frozenset[str]:
    return exported_series()


_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`""")
_NAME_MATCHER = re.compile(r"""__name__\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")""")
_GROUPING = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan", "atan2"}
)


def promql_names(expr: str) -> tuple[set[str], set[str]]:
    """The metric names an expression selects: (names, ``__name__`` regexes/values)."""
    patterns = {ast.literal_eval(m.group(2)) for m in _NAME_MATCHER.finditer(expr)}
    bare = _STRING.sub('""', expr)
    bare = re.sub(r"\{[^{}]*\}", " ", bare)  # label matchers (strings already emptied)
    bare = re.sub(r"\[[^\[\]]*\]", " ", bare)  # ranges and subqueries
    bare = _GROUPING.sub(" ", bare)
    names = set()
    for match in _IDENTIFIER.finditer(bare):
        word, rest = match.group(), bare[match.end() :].lstrip()
        if rest.startswith("(") or word.lower() in _KEYWORDS:
            continue  # a function or aggregation, or an operator
        if bare[max(match.start() - 1, 0)].isdigit():
            continue  # a duration or number suffix (5m, 1e3)
        names.add(word)
    return names, patterns


@pytest.fixture(scope="session")
def unknown_series(series: frozenset[str]) -> Callable[[str], list[str]]:
    """What an expression selects that no service exports (empty when it is all real)."""

    def unknown(expr: str) -> list[str]:
        names, patterns = promql_names(expr)
        problems = sorted(names - series)
        for pattern in sorted(patterns):
            if not any(re.fullmatch(pattern, name) for name in series):
                problems.append(f'__name__ matching "{pattern}"')
        if not names and not patterns:
            problems.append("no metric at all")
        return problems

    return unknown


# --- the settings the services read -------------------------------------------------------------


def _env_names(settings: type[BaseSettings]) -> Iterator[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    for field, info in settings.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            yield from _env_names(nested)
        elif isinstance(info.validation_alias, str):
            yield info.validation_alias
        else:
            yield f"{prefix}{field}".upper()


@pytest.fixture(scope="session")
def setting_names() -> frozenset[str]:
    """Every ``CANOPY_*`` variable some service or the web client reads."""
    classes: list[type[BaseSettings]] = [*SETTINGS.values(), WebSettings]
    return frozenset(name for cls in classes for name in _env_names(cls))


SettingsLoader = Callable[[Mapping[str, str]], dict[str, ServiceSettings]]
WebSettingsLoader = Callable[[Mapping[str, str]], WebSettings]


def _only(monkeypatch: pytest.MonkeyPatch, environment: Mapping[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith("CANOPY_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch) -> SettingsLoader:
    """Each service's settings as it loads them from exactly ``environment``."""

    def load(environment: Mapping[str, str]) -> dict[str, ServiceSettings]:
        _only(monkeypatch, environment)
        return {service: cls() for service, cls in SETTINGS.items()}

    return load


@pytest.fixture
def web_settings_from(monkeypatch: pytest.MonkeyPatch) -> WebSettingsLoader:
    """The web client's settings as it loads them from exactly ``environment``."""

    def load(environment: Mapping[str, str]) -> WebSettings:
        _only(monkeypatch, environment)
        return WebSettings()

    return load
