"""``peer``: Stream-Framework 1.4.0 on the same two fan-out workloads, against the same Redis.

Canopy's fan-out figures (:mod:`bench.fanout`) mean more next to a well-known design doing
the same work: Stream-Framework (SF), a Python library that fans a post out to its followers'
Redis sorted sets through Celery tasks. It gets exactly the shapes of :mod:`bench.workloads`:

- ``peer.sf.fanout_10k``: one author with 10,000 followers posts 20 times, one after
  another; per post, the time ``add_user_activity`` takes (with eager tasks, every follower's
  timeline has the post when it returns; each post is then checked in all 10,000, outside
  the timed span), p50 and p99, and inserts/s over all of them;
- ``peer.sf.fanout_1000x100``: 1,000 authors with 100 followers each (among the same
  10,000, so each follows 10 authors) post once each, one after another as one SF process
  does; inserts/s over all 1,000 calls, every entry checked afterwards.

One post to the big audience warms up, not counted; then come the 1,000 authors and the 20
posts, in :mod:`bench.fanout`'s order. SF runs as its docs describe: a
``Manager`` with ``RedisFeed`` timelines, its defaults otherwise — ``fanout_chunk_size`` 100
followers per task, ``max_length`` 100 per timeline (Canopy caps at 800), trimmed on 1% of
writes. Its timeline storage takes a batch interface but does not use it, so each follower's
ZADD is a pipeline and a round trip of its own.

**How SF runs on Python 3.11.** Its last release targets Python 2.7 and 3.4, so it gets a
virtualenv of its own, ``<run dir>/stream-framework-venv``, made with uv on first use and
reused while its marker matches :data:`REQUIREMENTS` and :data:`PATCH`:

- redis-py 2.10.6: SF calls ``zadd(key, score, member, ...)``, which redis-py 3 changed (2.10.6
  imports ``distutils``, so it stops at Python 3.11, as Canopy does);
- Celery 5.x, real and unpatched: 4.4's vine 1.3 imports ``inspect.formatargspec``, which
  3.11 removed; SF only needs ``shared_task`` and ``.delay``, both still there. Tasks run in
  this process (``task_always_eager``). Celery 5 passes even eager tasks' arguments through
  the task serializer; SF's (its manager, a feed class, a function) do not survive JSON,
  Celery 4's new default (SF issue #203), so it is pickle, the Celery 3 default SF was
  written for;
- one patch: ``stream_framework/feed_managers/base.py`` names a parameter ``async`` (in
  ``follow_user`` & co.), a keyword since Python 3.7, so the module does not compile; the
  venv's copy gets ``async_`` instead. Nothing else in SF is changed.

The runner (:mod:`bench.stream_framework_runner`) imports nothing from Canopy; it gets the
Redis of ``CANOPY_REDIS_URL`` with database :data:`PEER_REDIS_DB`, which it empties before and
after itself (and leaves alone if it holds keys it did not write).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from bench import workloads
from bench.figures import Figure, JSONScalar, percentile, rate
from bench.harness import BenchContext, Benchmark, run_dir
from canopy_common.settings import RedisSettings

# The whole closure, pinned: a fresh clone measures the same code as this one did.
REQUIREMENTS: Final = (
    "stream-framework==1.4.0",
    "redis==2.10.6",
    "celery==5.7.0",
    "amqp==5.4.2",
    "billiard==4.3.2",
    "click==8.5.1",
    "click-didyoumean==0.3.1",
    "click-plugins==1.1.1.2",
    "click-repl==0.4.1",
    "kombu==5.7.0",
    "prompt-toolkit==3.0.53",
    "python-dateutil==2.9.0.post0",
    "six==1.17.0",
    "typing-extensions==4.16.0",
    "tzlocal==5.4.5",
    "vine==5.1.0",
    "wcwidth==0.9.4",
)
# The one source patch (see the module docstring); part of the marker, so changing it
# rebuilds the venv.
PATCHED_FILE: Final = "stream_framework/feed_managers/base.py"
PATCH: Final = (r"\basync\b", "async_")
VENV_NAME: Final = "stream-framework-venv"
MARKER_NAME: Final = "canopy-peer-requirements.txt"
RUNNER: Final = Path(__file__).with_name("stream_framework_runner.py")
# Databases 1-15 are unused by Canopy; the runner empties this one, so it must not be 0.
PEER_REDIS_DB: Final = 9
BIG_AUTHOR: Final = "big"
INSTALL_TIMEOUT_S: Final = 300.0
# About a minute of fan-out and checks on a 2-core VM.
RUNNER_TIMEOUT_S: Final = 300.0


async def run(ctx: BenchContext) -> list[Figure]:
    """Make (or reuse) SF's virtualenv, run the workloads there, turn its timings into
    figures."""
    python = await ensure_venv(run_dir() / VENV_NAME)
    timings = await run_workloads(python, peer_redis_url(RedisSettings().url))
    versions = timings["versions"]
    params: dict[str, JSONScalar] = {
        "stream_framework": versions["stream-framework"],
        "redis_py": versions["redis"],
        "celery": f"{versions['celery']} eager, pickle",
        "chunk_size": timings["fanout_chunk_size"],
        "max_length": timings["max_length"],
    }
    big, many = timings["big"], timings["many"]
    post_s: list[float] = big["post_s"]
    ms = sorted(s * 1000 for s in post_s)
    big_params = {**params, "followers": big["followers"], "repeats": len(post_s)}
    many_params = {**params, "authors": many["authors"], "followers_each": workloads.FOLLOWERS_EACH}
    inserts = big["followers"] * len(post_s)
    return [
        rate("peer.sf.fanout_10k.inserts_per_s", inserts, sum(post_s), "inserts/s", **big_params),
        Figure(
            "peer.sf.fanout_10k.everywhere_p50_ms", statistics.median(ms), "ms", len(ms), big_params
        ),
        Figure(
            "peer.sf.fanout_10k.everywhere_p99_ms", percentile(ms, 0.99), "ms", len(ms), big_params
        ),
        rate(
            "peer.sf.fanout_1000x100.inserts_per_s",
            many["inserts"],
            many["elapsed_s"],
            "inserts/s",
            **many_params,
        ),
    ]


async def ensure_venv(venv: Path) -> Path:
    """SF's virtualenv at ``venv``, made unless its marker matches: its Python."""
    python, marker = venv / "bin" / "python", venv / MARKER_NAME
    wanted = _marker_text()
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    began = time.perf_counter()
    shutil.rmtree(venv, ignore_errors=True)
    uv = _uv()
    await _check([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    await _check([*uv, "pip", "install", "--quiet", "--python", str(python), *REQUIREMENTS])
    _patch(venv)
    await _check([str(python), "-c", f"import {PATCHED_FILE[:-3].replace('/', '.')}"])
    marker.write_text(wanted)
    print(f"  peer: made {venv} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return python


async def run_workloads(python: Path, redis_url: str) -> dict[str, Any]:
    """Run :data:`RUNNER` with ``python`` on the audiences of :mod:`bench.workloads`."""
    # As bench.fanout: the 1,000 authors' followers are the big author's 10,000, each of them
    # following 10 authors.
    followers = workloads.follower_ids(workloads.BIG_AUDIENCE)
    audiences = {
        "big": {"author": BIG_AUTHOR, "followers": followers},
        "many": {
            author: workloads.followers_of_author(index, followers)
            for index, author in enumerate(workloads.author_ids())
        },
    }
    # Isolated (-I): no PYTHONPATH, and not bench/ first on sys.path, whose module names
    # (events, kafka) could shadow the venv's.
    env = {**os.environ, "PEER_REDIS_URL": redis_url}
    command = [str(python), "-I", str(RUNNER), "--repeats", str(workloads.BIG_REPEATS)]
    out = await _check(
        command, stdin=json.dumps(audiences).encode(), env=env, limit_s=RUNNER_TIMEOUT_S
    )
    timings: dict[str, Any] = json.loads(out)
    return timings


def peer_redis_url(url: str) -> str:
    """``url`` with database :data:`PEER_REDIS_DB`."""
    return urlsplit(url)._replace(path=f"/{PEER_REDIS_DB}", query="").geturl()


def _marker_text() -> str:
    return "\n".join([*REQUIREMENTS, f"# {PATCHED_FILE}: {PATCH[0]} -> {PATCH[1]}", ""])


def _patch(venv: Path) -> None:
    """Rename SF's ``async`` parameter (see the module docstring)."""
    (path,) = venv.glob(f"lib/python*/site-packages/{PATCHED_FILE}")
    source = re.sub(*PATCH, path.read_text())
    # A new file, not a write in place: uv may have hard-linked this one to its cache.
    patched = path.with_suffix(".py.patched")
    patched.write_text(source)
    patched.replace(path)


def _uv() -> list[str]:
    """uv as the Makefile finds it: on PATH, else ``python -m uv``."""
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


async def _check(
    command: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    limit_s: float = INSTALL_TIMEOUT_S,
) -> bytes:
    """Run ``command`` to the end: its stdout; its stderr's end in the error if it fails."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), limit_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TimeoutError(f"{command[0]} {command[1]} ran over {limit_s:.0f} s") from None
    if process.returncode != 0:
        tail = err.decode(errors="replace")[-2_000:]
        raise RuntimeError(f"{' '.join(command[:4])} exited {process.returncode}: {tail}")
    return out


BENCHMARK = Benchmark(
    "peer",
    "Stream-Framework 1.4.0 on fanout's two workloads, against the same Redis",
    run,
)
