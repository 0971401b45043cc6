"""HTTP metrics by route template, the metric cache and the /metrics endpoint."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import REGISTRY

from canopy_common.metrics import (
    HttpMetrics,
    get_or_create_counter,
    get_or_create_histogram,
    metric_name,
    metrics_router,
)


def _service() -> str:
    # A service name per test keeps each test's series apart in the shared registry.
    return f"t{uuid.uuid4().hex[:10]}"


def _app(service: str) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def get_item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @app.post("/items", status_code=201)
    async def create_item() -> dict[str, str]:
        return {"id": "new"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    v1 = APIRouter(prefix="/v1")
    comments = APIRouter(prefix="/posts/{post_id}/comments")

    @comments.get("/{comment_id}")
    async def get_comment(post_id: str, comment_id: str) -> dict[str, str]:
        return {"id": comment_id}

    v1.include_router(comments)
    app.include_router(v1, prefix="/api")
    app.include_router(metrics_router())
    app.add_middleware(HttpMetrics, service=service)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _count(service: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(
        f"canopy_{service}_http_request_duration_seconds_count", labels
    )


async def test_requests_to_one_route_share_its_template_label() -> None:
    service = _service()
    async with _client(_app(service)) as client:
        assert (await client.get("/items/1")).status_code == 200
        assert (await client.get("/items/2")).status_code == 200

    assert _count(service, route="/items/{item_id}", method="GET", status="200") == 2
    assert _count(service, route="/items/1", method="GET", status="200") is None


async def test_status_label_is_the_response_status() -> None:
    service = _service()
    async with _client(_app(service)) as client:
        assert (await client.post("/items")).status_code == 201
        assert (await client.get("/boom")).status_code == 500

    assert _count(service, route="/items", method="POST", status="201") == 1
    assert _count(service, route="/boom", method="GET", status="500") == 1


async def test_unknown_paths_are_labelled_unmatched() -> None:
    service = _service()
    async with _client(_app(service)) as client:
        assert (await client.get("/no/such/path")).status_code == 404
        assert (await client.get("/another/unknown")).status_code == 404

    assert _count(service, route="unmatched", method="GET", status="404") == 2


async def test_nested_routers_label_the_full_template() -> None:
    service = _service()
    async with _client(_app(service)) as client:
        assert (await client.get("/api/v1/posts/p1/comments/c1")).status_code == 200

    route = "/api/v1/posts/{post_id}/comments/{comment_id}"
    assert _count(service, route=route, method="GET", status="200") == 1


async def test_unusual_methods_do_not_mint_label_values() -> None:
    service = _service()
    async with _client(_app(service)) as client:
        await client.request("BREW", "/items/1")

    assert _count(service, route="/items/{item_id}", method="other", status="405") == 1


async def test_metrics_endpoint_serves_the_series() -> None:
    service = _service()
    async with _client(_app(service)) as client:
        await client.get("/items/7")
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        f'canopy_{service}_http_request_duration_seconds_count{{method="GET",'
        f'route="/items/{{item_id}}",status="200"}} 1.0'
    ) in response.text
    assert f"canopy_{service}_http_requests_in_progress" in response.text


async def test_several_apps_of_one_service_share_its_metrics() -> None:
    service = _service()
    async with _client(_app(service)) as first, _client(_app(service)) as second:
        await first.get("/items/1")
        await second.get("/items/2")

    assert _count(service, route="/items/{item_id}", method="GET", status="200") == 2


def test_get_or_create_returns_the_registered_metric() -> None:
    name = metric_name(_service(), "records_total")
    counter = get_or_create_counter(name, "Records.", ["topic"])

    assert get_or_create_counter(name, "Records.", ["topic"]) is counter
    with pytest.raises(ValueError, match="already exists"):
        get_or_create_counter(name, "Records.", ["topic", "outcome"])
    with pytest.raises(ValueError, match="already exists"):
        get_or_create_histogram(name, "Records.", ["topic"])


def test_metric_names_follow_the_convention() -> None:
    assert metric_name("fanout", "recipients_total") == "canopy_fanout_recipients_total"
    assert metric_name("canopy-notify", "sent_total") == "canopy_notify_sent_total"
    assert metric_name("canopy", "up") == "canopy_up"
