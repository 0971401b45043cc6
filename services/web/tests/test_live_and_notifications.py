"""Pure rules of the live stream and the notifications page: where a reconnect resumes, the
feed head, where a notification leads, what can be muted from it, and the sparse preference
change sent to notify."""

from __future__ import annotations

from datetime import UTC, datetime

from canopy_web.live import Head, Resume, feed_head, is_newer
from canopy_web.pages.notifications import changes, link_of, mute_link, mutes_of

POST = "urn:uuid:0b6a5c8e-8a7f-4c55-9d1e-2f3b4a5c6d7e"
GROUP = "urn:uuid:11111111-2222-4333-8444-555555555555"


def test_a_reconnect_resumes_where_the_stream_was_and_anything_else_starts_fresh() -> None:
    both = Resume(seq=42, head=POST)
    assert both.event_id() == f"42/{POST}"
    assert Resume.parse(both.event_id()) == both
    assert Resume.parse(Resume(head=POST).event_id()) == Resume(head=POST)
    assert Resume.parse(Resume(seq=7).event_id()) == Resume(seq=7)
    assert Resume.parse("/") == Resume()
    # Not ours, or not whole: notify from now on, the feed head read afresh.
    for foreign in (None, "", "42", "abc", "1/a\x00b"):
        assert Resume.parse(foreign).head is None, foreign
    assert Resume.parse("abc/").seq is None
    assert Resume.parse("9" * 20 + "/x") == Resume(head="x")  # past a bigint: no seq
    assert Resume.parse("1/" + "x" * 513) == Resume(seq=1)  # longer than any id: no head


def test_the_feed_head_is_news_when_another_item_newer_than_the_known_one_leads() -> None:
    page = {
        "items": [
            {"id": "urn:uuid:a", "published": "2026-12-04T10:00:00Z"},
            {"id": "urn:uuid:b", "published": "2026-12-04T09:00:00Z"},
        ]
    }
    at_ten = datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert feed_head(page) == Head("urn:uuid:a", at_ten)
    assert feed_head({"items": [{"id": "urn:uuid:c"}]}) == Head("urn:uuid:c")
    assert feed_head({"items": []}) is None
    assert feed_head({}) is None
    known = Head("urn:uuid:a", at_ten)
    assert not is_newer(known, known)
    assert is_newer(Head("urn:uuid:n", datetime(2026, 12, 4, 11, tzinfo=UTC)), known)
    # The head post was removed: an older one leads now, which is no news.
    assert not is_newer(Head("urn:uuid:b", datetime(2026, 12, 4, 9, tzinfo=UTC)), known)
    assert is_newer(Head("urn:uuid:n"), Head("urn:uuid:a"))  # a reconnect knows no time
    assert is_newer(Head("urn:uuid:n"), None)


def test_a_notification_leads_to_its_post_person_or_group() -> None:
    mention = {"type": "mention", "object": {"id": POST, "type": "Note"}, "actors": []}
    assert link_of(mention) == "/posts/0b6a5c8e-8a7f-4c55-9d1e-2f3b4a5c6d7e"
    follow = {"type": "follow", "actors": [{"id": "ana", "preferredUsername": "ana"}]}
    assert link_of(follow) == "/people/ana"
    invite = {"type": "group_invite", "object": {"id": GROUP, "type": "Group"}, "actors": []}
    assert link_of(invite) == "/groups/11111111-2222-4333-8444-555555555555"
    upstream_task = {"type": "task_due", "object": {"id": "https://jira/T-1", "type": "Task"}}
    assert link_of(upstream_task) is None


def test_what_a_notification_can_silence() -> None:
    one = {"thread_id": POST, "group_id": GROUP, "actors": [{"id": "ana"}]}
    assert mutes_of(one) == [("thread", POST), ("group", GROUP), ("actor", "ana")]
    grouped = {"thread_id": None, "group_id": None, "actors": [{"id": "ana"}, {"id": "bo"}]}
    assert mutes_of(grouped) == []  # "Ana and 3 others": no one person to mute
    assert mute_link("actor", "ana") == "/people/ana"
    assert mute_link("thread", POST) == "/posts/0b6a5c8e-8a7f-4c55-9d1e-2f3b4a5c6d7e"
    assert mute_link("thread", "https://elsewhere/x") is None


def test_the_preference_form_sends_only_what_changed_and_never_a_locked_setting() -> None:
    current = {
        "mention": {"in_app": {"enabled": True}, "email": {"enabled": True}},
        "reaction": {"in_app": {"enabled": True}, "email": {"enabled": False}},
        "announcement": {"in_app": {"enabled": True, "locked": True}},
    }
    chosen = {("mention", "in_app"), ("reaction", "in_app"), ("reaction", "email")}
    assert changes(current, chosen) == {"mention": {"email": False}, "reaction": {"email": True}}
    assert (
        changes(current, {("mention", "in_app"), ("mention", "email"), ("reaction", "in_app")})
        == {}
    )
