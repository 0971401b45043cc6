"""``fanout``: timeline inserts end to end, and what a timeline entry costs in Redis.

The fanout service runs alone (``python -m canopy_fanout all`` under supervisord, isolated topics
and database; see :mod:`bench.system`). Everything it gets is a canonical activity published
on ``canopy.activities.v1``, as ingestion would publish it:

1. set-up (not timed): 11,001 people, 110,000 follows, then one home-feed read by each
   follower over HTTP, which makes them active readers with a built timeline;
2. ``fanout.1000x100``: the 1,000 authors post once each, all published at once; inserts/s
   from the first send until all 100,000 entries are in Redis;
3. ``fanout.10k``: the big author's post to 10,000 active followers, repeated; per post, the
   time from its send until it is in every follower's home timeline (p50, p99), and inserts/s
   over all of them;
4. ``memory.timeline``: Redis ``MEMORY USAGE`` ÷ entries, over timelines at the feed cap (a
   prolific author's followers) and over the followers' timelines as the run left them.

"In Redis" is checked by a Lua script over the expected timelines (named in the script, so a
check costs Redis only its lookups): a strided sample first (a cheap miss while the fan-out is
under way), then every timeline; a post's time ends when the check that saw it in every
timeline began (Redis's clock: a script runs alone, so what it saw held then).

Each rate comes with its CPU cost, ``.cpu_us_per_insert`` (:mod:`bench.cpu`): the CPU of the
fanout processes, Postgres, Redis and the broker over the measured span, ÷ the inserts; each
part's share is in its ``params``. The checks' own Redis time (their ZSCORE and ZCOUNT, as
Redis counts it) is taken out of Redis's share and shown beside it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bench import workloads
from bench.cpu import CpuMeter, cost_figure
from bench.figures import Figure, JSONScalar, percentile, rate
from bench.harness import BenchContext, Benchmark
from bench.system import BenchSystem, bench_system, cpu_meter, progress, started, wait_consumed
from canopy_common.activities import user_id
from canopy_common.events import StrictActivity, encode
from canopy_common.iris import user_iri
from canopy_fanout.adapters.feed_store import timeline_key
from canopy_fanout.domain.entries import entry_of, score_of
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_testing.factories import ActivityFactory, new_tenant_id

SEND_WINDOW: Final = 1_000  # sends in flight while publishing set-up traffic
READ_CONCURRENCY: Final = 32  # set-up feed reads in flight
BIG_AUTHOR: Final = "big"
PROLIFIC: Final = "prolific"
FULL_FEED_READERS: Final = 50
# A few more posts than the feed cap (800), so the full timelines have been trimmed.
PROLIFIC_POSTS: Final = 850
MEMORY_SAMPLE: Final = 200  # of the followers' timelines
POLL_S: Final = 0.001
WAIT_LIMIT_S: Final = 120.0

# The followers' home timelines are named in the script (prefix .. string.format('f%05d', i),
# as workloads.follower_ids names them): a check costs Redis only the lookups it makes.
# ARGV: prefix, followers, member, stride. {-1} when a strided sample misses the member, else
# {how many timelines miss it (0: it is everywhere), the server's time when the check began
# (seconds, microseconds)}: a script runs alone, so what it saw held at that instant, and the
# check's own time (10,000 lookups) is not counted as the fan-out's.
_MISSING_MEMBER = """
local began = redis.call('TIME')
local prefix, n, member, stride = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local name = function(i) return prefix .. string.format('f%05d', i) end
for i = 0, n - 1, stride do
  if not redis.call('ZSCORE', name(i), member) then return {-1} end
end
local missing = 0
for i = 0, n - 1 do
  if not redis.call('ZSCORE', name(i), member) then missing = missing + 1 end
end
return {missing, began[1], began[2]}
"""
# ARGV: prefix, followers, min score, max score, entries expected in that range, stride. -1
# when a strided sample falls short, else how many timelines fall short.
_SHORT_TIMELINES = """
local prefix, n = ARGV[1], tonumber(ARGV[2])
local low, high, want, stride = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local name = function(i) return prefix .. string.format('f%05d', i) end
for i = 0, n - 1, stride do
  if redis.call('ZCOUNT', name(i), low, high) < want then return -1 end
end
local short = 0
for i = 0, n - 1 do
  if redis.call('ZCOUNT', name(i), low, high) < want then short = short + 1 end
end
return short
"""
# The Redis commands of this benchmark's checks (never the services'): see bench.cpu.
CHECK_COMMANDS: Final = ("zscore", "zcount")


@dataclass(frozen=True)
class World:
    """The people of the run and where their home timelines are listed in Redis."""

    factory: ActivityFactory
    followers: list[str]
    authors: list[str]

    @property
    def tenant(self) -> str:
        return self.factory.tenant_id

    @property
    def home_prefix(self) -> str:
        """The followers' home timelines are this and their ids."""
        return timeline_key(self.tenant, FeedRef(FeedKind.HOME, ""))

    def iri(self, user: str) -> str:
        return user_iri(self.tenant, user)


async def run(ctx: BenchContext) -> list[Figure]:
    async with bench_system(ctx, ["fanout"]) as system:
        world = await _populate(system)
        progress("fan-out: 1,000 authors x 100 followers")
        meter = cpu_meter(system, ctx, CHECK_COMMANDS)
        figures = await _many_authors(system, world, meter)
        progress("fan-out: one post to 10,000 followers, repeated")
        figures += await _big_audience(system, world, meter)
        progress("fan-out: timelines at the cap, memory")
        figures += await _memory(system, world)
        return figures


# --- set-up -----------------------------------------------------------------------------------


async def _populate(system: BenchSystem) -> World:
    factory = ActivityFactory(new_tenant_id())
    followers = workloads.follower_ids(workloads.BIG_AUDIENCE)
    authors = workloads.author_ids()
    world = World(factory, followers, authors)
    people = [BIG_AUTHOR, PROLIFIC, *authors, *followers, *_full_feed_readers()]
    progress(f"set-up: {len(people):,} people")
    await _publish(system, [factory.user(handle=p, user_id=p) for p in people])
    await wait_consumed(system, "fanout", system.kafka.topic_activities)
    follows = [factory.follow(world.iri(f), world.iri(BIG_AUTHOR)) for f in followers]
    for index, author in enumerate(authors):
        for follower in workloads.followers_of_author(index, followers):
            follows.append(factory.follow(world.iri(follower), world.iri(author)))
    follows += [factory.follow(world.iri(r), world.iri(PROLIFIC)) for r in _full_feed_readers()]
    progress(f"set-up: {len(follows):,} follows")
    await _publish(system, follows)
    await wait_consumed(system, "fanout", system.kafka.topic_activities)
    progress("set-up: a home-feed read by every follower")
    await _read_homes(system, world.tenant, [*followers, *_full_feed_readers()])
    if followers != workloads.follower_ids(len(followers)):
        raise AssertionError("the checks name the followers as workloads.follower_ids does")
    return world


def _full_feed_readers() -> list[str]:
    return [f"m{i:03d}" for i in range(FULL_FEED_READERS)]


async def _publish(system: BenchSystem, activities: Sequence[StrictActivity]) -> None:
    topic = system.kafka.topic_activities
    records = [(f"{a.tenant}:{user_id(a.tenant, a.actor)}", encode(a)) for a in activities]
    for first in range(0, len(records), SEND_WINDOW):
        window = records[first : first + SEND_WINDOW]
        await asyncio.gather(*(system.producer.send(topic, v, key=k) for k, v in window))


async def _read_homes(system: BenchSystem, tenant: str, readers: Sequence[str]) -> None:
    """One home-feed read each: the reader is active from now on, their timeline built."""
    queue = list(readers)

    async def reader_loop() -> None:
        while queue:
            user = queue.pop()
            await system.client.call("fanout", "GET", "/v1/feeds/home", tenant, user)

    await asyncio.gather(*(reader_loop() for _ in range(READ_CONCURRENCY)))


# --- measurements -----------------------------------------------------------------------------


async def _many_authors(system: BenchSystem, world: World, meter: CpuMeter) -> list[Figure]:
    posts = [world.factory.post(world.iri(a), f"Update from {a}") for a in world.authors]
    records = [
        (f"{world.tenant}:{a}", encode(p)) for a, p in zip(world.authors, posts, strict=True)
    ]
    scores = [score_of(p.published) for p in posts]
    # Each follower follows AUTHORS * FOLLOWERS_EACH / BIG_AUDIENCE of the authors.
    per_follower = workloads.AUTHORS * workloads.FOLLOWERS_EACH // len(world.followers)
    short = system.redis.register_script(_SHORT_TIMELINES)
    topic = system.kafka.topic_activities
    before = meter.read()
    began = time.perf_counter()
    await asyncio.gather(*(system.producer.send(topic, v, key=k) for k, v in records))
    sent = time.perf_counter() - began
    args: list[str | int | bytes] = [
        world.home_prefix,
        len(world.followers),
        min(scores),
        max(scores),
        per_follower,
        97,
    ]
    while await short(args=args) != 0:
        if time.perf_counter() - began > WAIT_LIMIT_S:
            raise TimeoutError("the 1,000 authors' posts did not reach every follower")
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - began
    spent = meter.since(before)
    inserts = workloads.AUTHORS * workloads.FOLLOWERS_EACH
    params = {**started(system), "authors": workloads.AUTHORS, "publish_s": round(sent, 3)}
    return [
        rate("fanout.1000x100.inserts_per_s", inserts, elapsed, "inserts/s", **params),
        *cost_figure("fanout.1000x100.cpu_us_per_insert", spent, inserts, params, per="insert"),
    ]


async def _big_audience(system: BenchSystem, world: World, meter: CpuMeter) -> list[Figure]:
    missing = system.redis.register_script(_MISSING_MEMBER)
    topic = system.kafka.topic_activities
    key = f"{world.tenant}:{BIG_AUTHOR}"

    async def one_post(n: int) -> float:
        post = world.factory.post(world.iri(BIG_AUTHOR), f"All hands #{n}")
        member = entry_of(post.id).bytes
        value = encode(post)
        args: list[str | int | bytes] = [world.home_prefix, len(world.followers), member, 1001]
        began = time.time()  # the wall clock: Redis's TIME (same machine) ends the span
        await system.producer.send(topic, value, key=key)
        while (found := await missing(args=args))[0] != 0:
            if time.time() - began > WAIT_LIMIT_S:
                raise TimeoutError(f"post {n} did not reach every follower")
            await asyncio.sleep(POLL_S)
        return int(found[1]) + int(found[2]) / 1e6 - began

    await one_post(0)  # warm-up, not counted
    before = meter.read()
    times = [await one_post(n) for n in range(1, workloads.BIG_REPEATS + 1)]
    spent = meter.since(before)
    inserts = workloads.BIG_AUDIENCE * len(times)
    params = {**started(system), "followers": workloads.BIG_AUDIENCE, "posts": len(times)}
    ms = sorted(t * 1000 for t in times)
    return [
        rate("fanout.10k.inserts_per_s", inserts, sum(times), "inserts/s", **params),
        Figure("fanout.10k.everywhere_p50_ms", statistics.median(ms), "ms", len(ms), params),
        Figure("fanout.10k.everywhere_p99_ms", percentile(ms, 0.99), "ms", len(ms), params),
        *cost_figure("fanout.10k.cpu_us_per_insert", spent, inserts, params, per="insert"),
    ]


async def _memory(system: BenchSystem, world: World) -> list[Figure]:
    """Bytes per entry over full timelines (the prolific author's followers, at the cap) and
    over a sample of the followers' timelines as the run left them."""
    posts = [world.factory.post(world.iri(PROLIFIC), f"Note {n}") for n in range(PROLIFIC_POSTS)]
    await _publish(system, posts)
    await wait_consumed(system, "fanout", system.kafka.topic_activities)
    full = [timeline_key(world.tenant, FeedRef(FeedKind.HOME, r)) for r in _full_feed_readers()]
    step = max(1, len(world.followers) // MEMORY_SAMPLE)
    sampled = [
        timeline_key(world.tenant, FeedRef(FeedKind.HOME, f)) for f in world.followers[::step]
    ]
    figures = []
    for label, names in (("full", full), ("sampled", sampled)):
        used, entries, encodings = await _usage(system, names)
        params: dict[str, JSONScalar] = {
            "timelines": len(names),
            "entries_per_timeline": round(entries / len(names), 1),
            "encoding": "/".join(sorted(encodings)),
        }
        figures.append(
            Figure(f"memory.timeline_{label}.bytes_per_entry", used / entries, "B", entries, params)
        )
    return figures


async def _usage(system: BenchSystem, names: Sequence[str]) -> tuple[int, int, set[str]]:
    """Total ``MEMORY USAGE`` (every element counted), entries (the sentinel left out), and
    the encodings seen."""
    async with system.redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.memory_usage(name, samples=0)
            pipe.zcard(name)
            pipe.object("encoding", name)
        found = await pipe.execute()
    used = sum(int(found[i] or 0) for i in range(0, len(found), 3))
    entries = sum(max(int(found[i] or 0) - 1, 0) for i in range(1, len(found), 3))
    encodings = {_text(found[i]) for i in range(2, len(found), 3)}
    return used, entries, encodings


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


BENCHMARK = Benchmark(
    "fanout",
    f"one post to {workloads.BIG_AUDIENCE:,} followers, {workloads.AUTHORS:,} authors x "
    f"{workloads.FOLLOWERS_EACH} followers, bytes per timeline entry",
    run,
)
