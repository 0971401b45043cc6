"""Text rules and group/person permissions: pure functions, no servers."""

from __future__ import annotations

import pytest

from canopy_common.errors import Conflict, Forbidden, NotFound
from canopy_ingestion.domain.model import Group, GroupVisibility, MemberRole, User, UserKind
from canopy_ingestion.domain.permissions import (
    MembershipChange,
    can_join,
    can_post_in_group,
    can_see_group,
    can_see_person,
    decide_membership_delete,
    decide_membership_put,
)
from canopy_ingestion.domain.text import (
    InvalidText,
    check_mentions,
    clean_block,
    clean_line,
    normalize,
    parse_hashtags,
    parse_mentions,
    validate_handle,
    validate_hashtag,
)

OWNER, ADMIN, MEMBER = MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER


def person(user_id: str, kind: UserKind = UserKind.EMPLOYEE, tenant: str = "t1") -> User:
    return User(tenant_id=tenant, id=user_id, handle=user_id, display_name=user_id, kind=kind)


def a_group(visibility: GroupVisibility, tenant: str = "t1") -> Group:
    return Group(tenant_id=tenant, id="g1", name="G", visibility=visibility, owner_id="owner")


ADA = person("ada")
BOB = person("bob")
GUEST = person("gus", UserKind.GUEST)
PUBLIC = a_group(GroupVisibility.PUBLIC)
INTERNAL = a_group(GroupVisibility.INTERNAL)
PRIVATE = a_group(GroupVisibility.PRIVATE)


# --- mentions and hashtags ------------------------------------------------------------------


def test_mentions_are_lower_cased_deduplicated_and_in_order() -> None:
    assert parse_mentions("@Bob, then @ada and @BOB again") == ["bob", "ada"]


def test_mentions_ignore_email_addresses_urls_and_code() -> None:
    content = "mail ada@example.com, see https://host/@zed, `@inline` and\n```\n@fenced\n```\n@real"

    assert parse_mentions(content) == ["real"]


def test_a_mention_ends_before_sentence_punctuation() -> None:
    assert parse_mentions("Thanks @ada.lovelace. And (@bob-smith)!") == [
        "ada.lovelace",
        "bob-smith",
    ]


def test_mentions_in_any_script_are_nfc_normalised() -> None:
    decomposed = "@jose\u0301"  # "é" as e + combining acute

    assert parse_mentions(decomposed) == ["jos\u00e9"]
    assert parse_mentions("@Łukasz @ज्ञान") == ["łukasz", "ज्ञान"]


def test_a_mention_run_into_a_bidi_control_is_not_a_mention_and_is_refused() -> None:
    content = "hi @ad\u202emin"

    assert parse_mentions(content) == []
    with pytest.raises(InvalidText, match="RIGHT-TO-LEFT OVERRIDE"):
        check_mentions(content)


def test_check_mentions_passes_ordinary_content() -> None:
    check_mentions("hi @ada, a 👩‍💻 emoji with a joiner is fine outside mentions")


def test_hashtags_are_lower_cased_deduplicated_and_in_order() -> None:
    assert parse_hashtags("#Release day! #release #Über #ops_2") == ["release", "über", "ops_2"]


def test_numbers_headings_fragments_entities_and_code_are_not_hashtags() -> None:
    content = "# Heading\nfix #42, see page#top and /docs/#anchor, it&#39;s `#code`\n#real"

    assert parse_hashtags(content) == ["real"]


def test_an_unclosed_fence_hides_the_rest_of_the_document() -> None:
    assert parse_hashtags("#before\n~~~\n#inside") == ["before"]


def test_a_code_span_needs_a_closing_run_of_the_same_length() -> None:
    assert parse_hashtags("``#a` still code`` #b ` #c") == ["b", "c"]


# --- handles and text fields ----------------------------------------------------------------


@pytest.mark.parametrize("handle", ["ada", "Ada.Lovelace", "bob_smith", "x-1", "Łukasz", "7of9"])
def test_valid_handles_are_kept_as_given(handle: str) -> None:
    assert validate_handle(handle) == handle


@pytest.mark.parametrize(
    ("handle", "reason"),
    [
        ("ad\u202ea", "bidirectional control"),
        ("ad\u2066a", "bidirectional control"),
        ("ad\x07a", "control character"),
        ("ad\u200ba", "invisible character"),
        ("", "must not be empty"),
        ("a" * 41, "at most 40"),
        ("ada lovelace", "only letters"),
        ("@ada", "only letters"),
        ("_ada", "start with a letter or a digit"),
        ("ada.", "must not end"),
    ],
)
def test_bad_handles_are_refused_with_a_reason(handle: str, reason: str) -> None:
    with pytest.raises(InvalidText, match=reason):
        validate_handle(handle)


def test_handles_are_nfc_normalised() -> None:
    assert validate_handle("jose\u0301") == "jos\u00e9"


def test_hashtags_given_alone_lose_their_hash_and_case() -> None:
    assert validate_hashtag("#Release") == "release"
    with pytest.raises(InvalidText, match="at least one letter"):
        validate_hashtag("42")
    with pytest.raises(InvalidText, match="only letters"):
        validate_hashtag("two words")


def test_one_line_fields_refuse_bidi_controls_and_newlines() -> None:
    assert clean_line("  Ada  ", field="name", max_length=10) == "Ada"
    with pytest.raises(InvalidText, match="bidirectional"):
        clean_line("Ada\u202e", field="name", max_length=10)
    with pytest.raises(InvalidText, match="control character"):
        clean_line("Ada\nLovelace", field="name", max_length=20)


def test_multi_line_fields_keep_newlines_and_tabs() -> None:
    assert clean_block("a\r\n\tb", field="description", max_length=10) == "a\n\tb"
    assert normalize("e\u0301") == "\u00e9"


# --- groups ---------------------------------------------------------------------------------


def test_guests_see_only_public_groups_and_groups_they_belong_to() -> None:
    assert can_see_group(GUEST, PUBLIC, None)
    assert not can_see_group(GUEST, INTERNAL, None)
    assert not can_see_group(GUEST, PRIVATE, None)
    assert can_see_group(GUEST, PRIVATE, MEMBER)


def test_employees_see_public_and_internal_groups_and_private_ones_they_are_in() -> None:
    assert can_see_group(ADA, INTERNAL, None)
    assert not can_see_group(ADA, PRIVATE, None)
    assert can_see_group(ADA, PRIVATE, MEMBER)


def test_nobody_sees_another_tenants_group() -> None:
    assert not can_see_group(ADA, a_group(GroupVisibility.PUBLIC, tenant="t2"), None)


def test_guests_post_only_in_groups_they_belong_to() -> None:
    assert not can_post_in_group(GUEST, PUBLIC, None)
    assert can_post_in_group(GUEST, PUBLIC, MEMBER)


def test_nobody_posts_into_a_private_group_they_are_not_in() -> None:
    assert not can_post_in_group(ADA, PRIVATE, None)
    assert can_post_in_group(ADA, PRIVATE, MEMBER)
    assert can_post_in_group(ADA, INTERNAL, None)


def test_private_groups_cannot_be_joined_by_oneself() -> None:
    assert can_join(ADA, PUBLIC)
    assert can_join(ADA, INTERNAL)
    assert can_join(GUEST, PUBLIC)
    assert not can_join(GUEST, INTERNAL)
    assert not can_join(ADA, PRIVATE)


def put(
    actor: User,
    group: Group,
    subject: User,
    *,
    actor_role: MemberRole | None,
    subject_role: MemberRole | None = None,
    wanted: MemberRole = MEMBER,
    owners: int = 1,
) -> MembershipChange:
    return decide_membership_put(
        actor,
        group,
        actor_role=actor_role,
        subject=subject,
        subject_role=subject_role,
        wanted=wanted,
        owners=owners,
    )


def test_joining_oneself_is_a_join_and_repeating_it_changes_nothing() -> None:
    assert put(ADA, PUBLIC, ADA, actor_role=None) is MembershipChange.JOIN
    assert put(ADA, PUBLIC, ADA, actor_role=MEMBER, subject_role=MEMBER) is (
        MembershipChange.UNCHANGED
    )


def test_a_private_group_the_caller_cannot_see_is_not_found() -> None:
    with pytest.raises(NotFound):
        put(ADA, PRIVATE, ADA, actor_role=None)


def test_nobody_joins_as_an_admin() -> None:
    with pytest.raises(Forbidden, match="join as a member"):
        put(ADA, PUBLIC, ADA, actor_role=None, wanted=ADMIN)


def test_admins_add_people_to_private_groups_and_members_cannot() -> None:
    assert put(ADA, PRIVATE, BOB, actor_role=ADMIN) is MembershipChange.ADD
    with pytest.raises(Forbidden, match="admins and owners"):
        put(ADA, PRIVATE, BOB, actor_role=MEMBER)


def test_only_owners_grant_or_change_the_owner_role() -> None:
    with pytest.raises(Forbidden, match="only an owner"):
        put(ADA, PUBLIC, BOB, actor_role=ADMIN, subject_role=MEMBER, wanted=OWNER)
    assert put(ADA, PUBLIC, BOB, actor_role=OWNER, subject_role=MEMBER, wanted=OWNER) is (
        MembershipChange.ROLE
    )


def test_the_last_owner_cannot_step_down() -> None:
    with pytest.raises(Conflict, match="last owner"):
        put(ADA, PUBLIC, ADA, actor_role=OWNER, subject_role=OWNER, wanted=ADMIN, owners=1)
    assert (
        put(ADA, PUBLIC, ADA, actor_role=OWNER, subject_role=OWNER, wanted=ADMIN, owners=2)
        is MembershipChange.ROLE
    )


def delete(
    actor: User,
    subject: User | None,
    *,
    actor_role: MemberRole | None,
    subject_role: MemberRole | None,
    owners: int = 1,
) -> MembershipChange:
    return decide_membership_delete(
        actor,
        PUBLIC,
        actor_role=actor_role,
        subject=subject,
        subject_role=subject_role,
        owners=owners,
    )


def test_a_member_leaves_and_an_admin_removes() -> None:
    assert delete(BOB, BOB, actor_role=MEMBER, subject_role=MEMBER) is MembershipChange.LEAVE
    assert delete(ADA, BOB, actor_role=ADMIN, subject_role=MEMBER) is MembershipChange.REMOVE


def test_removing_someone_who_is_not_a_member_is_not_found() -> None:
    with pytest.raises(NotFound):
        delete(ADA, BOB, actor_role=OWNER, subject_role=None)


def test_members_cannot_remove_others_and_admins_cannot_remove_owners() -> None:
    with pytest.raises(Forbidden):
        delete(BOB, ADA, actor_role=MEMBER, subject_role=MEMBER)
    with pytest.raises(Forbidden, match="only an owner"):
        delete(BOB, ADA, actor_role=ADMIN, subject_role=OWNER, owners=2)


def test_the_last_owner_cannot_leave() -> None:
    with pytest.raises(Conflict, match="last owner"):
        delete(ADA, ADA, actor_role=OWNER, subject_role=OWNER, owners=1)
    assert delete(ADA, ADA, actor_role=OWNER, subject_role=OWNER, owners=2) is (
        MembershipChange.LEAVE
    )


# --- people ---------------------------------------------------------------------------------


def test_guests_see_themselves_and_people_they_share_a_group_with() -> None:
    assert can_see_person(GUEST, GUEST, shares_group=False)
    assert not can_see_person(GUEST, ADA, shares_group=False)
    assert can_see_person(GUEST, ADA, shares_group=True)
    assert can_see_person(ADA, GUEST, shares_group=False)


def test_nobody_sees_an_inactive_or_another_tenants_person() -> None:
    gone = User(
        tenant_id="t1", id="x", handle="x", display_name="x", kind=UserKind.EMPLOYEE, active=False
    )

    assert not can_see_person(ADA, gone, shares_group=True)
    assert not can_see_person(ADA, person("eve", tenant="t2"), shares_group=True)
