"""What reads keep between requests (no network): pages spliced from cached JSON come out as
encoding them whole would, and what is kept expires and stays bounded."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
import pytest

from canopy_common.events import Visibility
from canopy_fanout.adapters.items import Stats, StoredItem
from canopy_fanout.domain.model import Item, Reader, ReaderGraph
from canopy_fanout.read_cache import KnownReader, Parsed, ReadCaches, Recent

ITEM = Item(
    tenant_id="acme",
    activity_id="urn:uuid:0b6f7a9e-1234-4567-89ab-0123456789ab",
    object_id="https://canopy.example/acme/posts/1",
    type="Create",
    actor_id="ada",
    author_id="ada",
    visibility=Visibility.INTERNAL,
    published=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    hashtags=frozenset({"launch"}),
)


@pytest.mark.parametrize(
    "body",
    [
        {"id": ITEM.activity_id, "object": {"id": ITEM.object_id, "content": 'Ünïcode "quoted"'}},
        {},  # nothing to splice into
        {"id": "x", "stats": {"replies": 9}},  # the page's stats win, as with {**body, ...}
    ],
)
def test_a_spliced_page_item_is_what_encoding_it_whole_gives(body: dict[str, object]) -> None:
    stats = Stats(replies=2, reactions=5, reacted=True)
    parsed = ReadCaches(ttl_s=1).parsed(StoredItem(ITEM, body).cached())

    spliced = parsed.with_stats(stats)

    whole = {**body, "stats": {"replies": 2, "reactions": 5, "reacted": True}}
    assert spliced == orjson.dumps(whole)


def test_the_same_cached_bytes_are_parsed_once() -> None:
    caches = ReadCaches(ttl_s=1)
    raw = StoredItem(ITEM, {"id": ITEM.activity_id}).cached()

    assert caches.parsed(raw) is caches.parsed(bytes(raw))
    assert caches.parsed(raw).item == ITEM


def test_kept_values_expire_and_the_oldest_go_first() -> None:
    recent: Recent[str, int] = Recent(ttl_s=0.05, size=2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("c", 3)  # "a" goes

    assert [recent.get(k) for k in "abc"] == [None, 2, 3]
    time.sleep(0.06)
    assert recent.get("c") is None


def test_nothing_is_kept_with_no_time_to_keep_it() -> None:
    recent: Recent[str, int] = Recent(ttl_s=0, size=2)
    recent.put("a", 1)

    assert recent.get("a") is None


def test_a_graph_decides_about_an_item_once() -> None:
    known = KnownReader(ReaderGraph(Reader("bob"), follows=frozenset({"ada"})))
    parsed = Parsed.of(StoredItem(ITEM, {}))
    asked: list[Item] = []

    def decide(item: Item) -> bool:
        asked.append(item)
        return True

    assert known.verdict(parsed, True, decide)
    assert known.verdict(parsed, True, decide)
    assert known.verdict(parsed, False, decide)  # another kind of feed: asked again
    assert asked == [ITEM, ITEM]
