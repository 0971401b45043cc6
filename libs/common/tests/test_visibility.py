"""The visibility rule against a brute-force model of the matrix (docs/architecture.md §5, §6).

The model below is written plainly, as the product states it, and apart from the rule's own
code: reader kinds by item visibilities by relation to the author and the group by blocks, with
the fail-closed cases (an unknown visibility, an unknown or missing group visibility, a missing
membership, another tenant, a deleted item, an inactive reader). Hypothesis draws the cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from canopy_common.audience import Item
from canopy_common.events import Visibility
from canopy_common.visibility import (
    Content,
    GroupVisibility,
    Reader,
    Ties,
    group_visibilities_seen,
    group_visibility_of,
    may_see,
    seen_by_every_employee,
    sees_group,
    visibility_of,
)

TENANT = "acme"
AUTHOR = "alice"
READER = "bob"
GROUP = "urn:uuid:01890000-0000-7000-8000-000000000001"

KINDS = ("employee", "guest")
# Item visibilities as they may arrive: the five known ones, and texts nobody defined.
ITEM_VISIBILITIES = ("public", "internal", "group", "followers", "direct", "secret", "", None)
# Group visibilities in every spelling met: Canopy's, AS2's, unknown ones, none at all.
GROUP_VISIBILITIES = (
    "public",
    "internal",
    "private",
    "group",
    "followers",
    "direct",
    "PUBLIC",
    "secret",
    "",
    None,
)

# --- the model: the matrix, plainly -----------------------------------------------------------

# Which kinds of reader see a group they are not in, by its visibility; any other: nobody.
GROUP_OPEN_TO = {"public": {"employee", "guest"}, "internal": {"employee"}}


@dataclass(frozen=True)
class Case:
    kind: str
    visibility: str | None
    in_group: bool
    group_visibility: str | None
    is_author: bool
    member: bool
    invited: bool
    follows_author: bool
    mentioned: bool
    addressed: bool
    blocked: bool
    active: bool
    deleted: bool
    other_tenant: bool


def model_sees_group(case: Case) -> bool:
    if not case.active or case.other_tenant:
        return False
    if case.member or case.invited:
        return True
    return case.kind in GROUP_OPEN_TO.get(str(case.group_visibility), set())


def model_may_see(case: Case) -> bool:
    if case.deleted or not case.active or case.other_tenant:
        return False
    if case.is_author:
        return not case.blocked
    if case.blocked:
        return False
    if case.in_group:
        group_open = case.kind in GROUP_OPEN_TO.get(str(case.group_visibility), set())
        if not (case.member or group_open):
            return False
    employee = case.kind == "employee"
    allowed_by_visibility = {
        "public": True,
        "internal": employee,
        "group": case.member,
        "followers": (case.follows_author and employee) or case.mentioned,
        "direct": case.addressed or case.mentioned,
    }
    return allowed_by_visibility.get(str(case.visibility), False)  # unknown: nobody


# --- the cases --------------------------------------------------------------------------------

# The fail-closed facts (a block, an inactive reader, a deleted item, another tenant) hide
# everything: drawn rarely, so most cases test the matrix itself.
rarely = st.sampled_from([False, False, False, False, False, True])

cases = st.builds(
    Case,
    kind=st.sampled_from(KINDS),
    visibility=st.sampled_from(ITEM_VISIBILITIES),
    in_group=st.booleans(),
    group_visibility=st.sampled_from(GROUP_VISIBILITIES),
    is_author=st.booleans(),
    member=st.booleans(),
    invited=st.booleans(),
    follows_author=st.booleans(),
    mentioned=st.booleans(),
    addressed=st.booleans(),
    blocked=rarely,
    active=rarely.map(lambda rare: not rare),
    deleted=rarely,
    other_tenant=rarely,
)


def reader_of(case: Case) -> Reader:
    return Reader(
        id=AUTHOR if case.is_author else READER,
        guest=case.kind == "guest",
        active=case.active,
        tenant_id="globex" if case.other_tenant else TENANT,
    )


def content_of(case: Case) -> Content:
    reader_id = reader_of(case).id
    return Content(
        tenant_id=TENANT,
        author_id=AUTHOR,
        visibility=case.visibility,
        group_id=GROUP if case.in_group else None,
        group_visibility=case.group_visibility,
        addressees=(reader_id,) if case.addressed else (),
        mentions=(reader_id,) if case.mentioned else (),
        deleted=case.deleted,
    )


def ties_of(case: Case) -> Ties:
    return Ties(
        follows=frozenset({AUTHOR}) if case.follows_author else frozenset(),
        member=case.in_group and case.member,
        blocked=case.blocked,
    )


# --- the rule agrees with the model -----------------------------------------------------------


@settings(max_examples=1_000, deadline=None)
@given(cases)
def test_may_see_agrees_with_the_matrix(case: Case) -> None:
    # A membership is of the item's group: outside a group nobody is a member of it.
    case = Case(**{**case.__dict__, "member": case.member and case.in_group})
    assert may_see(reader_of(case), content_of(case), ties_of(case)) is model_may_see(case)


@settings(deadline=None)
@given(cases)
def test_a_feed_item_is_judged_as_any_other_content(case: Case) -> None:
    content = content_of(case)
    visibility = visibility_of(case.visibility)
    if visibility is None:  # a feed item carries a known visibility (the AS2 model checks it)
        return
    item = Item(
        tenant_id=TENANT,
        activity_id="urn:uuid:01890000-0000-7000-8000-0000000000a1",
        object_id="urn:uuid:01890000-0000-7000-8000-0000000000b1",
        type="Create",
        actor_id=AUTHOR,
        author_id=AUTHOR,
        visibility=visibility,
        published=datetime(2026, 1, 1, tzinfo=UTC),
        group_id=content.group_id,
        group_visibility=visibility_of(case.group_visibility),
        addressees=frozenset(content.addressees),
        mentions=frozenset(content.mentions),
        deleted=case.deleted,
    )
    reader, ties = reader_of(case), ties_of(case)
    assert may_see(reader, item, ties) is may_see(reader, content, ties)


@settings(deadline=None)
@given(cases)
def test_sees_group_agrees_with_the_matrix(case: Case) -> None:
    seen = sees_group(
        reader_of(case),
        case.group_visibility,
        member=case.member,
        invited=case.invited,
        tenant_id=TENANT,
    )
    assert seen is model_sees_group(case)


@settings(deadline=None)
@given(cases)
def test_every_employee_sees_exactly_what_an_untied_employee_sees(case: Case) -> None:
    untied = Case(
        **{
            **case.__dict__,
            "kind": "employee",
            "is_author": False,
            "member": False,
            "invited": False,
            "follows_author": False,
            "mentioned": False,
            "addressed": False,
            "blocked": False,
            "active": True,
            "other_tenant": False,
        }
    )
    assert seen_by_every_employee(content_of(untied)) is model_may_see(untied)


# --- failing closed ---------------------------------------------------------------------------


@settings(deadline=None)
@given(st.one_of(st.none(), st.text(), st.sampled_from(GROUP_VISIBILITIES)))
def test_a_group_visibility_is_public_or_internal_only_when_it_says_so(value: str | None) -> None:
    expected = {"public": GroupVisibility.PUBLIC, "internal": GroupVisibility.INTERNAL}
    assert group_visibility_of(value) is expected.get(str(value), GroupVisibility.PRIVATE)


def test_an_unknown_or_missing_group_visibility_is_stored_as_private_in_either_spelling() -> None:
    for unknown in (None, "", "secret", "followers", "direct", 42):
        assert group_visibility_of(unknown) is GroupVisibility.PRIVATE
        assert group_visibility_of(unknown).value == "private"  # analytics' projection
        assert group_visibility_of(unknown).as2 is Visibility.GROUP  # fanout's and notify's


def test_the_spellings_of_a_group_visibility_read_back_as_themselves() -> None:
    for kind in GroupVisibility:
        assert group_visibility_of(kind) is kind
        assert group_visibility_of(kind.value) is kind
        assert group_visibility_of(kind.as2) is kind
        assert group_visibility_of(kind.as2.value) is kind


@settings(deadline=None)
@given(st.text())
def test_an_unknown_item_visibility_hides_the_item_from_all_but_its_author(text: str) -> None:
    if text in {v.value for v in Visibility}:
        return
    post = Content(tenant_id=TENANT, author_id=AUTHOR, visibility=text)
    close = Ties(follows=frozenset({AUTHOR}), member=True)
    assert visibility_of(text) is None
    assert not may_see(Reader(READER), post, close)
    assert not seen_by_every_employee(post)
    assert may_see(Reader(AUTHOR), post)


def test_a_post_in_a_group_nobody_described_reaches_its_members_only() -> None:
    post = Content(author_id=AUTHOR, visibility="public", group_id=GROUP, group_visibility=None)
    assert not may_see(Reader(READER), post)
    assert not seen_by_every_employee(post)
    assert may_see(Reader(READER), post, Ties(member=True))


def test_a_reader_of_another_tenant_sees_nothing_even_public() -> None:
    post = Content(tenant_id=TENANT, author_id=AUTHOR, visibility="public")
    assert not may_see(Reader(READER, tenant_id="globex"), post)
    assert not may_see(Reader(AUTHOR, tenant_id="globex"), post)
    assert not sees_group(
        Reader(READER, tenant_id="globex"), "public", member=True, tenant_id=TENANT
    )


def test_non_members_see_public_groups_and_employees_internal_ones() -> None:
    assert group_visibilities_seen(guest=True) == (GroupVisibility.PUBLIC,)
    assert group_visibilities_seen(guest=False) == (
        GroupVisibility.PUBLIC,
        GroupVisibility.INTERNAL,
    )
