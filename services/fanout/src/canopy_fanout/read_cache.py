"""What feed reads keep in memory between requests, so a warm read touches Redis once and
Postgres not at all (docs/architecture.md §5, "Reads").

- Parsed bodies: a cached body's bytes always parse to the same item, so the parse (facts for
  the visibility check, the body as JSON to splice into the page) is kept by those bytes. It
  is exact: an edited item has new bytes.
- Reader graphs, post counts and feed existence, for :attr:`Settings.read_cache_s` seconds.
  A cached graph is trusted to show an item, never to hide one or to deny a feed (reads ask
  Postgres again then: see :func:`canopy_fanout.reads.read_feed`), and a timeline is rebuilt
  only with a fresh one. So what may be that much out of date is an item shown that the
  write path failed to take out (it takes items out of feeds at once when a follow, a
  membership or a block ends; changes reach fanout through the broker anyway, a lag of the
  same order), and the counts.
- With each graph, what it decided about items shown already: one graph and one item always
  decide the same, and the decision costs more than looking it up.
- Whether the actors and authors of a page are former colleagues (deactivated), for
  :attr:`Settings.read_cache_s` seconds, shared by every reader: a page marks their Person
  ``active: false`` as it is made (docs/architecture.md §16), and no cached body is ever
  rewritten for it. The consumer that applies a change of standing forgets it after its
  commit, so in one process it shows at once; an ``api`` process sees it that much later.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson

from canopy_common.events import Visibility
from canopy_common.iris import user_id_of
from canopy_fanout.adapters import items
from canopy_fanout.adapters.items import StoredItem
from canopy_fanout.domain.model import Item, ReaderGraph

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Distinct bodies kept parsed: the items of many readers' first pages (a few MB).
PARSED_BODIES = 5_000
# Reader graphs and per-reader post counts kept: bounded so memory is, whatever the traffic.
READERS = 5_000
STATS = 100_000
# Decisions kept with one graph (a few pages' worth); all forgotten when it is full.
VERDICTS = 128

_serials = itertools.count()


class Recent(Generic[K, V]):
    """Values kept for ``ttl_s`` seconds, at most ``size`` of them (the oldest go first).
    ``ttl_s`` 0 keeps nothing."""

    def __init__(self, ttl_s: float, size: int) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._values: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._values.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del self._values[key]
            return None
        return found[1]

    def pop(self, key: K) -> None:
        self._values.pop(key, None)

    def put(self, key: K, value: V) -> None:
        if self._ttl_s <= 0:
            return
        values = self._values
        values.pop(key, None)  # re-inserted last: the oldest stay first in line
        if len(values) >= self._size:
            del values[next(iter(values))]
        values[key] = (time.monotonic() + self._ttl_s, value)


@dataclass(frozen=True, slots=True)
class Parsed:
    """An item as a page shows it: its facts, and its body as JSON. ``spliceable`` when the
    stats can be written into the body's JSON as its last member (a non-empty object
    without a ``stats`` of its own). ``serial`` names this parse (never reused)."""

    item: Item
    body: bytes
    spliceable: bool
    serial: int = field(default_factory=lambda: next(_serials))

    @classmethod
    def of(cls, stored: StoredItem) -> Parsed:
        body = stored.body
        return cls(stored.item, orjson.dumps(body), bool(body) and "stats" not in body)

    def page_item(self, stats: items.Stats, former: frozenset[str]) -> bytes:
        """The page item (:meth:`with_stats`), its actor and author marked ``active: false``
        when they are among ``former`` (user ids of deactivated people): rare, so only then
        is the body parsed and written again."""
        item = self.item
        if item.actor_id not in former and item.author_id not in former:
            return self.with_stats(stats)
        body = orjson.loads(self.body)
        mark_former(body, item.tenant_id, former)
        return orjson.dumps({**body, "stats": _stats_doc(stats)})

    def with_stats(self, stats: items.Stats) -> bytes:
        """The page item: the body with ``stats`` (reply and reaction counts, whether the
        reader reacted), exactly as ``orjson.dumps({**body, "stats": ...})`` writes it."""
        if not self.spliceable:
            return orjson.dumps({**orjson.loads(self.body), "stats": _stats_doc(stats)})
        reacted = b"true" if stats.reacted else b"false"
        return b'%s,"stats":{"replies":%d,"reactions":%d,"reacted":%s}}' % (
            self.body[:-1],
            stats.replies,
            stats.reactions,
            reacted,
        )


def mark_former(body: dict[str, Any], tenant: str, former: frozenset[str]) -> None:
    """Say ``active: false`` on the Person of the item's actor and of its object's author
    when they are among ``former`` (the Person's own term, as ingestion says it of a former
    colleague's posts)."""
    obj = body.get("object")
    people = [body.get("actor"), obj.get("attributedTo") if isinstance(obj, dict) else None]
    for person in people:
        iri = person.get("id") if isinstance(person, dict) else None
        if isinstance(person, dict) and isinstance(iri, str) and user_id_of(iri, tenant) in former:
            person["active"] = False


def _stats_doc(stats: items.Stats) -> dict[str, object]:
    return {"replies": stats.replies, "reactions": stats.reactions, "reacted": stats.reacted}


@dataclass(frozen=True, slots=True)
class KnownReader:
    """A reader's graph and what it decided about items (:meth:`verdict`)."""

    graph: ReaderGraph
    _verdicts: dict[int, bool] = field(default_factory=dict)

    def verdict(self, parsed: Parsed, home: bool, decide: Callable[[Item], bool]) -> bool:
        """Whether the reader is shown ``parsed`` (in their home feed when ``home``), as
        ``decide`` says for its item — asked once per graph, item and kind of feed."""
        key = parsed.serial * 2 + home
        known = self._verdicts.get(key)
        if known is None:
            known = decide(parsed.item)
            if len(self._verdicts) >= VERDICTS:
                self._verdicts.clear()
            self._verdicts[key] = known
        return known


class ReadCaches:
    """The memory of one fanout process's read path (see the module doc)."""

    def __init__(self, ttl_s: float) -> None:
        self._parsed: dict[bytes, Parsed] = {}
        self.graphs: Recent[tuple[str, str, bool], KnownReader] = Recent(ttl_s, READERS)
        self.stats: Recent[tuple[str, str, str], items.Stats] = Recent(ttl_s, STATS)
        # Only what lets a read go on: an unknown person or group is asked again.
        self.people: Recent[tuple[str, str], bool] = Recent(ttl_s, READERS)
        self.groups: Recent[tuple[str, str], Visibility] = Recent(ttl_s, READERS)
        # (tenant, person) → deactivated: a former colleague (their items are marked).
        self.former: Recent[tuple[str, str], bool] = Recent(ttl_s, STATS)

    def forget_standing(self, tenant: str, person: str) -> None:
        """A person was deactivated or reactivated here: the next page asks again."""
        self.former.pop((tenant, person))

    def parsed(self, raw: bytes) -> Parsed:
        """The parse of a body cached in Redis (:meth:`StoredItem.cached`)."""
        found = self._parsed.get(raw)
        if found is None:
            found = Parsed.of(StoredItem.from_cache(raw))
            if len(self._parsed) >= PARSED_BODIES:
                del self._parsed[next(iter(self._parsed))]
            self._parsed[raw] = found
        return found
