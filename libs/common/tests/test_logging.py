"""JSON log lines from structlog and stdlib loggers, with the bound context."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import structlog

from canopy_common.logging import configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    structlog_config = structlog.get_config()
    yield
    structlog.contextvars.clear_contextvars()
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    structlog.configure(**structlog_config)


def _lines(out: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def test_json_lines_carry_bound_contextvars(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True, service="fanout")
    structlog.contextvars.bind_contextvars(tenant="acme", activity_id="act-1", trace_id="t-9")

    structlog.get_logger("canopy_fanout.consumers").info("activity fanned out", recipients=3)

    [line] = _lines(capsys.readouterr().out)
    assert line["event"] == "activity fanned out"
    assert line["level"] == "info"
    assert line["logger"] == "canopy_fanout.consumers"
    assert line["service"] == "fanout"
    assert (line["tenant"], line["activity_id"], line["trace_id"]) == ("acme", "act-1", "t-9")
    assert line["recipients"] == 3
    assert line["timestamp"].endswith("Z")


def test_stdlib_loggers_render_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", json=True, service="notify")
    structlog.contextvars.bind_contextvars(tenant="acme")

    logging.getLogger("uvicorn.error").warning("port %d in use", 8000)

    [line] = _lines(capsys.readouterr().out)
    assert line["event"] == "port 8000 in use"
    assert line["level"] == "warning"
    assert line["logger"] == "uvicorn.error"
    assert line["service"] == "notify"
    assert line["tenant"] == "acme"


def test_exceptions_are_rendered_in_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True, service="ingestion")

    try:
        raise ValueError("bad payload")
    except ValueError:
        structlog.get_logger("canopy_ingestion").exception("record rejected")

    [line] = _lines(capsys.readouterr().out)
    assert line["level"] == "error"
    assert "ValueError: bad payload" in line["exception"]


def test_configuring_twice_neither_duplicates_lines_nor_keeps_the_old_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True, service="first")
    log = structlog.get_logger("canopy.twice")
    log.info("cached before reconfiguring")
    configure_logging("WARNING", json=True, service="analytics")

    log.info("below the new level")
    log.warning("once only")

    lines = _lines(capsys.readouterr().out)
    assert [line["event"] for line in lines] == ["cached before reconfiguring", "once only"]
    assert lines[-1]["service"] == "analytics"


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD", json=True, service="fanout")
