"""What a service's OpenAPI document says about its errors: the truth (docs/architecture.md §8).

Every error a Canopy service answers is RFC 9457 ``application/problem+json``
(:mod:`canopy_common.problems`). :func:`document_problems` rewrites the document FastAPI
generates so that it says so: one shared ``Problem`` schema component, every 4xx and 5xx
answer as ``application/problem+json`` of that schema, and the statuses that the common
machinery answers on a route without the route saying anything, derived from the operation:

- a token (the operation has ``security``) → 401 (missing or invalid token), 403 (not an
  active person of the tenant, or a role missing) and 429 (request budget spent,
  :mod:`canopy_common.rate_limits`), with ``WWW-Authenticate`` and ``Retry-After``;
- every route → 422 (a NUL character in the path or query, or invalid input:
  :mod:`canopy_common.limits`, FastAPI's validation) and 503 with ``Retry-After`` (a
  dependency outage, :func:`canopy_common.problems.outage`);
- a request body → 400 (not readable as JSON text) and 413 (larger than the service's
  limit);
- a ``cursor`` query parameter → 400 (not a cursor this API gave out,
  :mod:`canopy_common.cursors`).

A route states only its own statuses with :func:`problems` (``responses=problems(404, 409)``).
:func:`create_service_app <canopy_common.service.create_service_app>` installs the rewrite
with :func:`install_openapi`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.errors import PROBLEM_JSON, PROBLEM_TYPE_BASE

PROBLEM_REF = "#/components/schemas/Problem"
# FastAPI's own validation-error schemas: replaced by Problem (Canopy renders 422 itself).
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")

REASONS: dict[int, str] = {
    400: "The body cannot be read as JSON text (not UTF-8)",
    401: "Missing or invalid bearer token",
    403: "The caller may not do this: not an active person of the tenant, or a role missing",
    404: "No such thing in the caller's tenant, or the caller may not see it",
    409: "Conflicts with the current state",
    413: "The request body is larger than the service accepts",
    422: "Invalid input (a parameter, the body, or a NUL character anywhere in the request); "
    "`detail` and `errors` or `field` say what",
    429: "Request budget spent; retry after `Retry-After` seconds",
    503: "A service this one depends on is unavailable; retry after `Retry-After` seconds",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The Bearer challenge (RFC 6750)",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the budget is whole again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
_AUTHENTICATED = (401, 403, 429)
_EVERY_ROUTE = (422, 503)
_WITH_BODY = (400, 413)


class Problem(BaseModel):
    """An RFC 9457 problem: what every error looks like (``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": f"{PROBLEM_TYPE_BASE}not-found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "no person 'u-123' in this tenant",
                    "instance": "/v1/users/u-123",
                }
            ]
        },
    )

    type: str = Field(description=f"{PROBLEM_TYPE_BASE}<code>")
    title: str
    status: int
    detail: str = Field(description="What went wrong, for a person to read")
    instance: str | None = Field(None, description="The request path")


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or REASONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if status in _HEADERS:
        response["headers"] = dict(_HEADERS[status])
    return response


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the statuses a route answers of its own (404, 409, ...), each a
    problem+json answer. The common ones (401, 403, 422, 429, 503; 400 and 413 with a body)
    need not be named: :func:`document_problems` adds them wherever they apply."""
    return {status: _problem_response(status) for status in sorted(set(statuses))}


def _common_statuses(operation: dict[str, Any]) -> Iterable[int]:
    if operation.get("security"):
        yield from _AUTHENTICATED
    yield from _EVERY_ROUTE
    if "requestBody" in operation:
        yield from _WITH_BODY


_BAD_CURSOR = "The `cursor` is not one this API gave out"


def _takes_cursor(operation: dict[str, Any]) -> bool:
    return any(
        parameter.get("in") == "query" and parameter.get("name") == "cursor"
        for parameter in operation.get("parameters", [])
    )


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an OpenAPI ``document`` (in place, and return it) so that its errors are told
    as they are answered: every 4xx/5xx a problem+json ``Problem``, plus the common statuses
    of each operation (module docstring)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for common in _common_statuses(operation):
                responses.setdefault(str(common), _problem_response(common))
            if _takes_cursor(operation):
                bad = responses.setdefault("400", _problem_response(400, _BAD_CURSOR))
                if _BAD_CURSOR not in bad.get("description", ""):
                    bad["description"] = f"{bad.get('description', '')}; {_BAD_CURSOR}"
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
                    code = int(status)
                    if code in _HEADERS:
                        response.setdefault("headers", dict(_HEADERS[code]))
                    if response.get("description") == "Validation Error":
                        response["description"] = REASONS[422]
            operation["responses"] = dict(sorted(responses.items()))
    used = json.dumps(document["paths"])
    for name in _FASTAPI_ERROR_SCHEMAS:
        if f'"#/components/schemas/{name}"' not in used:
            schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve ``app``'s OpenAPI document rewritten by :func:`document_problems` (built once,
    on the first request for it, as FastAPI does)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
