"""The feed pages' pure rules: post ids from page URLs, safe redirects, compose bodies, tag
completion and reply depths."""

from __future__ import annotations

from canopy_web.posting import matching_tags, new_post_body, post_urn, reply_depths
from canopy_web.rendering import local_path

UUID = "01968a4e-3b5c-7d2e-9f10-2a3b4c5d6e7f"


def test_a_page_url_names_a_post_only_by_its_uuid() -> None:
    assert post_urn(UUID) == f"urn:uuid:{UUID}"
    assert post_urn(UUID.upper()) == f"urn:uuid:{UUID}"
    assert post_urn("../v1/users") is None
    assert post_urn("") is None


def test_forms_send_the_browser_back_only_within_the_site() -> None:
    assert local_path("/posts/x#p-y") == "/posts/x#p-y"
    assert local_path(None) == "/"
    assert local_path("https://evil.example/") == "/"
    assert local_path("//evil.example/") == "/"
    assert local_path("/\\evil.example", "/bookmarks") == "/bookmarks"


def test_a_compose_form_becomes_the_api_body_without_its_empty_fields() -> None:
    form = {"content": "Hi @ada", "kind": "note", "visibility": "", "group_id": " ", "to": ""}
    assert new_post_body(form) == {"content": "Hi @ada", "kind": "note"}
    direct = {"content": "Lunch?", "visibility": "direct", "to": "@ada, grace ,"}
    assert new_post_body(direct) == {
        "content": "Lunch?",
        "visibility": "direct",
        "to": ["ada", "grace"],
    }
    reply = {"content": "Yes", "in_reply_to": f"urn:uuid:{UUID}", "csrf": "x", "next": "/"}
    assert new_post_body(reply) == {"content": "Yes", "in_reply_to": f"urn:uuid:{UUID}"}


def test_tag_completion_prefers_the_first_source_and_lists_each_tag_once() -> None:
    followed = ["Release", "retro"]
    trending = ["release", "rust", "ops", "refactor"]
    assert matching_tags("#re", followed, trending) == ["release", "retro", "refactor"]
    assert matching_tags("", followed, trending, limit=2) == ["release", "retro"]
    assert matching_tags("zzz", followed, trending) == []


def test_replies_are_indented_by_their_depth_below_the_post() -> None:
    root = "urn:uuid:root"
    thread = [
        {"id": "a", "inReplyTo": {"id": root}},
        {"id": "a1", "inReplyTo": {"id": "a"}},
        {"id": "a1x", "inReplyTo": {"id": "a1"}},
        {"id": "b", "inReplyTo": {"id": root}},
        {"id": "orphan", "inReplyTo": {"id": "hidden"}},
    ]
    assert reply_depths(root, thread) == {"a": 0, "a1": 1, "a1x": 2, "b": 0, "orphan": 0}
