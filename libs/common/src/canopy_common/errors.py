"""One error root for Canopy and its rendering as RFC 9457 problem+json.

Raise :class:`CanopyError` (or a subclass) anywhere; :func:`install_error_handlers` renders it,
FastAPI's validation errors and unknown routes as ``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://canopy.dev/problems/"

log = structlog.get_logger(__name__)


class CanopyError(Exception):
    """Base of every error Canopy raises on purpose.

    ``status`` is the HTTP status it maps to; ``code`` becomes the problem ``type``
    (``https://canopy.dev/problems/<code>``); ``extra`` adds members to the problem body.
    """

    status: int = 400
    code: str = "bad-request"

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class InvalidInput(CanopyError):
    status, code = 422, "invalid-input"


class Unauthorized(CanopyError):
    status, code = 401, "unauthorized"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(message, **kwargs)


class Forbidden(CanopyError):
    status, code = 403, "forbidden"


class NotFound(CanopyError):
    status, code = 404, "not-found"


class Conflict(CanopyError):
    status, code = 409, "conflict"


class PayloadTooLarge(CanopyError):
    status, code = 413, "payload-too-large"


class RateLimited(CanopyError):
    status, code = 429, "rate-limited"

    def __init__(self, message: str, retry_after_s: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(retry_after_s)})
        super().__init__(message, **kwargs)


class ServiceUnavailable(CanopyError):
    status, code = 503, "service-unavailable"

    def __init__(self, message: str, retry_after_s: int = 5, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(retry_after_s)})
        super().__init__(message, **kwargs)


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
        orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


async def _canopy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CanopyError)
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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        exc.status_code,
        str(exc.detail),
        instance=request.url.path,
        headers=exc.headers,
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path, error_class=type(exc).__name__)
    return problem_response(
        500, "internal error; it has been logged", code="internal", instance=request.url.path
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json."""
    app.add_exception_handler(CanopyError, _canopy_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
