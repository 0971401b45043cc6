"""What consumers of canopy.activities.v1 accept: every activity ingestion publishes, and
nothing they could only ignore (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from canopy_common.events import InvalidActivity, InvalidJSON, StrictActivity, encode
from canopy_common.vocabulary.canonical import (
    MAX_ACTIVITY_BYTES,
    ActivityTooLarge,
    decode_canonical,
)
from canopy_testing.factories import ActivityFactory


def every_kind_ingestion_publishes() -> list[StrictActivity]:
    f = ActivityFactory()
    ada, bob = f.user("ada", roles=["moderator"]), f.user("bob")
    group = f.group("Ops", owner=ada, visibility="public")
    post = f.post(ada, "Hello #news", hashtags=["news"], mentions=[bob], group=group)
    question = f.post(ada, "How?", kind="question", object_type="Question")
    answer = f.answer(bob, question)
    like = f.like(bob, post, "celebrate")
    follow = f.follow(bob, ada)
    request = f.join_request(bob, group)
    task = f.task(ada, "Ship it", due=datetime.now(UTC) + timedelta(days=1), assignees=[bob])
    return [
        ada,
        bob,
        group,
        f.join(ada, group, role="owner"),
        f.add(ada, group, bob),
        f.change_role(ada, group, bob, "admin"),
        f.leave(bob, group),
        f.remove(ada, group, bob),
        request,
        f.reject_join(ada, group, request),
        f.invite(ada, group, bob),
        post,
        f.reply(bob, post, "Hi"),
        question,
        answer,
        f.accept(ada, question, answer),
        f.edit(post, "Hello again"),
        f.delete(ada, post),
        like,
        f.undo(like),
        f.share(bob, post),
        f.flag(bob, post),
        follow,
        f.undo(follow),
        f.follow_tag(bob, "news"),
        f.block(ada, bob),
        f.mute(bob, ada),
        f.profile_update(bob, title="Engineer"),
        f.erase(bob),
        task,
        f.update_task(task, status="completed"),
        f.delete_task(task),
    ]


@pytest.mark.parametrize("activity", every_kind_ingestion_publishes(), ids=lambda a: a.type)
def test_every_activity_ingestion_publishes_is_accepted(activity: StrictActivity) -> None:
    assert decode_canonical(encode(activity)) == activity


def doc_of(activity: StrictActivity, **members: Any) -> bytes:
    doc = orjson.loads(encode(activity))
    doc.update(members)
    return orjson.dumps({k: v for k, v in doc.items() if v is not ...})


def refusal(raw: bytes) -> InvalidActivity:
    with pytest.raises(InvalidActivity) as refused:
        decode_canonical(raw)
    return refused.value


def test_a_create_of_null_is_refused_naming_the_object() -> None:
    f = ActivityFactory()
    post = f.post(f.user("ada"))

    for raw in (doc_of(post, object=None), doc_of(post, object=...)):
        refused = refusal(raw)
        assert (refused.field, refused.reason) == ("object", "is required (not null) for Create")


def test_a_record_above_the_limit_is_refused_before_it_is_parsed() -> None:
    f = ActivityFactory()
    post = f.post(f.user("ada"), "x" * 900_000)
    raw = encode(post)

    refused = refusal(raw)

    assert type(refused) is ActivityTooLarge
    assert refused.field == "$"
    assert f"{len(raw):,} bytes" in refused.reason
    assert len(raw) > MAX_ACTIVITY_BYTES
    assert type(refusal(b"{" * (MAX_ACTIVITY_BYTES + 1))) is ActivityTooLarge  # not parsed


def test_the_largest_post_ingestion_accepts_fits_in_the_limit() -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    # 10,000 characters, each escaped by JSON as 6 bytes, edited: the Update embeds it whole.
    post = f.post(ada, "\u0001" * 10_000)
    edit = f.edit(post, "\u0001" * 10_000)

    for activity in (post, edit):
        assert decode_canonical(encode(activity)) == activity


def test_what_a_consumer_cannot_apply_is_refused_with_its_reason() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    group = f.group("Ops", owner=ada)
    post = f.post(ada)

    cases = {
        doc_of(post, type="Arrive"): ("type", "'Arrive' is not an activity type Canopy publishes"),
        doc_of(post, object=post.id): (
            "object",
            "must be embedded whole in Create, not a reference",
        ),
        doc_of(f.like(bob, post), object={"type": "Note"}): ("object", "must name an id in Like"),
        doc_of(f.add(ada, group, bob), target=None): ("target", "is required (not null) for Add"),
    }

    assert {raw: (r.field, r.reason) for raw in cases if (r := refusal(raw))} == cases


def test_strict_as2_refusals_come_first() -> None:
    assert type(refusal(b"{not json")) is InvalidJSON
    assert refusal(b'{"type": "Create"}').field == "id"
