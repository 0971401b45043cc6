"""A newcomer's first day across the whole system, through HTTP and the upstream topic only: the
HR system's joiner event makes a profile, the newcomer follows a colleague and joins a group,
and one post mentioning a third person reaches every place it should — the follower's home
feed and the group feed (fanout), the mentioned person's notifications and live stream
(notify), and the tenant's analytics."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse

from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient, person, upstream_activity

pytestmark = pytest.mark.e2e

HOME = "/v1/feeds/home"
# The post crosses the broker twice before it is streamed; it usually takes well under 1 s.
LIVE_TIMEOUT_S = 20.0


async def next_notification(source: EventSource) -> ServerSentEvent:
    """The next ``notification`` event on a live stream (keep-alive comments are skipped)."""
    async for event in source.aiter_sse():
        if event.event == "notification":
            return event
    raise AssertionError("the live stream ended")


async def test_a_joiner_follows_and_joins_and_a_mention_reaches_feeds_notifications_analytics(
    canopy: SystemClient, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", "cy", bots=("hr-bot",))
    joiner = person(t, "grace", "Grace Hopper", title="Engineer", skills=["cobol"])

    await canopy.publish_upstream(upstream_activity(t, "hr-bot", "Create", joiner), key=f"{t}:hr")

    async def grace_profile() -> dict[str, Any] | None:
        found = await canopy.request("ingestion", "GET", "/v1/users/grace", t, "ada")
        return found.json() if found.status_code == 200 else None

    profile = await eventually(grace_profile, what="the joiner's profile")
    shown = {field: profile[field] for field in ("handle", "display_name", "title", "skills")}
    assert shown == {
        "handle": "grace",
        "display_name": "Grace Hopper",
        "title": "Engineer",
        "skills": ["cobol"],
    }

    group = await canopy.create_group(t, "ada", "Platform", "internal")
    group_feed = f"/v1/feeds/groups/{group['id']}"
    welcome = await canopy.post(t, "ada", "Welcome to Platform!", group_id=group["id"])
    assert await canopy.feed(HOME, t, "grace") == []  # her first look at the app
    # Fan-out keeps each person's activities in order, not one person's against another's
    # (docs/architecture.md §2), so each step waits until fan-out shows the one before it.
    await eventually(
        partial(canopy.feed_holds, "/v1/feeds/users/ada", t, "ada", welcome["id"]),
        what="the welcome post fanned out",
    )
    await canopy.follow(t, "grace", "ada")
    membership = await canopy.join(t, group["id"], "grace")
    assert membership["role"] == "member"
    # Joining copies the group's recent posts in (a member-only post: not the follow's doing).
    await eventually(
        partial(canopy.feed_holds, HOME, t, "grace", welcome["id"]), what="grace's join"
    )
    assert await canopy.feed_holds(group_feed, t, "grace", welcome["id"])

    stream = canopy.system.url("notify", "/v1/notifications/stream")
    async with aconnect_sse(canopy.http, "GET", stream, headers=canopy.headers(t, "cy")) as live:
        assert live.response.status_code == 200  # subscribed before the headers come back
        post = await canopy.post(
            t,
            "ada",
            "Office hours move to Thursday, @cy can you host? #platform",
            group_id=group["id"],
            visibility="internal",  # the whole company may read it, cy too
        )
        event = await asyncio.wait_for(next_notification(live), LIVE_TIMEOUT_S)

    streamed = event.json()
    assert (streamed["type"], streamed["object"]["id"]) == ("mention", post["id"])
    assert [actor["id"] for actor in streamed["actors"]] == ["ada"]
    assert event.id == streamed["event_id"]
    for feed in (HOME, group_feed):
        holds = partial(canopy.feed_holds, feed, t, "grace", post["id"])
        await eventually(holds, what=f"the post in grace's {feed}")
    [notice] = await canopy.notifications(t, "cy")
    assert (notice["id"], notice["type"], notice["read"]) == (streamed["id"], "mention", False)
    assert notice["object"]["id"] == post["id"]

    async def posts_counted() -> dict[str, Any] | None:
        today = {"period": "1d"}
        path = "/v1/analytics/summary"
        summary = await canopy.call("analytics", "GET", path, t, "ada", "analyst", params=today)
        return summary if summary["posts"] >= 2 else None

    # Both posts (the welcome and the mention) within a few seconds.
    summary = await eventually(posts_counted, what="the posts in the analytics", timeout_s=10)
    assert summary["posts"] == 2
