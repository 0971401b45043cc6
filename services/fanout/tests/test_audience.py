"""Who may see a feed item and whose home feed it goes into (docs/architecture.md §5.2).

The matrix below is the whole rule for a post written by ``alice`` (actor = author), one row
per visibility and kind of reader. ``group`` posts live in a public group, so the row shows
what the post's own visibility does; the other posts are in no group (ingestion allows
``followers`` and ``direct`` only outside groups), where "member" is a colleague with no tie.
Group visibility, shares, deletion and inactive readers have their own tests after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from canopy_common.events import Visibility
from canopy_common.visibility import may_see
from canopy_fanout.domain.audience import Cohort, delivers, resolve_audience
from canopy_fanout.domain.model import Item, Reader, Ties

TENANT = "acme"
AUTHOR = "alice"
SHARER = "sam"
GROUP = "urn:uuid:01890000-0000-7000-8000-000000000001"

PUBLIC = Visibility.PUBLIC
INTERNAL = Visibility.INTERNAL
GROUP_ONLY = Visibility.GROUP
FOLLOWERS = Visibility.FOLLOWERS
DIRECT = Visibility.DIRECT


def make_item(visibility: Visibility = PUBLIC, **changes: Any) -> Item:
    """A post by ``alice``; ``changes`` override any field."""
    item = Item(
        tenant_id=TENANT,
        activity_id="urn:uuid:01890000-0000-7000-8000-0000000000a1",
        object_id="urn:uuid:01890000-0000-7000-8000-0000000000b1",
        type="Create",
        actor_id=AUTHOR,
        author_id=AUTHOR,
        visibility=visibility,
        published=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    )
    return replace(item, **changes)


def in_group(item: Item, group_visibility: Visibility) -> Item:
    return replace(item, group_id=GROUP, group_visibility=group_visibility)


def share_of(item: Item) -> Item:
    """``sam``'s Announce of ``item``."""
    return replace(
        item,
        type="Announce",
        activity_id="urn:uuid:01890000-0000-7000-8000-0000000000a2",
        actor_id=SHARER,
    )


# --- the matrix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    """A reader and how they stand to the matrix post: ties, and whether it names them."""

    reader: Reader
    ties: Ties = field(default_factory=Ties)
    mentioned: bool = False
    addressed: bool = False


def every_tie(*, blocked: bool = False, muted: bool = False) -> Ties:
    return Ties(
        follows=frozenset({AUTHOR}), member=True, follows_tag=True, blocked=blocked, muted=muted
    )


RELATIONSHIPS: dict[str, Relationship] = {
    "author": Relationship(Reader(AUTHOR)),
    "follower": Relationship(Reader("bob"), Ties(follows=frozenset({AUTHOR}))),
    "member": Relationship(Reader("meg"), Ties(member=True)),
    "non-member": Relationship(Reader("nora")),
    "guest": Relationship(Reader("gus", guest=True)),
    "guest follower": Relationship(Reader("gil", guest=True), Ties(follows=frozenset({AUTHOR}))),
    "guest mentioned": Relationship(Reader("gwen", guest=True), mentioned=True),
    # Every other reason to get the post, and a block (either way round) with its author.
    "blocked": Relationship(Reader("bea"), every_tie(blocked=True), mentioned=True, addressed=True),
    # Every other reason to get the post, and the author muted.
    "muted": Relationship(Reader("mo"), every_tie(muted=True), mentioned=True, addressed=True),
    "mentioned": Relationship(Reader("mia"), mentioned=True),
    "hashtag follower": Relationship(Reader("hal"), Ties(follows_tag=True)),
    "addressee": Relationship(Reader("ada"), addressed=True),
}

# (visibility, relationship) → (may see it, gets it in their home feed)
EXPECTED: dict[tuple[Visibility, str], tuple[bool, bool]] = {
    (PUBLIC, "author"): (True, True),
    (PUBLIC, "follower"): (True, True),
    (PUBLIC, "member"): (True, False),
    (PUBLIC, "non-member"): (True, False),
    (PUBLIC, "guest"): (True, False),
    (PUBLIC, "guest follower"): (True, True),
    (PUBLIC, "guest mentioned"): (True, True),
    (PUBLIC, "blocked"): (False, False),
    (PUBLIC, "muted"): (True, False),
    (PUBLIC, "mentioned"): (True, True),
    (PUBLIC, "hashtag follower"): (True, True),
    (PUBLIC, "addressee"): (True, True),
    #
    (INTERNAL, "author"): (True, True),
    (INTERNAL, "follower"): (True, True),
    (INTERNAL, "member"): (True, False),
    (INTERNAL, "non-member"): (True, False),
    (INTERNAL, "guest"): (False, False),
    (INTERNAL, "guest follower"): (False, False),
    (INTERNAL, "guest mentioned"): (False, False),
    (INTERNAL, "blocked"): (False, False),
    (INTERNAL, "muted"): (True, False),
    (INTERNAL, "mentioned"): (True, True),
    (INTERNAL, "hashtag follower"): (True, True),
    (INTERNAL, "addressee"): (True, True),
    # in a public group: members only, whatever else ties the reader to the post
    (GROUP_ONLY, "author"): (True, True),
    (GROUP_ONLY, "follower"): (False, False),
    (GROUP_ONLY, "member"): (True, True),
    (GROUP_ONLY, "non-member"): (False, False),
    (GROUP_ONLY, "guest"): (False, False),
    (GROUP_ONLY, "guest follower"): (False, False),
    (GROUP_ONLY, "guest mentioned"): (False, False),
    (GROUP_ONLY, "blocked"): (False, False),
    (GROUP_ONLY, "muted"): (True, False),
    (GROUP_ONLY, "mentioned"): (False, False),
    (GROUP_ONLY, "hashtag follower"): (False, False),
    (GROUP_ONLY, "addressee"): (False, False),
    # the author's followers (not guests) and the people it mentions
    (FOLLOWERS, "author"): (True, True),
    (FOLLOWERS, "follower"): (True, True),
    (FOLLOWERS, "member"): (False, False),
    (FOLLOWERS, "non-member"): (False, False),
    (FOLLOWERS, "guest"): (False, False),
    (FOLLOWERS, "guest follower"): (False, False),
    (FOLLOWERS, "guest mentioned"): (True, True),
    (FOLLOWERS, "blocked"): (False, False),
    (FOLLOWERS, "muted"): (True, False),
    (FOLLOWERS, "mentioned"): (True, True),
    (FOLLOWERS, "hashtag follower"): (False, False),
    (FOLLOWERS, "addressee"): (False, False),
    # its addressees and the people it mentions
    (DIRECT, "author"): (True, True),
    (DIRECT, "follower"): (False, False),
    (DIRECT, "member"): (False, False),
    (DIRECT, "non-member"): (False, False),
    (DIRECT, "guest"): (False, False),
    (DIRECT, "guest follower"): (False, False),
    (DIRECT, "guest mentioned"): (True, True),
    (DIRECT, "blocked"): (False, False),
    (DIRECT, "muted"): (True, False),
    (DIRECT, "mentioned"): (True, True),
    (DIRECT, "hashtag follower"): (False, False),
    (DIRECT, "addressee"): (True, True),
}


def matrix_case(visibility: Visibility, name: str) -> tuple[Reader, Item, Ties]:
    """The reader, the post and their ties for one cell of the matrix."""
    relationship = RELATIONSHIPS[name]
    reader = relationship.reader
    item = make_item(
        visibility,
        mentions=frozenset({reader.id}) if relationship.mentioned else frozenset(),
        addressees=frozenset({reader.id}) if relationship.addressed else frozenset(),
        hashtags=frozenset({"release"}),
    )
    ties = relationship.ties
    if visibility is GROUP_ONLY:
        item = in_group(item, PUBLIC)
    else:
        ties = replace(ties, member=False)  # no group, so nobody is a member of it
    return reader, item, ties


def test_matrix_covers_every_visibility_and_relationship() -> None:
    assert set(EXPECTED) == {(v, r) for v in Visibility for r in RELATIONSHIPS}


@pytest.mark.parametrize(
    ("visibility", "relationship", "expected"),
    [(v, r, expected) for (v, r), expected in EXPECTED.items()],
    ids=[f"{v}-{r.replace(' ', '-')}" for v, r in EXPECTED],
)
def test_visibility_and_relationship_decide_seeing_and_delivery(
    visibility: Visibility, relationship: str, expected: tuple[bool, bool]
) -> None:
    reader, item, ties = matrix_case(visibility, relationship)

    assert (may_see(reader, item, ties), delivers(reader, item, ties)) == expected


# --- groups -----------------------------------------------------------------------------------

OUTSIDERS = {
    "colleague": (Reader("nora"), Ties()),
    "follower of the author": (Reader("bob"), Ties(follows=frozenset({AUTHOR}))),
    "hashtag follower": (Reader("hal"), Ties(follows_tag=True)),
    "guest": (Reader("gus", guest=True), Ties()),
}


@pytest.mark.parametrize(("reader", "ties"), OUTSIDERS.values(), ids=OUTSIDERS.keys())
def test_private_group_item_never_reaches_non_members(reader: Reader, ties: Ties) -> None:
    item = in_group(make_item(GROUP_ONLY, hashtags=frozenset({"release"})), GROUP_ONLY)

    assert not may_see(reader, item, ties)
    assert not delivers(reader, item, ties)


def test_private_group_item_mentioning_a_non_member_stays_in_the_group() -> None:
    item = in_group(make_item(GROUP_ONLY, mentions=frozenset({"mia"})), GROUP_ONLY)

    assert not may_see(Reader("mia"), item)
    assert not delivers(Reader("mia"), item)


@pytest.mark.parametrize(
    "reader", [Reader("meg"), Reader("gus", guest=True)], ids=["employee", "guest"]
)
def test_private_group_item_reaches_its_members_guests_included(reader: Reader) -> None:
    item = in_group(make_item(GROUP_ONLY), GROUP_ONLY)

    assert delivers(reader, item, Ties(member=True))


def test_item_in_a_group_of_unknown_visibility_is_for_members_only() -> None:
    item = replace(make_item(PUBLIC), group_id=GROUP, group_visibility=None)

    assert not may_see(Reader("nora"), item)
    assert may_see(Reader("meg"), item, Ties(member=True))


@pytest.mark.parametrize("visibility", [INTERNAL, GROUP_ONLY], ids=str)
def test_internal_group_item_is_never_seen_by_a_guest_non_member(visibility: Visibility) -> None:
    item = in_group(make_item(visibility), INTERNAL)
    guest = Reader("gus", guest=True)
    ties = Ties(follows=frozenset({AUTHOR}), follows_tag=True)

    assert not may_see(guest, item, ties)
    assert not delivers(guest, item, ties)


def test_internal_group_internal_item_is_seen_by_any_employee_but_delivered_for_a_reason() -> None:
    item = in_group(make_item(INTERNAL), INTERNAL)

    assert may_see(Reader("nora"), item)
    assert not delivers(Reader("nora"), item)
    assert delivers(Reader("bob"), item, Ties(follows=frozenset({AUTHOR})))


def test_internal_group_guest_member_sees_group_items_but_not_internal_ones() -> None:
    guest, member = Reader("gus", guest=True), Ties(member=True)

    assert delivers(guest, in_group(make_item(GROUP_ONLY), INTERNAL), member)
    assert not may_see(guest, in_group(make_item(INTERNAL), INTERNAL), member)


def test_public_group_public_item_is_seen_by_guests_outside_the_group() -> None:
    item = in_group(make_item(PUBLIC), PUBLIC)
    guest = Reader("gus", guest=True)

    assert may_see(guest, item)
    assert not delivers(guest, item)  # seen in the group's feed, no reason for their home feed


def test_public_group_item_goes_into_every_members_home_feed() -> None:
    item = in_group(make_item(PUBLIC), PUBLIC)

    assert delivers(Reader("meg"), item, Ties(member=True))


# --- shares (Announce: actor ≠ author) --------------------------------------------------------


def test_share_reaches_followers_of_the_sharer() -> None:
    share = share_of(make_item(PUBLIC))

    assert delivers(Reader("fay"), share, Ties(follows=frozenset({SHARER})))


def test_share_is_not_pushed_again_to_followers_of_the_author_only() -> None:
    share = share_of(make_item(PUBLIC))
    ties = Ties(follows=frozenset({AUTHOR}))

    assert may_see(Reader("bob"), share, ties)
    assert not delivers(Reader("bob"), share, ties)  # they got the post itself


def test_share_goes_into_the_sharers_and_the_authors_home_feeds() -> None:
    share = share_of(make_item(PUBLIC))

    assert delivers(Reader(SHARER), share)
    assert delivers(Reader(AUTHOR), share)


def test_share_is_hidden_by_a_block_with_the_sharer_or_the_author() -> None:
    share = share_of(make_item(PUBLIC))
    # ``blocked``: a block either way round between the reader and the sharer or the author.
    ties = Ties(follows=frozenset({SHARER}), blocked=True)

    assert not may_see(Reader("fay"), share, ties)
    assert not delivers(Reader("fay"), share, ties)


def test_share_is_kept_out_of_the_home_feed_by_muting_the_sharer_or_the_author() -> None:
    share = share_of(make_item(PUBLIC))
    ties = Ties(follows=frozenset({SHARER}), muted=True)  # the reader muted one of the two

    assert may_see(Reader("fay"), share, ties)
    assert not delivers(Reader("fay"), share, ties)


def test_share_of_a_private_group_item_never_reaches_the_sharers_followers_outside_it() -> None:
    share = share_of(in_group(make_item(GROUP_ONLY), GROUP_ONLY))
    ties = Ties(follows=frozenset({SHARER}))

    assert not may_see(Reader("fay"), share, ties)
    assert not delivers(Reader("fay"), share, ties)


def test_sharer_who_left_a_private_group_no_longer_sees_their_share_of_its_item() -> None:
    share = share_of(in_group(make_item(GROUP_ONLY), GROUP_ONLY))

    assert not may_see(Reader(SHARER), share, Ties(member=False))


def test_author_who_blocked_the_sharer_does_not_get_the_share() -> None:
    share = share_of(make_item(PUBLIC))

    assert not delivers(Reader(AUTHOR), share, Ties(blocked=True))


# --- deleted items, inactive readers ----------------------------------------------------------


@pytest.mark.parametrize("visibility", list(Visibility), ids=str)
def test_deleted_item_is_seen_by_nobody_not_even_its_author(visibility: Visibility) -> None:
    item = make_item(visibility, deleted=True)

    assert not may_see(Reader(AUTHOR), item)
    assert not delivers(Reader(AUTHOR), item)
    assert not delivers(Reader("bob"), item, Ties(follows=frozenset({AUTHOR})))


def test_inactive_reader_sees_nothing_not_even_their_own_items() -> None:
    gone = Reader(AUTHOR, active=False)

    assert not may_see(gone, make_item(PUBLIC))
    assert not delivers(gone, make_item(PUBLIC))
    assert not delivers(Reader("bob", active=False), make_item(PUBLIC), every_tie())


# --- resolve_audience -------------------------------------------------------------------------


def test_resolve_audience_decides_each_cohort_and_each_named_reader() -> None:
    item = make_item(INTERNAL, hashtags=frozenset({"release"}))
    follows = Ties(follows=frozenset({AUTHOR}))
    cohorts = [
        Cohort(["bob", "cy"], follows),
        Cohort(["nora"]),  # no reason
        Cohort(["hal"], Ties(follows_tag=True)),
        Cohort(["gus"], follows, guest=True),  # cannot see internal items
        Cohort(["bea"], replace(follows, blocked=True)),
        Cohort(["mo"], replace(follows, muted=True)),
        Cohort([AUTHOR], named=True),
    ]

    assert resolve_audience(item, cohorts) == ["bob", "cy", "hal", AUTHOR]


def test_resolve_audience_decides_named_readers_one_by_one() -> None:
    item = make_item(DIRECT, addressees=frozenset({"ada"}), mentions=frozenset({"gus"}))

    cohorts = [Cohort(["ada", "nora"], named=True), Cohort(["gus"], guest=True, named=True)]

    assert resolve_audience(item, cohorts) == ["ada", "gus"]


def test_a_cohort_decided_once_matches_deciding_each_reader() -> None:
    item = make_item(FOLLOWERS)
    for guest in (False, True):
        for ties in (Ties(follows=frozenset({AUTHOR})), Ties(), Ties(member=True)):
            readers = ["r1", "r2", "r3"]
            one_by_one = [r for r in readers if delivers(Reader(r, guest=guest), item, ties)]
            assert resolve_audience(item, [Cohort(readers, ties, guest)]) == one_by_one


def test_resolve_audience_of_nobody_is_empty() -> None:
    assert resolve_audience(make_item(PUBLIC), []) == []
    assert resolve_audience(make_item(PUBLIC), [Cohort([])]) == []
