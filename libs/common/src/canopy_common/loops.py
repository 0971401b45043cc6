"""Long-running loops in a service process: the Kafka consumer, the outbox relay, schedulers.

:class:`BackgroundLoop` owns the lifecycle they share — ``start`` runs :meth:`run` in a task,
``stop`` asks it to finish and waits, ``async with`` does both, and :meth:`_sleep` waits
for a timeout or a wake-up (stop, or whatever else sets ``_wake``).
"""

from __future__ import annotations

import asyncio
import random

from canopy_common.lifecycle import StartStop
from canopy_common.settings import KafkaSettings


def backoff_s(settings: KafkaSettings, attempt: int) -> float:
    """Exponential backoff (``retry_backoff_*`` settings) with jitter, so many clients do not
    retry in step; ``attempt`` counts from 1."""
    ceiling_ms = min(
        settings.retry_backoff_max_ms,
        settings.retry_backoff_initial_ms * (1 << min(attempt - 1, 30)),
    )
    return ceiling_ms / 1000 * random.uniform(0.5, 1.0)


class BackgroundLoop(StartStop):
    """Runs :meth:`run` in a background task until :meth:`stop`."""

    task_name = "background-loop"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()  # interrupts _sleep: set by stop() and by subclasses

    async def run(self) -> None:
        """The loop; return when ``_stopping`` is set."""
        raise NotImplementedError

    async def start(self) -> None:
        """Start :meth:`run` in a task; returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=self.task_name)
            self._task.add_done_callback(_retrieve_exception)

    async def stop(self) -> None:
        """Ask the loop to finish what it is doing and wait until it has; safe to call twice."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await asyncio.wait([self._task])

    @property
    def running(self) -> bool:
        """Started, not stopping, and the task has not ended."""
        return self._task is not None and not self._task.done() and not self._stopping.is_set()

    async def _sleep(self, seconds: float, *, wake_on: asyncio.Event | None = None) -> None:
        """Sleep up to ``seconds``, waking early when ``wake_on`` (default ``_wake``) is set."""
        try:
            async with asyncio.timeout(seconds):
                await (wake_on or self._wake).wait()
        except TimeoutError:
            pass


def _retrieve_exception(task: asyncio.Task[None]) -> None:
    # run() logs its own crash; reading it here keeps asyncio from warning a second time.
    if not task.cancelled():
        task.exception()
