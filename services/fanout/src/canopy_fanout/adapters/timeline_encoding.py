"""Timelines in Redis's compact sorted-set encoding.

Redis keeps a sorted set of up to ``zset-max-listpack-entries`` members (128 by default) as
one packed listpack, ~28 bytes per timeline entry (16-byte member, 64-bit score); past it, as
a skiplist and hash table, ~120 bytes per entry (measured by ``make bench``). A timeline
capped at 800 entries therefore takes four times the memory on a default server. At start the
service raises the limit to the feed cap when the server allows ``CONFIG SET``; a server that
refuses it (managed Redis often does) gets a warning naming the setting to change. Inserting
into an 800-entry listpack costs a memmove of ~25 KB, which ``make bench`` measured at about a
fifth of the insert rate: memory is the scarcer resource of a timeline cache.
"""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from canopy_fanout.settings import Settings

log = structlog.get_logger(__name__)
SETTING = "zset-max-listpack-entries"


async def compact_timelines(redis: Redis, settings: Settings) -> None:
    """Make sure a full timeline stays a listpack: the cap, the built sentinel, and the
    entries of one push before its trim (a backfill's, the largest). Redis converts a set that
    outgrows the limit for good, even when a trim shrinks it right after."""
    if not settings.compact_timelines:
        return
    await ensure_listpack_entries(redis, settings.feed_cap + 1 + max(settings.backfill, 1))


async def ensure_listpack_entries(redis: Redis, needed: int) -> bool:
    """Raise the server's ``zset-max-listpack-entries`` to ``needed`` (never lower it);
    False when the server refused, with a warning saying what to set."""
    try:
        current = int((await redis.config_get(SETTING)).get(SETTING) or 0)
        if current >= needed:
            return True
        await redis.config_set(SETTING, needed)
    except ResponseError as exc:  # CONFIG disabled or renamed
        log.warning(
            "could not raise the compact timeline limit: timelines take ~4x the memory",
            setting=SETTING,
            needed=needed,
            error=str(exc),
        )
        return False
    log.info("raised the compact timeline limit", setting=SETTING, was=current, now=needed)
    return True
