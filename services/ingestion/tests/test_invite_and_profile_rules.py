"""Invite rules, e-mail addresses, and the Person and task fields notifications read: pure
functions, no servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canopy_common.errors import Conflict, Forbidden, NotFound
from canopy_common.events import Visibility
from canopy_common.iris import user_iri
from canopy_ingestion.domain.activities import person, post_object
from canopy_ingestion.domain.model import (
    Group,
    GroupVisibility,
    MemberRole,
    Post,
    PostKind,
    TaskStatus,
    User,
    UserKind,
)
from canopy_ingestion.domain.permissions import (
    MembershipChange,
    can_see_group,
    decide_invite,
    decide_membership_put,
)
from canopy_ingestion.domain.text import InvalidText, validate_email

OWNER, ADMIN, MEMBER = MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER


def a_person(
    user_id: str,
    kind: UserKind = UserKind.EMPLOYEE,
    *,
    email: str | None = None,
    roles: tuple[str, ...] = (),
    active: bool = True,
) -> User:
    return User(
        tenant_id="t1",
        id=user_id,
        handle=user_id,
        display_name=user_id.title(),
        kind=kind,
        email=email,
        roles=roles,
        active=active,
    )


def a_group(visibility: GroupVisibility) -> Group:
    return Group(tenant_id="t1", id="g1", name="G", visibility=visibility, owner_id="ada")


ADA, BOB, GUS = a_person("ada"), a_person("bob"), a_person("gus", UserKind.GUEST)
PUBLIC = a_group(GroupVisibility.PUBLIC)
INTERNAL = a_group(GroupVisibility.INTERNAL)
PRIVATE = a_group(GroupVisibility.PRIVATE)


def invite(
    group: Group,
    *,
    role: MemberRole | None,
    invitee: User = BOB,
    invitee_role: MemberRole | None = None,
    invited: bool = False,
) -> None:
    decide_invite(
        ADA,
        group,
        inviter_role=role,
        invitee=invitee,
        invitee_role=invitee_role,
        inviter_invited=invited,
    )


# --- invites --------------------------------------------------------------------------------


def test_members_invite_into_open_groups_and_admins_into_private_ones() -> None:
    invite(PUBLIC, role=MEMBER)
    invite(INTERNAL, role=MEMBER)
    invite(PRIVATE, role=ADMIN)
    invite(PRIVATE, role=OWNER)
    with pytest.raises(Forbidden, match="private group"):
        invite(PRIVATE, role=MEMBER)


def test_non_members_cannot_invite_and_a_private_group_stays_hidden() -> None:
    with pytest.raises(Forbidden, match="members"):
        invite(PUBLIC, role=None)
    with pytest.raises(NotFound):
        invite(PRIVATE, role=None)
    with pytest.raises(Forbidden, match="members"):
        invite(PRIVATE, role=None, invited=True)  # an invitee sees it, yet is no member


def test_only_admins_invite_a_guest_into_a_group_guests_cannot_see() -> None:
    invite(PUBLIC, role=MEMBER, invitee=GUS)
    invite(INTERNAL, role=ADMIN, invitee=GUS)
    with pytest.raises(Forbidden, match="guest"):
        invite(INTERNAL, role=MEMBER, invitee=GUS)


def test_a_member_cannot_be_invited() -> None:
    with pytest.raises(Conflict, match="member"):
        invite(PUBLIC, role=MEMBER, invitee_role=MEMBER)


def test_an_invitee_sees_the_group_and_may_join_it_as_a_member() -> None:
    assert not can_see_group(BOB, PRIVATE, None)
    assert can_see_group(BOB, PRIVATE, None, invited=True)
    assert can_see_group(GUS, INTERNAL, None, invited=True)
    assert not can_see_group(a_person("x", active=False), PRIVATE, None, invited=True)

    def join(group: Group, wanted: MemberRole = MEMBER, *, invited: bool) -> MembershipChange:
        return decide_membership_put(
            BOB,
            group,
            actor_role=None,
            subject=BOB,
            subject_role=None,
            wanted=wanted,
            owners=1,
            invited=invited,
        )

    assert join(PRIVATE, invited=True) is MembershipChange.JOIN
    with pytest.raises(NotFound):
        join(PRIVATE, invited=False)
    with pytest.raises(Forbidden, match="join as a member"):
        join(PRIVATE, ADMIN, invited=True)


# --- e-mail addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+work@Mail.Example.CO.UK ", "Ada.Lovelace+work@mail.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_a_plausible_address_is_kept_with_its_domain_lower_cased(given: str, stored: str) -> None:
    assert validate_email(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "ada",
        "ada@example",  # no top-level domain
        "ada.example.com",
        "ada@@example.com",
        "a..b@example.com",
        ".ada@example.com",
        "ada lovelace@example.com",
        "ada@exa_mple.com",
        "ada@-example.com",
        "ada@example.c0m",
        "ada@example.com\u202e",
        "a" * 65 + "@example.com",
        "ada@" + "x" * 250 + ".com",
    ],
)
def test_an_implausible_address_is_refused_naming_the_field(given: str) -> None:
    with pytest.raises(InvalidText) as refused:
        validate_email(given)

    assert refused.value.field == "email"


# --- what activities carry ------------------------------------------------------------------


def test_a_person_carries_email_and_roles_only_when_set() -> None:
    plain = person(ADA)
    mod = person(a_person("mo", email="mo@example.com", roles=("analyst", "moderator")))

    assert "email" not in plain
    assert "roles" not in plain
    assert (mod["email"], mod["roles"]) == ("mo@example.com", ["analyst", "moderator"])


def scheduled(kind: PostKind, status: TaskStatus | None) -> Post:
    now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    return Post(
        tenant_id="t1",
        id="https://tracker.example/T-1",
        author_id="ada",
        kind=kind,
        as2_type=kind.value.title(),
        content="",
        visibility=Visibility.DIRECT,
        thread_id="https://tracker.example/T-1",
        published=now,
        updated=now,
        to_ids=("bob",),
        end_time=now,
        status=status,
    )


def test_tasks_and_events_say_their_status_and_posts_do_not() -> None:
    done = post_object(scheduled(PostKind.TASK, TaskStatus.COMPLETED), author=ADA)
    unset = post_object(scheduled(PostKind.EVENT, None), author=ADA)
    note = post_object(scheduled(PostKind.NOTE, TaskStatus.OPEN), author=ADA)

    assert done["status"] == "completed"
    assert done["to"] == [user_iri("t1", "bob")]
    assert unset["status"] == "open"  # a task stored before statuses existed
    assert "status" not in note
