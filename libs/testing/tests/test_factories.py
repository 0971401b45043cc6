"""The test factories build activities in the canonical shape ingestion publishes (no network)."""

from __future__ import annotations

import re

import pytest

from canopy_common.as2_rules import iter_violations
from canopy_common.events import (
    AS2Object,
    decode_activity,
    encode,
    validate_activity,
)
from canopy_common.iris import is_object_id, tag_iri, user_iri
from canopy_common.principal import TENANT_ID_PATTERN
from canopy_testing.factories import (
    ActivityFactory,
    new_tenant_id,
    subject_id,
    user_id_of_subject,
)
from canopy_testing.wire_format import wire

INGESTION_TENANT_ID = re.compile(TENANT_ID_PATTERN)


def test_every_activity_is_canonical_strict_and_survives_the_wire(f: ActivityFactory) -> None:
    ada = f.user("ada", title="Engineer", email="ada@example.com", roles=["moderator"])
    bob = f.user("bob")
    team = f.group("Platform", owner=ada, visibility="private")
    post = f.post(ada, "Ship it #release", group=team, hashtags=["release"])
    question = f.post(ada, "How?", object_type="Question")
    answer = f.answer(bob, question)
    follow, like, share = f.follow(bob, ada), f.like(bob, post), f.share(bob, post)
    made = [
        f.tenant(),
        ada,
        bob,
        team,
        f.join(ada, team, role="owner"),
        f.add(ada, team, bob),
        f.change_role(ada, team, bob, "admin"),
        f.leave(bob, team),
        f.remove(ada, team, bob),
        f.invite(ada, team, bob),
        post,
        f.reply(bob, post),
        question,
        answer,
        f.accept(ada, question, answer),
        follow,
        f.undo(follow),
        f.follow_tag(bob, "#Release"),
        f.block(ada, bob),
        f.mute(ada, bob),
        like,
        f.undo(like),
        share,
        f.undo(share),
        f.flag(bob, post, "off topic"),
        f.edit(post, "Shipped #release"),
        f.delete(ada, post),
        f.profile_update(bob, department="R&D"),
        f.erase(bob),
    ]

    for activity in made:
        doc = wire(activity)
        assert not list(iter_violations(doc))
        assert validate_activity(doc) == decode_activity(encode(activity)) == activity
        assert doc["tenant"] == f.tenant_id
        assert doc["source"] == "http"
        assert doc["actor"]["type"] == "Person"
        assert is_object_id(doc["id"])
    assert len({activity.id for activity in made}) == len(made)


def test_tenant_ids_are_what_ingestion_accepts() -> None:
    assert INGESTION_TENANT_ID.match(new_tenant_id())
    assert ActivityFactory().tenant_id != ActivityFactory().tenant_id
    assert ActivityFactory("acme").user().tenant == "acme"
    with pytest.raises(ValueError, match="tenant id"):
        ActivityFactory("a:b")


def test_a_user_is_a_provisioned_person_with_a_tenant_scoped_iri(f: ActivityFactory) -> None:
    boss = f.user("grace")
    created = f.user(
        "ada",
        user_id="u-42",
        display_name="Ada Lovelace",
        kind="guest",
        title="Analyst",
        skills=["math"],
        manager=boss,
    )

    doc = wire(created)
    person = {
        "type": "Person",
        "id": user_iri(f.tenant_id, "u-42"),
        "name": "Ada Lovelace",
        "preferredUsername": "ada",
        "kind": "guest",
        "title": "Analyst",
        "skills": ["math"],
        "manager": subject_id(boss),
    }
    assert doc["type"] == "Create"
    assert doc["actor"] == doc["object"] == person
    assert doc["visibility"] == "public"
    assert doc["attributedTo"] == subject_id(f.admin)
    assert isinstance(created.object, AS2Object)
    assert user_id_of_subject(created) == user_id_of_subject(created.object) == "u-42"


def test_a_post_in_a_private_group_targets_the_group_seen_as_group(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group("Platform", owner=ada, visibility="private")

    doc = wire(
        f.post(ada, "Ship it @bob #Release", group=team, mentions=[bob], hashtags=["Release"])
    )

    group = {
        "type": "Group",
        "id": subject_id(team),
        "name": "Platform",
        "visibility": "group",
        "attributedTo": subject_id(ada),
    }
    note = doc["object"]
    assert is_object_id(note["id"])
    assert is_object_id(group["id"])
    assert (doc["type"], note["type"], note["kind"]) == ("Create", "Note", "note")
    assert doc["actor"] == note["attributedTo"] == wire(ada)["object"]
    assert doc["target"] == note["target"] == group
    assert doc["visibility"] == note["visibility"] == "group"
    assert doc["context"] == note["context"] == note["id"]  # a top-level post starts a thread
    assert note["mediaType"] == "text/markdown"
    assert note["tag"] == [
        {"type": "Mention", "href": subject_id(bob), "name": "@bob"},
        {"type": "Hashtag", "href": tag_iri(f.tenant_id, "release"), "name": "#release"},
    ]
    assert "to" not in doc
    assert "inReplyTo" not in note
    assert "updated" not in note


def test_group_visibility_maps_to_how_its_items_are_seen(f: ActivityFactory) -> None:
    assert [
        wire(f.group(visibility=v))["object"]["visibility"] for v in ("public", "internal")
    ] == [
        "public",
        "internal",
    ]
    created = wire(f.group())
    assert created["actor"]["id"] == created["object"]["attributedTo"] == subject_id(f.admin)
    assert created["target"] == created["object"]
    with pytest.raises(ValueError, match="public, internal or private"):
        f.group(visibility="direct")  # type: ignore[arg-type]


def test_a_reply_joins_its_parents_thread_group_and_audience(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group(owner=ada, visibility="private")
    root = f.post(ada, group=team)
    reply = f.reply(bob, root, "+1")
    deeper = f.reply(ada, reply, "thanks")

    root_doc, reply_doc, deeper_doc = wire(root), wire(reply), wire(deeper)
    thread = root_doc["object"]["id"]
    assert reply_doc["context"] == reply_doc["object"]["context"] == thread
    assert deeper_doc["object"]["context"] == thread
    assert reply_doc["object"]["inReplyTo"] == {"id": thread, "attributedTo": subject_id(ada)}
    assert deeper_doc["object"]["inReplyTo"] == {
        "id": reply_doc["object"]["id"],
        "attributedTo": subject_id(bob),
    }
    assert reply_doc["target"] == root_doc["target"]
    assert reply_doc["visibility"] == "group"


def test_a_direct_post_and_its_replies_address_the_conversation(f: ActivityFactory) -> None:
    ada, bob, cy, dee = f.user("ada"), f.user("bob"), f.user("cy"), f.user("dee")

    post = f.post(ada, "psst", to=[bob, cy])
    reply = f.reply(bob, post, "ok", to=[dee])

    assert wire(post)["visibility"] == "direct"
    assert wire(post)["to"] == wire(post)["object"]["to"] == [subject_id(bob), subject_id(cy)]
    assert wire(reply)["to"] == [subject_id(cy), subject_id(ada), subject_id(dee)]
    with pytest.raises(ValueError, match="cannot be shared"):
        f.share(cy, post)


def test_audiences_ingestion_refuses_are_refused(f: ActivityFactory) -> None:
    ada, bob = f.user(), f.user()
    private = f.group(owner=ada, visibility="private")
    with pytest.raises(ValueError, match="needs its addressees"):
        f.post(ada, visibility="direct")  # nobody to address
    with pytest.raises(ValueError, match="addressees of a direct post only"):
        f.post(ada, to=[bob], visibility="internal")
    with pytest.raises(ValueError, match="needs a group"):
        f.post(ada, visibility="group")  # no group
    with pytest.raises(ValueError, match="may not be internal"):
        f.post(ada, group=private, visibility="internal")  # wider than the group
    with pytest.raises(ValueError, match="visibility of its thread"):
        f.reply(bob, f.post(ada), visibility="public")  # a reply keeps its thread's


def test_undo_embeds_the_original_follow_and_is_addressed_like_it(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    follow = f.follow(ada, bob)

    follow_doc, undo_doc = wire(follow), wire(f.undo(follow))

    assert follow_doc["object"] == wire(bob)["object"]
    assert follow_doc["to"] == [subject_id(bob)]
    assert follow_doc["visibility"] == "direct"
    assert undo_doc["type"] == "Undo"
    assert undo_doc["actor"] == follow_doc["actor"]
    assert undo_doc["object"] == {
        "type": "Follow",
        "id": follow.id,
        "actor": subject_id(ada),
        "object": follow_doc["object"],
        "published": follow_doc["published"],
    }
    assert (undo_doc["visibility"], undo_doc["to"]) == ("direct", [subject_id(bob)])


def test_hashtag_follows_blocks_and_mutes_are_direct_to_nobody(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")

    tag, block, mute = f.follow_tag(ada, "#Release"), f.block(ada, bob), f.mute(ada, bob)

    assert wire(tag)["object"] == {
        "type": "Hashtag",
        "id": tag_iri(f.tenant_id, "release"),
        "name": "#release",
    }
    assert [a.type for a in (tag, block, mute)] == ["Follow", "Block", "Ignore"]
    for activity in (tag, block, mute, f.undo(tag), f.undo(block), f.undo(mute)):
        assert (activity.visibility, activity.to) == ("direct", None)
    assert wire(block)["object"] == wire(mute)["object"] == wire(bob)["object"]
    assert wire(f.undo(mute))["object"]["type"] == "Ignore"


def test_membership_activities_carry_the_group_as_target(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group("Platform", owner=ada, visibility="private")
    group = wire(team)["object"]

    join, add = wire(f.join(ada, team, role="owner")), wire(f.add(ada, team, bob, role="admin"))
    leave, remove = wire(f.leave(bob, team)), wire(f.remove(ada, team, bob))

    for doc in (join, add, leave, remove):
        assert doc["target"] == group
        assert doc["visibility"] == "group"
    assert (join["object"], join["role"]) == (group, "owner")
    assert leave["object"] == group
    assert "role" not in leave
    for doc in (add, remove):
        assert doc["object"] == wire(bob)["object"]
        assert doc["to"] == [subject_id(bob)]
    assert add["role"] == "admin"
    assert "role" not in remove


def test_reactions_and_shares_carry_the_post_and_its_audience(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group(owner=ada, visibility="private")
    post = f.post(ada, group=team)
    note = wire(post)["object"]

    like = f.like(bob, post, "celebrate")
    share, undo = wire(f.share(bob, post)), wire(f.undo(like))

    for doc in (wire(like), share, undo):
        assert (doc["visibility"], doc["target"], doc["context"]) == (
            "group",
            note["target"],
            note["id"],
        )
    assert wire(like)["object"] == share["object"] == note
    assert wire(like)["reaction"] == "celebrate"
    assert undo["object"] == {
        "type": "Like",
        "id": like.id,
        "actor": subject_id(bob),
        "object": {"type": "Note", "id": note["id"], "attributedTo": subject_id(ada)},
        "reaction": "celebrate",
    }


def test_an_edit_updates_the_same_post_and_a_delete_leaves_a_tombstone(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    root = f.post(ada)
    reply = f.reply(bob, root, "first")

    edited = wire(f.edit(reply, "first!", hashtags=["fun"]))
    deleted = wire(f.delete(ada, reply))

    old = wire(reply)["object"]
    assert edited["type"] == "Update"
    assert edited["actor"]["id"] == subject_id(bob)
    assert edited["object"]["id"] == old["id"]
    assert (edited["object"]["content"], edited["object"]["published"]) == (
        "first!",
        old["published"],
    )
    assert "updated" in edited["object"]
    assert edited["object"]["tag"] == [
        {"type": "Hashtag", "href": tag_iri(f.tenant_id, "fun"), "name": "#fun"}
    ]
    tombstone = dict(deleted["object"])
    assert tombstone.pop("deleted")
    assert tombstone == {
        "type": "Tombstone",
        "id": old["id"],
        "formerType": "Note",
        "kind": "note",
        "attributedTo": subject_id(bob),
        "context": old["context"],
        "inReplyTo": subject_id(root),
    }
    assert (deleted["actor"]["id"], deleted["context"]) == (subject_id(ada), old["context"])


def test_accepting_an_answer_targets_the_question(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    question = f.post(ada, "Which queue?", object_type="Question")
    answer = f.answer(bob, question, "Kafka")

    accept = wire(f.accept(ada, question, answer))

    assert wire(answer)["object"]["kind"] == "answer"
    assert accept["object"] == wire(answer)["object"]
    assert accept["target"]["id"] == subject_id(question)
    assert accept["target"]["type"] == "Question"
    assert accept["target"]["acceptedAnswer"] == subject_id(answer)
    assert accept["context"] == subject_id(question)
    with pytest.raises(ValueError, match="does not answer"):
        f.accept(ada, question, f.post(bob))


def test_profile_updates_and_erasure(f: ActivityFactory) -> None:
    ada = f.user("ada", title="Engineer", department="Platform")

    update = wire(f.profile_update(ada, title=None, skills=["sql"], display_name="Ada L."))
    erase = wire(f.erase(ada))

    person = update["object"]
    assert update["type"] == "Update"
    assert update["actor"] == person
    assert (person["name"], person["skills"], person["department"]) == (
        "Ada L.",
        ["sql"],
        "Platform",
    )
    assert "title" not in person
    assert update["visibility"] == "public"
    assert erase["type"] == "Delete"
    assert erase["visibility"] == "public"
    assert erase["actor"] == {
        "type": "Person",
        "id": subject_id(ada),
        "name": "Deleted user",
        "preferredUsername": user_id_of_subject(ada),
        "kind": "employee",
        "active": False,  # what is left of them may not act
    }
    assert erase["object"]["type"] == "Tombstone"
    assert (erase["object"]["id"], erase["object"]["formerType"]) == (subject_id(ada), "Person")
    assert erase["attributedTo"] == subject_id(f.admin)
    with pytest.raises(TypeError):
        f.profile_update(ada, shoe_size=42)
    left = wire(f.profile_update(ada, active=False))
    assert left["object"]["active"] is False
    assert left["actor"] == left["object"]


def test_a_bare_person_iri_stands_for_a_minimal_person(f: ActivityFactory) -> None:
    post = wire(f.post(user_iri(f.tenant_id, "ada")))

    assert post["actor"] == {
        "type": "Person",
        "id": user_iri(f.tenant_id, "ada"),
        "name": "ada",
        "preferredUsername": "ada",
        "kind": "employee",
    }
    with pytest.raises(ValueError, match="no person IRI of tenant"):
        f.post(user_iri("another-tenant", "ada"))
