"""The demo company `make up` seeds: generated the same way every time, about 200 people in one
management tree, every kind of group, and content whose every reference points at something
that exists and may be seen. No servers needed."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from canopy_common.events import validate_activity
from canopy_dev.demo import texts, upstream
from canopy_dev.demo.cli import seeding_enabled
from canopy_dev.demo.company import build_company
from canopy_dev.demo.guide import guide
from canopy_dev.demo.model import Company, Post
from canopy_dev.demo.seed import idempotency_keys, manager_levels

HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,38}[a-z0-9]$")
PORTS = {"ingestion": 8001, "fanout": 8002, "notify": 8003, "analytics": 8004}


@pytest.fixture(scope="module")
def company() -> Company:
    return build_company()


def digest(company: Company) -> str:
    return hashlib.sha256(repr(company).encode()).hexdigest()


def viewers(company: Company, post: Post) -> set[str]:
    if post.group_key is None:
        return {p.id for p in company.people}
    return set(company.group(post.group_key).everyone)


def test_the_company_is_the_same_in_every_process(company: Company) -> None:
    script = "from canopy_dev.demo.company import build_company; print(repr(build_company()))"
    other = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "4242", "PATH": ""},
    )

    assert build_company() == company
    assert hashlib.sha256(other.stdout.strip().encode()).hexdigest() == digest(company)
    assert build_company(seed=7) != company


def test_about_two_hundred_people_with_profiles_unique_handles_and_emails(
    company: Company,
) -> None:
    people = company.people

    assert 190 <= len(people) <= 210
    assert len({p.id for p in people}) == len(people)
    assert len({p.email for p in people}) == len(people)
    assert all(HANDLE.match(p.handle) for p in people)
    assert all(p.title and p.department and p.skills and p.interests for p in people)
    assert len({p.department for p in people}) >= 8
    assert {"analyst", "moderator", "tenant_admin"} <= {r for p in people for r in p.roles}
    assert "analyst" in company.person(company.analyst_id).roles
    assert "tenant_admin" in company.person(company.admin_id).roles
    assert 3 <= sum(p.via_upstream for p in people) <= 10


def test_managers_form_one_tree_with_one_root_and_no_cycles(company: Company) -> None:
    people = {p.id: p for p in company.people}
    roots = [p for p in company.people if p.manager_id is None]

    assert [r.title for r in roots] == ["Chief Executive Officer"]
    assert all(p.manager_id in people for p in company.people if p.manager_id)
    for person in company.people:
        seen, at = set(), person
        while at.manager_id is not None:
            assert at.id not in seen, f"cycle through {at.id}"
            seen.add(at.id)
            at = people[at.manager_id]
        assert at is roots[0]
    levels = manager_levels(company.people)
    assert sum(len(level) for level in levels) == len(people)
    managers = {p.manager_id for p in company.people}
    assert not any(p.via_upstream and p.id in managers for p in company.people)


def test_every_kind_of_group_and_one_announcements_group_with_everyone(company: Company) -> None:
    everyone = {p.id for p in company.people}
    groups = company.groups

    assert 8 <= len(groups) <= 12
    assert {g.visibility for g in groups} == {"public", "internal", "private"}
    assert any(g.join_policy == "request" and g.requests for g in groups)
    [announcements] = [g for g in groups if g.announcements]
    assert set(announcements.everyone) == everyone
    for group in groups:
        assert set(group.everyone) <= everyone
        assert group.owner_id not in group.members
        assert set(group.admins) <= set(group.members)
        assert not set(group.requests) & set(group.everyone)


def test_follows_are_between_different_existing_people_and_never_twice(company: Company) -> None:
    everyone = {p.id for p in company.people}

    assert len(set(company.follows)) == len(company.follows)
    assert all(a != b and {a, b} <= everyone for a, b in company.follows)
    assert {who for who, _ in company.follows} == everyone  # everybody follows somebody
    assert all(who in everyone for who, _ in company.tag_follows)


def test_every_question_asked_is_asked_again_today_in_other_words_and_left_unanswered(
    company: Company,
) -> None:
    questions = {p.content: p for p in company.posts if p.kind == "question"}
    answered = {p.reply_to for p in company.posts if p.kind == "answer"}
    twins = [
        (questions[q], questions.get(again)) for q, again in texts.REASKED.items() if q in questions
    ]

    assert len(twins) >= 6
    for original, again in twins:
        assert again is not None
        assert again.day == 0
        assert again.key not in answered
        assert original.key in answered
        answerers = {p.author_id for p in company.posts if p.reply_to == original.key}
        assert again.author_id not in answerers | {original.author_id}


def test_three_days_of_posts_with_questions_answers_an_article_and_announcements(
    company: Company,
) -> None:
    posts = company.posts
    kinds = Counter(p.kind for p in posts)

    assert {p.day for p in posts} == {0, 1, 2}
    assert kinds["question"] >= 6
    reasked = set(texts.REASKED.values())
    assert kinds["answer"] >= kinds["question"] - len(reasked)
    assert kinds["announcement"] >= 2
    assert kinds["article"] == 1
    assert sum(p.reply_to is not None for p in posts) >= 100
    assert sum(bool(p.hashtags) for p in posts) > len(posts) // 3
    assert sum(bool(p.mentions) for p in posts) >= 20
    assert len(company.reactions) >= 300
    assert [p.key for p in posts if p.author_id == company.reader_id and not p.reply_to]
    assert any(company.reader_id in p.mentions for p in posts)


def test_every_mention_reply_answer_and_reaction_names_something_that_exists(
    company: Company,
) -> None:
    everyone = {p.id for p in company.people}
    seen: dict[str, Post] = {}
    for post in company.posts:
        assert set(post.mentions) <= everyone, post.key
        assert post.author_id in viewers(company, post), f"{post.key}: author cannot see it"
        if post.reply_to is not None:
            parent = seen[post.reply_to]  # replies come after what they reply to
            assert parent.reply_to is None
            assert post.group_key == parent.group_key
            assert post.day == parent.day
        if post.kind == "answer":
            assert post.reply_to is not None
            assert seen[post.reply_to].kind == "question"
        seen[post.key] = post
    for accept in company.accepts:
        assert seen[accept.answer_key].reply_to == accept.question_key
    reacted = [(r.post_key, r.user_id) for r in company.reactions]
    assert len(set(reacted)) == len(reacted)
    for reaction in company.reactions:
        post = seen[reaction.post_key]
        assert reaction.user_id in viewers(company, post) - {post.author_id}
    for share in company.shares:
        assert seen[share.post_key].group_key is None
        assert share.user_id != seen[share.post_key].author_id


def test_tasks_fall_due_in_the_next_days_and_one_within_the_hour_after_next(
    company: Company,
) -> None:
    everyone = {p.id for p in company.people}
    bots = {b.id for b in company.bots}

    assert len(company.tasks) >= 5
    for task in company.tasks:
        assert timedelta(0) < task.due_in <= timedelta(days=7)
        assert task.assignees
        assert set(task.assignees) <= everyone
        assert task.bot_id in bots
        if task.group_key:
            assert set(task.assignees) <= set(company.group(task.group_key).everyone)
    # the 1 h reminder fires minutes after the seed
    assert any(timedelta(hours=1) < t.due_in <= timedelta(hours=2) for t in company.tasks)
    assert any(company.reader_id in t.assignees for t in company.tasks)


def test_upstream_events_are_strict_as2_with_ids_that_never_change(company: Company) -> None:
    now = datetime.now(UTC)
    joiner = next(p for p in company.people if p.via_upstream)
    task = company.tasks[0]
    group = "urn:uuid:01968a4e-3b5c-7d2e-9f10-2a3b4c5d6e7f"

    docs = [
        upstream.joiner(company, joiner, now),
        upstream.task(company, task, now, None),
        upstream.bot_note(company, company.bot_notes[0], now, group),
    ]
    later = upstream.task(company, task, now + timedelta(hours=5), None)

    for doc in docs:
        assert validate_activity(doc).tenant == company.tenant
    assert later["id"] == docs[1]["id"]
    assert later["object"]["id"] == docs[1]["object"]["id"]
    assert docs[1]["object"]["endTime"] == (now + task.due_in).isoformat()
    assert docs[0]["object"]["manager"].endswith(f":user:{joiner.manager_id}")
    assert upstream.stable_id("acme", "x") != upstream.stable_id("globex", "x")


def test_idempotency_keys_are_stable_and_change_with_what_a_post_says(company: Company) -> None:
    keys = idempotency_keys(company.posts)
    question = next(p for p in company.posts if p.kind == "question")
    answers = [p.key for p in company.posts if p.reply_to == question.key]
    edited = [replace(p, content=p.content + "!") if p is question else p for p in company.posts]

    changed = idempotency_keys(edited)

    assert keys == idempotency_keys(build_company().posts)
    assert len(set(keys.values())) == len(keys)
    assert all(len(key) <= 255 for key in keys.values())
    assert {k for k in keys if keys[k] != changed[k]} == {question.key, *answers}


def test_make_up_seeds_unless_told_not_to() -> None:
    assert seeding_enabled({})
    assert seeding_enabled({"CANOPY_DEMO_SEED": "1"})
    for off in ("0", "false", "no", "OFF"):
        assert not seeding_enabled({"CANOPY_DEMO_SEED": off})


def test_the_guide_shows_real_people_and_the_services_ports(company: Company) -> None:
    text = guide(company, PORTS)

    assert f"USER={company.reader_id} ROLES=member)" in text
    assert f"USER={company.analyst_id} ROLES=member,analyst)" in text
    for path in (
        "8002/v1/feeds/home",
        "8003/v1/notifications",
        "8004/v1/analytics/summary",
        "8001/v1/questions?status=accepted",
        "8001/v1/posts/$Q/context",
        "8001/v1/groups/$G/members",
        "8004/v1/questions/similar?text=How%20can%20I",
        "8004/v1/search?q=ship%20production",
        "8004/v1/people/experts?text=",
    ):
        assert f"localhost:{path}" in text
    assert "make demo-traffic" in text
    assert "make down" in text
