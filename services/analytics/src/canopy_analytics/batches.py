"""One batch of stream records, applied at least once: decode, apply, dead-letter, retry.

The stream (:mod:`canopy_analytics.stream`) hands a :class:`BatchApplier` the records of one
``take``; it acknowledges them only once the applier has returned, so nothing is committed
before it was applied (docs/architecture.md §9). The applier composes the consumer steps every
Canopy consumer shares (:mod:`canopy_common.consuming.steps`):

- every record is decoded on its own (``decode_each``); one that does not decode is poison;
- the decoded ones are applied together (one transaction, see :mod:`canopy_analytics.handlers`);
  when that fails for a reason other than an outage, they are applied ``one_by_one`` so only
  the record at fault is poison;
- poison goes to the DLQ (:class:`~canopy_common.consuming.DeadLetters`, the headers every
  Canopy consumer writes), and the partition moves on;
- transient failures (Postgres, Redis or the broker down) are retried with backoff
  (``retry_transient``), for as long as it takes, never dead-lettered; when the service stops
  and the grace period is over the applier gives up with :class:`Abandoned` and the batch stays
  unacknowledged.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from canopy_analytics.stream_metrics import BatchOutcome, Kind, StreamMetrics
from canopy_common.consuming import GaveUp, decode_each, one_by_one, retry_transient

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One Kafka record as the applier sees it (headers as they came, repeats included)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]]

    def header_pairs(self) -> Iterable[tuple[str, bytes]]:
        """The headers as they go on to the DLQ."""
        return self.headers


class Abandoned(Exception):
    """Transient failures outlasted the stop's grace period: the batch was not applied and must
    not be acknowledged (it is redelivered to the next consumer)."""


class Retrying:
    """Runs an attempt until it succeeds or fails for good, waiting out transient failures.

    Backoff doubles from ``initial_s`` up to ``max_s``, with jitter so that many consumers do
    not retry in step. Once ``abort`` is set, a transient failure raises :class:`Abandoned`.
    """

    def __init__(
        self, *, initial_s: float, max_s: float, abort: asyncio.Event, metrics: StreamMetrics
    ) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._abort = abort
        self._metrics = metrics

    async def __call__(
        self, kind: Kind, what: str, attempt: Callable[[], Awaitable[R]], *, records: int
    ) -> R:
        """``attempt()`` until it succeeds; ``records`` it concerns are counted as retried."""

        def on_retry(failures: int) -> None:
            self._metrics.records.labels(kind.value, "retried").inc(records)

        try:
            return await retry_transient(
                attempt,
                backoff_s=self.backoff_s,
                wait=self._wait,
                gives_up=lambda failures: self._abort.is_set(),
                on_retry=on_retry,
                context={"kind": kind.value, "what": what},
            )
        except GaveUp as exc:
            raise Abandoned(f"{what}: gave up on stop after {exc.__cause__!r}") from exc.__cause__

    def backoff_s(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row (counting from 1)."""
        ceiling = min(self._max_s, self._initial_s * (1 << min(failures - 1, 30)))
        return ceiling * random.uniform(0.5, 1.0)

    async def _wait(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._abort.wait()
        except TimeoutError:
            pass


# Publishes a record to the DLQ with the error that condemned it; raises a transient error when
# the DLQ cannot be reached (as :class:`~canopy_common.consuming.DeadLetters` does).
DeadLetter = Callable[[StreamRecord, Exception], Awaitable[None]]


class BatchApplier(Generic[T]):
    """Decode, apply and dead-letter one batch of ``kind`` records (see the module doc).

    ``apply`` takes decoded values and, when ``counts_first_deliveries``, returns how many it
    applied (redeliveries skipped: the rest count as duplicates); records without an id of
    their own (impressions) are applied again harmlessly and never count as duplicates.
    ``dead_letter`` publishes a record to the DLQ.
    """

    def __init__(
        self,
        kind: Kind,
        *,
        decode: Callable[[bytes], T],
        apply: Callable[[Sequence[T]], Awaitable[int]],
        dead_letter: DeadLetter,
        retrying: Retrying,
        metrics: StreamMetrics,
        counts_first_deliveries: bool = True,
    ) -> None:
        self.kind = kind
        self._counts_first_deliveries = counts_first_deliveries
        self._decode = decode
        self._apply = apply
        self._dead_letter = dead_letter
        self._retrying = retrying
        self._metrics = metrics

    async def __call__(self, records: Sequence[StreamRecord]) -> BatchOutcome:
        """Apply ``records``; raises only :class:`Abandoned` (and what is not an ``Exception``)."""
        started = time.perf_counter()
        decoded, poison = decode_each(records, lambda record: self._decode(record.value))
        applied, valid = await self._apply_all(decoded, poison)
        for record, error in sorted(poison, key=lambda found: found[0].offset):
            log.warning(
                "poison record, dead-lettering",
                kind=self.kind.value,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error_class=type(error).__name__,
                error=str(error),
            )
            await self._dead_letter_retrying(record, error)
        if not self._counts_first_deliveries:
            applied = valid
        outcome = BatchOutcome(applied, valid - applied, len(poison))
        self._metrics.count(self.kind, outcome)
        self._metrics.batch_duration.labels(self.kind.value).observe(time.perf_counter() - started)
        return outcome

    async def _apply_all(
        self,
        decoded: Sequence[tuple[StreamRecord, T]],
        poison: list[tuple[StreamRecord, Exception]],
    ) -> tuple[int, int]:
        """Apply the decoded values, adding the ones at fault to ``poison``; (applied, valid)."""
        if not decoded:
            return 0, 0
        if len(decoded) > 1:
            try:
                return await self._apply_retrying([value for _, value in decoded]), len(decoded)
            except Abandoned:
                raise
            except Exception as exc:
                log.info(
                    "batch failed, applying its records one by one",
                    kind=self.kind.value,
                    records=len(decoded),
                    error_class=type(exc).__name__,
                )
        done, refused = await one_by_one(
            decoded, lambda found: self._apply_retrying([found[1]]), passes=(Abandoned,)
        )
        poison += [(record, error) for (record, _), error in refused]
        return sum(applied for _, applied in done), len(done)

    async def _apply_retrying(self, values: Sequence[T]) -> int:
        async def attempt() -> int:
            return await self._apply(values)

        return await self._retrying(self.kind, "apply", attempt, records=len(values))

    async def _dead_letter_retrying(self, record: StreamRecord, error: Exception) -> None:
        async def attempt() -> None:
            # The DLQ must have it before the record is acknowledged: wait for the broker.
            await self._dead_letter(record, error)

        await self._retrying(self.kind, "dead-letter", attempt, records=1)
