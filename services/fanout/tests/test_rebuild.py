"""The rebuild command: feeds lost from Redis come back from Postgres, all of a tenant's or
one person's."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import pytest
from fanout_harness import Fanout

from canopy_common.errors import NotFound
from canopy_common.events import StrictActivity
from canopy_fanout.adapters.feed_store import SENTINEL, FeedStore, timeline_key
from canopy_fanout.domain.entries import entry_of
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_fanout.rebuild import Rebuilt, feeds_to_rebuild, rebuild
from canopy_testing.factories import ActivityFactory, new_tenant_id, subject_id
from canopy_testing.factories import user_id_of_subject as uid

pytestmark = pytest.mark.integration

HOME = "/v1/feeds/home"
SUMMARY = re.compile(r"^rebuilt (\d+) feeds of tenant \S+: (\d+) entries written in [\d.]+ s")


def home(subject: StrictActivity) -> FeedRef:
    return FeedRef(FeedKind.HOME, uid(subject))


def own(subject: StrictActivity) -> FeedRef:
    return FeedRef(FeedKind.USER, uid(subject))


def feed_store(fanout: Fanout) -> FeedStore:
    settings = fanout.settings
    return FeedStore(
        fanout.redis,
        cap=settings.feed_cap,
        timeline_ttl_s=settings.active_window_s,
        body_ttl_s=settings.body_ttl_s,
    )


async def members(fanout: Fanout, tenant: str, feed: FeedRef) -> set[bytes] | None:
    """The entries of a timeline in Redis, or None when it is not built."""
    key = timeline_key(tenant, feed)
    if not await fanout.redis.exists(key):
        return None
    found = await fanout.redis.zrange(key, 0, -1)
    return {member for member in found if isinstance(member, bytes)} - {SENTINEL}


def entries(*activities: StrictActivity) -> set[bytes]:
    return {entry_of(activity.id).bytes for activity in activities}


async def forget(fanout: Fanout, tenant: str, feeds: list[FeedRef]) -> None:
    await fanout.redis.delete(*(timeline_key(tenant, feed) for feed in feeds))


def test_a_home_feed_is_rebuilt_only_for_people_who_read_lately() -> None:
    assert feeds_to_rebuild(
        people=["ada", "bob"], readers={"bob"}, groups=["g1"], tags=["release"]
    ) == [
        FeedRef(FeedKind.USER, "ada"),
        FeedRef(FeedKind.HOME, "bob"),
        FeedRef(FeedKind.USER, "bob"),
        FeedRef(FeedKind.GROUP, "g1"),
        FeedRef(FeedKind.TAG, "release"),
    ]


async def test_rebuild_brings_back_every_feed_of_the_tenant(fanout: Fanout) -> None:
    f = ActivityFactory()
    tenant = f.tenant_id
    ada, bob, cy, dee = f.user("ada"), f.user("bob"), f.user("cy"), f.user("dee")
    team = f.group("Search team", owner=ada, visibility="private")
    await fanout.send(ada, bob, cy, dee, team, f.join(ada, team, role="owner"), f.join(bob, team))
    await fanout.send(f.follow(bob, ada))
    for reader in (ada, bob, cy):  # dee never reads: no pushes, so no home feed to keep
        await fanout.feed(HOME, tenant, uid(reader))
    release = f.post(ada, "Shipped #release", hashtags=["release"])
    plans = f.post(ada, "Next quarter's plans", group=team)
    lunch = f.post(cy, "Lunch? #food", hashtags=["food"])
    await fanout.send(release, plans, lunch)
    expected = {
        home(ada): entries(release, plans),
        home(bob): entries(release, plans),
        home(cy): entries(lunch),
        own(ada): entries(release, plans),
        own(bob): set(),
        own(cy): entries(lunch),
        own(dee): set(),
        FeedRef(FeedKind.GROUP, subject_id(team)): entries(plans),
        FeedRef(FeedKind.TAG, "release"): entries(release),
        FeedRef(FeedKind.TAG, "food"): entries(lunch),
    }
    await forget(fanout, tenant, [*expected, home(dee)])

    seen: list[Rebuilt] = []
    summary = await rebuild(
        fanout.pool, feed_store(fanout), fanout.settings, tenant, None, seen.append
    )

    assert {done.feed: await members(fanout, tenant, done.feed) for done in seen} == expected
    assert len(seen) == len(expected)
    assert {done.total for done in seen} == {len(expected)}
    assert await members(fanout, tenant, home(dee)) is None
    written = sum(len(found) for found in expected.values())
    assert (summary.feeds, summary.entries, summary.homes_left) == (len(expected), written, 1)


async def test_rebuild_refuses_an_unknown_tenant(fanout: Fanout) -> None:
    seen: list[Rebuilt] = []
    with pytest.raises(NotFound):
        await rebuild(
            fanout.pool, feed_store(fanout), fanout.settings, new_tenant_id(), None, seen.append
        )
    assert seen == []


async def test_the_command_with_user_rebuilds_only_that_persons_feeds(fanout: Fanout) -> None:
    f = ActivityFactory()
    tenant = f.tenant_id
    ada, bob = f.user("ada"), f.user("bob")
    await fanout.send(ada, bob, f.follow(bob, ada))
    await fanout.feed(HOME, tenant, uid(bob))
    by_ada, by_bob = f.post(ada, "Design review at 3"), f.post(bob, "On my way")
    await fanout.send(by_ada, by_bob)
    await forget(fanout, tenant, [home(bob), own(bob), own(ada)])

    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "canopy_fanout.rebuild",
        "--tenant",
        tenant,
        "--user",
        uid(bob),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CANOPY_FANOUT_DB_SCHEMA": fanout.settings.db_schema},
    )
    stdout, stderr = await command.communicate()

    assert command.returncode == 0, stderr.decode()
    summaries = [m for line in stdout.decode().splitlines() if (m := SUMMARY.match(line))]
    assert [m.groups() for m in summaries] == [("2", "3")]
    assert await members(fanout, tenant, home(bob)) == entries(by_ada, by_bob)
    assert await members(fanout, tenant, own(bob)) == entries(by_bob)
    assert await members(fanout, tenant, own(ada)) is None
