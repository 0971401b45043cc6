"""Every service renders errors one way: a dependency outage is 503 problem+json with
Retry-After (docs/architecture.md §9), anything unexpected a logged 500, never both."""

from __future__ import annotations

import json

import asyncpg
import httpx
import pytest
import redis.exceptions
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI

from canopy_common.errors import PROBLEM_JSON, NotFound
from canopy_common.problems import (
    OUTAGE_RETRY_AFTER_S,
    install_error_handlers,
    outage,
    problem_response,
)


def _wrapped() -> Exception:
    try:
        raise ConnectionRefusedError(111, "Connect call failed")
    except ConnectionRefusedError as exc:
        wrapper = RuntimeError("could not load the reader's graph")
        wrapper.__cause__ = exc
        return wrapper


OUTAGES = [
    pytest.param(ConnectionRefusedError(111, "Connect call failed"), id="postgres-port-closed"),
    pytest.param(TimeoutError(), id="pool-acquire-timeout"),
    pytest.param(asyncpg.exceptions.CannotConnectNowError("starting up"), id="postgres-starting"),
    pytest.param(asyncpg.InterfaceError("pool is closed"), id="pool-closed"),
    pytest.param(redis.exceptions.ConnectionError("Connection refused"), id="redis-refused"),
    pytest.param(redis.exceptions.TimeoutError("Timeout reading"), id="redis-timeout"),
    pytest.param(KafkaConnectionError("not connected to the broker (yet)"), id="broker-down"),
    pytest.param(ExceptionGroup("both", [ValueError("x"), OSError("down")]), id="group"),
    pytest.param(_wrapped(), id="raised-from-an-outage"),
]
NOT_OUTAGES = [
    pytest.param(asyncpg.exceptions.UniqueViolationError("duplicate key"), id="constraint"),
    pytest.param(redis.exceptions.ResponseError("WRONGTYPE"), id="redis-wrong-type"),
    pytest.param(ValueError("a bug"), id="bug"),
]


def _app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return app


async def _get(app: FastAPI) -> httpx.Response:
    # The server sees what reaches Starlette's last-resort handler again after the response.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://canopy.test") as client:
        return await client.get("/boom")


@pytest.mark.parametrize("exc", OUTAGES)
async def test_a_dependency_outage_answers_503_problem_json_with_retry_after(
    exc: Exception,
) -> None:
    response = await _get(_app_raising(exc))

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == str(OUTAGE_RETRY_AFTER_S)
    assert response.json() == {
        "type": "https://canopy.dev/problems/dependency-unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "a service this one depends on is unavailable; retry shortly",
        "instance": "/boom",
    }


@pytest.mark.parametrize("exc", NOT_OUTAGES)
async def test_any_other_failure_is_a_500_that_says_nothing_of_its_cause(exc: Exception) -> None:
    response = await _get(_app_raising(exc))

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "retry-after" not in response.headers
    assert response.json()["type"].endswith("/internal")


async def test_canopy_errors_keep_their_own_status() -> None:
    response = await _get(_app_raising(NotFound("no such post")))

    assert response.status_code == 404
    assert response.json()["detail"] == "no such post"


def test_outage_is_none_for_a_bad_request_and_a_503_for_a_dependency_down() -> None:
    assert outage(ValueError("bad")) is None
    unavailable = outage(redis.exceptions.ConnectionError("down"))
    assert unavailable is not None
    assert unavailable.status == 503
    assert unavailable.headers == {"Retry-After": str(OUTAGE_RETRY_AFTER_S)}


def test_a_problem_echoing_an_integer_past_64_bits_is_still_written() -> None:
    response = problem_response(422, "limit: at most 100", extra={"actual": 10**40})

    assert response.status_code == 422
    assert json.loads(bytes(response.body))["actual"] == 10**40
