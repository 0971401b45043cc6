"""Fanout's section of a person's data export (docs/architecture.md §16 "Export"), asked for
over the real broker as ingestion asks: what fanout holds about the person and nobody else's."""

from __future__ import annotations

import pytest
from fanout_harness import Fanout

from canopy_common.exports import ExportService
from canopy_testing.exports import exported_section
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject

pytestmark = pytest.mark.integration


async def test_the_section_holds_the_persons_markers_relations_and_activities(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    ada_id, bob_id = user_id_of_subject(ada), user_id_of_subject(bob)
    team = f.group("Platform", owner=bob, visibility="public")
    post = f.post(bob, "Shipped")
    reply = f.reply(ada, post, "Congrats")
    await fanout.send(ada, bob, team, f.join(bob, team, role="owner"), f.join(ada, team))
    await fanout.send(f.follow(ada, bob), f.follow(bob, ada), f.mute(ada, bob), post)
    await fanout.send(reply, f.like(ada, post, "celebrate"))
    marked = await fanout.client.put(
        "/v1/markers",
        headers=fanout.headers(f.tenant_id, ada_id),
        json={"home": {"last_read_id": post.id}},
    )
    assert marked.status_code == 200, marked.text

    section = await exported_section(
        fanout.settings.kafka, fanout.producer, ExportService.FANOUT, f.tenant_id, ada_id
    )

    assert (section["service"], section["person"]["user_id"]) == ("fanout", ada_id)
    assert section["generated_at"]
    assert [(m["feed"], m["last_read_id"]) for m in section["markers"]] == [("home", post.id)]
    assert [r["followee_id"] for r in section["following"]] == [bob_id]
    assert [m["group_id"] for m in section["memberships"]] == [subject_id(team)]
    assert [m["other_id"] for m in section["mutes"]] == [bob_id]
    assert [(r["object_id"], r["kind"]) for r in section["reactions"]] == [
        (subject_id(post), "celebrate")
    ]
    assert [a["activity_id"] for a in section["activities"]] == [reply.id]
    assert section["blocks"] == section["followed_tags"] == []
