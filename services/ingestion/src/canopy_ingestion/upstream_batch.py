"""A fetched batch of upstream records, applied in one transaction.

1. Decode every record (strict AS2); one that does not decode is refused, the rest go on.
2. In one transaction: record every id in ``consumed_activities`` in one statement (an id
   seen before — in an earlier batch or earlier in this one — is a no-op), preload what the
   events read (:class:`~canopy_ingestion.upstream_work.UpstreamWork`), apply the events in
   record order, and write the upstream objects and the outbox rows with one statement each.
3. Return the refused records; the consumer dead-letters them after this commit and commits
   the offsets after that.

An event refused before it changed anything (tasks, events and documents check everything
first) is skipped, and its id is taken out of ``consumed_activities`` again, as if it had never
been seen. An event refused after its handler wrote through the connection (people,
memberships, posts) cannot be undone alone: the transaction is rolled back and the batch is
applied again without it. Transient failures (Postgres down) and database errors of the
batch's own statements propagate: the consumer then goes back to record by record.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import structlog

from canopy_common.consuming import BatchHandler, ConsumedRecord, Rejected
from canopy_common.db import Connection
from canopy_common.events import StrictActivity, decode_activity
from canopy_common.members import Members, person_changed
from canopy_common.row_security import span_all_tenants
from canopy_common.tracing import TRACEPARENT_HEADER, continue_trace, use_traceparent
from canopy_common.transient import is_transient
from canopy_ingestion.upstream import apply_upstream, wants_of
from canopy_ingestion.upstream_metrics import upstream_sources
from canopy_ingestion.upstream_work import UpstreamWork

log = structlog.get_logger(__name__)

Event = tuple[ConsumedRecord, StrictActivity]

_RECORD_IDS = """
INSERT INTO consumed_activities (tenant_id, activity_id)
SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING
RETURNING tenant_id, activity_id
"""
_FORGET_IDS = """
DELETE FROM consumed_activities c
USING unnest($1::text[], $2::text[]) AS refused (tenant_id, activity_id)
WHERE c.tenant_id = refused.tenant_id AND c.activity_id = refused.activity_id
"""


class _Redo(Exception):
    """An event failed after writing through the connection: apply the batch without it."""

    def __init__(self, refused: Rejected) -> None:
        super().__init__(str(refused.error))
        self.refused = refused


def upstream_batch_handler(pool: asyncpg.Pool, members: Members) -> BatchHandler:
    """The consumer's batch handler for the upstream topic (see the module docstring); once
    a batch has committed, the standing of the people it provisioned, changed or erased is
    forgotten (docs/architecture.md §8)."""

    async def handle(records: Sequence[ConsumedRecord]) -> list[Rejected]:
        return await apply_batch(pool, records, members=members)

    return handle


async def apply_batch(
    pool: asyncpg.Pool, records: Sequence[ConsumedRecord], *, members: Members | None = None
) -> list[Rejected]:
    """Apply ``records`` in one transaction; the records refused as poison. Then ``members``
    forgets the people the batch changed."""
    refused: list[Rejected] = []
    events: list[Event] = []
    for record in records:
        try:
            events.append((record, decode_activity(record.value, profile="strict")))
        except Exception as exc:  # InvalidJSON, InvalidActivity: poison, whatever the rest do
            refused.append(Rejected(record, exc))
    while True:
        try:
            async with pool.acquire() as conn, conn.transaction():
                # One transaction for records of many tenants (docs/architecture.md §15).
                await span_all_tenants(conn)
                refused_late = await _apply(conn, events)
        except _Redo as redo:
            refused.append(redo.refused)
            events = [event for event in events if event[0] is not redo.refused.record]
            log.info("upstream batch applied again without a refused event", events=len(events))
            continue
        late = {id(r.record) for r in refused_late}
        upstream_sources().count(a for record, a in events if id(record) not in late)
        if members is not None:  # committed: who may act changed for these
            members.forget({p for _, a in events if (p := person_changed(a)) is not None})
        return refused + refused_late


async def _apply(conn: Connection, events: Sequence[Event]) -> list[Rejected]:
    """Apply ``events`` in the caller's transaction; the ones refused before any write."""
    if not events:
        return []
    fresh = {
        (row["tenant_id"], row["activity_id"])
        for row in await conn.fetch(
            _RECORD_IDS, [a.tenant for _, a in events], [a.id for _, a in events]
        )
    }
    work = UpstreamWork(conn)
    refused: list[Rejected] = []
    applied: set[tuple[str, str]] = set()
    forget: set[tuple[str, str]] = set()
    with work.collecting():
        await work.preload(wants_of(a for _, a in events if (a.tenant, a.id) in fresh))
        for record, incoming in events:
            key = (incoming.tenant, incoming.id)
            if key not in fresh or key in applied:
                continue  # a redelivery: applied before, in an earlier batch or this one
            work.went_direct = False
            traceparent = continue_trace(record.headers.get(TRACEPARENT_HEADER))
            try:
                with use_traceparent(traceparent):
                    await apply_upstream(work, incoming)
            except Exception as exc:
                if is_transient(exc) or (
                    isinstance(exc, asyncpg.PostgresError) and not work.went_direct
                ):
                    raise
                if work.went_direct:
                    raise _Redo(Rejected(record, exc)) from exc
                refused.append(Rejected(record, exc))
                forget.add(key)
                continue
            applied.add(key)
        await work.flush()
    forget -= applied  # a later copy of a refused event was applied: it stays recorded
    if forget:
        await conn.execute(_FORGET_IDS, [t for t, _ in forget], [i for _, i in forget])
    return refused
