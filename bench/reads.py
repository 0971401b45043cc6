"""``reads``: ``GET /v1/feeds/home`` pages of 20 hydrated items, driven from other processes.

Ingestion and fanout run as ``make up`` runs them (:func:`bench.system.bench_system`), the
fanout API in :data:`API_PROCESSES` processes (``CANOPY_FANOUT_API_PROCESSES``). The feeds
are made through the real APIs: a fresh tenant, :data:`AUTHORS` authors who post
:data:`POSTS_PER_AUTHOR` times each, and :data:`READERS` readers who each follow
:data:`FOLLOWED` of them, so every home feed holds more than a page. Setup waits until every
reader's first page has 20 items (which also builds each timeline: the figures are of warm
reads, as for anyone who read within the active window).

- ``reads.home.max_rps``: ``wrk`` (Debian's) with a Lua script rotating the readers' bearer
  tokens, at each of :data:`WRK_CONNECTIONS` connections; the best run is reported, with
  ``.max.p50_ms`` and ``.max.p99_ms`` from wrk's latency record of that run.
- ``reads.home.1000rps.*``: ``hey`` (Debian's) offering :data:`TARGET_RPS` requests/s (``-q``
  is per worker: :data:`HEY_WORKERS` workers at an equal share) as one reader: p50, p99 and the
  rate achieved. hey takes one set of headers, hence one reader.

Both come with ``.cpu_us_per_page`` (:mod:`bench.cpu`): the CPU of the fanout and ingestion
processes, Postgres, Redis and the broker over the run, ÷ the pages answered (wrk and hey are
left out: they are the readers). Errors and non-2xx answers are counted in every figure's
``params``; a run with any is visible there. The load generators share the two cores with
the services they measure.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.cpu import cost_figure
from bench.figures import Figure, JSONScalar
from bench.harness import BenchContext, Benchmark
from bench.system import BenchSystem, bench_system, cpu_meter, progress, started
from canopy_testing.polling import eventually

SERVICES: Final = ("ingestion", "fanout")
# Two cores: one API process leaves the second to wrk, Redis and the kernel's networking, which
# use about half of it; a second process takes the rest (more only add switching).
API_PROCESSES: Final = 2
PATH: Final = "/v1/feeds/home"
PAGE_SIZE: Final = 20  # the service's default page size; the URL asks for none
AUTHORS: Final = 20
POSTS_PER_AUTHOR: Final = 3
READERS: Final = 200
FOLLOWED: Final = 10  # authors each reader follows: 30 items, more than a page
SETUP_CONCURRENCY: Final = 16  # HTTP calls in flight while populating
SETUP_TIMEOUT_S: Final = 60.0  # until every reader's first page is full
WARMUP_S: Final = 3
WRK_THREADS: Final = 2
WRK_CONNECTIONS: Final = (16, 64)
WRK_DURATION_S: Final = 10
TARGET_RPS: Final = 1_000
HEY_WORKERS: Final = 20  # 50 requests/s each: one every 20 ms, well above a read's latency
HEY_DURATION_S: Final = 10
# A run that overruns its duration by this much is stuck (a server that stopped answering).
SLACK_S: Final = 30.0
WRK: Final = "/usr/bin/wrk"
HEY: Final = "/usr/bin/hey"

# Each wrk thread starts at its own place in the token list, then takes the next per request.
# `done` prints the exact figures as one JSON line (latency in microseconds).
_WRK_SCRIPT = """
local tokens = {%(tokens)s}
local next_token = 1
function init(args)
  next_token = math.random(#tokens)
end
function request()
  next_token = next_token %% #tokens + 1
  return wrk.format("GET", "%(path)s", {["Authorization"] = "Bearer " .. tokens[next_token]})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'CANOPY-WRK {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class LoadRun:
    """What one load generator run measured."""

    requests: int
    elapsed_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # connection errors and timeouts
    non_2xx: int

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0


async def run(ctx: BenchContext) -> list[Figure]:
    """Populate feeds through the APIs, then find the most reads/s and the latency at 1,000/s."""
    for tool in (WRK, HEY):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: scripts/setup.sh installs it (apt)")
    env = {"CANOPY_FANOUT_API_PROCESSES": str(API_PROCESSES)}
    async with bench_system(ctx, SERVICES, env) as system:
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        began = time.monotonic()
        progress(f"populating: {AUTHORS} authors, {READERS} readers")
        readers = await populate(system, tenant)
        setup_s = time.monotonic() - began
        await check_page(system, tenant, readers[0])
        tokens = [_token(system, tenant, reader) for reader in readers]
        url = system.url("fanout", PATH)
        common: dict[str, JSONScalar] = {
            **started(system),
            "api_processes": API_PROCESSES,
            "page_size": PAGE_SIZE,
            "setup_s": round(setup_s, 1),
        }
        with tempfile.TemporaryDirectory(prefix="canopy-reads-") as tmp:
            script = Path(tmp) / "home.lua"
            script.write_text(_WRK_SCRIPT % {"tokens": _lua_strings(tokens), "path": PATH})
            progress("wrk: warm-up, then the most reads/s")
            await wrk(url, script, connections=WRK_CONNECTIONS[0], duration_s=WARMUP_S)
            meter = cpu_meter(system, ctx)
            runs, spent = {}, {}
            for connections in WRK_CONNECTIONS:
                before = meter.read()
                runs[connections] = await wrk(url, script, connections=connections)
                spent[connections] = meter.since(before)
        best_connections, best = max(runs.items(), key=lambda found: found[1].rps)
        others = {f"rps_at_c{c}": round(r.rps, 1) for c, r in runs.items()}
        max_params = {
            **common,
            "tool": "wrk",
            "connections": best_connections,
            "threads": WRK_THREADS,
            "duration_s": WRK_DURATION_S,
            "readers": len(tokens),
            **_error_params(best),
            **others,
        }
        progress(f"hey: {TARGET_RPS} reads/s")
        before = meter.read()
        at_rate = await hey(url, tokens[0])
        at_rate_spent = meter.since(before)
        rate_params = {
            **common,
            "tool": "hey",
            "connections": HEY_WORKERS,
            "offered_rps": TARGET_RPS,
            "duration_s": HEY_DURATION_S,
            "readers": 1,
            **_error_params(at_rate),
        }
    return [
        Figure("reads.home.max_rps", best.rps, "req/s", best.requests, max_params),
        Figure("reads.home.max.p50_ms", best.p50_ms, "ms", best.requests, max_params),
        Figure("reads.home.max.p99_ms", best.p99_ms, "ms", best.requests, max_params),
        Figure("reads.home.1000rps.p50_ms", at_rate.p50_ms, "ms", at_rate.requests, rate_params),
        Figure("reads.home.1000rps.p99_ms", at_rate.p99_ms, "ms", at_rate.requests, rate_params),
        Figure(
            "reads.home.1000rps.achieved_rps", at_rate.rps, "req/s", at_rate.requests, rate_params
        ),
        *cost_figure(
            "reads.home.max.cpu_us_per_page",
            spent[best_connections],
            best.requests,
            max_params,
            per="page",
        ),
        *cost_figure(
            "reads.home.1000rps.cpu_us_per_page",
            at_rate_spent,
            at_rate.requests,
            rate_params,
            per="page",
        ),
    ]


# --- setup ----------------------------------------------------------------------------------


async def populate(system: BenchSystem, tenant: str) -> list[str]:
    """Authors, their posts and the readers following them, through the APIs; the readers,
    once each one's first page is full."""
    client = system.client
    authors = [f"author{i:02d}" for i in range(AUTHORS)]
    readers = [f"reader{i:03d}" for i in range(READERS)]
    await client.provision(tenant, *authors, *readers)
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def post(author: str, n: int) -> None:
        async with gate:
            await client.post(tenant, author, f"Post {n} by {author}: feeds need things to read")

    async def follow(index: int, reader: str) -> None:
        # Reader i follows FOLLOWED consecutive authors from i on: every author is followed.
        for k in range(FOLLOWED):
            async with gate:
                await client.follow(tenant, reader, authors[(index + k) % AUTHORS])

    await asyncio.gather(*(post(a, n) for a in authors for n in range(POSTS_PER_AUTHOR)))
    await asyncio.gather(*(follow(i, r) for i, r in enumerate(readers)))
    async with asyncio.timeout(SETUP_TIMEOUT_S):
        await asyncio.gather(*(_page_full(system, tenant, reader, gate) for reader in readers))
    return readers


async def _page_full(
    system: BenchSystem, tenant: str, reader: str, gate: asyncio.Semaphore
) -> None:
    async def full() -> bool:
        async with gate:
            page = await system.client.request("fanout", "GET", PATH, tenant, reader)
        return page.status_code == 200 and len(page.json()["items"]) >= PAGE_SIZE

    await eventually(full, what=f"{reader}'s home feed holds a page", timeout_s=SETUP_TIMEOUT_S)


async def check_page(system: BenchSystem, tenant: str, reader: str) -> None:
    """Once, outside the timing: the page measured is 20 hydrated items."""
    items = await system.client.feed(PATH, tenant, reader)
    if len(items) != PAGE_SIZE:
        raise AssertionError(f"a home page holds {len(items)} items, not {PAGE_SIZE}")
    for item in items:
        content = item.get("object", {}).get("content") if isinstance(item, dict) else None
        if not content or "stats" not in item or "actor" not in item:
            raise AssertionError(f"not a hydrated item: {item!r}")


def _token(system: BenchSystem, tenant: str, reader: str) -> str:
    return system.client.headers(tenant, reader)["Authorization"].removeprefix("Bearer ")


def _lua_strings(values: Sequence[str]) -> str:
    return ", ".join(json.dumps(value) for value in values)  # JWTs: no escapes needed


# --- load generators ------------------------------------------------------------------------


async def wrk(
    url: str, script: Path, *, connections: int, duration_s: int = WRK_DURATION_S
) -> LoadRun:
    """``wrk`` at ``connections`` for ``duration_s``: as many requests as the server answers."""
    args = [
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    output = await run_tool(WRK, args, duration_s)
    found = re.search(r"^CANOPY-WRK (\{.*\})$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk said nothing measurable:\n{output}")
    done = json.loads(found.group(1))
    return LoadRun(
        requests=done["requests"],
        elapsed_s=done["duration_us"] / 1e6,
        p50_ms=done["p50_us"] / 1000,
        p99_ms=done["p99_us"] / 1000,
        errors=done["connect"] + done["read"] + done["write"] + done["timeout"],
        non_2xx=done["status"],
    )


async def hey(url: str, token: str) -> LoadRun:
    """``hey`` offering :data:`TARGET_RPS` for :data:`HEY_DURATION_S`, as one reader."""
    return await offer(
        url, f"Bearer {token}", rate_rps=TARGET_RPS, duration_s=HEY_DURATION_S, workers=HEY_WORKERS
    )


async def offer(
    url: str, authorization: str, *, rate_rps: float, duration_s: float, workers: int
) -> LoadRun:
    """``hey`` offering ``rate_rps`` GETs of ``url`` for ``duration_s`` from ``workers``
    connections (each at most ``rate_rps / workers``), with that ``Authorization`` header."""
    args = [
        "-z", f"{duration_s}s", "-c", str(workers), "-q", str(rate_rps / workers),
        "-H", f"Authorization: {authorization}", url,
    ]  # fmt: skip
    return parse_hey(await run_tool(HEY, args, duration_s))


def load_figures(
    name: str, load: LoadRun, cpu_s: float, params: dict[str, JSONScalar]
) -> list[Figure]:
    """``name``'s p50, p99, rate answered and service CPU per answered request of ``load``."""
    answered = max(load.requests, 1)
    return [
        Figure(f"{name}.p50_ms", load.p50_ms, "ms", load.requests, params),
        Figure(f"{name}.p99_ms", load.p99_ms, "ms", load.requests, params),
        Figure(f"{name}.achieved_rps", load.rps, "req/s", load.requests, params),
        Figure(f"{name}.cpu_us", cpu_s / answered * 1e6, "µs/req", load.requests, params),
    ]


def parse_hey(output: str) -> LoadRun:
    """The figures of hey's summary: total time, latency distribution, status codes, errors."""

    def seconds(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"hey's output lacks {pattern!r}:\n{output}")
        return float(found.group(1))

    statuses = {
        int(code): int(count)
        for code, count in re.findall(r"^\s*\[(\d{3})\]\s+(\d+) responses", output, re.MULTILINE)
    }
    errors_section = output.partition("Error distribution:")[2]
    errors = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]\s", errors_section, re.MULTILINE))
    return LoadRun(
        requests=sum(statuses.values()),
        elapsed_s=seconds(r"^\s*Total:\s+([\d.]+) secs"),
        p50_ms=seconds(r"^\s*50% in ([\d.]+) secs") * 1000,
        p99_ms=seconds(r"^\s*99% in ([\d.]+) secs") * 1000,
        errors=errors,
        non_2xx=sum(count for code, count in statuses.items() if not 200 <= code < 300),
    )


async def run_tool(tool: str, args: Sequence[str], duration_s: float) -> str:
    process = await asyncio.create_subprocess_exec(
        tool,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(duration_s + SLACK_S):
            stdout, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    output = stdout.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{tool} exited with {process.returncode}:\n{output}")
    return output


def _error_params(load: LoadRun) -> dict[str, JSONScalar]:
    return {"errors": load.errors, "non_2xx": load.non_2xx}


BENCHMARK = Benchmark(
    "reads",
    "GET /v1/feeds/home (20 hydrated items) under wrk and hey: max req/s, p50/p99 at 1,000/s",
    run,
)
