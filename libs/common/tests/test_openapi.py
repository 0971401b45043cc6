"""A service's OpenAPI document says how it answers errors (docs/architecture.md §8): every
4xx/5xx is problem+json of one Problem schema, and the statuses the common machinery answers
(auth, validation, budgets, outages, body limits) are on each operation they apply to. A path
served by several routes answers 405 naming every method it has."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel

from canopy_common.auth import CurrentPrincipal, Principal, Role, install_auth, require_roles
from canopy_common.errors import PROBLEM_JSON
from canopy_common.openapi import PROBLEM_REF, install_openapi, problems
from canopy_common.problems import install_error_handlers
from canopy_common.settings import AuthSettings

Admin = Annotated[Principal, Depends(require_roles(Role.TENANT_ADMIN))]


class Body(BaseModel):
    name: str


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_openapi(app)
    install_auth(app, AuthSettings(secret="s" * 32))
    router = APIRouter()

    @router.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    @router.get("/things/{thing_id}", responses=problems(404))
    async def read(thing_id: str, _: CurrentPrincipal, q: Annotated[str, Query()] = "") -> None:
        return None

    @router.put("/things/{thing_id}", responses=problems(409))
    async def put(thing_id: str, body: Body, _: Admin) -> None:
        return None

    @router.delete("/things/{thing_id}", status_code=204)
    async def delete(thing_id: str, _: CurrentPrincipal) -> None:
        return None

    app.include_router(router)
    return app


def _statuses(document: dict[str, Any], path: str, method: str) -> list[str]:
    return list(document["paths"][path][method]["responses"])


def test_each_operation_lists_its_own_and_the_common_statuses() -> None:
    document = _app().openapi()

    assert _statuses(document, "/open", "get") == ["200", "422", "503"]
    assert _statuses(document, "/things/{thing_id}", "get") == [
        "200", "401", "403", "404", "422", "429", "503"
    ]  # fmt: skip
    assert _statuses(document, "/things/{thing_id}", "put") == [
        "200", "400", "401", "403", "409", "413", "422", "429", "503"
    ]  # fmt: skip


def test_every_error_is_a_problem_and_fastapis_validation_schemas_are_gone() -> None:
    document = _app().openapi()

    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"] == {
                        PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}
                    }, status
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["properties"])
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_retry_after_and_the_bearer_challenge_are_documented_headers() -> None:
    responses = _app().openapi()["paths"]["/things/{thing_id}"]["get"]["responses"]

    assert set(responses["503"]["headers"]) == {"Retry-After"}
    assert set(responses["429"]["headers"]) == {"Retry-After"}
    assert set(responses["401"]["headers"]) == {"WWW-Authenticate"}


async def test_405_names_every_method_of_the_path_not_only_the_first_routes() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://canopy.test") as client:
        options = await client.options("/things/x")
        post = await client.post("/things/x")

    for response in (options, post):
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, PUT, DELETE"
        assert response.headers["content-type"] == PROBLEM_JSON
