"""OpenAPI descriptions of the RFC 9457 problem responses the routes answer with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from canopy_common.errors import PROBLEM_JSON


class Problem(BaseModel):
    """An RFC 9457 problem: what every error looks like (``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://canopy.dev/problems/not-found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "no person 'u-123' in this tenant",
                    "instance": "/v1/users/u-123",
                }
            ]
        },
    )

    type: str = Field(description="https://canopy.dev/problems/<code>")
    title: str
    status: int
    detail: str = Field(description="What went wrong, for a person to read")
    instance: str | None = Field(None, description="The request path")


_REASONS = {
    401: "Missing or invalid bearer token",
    403: "The caller may not do this",
    404: "No such thing in the caller's tenant, or the caller may not see it",
    409: "Conflicts with the current state",
    422: "Invalid input; `errors` or `field` names what",
    503: "The database is unavailable; retry after `Retry-After` seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: 401, 422 (FastAPI's own, rendered as a problem) and 503
    always, plus ``statuses``."""
    schema = Problem.model_json_schema()
    return {
        status: {
            "description": _REASONS[status],
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in sorted({401, 422, 503, *statuses})
    }
