"""How ingestion reads upstream AS2 activities: the refusals and the small rules shared by the
upstream handlers (:mod:`canopy_ingestion.upstream`, :mod:`canopy_ingestion.upstream_posts`).
Pure: no I/O."""

from __future__ import annotations

import dataclasses
from typing import Any

from canopy_common.errors import CanopyError, InvalidInput
from canopy_common.events import AS2Object, ref_id
from canopy_common.iris import user_id_of
from canopy_ingestion.domain.model import Post, PostKind, TaskStatus

UPSTREAM_SOURCE = "upstream"  # when the activity names no `source`
POST_TYPES = {"Note": PostKind.NOTE, "Article": PostKind.ARTICLE, "Question": PostKind.QUESTION}
SCHEDULED_TYPES = {"Task": PostKind.TASK, "Event": PostKind.EVENT}
LINK_TYPES = {"Link", "Page"}


class UnknownTenant(CanopyError):
    status, code = 422, "unknown-tenant"


class UnknownActor(CanopyError):
    status, code = 422, "unknown-actor"


class UnsupportedActivity(CanopyError):
    status, code = 422, "unsupported-activity"


def primary(value: str | list[str] | None) -> str | None:
    """The first of an AS2 ``type`` that may be a list."""
    return value[0] if isinstance(value, list) else value


def required(value: str | None, field: str) -> str:
    if not value:
        raise InvalidInput(f"{field}: required")
    return value


def optional_text(value: Any, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field}: must be a string")
    return value


def optional_texts(value: Any, field: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(f"{field}: must be a list of strings")
    return tuple(value)


def is_person_ref(obj: Any, tenant: str) -> bool:
    iri = ref_id(obj)
    return iri is not None and user_id_of(iri, tenant) is not None


def upstream_object_id(verb: str | None, obj: Any) -> str | None:
    """The id an upstream object is stored under (an Add of a bare link: its URL)."""
    if verb == "Add":
        url = ref_id(obj.url) if isinstance(obj, AS2Object) else ref_id(obj)
        return (obj.id if isinstance(obj, AS2Object) else None) or url
    return ref_id(obj)


def task_status(value: Any, existing: Post | None) -> TaskStatus:
    """The status a task or event says; without one, what it had (a reschedule does not
    reopen a completed task), or open."""
    if value is None:
        kept = existing.status if existing is not None and not existing.deleted else None
        return kept or TaskStatus.OPEN
    if not isinstance(value, str) or value not in {status.value for status in TaskStatus}:
        allowed = " | ".join(TaskStatus)
        raise InvalidInput(f"object.status: {value!r} is not {allowed}")
    return TaskStatus(value)


def upserted(existing: Post | None, post: Post) -> Post:
    """What storing an upstream ``post`` over ``existing`` leaves: the system rewrites what it
    owns; where the thread started, replies, tags and an accepted answer stay as they were."""
    if existing is None:
        return post
    return dataclasses.replace(
        post,
        thread_id=existing.thread_id,
        published=existing.published,
        in_reply_to=existing.in_reply_to,
        mentions=existing.mentions,
        hashtags=existing.hashtags,
        accepted_answer_id=existing.accepted_answer_id,
    )
