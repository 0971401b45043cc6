"""Several API calls for one page at once, and calls a page can show without."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import quote

from canopy_web.api import ApiError, Page, ServiceDown

T = TypeVar("T")


async def together(*calls: Awaitable[Any]) -> list[Any]:
    """The answers of ``calls``, run at once; the first failure is raised as itself (the
    error pages know it) and the others are cancelled."""
    tasks: list[asyncio.Task[Any]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(call)) for call in calls]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def _awaited(call: Awaitable[T]) -> T:
    return await call


async def optional(call: Awaitable[T]) -> T | None:
    """``call``'s answer, or None when its service is down or refuses: for the parts of a page
    (suggestions, experts) it shows without."""
    try:
        return await call
    except (ServiceDown, ApiError):
        return None


async def nothing() -> None:
    """A call a page makes only sometimes, in its place among ``together``'s calls."""
    return None


def segment(value: str) -> str:
    """An id as one segment of an API path (``urn:uuid:`` ids keep their colons)."""
    return quote(value, safe=":")


async def not_yet(call: Awaitable[Page]) -> Page:
    """A page of a service that learns of things from events (fanout's group and person
    feeds): asked right after ingestion made the group or person, its 404 means it has not
    heard of them yet — nothing to show yet, not a missing page (ingestion said yes first)."""
    try:
        return await call
    except ApiError as exc:
        if exc.status != 404:
            raise
        return Page(items=[], next_cursor=None)
