"""A group's pinned posts (ingestion's Add and Remove of a post to the group's featured
collection), shown first by its feed when asked (docs/architecture.md §5.8)."""

from __future__ import annotations

from typing import Any

import pytest
from fanout_harness import Fanout, object_ids

from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration


def pinned_flags(items: list[Any]) -> list[bool]:
    return [item.get("pinned", False) for item in items]


async def test_a_group_feed_shows_its_visible_pins_first_only_when_asked(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    guild = f.group("Guild", owner=ada, visibility="public")
    await fanout.send(ada, bob, cy, guild, f.join(ada, guild, role="owner"), f.join(bob, guild))
    welcome = f.post(ada, "Welcome, read this first", group=guild, visibility="public")
    members_only = f.post(ada, "Members: the budget", group=guild)
    latest = f.post(bob, "Latest news", group=guild, visibility="public")
    await fanout.send(welcome, members_only, latest)
    # Pinned oldest first: the newest pin comes first.
    await fanout.send(f.pin(ada, guild, welcome), f.pin(ada, guild, members_only))
    path, bob_id = f"/v1/feeds/groups/{subject_id(guild)}", user_id_of_subject(bob)
    feed = [subject_id(latest), subject_id(members_only), subject_id(welcome)]

    plain = await fanout.feed(path, f.tenant_id, bob_id)
    first = await fanout.feed(path, f.tenant_id, bob_id, pinned="first")
    # cy is no member: the members-only post is hidden, pinned or not.
    stranger = await fanout.feed(path, f.tenant_id, user_id_of_subject(cy), pinned="first")
    later = await fanout.get(path, f.tenant_id, bob_id, pinned="first", limit=1)

    assert object_ids(plain) == feed
    assert not any(pinned_flags(plain))
    assert object_ids(first) == [subject_id(members_only), subject_id(welcome), *feed]
    assert pinned_flags(first) == [True, True, False, False, False]
    assert first[0]["stats"] == {"replies": 0, "reactions": 0, "reacted": False}
    assert object_ids(stranger) == [subject_id(welcome), subject_id(latest), subject_id(welcome)]
    assert pinned_flags(stranger) == [True, False, False]
    # Only the first page starts with the pins; the next one (its Link keeps `pinned`) does not.
    assert pinned_flags(later.json()["items"]) == [True, True, False]
    next_page = await fanout.get(
        path, f.tenant_id, bob_id, pinned="first", limit=1, cursor=later.json()["next_cursor"]
    )
    assert object_ids(next_page.json()["items"]) == [subject_id(members_only)]
    assert "pinned=first" in later.headers["link"]


async def test_the_later_of_a_pin_and_its_unpin_wins_whatever_arrives_first(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    guild = f.group("Guild", owner=ada, visibility="internal")
    post, gone = f.post(ada, "Pinned", group=guild), f.post(ada, "Deleted later", group=guild)
    await fanout.send(ada, guild, f.join(ada, guild, role="owner"), post, gone)
    pin, unpin = f.pin(ada, guild, post), f.unpin(ada, guild, post)
    path, ada_id = f"/v1/feeds/groups/{subject_id(guild)}", user_id_of_subject(ada)

    await fanout.send(unpin, pin)  # the unpin is the later: the post stays unpinned
    await fanout.send(f.pin(ada, guild, gone), f.delete(ada, gone))  # a deleted post shows not

    first = await fanout.feed(path, f.tenant_id, ada_id, pinned="first")
    assert object_ids(first) == [subject_id(post)]
    assert pinned_flags(first) == [False]

    again = f.pin(ada, guild, post)
    await fanout.send(again)

    async def shown_pinned() -> bool:
        page = await fanout.feed(path, f.tenant_id, ada_id, pinned="first")
        return pinned_flags(page) == [True, False]

    await eventually(shown_pinned, what="the post pinned again")  # pins are cached a moment
