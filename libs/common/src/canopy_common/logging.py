"""Logging for Canopy: one JSON object per line on stdout, from structlog and stdlib alike.

Every line carries ``timestamp`` (ISO 8601, UTC), ``level``, ``logger``, ``event``, ``service``
and whatever is bound with :func:`structlog.contextvars.bind_contextvars` where the work
happens (``tenant``, ``activity_id``, ``trace_id``). Libraries that log through the standard
library (uvicorn, aiokafka, asyncpg) are rendered the same way. Run uvicorn with
``log_config=None`` so it keeps this configuration.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.types import EventDict, Processor, WrappedLogger

# Loggers that install handlers of their own; they are made to propagate to ours instead.
_SELF_HANDLED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

# The one mutable piece of the processor chain, so calling configure_logging again also
# updates loggers that structlog already cached.
_service = "canopy"


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to the current ``sys.stdout`` (or ``sys.stderr``), even after it was swapped
    (test capture)."""

    def __init__(self, stream: Literal["stdout", "stderr"] = "stdout") -> None:
        self._stream_name = stream
        super().__init__(getattr(sys, stream))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = getattr(sys, self._stream_name)
        super().emit(record)


def _add_service(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("service", _service)
    return event_dict


def _orjson_dumps(value: Any, **kwargs: Any) -> str:
    # Non-string keys (ids as ints, enums) must not turn a log line into an exception.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, **kwargs).decode()


def configure_logging(
    level: str, *, json: bool, service: str, stream: Literal["stdout", "stderr"] = "stdout"
) -> None:
    """Send structlog and stdlib logging to stdout, as JSON lines or (``json=False``) for people.
    A command whose stdout is its output logs to ``stream="stderr"`` instead.

    ``level`` is a stdlib level name (``"info"``, ``"DEBUG"``). Safe to call more than once:
    the last call wins and no handler is added twice.
    """
    global _service
    numeric_level = logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"unknown log level {level!r}")
    _service = service

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _add_service,
        structlog.processors.StackInfoRenderer(),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

    rendering: list[Processor]
    if json:
        rendering = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_orjson_dumps),
        ]
    else:
        # The console renderer prints exceptions itself; format_exc_info would defeat it.
        rendering = [structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )
    handler = _StdoutHandler(stream)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)

    for name in _SELF_HANDLED_LOGGERS:
        own = logging.getLogger(name)
        own.handlers.clear()
        own.propagate = True
