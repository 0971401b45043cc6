"""Reading canonical activities: membership changes (pure)."""

from __future__ import annotations

from canopy_common.activities import membership_of
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject


def test_joins_adds_leaves_and_removes_name_the_member_and_the_group() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group("Ops", owner=ada, visibility="internal")
    cases = {
        "join": (f.join(bob, team), True, "member"),
        "owner": (f.join(ada, team, role="owner"), True, "owner"),
        "add": (f.add(ada, team, bob, role="admin"), True, "admin"),
        "leave": (f.leave(bob, team), False, "member"),
        "remove": (f.remove(ada, team, bob), False, "member"),
    }
    for name, (activity, joining, role) in cases.items():
        change = membership_of(activity)
        assert change is not None, name
        who = ada if name == "owner" else bob
        assert change.member == user_id_of_subject(who), name
        assert change.group_id == subject_id(team), name
        assert (change.joining, change.role) == (joining, role), name
        assert change.group is not None
        assert change.group.name == "Ops"


def test_a_join_request_and_other_activities_change_no_membership() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    guild = f.group("Guild", owner=ada, visibility="public")
    assert membership_of(f.join_request(bob, guild)) is None
    assert membership_of(f.follow(bob, ada)) is None
    assert membership_of(guild) is None
