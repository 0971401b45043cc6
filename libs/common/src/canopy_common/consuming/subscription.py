"""A consumer's subscription kept alive: its topics watched, re-subscribed when a deleted topic
comes back, and what ``/readyz`` should know of it (docs/kafka.md, "A topic that goes away").

aiokafka notices a topic created after a subscription only at its next metadata refresh
(``metadata_max_age_ms``, five minutes), and a group whose topic was deleted and created again
may stay assigned nothing until then. :class:`Subscription` looks every
:data:`TOPIC_CHECK_INTERVAL_S`, names the missing topics, and subscribes again as soon as one
is back: the rebalance that follows commits what was done (the revoke listener) and assigns
the new partitions, read from their committed offsets, or from the start of a new topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition

log = structlog.get_logger(__name__)

# How often a consumer checks that its topics exist: a deleted topic shows in /readyz, and a
# recreated one is consumed again, within this many seconds (one metadata request each time).
TOPIC_CHECK_INTERVAL_S = 5.0

# One failed commit is a blip (a coordinator moving, a slow broker); this many in a row mean
# the broker is not taking them, and /readyz says so. Done offsets are kept and tried again.
COMMIT_FAILURES_NOT_READY = 3


class Subscription:
    """Subscribes a client to ``topics`` with the consumer's rebalance callbacks, and keeps
    it subscribed (see the module docstring)."""

    def __init__(
        self,
        topics: Sequence[str],
        on_revoked: Callable[[Iterable[TopicPartition]], Awaitable[None]],
        on_assigned: Callable[[Iterable[TopicPartition]], Awaitable[None]],
        check_timeout_s: float,
        group: str,
    ) -> None:
        self._topics = list(topics)
        self._listener = _Listener(on_revoked, on_assigned)
        self._check_timeout_s = check_timeout_s
        self._group = group
        self._next_check = 0.0
        self.missing: frozenset[str] = frozenset()

    def problems(self, *, commit_failures: int) -> list[str]:
        """Missing topics, and commits failing again and again (``commit_failures`` in a row):
        what ``/readyz`` reports of a consumer that joined its group."""
        found = [f"topic {topic} is missing" for topic in sorted(self.missing)]
        if commit_failures >= COMMIT_FAILURES_NOT_READY:
            found.append(f"{commit_failures} commits failed in a row")
        return found

    def subscribe(self, client: Any) -> None:
        """Subscribe ``client`` (started) to the topics."""
        client.subscribe(self._topics, listener=self._listener)

    async def watch(self, client: Any) -> None:
        """Every :data:`TOPIC_CHECK_INTERVAL_S`: note which topics are missing, and subscribe
        again when one of them is back. A broker that does not answer is left to the broker
        check and the fetch loop."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + TOPIC_CHECK_INTERVAL_S
        try:
            async with asyncio.timeout(self._check_timeout_s):
                existing = set(await client.topics())
        except Exception as exc:
            log.debug("cannot list topics", group=self._group, error=repr(exc))
            return
        missing = frozenset(t for t in self._topics if t not in existing)
        back = self.missing - missing
        if missing - self.missing:
            log.error("subscribed topics are missing", group=self._group, topics=sorted(missing))
        self.missing = missing
        if back:
            log.warning(
                "topics are back, subscribing again", group=self._group, topics=sorted(back)
            )
            client.unsubscribe()
            self.subscribe(client)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self,
        on_revoked: Callable[[Iterable[TopicPartition]], Awaitable[None]],
        on_assigned: Callable[[Iterable[TopicPartition]], Awaitable[None]],
    ) -> None:
        self._on_revoked = on_revoked
        self._on_assigned = on_assigned

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._on_assigned(assigned)
