"""The background-loop lifecycle the consumer and the outbox relay share, and the backoff."""

from __future__ import annotations

import asyncio

from canopy_common.loops import BackgroundLoop, backoff_s
from canopy_common.settings import KafkaSettings


class Ticker(BackgroundLoop):
    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0
        self.finished = False

    async def run(self) -> None:
        while not self._stopping.is_set():
            self.ticks += 1
            await self._sleep(60)  # only stop() ends this wait
        self.finished = True


async def test_a_loop_runs_until_stopped_and_stop_interrupts_its_sleep() -> None:
    ticker = Ticker()

    async with asyncio.timeout(5):
        async with ticker:
            await asyncio.sleep(0.05)
            assert ticker.running
        await ticker.stop()  # a second stop is harmless

    assert ticker.ticks == 1
    assert ticker.finished
    assert not ticker.running


async def test_a_sleep_can_wait_for_another_event_than_wake() -> None:
    ticker = Ticker()
    stop_only = asyncio.Event()
    ticker._wake.set()

    async with asyncio.timeout(5):
        woken = asyncio.create_task(ticker._sleep(60, wake_on=stop_only))
        await asyncio.sleep(0.05)
        assert not woken.done()  # _wake is set, but this sleep waits for stop_only
        stop_only.set()
        await woken


def test_backoff_grows_exponentially_up_to_the_maximum_with_jitter() -> None:
    settings = KafkaSettings(retry_backoff_initial_ms=100, retry_backoff_max_ms=1_000)

    first = [backoff_s(settings, 1) for _ in range(50)]
    fourth = [backoff_s(settings, 4) for _ in range(50)]
    late = [backoff_s(settings, 40) for _ in range(50)]

    assert all(0.05 <= d <= 0.1 for d in first)
    assert all(0.4 <= d <= 0.8 for d in fourth)
    assert all(0.5 <= d <= 1.0 for d in late)
    assert len(set(first)) > 1
