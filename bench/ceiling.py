"""``ceiling``: how many ZADDs the same Redis takes when nothing but Redis is in the way.

Every timeline insert, Canopy's or Stream-Framework's (:mod:`bench.peer`), ends as a ZADD into
a follower's sorted set, so ``redis-benchmark`` doing only that bounds both:
``ceiling.redis.zadd_per_s`` is ZADD into random timeline keys from 50 clients, 16 commands
pipelined each, for 7-10 s on a 2-core VM.

The entries look like Canopy's: a 16-byte member (``ent:`` and 12 digits; Canopy's are 16
binary bytes) under an integer score, in one of 100,000 keys. ``redis-benchmark`` runs on the
same machine as the server and takes CPU from it, as the services do in the other figures.

The keys go to database :data:`CEILING_REDIS_DB` of ``CANOPY_REDIS_URL``'s server, under
:data:`KEY_PREFIX`; they are deleted (SCAN + UNLINK of that prefix) before and after, and
nothing else is touched.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
import time
from typing import Final
from urllib.parse import urlsplit

from redis.asyncio import Redis

from bench.figures import Figure
from bench.harness import BenchContext, Benchmark
from canopy_common.settings import RedisSettings

REQUESTS: Final = 2_000_000  # 7-10 s at the 200,000-275,000 ZADD/s of a 2-core VM
CLIENTS: Final = 50
PIPELINE: Final = 16
KEYSPACE: Final = 100_000  # random keys, and random members within each
# Databases 1-15 are unused by Canopy; keys of their own there stay out of everyone's way.
CEILING_REDIS_DB: Final = 10
KEY_PREFIX: Final = "bench:ceiling:tl:"
MEMBER_PREFIX: Final = "ent:"  # + 12 digits: 16 bytes
RUN_LIMIT_S: Final = 120.0
UNLINK_BATCH: Final = 1_000


async def run(ctx: BenchContext) -> list[Figure]:
    """``redis-benchmark`` ZADDs into the ceiling's keys, which are deleted afterwards."""
    url = urlsplit(RedisSettings().url)._replace(path=f"/{CEILING_REDIS_DB}", query="")
    redis: Redis = Redis.from_url(url.geturl())
    try:
        await delete_keys(redis)
        began = time.perf_counter()
        zadd_per_s = await redis_benchmark(
            url.hostname or "127.0.0.1", url.port or 6379, url.password
        )
        elapsed = time.perf_counter() - began
        server = await redis.info("server")
    finally:
        await delete_keys(redis)
        await redis.aclose()
    params = {
        "clients": CLIENTS,
        "pipeline": PIPELINE,
        "n": REQUESTS,
        "keys": KEYSPACE,
        "member_bytes": len(MEMBER_PREFIX) + 12,
        "redis": server["redis_version"],
        "elapsed_s": round(elapsed, 3),
    }
    return [Figure("ceiling.redis.zadd_per_s", zadd_per_s, "ZADD/s", REQUESTS, params)]


async def redis_benchmark(host: str, port: int, password: str | None) -> float:
    """Requests per second of ``redis-benchmark`` ZADD, from its CSV report."""
    executable = shutil.which("redis-benchmark")
    if executable is None:
        raise RuntimeError("redis-benchmark is not installed (make setup installs redis-tools)")
    command = [
        executable,
        *("-h", host, "-p", str(port), "--dbnum", str(CEILING_REDIS_DB)),
        *(("-a", password) if password else ()),
        *("-n", str(REQUESTS), "-c", str(CLIENTS), "-P", str(PIPELINE), "-r", str(KEYSPACE)),
        "--csv",
        *("zadd", f"{KEY_PREFIX}__rand_int__", "__rand_int__", f"{MEMBER_PREFIX}__rand_int__"),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), RUN_LIMIT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TimeoutError(f"redis-benchmark ran over {RUN_LIMIT_S:.0f} s") from None
    if process.returncode != 0:
        raise RuntimeError(f"redis-benchmark exited {process.returncode}: {err.decode()[-2_000:]}")
    return requests_per_s(out.decode())


def requests_per_s(report: str) -> float:
    """The ``rps`` column of ``redis-benchmark --csv``'s one test (Redis 6 and earlier print
    no header: their second column)."""
    rows = [row for row in csv.reader(report.splitlines()) if row]
    header, last = rows[0], rows[-1]
    column = header.index("rps") if "rps" in header else 1
    return float(last[column])


async def delete_keys(redis: Redis) -> None:
    """UNLINK every key under :data:`KEY_PREFIX`, found with SCAN."""
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=f"{KEY_PREFIX}*", count=UNLINK_BATCH):
        batch.append(key)
        if len(batch) == UNLINK_BATCH:
            await redis.unlink(*batch)
            batch.clear()
    if batch:
        await redis.unlink(*batch)


BENCHMARK = Benchmark(
    "ceiling",
    f"redis-benchmark ZADD into random timeline keys: {CLIENTS} clients, -P {PIPELINE}",
    run,
)
