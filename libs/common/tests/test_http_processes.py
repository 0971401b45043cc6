"""One service's HTTP API served by several processes on one port (a real server, forked)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from canopy_testing.http import free_port

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0

# Two processes of a small app: /pid says who answered and counts in a shared counter.
SERVER = """
import os, sys
from fastapi import FastAPI
from canopy_common.http_processes import serve_processes
from canopy_common.metrics import get_or_create_counter, metrics_response
from canopy_common.settings import ServiceSettings

def make_app(first):
    app = FastAPI()
    answered = get_or_create_counter("canopy_test_answers_total", "Requests answered")

    @app.get("/pid")
    async def pid():
        answered.inc()
        return {"pid": os.getpid(), "first": first}

    @app.get("/metrics")
    async def metrics():
        return metrics_response()

    return app

sys.exit(serve_processes(make_app, ServiceSettings(service_name="test"), int(sys.argv[1]), 2))
"""


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(url):
            assert process.poll() is None, "the server ended before it answered"
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/pid", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _answers_from(url: str, count: int) -> list[dict[str, object]]:
    # A new connection each time: the kernel gives it to whichever process accepts first.
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(limits=no_reuse) as client:
        return [client.get(f"{url}/pid").json() for _ in range(count)]


def test_both_processes_answer_and_metrics_count_all_of_them(
    server: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, url = server
    answers = _answers_from(url, 100)
    pids = {answer["pid"] for answer in answers}
    firsts = {answer["pid"] for answer in answers if answer["first"]}

    assert len(pids) == 2
    assert len(firsts) == 1
    metrics = httpx.get(f"{url}/metrics").text
    counted = next(
        line for line in metrics.splitlines() if line.startswith("canopy_test_answers_total ")
    )
    assert float(counted.split()[1]) == len(answers) + 1  # and the fixture's first request

    process.send_signal(signal.SIGTERM)
    assert process.wait(STOP_TIMEOUT_S) == 0


def test_when_one_process_dies_the_server_stops_with_an_error(
    server: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, url = server
    [answer] = _answers_from(url, 1)
    os.kill(int(str(answer["pid"])), signal.SIGKILL)

    assert process.wait(STOP_TIMEOUT_S) != 0
