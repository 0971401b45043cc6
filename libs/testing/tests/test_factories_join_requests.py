"""The factories' join requests (a pending Join), their Reject and their withdrawal (Undo), in
the shape ingestion publishes them (no network)."""

from __future__ import annotations

import pytest

from canopy_testing.factories import ActivityFactory, subject_id
from canopy_testing.wire_format import wire


def test_a_join_request_is_a_join_with_status_pending(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    guild = f.group("Guild", owner=ada, visibility="internal")

    doc = wire(f.join_request(bob, guild))
    plain = wire(f.join(bob, guild))

    assert doc["status"] == "pending"
    assert "status" not in plain
    without = {k: v for k, v in doc.items() if k not in ("id", "published", "status")}
    assert without == {k: v for k, v in plain.items() if k not in ("id", "published")}
    assert doc["actor"] == wire(bob)["object"]
    assert doc["object"] == doc["target"] == wire(guild)["object"]
    assert (doc["role"], doc["visibility"]) == ("member", "internal")


def test_a_private_group_takes_no_join_requests(f: ActivityFactory) -> None:
    ada = f.user("ada")
    secret = f.group("Secret", owner=ada, visibility="private")

    with pytest.raises(ValueError, match="private"):
        f.join_request(f.user("bob"), secret)


def test_declining_a_request_rejects_the_pending_join_to_the_requester(
    f: ActivityFactory,
) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    guild = f.group("Guild", owner=ada, visibility="public")
    request = f.join_request(bob, guild)

    doc = wire(f.reject_join(ada, guild, request))

    assert doc["type"] == "Reject"
    assert doc["actor"] == wire(ada)["object"]
    assert doc["object"] == request.id
    assert doc["target"] == wire(guild)["object"]
    assert doc["to"] == [subject_id(bob)]
    assert doc["visibility"] == "public"


def test_only_a_pending_join_is_rejected(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    guild = f.group("Guild", owner=ada)

    with pytest.raises(ValueError, match="pending Join"):
        f.reject_join(ada, guild, f.join(bob, guild))


def test_withdrawing_a_request_undoes_the_pending_join(f: ActivityFactory) -> None:
    ada, bob = f.user("ada"), f.user("bob")
    guild = f.group("Guild", owner=ada)
    request = f.join_request(bob, guild)

    doc = wire(f.undo(request))

    assert doc["type"] == "Undo"
    assert doc["actor"] == wire(bob)["object"]
    assert doc["target"] == wire(guild)["object"]
    undone = doc["object"]
    assert undone | {"published": None} == {
        "type": "Join",
        "id": request.id,
        "actor": subject_id(bob),
        "object": wire(guild)["object"],
        "published": None,
        "status": "pending",
    }
    with pytest.raises(ValueError, match="no Undo of a 'Join'"):
        f.undo(f.join(bob, guild))  # a membership ends with a Leave
