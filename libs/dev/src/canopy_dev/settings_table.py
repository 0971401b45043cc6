"""The README's settings table, generated from the settings classes so it cannot drift."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from canopy_common.settings import (
    AuthSettings,
    KafkaSettings,
    PostgresSettings,
    RateLimitSettings,
    RedisSettings,
    ServiceSettings,
)

SHARED_GROUPS: tuple[type[BaseSettings], ...] = (
    KafkaSettings,
    PostgresSettings,
    RedisSettings,
    AuthSettings,
    RateLimitSettings,
)
# Read by the tooling rather than the services: (variable, default, description).
TOOLING = (
    ("CANOPY_RUN_DIR", "`.run/`", "Where `make up` keeps logs, pids and what it started"),
    (
        "CANOPY_KAFKA_HOME",
        "`.cache/kafka`",
        "Apache Kafka to run (a folder holding `libs/`); `make setup` fills the default",
    ),
    (
        "CANOPY_DEMO_SEED",
        "`1`",
        "`make up` seeds the demo tenant `acme` (`0`: not; `make up SEED=0` sets it)",
    ),
    ("CANOPY_TEST_BACKEND", "`auto`", "Tests: `local`, `containers` (testcontainers) or `auto`"),
    ("CANOPY_AS2_CORPUS", "`../shared/conformance/as2`", "Tests: the W3C AS2 corpus"),
    (
        "CANOPY_AS2_CORPUS_REQUIRED",
        "unset",
        "Tests: `1` fails the run when the corpus is missing (CI sets it)",
    ),
)
# Defaults that are paths in the checkout (the web client's npm packages) show relative to it.
_CHECKOUT = Path(__file__).resolve().parents[4]
_NESTED = frozenset({"kafka", "postgres", "redis", "auth", "rate_limits"})


def _cell(value: object) -> str:
    return (
        "(none)"
        if value is None
        else f"`{str(value).lower() if isinstance(value, bool) else value}`"
    )


def _default(info: FieldInfo) -> object:
    """A field's default (an empty list: none); a path inside this checkout is shown relative
    to it."""
    value = info.get_default(call_default_factory=True)
    if value == []:
        return None
    if isinstance(value, Path) and value.is_relative_to(_CHECKOUT):
        return f"{value.relative_to(_CHECKOUT)}/"
    return value


def _env_name(settings: type[BaseSettings], field: str) -> str:
    info = settings.model_fields[field]
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def settings_table(
    services: Sequence[type[ServiceSettings]], clients: Sequence[type[BaseSettings]] = ()
) -> str:
    """A Markdown table of every ``CANOPY_*`` variable, its default and what it does.

    ``<SVC>`` stands for each service's prefix: INGESTION, FANOUT, NOTIFY, ANALYTICS. Settings
    only one service has follow, under that service's prefix. ``clients`` are settings classes
    that are no :class:`ServiceSettings` (the web client, ``CANOPY_WEB_*``): each of their
    settings follows under its own name, but for those already in the table (``CANOPY_ENV``,
    the shared groups such as ``CANOPY_REDIS_*``).
    """
    rows = ["| variable | default | what it sets |", "|---|---|---|"]
    shared: list[tuple[type[BaseSettings], str]] = [
        (ServiceSettings, f) for f, i in ServiceSettings.model_fields.items() if i.validation_alias
    ]
    shared += [(group, field) for group in SHARED_GROUPS for field in group.model_fields]
    for owner, field in shared:
        info = owner.model_fields[field]
        rows.append(f"| `{_env_name(owner, field)}` | {_cell(info.default)} | {info.description} |")
    per_service = [
        f
        for f, info in ServiceSettings.model_fields.items()
        if not info.validation_alias and f not in _NESTED
    ]
    for field in per_service:
        defaults = {s.model_fields[field].default for s in services}
        cell = (
            _cell(defaults.pop())
            if len(defaults) == 1
            else ", ".join(
                f"{s.model_fields['service_name'].default} {_cell(s.model_fields[field].default)}"
                for s in services
            )
        )
        description = ServiceSettings.model_fields[field].description
        rows.append(f"| `CANOPY_<SVC>_{field.upper()}` | {cell} | {description} |")
    for service in services:  # fields only one service has, under its own prefix
        for field, info in service.model_fields.items():
            if field in ServiceSettings.model_fields:
                continue
            group = info.annotation
            if isinstance(group, type) and issubclass(group, BaseSettings):
                # A group of its own (e.g. CANOPY_SMTP_*), read under its own prefix.
                for inner, inner_info in group.model_fields.items():
                    name = _env_name(group, inner)
                    rows.append(
                        f"| `{name}` | {_cell(inner_info.default)} | {inner_info.description} |"
                    )
                continue
            name = _env_name(service, field)
            rows.append(f"| `{name}` | {_cell(info.default)} | {info.description} |")
    for client in clients:
        listed = {row.split("`")[1] for row in rows[2:]}
        for field, info in client.model_fields.items():
            group = info.annotation
            if isinstance(group, type) and issubclass(group, BaseSettings):
                if group in SHARED_GROUPS:
                    continue
                for inner, inner_info in group.model_fields.items():
                    name = _env_name(group, inner)
                    rows.append(
                        f"| `{name}` | {_cell(inner_info.default)} | {inner_info.description} |"
                    )
                continue
            name = _env_name(client, field)
            if name not in listed:
                rows.append(f"| `{name}` | {_cell(_default(info))} | {info.description} |")
    for name, default, description in TOOLING:
        rows.append(f"| `{name}` | {default} | {description} |")
    return "\n".join(rows)
