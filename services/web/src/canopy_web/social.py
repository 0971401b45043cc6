"""Pure rules of the groups and people pages (docs/architecture.md §18): which join action a
group offers, who sees its admin controls, how a form becomes an API body. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

URN_UUID = "urn:uuid:"
ADMIN_ROLES = frozenset({"owner", "admin"})
# What a person may change on their own profile (ingestion's OwnProfileIn); the rest is HR's.
OWN_PROFILE_TEXT = ("summary", "pronouns", "location")
OWN_PROFILE_LISTS = ("skills", "interests")
HR_FIELDS = ("display_name", "handle", "title", "department", "manager", "email")
# Skills and interests: at most 50 on a profile (ingestion's LIST_MAX_ITEMS).
LIST_MAX_ITEMS = 50


class JoinAction(StrEnum):
    """What the group page offers the reader about membership."""

    LEAVE = "leave"  # a member
    JOIN = "join"  # open group, or an invite to any group
    REQUEST = "request"  # a group whose join policy is "request"
    WITHDRAW = "withdraw"  # asked already: take the request back
    NONE = "none"  # archived: nobody joins


def group_urn(ref: str) -> str:
    """The group's id as the services know it, from the page's ``/groups/<uuid>``."""
    return ref if ref.startswith(URN_UUID) else URN_UUID + ref


def join_action(group: Mapping[str, Any]) -> JoinAction:
    """The one membership button a group's page shows its reader."""
    if group.get("membership"):
        return JoinAction.LEAVE
    if group.get("archived"):
        return JoinAction.NONE
    if group.get("join_request_pending"):
        return JoinAction.WITHDRAW
    if group.get("invited") or group.get("join_policy") != "request":
        return JoinAction.JOIN
    return JoinAction.REQUEST


def is_group_admin(group: Mapping[str, Any]) -> bool:
    """Whether the reader is an owner or admin of the group (the API still decides)."""
    membership = group.get("membership") or {}
    return membership.get("role") in ADMIN_ROLES


def split_list(text: str) -> list[str]:
    """Skills or interests as typed (commas or new lines) → a clean list: trimmed, no blanks,
    no repeats (any case), in the order given."""
    seen: set[str] = set()
    items: list[str] = []
    for raw in text.replace("\n", ",").split(","):
        item = " ".join(raw.split())
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items


def own_profile_patch(form: Mapping[str, str], current: Mapping[str, Any]) -> dict[str, Any]:
    """The ``PATCH /v1/users/me`` body for an edit form: only the fields that changed, so an
    untouched form changes (and emits) nothing. Blank text clears a field (null)."""
    patch: dict[str, Any] = {}
    for name in OWN_PROFILE_TEXT:
        if name not in form:
            continue
        value = form[name].strip() if name != "summary" else form[name].strip("\r\n ")
        if (value or None) != (current.get(name) or None):
            patch[name] = value or None
    for name in OWN_PROFILE_LISTS:
        if name not in form:
            continue
        items = split_list(form[name])
        if items != list(current.get(name) or []):
            patch[name] = items
    return patch


def count_label(items: int, more: bool) -> str:
    """A count read from one page of a list without a total: ``"100+"`` when more follow."""
    return f"{items}+" if more else str(items)


def expertise_of(person_id: str, topic: str, experts: Mapping[str, Any]) -> dict[str, Any] | None:
    """This person's entry in an experts answer for ``topic``, with the topic, or None."""
    for item in experts.get("items") or ():
        if item.get("user_id") == person_id:
            return {"topic": topic, **item}
    return None
