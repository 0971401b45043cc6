"""The analytics stream: a faust-streaming app inside the service process (docs/architecture.md §7).

Two agents, one per input topic, take records in batches and hand each batch to a
:class:`~canopy_analytics.batches.BatchApplier` (decode, apply, dead-letter poison, retry
outages). At least once (docs/architecture.md §9):

- The agents take batches with ``Stream.noack_take``, not ``Stream.take``: ``take`` acks a
  batch's events in a ``finally`` when the loop body gives control back, so a batch whose
  processing raised or was cancelled would be acked, and its offsets committed, all the same
  (faust-streaming issues #189, #513). Here a batch's events are acked with ``Stream.ack`` only
  after the applier has returned, in offset order per partition (one actor per agent).
- faust commits acked offsets: the highest run of consecutive acked offsets per partition,
  every ``stream_commit_interval_s``, and when it stops. Acks never skip ahead, so the run never
  passes an unapplied record (faust commits past a single unacked offset when later ones are
  acked out of order, issue #606; in-order acks keep clear of it).
- Stopping is ours, not faust's (``stream_wait_empty`` off, which would wait for every
  buffered event forever if an outage lasts): :meth:`AnalyticsStream.stop` lets the batch in
  flight finish (for up to ``stream_stop_grace_s``, then gives up on it unacked), makes the
  agents take no further batch, then stops the app, which commits what was acked and leaves
  the group. A crash of the app (or a bug in a batch) stops it the same way and starts a new
  one after a backoff: it resumes from the committed offsets.

How faust is embedded and configured: :mod:`canopy_analytics.faust_app`. The input topics are
created as every Canopy service creates its topics, before each start.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import asyncpg
import faust
import structlog
from redis.asyncio import Redis

from canopy_analytics import handlers
from canopy_analytics.adapters.active import ActiveSets
from canopy_analytics.batches import Abandoned, BatchApplier, Retrying, StreamRecord
from canopy_analytics.faust_app import faust_app
from canopy_analytics.settings import Settings
from canopy_analytics.stream_metrics import Kind, stream_metrics
from canopy_common.consuming import DeadLetters
from canopy_common.events import StrictActivity
from canopy_common.impressions import Impressions, decode_impressions
from canopy_common.kafka import Producer, ensure_topics
from canopy_common.loops import BackgroundLoop
from canopy_common.members import Members
from canopy_common.vocabulary.canonical import decode_canonical

log = structlog.get_logger(__name__)

# How often the stream looks whether its app crashed (a stop is noticed at once).
WATCH_INTERVAL_S = 1.0
# After the grace period, retries give up at once: this bounds the wait for that to happen.
ABANDON_WAIT_S = 5.0
# How long a stopping app may take to let app.start() return, before it is cancelled.
START_CANCEL_WAIT_S = 5.0
# How often a stopping stream looks whether its group has settled, and how long it waits for
# that at least (a start under way ends once the group is joined: a few seconds).
SETTLE_POLL_S = 0.1
SETTLE_MIN_S = 5.0


class AnalyticsStream(BackgroundLoop):
    """The stream as a :class:`~canopy_common.service.BackgroundWorker` of the service.

    ``ready`` once the app has joined its group; :meth:`applied_offset` tells how far each
    partition has been applied (for tests).
    """

    task_name = "analytics-stream"

    def __init__(
        self,
        settings: Settings,
        *,
        pool: asyncpg.Pool,
        redis: Redis,
        producer: Producer,
        members: Members,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._dead_letters = DeadLetters(
            producer, topic=settings.kafka.topic_dlq, group=settings.consumer_group
        )
        self._metrics = stream_metrics()
        self._app: faust.App | None = None
        self._assigned = False
        self._counted = False  # counted in the running gauge
        # Set from the start of a shutdown (or a crash) until the next start: take no batch.
        self._quiescing = False
        self._abort = asyncio.Event()  # the grace is over: retries give up
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._applied: dict[tuple[str, int], int] = {}
        self._retrying = Retrying(
            initial_s=settings.stream_retry_backoff_initial_s,
            max_s=settings.stream_retry_backoff_max_s,
            abort=self._abort,
            metrics=self._metrics,
        )
        active = ActiveSets(redis, pool)

        # Looked up on every call, so tests can wrap the handlers.
        async def apply_activities(values: Sequence[StrictActivity]) -> int:
            return await handlers.apply_activities(
                values, pool=pool, active=active, members=members
            )

        async def apply_impressions(values: Sequence[Impressions]) -> int:
            return await handlers.apply_impressions(values, pool=pool, active=active)

        self._appliers: dict[Kind, BatchApplier[Any]] = {
            Kind.ACTIVITIES: BatchApplier(
                Kind.ACTIVITIES,
                decode=decode_canonical,
                apply=apply_activities,
                dead_letter=self._dead_letters,
                retrying=self._retrying,
                metrics=self._metrics,
            ),
            Kind.IMPRESSIONS: BatchApplier(
                Kind.IMPRESSIONS,
                decode=decode_impressions,
                apply=apply_impressions,
                dead_letter=self._dead_letters,
                retrying=self._retrying,
                metrics=self._metrics,
                counts_first_deliveries=False,  # it returns impressions, not records
            ),
        }

    @property
    def ready(self) -> bool:
        """Running, with its app started and a member of its consumer group."""
        app = self._app
        return (
            self.running
            and app is not None
            and self._assigned
            and not self._quiescing
            and not app.should_stop
        )

    @property
    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member holds now."""
        app = self._app
        if app is None or not self._assigned:
            return set()
        try:
            return {(tp.topic, tp.partition) for tp in app.consumer.assignment()}
        except Exception:  # the consumer is starting or closing
            return set()

    def applied_offset(self, topic: str, partition: int) -> int:
        """The offset after the last record of ``topic:partition`` this process applied (0:
        none yet)."""
        return self._applied.get((topic, partition), 0)

    # -- lifecycle --------------------------------------------------------------------------

    async def run(self) -> None:
        """Run an app until :meth:`stop`; start a new one after a crash (with backoff)."""
        failures = 0
        while not self._stopping.is_set():
            try:
                started = await self._run_app()
            except Exception as exc:
                started = False
                log.error("analytics stream failed", error_class=type(exc).__name__, error=str(exc))
            if self._stopping.is_set():
                break
            failures = 1 if started else failures + 1
            delay = self._retrying.backoff_s(failures)
            log.warning("analytics stream stopped unexpectedly; restarting", retry_in_s=delay)
            self._wake.clear()  # set by a crashing batch; stop() sets _stopping first
            await self._sleep(delay)

    async def _run_app(self) -> bool:
        """Start an app and serve until stop or a crash, then shut it down; whether it started."""
        kafka = self._settings.kafka
        await ensure_topics(
            kafka, [kafka.topic_activities, kafka.topic_impressions, kafka.topic_dlq]
        )
        datadir = tempfile.mkdtemp(prefix="canopy-analytics-faust-")
        app = self._app = self._build(datadir)
        starting = asyncio.create_task(app.start(), name="analytics-stream-start")
        woken = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait([starting, woken], return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            if self._stopping.is_set():
                return False
            starting.result()  # a failed start raises here
            log.info("analytics stream started", group=self._settings.consumer_group)
            while not self._stopping.is_set() and not app.should_stop:
                await self._sleep(WATCH_INTERVAL_S)
            if not self._stopping.is_set():
                log.error("analytics stream crashed", reason=repr(app.crash_reason))
            return True
        finally:
            await self._shut_down(app, starting)
            shutil.rmtree(datadir, ignore_errors=True)

    def _build(self, datadir: str) -> faust.App:
        kafka = self._settings.kafka
        app = faust_app(self._settings, datadir=datadir)
        for kind, name in (
            (Kind.ACTIVITIES, kafka.topic_activities),
            (Kind.IMPRESSIONS, kafka.topic_impressions),
        ):
            topic = app.topic(name, key_serializer="raw", value_serializer="raw")
            app.agent(topic, name=kind.value, concurrency=1)(self._agent(kind))
        app.on_partitions_assigned.connect(self._on_assigned)
        app.on_partitions_revoked.connect(self._on_revoked)
        self._quiescing = False
        self._abort.clear()
        return app

    async def _shut_down(self, app: faust.App, starting: asyncio.Task[None]) -> None:
        """Let the batch in flight finish, take no other, stop the app (it commits and leaves)."""
        self._quiescing = True
        self._assigned = False
        if self._counted:  # the gauge counts the process's running streams (tests run several)
            self._metrics.running.dec()
            self._counted = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.stream_stop_grace_s
        if not await self._wait_idle(deadline - loop.time()):
            log.warning("batch still in flight after the grace period; leaving it unacknowledged")
            self._abort.set()
            await self._wait_idle(ABANDON_WAIT_S)
        await self._wait_group_settled(app, starting, max(deadline - loop.time(), SETTLE_MIN_S))
        await app.stop()
        if not starting.done():
            await asyncio.wait([starting], timeout=START_CANCEL_WAIT_S)
            starting.cancel()
        with contextlib.suppress(BaseException):
            await starting
        app.on_partitions_assigned.disconnect(self._on_assigned)
        app.on_partitions_revoked.disconnect(self._on_revoked)
        for topic, partition in list(self._applied):
            self._metrics.lag.forget(topic, partition)
        self._app = None

    async def _wait_group_settled(
        self, app: faust.App, starting: asyncio.Task[None], timeout_s: float
    ) -> None:
        """Wait until the app is done joining its group (started, no rebalance under way).

        faust stops its consumer thread by blocking this loop until the thread ends, and the
        thread's rebalance callbacks wait for this loop: stopping mid-rebalance can deadlock,
        and stopping mid-start leaves the thread's connections open.
        """
        try:
            async with asyncio.timeout(timeout_s):
                if not starting.done():
                    await asyncio.wait([starting])
                # faust has a flag for it, no event.
                while app.rebalancing and not app.should_stop:  # noqa: ASYNC110
                    await asyncio.sleep(SETTLE_POLL_S)
        except TimeoutError:
            log.warning("stopping the stream before its group has settled")

    async def _wait_idle(self, timeout_s: float) -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    # faust signal receivers: (the app, the set of TopicPartitions, signal=...).
    async def _on_assigned(self, sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned: Iterable[Any] = args[0]
        self._assigned = True
        if not self._counted:
            self._metrics.running.inc()
            self._counted = True
        log.info(
            "partitions assigned",
            group=self._settings.consumer_group,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
        )

    async def _on_revoked(self, sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        revoked: Iterable[Any] = args[0]
        for tp in revoked:
            self._metrics.lag.forget(tp.topic, tp.partition)

    # -- the agents -------------------------------------------------------------------------

    def _agent(self, kind: Kind) -> Callable[[Any], Awaitable[None]]:
        size = self._settings.stream_batch_size
        within = self._settings.stream_batch_wait_s

        async def consume(stream: Any) -> None:
            async for events in stream.noack_take(size, within=within):
                await self._handle(kind, stream, events)

        consume.__qualname__ = consume.__name__ = f"consume_{kind.value}"
        return consume

    async def _handle(self, kind: Kind, stream: Any, events: Sequence[Any]) -> None:
        """Apply one batch, then ack its events; on stop or failure, leave them unacked."""
        if self._quiescing:
            await _park()
        self._in_flight += 1
        self._idle.clear()
        try:
            applied = await self._apply(kind, events)
            if applied:
                for event in events:
                    await stream.ack(event)
                self._note_applied(events)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        if not applied:
            await _park()

    async def _apply(self, kind: Kind, events: Sequence[Any]) -> bool:
        """Apply a batch; False when it must stay unacked (given up on stop, or a bug)."""
        try:
            await self._appliers[kind]([_record(event.message) for event in events])
        except Abandoned as exc:
            log.warning("batch abandoned on stop; it will be redelivered", error=str(exc))
            return False
        except Exception as exc:
            # A bug, not the records (the applier dead-letters those): acking would skip the
            # batch, and acking later ones would commit past it. Start over from the commit.
            log.exception("stream batch failed; restarting the stream", kind=kind.value)
            self._quiescing = True
            self._wake.set()
            if self._app is not None:
                await self._app.crash(exc)
            return False
        return True

    def _note_applied(self, events: Sequence[Any]) -> None:
        last: dict[Any, int] = {}
        for event in events:
            message = event.message
            last[message.tp] = max(last.get(message.tp, -1), message.offset)
        app = self._app
        for tp, offset in last.items():
            key = (tp.topic, tp.partition)
            self._applied[key] = max(self._applied.get(key, 0), offset + 1)
            highwater = None
            if app is not None:
                with contextlib.suppress(Exception):  # the consumer is closing
                    highwater = app.consumer.highwater(tp)
            if highwater is not None:
                lag = max(0, highwater - offset - 1)
                self._metrics.lag.set(tp.topic, tp.partition, lag)


async def _park() -> None:
    """Wait until the app stops the agent (it cancels it)."""
    await asyncio.Event().wait()


def _record(message: Any) -> StreamRecord:
    headers = message.headers or ()
    pairs = headers.items() if isinstance(headers, dict) else headers
    return StreamRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value if message.value is not None else b"",
        headers=[(name, value) for name, value in pairs],
    )
