"""The small steps every Canopy consumer is made of (docs/architecture.md §9), composed by the
aiokafka :class:`~canopy_common.consuming.Consumer` and by analytics' faust agents:

1. :func:`decode_each` — every record decoded on its own; one that does not decode is poison;
2. apply once — the handler, idempotent on the activity id
   (:func:`canopy_common.inbox.apply_once`), its after-commit work in
   :class:`canopy_common.after_commit.AfterCommit`;
3. :func:`one_by_one` — when a batch failed, each item alone, so only the one at fault is poison;
4. :func:`retry_transient` — outages waited out with backoff, never dead-lettered;
5. dead-letter poison — :class:`canopy_common.consuming.dead_letters.DeadLetters`;
6. commit — the offsets of what is done, only after steps 1-5 (the aiokafka loop's
   :class:`~canopy_common.consuming.offsets.Offsets`, faust's acks).

Each step takes what it runs as a callable, so the same step serves both consumer frameworks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import structlog

from canopy_common.transient import is_transient

log = structlog.get_logger(__name__)

R = TypeVar("R")
T = TypeVar("T")
V = TypeVar("V")


class GaveUp(Exception):
    """Transient failures went on until the caller's limit: the work was not done."""

    def __init__(self, failures: int) -> None:
        super().__init__(f"gave up after {failures} transient failures")
        self.failures = failures


def decode_each(
    records: Sequence[T], decode: Callable[[T], V]
) -> tuple[list[tuple[T, V]], list[tuple[T, Exception]]]:
    """Decode every record on its own: (record, value) of those that decode, and (record,
    error) of the poison ones. Decoding touches nothing outside, so it is never transient."""
    decoded: list[tuple[T, V]] = []
    poison: list[tuple[T, Exception]] = []
    for record in records:
        try:
            decoded.append((record, decode(record)))
        except Exception as exc:
            poison.append((record, exc))
    return decoded, poison


async def one_by_one(
    items: Sequence[T],
    apply: Callable[[T], Awaitable[R]],
    *,
    passes: tuple[type[BaseException], ...] = (),
) -> tuple[list[tuple[T, R]], list[tuple[T, Exception]]]:
    """Apply each item alone, in order, after their batch failed: (item, result) of those
    applied, (item, error) of the poison ones. ``passes``: errors that are not the item's
    fault (e.g. giving up on stop), raised as they are."""
    done: list[tuple[T, R]] = []
    poison: list[tuple[T, Exception]] = []
    for item in items:
        try:
            done.append((item, await apply(item)))
        except passes:
            raise
        except Exception as exc:
            poison.append((item, exc))
    return done, poison


async def retry_transient(
    attempt: Callable[[], Awaitable[R]],
    *,
    backoff_s: Callable[[int], float],
    wait: Callable[[float], Awaitable[None]],
    gives_up: Callable[[int], bool],
    on_retry: Callable[[int], None] | None = None,
    context: Mapping[str, Any] | None = None,
) -> R:
    """``attempt()`` until it succeeds, waiting out transient failures (see
    :func:`~canopy_common.transient.is_transient`); any other failure is raised at once.

    After the n-th transient failure in a row: :class:`GaveUp` if ``gives_up(n)``, else
    ``on_retry(n)`` (count it, pause fetching), a warning with ``context``, and
    ``wait(backoff_s(n))`` (which may end early, e.g. on stop).
    """
    failures = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_transient(exc):
                raise
            failures += 1
            if gives_up(failures):
                raise GaveUp(failures) from exc
            if on_retry is not None:
                on_retry(failures)
            delay = backoff_s(failures)
            log.warning(
                "transient failure, retrying",
                **(context or {}),
                attempt=failures,
                retry_in_s=round(delay, 3),
                error_class=type(exc).__name__,
                error=str(exc),
            )
            await wait(delay)
