"""Counting a topic's records as they arrive: when a benchmark's last record got there."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Final

from aiokafka import AIOKafkaConsumer, TopicPartition

from canopy_common.kafka_security import client_security
from canopy_common.lifecycle import StartStop
from canopy_common.settings import KafkaSettings

TALLY_POLL_S: Final = 0.01  # how often the end offsets are asked for: the figures' resolution


class TopicTally(StartStop):
    """Counts a topic's records as they arrive, and notes when each count was reached.

    Asks the broker for the partitions' end offsets (the high watermark: what consumers can
    read) every :data:`TALLY_POLL_S`; no record crosses the wire, so the tally takes next to no
    CPU from the system it watches. An offset is a record here because nothing written to the
    benchmarks' topics is transactional (a commit marker would take an offset of its own) and
    nothing is deleted from them while they are watched.
    """

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.count = 0
        self._counts: list[tuple[int, float]] = []  # (count, perf_counter) after each change
        self._partitions = [TopicPartition(topic, p) for p in range(kafka.partitions)]
        self._client = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers,
            client_id=f"{kafka.client_id}-bench-tally",
            enable_auto_commit=False,
            **client_security(kafka),
        )
        self._first_offset = 0
        self._task: asyncio.Task[None] | None = None

    def reached_at(self, total: int) -> float | None:
        """When the count first reached ``total``; ``None`` if it has not."""
        if self._task is not None and self._task.done():
            self._task.result()  # the tally failed: say why, rather than wait for nothing
        return next((at for count, at in self._counts if count >= total), None)

    async def start(self) -> None:
        """Connect, note where the topic begins, and start counting."""
        await self._client.start()
        starts = await self._client.beginning_offsets(self._partitions)
        self._first_offset = sum(starts.values())
        self._task = asyncio.create_task(self._tally(), name="bench-tally")

    async def stop(self) -> None:
        """Stop counting and disconnect."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.stop()

    async def _tally(self) -> None:
        while True:
            ends = await self._client.end_offsets(self._partitions)
            count = sum(ends.values()) - self._first_offset
            if count != self.count:
                self.count = count
                self._counts.append((count, time.perf_counter()))
            await asyncio.sleep(TALLY_POLL_S)
