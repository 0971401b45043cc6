"""The consumer steps alone (no network): decode each, one by one, retry transient, after commit."""

from __future__ import annotations

import pytest

from canopy_common.after_commit import AfterCommit
from canopy_common.consuming import GaveUp, decode_each, one_by_one, retry_transient
from canopy_common.transient import TransientError


def decode(raw: bytes) -> str:
    if raw.startswith(b"!"):
        raise ValueError("bad")
    return raw.decode()


def test_decode_each_keeps_the_good_records_and_names_the_poison_ones() -> None:
    decoded, poison = decode_each([b"a", b"!x", b"b"], decode)

    assert decoded == [(b"a", "a"), (b"b", "b")]
    assert [(raw, type(error)) for raw, error in poison] == [(b"!x", ValueError)]


async def test_one_by_one_isolates_the_item_at_fault() -> None:
    async def apply(item: str) -> int:
        if item == "b":
            raise ValueError("refused")
        return 1

    done, poison = await one_by_one(["a", "b", "c"], apply)

    assert done == [("a", 1), ("c", 1)]
    assert [item for item, _ in poison] == ["b"]


async def test_one_by_one_lets_the_errors_that_are_not_the_items_fault_through() -> None:
    class Stopping(Exception):
        pass

    async def apply(item: str) -> int:
        raise Stopping

    with pytest.raises(Stopping):
        await one_by_one(["a"], apply, passes=(Stopping,))


async def test_retry_transient_waits_out_an_outage_and_counts_each_retry() -> None:
    outages, retries, waits = [2], list[int](), list[float]()

    async def attempt() -> str:
        if outages[0]:
            outages[0] -= 1
            raise TransientError("down")
        return "done"

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    result = await retry_transient(
        attempt,
        backoff_s=lambda n: n / 10,
        wait=wait,
        gives_up=lambda n: False,
        on_retry=retries.append,
    )

    assert result == "done"
    assert retries == [1, 2]
    assert waits == [0.1, 0.2]


async def test_retry_transient_raises_poison_at_once() -> None:
    calls = []

    async def attempt() -> None:
        calls.append(1)
        raise ValueError("bad record")

    async def wait(seconds: float) -> None:
        raise AssertionError("poison is never waited for")

    with pytest.raises(ValueError, match="bad record"):
        await retry_transient(attempt, backoff_s=lambda n: 0, wait=wait, gives_up=lambda n: False)
    assert calls == [1]


async def test_retry_transient_gives_up_when_the_caller_says_so() -> None:
    async def attempt() -> None:
        raise TransientError("down")

    async def wait(seconds: float) -> None:
        pass

    with pytest.raises(GaveUp) as gave_up:
        await retry_transient(attempt, backoff_s=lambda n: 0, wait=wait, gives_up=lambda n: n > 3)
    assert gave_up.value.failures == 4
    assert isinstance(gave_up.value.__cause__, TransientError)


async def test_after_commit_runs_deferred_work_in_order_once() -> None:
    ran: list[str] = []
    after = AfterCommit()

    async def work(name: str) -> None:
        ran.append(name)

    after.defer(lambda conn: work("first"))
    after.defer(lambda conn: work("second"))
    await after.run(conn=None)  # type: ignore[arg-type]
    await after.run(conn=None)  # type: ignore[arg-type]

    assert ran == ["first", "second"]


async def test_after_commit_forgets_the_work_of_a_rolled_back_transaction() -> None:
    ran: list[str] = []
    after = AfterCommit()

    async def work() -> None:
        ran.append("work")

    after.defer(lambda conn: work())
    after.discard()
    await after.run(conn=None)  # type: ignore[arg-type]

    assert ran == []
