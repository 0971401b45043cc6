"""Parsing a canonical activity once into the change it makes (pure)."""

from __future__ import annotations

from canopy_common.activities import Membership
from canopy_common.events import Visibility, validate_activity
from canopy_common.vocabulary.changes import (
    Edit,
    Erasure,
    Follow,
    NewGroup,
    NewItem,
    ProfileChange,
    Reaction,
    ReactionUndone,
    Removal,
    Restriction,
    ShareUndone,
    change_of,
)
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject


def test_posts_shares_and_edits_are_items() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    post = f.post(ada, "Hello #news", hashtags=["news"])
    created = change_of(post)
    assert isinstance(created, NewItem)
    assert created.item.object_id == subject_id(post)
    assert created.item.hashtags == frozenset({"news"})
    shared = change_of(f.share(bob, post))
    assert isinstance(shared, NewItem)
    assert shared.item.type == "Announce"
    edited = change_of(f.edit(post, "Hello again"))
    assert isinstance(edited, Edit)
    assert edited.obj.content == "Hello again"


def test_an_accepted_answer_edits_the_question() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    question = f.post(ada, "How?", kind="question", object_type="Question")
    answer = f.answer(bob, question)
    accepted = change_of(f.accept(ada, question, answer))
    assert isinstance(accepted, Edit)
    assert accepted.item.object_id == subject_id(question)
    assert accepted.obj.accepted_answer == subject_id(answer)


def test_deleting_a_post_removes_it_and_erasing_a_person_erases_them() -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    post = f.post(ada)
    assert change_of(f.delete(ada, post)) == Removal(f.tenant_id, subject_id(post))
    assert change_of(f.erase(ada)) == Erasure(f.tenant_id, user_id_of_subject(ada))


def test_people_and_groups_are_projected_with_their_kind_and_visibility() -> None:
    f = ActivityFactory()
    bot = f.user("ci", kind="bot")
    assert change_of(bot) == ProfileChange(f.tenant_id, user_id_of_subject(bot), "bot")
    ada = f.user("ada")
    left, back = f.profile_update(ada, active=False), f.profile_update(ada, active=True)
    person = user_id_of_subject(ada)
    assert change_of(left) == ProfileChange(f.tenant_id, person, "employee", active=False)
    assert change_of(back) == ProfileChange(f.tenant_id, person, "employee", active=True)
    team = f.group("Ops", visibility="private")
    assert change_of(team) == NewGroup(f.tenant_id, subject_id(team), Visibility.GROUP)


def test_reactions_carry_their_kind_and_undos_name_what_they_undo() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    post = f.post(ada)
    like = f.like(bob, post, reaction="celebrate")
    assert change_of(like) == Reaction(
        f.tenant_id, user_id_of_subject(bob), subject_id(post), "celebrate", like.id
    )
    assert change_of(f.undo(like)) == ReactionUndone(f.tenant_id, like.id)
    share = f.share(bob, post)
    assert change_of(f.undo(share)) == ShareUndone(f.tenant_id, share.id)


def test_follows_blocks_and_mutes_start_and_end() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    a, b, t = user_id_of_subject(ada), user_id_of_subject(bob), f.tenant_id
    follow = f.follow(ada, bob)
    assert change_of(follow) == Follow(t, a, True, followee=b)
    assert change_of(f.undo(follow)) == Follow(t, a, False, followee=b)
    assert change_of(f.follow_tag(ada, "Release")) == Follow(t, a, True, hashtag="release")
    block = f.block(ada, bob)
    assert change_of(block) == Restriction(t, a, b, block=True, on=True)
    assert change_of(f.undo(block)) == Restriction(t, a, b, block=True, on=False)
    assert change_of(f.mute(ada, bob)) == Restriction(t, a, b, block=False, on=True)


def test_memberships_change_and_join_requests_do_not() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    guild = f.group("Guild", owner=ada, visibility="public")
    joined = change_of(f.join(bob, guild))
    assert isinstance(joined, Membership)
    assert joined.joining
    assert joined.tenant == f.tenant_id
    assert change_of(f.join_request(bob, guild)) is None


def test_a_self_follow_and_other_activities_change_nothing_here() -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    assert change_of(f.activity("Follow", ada, subject_id(ada))) is None
    assert change_of(f.tenant()) is None


def test_extension_terms_read_as_their_type_or_not_at_all() -> None:
    doc = {
        "id": "urn:uuid:1",
        "type": "Create",
        "actor": "urn:canopy:t:user:ada",
        "published": "2026-01-01T00:00:00Z",
        "tenant": "t",
        "role": "admin",
        "object": {
            "type": "Person",
            "id": "urn:canopy:t:user:ada",
            "kind": 7,
            "skills": ["Go", "SQL"],
            "location": {"type": "Place", "name": "Lyon"},
            "email": ["not", "text"],
        },
    }
    activity = validate_activity(doc)
    person = activity.object
    assert not isinstance(person, (str, list))
    assert person is not None
    assert activity.role == "admin"
    assert person.kind is None  # not a string: ignored by readers
    assert person.skills == ["Go", "SQL"]
    assert person.location_name == "Lyon"
    assert person.email is None
    assert person.term("email") == ["not", "text"]
