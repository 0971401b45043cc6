"""Feeds through the real broker, Redis and Postgres: who gets what, and what reads return."""

from __future__ import annotations

from functools import partial

import orjson
import pytest
from fanout_harness import Fanout, object_ids

from canopy_fanout.adapters import graph
from canopy_fanout.adapters.feed_store import timeline_key
from canopy_fanout.domain.entries import entry_of
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.kafka import read_topic, refusals
from canopy_testing.polling import eventually
from canopy_testing.services import record_key

pytestmark = pytest.mark.integration

HOME = "/v1/feeds/home"


def uid(subject: object) -> str:
    return user_id_of_subject(subject)  # type: ignore[arg-type]


async def pushed(fanout: Fanout, tenant: str, reader: str, activity_id: str) -> bool:
    """Whether the item sits in the reader's home timeline in Redis (pushed, not merged)."""
    key = timeline_key(tenant, FeedRef(FeedKind.HOME, reader))
    return await fanout.redis.zscore(key, entry_of(activity_id).bytes) is not None


async def is_member(fanout: Fanout, tenant: str, group_id: str, user: str) -> bool:
    """Whether fan-out's membership projection has ``user`` in the group."""
    async with fanout.pool.acquire() as conn:
        return await graph.is_member(conn, tenant, group_id, user)


async def test_followers_get_a_post_in_their_home_feed_and_strangers_do_not(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    await fanout.send(ada, bob, cy, f.follow(bob, ada))
    for reader in (bob, cy):  # readers who were here lately get pushes
        assert await fanout.feed(HOME, f.tenant_id, uid(reader)) == []

    post = f.post(ada, "Shipped the new search!")
    await fanout.send(post)

    bob_home = await fanout.feed(HOME, f.tenant_id, uid(bob))
    assert object_ids(bob_home) == [subject_id(post)]
    assert bob_home[0]["actor"]["preferredUsername"] == "ada"
    assert bob_home[0]["stats"] == {"replies": 0, "reactions": 0, "reacted": False}
    assert await pushed(fanout, f.tenant_id, uid(bob), post.id)
    assert await fanout.feed(HOME, f.tenant_id, uid(cy)) == []
    assert object_ids(await fanout.feed(HOME, f.tenant_id, uid(ada))) == [subject_id(post)]


async def test_private_group_post_never_reaches_non_members(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    team = f.group("Secret project", owner=ada, visibility="private")
    await fanout.send(ada, bob, cy, team, f.join(ada, team, role="owner"), f.join(bob, team))
    await fanout.send(f.follow(cy, ada))
    for reader in (bob, cy):
        await fanout.feed(HOME, f.tenant_id, uid(reader))

    post = f.post(ada, "Launch date is March 3", group=team)
    await fanout.send(post)

    assert object_ids(await fanout.feed(HOME, f.tenant_id, uid(bob))) == [subject_id(post)]
    assert await fanout.feed(HOME, f.tenant_id, uid(cy)) == []
    group_path = f"/v1/feeds/groups/{subject_id(team)}"
    assert object_ids(await fanout.feed(group_path, f.tenant_id, uid(bob))) == [subject_id(post)]
    refused = await fanout.get(group_path, f.tenant_id, uid(cy))
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    # Nor through the author's own feed.
    assert await fanout.feed(f"/v1/feeds/users/{uid(ada)}", f.tenant_id, uid(cy)) == []


async def test_a_join_request_gives_no_membership_until_an_admin_adds_the_person(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    guild = f.group("Guild", owner=ada, visibility="internal")  # joined by request
    await fanout.send(ada, bob, guild, f.join(ada, guild, role="owner"))
    await fanout.feed(HOME, f.tenant_id, uid(bob))  # bob reads lately: he would get pushes
    before = f.post(ada, "Members only: the roadmap", group=guild)  # visibility: group
    group_path = f"/v1/feeds/groups/{subject_id(guild)}"

    await fanout.send(before, f.join_request(bob, guild))
    during = f.post(ada, "Members only: launch day", group=guild)
    await fanout.send(during)

    assert not await is_member(fanout, f.tenant_id, subject_id(guild), uid(bob))
    assert await fanout.feed(HOME, f.tenant_id, uid(bob)) == []
    assert await fanout.feed(group_path, f.tenant_id, uid(bob)) == []  # seen, but not its items
    assert not await pushed(fanout, f.tenant_id, uid(bob), during.id)

    await fanout.send(f.add(ada, guild, bob))  # approved

    assert await is_member(fanout, f.tenant_id, subject_id(guild), uid(bob))
    expected = [subject_id(during), subject_id(before)]
    assert object_ids(await fanout.feed(HOME, f.tenant_id, uid(bob))) == expected
    assert object_ids(await fanout.feed(group_path, f.tenant_id, uid(bob))) == expected


async def test_a_guest_sees_only_public_items_and_groups_they_belong_to(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    gus = f.user("gus", kind="guest")
    partners = f.group("Partners", owner=ada, visibility="private")
    staff = f.group("Staff", owner=ada, visibility="internal")
    await fanout.send(ada, gus, partners, staff)
    await fanout.send(f.follow(gus, ada), f.add(ada, partners, gus), f.join(ada, staff))
    await fanout.feed(HOME, f.tenant_id, uid(gus), "guest")

    internal = f.post(ada, "Internal only")
    public = f.post(ada, "Hello world", visibility="public")
    in_partners = f.post(ada, "Partner roadmap", group=partners)
    in_staff = f.post(ada, "Staff party", group=staff)
    await fanout.send(internal, public, in_partners, in_staff)

    home = await fanout.feed(HOME, f.tenant_id, uid(gus), "guest")
    assert sorted(object_ids(home)) == sorted([subject_id(public), subject_id(in_partners)])
    staff_feed = await fanout.get(f"/v1/feeds/groups/{subject_id(staff)}", f.tenant_id, uid(gus))
    assert staff_feed.status_code == 404
    author_feed = await fanout.feed(f"/v1/feeds/users/{uid(ada)}", f.tenant_id, uid(gus))
    assert sorted(object_ids(author_feed)) == sorted([subject_id(public), subject_id(in_partners)])


async def test_another_tenants_group_feed_is_not_found(fanout: Fanout) -> None:
    f, other = ActivityFactory(), ActivityFactory()
    ada, stranger = f.user("ada"), other.user("x")
    open_group = f.group("Open", owner=ada, visibility="public")
    await fanout.send(ada, open_group, stranger)
    path = f"/v1/feeds/groups/{subject_id(open_group)}"
    response = await fanout.get(path, other.tenant_id, uid(stranger))
    assert response.status_code == 404


async def test_flushing_redis_rebuilds_the_same_feed_from_postgres(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    await fanout.send(ada, bob, f.follow(bob, ada))
    await fanout.feed(HOME, f.tenant_id, uid(bob))
    await fanout.send(*(f.post(ada, f"Update {n}") for n in range(5)))
    before = await fanout.feed(HOME, f.tenant_id, uid(bob))
    assert len(before) == 5

    await fanout.redis.flushall()

    assert await fanout.feed(HOME, f.tenant_id, uid(bob)) == before


async def test_a_redelivered_activity_shows_once(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    await fanout.send(ada, bob, f.follow(bob, ada))
    await fanout.feed(HOME, f.tenant_id, uid(bob))
    post = f.post(ada, "Once only")
    await fanout.publish(post, post)
    await fanout.send(post)  # and a third time, after it was applied

    # Applied means committed; the push into homes follows the commit, so wait for it.
    async def home() -> list[str]:
        return object_ids(await fanout.feed(HOME, f.tenant_id, uid(bob)))

    await eventually(home, what="the post in bob's home")
    assert await home() == [subject_id(post)]


async def test_unfollow_block_and_delete_take_items_out(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada, bob, cy, dee = f.user("ada"), f.user("bob"), f.user("cy"), f.user("dee")
    follow = f.follow(bob, ada)
    await fanout.send(ada, bob, cy, dee, follow, f.follow(bob, cy), f.follow(bob, dee))
    await fanout.feed(HOME, f.tenant_id, uid(bob))
    by_ada, by_cy, by_dee = f.post(ada, "a"), f.post(cy, "c"), f.post(dee, "d")
    await fanout.send(by_ada, by_cy, by_dee)

    # Applied means committed; the push into homes follows the commit, so wait for it.
    async def home_holds(n: int) -> bool:
        return len(await fanout.feed(HOME, f.tenant_id, uid(bob))) == n

    await eventually(partial(home_holds, 3), what="the three posts in bob's home")

    await fanout.send(f.undo(follow), f.block(cy, bob), f.delete(dee, by_dee))

    assert await fanout.feed(HOME, f.tenant_id, uid(bob)) == []
    assert await fanout.feed(f"/v1/feeds/users/{uid(dee)}", f.tenant_id, uid(bob)) == []


async def test_an_edit_shows_the_new_text_and_reactions_count(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    await fanout.send(ada, bob, f.follow(bob, ada))
    await fanout.feed(HOME, f.tenant_id, uid(bob))
    post = f.post(ada, "Teh release is out")
    await fanout.send(post)
    await fanout.send(f.edit(post, "The release is out"), f.like(bob, post))
    await fanout.send(f.reply(bob, post, "Congrats!"))

    [item] = await fanout.feed(HOME, f.tenant_id, uid(bob))
    assert item["object"]["content"] == "The release is out"
    assert item["stats"] == {"replies": 1, "reactions": 1, "reacted": True}


async def test_paging_while_new_items_arrive_returns_every_older_item_once(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    await fanout.send(ada, bob, f.follow(bob, ada))
    await fanout.feed(HOME, f.tenant_id, uid(bob))
    older = [f.post(ada, f"Older {n}") for n in range(23)]
    await fanout.send(*older)

    seen: list[str] = []
    response = await fanout.get(HOME, f.tenant_id, uid(bob), limit=5)
    first_prev = response.json()["prev_cursor"]
    while True:
        body = response.json()
        seen += object_ids(body["items"])
        await fanout.send(f.post(ada, "Newer"))  # arrives while the reader pages
        if body["next_cursor"] is None:
            break
        assert 'rel="next"' in response.headers["link"]
        response = await fanout.get(
            HOME, f.tenant_id, uid(bob), limit=5, cursor=body["next_cursor"]
        )

    assert sorted(seen) == sorted(subject_id(p) for p in older)
    assert len(seen) == len(set(seen))
    newer = await fanout.feed(HOME, f.tenant_id, uid(bob), limit=100, cursor=first_prev)
    assert len(newer) == 5  # one per page turn, all above the first page


async def test_activity_json_page_and_bad_cursor(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    post = f.post(ada, "Hello #AS2", hashtags=["as2"], visibility="public")
    await fanout.send(ada, post)
    response = await fanout.client.get(
        "/v1/feeds/tags/as2",
        headers={**fanout.headers(f.tenant_id, uid(ada)), "Accept": "application/activity+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    page = response.json()
    assert page["type"] == "OrderedCollectionPage"
    assert object_ids(page["orderedItems"]) == [subject_id(post)]
    assert "bcc" not in response.text
    assert "bto" not in response.text

    bad = await fanout.get(HOME, f.tenant_id, uid(ada), cursor="not-a-cursor")
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    too_big = await fanout.get(HOME, f.tenant_id, uid(ada), limit=101)
    assert too_big.status_code == 422


async def test_read_markers_round_trip(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    await fanout.send(ada)
    headers = fanout.headers(f.tenant_id, uid(ada))
    put = await fanout.client.put(
        "/v1/markers",
        headers=headers,
        json={"home": {"last_read_id": "urn:uuid:1"}, "notifications": {"last_read_id": "n1"}},
    )
    assert put.status_code == 200, put.text
    again = await fanout.client.put(
        "/v1/markers", headers=headers, json={"home": {"last_read_id": "urn:uuid:2"}}
    )
    assert again.json()["home"]["version"] == 2
    got = await fanout.client.get("/v1/markers", headers=headers, params={"feed": "home"})
    assert got.json()["home"]["last_read_id"] == "urn:uuid:2"
    assert set(got.json()) == {"home"}
    bad = await fanout.client.put(
        "/v1/markers", headers=headers, json={"elsewhere": {"last_read_id": "x"}}
    )
    assert bad.status_code == 422


async def test_a_read_marker_is_refused_for_a_group_the_reader_cannot_see(fanout: Fanout) -> None:
    f, other = ActivityFactory(), ActivityFactory()
    ada, bob, eve = f.user("ada"), f.user("bob"), other.user("eve")
    mine = f.group("Mine", owner=ada, visibility="private")
    secret = f.group("Secret", owner=bob, visibility="private")
    theirs = other.group("Theirs", owner=eve, visibility="public")
    await fanout.send(ada, bob, eve, mine, secret, theirs)
    await fanout.send(f.join(ada, mine, role="owner"), f.join(bob, secret, role="owner"))
    headers = fanout.headers(f.tenant_id, uid(ada))

    def marker(group: object) -> dict[str, dict[str, str]]:
        return {f"group:{subject_id(group)}": {"last_read_id": "urn:uuid:1"}}  # type: ignore[arg-type]

    assert (await fanout.client.put("/v1/markers", headers=headers, json=marker(mine))).is_success
    for unseen in (secret, theirs):  # a private group ada is not in; another tenant's
        refused = await fanout.client.put("/v1/markers", headers=headers, json=marker(unseen))
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    stored = await fanout.client.get("/v1/markers", headers=headers)
    assert set(stored.json()) == {f"group:{subject_id(mine)}"}


async def test_feed_reads_publish_impressions(fanout: Fanout) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    post = f.post(ada, "Seen by its author")
    await fanout.send(ada, post)
    headers = fanout.headers(f.tenant_id, uid(ada))
    # A check for news (seen=false) shows nothing to anyone: it counts no impression.
    peek = await fanout.client.get(HOME, headers=headers, params={"limit": 1, "seen": "false"})
    assert [item["id"] for item in peek.json()["items"]] == [post.id]
    await fanout.feed(HOME, f.tenant_id, uid(ada))
    topic = fanout.settings.kafka.topic_impressions

    async def published() -> list[dict[str, object]]:
        records = await read_topic(fanout.settings.kafka, topic)
        key = f"{f.tenant_id}:{uid(ada)}".encode()
        return [orjson.loads(r.value) for r in records if r.key == key]

    [record] = await eventually(published, what="an impressions record")
    assert record["viewer"] == uid(ada)
    assert record["items"] == [
        {
            "activity": post.id,
            "object": subject_id(post),
            "feed": "home",
            "viewed_at": record["items"][0]["viewed_at"],  # type: ignore[index]
        }
    ]


async def test_poison_on_the_work_topic_goes_to_the_dlq(fanout: Fanout) -> None:
    work = fanout.settings.kafka.topic_fanout_work
    await fanout.producer.send(work, b"{not json", key=b"t:x:0")

    async def dead_lettered() -> list[object]:
        records = await read_topic(fanout.settings.kafka, fanout.settings.kafka.topic_dlq)
        return [r for r in records if r.value == b"{not json"]

    [record] = await eventually(dead_lettered, what="the poison chunk in the DLQ")
    headers = dict(record.headers)  # type: ignore[attr-defined]
    assert headers["dlq.original.topic"] == work.encode()


async def test_activities_fanout_cannot_apply_go_to_the_dlq_and_the_next_is_applied(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    await fanout.send(ada)
    sent = await fanout.publish_unappliable(f.post(ada, "Never shown"))
    post = f.post(ada, "Shown")  # same key, so behind the refused ones on their partition

    await fanout.send(post)

    letters = await fanout.dead_letters(record_key(post), at_least=2)
    assert [letter.value for letter in letters] == [u.value for u in sent]
    assert refusals(letters, fanout.settings.consumer_group) == [u.dead_letter() for u in sent]
    own_feed = await fanout.feed(f"/v1/feeds/users/{uid(ada)}", f.tenant_id, uid(ada))
    assert object_ids(own_feed) == [subject_id(post)]
