"""Reading back what the system shows (feeds, notifications, analytics) and what the topics
hold, counting what shows more than once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from canopy_common.kafka import Delivery
from canopy_testing.kafka import read_topic
from canopy_testing.system import SystemClient

# Feeds keep their newest 800 items (fanout's feed_cap): every list read here stays below, so
# a longer one means the test outgrew what it can check.
FEED_CAP = 800
PAGE = 100
# What the senders write into each post's content (traffic.py): the same one twice is a post
# written twice, whatever the ids say.
MARKER = re.compile(r"(?:post|note)-\d{4}")


@dataclass
class Seen:
    """Ids as a feed or a notification list showed them, each with how often it showed."""

    ids: Counter[str] = field(default_factory=Counter)
    markers: Counter[str] = field(default_factory=Counter)  # from the content: posted twice?
    marker_of: dict[str, str] = field(default_factory=dict)  # id → marker

    def add(self, ident: str, content: str) -> None:
        self.ids[ident] += 1
        if found := MARKER.search(content):
            self.markers[found[0]] += 1
            self.marker_of[ident] = found[0]

    def update(self, other: Seen) -> None:
        self.ids.update(other.ids)
        self.markers.update(other.markers)
        self.marker_of.update(other.marker_of)

    def twice(self) -> int:
        return sum(n - 1 for n in self.ids.values() if n > 1) + sum(
            n - 1 for n in self.markers.values() if n > 1
        )

    def found(self, wanted: Iterable[str]) -> int:
        return sum(1 for ident in wanted if ident in self.ids)


async def every_item(
    canopy: SystemClient,
    service: str,
    path: str,
    t: str,
    user: str,
    keep: Callable[[dict[str, Any]], bool] = lambda item: True,
) -> Seen:
    """Every item of a paged list (a feed, the notifications) that ``keep`` keeps, following
    ``next_cursor``."""
    seen = Seen()
    params: dict[str, Any] = {"limit": PAGE}
    for _ in range(FEED_CAP // PAGE + 2):
        page = await canopy.call(service, "GET", path, t, user, params=params)
        for item in filter(keep, page["items"]):
            obj = item.get("object") or {}
            seen.add(str(obj.get("id")), str(obj.get("content") or ""))
        if not page.get("next_cursor") or not page["items"]:
            return seen
        params = {"limit": PAGE, "cursor": page["next_cursor"]}
    raise AssertionError(f"{path} of {user}: more than {FEED_CAP} items")


def is_mention(notification: dict[str, Any]) -> bool:
    return bool(notification["type"] == "mention")


async def stored_at(canopy: SystemClient, deliveries: dict[str, Delivery]) -> int:
    """How many upstream records the upstream topic holds where their acknowledgement said."""
    kafka = canopy.system.kafka
    stored = {
        (r.partition, r.offset): r.value for r in await read_topic(kafka, kafka.topic_upstream)
    }
    return sum(
        1
        for marker, d in deliveries.items()
        if marker.encode() in stored.get((d.partition, d.offset), b"")
    )


async def copies_on_activities(canopy: SystemClient) -> int:
    """Activities the activities topic holds more than once (the same activity id)."""
    kafka = canopy.system.kafka
    ids = Counter(
        orjson.loads(r.value)["id"] for r in await read_topic(kafka, kafka.topic_activities)
    )
    return sum(n - 1 for n in ids.values() if n > 1)


async def posts_counted(canopy: SystemClient, t: str, reader: str) -> int:
    """Posts analytics counted this week, read by ``reader`` (an active person) as analyst."""
    path = "/v1/analytics/summary"
    week = {"period": "7d"}  # not 1d: a run across midnight UTC counts on two days
    summary = await canopy.call("analytics", "GET", path, t, reader, "analyst", params=week)
    return int(summary["posts"])


# What the services log when something went wrong beyond what they retry: an exception no
# code looked at (asyncio's own messages) or a consumer loop that ended.
UNHANDLED = ("Exception in callback", "exception was never retrieved", "consumer crashed")


def log_lines(log: Path, *needles: str) -> int:
    """How many lines of ``log`` hold one of ``needles``."""
    with log.open(errors="replace") as lines:
        return sum(1 for line in lines if any(needle in line for needle in needles))
