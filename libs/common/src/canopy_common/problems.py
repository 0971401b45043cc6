"""Canopy's errors over HTTP: every error a FastAPI app can raise, as RFC 9457 problem+json.

:func:`install_error_handlers` renders :class:`~canopy_common.errors.CanopyError`, FastAPI's
validation errors, unknown routes, and a dependency outage: Postgres, Redis or the broker
unreachable (what :func:`~canopy_common.transient.is_transient` calls transient) answers 503
with ``Retry-After`` in every service, never a 500 (docs/architecture.md §9).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from canopy_common.errors import PROBLEM_JSON, PROBLEM_TYPE_BASE, CanopyError, ServiceUnavailable
from canopy_common.transient import DEPENDENCY_ERRORS, is_transient

log = structlog.get_logger(__name__)

# Long enough for a pool to reconnect or a failover to finish, short enough that a client
# does not give up on a service that is back.
OUTAGE_RETRY_AFTER_S = 5


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """Build an RFC 9457 ``application/problem+json`` response."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (code or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return Response(
        _encoded(body), status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


def _encoded(body: dict[str, Any]) -> bytes:
    # orjson refuses integers past 64 bits; an error echoing such an input must still be the
    # 4xx it is, not a 500 (the standard library writes any integer).
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, default=str).encode()


async def _canopy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CanopyError)
    return _render(request, exc)


def _render(request: Request, exc: CanopyError) -> Response:
    return problem_response(
        exc.status,
        exc.message,
        code=exc.code,
        instance=request.url.path,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return problem_response(
        422, detail, code="invalid-input", instance=request.url.path, extra={"errors": errors}
    )


# The methods an Allow header may name, in the order it names them.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path.

    Starlette's 405 names only the methods of the first route matching the path; a path
    served by several routes (``PUT`` and ``DELETE`` of one relation) has them all. Each
    method is tried against the app's routes as the router would (included routers too).
    """
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(
        exc.status_code,
        str(exc.detail),
        instance=request.url.path,
        headers=headers,
    )


def outage(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 a request answers when ``exc`` means a dependency is down, else None."""
    if not is_transient(exc):
        return None
    return ServiceUnavailable(
        "a service this one depends on is unavailable; retry shortly",
        retry_after_s=OUTAGE_RETRY_AFTER_S,
        code="dependency-unavailable",
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    unavailable = outage(exc)
    if unavailable is None:
        log.exception("unhandled error", path=request.url.path, error_class=type(exc).__name__)
        return problem_response(
            500, "internal error; it has been logged", code="internal", instance=request.url.path
        )
    log.warning(
        "dependency unavailable",
        path=request.url.path,
        error_class=type(exc).__name__,
        error=str(exc),
    )
    return _render(request, unavailable)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json: a dependency outage as 503 with
    ``Retry-After``, anything unexpected as a logged 500."""
    app.add_exception_handler(CanopyError, _canopy_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Registered by class as well as under Exception: Starlette re-raises whatever reaches its
    # Exception handler (the server then logs a traceback per request of an outage).
    for kind in (*DEPENDENCY_ERRORS, Exception):
        app.add_exception_handler(kind, _unexpected_error)
