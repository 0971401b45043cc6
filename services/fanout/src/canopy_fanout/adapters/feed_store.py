"""Timelines and item bodies in Redis (docs/architecture.md §5.6). Redis is a cache: anything here
can be rebuilt from the ``fanout`` schema.

A timeline is a sorted set ``tl:{tenant}:<kind>:<owner>`` of 16-byte members scored by time,
plus one sentinel (empty member, score 0) that marks it as built: pushes only go into timelines
that exist, so a timeline is either whole or missing — and a missing one is rebuilt from
Postgres on its next read, never shown empty. Bodies are cached as ``act:{tenant}:<entry>``.
The braces make ``{tenant}`` the Redis Cluster hash tag, so one script may touch many of a
tenant's keys.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

from redis.asyncio import Redis

from canopy_fanout.domain.entries import Cursor, Direction, Position
from canopy_fanout.domain.model import FeedKind, FeedRef

Prefix = Literal["tl", "act", "seen"]
SENTINEL: Final = b""  # score 0: below every item, kept by the trim (rank 0)
# Ties within one millisecond beyond a page edge: fetched in addition, then cut exactly.
_TIE_SLACK: Final = 32
# Recipients per script call: one round trip each, small enough not to stall Redis.
PUSH_BATCH: Final = 1_000

# The one write of a push, shared by both scripts: ARGV[first..last] are score/member pairs.
# Only a timeline that exists is written (a missing one is rebuilt on read); it is trimmed to
# `cap` items below its sentinel. True when it was written.
_WRITE = """
local function write(timeline, cap, first, last)
  if redis.call('EXISTS', timeline) == 0 then return false end
  for i = first, last, 2 do
    redis.call('ZADD', timeline, ARGV[i], ARGV[i + 1])
  end
  redis.call('ZREMRANGEBYRANK', timeline, 1, -(cap + 1))
  return true
end
"""
# KEYS: timelines; ARGV: cap, then score/member pairs. Returns how many were written.
_PUSH = (
    _WRITE
    + """
local cap, written = tonumber(ARGV[1]), 0
for _, timeline in ipairs(KEYS) do
  if write(timeline, cap, 2, #ARGV) then written = written + 1 end
end
return written
"""
)
# The fan-out's hot path, into the home timelines of readers named by id. ARGV: the home
# timelines' prefix, cap, entries n, then n score/member pairs, then the readers' ids in one
# newline-separated string. The names are made here: 1,000 keys built, sent and parsed one by
# one cost the client more than the pushes cost Redis. Returns how many were written.
_PUSH_HOMES = (
    _WRITE
    + """
local prefix, cap, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local last, written = 3 + 2 * n, 0
for reader in string.gmatch(ARGV[last + 1], '[^\\n]+') do
  if write(prefix .. reader, cap, 4, last) then written = written + 1 end
end
return written
"""
)


def key(prefix: Prefix, tenant: str, *parts: str) -> str:
    """Every Redis key of the fanout service: ``<prefix>:{<tenant>}:<parts…>``."""
    return ":".join((prefix, f"{{{tenant}}}", *parts))


def timeline_key(tenant: str, feed: FeedRef) -> str:
    return key("tl", tenant, feed.kind.value, feed.owner)


def body_key(tenant: str, entry: uuid.UUID) -> str:
    return key("act", tenant, entry.hex)


class FeedStore:
    """Timelines and cached bodies of every tenant in one Redis."""

    def __init__(self, redis: Redis, *, cap: int, timeline_ttl_s: float, body_ttl_s: float):
        self.redis = redis
        self.cap = cap
        self._timeline_ttl_ms = int(timeline_ttl_s * 1000)
        self._body_ttl_ms = int(body_ttl_s * 1000)
        self._push = redis.register_script(_PUSH)
        self._push_homes = redis.register_script(_PUSH_HOMES)

    # --- writes ---------------------------------------------------------------------------

    async def push(self, tenant: str, feeds: Sequence[FeedRef], entries: Sequence[Position]) -> int:
        """Add ``entries`` to those ``feeds`` that are built; how many were written.

        One script call per :data:`PUSH_BATCH` feeds, never one round trip per reader.
        """
        return await self._push_into([timeline_key(tenant, feed) for feed in feeds], entries)

    async def push_homes(
        self, tenant: str, readers: Sequence[str], entries: Sequence[Position]
    ) -> int:
        """:meth:`push` into the home feeds of ``readers``: the fan-out's hot path. The
        script names the timelines from one prefix and the ids, one call per
        :data:`PUSH_BATCH` readers."""
        if not readers or not entries:
            return 0
        prefix = timeline_key(tenant, FeedRef(FeedKind.HOME, ""))
        head: list[bytes | int | str] = [prefix, self.cap, len(entries)]
        for entry in entries:
            head += [entry.score, entry.member]
        written = 0
        for start in range(0, len(readers), PUSH_BATCH):
            batch = readers[start : start + PUSH_BATCH]
            named = "\n".join(batch)
            if named.count("\n") != len(batch) - 1 or "" in batch:  # an id no line can hold
                homes = [FeedRef(FeedKind.HOME, reader) for reader in batch]
                written += await self.push(tenant, homes, entries)
                continue
            written += int(await self._push_homes(args=[*head, named]))
        return written

    async def _push_into(self, names: Sequence[str], entries: Sequence[Position]) -> int:
        if not names or not entries:
            return 0
        pairs: list[bytes | int] = []
        for entry in entries:
            pairs += [entry.score, entry.member]
        written = 0
        for start in range(0, len(names), PUSH_BATCH):
            keys = names[start : start + PUSH_BATCH]
            written += int(await self._push(keys=keys, args=[self.cap, *pairs]))
        return written

    async def remove(self, tenant: str, feeds: Sequence[FeedRef], members: Sequence[bytes]) -> None:
        """Take ``members`` out of ``feeds`` (missing ones are fine)."""
        if not feeds or not members:
            return
        for start in range(0, len(feeds), PUSH_BATCH):
            async with self.redis.pipeline(transaction=False) as pipe:
                for feed in feeds[start : start + PUSH_BATCH]:
                    pipe.zrem(timeline_key(tenant, feed), *members)
                await pipe.execute()

    async def replace(self, tenant: str, feed: FeedRef, entries: Iterable[Position]) -> None:
        """Build ``feed`` from ``entries`` (newest ``cap`` kept), replacing what was there."""
        name = timeline_key(tenant, feed)
        mapping: dict[bytes, float] = {SENTINEL: 0}
        for entry in sorted(entries, reverse=True)[: self.cap]:
            mapping[entry.member] = entry.score
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.zadd(name, mapping)
            pipe.pexpire(name, self._timeline_ttl_ms)
            await pipe.execute()

    async def drop(self, tenant: str, feeds: Sequence[FeedRef]) -> None:
        """Forget ``feeds`` entirely (rebuilt on their next read)."""
        if feeds:
            await self.redis.delete(*(timeline_key(tenant, feed) for feed in feeds))

    async def touch(self, tenant: str, feed: FeedRef) -> None:
        """Keep a read timeline for another active window."""
        await self.redis.pexpire(timeline_key(tenant, feed), self._timeline_ttl_ms)

    # --- reads ----------------------------------------------------------------------------

    async def built(self, tenant: str, feeds: Sequence[FeedRef]) -> list[bool]:
        """Whether each feed is built (else it must be rebuilt before it is read)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for feed in feeds:
                pipe.exists(timeline_key(tenant, feed))
            return [bool(found) for found in await pipe.execute()]

    async def window(
        self, tenant: str, feed: FeedRef, cursor: Cursor | None, count: int
    ) -> tuple[list[Position], bool]:
        """Up to ``count`` (plus ties) entries on the cursor's side of it, and whether the
        timeline was trimmed (it may not hold everything older than what it returns)."""
        name = timeline_key(tenant, feed)
        fetch = count + _TIE_SLACK
        async with self.redis.pipeline(transaction=False) as pipe:
            if cursor is None or cursor.direction is Direction.OLDER:
                # The newest, or those older than the cursor: newest first.
                top = "+inf" if cursor is None else cursor.position.score
                pipe.zrange(
                    name, top, "(0", desc=True, byscore=True, offset=0, num=fetch, withscores=True
                )
            else:  # newer than the cursor: oldest first
                pipe.zrange(
                    name,
                    cursor.position.score,
                    "+inf",
                    byscore=True,
                    offset=0,
                    num=fetch,
                    withscores=True,
                )
            pipe.zcard(name)
            rows, size = await pipe.execute()
        positions = [Position(int(score), bytes(member)) for member, score in rows]
        return positions, int(size) - 1 >= self.cap

    # --- bodies ---------------------------------------------------------------------------

    async def bodies(self, tenant: str, entries: Sequence[uuid.UUID]) -> list[bytes | None]:
        if not entries:
            return []
        found = await self.redis.mget([body_key(tenant, entry) for entry in entries])
        return [value if isinstance(value, bytes) else None for value in found]

    async def cache_bodies(self, tenant: str, bodies: Mapping[uuid.UUID, bytes]) -> None:
        if not bodies:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry, body in bodies.items():
                pipe.set(body_key(tenant, entry), body, px=self._body_ttl_ms)
            await pipe.execute()

    async def forget_bodies(self, tenant: str, entries: Sequence[uuid.UUID]) -> None:
        if entries:
            await self.redis.delete(*(body_key(tenant, entry) for entry in entries))

    async def first_sight(self, tenant: str, user_id: str, every_s: int) -> bool:
        """True at most once per ``every_s`` per reader: when to record their last read."""
        return bool(await self.redis.set(key("seen", tenant, user_id), b"1", nx=True, ex=every_s))

    # --- a page read in one round trip (the read path's hot path) ------------------------

    # KEYS: the reader's `seen` marker, then timelines (the feed read first, then the sources
    # merged into it). ARGV: seen ttl s, timeline ttl ms, entries per timeline, cursor
    # direction ('' none, 'o' older, 'n' newer), cursor score, bodies wanted, body key prefix.
    # Returns: 1 when the marker was set (first_sight), then per timeline its size without
    # the sentinel (-1: not built) and its entries packed as 16-byte member + big-endian
    # double score (each element of a reply costs the client more than its bytes); then the
    # cached bodies of the first timeline's first entries, as MGET gives them (cheaper for
    # Redis than packing them too). Only the first timeline is touched, as `touch` does.
    _READ_PAGE: Final = """
local seen = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
local ttl, fetch, mode, score = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local want, prefix = tonumber(ARGV[6]), ARGV[7]
local out = {seen and 1 or 0}
local first = {}
for i = 2, #KEYS do
  local timeline = KEYS[i]
  if redis.call('EXISTS', timeline) == 0 then
    out[#out + 1] = -1
    out[#out + 1] = ''
  else
    local rows
    if mode == 'o' then
      rows = redis.call('ZRANGE', timeline, score, '(0', 'BYSCORE', 'REV', 'LIMIT', 0, fetch,
                        'WITHSCORES')
    elseif mode == 'n' then
      rows = redis.call('ZRANGE', timeline, score, '+inf', 'BYSCORE', 'LIMIT', 0, fetch,
                        'WITHSCORES')
    else
      rows = redis.call('ZRANGE', timeline, '+inf', '(0', 'BYSCORE', 'REV', 'LIMIT', 0, fetch,
                        'WITHSCORES')
    end
    local packed = {}
    for j = 1, #rows, 2 do
      if #rows[j] == 16 then
        packed[#packed + 1] = rows[j] .. struct.pack('>d', tonumber(rows[j + 1]))
        if i == 2 and #first < want then first[#first + 1] = rows[j] end
      end
    end
    out[#out + 1] = redis.call('ZCARD', timeline) - 1
    out[#out + 1] = table.concat(packed)
    if i == 2 and ttl > 0 then redis.call('PEXPIRE', timeline, ttl) end
  end
end
local names = {}
for i, member in ipairs(first) do
  local a, b, c, d = struct.unpack('>I4I4I4I4', member)  -- the key holds the member in hex
  names[i] = prefix .. string.format('%08x%08x%08x%08x', a, b, c, d)
end
if #names > 0 then
  for _, body in ipairs(redis.call('MGET', unpack(names))) do
    out[#out + 1] = body or ''
  end
end
return out
"""

    async def read_page(
        self,
        tenant: str,
        reader_id: str,
        feeds: Sequence[FeedRef],
        cursor: Cursor | None,
        count: int,
        *,
        bodies: int,
        seen_every_s: int,
    ) -> tuple[bool, list[tuple[list[Position], bool] | None], dict[bytes, bytes]]:
        """What a page read needs, in one round trip instead of six: :meth:`first_sight`
        for ``reader_id``; each feed's :meth:`window` (``None`` when it is not built); the
        first feed touched (:meth:`touch`); and the cached bodies of the first ``bodies``
        entries of the first feed's window, by member (missing ones left out)."""
        if not hasattr(self, "_read_page_script"):  # registered on first use
            self._read_page_script = self.redis.register_script(self._READ_PAGE)
        mode, score, fetch = "", 0, count
        if cursor is not None:
            mode, score, fetch = cursor.direction.value, cursor.position.score, count + _TIE_SLACK
        keys = [key("seen", tenant, reader_id), *(timeline_key(tenant, feed) for feed in feeds)]
        args: list[str | int] = [seen_every_s, self._timeline_ttl_ms, fetch, mode, score, bodies]
        args.append(key("act", tenant, ""))  # the body keys' prefix: key() names them all
        reply = await self._read_page_script(keys=keys, args=args)
        windows: list[tuple[list[Position], bool] | None] = []
        for index in range(len(feeds)):
            size, packed = int(reply[1 + 2 * index]), bytes(reply[2 + 2 * index])
            if size < 0:
                windows.append(None)
                continue
            found = [Position(int(s), m) for m, s in struct.iter_unpack(">16sd", packed)]
            windows.append((found, size >= self.cap))
        first = windows[0][0] if windows and windows[0] is not None else []
        got = reply[1 + 2 * len(feeds) :]  # '' for a body not cached
        cached = {p.member: bytes(body) for p, body in zip(first, got, strict=False) if body}
        return bool(reply[0]), windows, cached
