"""The one post-creation handler over a fake unit of work: no servers.

The same handler serves an HTTP request and an upstream note; these tests pin what it decides
and what it records (the post, a policy flag, the activities) — and that a refused post
records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from canopy_common.errors import Forbidden, InvalidInput, NotFound
from canopy_common.events import Visibility
from canopy_ingestion.adapters.outbox import Statement
from canopy_ingestion.adapters.posts import PostContext
from canopy_ingestion.domain.activities import CanonicalActivity
from canopy_ingestion.domain.model import (
    Group,
    GroupVisibility,
    MemberRole,
    Post,
    PostKind,
    Tenant,
    User,
    UserKind,
)
from canopy_ingestion.domain.policy import ContentPolicyViolation
from canopy_ingestion.handlers.posts import NewPost, create_post

ADA = User("acme", "ada", "ada", "Ada", UserKind.EMPLOYEE)
GRACE = User("acme", "grace", "grace", "Grace", UserKind.EMPLOYEE)
GONE = User("acme", "gone", "gone", "Gone", UserKind.EMPLOYEE, active=False)
GUS = User("acme", "gus", "gus", "Gus", UserKind.GUEST)
ENGINEERING = Group("acme", "eng", "Engineering", GroupVisibility.INTERNAL, "grace")
BOARD = Group("acme", "board", "Board", GroupVisibility.PRIVATE, "grace")
CARD = "4111 1111 1111 1111"  # a test Visa number: the default rules match it


class FakeWork:
    """A :class:`~canopy_ingestion.handlers.post_work.PostWork` over dictionaries, recording
    what the handler writes (mypy checks it fits wherever it is passed)."""

    def __init__(
        self,
        *,
        people: Iterable[User] = (ADA, GRACE, GONE, GUS),
        groups: Iterable[Group] = (ENGINEERING, BOARD),
        roles: dict[tuple[str, str], MemberRole] | None = None,
        posts: Iterable[PostContext] = (),
        guest_groups: Iterable[str] = (),
    ) -> None:
        self.people = {user.id: user for user in people}
        self.groups = {group.id: group for group in groups}
        self.roles = roles or {}
        self.posts = {ctx.post.id: ctx for ctx in posts}
        self.guest_groups = set(guest_groups)
        self.added: list[tuple[Post, tuple[Statement, ...]]] = []
        self.published: list[CanonicalActivity] = []

    async def tenant(self, tenant_id: str) -> Tenant | None:
        return Tenant(tenant_id, "Acme")

    async def has_guest_members(self, tenant_id: str, group_id: str) -> bool:
        return group_id in self.guest_groups

    async def users(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, User]:
        return {uid: self.people[uid] for uid in user_ids if uid in self.people}

    async def active_by_handle(self, tenant_id: str, handles: Iterable[str]) -> dict[str, User]:
        by_handle = {user.handle: user for user in self.people.values() if user.active}
        return {h: by_handle[h] for h in handles if h in by_handle}

    async def group_with_role(
        self, tenant_id: str, group_id: str, user_id: str
    ) -> tuple[Group, MemberRole | None] | None:
        found = self.groups.get(group_id)
        return None if found is None else (found, self.roles.get((group_id, user_id)))

    async def live_post(self, actor: User, post_id: str) -> PostContext | None:
        return self.posts.get(post_id)

    def add_post(self, post: Post, *records: Statement) -> None:
        self.added.append((post, records))

    def publish(self, *activities: CanonicalActivity) -> None:
        self.published.extend(activities)

    @property
    def untouched(self) -> bool:
        return not self.added and not self.published


async def test_a_post_is_recorded_with_its_mentions_hashtags_and_create() -> None:
    work = FakeWork()
    obj = await create_post(NewPost("hi @grace and @nobody #launch"), work=work, actor=ADA)
    [(post, records)] = work.added
    assert (post.author_id, post.kind, post.visibility) == (
        "ada",
        PostKind.NOTE,
        Visibility.INTERNAL,
    )
    assert post.mentions == ("grace",)
    assert post.hashtags == ("launch",)
    assert records == ()
    [create] = [a.doc for a in work.published]
    assert create["type"] == "Create"
    assert create["object"]["id"] == post.id == obj["id"]


async def test_a_member_posts_into_a_private_group_with_group_visibility() -> None:
    work = FakeWork(roles={("board", "ada"): MemberRole.MEMBER})
    await create_post(NewPost("hello", group_id="board"), work=work, actor=ADA)
    [(post, _)] = work.added
    assert (post.group_id, post.visibility) == ("board", Visibility.GROUP)


async def test_a_secret_guests_cannot_read_is_accepted_and_flagged_in_the_same_work() -> None:
    work = FakeWork()
    await create_post(NewPost(f"card {CARD}", group_id="eng"), work=work, actor=ADA)
    [(post, [flag_row])] = work.added
    assert "INSERT INTO flags" in flag_row.sql
    assert post.id in flag_row.args
    assert [a.type for a in work.published] == ["Create", "Flag"]


REFUSED = [
    pytest.param(NewPost("hi"), GUS, (), Forbidden, "guests post only", id="guest-outside-groups"),
    pytest.param(
        NewPost("hi", group_id="board"), ADA, (), NotFound, "no group 'board'", id="group"
    ),
    pytest.param(
        NewPost(f"card {CARD}", visibility=Visibility.PUBLIC),
        ADA,
        (),
        ContentPolicyViolation,
        "would be visible to guests",
        id="secret-guests-could-read",
    ),
    pytest.param(
        NewPost(f"card {CARD}", group_id="eng"),
        ADA,
        ("eng",),
        ContentPolicyViolation,
        "would be visible to guests",
        id="secret-in-a-group-with-guests",
    ),
    pytest.param(
        NewPost("42", kind=PostKind.ANSWER),
        ADA,
        (),
        InvalidInput,
        "an answer replies to a question",
        id="answer-to-no-question",
    ),
    pytest.param(
        NewPost("me too", in_reply_to="urn:uuid:x"),
        ADA,
        (),
        NotFound,
        "no post",
        id="reply-to-a-post-not-found",
    ),
    pytest.param(
        NewPost("psst", visibility=Visibility.DIRECT, to=("grace", "gone")),
        ADA,
        (),
        InvalidInput,
        "not active people of this tenant: gone",
        id="direct-to-someone-inactive",
    ),
]


@pytest.mark.parametrize(("new", "actor", "guest_groups", "error", "match"), REFUSED)
async def test_a_refused_post_records_nothing(
    new: NewPost, actor: User, guest_groups: tuple[str, ...], error: type[Exception], match: str
) -> None:
    work = FakeWork(guest_groups=guest_groups)
    with pytest.raises(error, match=match):
        await create_post(new, work=work, actor=actor)
    assert work.untouched


async def test_a_direct_post_is_addressed_to_its_people_without_the_author() -> None:
    work = FakeWork()
    new = NewPost("psst", visibility=Visibility.DIRECT, to=("grace", "ada", "grace"))
    await create_post(new, work=work, actor=ADA)
    [(post, _)] = work.added
    assert post.to_ids == ("grace",)
    [create] = work.published
    assert create.doc["to"] == ["urn:canopy:acme:user:grace"]
