"""Opaque cursors for keyset paging (docs/architecture.md §16), pure so domain code can use
them; the HTTP side (``limit``/``cursor`` parameters, ``Page``, ``Link``) is
:mod:`canopy_common.paging`.

A cursor is the keyset position of the last item of a page — the values the route's ``ORDER
BY`` sorts on — as URL-safe base64 of a JSON array. Opaque to clients, so its content can
change; checked on the way back in (``decode_cursor`` takes the types each value must have),
so a forged or truncated cursor is a 400 and never reaches SQL as a wrong type.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson

from canopy_common.errors import CanopyError

# Longer than any cursor a route gives out (a few keys of at most a few hundred characters):
# anything longer is refused by the query's validation before it is decoded.
CURSOR_MAX_LENGTH = 1024

Scalar = str | int | float | bool | None
Item = TypeVar("Item")


class BadCursor(CanopyError):
    """A cursor this API did not give out: 400, naming the parameter."""

    status, code = 400, "bad-cursor"

    def __init__(self, parameter: str = "cursor") -> None:
        super().__init__(f"{parameter}: not a cursor this API gave out", extra={"field": parameter})


def encode_cursor(*values: Scalar | datetime) -> str:
    """An opaque cursor holding ``values`` (a datetime travels as ISO 8601 text)."""
    raw = orjson.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, types: Sequence[type], *, parameter: str = "cursor"
) -> tuple[Any, ...]:
    """The values of a cursor from :func:`encode_cursor`, each checked against ``types``
    (``datetime`` values are parsed back, timezone-aware); :class:`BadCursor` otherwise."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadCursor(parameter) from None
    if not isinstance(values, list) or len(values) != len(types):
        raise BadCursor(parameter)
    out: list[Any] = []
    for value, kind in zip(values, types, strict=True):
        out.append(_typed(value, kind, parameter))
    return tuple(out)


def _typed(value: Any, kind: type, parameter: str) -> Any:
    if kind is datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise BadCursor(parameter) from None
            if parsed.tzinfo is not None:
                return parsed
        raise BadCursor(parameter)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadCursor(parameter)
    if kind is int and not -(2**63) <= value < 2**63:  # what Postgres' bigint holds
        raise BadCursor(parameter)
    if kind is float and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise BadCursor(parameter)
    if kind is str and (not isinstance(value, str) or len(value) > CURSOR_MAX_LENGTH):
        raise BadCursor(parameter)
    if kind is bool and not isinstance(value, bool):
        raise BadCursor(parameter)
    return value


def trim(rows: Sequence[Item], limit: int) -> tuple[Sequence[Item], bool]:
    """A page from ``limit + 1`` fetched rows: the first ``limit`` and whether more follow."""
    return rows[:limit], len(rows) > limit
