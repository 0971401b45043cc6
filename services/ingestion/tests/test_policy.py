"""The write policy and post visibility as pure rules: no servers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from canopy_common.errors import InvalidInput
from canopy_common.events import Visibility
from canopy_ingestion.domain.model import (
    Group,
    GroupVisibility,
    MemberRole,
    Post,
    PostKind,
    User,
    UserKind,
)
from canopy_ingestion.domain.policy import (
    DEFAULT_RULES,
    ContentPolicyViolation,
    InvalidContentPolicy,
    LimitExceeded,
    check_limits,
    checked_policy,
    compile_rules,
    default_policy,
    findings,
    luhn_valid,
    matched_rules,
    rules_for,
)
from canopy_ingestion.domain.visibility import (
    Audience,
    can_see_post,
    check_audience,
    default_visibility,
    reaches_guests,
)

NOW = datetime(2025, 5, 1, tzinfo=UTC)
ADA = User("acme", "ada", "ada", "Ada", UserKind.EMPLOYEE)
GRACE = User("acme", "grace", "grace", "Grace", UserKind.EMPLOYEE)
GUS = User("acme", "gus", "gus", "Gus", UserKind.GUEST)


BASE = Post(
    tenant_id="acme",
    id="urn:uuid:1",
    author_id="ada",
    kind=PostKind.NOTE,
    as2_type="Note",
    content="hi",
    visibility=Visibility.PUBLIC,
    thread_id="urn:uuid:1",
    published=NOW,
    updated=NOW,
)


def post(visibility: Visibility, **fields: Any) -> Post:
    return dataclasses.replace(BASE, visibility=visibility, **fields)


def a_group(visibility: GroupVisibility) -> Group:
    return Group("acme", "urn:uuid:g", "Team", visibility, owner_id="ada")


# --- content rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("-----BEGIN PRIVATE KEY-----", "private-key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private-key"),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "private-key"),
        ("key=AKIAIOSFODNN7EXAMPLE;", "aws-access-key"),
        ('"private_key_id": "1a2b"', "gcp-service-account-key"),
        ("AIza" + "B" * 35, "google-api-key"),
        ("token ghp_" + "x" * 36, "github-token"),
        ("github_pat_" + "A1_" * 10, "github-token"),
        ("xoxb-123456789012-abc", "slack-token"),
        ("4111111111111111", "card-number"),
        ("5500-0000-0000-0004", "card-number"),
        ("card: 3782 822463 10005.", "card-number"),  # Amex, 15 digits
    ],
)
def test_the_default_rules_catch_secrets_and_card_numbers(text: str, rule: str) -> None:
    assert matched_rules(text, DEFAULT_RULES) == [rule]


@pytest.mark.parametrize(
    "text",
    [
        "we met at 10:30 on 2025-05-01",
        "order 4111 1111 1111 1112",  # fails the Luhn check
        "phone +1 415 555 0100",
        "AKIA lowercase akiaiosfodnn7example",
        "-----BEGIN PUBLIC KEY-----",
        "ghp_short",
        "123456789012",  # 12 digits: too short for a card
        "41111111111111111111",  # 20 digits: too long for a card
    ],
)
def test_ordinary_text_matches_no_default_rule(text: str) -> None:
    assert matched_rules(text, DEFAULT_RULES) == []


def test_the_luhn_check_ignores_separators() -> None:
    assert luhn_valid("4111-1111 1111-1111")
    assert not luhn_valid("4111 1111 1111 1112")
    assert not luhn_valid("")


def test_no_policy_means_the_defaults_and_an_empty_one_means_no_rules() -> None:
    assert compile_rules(None) == DEFAULT_RULES
    assert compile_rules([]) == ()


def test_a_tenant_rule_naming_a_default_without_a_pattern_uses_that_default() -> None:
    rules = compile_rules([{"name": "card-number"}, {"name": "codename", "pattern": "bluebird"}])

    assert [rule.name for rule in rules] == ["card-number", "codename"]
    assert matched_rules("bluebird 4111111111111111", rules) == ["card-number", "codename"]


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "broken", "pattern": "(unclosed"},
        {"name": "no-pattern"},
        {"pattern": "nameless"},
        "not an object",
    ],
)
def test_a_bad_rule_is_refused_when_strict_and_skipped_otherwise(entry: object) -> None:
    with pytest.raises(InvalidContentPolicy):
        compile_rules([entry])
    assert compile_rules([entry, {"name": "ok", "pattern": "x"}], strict=False)[0].name == "ok"


def test_stored_policies_are_compiled_once_and_bad_entries_skipped() -> None:
    policy = [{"name": "broken", "pattern": "("}, {"name": "codename", "pattern": "bluebird"}]

    first, second = rules_for(policy), rules_for([dict(entry) for entry in policy])

    assert first is second
    assert [rule.name for rule in first] == ["codename"]
    assert rules_for(None) is DEFAULT_RULES


def test_every_default_rule_runs_on_re2_and_reads_back_as_itself() -> None:
    assert compile_rules(default_policy()) == DEFAULT_RULES
    assert checked_policy([(e["name"], e["pattern"]) for e in default_policy()]) == DEFAULT_RULES


def test_card_numbers_side_by_side_are_each_found() -> None:
    card = "4111111111111111"

    found = findings(f"{card} {card},{card}", DEFAULT_RULES, per_rule=10)

    assert [(f.start, f.end) for f in found] == [(0, 16), (17, 33), (34, 50)]
    assert findings("x" + card + "1", DEFAULT_RULES, per_rule=10) == []  # 17 digits, no Luhn


def test_a_google_key_is_found_without_its_neighbour() -> None:
    key = "AIza" + "B" * 35

    assert [(f.start, f.end) for f in findings(f"{key} {key}", DEFAULT_RULES, per_rule=5)] == [
        (0, 39),
        (40, 79),
    ]
    assert findings(key + "B", DEFAULT_RULES, per_rule=5) == []  # too long to be one


def test_a_pathological_pattern_runs_in_linear_time_on_a_long_text() -> None:
    (nested,) = checked_policy([("nested", "(a+)+$")])

    assert not nested.matches("a" * 100_000 + "!")  # a backtracking engine never returns
    assert nested.matches("a" * 100_000)


@pytest.mark.parametrize(
    ("entries", "field", "why"),
    [
        ([("ok", "x"), ("broken", "(a")], "rules[1].pattern", "missing )"),
        ([("back", r"(a)\1")], "rules[0].pattern", "RE2"),
        ([("behind", "(?<=a)b")], "rules[0].pattern", "RE2"),
        ([("all", "a?")], "rules[0].pattern", "empty text"),
        ([("x", "x"), ("x", "y")], "rules[1].name", "rules[0]"),
        ([("UPPER", "x")], "rules[0].name", "lower-case"),
        ([("-edge", "x")], "rules[0].name", "lower-case"),
        ([("n" * 65, "x")], "rules[0].name", "64"),
        ([("mine", None)], "rules[0].pattern", "needs a pattern"),
        ([("empty", "")], "rules[0].pattern", "1 to 500"),
    ],
)
def test_a_policy_sent_is_checked_rule_by_rule(
    entries: list[tuple[str, str | None]], field: str, why: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        checked_policy(entries)

    assert refused.value.extra["field"] == field
    assert why in refused.value.message


def test_a_policy_has_at_most_fifty_rules() -> None:
    assert len(checked_policy([(f"r-{n}", f"w{n}") for n in range(50)])) == 50
    with pytest.raises(InvalidInput, match="at most 50"):
        checked_policy([(f"r-{n}", f"w{n}") for n in range(51)])


def test_a_policy_violation_names_every_matched_rule() -> None:
    error = ContentPolicyViolation(["aws-access-key", "card-number"])

    assert error.status == 422
    assert error.extra == {"rule": "aws-access-key", "rules": ["aws-access-key", "card-number"]}


# --- limits -------------------------------------------------------------------------------------


def test_limits_on_length_mentions_and_hashtags() -> None:
    check_limits("x" * 10_000, mentions=20, hashtags=10)
    with pytest.raises(InvalidInput, match="10001 characters"):
        check_limits("x" * 10_001, mentions=0, hashtags=0)
    with pytest.raises(LimitExceeded, match="mentions"):
        check_limits("x", mentions=21, hashtags=0)
    with pytest.raises(LimitExceeded, match="hashtags"):
        check_limits("x", mentions=0, hashtags=11)


def test_blank_content_and_control_characters_are_refused_but_bidi_marks_are_not() -> None:
    check_limits("\u200f\u0645\u0631\u062d\u0628\u0627\tworld\n", mentions=0, hashtags=0)
    for bad in (" \n\t", "a\x00b", "a\x1bb", "a\x85b"):
        with pytest.raises(InvalidInput):
            check_limits(bad, mentions=0, hashtags=0)


# --- who sees a post ----------------------------------------------------------------------------


def sees(
    viewer: User,
    item: Post,
    *,
    group: Group | None = None,
    role: MemberRole | None = None,
    follows_author: bool = False,
) -> bool:
    return can_see_post(viewer, item, group=group, role=role, follows_author=follows_author)


def test_public_posts_reach_guests_internal_ones_do_not() -> None:
    assert sees(GUS, post(Visibility.PUBLIC))
    assert not sees(GUS, post(Visibility.INTERNAL))
    assert sees(GRACE, post(Visibility.INTERNAL))


def test_a_group_post_is_seen_by_members_of_its_group_only() -> None:
    item = post(Visibility.GROUP, group_id="urn:uuid:g")
    team = a_group(GroupVisibility.PUBLIC)

    assert sees(GRACE, item, group=team, role=MemberRole.MEMBER)
    assert sees(GUS, item, group=team, role=MemberRole.MEMBER)
    assert not sees(GRACE, item, group=team)


def test_nothing_leaves_a_private_group_whatever_its_visibility() -> None:
    item = post(Visibility.PUBLIC, group_id="urn:uuid:g")
    secret = a_group(GroupVisibility.PRIVATE)

    assert not sees(GRACE, item, group=secret)
    assert sees(GRACE, item, group=secret, role=MemberRole.MEMBER)


def test_followers_posts_reach_followers_and_mentioned_people_but_no_guests() -> None:
    item = post(Visibility.FOLLOWERS, mentions=("gus",))

    assert sees(GRACE, item, follows_author=True)
    assert not sees(GRACE, item)
    assert sees(GUS, item)  # mentioned
    assert not sees(User("acme", "g2", "g2", "G2", UserKind.GUEST), item, follows_author=True)


def test_direct_posts_reach_addressees_and_mentioned_people() -> None:
    item = post(Visibility.DIRECT, to_ids=("grace",), mentions=("gus",))

    assert sees(GRACE, item)
    assert sees(GUS, item)
    assert not sees(User("acme", "linus", "linus", "Linus", UserKind.EMPLOYEE), item)


def test_authors_see_their_posts_and_nobody_sees_deleted_or_foreign_ones() -> None:
    assert sees(ADA, post(Visibility.DIRECT, to_ids=("grace",)))
    assert not sees(GRACE, post(Visibility.PUBLIC, deleted=True))
    assert not sees(
        User("other", "grace", "grace", "Grace", UserKind.EMPLOYEE), post(Visibility.PUBLIC)
    )


def test_what_reaches_guests_is_where_the_content_policy_refuses_matches() -> None:
    public, internal = a_group(GroupVisibility.PUBLIC), a_group(GroupVisibility.INTERNAL)

    def reaches(visibility: Visibility, group: Group | None, **flags: bool) -> bool:
        values = {"guest_addressees": False, "guest_members": False, **flags}
        return reaches_guests(post(visibility), group, **values)

    assert reaches(Visibility.PUBLIC, None)
    assert reaches(Visibility.GROUP, public)  # any guest may join and read it
    assert not reaches(Visibility.GROUP, internal)
    assert reaches(Visibility.GROUP, internal, guest_members=True)
    assert not reaches(Visibility.INTERNAL, public)
    assert not reaches(Visibility.DIRECT, None)
    assert reaches(Visibility.DIRECT, None, guest_addressees=True)
    assert not reaches(Visibility.FOLLOWERS, None)


# --- audiences of new posts ---------------------------------------------------------------------


def test_default_visibility_follows_where_and_to_whom_one_posts() -> None:
    assert default_visibility(group=a_group(GroupVisibility.PUBLIC), to_ids=()) is Visibility.GROUP
    assert default_visibility(group=None, to_ids=("grace",)) is Visibility.DIRECT
    assert default_visibility(group=None, to_ids=()) is Visibility.INTERNAL


@pytest.mark.parametrize(
    ("author", "audience"),
    [
        (ADA, Audience(a_group(GroupVisibility.PRIVATE), Visibility.INTERNAL)),
        (ADA, Audience(a_group(GroupVisibility.INTERNAL), Visibility.PUBLIC)),
        (ADA, Audience(a_group(GroupVisibility.PUBLIC), Visibility.DIRECT, ("grace",))),
        (ADA, Audience(None, Visibility.GROUP)),
        (ADA, Audience(None, Visibility.DIRECT)),
        (ADA, Audience(None, Visibility.INTERNAL, ("grace",))),
        (ADA, Audience(None, Visibility.DIRECT, tuple(f"u{i}" for i in range(101)))),
        (GUS, Audience(a_group(GroupVisibility.PUBLIC), Visibility.INTERNAL)),
    ],
)
def test_audiences_that_make_no_sense_are_refused(author: User, audience: Audience) -> None:
    with pytest.raises(InvalidInput):
        check_audience(author, audience)


@pytest.mark.parametrize(
    ("author", "audience"),
    [
        (ADA, Audience(a_group(GroupVisibility.PRIVATE), Visibility.GROUP)),
        (ADA, Audience(a_group(GroupVisibility.PUBLIC), Visibility.PUBLIC)),
        (ADA, Audience(None, Visibility.FOLLOWERS)),
        (ADA, Audience(None, Visibility.DIRECT, ("grace",))),
        (GUS, Audience(a_group(GroupVisibility.PUBLIC), Visibility.PUBLIC)),
    ],
)
def test_sensible_audiences_pass(author: User, audience: Audience) -> None:
    check_audience(author, audience)
