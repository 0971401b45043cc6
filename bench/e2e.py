"""``e2e``: from ``POST /v1/posts`` accepted to the post in its author's 100 followers' home
feeds, at a steady rate of posts.

Ingestion and fanout run as ``make up`` runs them (:mod:`bench.system`). Set-up, through the
HTTP APIs only: :data:`AUTHORS` authors, each with 100 followers of their own; every
follower reads their home feed once, which makes them an active reader with a built
timeline. Then, for each rate, an open-loop load generator (this process, with the lean client
of :mod:`bench.lean_http`) sends posts on a fixed schedule, round-robin over the authors, for
:data:`DURATION_S`; a post's latency runs from its 201 until it is in all 100 of its author's
followers' home timelines in Redis. A late answer does not delay the next send (the schedule
is the clock), so a system that falls behind shows it in the percentiles.

Detection: a follower follows one author only, so the post is the one entry of its
millisecond (its ``published``, the timeline score, within one millisecond either side for
rounding) in those timelines. A Lua script checks one follower of each pending post (up to
:data:`WATCH_BATCH`, oldest first) every :data:`POLL_S`, and once that one holds it, all 100
for every :data:`FULL_CHECK_EVERY`-th post and 11 spread over the 100 for the others (the
checks' own load on Redis stays small beside the fan-out's).

Each rate also gives ``.answered_per_s`` (posts answered ÷ the time until the last answer)
and ``.cpu_us_per_post`` (:mod:`bench.cpu`): the CPU of ingestion, fanout, Postgres, Redis
and the broker from the first send until the last post was seen, ÷ the posts seen; each
part's share (and this process's, the load generator's) in its ``params``.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Final

import httpx
import orjson
from redis.commands.core import AsyncScript

from bench.cpu import cost_figure
from bench.figures import Figure, percentile
from bench.harness import BenchContext, Benchmark
from bench.lean_http import LeanHttpError, LeanPool
from bench.system import BenchSystem, bench_system, cpu_meter, progress, started, wait_consumed
from canopy_fanout.adapters.feed_store import timeline_key
from canopy_fanout.domain.entries import score_of
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_testing.factories import new_tenant_id

RATES: Final = (200, 500)  # posts per second
DURATION_S: Final = 10.0
WARM_UP_RATE: Final = 50
WARM_UP_S: Final = 2.0
AUTHORS: Final = 20  # 500 posts/s is 25 a second per author: distinct milliseconds
FOLLOWERS: Final = 100
SETUP_CONCURRENCY: Final = 32
SETUP_ATTEMPTS: Final = 3
# Posts in flight at most: the load generator's connections (bench.lean_http: httpx cost
# this process more CPU per post than the services spent on it).
CONNECTIONS: Final = 200
HTTP_TIMEOUT_S: Final = 30.0
# A check costs Redis ~1 µs per pending post: polled every 2 ms, it took a fifth of Redis.
POLL_S: Final = 0.005
ANSWER_LIMIT_S: Final = 20.0  # after the last send, how long the last answers may take
WATCH_BATCH: Final = 100  # pending posts checked per round
# After the last send, how long the posts still pending may take before they count as
# never seen.
DRAIN_LIMIT_S: Final = 30.0

# Every this many posts, one is looked for in all 100 timelines; the others in every
# SPOT_STRIDE-th and the last (11 of them, spread over the 100). The checks are this process's
# load on Redis: all 100 for each post took more of Redis than the fan-out itself.
FULL_CHECK_EVERY: Final = 10
SPOT_STRIDE: Final = 10

# ARGV: prefix, followers per author, spot stride, then (score, author, full) triples. For
# each, 1 when the author's followers' timelines hold an entry at that score (all of them when
# full is 1, else every stride-th and the last), else 0. Within a millisecond either side:
# the service and this process may round the time differently; an author's posts are 40 ms
# apart at least.
_SEEN = """
local prefix, followers, stride = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV, 3 do
  local score, author = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local step = ARGV[i + 2] == '1' and 1 or stride
  local name = function(f) return prefix .. string.format('e%03d%03d', author, f) end
  local seen = redis.call('ZCOUNT', name(0), score - 1, score + 1) > 0
  if seen then
    for f = step, followers - 1, step do
      if redis.call('ZCOUNT', name(f), score - 1, score + 1) == 0 then seen = false break end
    end
  end
  if seen and redis.call('ZCOUNT', name(followers - 1), score - 1, score + 1) == 0 then
    seen = false
  end
  out[#out + 1] = seen and 1 or 0
end
return out
"""


def author_id(index: int) -> str:
    return f"e{index:03d}"


def follower_id(author: int, index: int) -> str:
    return f"e{author:03d}{index:03d}"


# The Redis commands of this benchmark's checks (never the services'): see bench.cpu.
CHECK_COMMANDS: Final = ("zcount",)


@dataclass
class Pending:
    author: int
    score: int
    accepted: float
    full: bool  # looked for in all the author's followers' timelines


@dataclass
class Run:
    """One rate's sends and what became of them."""

    rate: int
    latencies: list[float] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    refused: int = 0  # answered, but not 201
    failed: int = 0  # not answered within the client's timeout or ANSWER_LIMIT_S
    unseen: int = 0
    sent: int = 0
    sending_s: float = 0.0
    answered_s: float = 0.0  # from the first send until the last answer
    cpu_s: dict[str, float] = field(default_factory=dict)  # by part, until the last was seen


async def run(ctx: BenchContext) -> list[Figure]:
    async with bench_system(ctx, ["ingestion", "fanout"]) as system:
        tenant = new_tenant_id()
        await _populate(system, tenant)
        seen = system.redis.register_script(_SEEN)
        prefix = timeline_key(tenant, FeedRef(FeedKind.HOME, ""))
        progress(f"e2e: warm-up, {WARM_UP_RATE} posts/s")
        await _at_rate(system, tenant, seen, prefix, WARM_UP_RATE, WARM_UP_S)
        figures: list[Figure] = []
        meter = cpu_meter(system, ctx, CHECK_COMMANDS)
        for rate in RATES:
            progress(f"e2e: {rate} posts/s for {DURATION_S:.0f} s")
            before = meter.read()
            result = await _at_rate(system, tenant, seen, prefix, rate, DURATION_S)
            result.cpu_s = meter.since(before)
            figures += _figures(system, result)
        return figures


async def _populate(system: BenchSystem, tenant: str) -> None:
    client = system.client
    authors = [author_id(a) for a in range(AUTHORS)]
    followers = [(a, follower_id(a, f)) for a in range(AUTHORS) for f in range(FOLLOWERS)]
    progress(f"e2e set-up: {len(authors) + len(followers):,} people, follows, first reads")
    await client.call(
        "ingestion", "PUT", f"/v1/tenants/{tenant}", tenant, "root", "platform_admin",
        json={"name": tenant},
    )  # fmt: skip

    async def provision(user: str) -> None:
        profile = {"handle": user, "display_name": user.title(), "kind": "employee"}
        await client.call(
            "ingestion", "PUT", f"/v1/users/{user}", tenant, "admin", "tenant_admin",
            json=profile,
        )  # fmt: skip

    await _side_by_side([partial(provision, u) for u in [*authors, *(f for _, f in followers)]])
    await _side_by_side([partial(client.follow, tenant, f, author_id(a)) for a, f in followers])
    await wait_consumed(system, "fanout", system.kafka.topic_activities)
    await _side_by_side(
        [partial(client.call, "fanout", "GET", "/v1/feeds/home", tenant, f) for _, f in followers]
    )


async def _side_by_side(calls: Sequence[Callable[[], Awaitable[object]]]) -> None:
    """Make ``calls`` (all idempotent) with at most :data:`SETUP_CONCURRENCY` in flight; one
    whose connection broke is made again (a kept-alive connection the server has just closed
    as idle is a race httpx may lose)."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def gated(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            for attempt in range(SETUP_ATTEMPTS):
                try:
                    await call()
                    return
                except httpx.TransportError:
                    if attempt == SETUP_ATTEMPTS - 1:
                        raise

    await asyncio.gather(*(gated(c) for c in calls))


async def _at_rate(
    system: BenchSystem, tenant: str, seen: AsyncScript, prefix: str, rate: int, duration: float
) -> Run:
    result = Run(rate)
    headers = [
        {**system.client.headers(tenant, author_id(a)), "Content-Type": "application/json"}
        for a in range(AUTHORS)
    ]
    pool = LeanPool(system.url("ingestion"), CONNECTIONS)
    watcher = asyncio.create_task(_watch(result, seen, prefix))
    sends: list[asyncio.Task[None]] = []

    async def send(n: int) -> None:
        author = n % AUTHORS
        body = orjson.dumps({"content": f"Post {n} at {rate}/s"})
        try:
            answer = await pool.request(
                "POST", "/v1/posts", body, headers[author], timeout_s=HTTP_TIMEOUT_S
            )
        except (LeanHttpError, TimeoutError):  # the system could not keep up
            result.failed += 1
            return
        accepted = time.perf_counter()
        if answer.status != 201:
            result.refused += 1
            return
        published = datetime.fromisoformat(orjson.loads(answer.body)["published"])
        full = n % FULL_CHECK_EVERY == 0
        result.pending.append(Pending(author, score_of(published), accepted, full))

    began = time.perf_counter()
    total = int(rate * duration)
    for n in range(total):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif -delay > duration:  # this process cannot even send at the rate: stop
            break
        sends.append(asyncio.create_task(send(n)))
    result.sending_s = time.perf_counter() - began
    # A system that cannot keep up would keep the run going for minutes: what is not
    # answered by then counts as failed.
    _, unanswered = await asyncio.wait(sends, timeout=ANSWER_LIMIT_S)
    for send_task in unanswered:
        send_task.cancel()
    result.failed += len(unanswered)
    result.answered_s = time.perf_counter() - began
    result.sent = len(sends)
    await pool.close()
    progress(
        f"e2e: {len(sends)} sent in {result.sending_s:.1f} s, answered after "
        f"{time.perf_counter() - began:.1f} s; {len(result.latencies)} seen, "
        f"{len(result.pending)} pending, {result.refused} refused, {result.failed} failed"
    )
    # The watcher ends once nothing is pending; posts still pending at the limit never came.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(watcher), DRAIN_LIMIT_S)
    watcher.cancel()
    result.unseen = len(result.pending)
    for post in result.pending[:3]:
        names = [prefix + follower_id(post.author, f) for f in range(FOLLOWERS)]
        async with seen.registered_client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.zcount(name, post.score - 1, post.score + 1)
            held = sum(1 for found in await pipe.execute() if found)
        progress(f"e2e: unseen post of {author_id(post.author)} at {post.score}: in {held}")
    return result


async def _watch(result: Run, seen: AsyncScript, prefix: str) -> None:
    """Move each pending post to ``latencies`` once all its followers' timelines hold it;
    return when every post was sent and none is pending."""
    while True:
        # The oldest first, and a bounded number a round: a backlog must not make the
        # watcher itself the load on Redis and on this process.
        batch = result.pending[:WATCH_BATCH]
        if batch:
            args: list[str | int] = [prefix, FOLLOWERS, SPOT_STRIDE]
            for post in batch:
                args += [post.score, post.author, int(post.full)]
            flags = await seen(args=args)
            now = time.perf_counter()
            done = {id(post) for post, flag in zip(batch, flags, strict=True) if flag}
            result.latencies += [now - p.accepted for p in batch if id(p) in done]
            result.pending = [p for p in result.pending if id(p) not in done]
        elif result.sent:
            return
        await asyncio.sleep(POLL_S)


def _figures(system: BenchSystem, result: Run) -> list[Figure]:
    ms = sorted(t * 1000 for t in result.latencies)
    params = {
        **started(system),
        "target_rate": result.rate,
        "achieved_rate": round(result.sent / result.sending_s, 1) if result.sending_s else 0,
        # Below the sending rate when the API could not keep up (answers queued up).
        "answered_rate": round(result.sent / result.answered_s, 1) if result.answered_s else 0,
        "followers": FOLLOWERS,
        "authors": AUTHORS,
        "seconds": DURATION_S,
        "refused": result.refused,
        "failed": result.failed,
        "unseen": result.unseen,
        "checked": f"all {FOLLOWERS} timelines for 1 post in {FULL_CHECK_EVERY}, else 11",
    }
    name = f"e2e.{result.rate}.post_to_feeds"
    answered = Figure(
        f"e2e.{result.rate}.answered_per_s", float(params["answered_rate"]), "posts/s",
        result.sent, params,
    )  # fmt: skip
    cost = cost_figure(
        f"e2e.{result.rate}.cpu_us_per_post", result.cpu_s, len(ms), params, per="post"
    )
    if not ms:
        return [answered, Figure(f"{name}_p50_ms", float("nan"), "ms", 0, params)]
    return [
        answered,
        Figure(f"{name}_p50_ms", statistics.median(ms), "ms", len(ms), params),
        Figure(f"{name}_p95_ms", percentile(ms, 0.95), "ms", len(ms), params),
        Figure(f"{name}_p99_ms", percentile(ms, 0.99), "ms", len(ms), params),
        *cost,
    ]


BENCHMARK = Benchmark(
    "e2e",
    f"POST /v1/posts accepted -> in {FOLLOWERS} followers' home feeds, at "
    + " and ".join(f"{r}" for r in RATES)
    + " posts/s",
    run,
)
