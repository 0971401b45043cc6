"""Signing in and out: the sign-in page, local sign-in as anyone (``/auth/dev``, never in
production) and sign-out. OpenID Connect sign-in lives in :mod:`canopy_web.pages.oidc`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_common.principal import TENANT_ID_PATTERN
from canopy_web.api import ApiError, Service, ServiceDown, SignInRequired
from canopy_web.deps import OptionalSession, csrf_protected, session_cookie, web_state
from canopy_web.errors import error_page
from canopy_web.people import NotAPerson
from canopy_web.rendering import local_path, render
from canopy_web.sessions import Session
from canopy_web.strings import t

router = APIRouter(dependencies=[Depends(csrf_protected)])

UserId = Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\s/]+$")]
TenantId = Annotated[str | None, Query(pattern=TENANT_ID_PATTERN)]


def signed_in(request: Request, session: Session, next_: str | None) -> Response:
    """The redirect that completes a sign-in: the session cookie, then the page wanted."""
    settings = web_state(request).settings
    response = RedirectResponse(local_path(next_), status_code=303)
    response.set_cookie(
        session_cookie(settings),
        session.id,
        max_age=settings.session_max_s,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",  # sent on the identity provider's redirect back, not on cross-site POSTs
    )
    return response


def dev_allowed(request: Request) -> bool:
    """Whether local sign-in is on: never when ``CANOPY_ENV=production``."""
    settings = web_state(request).settings
    return settings.dev_sign_in and settings.env != "production"


@router.get("/auth/signin", include_in_schema=False)
async def sign_in_page(
    request: Request,
    session: OptionalSession,
    next_: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    expired: bool = False,
    signed_out: bool = False,
) -> Response:
    notice = t("signin.expired") if expired else t("signin.signed_out") if signed_out else ""
    return await _sign_in(request, session, next_=next_, q=q, notice=notice)


async def sign_in_failed(
    request: Request, reason: str, *, status: int, next_: str | None = None
) -> Response:
    """The sign-in page saying why signing in failed (``signin.failed``), with ``status``."""
    return await _sign_in(request, None, next_=next_, failure=reason, status=status)


async def _sign_in(
    request: Request,
    session: Session | None,
    *,
    next_: str | None,
    q: str | None = None,
    notice: str = "",
    failure: str = "",
    status: int = 200,
) -> Response:
    state = web_state(request)
    people: list[dict[str, object]] = []
    if dev_allowed(request) and state.settings.dev_people:
        guide = state.settings.dev_people[0]
        try:
            token, _ = state.people.minter.mint(
                tenant=state.settings.tenant, user=guide, roles=["member"]
            )
            page = await state.people.api(token).page(
                Service.INGESTION,  # the tenant's directory, read as the demo's guide
                "/v1/users",
                q=q,
                limit=50,
            )
            people = page.items
        except (ApiError, ServiceDown, SignInRequired):
            people = []
    return await render(
        request,
        "signin.html",
        session=session,
        status_code=status,
        next=local_path(next_),
        q=q or "",
        dev=dev_allowed(request),
        sso=state.oidc_enabled,
        people=people,
        tenant=state.settings.tenant,
        notice=notice,
        failure=t("signin.failed", reason=failure) if failure else "",
    )


@router.get("/auth/dev", include_in_schema=False)
async def dev_sign_in(
    request: Request,
    user: UserId,
    next_: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    tenant: TenantId = None,
) -> Response:
    """Sign in as ``user`` with no password: local runs and tests only. ``tenant`` (default:
    the client's) lets tests sign in to tenants of their own."""
    if not dev_allowed(request):
        return await error_page(request, 403, detail=t("signin.dev_refused"))
    state = web_state(request)
    try:
        session = await state.people.sign_in(
            user, tenant=tenant or state.settings.tenant, method="dev"
        )
    except NotAPerson as exc:
        detail = t("signin.not_a_person", user=exc.user_id, tenant=exc.tenant)
        return await error_page(request, 403, detail=detail)
    return signed_in(request, session, next_)


@router.post("/auth/signout", include_in_schema=False)
async def sign_out(request: Request) -> Response:
    """End the session; one begun at the company's provider ends there too when the provider
    offers that (RP-Initiated Logout), which then sends the browser back to sign-in."""
    state = web_state(request)
    cookie = session_cookie(state.settings)
    session = await state.sessions.find(request.cookies.get(cookie, ""))
    target = "/auth/signin?signed_out=1"
    if session is not None:
        await state.sessions.end(session.id)
        if session.method == "oidc" and state.oidc is not None:
            after = state.settings.public_url.rstrip("/") + target
            target = await state.oidc.end_session_url(session.id_token, after=after) or target
    response = RedirectResponse(target, status_code=303)
    # With the attributes it was set with: a browser ignores a __Host- cookie without Secure.
    response.delete_cookie(cookie, path="/", secure=state.settings.secure_cookies, httponly=True)
    return response
