"""W3C Trace Context (``traceparent``) for Canopy: one per request or consumed record.

The current traceparent lives in a contextvar. An HTTP request or a consumed Kafka record
continues the caller's trace (same trace id, new span id) with :func:`continue_trace` and
:func:`use_traceparent`; the Kafka producer copies the current value into the ``traceparent``
header of every record it sends, so a trace follows an activity across services.

Format (https://www.w3.org/TR/trace-context/#traceparent-header)::

    00-<trace-id: 32 hex>-<parent-id: 16 hex>-<trace-flags: 2 hex>
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

TRACEPARENT_HEADER = "traceparent"

# Version 00 is exactly 55 characters; later versions may append "-<more fields>".
_TRACEPARENT = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<span_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?"
)
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16
_SAMPLED = "01"

_current: ContextVar[str | None] = ContextVar("canopy_traceparent", default=None)


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A parsed ``traceparent``; ``str()`` renders it as version 00."""

    trace_id: str
    span_id: str
    flags: str = _SAMPLED

    def __str__(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceParent:
        """The same trace with a new span id: what a hop that continues this trace uses."""
        return TraceParent(self.trace_id, _random_hex(8, _ZERO_SPAN_ID), self.flags)


def parse_traceparent(value: str | bytes | None) -> TraceParent | None:
    """Parse a ``traceparent`` header; ``None`` when it is missing or invalid."""
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, span_id = match["version"], match["trace_id"], match["span_id"]
    if version == "ff" or (version == "00" and match["rest"] is not None):
        return None
    if trace_id == _ZERO_TRACE_ID or span_id == _ZERO_SPAN_ID:
        return None
    return TraceParent(trace_id, span_id, match["flags"])


def new_traceparent() -> str:
    """A fresh, sampled traceparent: random 16-byte trace id and 8-byte span id."""
    return str(TraceParent(_random_hex(16, _ZERO_TRACE_ID), _random_hex(8, _ZERO_SPAN_ID)))


def continue_trace(incoming: str | bytes | None) -> str:
    """The traceparent for work caused by ``incoming``: its child if valid, else a new trace."""
    parent = parse_traceparent(incoming)
    return str(parent.child()) if parent is not None else new_traceparent()


def current_traceparent() -> str | None:
    """The traceparent of the work in progress, if any."""
    return _current.get()


def current_trace_id() -> str | None:
    """The trace id of the work in progress, if any (for log lines)."""
    parsed = parse_traceparent(_current.get())
    return parsed.trace_id if parsed is not None else None


def trace_id_of(traceparent: str) -> str:
    """The trace id of a valid traceparent."""
    parsed = parse_traceparent(traceparent)
    if parsed is None:
        raise ValueError(f"invalid traceparent: {traceparent!r}")
    return parsed.trace_id


@contextmanager
def use_traceparent(traceparent: str) -> Iterator[str]:
    """Make ``traceparent`` current inside the block (restored afterwards).

    Raises ``ValueError`` when it is not a valid traceparent.
    """
    trace_id_of(traceparent)
    token = _current.set(traceparent)
    try:
        yield traceparent
    finally:
        _current.reset(token)


def _random_hex(n_bytes: int, invalid: str) -> str:
    while True:  # all zeros is invalid per the spec; astronomically rare, but cheap to rule out
        value = secrets.token_hex(n_bytes)
        if value != invalid:
            return value
