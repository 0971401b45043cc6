"""A deactivated person in fanout (docs/architecture.md §16): they may not read, their items
stay in feeds with their Person marked ``active: false`` (a former colleague), their own feed
stays readable; reactivation restores it all. Erasure still takes their items away."""

from __future__ import annotations

from typing import Any

import pytest
from fanout_harness import Fanout, object_ids

from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject

pytestmark = pytest.mark.integration

HOME = "/v1/feeds/home"


def uid(subject: object) -> str:
    return user_id_of_subject(subject)  # type: ignore[arg-type]


def marks(item: dict[str, Any]) -> tuple[object, object]:
    """Whether the item's actor and its object's author are shown as former colleagues."""
    return item["actor"].get("active"), item["object"]["attributedTo"].get("active")


async def test_a_leavers_answer_stays_in_feeds_marked_and_they_may_not_read(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    mateo, nadia, omar = f.user("mateo"), f.user("nadia"), f.user("omar")
    await fanout.send(mateo, nadia, omar, f.follow(nadia, mateo), f.follow(omar, nadia))
    for reader in (mateo, nadia, omar):  # recent readers get pushes
        assert await fanout.feed(HOME, f.tenant_id, uid(reader)) == []
    question = f.post(nadia, "Which API for exports?", kind="question")
    answer = f.post(mateo, "Use the v2 API", in_reply_to=question, kind="answer")
    tip = f.post(mateo, "Exports are paged by cursor")
    await fanout.send(question, answer, tip)
    share = f.share(nadia, tip)
    await fanout.send(share)
    mateo_feed = f"/v1/feeds/users/{uid(mateo)}"

    await fanout.send(f.profile_update(mateo, active=False))

    refused = await fanout.get(HOME, f.tenant_id, uid(mateo))
    assert refused.status_code == 403
    home = await fanout.feed(HOME, f.tenant_id, uid(nadia))
    assert object_ids(home) == [subject_id(tip), subject_id(tip), subject_id(question)]
    # her share of mateo's tip, the tip itself, her question
    assert [marks(item) for item in home] == [(None, False), (False, False), (None, None)]
    shared, _question = await fanout.feed(HOME, f.tenant_id, uid(omar))
    assert (shared["type"], marks(shared)) == ("Announce", (None, False))
    [own] = await fanout.feed(mateo_feed, f.tenant_id, uid(nadia))  # their knowledge stays
    assert marks(own) == (False, False)

    await fanout.send(f.profile_update(mateo, active=True))

    assert (await fanout.get(HOME, f.tenant_id, uid(mateo))).status_code == 200
    home = await fanout.feed(HOME, f.tenant_id, uid(nadia))
    assert [marks(item) for item in home] == [(None, None)] * 3


async def test_erasing_a_deactivated_person_still_takes_their_items_away(fanout: Fanout) -> None:
    f = ActivityFactory()
    eve, nadia = f.user("eve"), f.user("nadia")
    await fanout.send(eve, nadia, f.follow(nadia, eve))
    await fanout.feed(HOME, f.tenant_id, uid(nadia))
    post = f.post(eve, "Handover notes")
    await fanout.send(post, f.profile_update(eve, active=False))
    assert object_ids(await fanout.feed(HOME, f.tenant_id, uid(nadia))) == [subject_id(post)]

    await fanout.send(f.erase(eve))

    assert await fanout.feed(HOME, f.tenant_id, uid(nadia)) == []
    gone = await fanout.get(f"/v1/feeds/users/{uid(eve)}", f.tenant_id, uid(nadia))
    assert gone.status_code == 404
