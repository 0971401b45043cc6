"""`python -m canopy_fanout.rebuild --tenant TENANT [--user USER_ID] [--quiet]`: rebuild a
tenant's feeds (or one person's) in Redis from the ``fanout`` schema, e.g. after Redis lost
them. Reads rebuild a missing feed anyway; this does it ahead of the readers.

Home feeds are rebuilt only for people who read within the active window: nobody else gets
pushes, so a home feed rebuilt for them would go stale in Redis, while left missing it is
rebuilt whole on their next read (which also starts their pushes)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from canopy_common.db import Connection, close_pool, create_pool
from canopy_common.errors import NotFound
from canopy_common.logging import configure_logging
from canopy_common.redis import close_redis, create_redis
from canopy_fanout.adapters import graph
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_fanout.reads import rebuild_feed
from canopy_fanout.settings import Settings

log = structlog.get_logger(__name__)

# Feeds rebuilt at once: enough to keep Postgres and Redis busy, few enough to leave most of
# a pool (and of the database) to the running services.
PARALLEL_FEEDS = 4


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """One feed done: what the progress callback gets."""

    feed: FeedRef
    entries: int
    total: int  # feeds in this run


OnRebuilt = Callable[[Rebuilt], None]


@dataclass(frozen=True, slots=True)
class Summary:
    feeds: int
    entries: int
    seconds: float
    homes_left: int  # home feeds of people not reading lately, left to their next read

    def line(self, tenant: str) -> str:
        text = (
            f"rebuilt {self.feeds} feeds of tenant {tenant}: "
            f"{self.entries} entries written in {self.seconds:.2f} s"
        )
        if self.homes_left:
            text += f" ({self.homes_left} home feeds of people away left to their next read)"
        return text


def feeds_to_rebuild(
    *,
    people: Iterable[str],
    readers: Collection[str],
    groups: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> list[FeedRef]:
    """The feeds to rebuild, in order: each person's home feed (only for ``readers``, those
    who read lately) and own feed, then group feeds, then hashtag feeds."""
    found: list[FeedRef] = []
    for person in people:
        if person in readers:
            found.append(FeedRef(FeedKind.HOME, person))
        found.append(FeedRef(FeedKind.USER, person))
    found += [FeedRef(FeedKind.GROUP, group) for group in groups]
    found += [FeedRef(FeedKind.TAG, tag) for tag in tags]
    return found


async def rebuild(
    pool: asyncpg.Pool,
    feeds: FeedStore,
    settings: Settings,
    tenant: str,
    user: str | None,
    progress: OnRebuilt,
) -> Summary:
    """Rebuild every feed of ``tenant`` the projections know of (only ``user``'s two when
    given); ``progress`` hears of each feed done.

    Raises :class:`NotFound` for a tenant with no people and no groups, or a ``user`` who is
    not an active person of it.
    """
    started = time.perf_counter()
    active_since = datetime.now(UTC) - timedelta(seconds=settings.active_window_s)
    async with pool.acquire() as conn:
        if not await _tenant_known(conn, tenant):
            raise NotFound(f"tenant {tenant!r} has no people and no groups")
        if user is not None:
            if not await graph.person_exists(conn, tenant, user):
                raise NotFound(f"no active person {user!r} in tenant {tenant!r}")
            people = [user]
            groups: list[str] = []
            tags: list[str] = []
        else:
            people = await _active_people(conn, tenant)
            groups = await _groups(conn, tenant)
            tags = await _hashtags(conn, tenant)
        readers = await _readers(conn, tenant, people, active_since)
    todo = feeds_to_rebuild(people=people, readers=readers, groups=groups, tags=tags)
    entries = await _rebuild_all(pool, feeds, settings, tenant, todo, progress)
    summary = Summary(
        feeds=len(todo),
        entries=entries,
        seconds=time.perf_counter() - started,
        homes_left=len(people) - len(readers),
    )
    log.info(
        "feeds rebuilt",
        tenant=tenant,
        user=user,
        feeds=summary.feeds,
        entries=summary.entries,
        homes_left=summary.homes_left,
    )
    return summary


async def _rebuild_all(
    pool: asyncpg.Pool,
    feeds: FeedStore,
    settings: Settings,
    tenant: str,
    todo: Sequence[FeedRef],
    progress: OnRebuilt,
) -> int:
    pending = iter(todo)
    written = 0

    async def work() -> None:
        nonlocal written
        # One iterator shared by the workers: each feed is taken exactly once.
        for feed in pending:
            async with pool.acquire() as conn:
                entries = await rebuild_feed(conn, feeds, tenant, feed, settings=settings)
            written += entries
            progress(Rebuilt(feed, entries, len(todo)))

    async with asyncio.TaskGroup() as workers:
        for _ in range(min(PARALLEL_FEEDS, len(todo))):
            workers.create_task(work())
    return written


async def _tenant_known(conn: Connection, tenant: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM people WHERE tenant_id = $1) "
            "OR EXISTS (SELECT 1 FROM groups WHERE tenant_id = $1)",
            tenant,
        )
    )


async def _active_people(conn: Connection, tenant: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT user_id FROM people WHERE tenant_id = $1 AND active ORDER BY user_id", tenant
    )
    return [row["user_id"] for row in rows]


async def _readers(
    conn: Connection, tenant: str, people: Sequence[str], since: datetime
) -> set[str]:
    """Those of ``people`` who read since ``since`` (the ones who get pushes)."""
    rows = await conn.fetch(
        "SELECT user_id FROM people WHERE tenant_id = $1 AND user_id = ANY($2::text[]) "
        "AND last_seen_at >= $3",
        tenant,
        list(people),
        since,
    )
    return {row["user_id"] for row in rows}


async def _groups(conn: Connection, tenant: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT group_id FROM groups WHERE tenant_id = $1 ORDER BY group_id", tenant
    )
    return [row["group_id"] for row in rows]


async def _hashtags(conn: Connection, tenant: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT unnest(hashtags) AS tag FROM items WHERE tenant_id = $1 ORDER BY tag",
        tenant,
    )
    return [row["tag"] for row in rows]


# --- command line ---------------------------------------------------------------------------


async def _run(settings: Settings, tenant: str, user: str | None, *, quiet: bool) -> Summary:
    pool = await create_pool(settings.postgres, schema=settings.db_schema)
    redis = create_redis(settings.redis)
    feeds = FeedStore(
        redis,
        cap=settings.feed_cap,
        timeline_ttl_s=settings.active_window_s,
        body_ttl_s=settings.body_ttl_s,
    )
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )
    try:
        with bar:
            task = bar.add_task(f"rebuilding feeds of {tenant}", total=None)

            def advance(done: Rebuilt) -> None:
                bar.update(task, total=done.total, advance=1)

            return await rebuild(pool, feeds, settings, tenant, user, advance)
    finally:
        await close_redis(redis)
        await close_pool(pool)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m canopy_fanout.rebuild",
        description="Rebuild feeds in Redis from the fanout schema in Postgres.",
    )
    parser.add_argument("--tenant", required=True, help="the tenant whose feeds to rebuild")
    parser.add_argument("--user", help="only this person's home feed and own feed")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, json=settings.log_json, service=settings.service_name)
    try:
        summary = asyncio.run(_run(settings, args.tenant, args.user, quiet=args.quiet))
    except NotFound as exc:
        print(f"nothing rebuilt: {exc.message}", file=sys.stderr)
        return 1
    except asyncpg.UndefinedTableError:
        print(
            f"nothing rebuilt: schema {settings.db_schema!r} has no fanout tables "
            "(run `python -m canopy_fanout migrate` first)",
            file=sys.stderr,
        )
        return 1
    print(summary.line(args.tenant))
    return 0


if __name__ == "__main__":
    sys.exit(main())
