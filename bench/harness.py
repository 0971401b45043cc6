"""Running benchmarks: what each one gets, the servers they share, and the results file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.figures import Figure
from canopy_common.settings import KafkaSettings, PostgresSettings
from canopy_dev.devstack import LocalStack, StackEndpoints, dsn_with_database

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = REPO_ROOT / "bench" / "results.json"
# Like the tests: the scratch database, unless CANOPY_PG_DSN names one explicitly.
BENCH_DATABASE = "canopy_test"
GIT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class BenchContext:
    """What a benchmark may use: settings pointing at the running Postgres and broker.

    The servers run only when a selected benchmark has ``needs_stack``; ``postgres`` names the
    scratch database (``canopy_test``), where benchmarks make and drop their own schemas.
    """

    kafka: KafkaSettings
    postgres: PostgresSettings


BenchmarkRun = Callable[[BenchContext], Awaitable[list[Figure]]]


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A named benchmark; ``run`` returns its figures, named ``<name>.<what>``."""

    name: str
    summary: str
    run: BenchmarkRun
    needs_stack: bool = True


def run_dir() -> Path:
    """Where the bench's :class:`LocalStack` records what it started: ``<run>/bench``."""
    return Path(os.environ.get("CANOPY_RUN_DIR") or REPO_ROOT / ".run") / "bench"


def bench_stack() -> LocalStack:
    """The local stack exactly as the tests get it, with a run folder of its own."""
    return LocalStack.from_env(run_dir=run_dir())


def context_for(endpoints: StackEndpoints | None) -> BenchContext:
    """Settings for the servers at ``endpoints`` (from the environment when none run)."""
    kafka, postgres = KafkaSettings(), PostgresSettings()
    if endpoints is not None:
        kafka = kafka.model_copy(update={"bootstrap_servers": endpoints.kafka_bootstrap})
        postgres = postgres.model_copy(update={"dsn": endpoints.pg_dsn})
    if not os.environ.get("CANOPY_PG_DSN"):
        postgres = postgres.model_copy(
            update={"dsn": dsn_with_database(postgres.dsn, BENCH_DATABASE)}
        )
    return BenchContext(kafka=kafka, postgres=postgres)


def results_document(
    figures: Sequence[Figure],
    *,
    benchmarks: Sequence[str],
    duration_s: float,
    errors: dict[str, str],
    started_at: datetime,
) -> dict[str, Any]:
    """``results.json``: the figures with the machine, date, Python version and commit."""
    commit, dirty = git_state()
    return {
        "date": started_at.astimezone(UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "benchmarks": list(benchmarks),
        "duration_s": round(duration_s, 1),
        "figures": [figure.as_json() for figure in figures],
        "errors": errors,
    }


def write_results(document: dict[str, Any], path: Path = RESULTS_PATH) -> None:
    """Write ``document`` as JSON, replacing the file whole (never half-written)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.replace(path)


def git_state() -> tuple[str | None, bool | None]:
    """``(HEAD commit, whether tracked files differ from it)``; ``None`` outside a checkout."""
    try:
        head = _git("rev-parse", "HEAD")
        changes = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head, bool(changes)


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_S,
        check=True,
    )
    return done.stdout.strip()
