"""The factories' people with e-mail addresses and roles, group invites, and upstream tasks, in
the shape ingestion publishes them (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from canopy_common.events import CANOPY_TERMS
from canopy_common.iris import is_object_id
from canopy_testing.factories import ActivityFactory, subject_id
from canopy_testing.wire_format import wire

DUE = datetime(2026, 3, 2, 17, tzinfo=UTC)


def test_the_new_person_and_task_members_are_canopy_terms() -> None:
    assert {"email", "roles", "status"} <= set(CANOPY_TERMS)


# --- people ---------------------------------------------------------------------------------


def test_a_person_carries_an_email_address_and_distinct_sorted_roles(f: ActivityFactory) -> None:
    mo = wire(
        f.user("mo", email="mo@example.com", roles=["tenant_admin", "moderator", "moderator"])
    )

    assert mo["object"]["email"] == "mo@example.com"
    assert mo["object"]["roles"] == ["moderator", "tenant_admin"]
    assert mo["actor"] == mo["object"]
    plain = wire(f.user("ada"))["object"]
    assert "email" not in plain
    assert "roles" not in plain


def test_a_profile_update_changes_or_clears_email_and_roles(f: ActivityFactory) -> None:
    mo = f.user("mo", email="mo@old.example", roles=["moderator"])

    changed = wire(f.profile_update(mo, email="mo@new.example", roles=["analyst"]))["object"]
    cleared = wire(f.profile_update(mo, email=None, roles=()))["object"]

    assert (changed["email"], changed["roles"]) == ("mo@new.example", ["analyst"])
    assert "email" not in cleared
    assert "roles" not in cleared


# --- invites --------------------------------------------------------------------------------


def test_an_invite_carries_the_invitee_and_the_group_and_addresses_the_invitee(
    f: ActivityFactory,
) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group("Platform", owner=ada, visibility="private")

    doc = wire(f.invite(ada, team, bob))

    assert doc["type"] == "Invite"
    assert doc["actor"] == wire(ada)["object"]
    assert doc["object"] == wire(bob)["object"]
    assert doc["target"] == wire(team)["object"]
    assert doc["to"] == [subject_id(bob)]
    assert doc["visibility"] == "group"  # a private group's activities reach its members
    assert "role" not in doc
    assert wire(f.invite(ada, f.group(owner=ada), bob))["visibility"] == "internal"


# --- upstream tasks and events --------------------------------------------------------------


def test_a_task_is_the_upstream_object_with_due_time_assignees_and_status(
    f: ActivityFactory,
) -> None:
    jira, ada, bob = f.user("jira", kind="bot"), f.user("ada"), f.user("bob")

    doc = wire(
        f.task(jira, "Review", due=DUE, assignees=[ada, bob], task_id="https://jira.example/1")
    )

    task = doc["object"]
    assert is_object_id(doc["id"])
    assert (doc["type"], doc["source"], doc["visibility"]) == ("Create", "upstream", "direct")
    assert doc["actor"] == task["attributedTo"] == wire(jira)["object"]
    assert doc["to"] == task["to"] == [subject_id(ada), subject_id(bob)]
    assert "target" not in doc
    assert "context" not in doc
    assert task == {
        "type": "Task",
        "id": "https://jira.example/1",
        "kind": "task",
        "attributedTo": wire(jira)["object"],
        "content": "",
        "mediaType": "text/markdown",
        "name": "Review",
        "visibility": "direct",
        "context": "https://jira.example/1",
        "published": task["published"],
        "endTime": "2026-03-02T17:00:00Z",
        "to": [subject_id(ada), subject_id(bob)],
        "status": "open",
    }


def test_a_task_in_a_group_is_seen_by_its_members(f: ActivityFactory) -> None:
    bot, ada = f.user(kind="bot"), f.user("ada")
    team = f.group(owner=ada, visibility="private")

    doc = wire(f.task(bot, "Plan", due=DUE, assignees=[ada], group=team))

    assert doc["visibility"] == doc["object"]["visibility"] == "group"
    assert doc["object"]["target"] == wire(team)["object"]
    assert doc["to"] == [subject_id(ada)]
    assert "target" not in doc


def test_an_event_has_a_start_and_the_source_is_the_upstream_systems() -> None:
    f = ActivityFactory(source="outlook")
    ada = f.user("ada")

    doc = wire(f.task(ada, "Offsite", object_type="Event", start=DUE - timedelta(hours=8), due=DUE))

    assert (doc["object"]["type"], doc["object"]["kind"]) == ("Event", "event")
    assert doc["object"]["startTime"] == "2026-03-02T09:00:00Z"
    assert doc["source"] == "outlook"
    with pytest.raises(ValueError, match="Task or an Event"):
        f.task(ada, "x", due=DUE, object_type="Note")  # type: ignore[arg-type]


def test_an_upstream_update_completes_or_reschedules_the_whole_task(f: ActivityFactory) -> None:
    bot, ada, bob = f.user(kind="bot"), f.user("ada"), f.user("bob")
    task = f.task(bot, "Review", due=DUE, assignees=[ada], source="jira")
    created = wire(task)["object"]

    done = wire(f.update_task(task, status="completed"))
    moved = wire(f.update_task(task, due=DUE + timedelta(days=1), assignees=[bob]))

    assert (done["type"], done["source"]) == ("Update", "jira")
    assert done["object"] | {"updated": None} == created | {"status": "completed", "updated": None}
    assert done["actor"] == created["attributedTo"]
    assert (done["visibility"], done["to"]) == ("direct", [subject_id(ada)])
    assert moved["object"]["status"] == "open"  # an update that does not say keeps it
    assert moved["object"]["endTime"] == "2026-03-03T17:00:00Z"
    assert moved["to"] == moved["object"]["to"] == [subject_id(bob)]


def test_an_upstream_delete_leaves_a_bare_tombstone(f: ActivityFactory) -> None:
    bot, ada = f.user(kind="bot"), f.user("ada")
    task = f.task(bot, "Review", due=DUE, assignees=[ada])

    doc = wire(f.delete_task(task))

    assert doc["type"] == "Delete"
    assert doc["object"] == {
        "type": "Tombstone",
        "id": subject_id(task),
        "formerType": "Task",
    }
    assert (doc["visibility"], doc["to"], doc["source"]) == (
        "direct",
        [subject_id(ada)],
        "upstream",
    )
    assert "context" not in doc


def test_tasks_change_only_as_upstream_systems_change_them(f: ActivityFactory) -> None:
    bot, ada = f.user(kind="bot"), f.user("ada")
    task = f.task(bot, "Review", due=DUE, assignees=[ada])

    with pytest.raises(ValueError, match="update_task"):
        f.edit(task, "new text")
    with pytest.raises(ValueError, match="delete_task"):
        f.delete(bot, task)
    with pytest.raises(ValueError, match="not a task or event"):
        f.update_task(f.post(ada), status="completed")
