"""Signing in through the company's OpenID provider: ``/auth/login`` sends the browser there,
``/auth/callback`` signs the person in when the provider vouches for them (the protocol is in
:mod:`canopy_web.oidc`; docs/architecture.md §18)."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_web.deps import csrf_protected, web_state
from canopy_web.errors import error_page
from canopy_web.oidc import FLOW_TTL_S, Flow, OpenIdClient, ProviderDown, SignInRefused
from canopy_web.pages.auth import sign_in_failed, signed_in
from canopy_web.people import NotAPerson
from canopy_web.rendering import local_path
from canopy_web.settings import Settings
from canopy_web.strings import t

log = structlog.get_logger(__name__)
router = APIRouter(dependencies=[Depends(csrf_protected)])

# The provider's answers are short codes and random strings; anything longer is not one.
Param = Annotated[str | None, Query(max_length=4096)]
# How long the browser waits before asking again when the provider does not answer.
_RETRY_AFTER_S = "30"


def flow_cookie(settings: Settings) -> str:
    """The cookie naming this browser's sign-in under way (``__Host-`` over https)."""
    return "__Host-canopy_oidc" if settings.secure_cookies else "canopy_oidc"


def _client(request: Request) -> OpenIdClient | None:
    return web_state(request).oidc


async def _provider_down(request: Request, exc: ProviderDown) -> Response:
    log.warning("openid provider unavailable", error=str(exc))
    return await error_page(
        request, 503, detail=t("signin.provider_down"), headers={"Retry-After": _RETRY_AFTER_S}
    )


@router.get("/auth/login", include_in_schema=False)
async def login(
    request: Request,
    next_: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    """Send the browser to the provider with a fresh state, nonce and PKCE challenge."""
    client = _client(request)
    if client is None:
        return await error_page(request, 404)
    try:
        flow_id, url = await client.start(local_path(next_))
    except ProviderDown as exc:
        return await _provider_down(request, exc)
    settings = web_state(request).settings
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        flow_cookie(settings),
        flow_id,
        max_age=FLOW_TTL_S,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",  # sent on the provider's top-level redirect back to us
    )
    return response


@router.get("/auth/callback", include_in_schema=False)
async def callback(
    request: Request,
    code: Param = None,
    state: Param = None,
    error: Param = None,
    error_description: Param = None,
) -> Response:
    """The provider's answer: sign the person in, or a sign-in page saying what failed."""
    client = _client(request)
    if client is None:
        return await error_page(request, 404)
    settings = web_state(request).settings
    flow = await client.take_flow(request.cookies.get(flow_cookie(settings), ""))
    response = await _answer(
        request,
        client,
        flow,
        code=code,
        state=state,
        error=error,
        error_description=error_description,
    )
    # With the attributes it was set with: a browser ignores a __Host- cookie without Secure.
    response.delete_cookie(
        flow_cookie(settings), path="/", secure=settings.secure_cookies, httponly=True
    )
    return response


async def _answer(
    request: Request,
    client: OpenIdClient,
    flow: Flow | None,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    error_description: str | None,
) -> Response:
    if flow is None or not client.state_matches(flow, state):
        return await sign_in_failed(request, t("signin.oidc_state"), status=400)
    if error:
        reason = t("signin.oidc_denied", error=error_description or error)
        return await sign_in_failed(request, reason, status=403, next_=flow.next)
    if not code:
        return await sign_in_failed(request, t("signin.oidc_invalid"), status=400)
    try:
        identity = await client.finish(flow, code)
    except ProviderDown as exc:
        return await _provider_down(request, exc)
    except SignInRefused as exc:
        return await sign_in_failed(request, exc.reason, status=403, next_=flow.next)
    state_ = web_state(request)
    try:
        session = await state_.people.sign_in(
            identity.user_id, tenant=identity.tenant, method="oidc", id_token=identity.id_token
        )
    except NotAPerson as exc:
        reason = t("signin.not_a_person", user=exc.user_id, tenant=exc.tenant)
        return await sign_in_failed(request, reason, status=403, next_=flow.next)
    return signed_in(request, session, flow.next)
