"""Notifications through the real broker, Redis and Postgres: who is told what, grouping,
reading, preferences and mutes at work, tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest
from notify_harness import Notify

from canopy_common.events import StrictActivity
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.kafka import refusals
from canopy_testing.polling import eventually
from canopy_testing.services import record_key

pytestmark = pytest.mark.integration

LIST = "/v1/notifications"


def uid(subject: StrictActivity) -> str:
    return user_id_of_subject(subject)


async def items(notify: Notify, tenant: str, user: str, **params: Any) -> list[dict[str, Any]]:
    response = await notify.get(LIST, tenant, user, **params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def types(notify: Notify, tenant: str, user: str) -> list[str]:
    return [item["type"] for item in await items(notify, tenant, user)]


async def test_a_mention_tells_the_mentioned_and_nobody_else(notify: Notify) -> None:
    f = ActivityFactory()
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    post = f.post(ada, "Thanks @bob for the release notes", mentions=[bob])
    await notify.send(ada, bob, cy)
    await notify.send(post)

    bob_items = await items(notify, f.tenant_id, uid(bob))
    assert [i["type"] for i in bob_items] == ["mention"]
    assert bob_items[0]["actors"][0]["id"] == uid(ada)
    assert bob_items[0]["object"]["id"] == subject_id(post)
    assert bob_items[0]["read"] is False
    assert await types(notify, f.tenant_id, uid(cy)) == []
    assert await types(notify, f.tenant_id, uid(ada)) == []  # never the actor


async def test_replies_tell_the_author_and_the_thread_once_each(notify: Notify) -> None:
    f = ActivityFactory()
    ada, bob, cy, dan = (f.user(n) for n in ("ada", "bob", "cy", "dan"))
    post = f.post(ada, "Where do we keep the runbooks?")
    first = f.reply(bob, post, "In the wiki")
    second = f.reply(cy, post, "And @bob knows where exactly", mentions=[bob])
    await notify.send(ada, bob, cy, dan)
    await notify.send(post, first)
    await notify.send(second)

    assert await types(notify, f.tenant_id, uid(ada)) == ["reply", "reply"]
    # bob took part, and is mentioned: he gets the mention only
    assert await types(notify, f.tenant_id, uid(bob)) == ["mention"]
    assert await types(notify, f.tenant_id, uid(cy)) == []
    assert await types(notify, f.tenant_id, uid(dan)) == []


async def test_ten_reactions_make_one_grouped_notification_even_when_redelivered(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    people = [f.user(f"fan{n}") for n in range(10)]
    post = f.post(ada, "We passed the audit")
    likes = [f.like(p, post) for p in people]
    await notify.send(ada, *people)
    await notify.send(post, *likes)
    await notify.publish(*likes)  # redelivered
    await notify.send(f.like(people[0], post, "celebrate"))  # the same person again

    found = await items(notify, f.tenant_id, uid(ada))
    assert len(found) == 1
    assert found[0]["type"] == "reaction"
    assert found[0]["actor_count"] == 10
    assert len(found[0]["actors"]) == notify.settings.group_actors
    assert found[0]["actors"][0]["id"] == uid(people[0])  # the latest first
    assert "and 9 others reacted" in found[0]["text"]
    count = await notify.get(f"{LIST}/unread_count", f.tenant_id, uid(ada))
    assert count.json() == {"count": 1}


async def test_private_group_post_mentions_tell_no_outsider(notify: Notify) -> None:
    f = ActivityFactory()
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    team = f.group("Secret project", owner=ada, visibility="private")
    post = f.post(ada, "@bob @cy launch is March 3", group=team, mentions=[bob, cy])
    await notify.send(ada, bob, cy)
    await notify.send(team, f.join(ada, team, role="owner"), f.join(bob, team))
    await notify.send(post)

    assert await types(notify, f.tenant_id, uid(bob)) == ["mention"]
    assert await types(notify, f.tenant_id, uid(cy)) == []  # cannot see it


async def test_follow_share_answer_accept_flag_and_invite_rules(notify: Notify) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    mod = f.user("mod", roles=["moderator"])
    question = f.post(ada, "How do I rotate the keys?", kind="question")
    answer = f.answer(bob, question, "With the vault CLI")
    team = f.group("Ops", owner=ada, visibility="private")
    await notify.send(ada, bob, mod)
    await notify.send(team, f.join(ada, team, role="owner"), question)
    await notify.send(f.follow(bob, ada), answer, f.share(bob, question))
    await notify.send(f.accept(ada, question, answer), f.flag(bob, question))
    await notify.send(f.invite(ada, team, bob))

    assert sorted(await types(notify, f.tenant_id, uid(ada))) == ["answer", "follow", "share"]
    assert sorted(await types(notify, f.tenant_id, uid(bob))) == [
        "accepted_answer",
        "group_invite",
    ]
    assert await types(notify, f.tenant_id, uid(mod)) == ["flag"]


async def test_a_moderation_decision_tells_the_reporters_and_the_author(notify: Notify) -> None:
    f = ActivityFactory()
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    mod = f.user("mod", roles=["moderator"])
    rude, fine = f.post(ada, "rude words"), f.post(ada, "satire")
    await notify.send(ada, bob, cy, mod)
    await notify.send(rude, fine, f.flag(bob, rude), f.flag(cy, rude), f.flag(bob, fine))
    await notify.send(
        f.moderation_decision(mod, rude, "removed", [bob, cy], "Customer data"),
        f.moderation_decision(mod, fine, "dismissed", [bob]),
    )

    assert sorted(await types(notify, f.tenant_id, uid(bob))) == [
        "moderation_decision",
        "moderation_decision",
    ]
    assert await types(notify, f.tenant_id, uid(cy)) == ["moderation_decision"]
    [told] = await items(notify, f.tenant_id, uid(ada))  # not told of the dismissal
    assert told["type"] == "post_removed"
    assert told["object"]["note"] == "Customer data"
    assert told["object"]["id"] == subject_id(rude)
    assert sorted(await types(notify, f.tenant_id, uid(mod))) == ["flag", "flag", "flag"]


async def test_a_warning_tells_the_author(notify: Notify) -> None:
    f = ActivityFactory()
    ada, bob, mod = f.user("ada"), f.user("bob"), f.user("mod", roles=["moderator"])
    post = f.post(ada, "rude words")
    await notify.send(ada, bob, mod, post)
    await notify.send(f.moderation_decision(mod, post, "warned", [bob], "Mind the tone"))

    assert await types(notify, f.tenant_id, uid(ada)) == ["moderation_warning"]
    assert await types(notify, f.tenant_id, uid(bob)) == ["moderation_decision"]


async def test_join_requests_tell_the_groups_admins_grouped_and_make_nobody_a_member(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    ada, dan, eve, bob, cy = (f.user(n) for n in ("ada", "dan", "eve", "bob", "cy"))
    guild = f.group("Guild", owner=ada, visibility="internal")
    await notify.send(ada, dan, eve, bob, cy)
    await notify.send(guild, f.join(ada, guild, role="owner"))
    await notify.send(f.add(ada, guild, dan, role="admin"), f.join(eve, guild))
    await notify.send(f.join_request(bob, guild), f.join_request(cy, guild))

    for admin in (ada, dan):
        [told] = await items(notify, f.tenant_id, uid(admin))
        assert told["type"] == "join_request"
        assert told["actor_count"] == 2
        assert {a["id"] for a in told["actors"]} == {uid(bob), uid(cy)}
        assert told["object"]["id"] == subject_id(guild)
    assert await types(notify, f.tenant_id, uid(eve)) == []  # a plain member is not asked
    members = await notify.pool.fetch(
        "SELECT user_id FROM memberships WHERE tenant_id = $1 AND group_id = $2",
        f.tenant_id,
        subject_id(guild),
    )
    assert {r["user_id"] for r in members} == {uid(ada), uid(dan), uid(eve)}

    await notify.send(f.add(dan, guild, bob))  # approved: now bob is a member
    joined = await notify.pool.fetchval(
        "SELECT count(*) FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
        f.tenant_id,
        subject_id(guild),
        uid(bob),
    )
    assert joined == 1


async def test_marking_read_by_ids_and_up_to(notify: Notify) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    fans = [f.user(f"f{n}") for n in range(3)]
    await notify.send(ada, *fans)
    await notify.send(*(f.follow(p, ada) for p in fans))
    posts = [f.post(p, "@ada hi", mentions=[ada]) for p in fans]
    await notify.send(*posts)
    found = await items(notify, f.tenant_id, uid(ada))
    assert [i["type"] for i in found].count("mention") == 3

    headers = notify.headers(f.tenant_id, uid(ada))
    marked = await notify.client.post(
        f"{LIST}/read", json={"ids": [found[0]["id"]]}, headers=headers
    )
    assert marked.json() == {"marked": 1}
    unread = await notify.get(f"{LIST}/unread_count", f.tenant_id, uid(ada))
    assert unread.json() == {"count": len(found) - 1}
    await notify.client.post(f"{LIST}/read", json={"up_to": found[0]["id"]}, headers=headers)
    assert await items(notify, f.tenant_id, uid(ada), unread_only="true") == []
    bad = await notify.client.post(f"{LIST}/read", json={"ids": ["x"]}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_pages_follow_the_cursor_and_filter_by_category(notify: Notify) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    others = [f.user(f"o{n}") for n in range(5)]
    await notify.send(ada, *others)  # people exist before they are told anything
    await notify.send(*(f.post(o, "@ada look", mentions=[ada]) for o in others))
    await notify.send(f.follow(others[0], ada))

    first = (await notify.get(LIST, f.tenant_id, uid(ada), limit=4)).json()
    assert len(first["items"]) == 4
    second = (
        await notify.get(LIST, f.tenant_id, uid(ada), limit=4, cursor=first["next_cursor"])
    ).json()
    assert second["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(set(ids)) == 6
    follows = await items(notify, f.tenant_id, uid(ada), category="follow")
    assert [i["type"] for i in follows] == ["follow"]


async def test_mutes_and_preferences_suppress_what_they_should(notify: Notify) -> None:
    f = ActivityFactory()
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    await notify.send(ada, bob, cy)
    headers = notify.headers(f.tenant_id, uid(ada))
    muted = await notify.client.put(f"/v1/notification-mutes/actor/{uid(bob)}", headers=headers)
    assert muted.status_code == 200, muted.text
    off = await notify.client.put(
        "/v1/notification-preferences",
        json={"categories": {"follow": {"in_app": False, "email": False, "push": False}}},
        headers=headers,
    )
    assert off.status_code == 200, off.text
    await notify.send(
        f.post(bob, "@ada ping", mentions=[ada]),
        f.follow(cy, ada),
        f.post(cy, "@ada pong", mentions=[ada]),
    )
    found = await items(notify, f.tenant_id, uid(ada))
    assert [(i["type"], i["actors"][0]["id"]) for i in found] == [("mention", uid(cy))]


async def test_no_notification_crosses_tenants(notify: Notify) -> None:
    f, g = ActivityFactory(), ActivityFactory()
    ada = f.user("ada", user_id="same-id")
    bob = f.user("bob")
    post = f.post(bob, "@ada hello", mentions=[ada])
    await notify.send(ada, bob)
    await notify.send(post)

    async def told() -> bool:
        return len(await items(notify, f.tenant_id, "same-id")) == 1

    await eventually(told, what="ada told")
    await notify.send(g.user("ada", user_id="same-id"))  # the same id, a person of g
    assert await items(notify, g.tenant_id, "same-id") == []


async def test_activities_notify_cannot_apply_go_to_the_dlq_and_the_next_is_applied(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    await notify.send(ada, bob)
    sent = await notify.publish_unappliable(f.post(ada, "Never told @bob", mentions=[bob]))
    post = f.post(ada, "Told @bob", mentions=[bob])  # same key: behind the refused ones

    await notify.send(post)

    letters = await notify.dead_letters(record_key(post), at_least=2)
    assert [letter.value for letter in letters] == [u.value for u in sent]
    assert refusals(letters, notify.settings.consumer_group) == [u.dead_letter() for u in sent]
    [told] = await items(notify, f.tenant_id, uid(bob))
    assert (told["type"], told["object"]["id"]) == ("mention", subject_id(post))
