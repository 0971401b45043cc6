"""Applying activities and impressions to the analytics rollups (docs/architecture.md §7).

Each batch is one Postgres transaction; activities are applied once per id
(``consumed_activities``), so every exact count stays exact under redelivery. The Redis
HyperLogLogs are updated after the commit (:class:`~canopy_common.after_commit.AfterCommit`;
adding to one is idempotent), and rebuilt from ``daily_actors`` whenever Redis lost them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import asyncpg

from canopy_analytics.adapters import projections, rollups, search_settings, vectors
from canopy_analytics.adapters.active import ActiveSets
from canopy_analytics.adapters.rollups import Viewed
from canopy_analytics.domain.facts import TEXT_ACTIONS, Action, fact_of
from canopy_common.after_commit import committing
from canopy_common.db import Connection
from canopy_common.events import StrictActivity
from canopy_common.impressions import Impressions
from canopy_common.inbox import apply_once
from canopy_common.members import Members, person_changed

# (tenant, day) → (active people, engaged people)
_People = dict[tuple[str, date], tuple[set[str], set[str]]]


async def apply_activities(
    activities: Sequence[StrictActivity],
    *,
    pool: asyncpg.Pool,
    active: ActiveSets,
    members: Members,
) -> int:
    """Apply a batch of canonical activities; the number applied (redeliveries skipped).
    Once committed, ``members`` forgets the people whose profile or standing changed."""
    facts = {activity.id: fact_of(activity) for activity in activities}

    async def effect(conn: Connection, activity: StrictActivity) -> None:
        await projections.project(conn, activity)
        await rollups.apply_fact(conn, facts[activity.id])

    # Every activity of the batch, applied now or before: a retry after Redis failed past the
    # commit finds them all consumed, and must still count their people.
    people: _People = defaultdict(lambda: (set(), set()))
    for fact in facts.values():
        if fact.actor is not None:
            seen, engaged = people[(fact.tenant, fact.day)]
            seen.add(fact.actor)
            if fact.created or fact.contributed:
                engaged.add(fact.actor)
    # Posts are indexed with their tenant's search configuration: no change of it between
    # reading it and committing (adapters/search_settings.py).
    indexing = {f.tenant for f in facts.values() if f.action in TEXT_ACTIONS}
    async with committing(pool) as (conn, after):
        await search_settings.hold_language(conn, indexing)
        applied = await apply_once(conn, activities, effect)
        after.defer(lambda _: _count_people(active, people))
        changed = {p for a in activities if (p := person_changed(a)) is not None}
        if changed:
            after.defer(lambda _: _forget(members, changed))
        if applied and (
            indexing or changed or any(f.action is Action.DELETE for f in facts.values())
        ):
            await vectors.wake_embedding(conn)  # a text, a post's openness or an author changed
    return len(applied)


async def _forget(members: Members, people: set[tuple[str, str]]) -> None:
    members.forget(people)


async def apply_impressions(
    batches: Sequence[Impressions], *, pool: asyncpg.Pool, active: ActiveSets
) -> int:
    """Apply a batch of impression records; the number of impressions applied (applying the
    same record twice changes nothing: viewers and active people are sets)."""
    seen = [
        Viewed(batch.tenant, batch.viewer, item.object, item.viewed_at)
        for batch in batches
        for item in batch.items
    ]
    people: _People = defaultdict(lambda: (set(), set()))
    for viewed in seen:
        people[(viewed.tenant, viewed.day)][0].add(viewed.viewer)
    async with committing(pool) as (conn, after):
        await rollups.apply_impressions(conn, seen)
        after.defer(lambda _: _count_people(active, people))
    return len(seen)


async def _count_people(active: ActiveSets, people: _People) -> None:
    for (tenant, day), (seen, engaged) in people.items():
        await active.add(tenant, day, active=seen, engaged=engaged)
