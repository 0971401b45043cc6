"""Which offsets an aiokafka consumer is done with, and committing them (manual commit only).

A record's offset is marked done only after its handler succeeded or it was dead-lettered;
:meth:`Offsets.commit` then commits what changed since the last commit, for the partitions the
member still holds (after a batch, when partitions are revoked, and on stop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import structlog
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

log = structlog.get_logger(__name__)


class Offsets:
    """The next offset to commit per partition, and the last one committed."""

    def __init__(self) -> None:
        self._done: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self.failures = 0  # commits that failed in a row (a refusal after a rebalance is none)
        # A commit that outlived its wait: left to finish (aiokafka shields the request, so
        # cancelling it only orphans it), and no other is started while it runs.
        self._pending: asyncio.Task[None] | None = None

    def mark_done(self, tp: TopicPartition, next_offset: int) -> None:
        """Every record of ``tp`` before ``next_offset`` is done with."""
        self._done[tp] = next_offset

    def partitions(self) -> list[TopicPartition]:
        """The partitions with done records (held now, or until they are forgotten)."""
        return list(self._done)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Drop revoked partitions: their next owner starts from what was committed."""
        for tp in partitions:
            self._done.pop(tp, None)
            self._committed.pop(tp, None)

    def clear(self) -> None:
        """Drop everything (the consumer closed)."""
        self._done.clear()
        self._committed.clear()

    def uncommitted(self, client: Any) -> dict[TopicPartition, int]:
        """The done offsets of the assigned partitions that changed since the last commit."""
        assignment = client.assignment()
        return {
            tp: offset
            for tp, offset in self._done.items()
            if tp in assignment and self._committed.get(tp) != offset
        }

    async def commit(self, client: Any, *, timeout_s: float) -> None:
        """Commit :meth:`uncommitted`, waiting at most ``timeout_s`` (aiokafka waits for a
        coordinator for ever, and the broker may be gone).

        A refused commit (a rebalance took the partitions) or a failed one is logged, not
        raised: the records are redelivered, or committed by a later try (the consumer tries
        again while :attr:`failures` is not 0).
        """
        offsets = self.uncommitted(client)
        if not offsets:
            return
        if self._pending is not None and not self._pending.done():
            self.failures += 1
            log.error("commit still waiting; will try again", failures_in_a_row=self.failures)
            return
        commit = asyncio.ensure_future(client.commit(offsets))
        try:
            await asyncio.wait_for(asyncio.shield(commit), timeout_s)
        except TimeoutError as exc:
            self._pending = commit
            commit.add_done_callback(_outcome_of_late_commit)
            self.failures += 1
            log.error(
                "commit failed; will try again", error=repr(exc), failures_in_a_row=self.failures
            )
        except CommitFailedError as exc:
            self.failures = 0
            log.warning(
                "commit refused after a rebalance; records will be redelivered", error=str(exc)
            )
        except KafkaError as exc:
            self.failures += 1
            log.error(
                "commit failed; will try again", error=repr(exc), failures_in_a_row=self.failures
            )
        else:
            self.failures = 0
            self._committed.update(offsets)


def _outcome_of_late_commit(commit: asyncio.Task[None]) -> None:
    # Heard here, so a late failure is logged rather than left "never retrieved"; the offsets
    # are committed again by the next try either way.
    if not commit.cancelled() and (exc := commit.exception()) is not None:
        log.warning("a late commit failed", error=repr(exc))
