"""History is durable and exact: a fixture stream over several days, partly redelivered, gives
the hand-computed figures; after a restart and the loss of the tenant's Redis keys earlier
days read the same, and counting goes on (docs/architecture.md §7, §9)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from analytics_checks import ok
from analytics_harness import Analytics, analytics_settings, running_analytics
from redis.asyncio import Redis

from canopy_common.events import StrictActivity
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

TIMESERIES = "/v1/analytics/timeseries"
SUMMARY = "/v1/analytics/summary"
NOW = datetime.now(UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def own_analytics(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Analytics]:
    """A service of its own, for a test that restarts it."""
    async with running_analytics(analytics_settings(kafka_settings), pg_pool, redis_client) as s:
        yield s


def on(activity: StrictActivity, days_ago: int) -> StrictActivity:
    """``activity`` as if it happened ``days_ago`` days ago (same id)."""
    return activity.model_copy(update={"published": NOW - timedelta(days=days_ago)})


async def series(analytics: Analytics, tenant: str, metric: str) -> list[Any]:
    body = ok(await analytics.get(TIMESERIES, tenant, "an", "analyst", metric=metric, period="7d"))
    return [point["value"] for point in body["points"]]


async def test_a_stream_over_days_with_redeliveries_gives_the_hand_computed_history(
    own_analytics: Analytics,
) -> None:
    analytics = own_analytics
    f = ActivityFactory()
    await analytics.provision(f.tenant_id, "an")  # the analyst reading the figures
    ada, bob, cy, dee = (f.user(h) for h in ("ada", "bob", "cy", "dee"))
    post = f.post(ada, "Kick-off notes", published=NOW - timedelta(days=3))
    like_bob, like_cy = f.like(bob, post), f.like(cy, post)
    stream = [
        ada,
        bob,
        cy,
        dee,
        post,  # 3 days ago: ada posts
        on(f.reply(bob, post, "Thanks"), 3),  # bob comments
        on(like_cy, 3),  # cy reacts
        on(f.follow(dee, ada), 1),  # 1 day ago: dee follows ada (active, not engaged)
        on(like_bob, 1),  # bob reacts
        on(f.undo(like_cy), 1),  # cy takes the reaction back
        on(f.post(cy, "Weekly update"), 0),  # today: cy posts
    ]
    await analytics.send(*stream)
    await analytics.send(*stream[4:])  # redelivered: nothing changes
    t = f.tenant_id

    # Oldest first, 7 days ending today: index 3 is 3 days ago, 5 is yesterday, 6 today.
    expected = {
        "active_users": [0, 0, 0, 3, 0, 3, 1],  # ada bob cy | dee bob cy | cy
        "engaged_users": [0, 0, 0, 3, 0, 1, 1],  # ada bob cy | bob (the undo is no reaction) | cy
        "posts": [0, 0, 0, 1, 0, 0, 1],
        "comments": [0, 0, 0, 1, 0, 0, 0],
        "reactions": [0, 0, 0, 1, 0, 0, 0],  # +1 | +1 -1 | none
        "new_follows": [0, 0, 0, 0, 0, 1, 0],
    }
    for metric, values in expected.items():
        assert await series(analytics, t, metric) == values, metric
    before = {metric: await series(analytics, t, metric) for metric in expected}

    await analytics.restart()
    lost = [key async for key in analytics.redis.scan_iter(match=f"an:{{{t}}}:*")]
    assert lost
    await analytics.redis.delete(*lost)
    after = {metric: await series(analytics, t, metric) for metric in expected}
    assert after == before

    # Counting goes on after the restart.
    await analytics.send(f.like(dee, post))
    assert (await series(analytics, t, "reactions"))[-1] == 1
    summary = ok(await analytics.get(SUMMARY, t, "an", "analyst", period="7d"))
    assert (summary["active_users"], summary["reactions"], summary["posts"]) == (4, 2, 2)
    # ada and cy posted; bob commented and reacted, dee reacted today: nobody only read.
    assert summary["participation"] == {"creators": 2, "contributors": 2, "lurkers": 0}


async def test_an_activity_shows_in_the_summary_within_five_seconds(analytics: Analytics) -> None:
    f = ActivityFactory()
    await analytics.provision(f.tenant_id, "an")  # the analyst reading the figures
    ada = f.user("ada")
    await analytics.send(ada)

    async def posts() -> int:
        body = ok(await analytics.get(SUMMARY, f.tenant_id, "an", "analyst", period="1d"))
        return int(body["posts"])

    assert await posts() == 0
    await analytics.publish(f.post(ada, "Fresh news"))

    async def counted() -> bool:
        return await posts() == 1

    await eventually(counted, what="the post in the summary", timeout_s=5.0)
