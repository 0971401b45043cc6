"""How failures look to a person: a page saying what happened, never a stack trace.

An API's 4xx shows its status and the service's own words; a service that does not answer is a
503 page with Retry-After; an ended session goes back to sign-in (for htmx, via ``HX-Redirect``);
a refused CSRF token is a 403. htmx requests get the message alone, which ``canopy.js`` shows in
the page's alert region.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from canopy_web.api import ApiError, ServiceDown, SignInRequired
from canopy_web.deps import CsrfRefused, session_cookie, web_state
from canopy_web.people import NotAPerson
from canopy_web.rendering import is_htmx, render
from canopy_web.strings import STRINGS, t

log = structlog.get_logger(__name__)


def sign_in_again(request: Request) -> Response:
    """Back to sign-in, then to where the person was going."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or is_htmx(request):
        target = request.headers.get("HX-Current-URL") or "/"
    location = "/auth/signin?expired=1&next=" + quote(target, safe="")
    response: Response
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": location})
    else:
        response = RedirectResponse(location, status_code=303)
    settings = web_state(request).settings
    response.delete_cookie(
        session_cookie(settings), path="/", secure=settings.secure_cookies, httponly=True
    )
    return response


def _message(status: int) -> str:
    key = f"error.{status}"
    return t(key) if key in STRINGS else t("error.title")


async def error_page(
    request: Request, status: int, *, detail: str = "", headers: dict[str, str] | None = None
) -> Response:
    """A page (or, for htmx, the message alone) saying what went wrong."""
    message = _message(status)
    session = getattr(request.state, "session", None)
    return await render(
        request,
        "partials/error.html" if is_htmx(request) else "error.html",
        session=session,
        status_code=status,
        headers=headers,
        status=status,
        message=message,
        detail=detail,
    )


async def _no_longer_a_person(request: Request) -> bool:
    """Whether a 403 came because the signed-in person was deactivated since their token was
    minted (the services refuse such a person everywhere): then the session ends here."""
    session = getattr(request.state, "session", None)
    if session is None:
        return False
    state = web_state(request)
    try:
        await state.people.standing(session.user_id, session.tenant)
    except NotAPerson:
        await state.sessions.end(session.id)
        return True
    except Exception:  # the directory cannot say just now: show the 403 as it is
        return False
    return False


def install_error_pages(app: FastAPI) -> None:
    """Register the one rendering of each failure."""

    async def on_sign_in(request: Request, _: Exception) -> Response:
        return sign_in_again(request)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.status == 403 and await _no_longer_a_person(request):
            return sign_in_again(request)
        detail = t("error.from_service", detail=exc.detail) if exc.detail else ""
        return await error_page(request, exc.status, detail=detail)

    async def on_service_down(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceDown)
        log.warning("service unavailable", service=exc.service, error=str(exc))
        return await error_page(request, 503, headers={"Retry-After": str(exc.retry_after_s)})

    async def on_csrf(request: Request, _: Exception) -> Response:
        return await error_page(request, 403, detail=t("error.csrf"))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers: dict[str, Any] | None = getattr(exc, "headers", None)
        return await error_page(request, exc.status_code, headers=headers)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return await error_page(request, 400, detail=fields)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("page failed", path=request.url.path, error=repr(exc))
        return await error_page(request, 500)

    app.add_exception_handler(SignInRequired, on_sign_in)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(ServiceDown, on_service_down)
    app.add_exception_handler(CsrfRefused, on_csrf)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_crash)
