"""Notify's section of a person's data export (docs/architecture.md §16 "Export"), asked for
over the real broker as ingestion asks: their notifications, preferences and mutes, and
nothing of anyone else's."""

from __future__ import annotations

import pytest
from notify_harness import Notify

from canopy_common.exports import ExportService
from canopy_testing.exports import exported_section
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject

pytestmark = pytest.mark.integration


async def test_the_section_holds_the_persons_notifications_preferences_and_mutes(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    ada_id, bob_id = user_id_of_subject(ada), user_id_of_subject(bob)
    post = f.post(ada, "Runbooks live in the wiki")
    await notify.send(ada, bob, post, f.follow(bob, ada))
    await notify.send(f.like(bob, post), f.reply(ada, post, "And @bob wrote them", mentions=[bob]))
    headers = notify.headers(f.tenant_id, ada_id)
    for path, body in (
        (
            "/v1/notification-preferences",
            {"digest": "daily", "categories": {"reaction": {"email": False}}},
        ),
        (f"/v1/notification-mutes/actor/{bob_id}", None),
    ):
        done = await notify.client.put(path, headers=headers, json=body)
        assert done.is_success, done.text

    section = await exported_section(
        notify.settings.kafka, notify.producer, ExportService.NOTIFY, f.tenant_id, ada_id
    )

    assert (section["service"], section["person"]["user_id"]) == ("notify", ada_id)
    assert sorted(n["type"] for n in section["notifications"]) == ["follow", "reaction"]
    reaction = next(n for n in section["notifications"] if n["type"] == "reaction")
    assert reaction["object_id"] == subject_id(post)
    assert [a["actor_id"] for a in reaction["actors"]] == [bob_id]
    assert all(n["recipient"] == ada_id for n in section["notifications"])
    assert [(p["category"], p["channel"], p["enabled"]) for p in section["preferences"]] == [
        ("reaction", "email", False)
    ]
    assert section["settings"]["digest"] == "daily"
    assert [(m["kind"], m["target_id"]) for m in section["mutes"]] == [("actor", bob_id)]
    assert section["threads_taken_part_in"]  # her post's thread
