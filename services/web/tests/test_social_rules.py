"""The pure rules of the groups and people pages (canopy_web.social): no servers."""

from __future__ import annotations

import asyncio

import pytest

from canopy_web.api import ApiError, Page, Service, ServiceDown
from canopy_web.pages.calls import not_yet, optional, together
from canopy_web.social import (
    JoinAction,
    count_label,
    expertise_of,
    group_urn,
    is_group_admin,
    join_action,
    own_profile_patch,
    split_list,
)


def test_a_group_page_uuid_becomes_the_services_id_once() -> None:
    assert group_urn("0190-ab") == "urn:uuid:0190-ab"
    assert group_urn("urn:uuid:0190-ab") == "urn:uuid:0190-ab"


@pytest.mark.parametrize(
    ("group", "action"),
    [
        ({"membership": {"role": "member"}, "archived": True}, JoinAction.LEAVE),
        ({"membership": None, "join_policy": "open"}, JoinAction.JOIN),
        ({"membership": None, "join_policy": "request"}, JoinAction.REQUEST),
        ({"join_policy": "request", "join_request_pending": True}, JoinAction.WITHDRAW),
        ({"join_policy": "request", "invited": True}, JoinAction.JOIN),  # an invite lets in
        ({"visibility": "private", "join_policy": "open", "invited": True}, JoinAction.JOIN),
        ({"join_policy": "open", "archived": True}, JoinAction.NONE),
    ],
)
def test_a_group_offers_the_one_membership_action_that_fits(
    group: dict[str, object], action: JoinAction
) -> None:
    assert join_action(group) is action


def test_only_owners_and_admins_see_a_groups_admin_controls() -> None:
    assert is_group_admin({"membership": {"role": "owner"}})
    assert is_group_admin({"membership": {"role": "admin"}})
    assert not is_group_admin({"membership": {"role": "member"}})
    assert not is_group_admin({"membership": None})


def test_skills_as_typed_become_a_clean_list_without_repeats() -> None:
    assert split_list(" Go,  kubernetes ,go,\nCloud   native,, ") == [
        "Go",
        "kubernetes",
        "Cloud native",
    ]
    assert split_list("  ") == []


def test_an_edit_sends_only_what_changed_and_blank_clears() -> None:
    current = {
        "summary": "Hi",
        "pronouns": "she/her",
        "location": None,
        "skills": ["go"],
        "interests": [],
        "title": "Engineer",
    }
    untouched = {"summary": "Hi", "pronouns": "she/her", "location": "", "skills": "go"}
    assert own_profile_patch({**untouched, "interests": ""}, current) == {}
    changed = own_profile_patch(
        {
            "summary": "Line one\r\nLine two\r\n",
            "pronouns": " ",
            "location": "Lisbon",
            "skills": "go, rust",
            "interests": "",
            "title": "CEO",  # HR's: never sent
        },
        current,
    )
    assert changed == {
        "summary": "Line one\r\nLine two",
        "pronouns": None,
        "location": "Lisbon",
        "skills": ["go", "rust"],
    }


def test_a_count_from_one_page_says_when_there_are_more() -> None:
    assert count_label(3, more=False) == "3"
    assert count_label(100, more=True) == "100+"


def test_expertise_is_the_persons_own_entry_with_its_topic() -> None:
    answer = {"items": [{"user_id": "u-a", "score": 2.0}, {"user_id": "u-b", "score": 1.0}]}
    assert expertise_of("u-b", "go", answer) == {"topic": "go", "user_id": "u-b", "score": 1.0}
    assert expertise_of("u-c", "go", answer) is None


async def test_calls_together_answer_in_order_and_raise_the_first_failure_as_itself() -> None:
    async def value(v: int) -> int:
        await asyncio.sleep(0)
        return v

    async def refused() -> int:
        raise ApiError(404, "Not Found", "no such group")

    assert await together(value(1), value(2)) == [1, 2]
    with pytest.raises(ApiError) as caught:
        await together(value(1), refused())
    assert caught.value.status == 404


async def test_an_optional_call_is_none_when_its_service_is_down_or_refuses() -> None:
    async def down() -> int:
        raise ServiceDown(Service.ANALYTICS, "ConnectError")

    async def refused() -> int:
        raise ApiError(403, "Forbidden", "")

    async def fine() -> int:
        return 7

    assert await optional(down()) is None
    assert await optional(refused()) is None
    assert await optional(fine()) == 7


async def test_a_feed_not_heard_of_yet_is_empty_but_other_refusals_stay_errors() -> None:
    async def unknown() -> Page:
        raise ApiError(404, "Not Found", "no such group")

    async def forbidden() -> Page:
        raise ApiError(403, "Forbidden", "")

    assert await not_yet(unknown()) == Page(items=[], next_cursor=None)
    with pytest.raises(ApiError):
        await not_yet(forbidden())
