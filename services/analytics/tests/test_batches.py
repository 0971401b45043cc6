"""Applying one batch of stream records: poison, duplicates, outages, giving up (no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import redis.exceptions

from canopy_analytics.batches import Abandoned, BatchApplier, Retrying, StreamRecord
from canopy_analytics.stream_metrics import BatchOutcome, Kind, stream_metrics


def record(offset: int, value: bytes) -> StreamRecord:
    return StreamRecord("t", 0, offset, b"k", value, [("traceparent", b"00-x")])


def decode(raw: bytes) -> str:
    if raw.startswith(b"!"):
        raise ValueError(f"cannot decode {raw!r}")
    return raw.decode()


class Sink:
    """What the applier did: values applied, calls made, dead letters sent."""

    def __init__(self, *, seen: Sequence[str] = (), refuse: Sequence[str] = ()) -> None:
        self.applied: list[str] = []
        self.calls: list[list[str]] = []
        self.seen = set(seen)  # applied before: a redelivery
        self.refuse = set(refuse)
        self.outages = 0  # calls that fail as if Redis were down
        self.dead: list[tuple[int, str]] = []
        self.dlq_outages = 0

    async def apply(self, values: Sequence[str]) -> int:
        self.calls.append(list(values))
        if self.outages:
            self.outages -= 1
            raise redis.exceptions.ConnectionError("Redis is down")
        if refused := self.refuse.intersection(values):
            raise ValueError(f"refused {sorted(refused)}")
        fresh = [v for v in values if v not in self.seen]
        self.applied += fresh
        self.seen.update(fresh)
        return len(fresh)

    async def dead_letter(self, record: StreamRecord, exc: Exception) -> None:
        if self.dlq_outages:
            self.dlq_outages -= 1
            raise ConnectionError("broker away")
        self.dead.append((record.offset, type(exc).__name__))


def applier(sink: Sink, abort: asyncio.Event | None = None) -> BatchApplier[str]:
    metrics = stream_metrics()
    retrying = Retrying(
        initial_s=0.001, max_s=0.005, abort=abort or asyncio.Event(), metrics=metrics
    )
    return BatchApplier(
        Kind.ACTIVITIES,
        decode=decode,
        apply=sink.apply,
        dead_letter=sink.dead_letter,
        retrying=retrying,
        metrics=metrics,
    )


async def test_a_clean_batch_is_applied_in_one_call() -> None:
    sink = Sink()

    outcome = await applier(sink)([record(0, b"a"), record(1, b"b"), record(2, b"c")])

    assert outcome == BatchOutcome(applied=3, duplicates=0, dead_lettered=0)
    assert sink.calls == [["a", "b", "c"]]


async def test_redeliveries_count_as_duplicates() -> None:
    sink = Sink(seen=["a"])

    outcome = await applier(sink)([record(0, b"a"), record(1, b"b")])

    assert outcome == BatchOutcome(applied=1, duplicates=1, dead_lettered=0)


async def test_undecodable_records_are_dead_lettered_and_the_rest_applied() -> None:
    sink = Sink()

    outcome = await applier(sink)([record(0, b"!x"), record(1, b"a"), record(2, b"!y")])

    assert outcome == BatchOutcome(applied=1, duplicates=0, dead_lettered=2)
    assert sink.applied == ["a"]
    assert sink.dead == [(0, "ValueError"), (2, "ValueError")]


async def test_a_record_the_apply_refuses_is_found_one_by_one_and_dead_lettered_alone() -> None:
    sink = Sink(refuse=["b"])

    outcome = await applier(sink)([record(0, b"a"), record(1, b"b"), record(2, b"c")])

    assert outcome == BatchOutcome(applied=2, duplicates=0, dead_lettered=1)
    assert sink.calls == [["a", "b", "c"], ["a"], ["b"], ["c"]]
    assert sink.applied == ["a", "c"]
    assert sink.dead == [(1, "ValueError")]


async def test_an_outage_is_retried_until_the_batch_applies_and_nothing_is_dead_lettered() -> None:
    sink = Sink()
    sink.outages = 3

    outcome = await applier(sink)([record(0, b"a"), record(1, b"b")])

    assert outcome == BatchOutcome(applied=2, duplicates=0, dead_lettered=0)
    assert sink.calls == [["a", "b"]] * 4  # the whole batch again, never one by one
    assert sink.dead == []


async def test_a_dlq_outage_is_waited_out() -> None:
    sink = Sink()
    sink.dlq_outages = 2

    outcome = await applier(sink)([record(0, b"!x")])

    assert outcome.dead_lettered == 1
    assert sink.dead == [(0, "ValueError")]


async def test_once_aborted_an_outage_abandons_the_batch() -> None:
    sink, abort = Sink(), asyncio.Event()
    sink.outages = 1_000
    apply = asyncio.create_task(applier(sink, abort)([record(0, b"a")]))
    await asyncio.sleep(0.05)
    assert not apply.done()  # still retrying

    abort.set()

    with pytest.raises(Abandoned):
        await asyncio.wait_for(apply, 1)
    assert sink.applied == []
    assert sink.dead == []


def test_backoff_doubles_up_to_its_ceiling_with_jitter() -> None:
    retrying = Retrying(initial_s=0.2, max_s=1.0, abort=asyncio.Event(), metrics=stream_metrics())

    waits = [retrying.backoff_s(n) for n in (1, 2, 3, 10, 100)]

    assert 0.1 <= waits[0] <= 0.2
    assert 0.2 <= waits[1] <= 0.4
    assert 0.4 <= waits[2] <= 0.8
    assert all(0.5 <= w <= 1.0 for w in waits[3:])
