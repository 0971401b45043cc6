"""Counting a topic's records as they arrive: when a benchmark's last record got there."""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType
from typing import Final, Self

from aiokafka import AIOKafkaConsumer, TopicPartition

from canopy_common.settings import KafkaSettings

TALLY_FETCH_MS: Final = 100


class TopicTally:
    """Counts a topic's records as they arrive, and notes when each count was reached.

    A consumer of every partition, in no group, from the beginning. The brokers' end offsets
    would be cheaper to ask, but Tansu answers the base offset of a partition's last batch
    plus one, not the offset after its last record, so they undercount.
    """

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.count = 0
        self._counts: list[tuple[int, float]] = []  # (count, perf_counter) after each fetch
        self._partitions = [TopicPartition(topic, p) for p in range(kafka.partitions)]
        self._client = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers,
            client_id=f"{kafka.client_id}-bench-tally",
            enable_auto_commit=False,
        )
        self._task: asyncio.Task[None] | None = None

    def reached_at(self, total: int) -> float | None:
        """When the count first reached ``total``; ``None`` if it has not."""
        if self._task is not None and self._task.done():
            self._task.result()  # the tally failed: say why, rather than wait for nothing
        return next((at for count, at in self._counts if count >= total), None)

    async def __aenter__(self) -> Self:
        await self._client.start()
        self._client.assign(self._partitions)
        await self._client.seek_to_beginning(*self._partitions)
        self._task = asyncio.create_task(self._tally(), name="bench-tally")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.stop()

    async def _tally(self) -> None:
        while True:
            batches = await self._client.getmany(timeout_ms=TALLY_FETCH_MS)
            if received := sum(len(records) for records in batches.values()):
                self.count += received
                self._counts.append((self.count, time.perf_counter()))
