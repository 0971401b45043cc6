"""Request limits: oversized bodies get 413 and deeply nested JSON 422, before any route runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from canopy_common.errors import PROBLEM_JSON
from canopy_common.limits import RequestLimits, has_nul, json_depth_exceeds
from canopy_common.members import NoPeople
from canopy_common.service import Runtime, ServiceDefinition, create_service_app, runtime_only
from canopy_common.settings import ServiceSettings

LIMIT_BYTES = 1024
LIMIT_DEPTH = 4


def nested(depth: int) -> str:
    """A JSON body ``depth`` levels deep: ``{"a": [{"a": [...]}]}``-like."""
    return "[" * depth + "]" * depth


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.add_middleware(RequestLimits, max_body_bytes=LIMIT_BYTES, max_json_depth=LIMIT_DEPTH)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"length": len(body), "body": body.decode()}

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_a_body_at_the_limit_reaches_the_route_unchanged(client: httpx.AsyncClient) -> None:
    body = '"' + "x" * (LIMIT_BYTES - 2) + '"'

    response = await client.post("/echo", content=body)

    assert response.status_code == 200
    assert response.json() == {"length": LIMIT_BYTES, "body": body}


async def test_a_declared_body_over_the_limit_gets_413_naming_the_limit(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/echo", content=b"x" * (LIMIT_BYTES + 1))

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["type"].endswith("/payload-too-large")
    assert problem["limit"] == LIMIT_BYTES
    assert problem["instance"] == "/echo"


async def test_a_streamed_body_without_a_length_is_counted_and_refused_past_the_limit(
    client: httpx.AsyncClient,
) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b"y" * 100

    response = await client.post("/echo", content=chunks())

    assert response.status_code == 413
    assert response.json()["limit"] == LIMIT_BYTES
    assert len(sent) < 100  # refused as soon as it passed the limit, not after reading it all


async def test_a_streamed_body_within_the_limit_arrives_whole(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"a": ', b"[1, 2]", b"}"):
            yield part

    response = await client.post("/echo", content=chunks())

    assert response.status_code == 200
    assert response.json()["body"] == '{"a": [1, 2]}'


async def test_json_nested_deeper_than_the_limit_gets_422_naming_the_limit(
    client: httpx.AsyncClient,
) -> None:
    at_limit = await client.post(
        "/echo", content=nested(LIMIT_DEPTH), headers={"content-type": "application/json"}
    )
    too_deep = await client.post(
        "/echo", content=nested(LIMIT_DEPTH + 1), headers={"content-type": "application/json"}
    )

    assert at_limit.status_code == 200
    assert too_deep.status_code == 422
    assert too_deep.headers["content-type"] == PROBLEM_JSON
    problem = too_deep.json()
    assert problem["type"].endswith("/json-too-deep")
    assert problem["limit"] == LIMIT_DEPTH
    assert str(LIMIT_DEPTH) in problem["detail"]


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/activity+json"]
)
async def test_every_body_fastapi_parses_as_json_is_depth_checked(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}

    response = await client.post("/echo", content=nested(LIMIT_DEPTH + 1), headers=headers)

    assert response.status_code == 422


async def test_other_bodies_are_not_depth_checked(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo", content=nested(LIMIT_DEPTH + 1), headers={"content-type": "text/plain"}
    )

    assert response.status_code == 200


async def test_a_request_without_a_body_passes(client: httpx.AsyncClient) -> None:
    response = await client.get("/ping")

    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path", "params", "content"),
    [
        ("GET", "/ping", {"q": "a\x00b"}, None),  # Postgres text holds no NUL: 500 before
        ("GET", "/ping%00", None, None),
        ("POST", "/echo", None, b'{"content": "a\\u0000b"}'),
        ("POST", "/echo", None, b'{"content": "a\x00b"}'),
    ],
)
async def test_a_nul_character_in_path_query_or_json_text_gets_422(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    params: dict[str, str] | None,
    content: bytes | None,
) -> None:
    response = await client.request(method, path, params=params, content=content)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["type"].endswith("/nul-character")
    assert "NUL" in problem["detail"]


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(
    client: httpx.AsyncClient,
) -> None:
    body = '{"content": "C:\\\\u0000 is a path"}'  # the text C:\\u0000: no NUL in it

    response = await client.post("/echo", content=body)

    assert response.status_code == 200
    assert response.json()["body"] == body


@pytest.mark.parametrize(
    ("body", "nul"),
    [
        (b'"\\u0000"', True),
        (b'"\\\\u0000"', False),
        (b'"\\\\\\u0000"', True),
        (b'"u0000"', False),
        (b'"\x00"', True),
    ],
)
def test_nul_is_found_after_an_even_number_of_backslashes(body: bytes, nul: bool) -> None:
    assert has_nul({"path": "/", "query_string": b""}, body) is nul


@pytest.mark.parametrize(
    ("body", "deeper_than_two"),
    [
        (b'{"a": [1, {"b": 2}]}', True),
        (b'{"a": [1, 2], "b": {"c": 3}}', False),
        (b'{"a": "[[[[{{{{"}', False),  # brackets inside strings do not count
        (b'{"a": "quote \\" [[[[ still a string"}', False),
        (b'{"a": "ends with a backslash \\\\", "b": "[[[["}', False),
        (b"[[[", True),  # malformed is measured too
        (b"", False),
    ],
)
def test_depth_counts_brackets_outside_strings(body: bytes, deeper_than_two: bool) -> None:
    assert json_depth_exceeds(body, 2) is deeper_than_two


def test_every_service_app_enforces_its_configured_limits() -> None:
    settings = ServiceSettings(max_body_bytes=10, max_json_depth=3)

    definition: ServiceDefinition[ServiceSettings, Runtime[ServiceSettings]] = ServiceDefinition(
        "demo", "Demo", "canopy_common", runtime_only, lambda pool: NoPeople()
    )
    app = create_service_app(definition, settings)

    installed = {getattr(m.cls, "__name__", None): m.kwargs for m in app.user_middleware}
    assert installed[RequestLimits.__name__] == {"max_body_bytes": 10, "max_json_depth": 3}
