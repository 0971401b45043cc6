"""A private group's post reaches its members and no one else, across every service: an
outsider who follows the author, follows the post's hashtag and is even mentioned in it finds
it in no feed, cannot read the group, and is not notified."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

HOME = "/v1/feeds/home"


def post_ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["object"]["id"] for item in items]


async def test_a_private_group_post_reaches_no_outsider(
    canopy: SystemClient, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", "bob", "eve")
    for reader, feed in (("bob", HOME), ("eve", HOME), ("eve", "/v1/feeds/tags/deal")):
        assert await canopy.feed(feed, t, reader) == []  # their app is open
    # Fan-out keeps each person's activities in order, not one person's against another's
    # (docs/architecture.md §2), so each step waits until fan-out shows the one before it.
    hello = await canopy.post(t, "ada", "Hi all")
    await eventually(
        partial(canopy.feed_holds, "/v1/feeds/users/ada", t, "ada", hello["id"]),
        what="ada's first post fanned out",
    )
    await canopy.follow(t, "eve", "ada")
    await canopy.call("ingestion", "PUT", "/v1/tag-follows/deal", t, "eve")
    # The follow copies ada's open post in: from then on fan-out knows that eve follows ada.
    await eventually(partial(canopy.feed_holds, HOME, t, "eve", hello["id"]), what="eve's follow")
    group = await canopy.create_group(t, "ada", "Acquisition", "private")
    group_feed = f"/v1/feeds/groups/{group['id']}"
    await canopy.join(t, group["id"], "bob", by="ada")

    async def bob_reads_the_group() -> bool:  # 404 until fan-out knows he is a member
        return (await canopy.request("fanout", "GET", group_feed, t, "bob")).status_code == 200

    await eventually(bob_reads_the_group, what="bob's membership")

    secret = await canopy.post(
        t, "ada", "We sign the #deal on Friday, @bob @eve", group_id=group["id"]
    )

    # The member gets it everywhere: fanout and notify have both handled the post.
    for feed in (group_feed, HOME):
        holds = partial(canopy.feed_holds, feed, t, "bob", secret["id"])
        await eventually(holds, what=f"the post in bob's {feed}")

    async def bob_mentioned() -> bool:
        notices = await canopy.notifications(t, "bob")
        return any(n["type"] == "mention" and n["object"]["id"] == secret["id"] for n in notices)

    await eventually(bob_mentioned, what="the member's mention")
    assert post_ids(await canopy.feed("/v1/feeds/tags/deal", t, "bob")) == [secret["id"]]
    assert post_ids(await canopy.feed(HOME, t, "eve")) == [hello["id"]]
    assert post_ids(await canopy.feed("/v1/feeds/users/ada", t, "eve")) == [hello["id"]]
    assert await canopy.feed("/v1/feeds/tags/deal", t, "eve") == []
    refused = await canopy.request("fanout", "GET", group_feed, t, "eve")
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await canopy.notifications(t, "eve") == []
    unread = await canopy.call("notify", "GET", "/v1/notifications/unread_count", t, "eve")
    assert unread == {"count": 0}
