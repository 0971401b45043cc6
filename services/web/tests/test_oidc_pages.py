"""Company sign-in's failures as pages, and sign-out at a provider that offers it; no servers
(the provider is a closed port, or an in-memory transport for the one configuration read)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import redis.asyncio as aioredis
from pydantic import SecretStr

from canopy_testing.http import free_port, serve
from canopy_web.app import create_app
from canopy_web.oidc import OpenIdClient
from canopy_web.settings import Settings

ISSUER = "https://login.acme.example"


def oidc_settings(issuer: str) -> Settings:
    return Settings(
        dev_sign_in=False,
        oidc_issuer=issuer,
        oidc_client_id="canopy",
        oidc_client_secret=SecretStr("s3cret"),
    )


async def test_a_provider_that_does_not_answer_is_a_503_page_not_a_stack_trace() -> None:
    app = create_app(oidc_settings(f"http://127.0.0.1:{free_port()}/dex"))
    async with serve(app) as web:
        signin = await web.get("/auth/signin")
        assert 'href="/auth/login?next=/"' in signin.text
        assert 'action="/auth/dev"' not in signin.text
        down = await web.get("/auth/login")
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "30"
        assert "Your company&#39;s sign-in service is not answering just now." in down.text
        assert "Traceback" not in down.text


async def test_a_callback_without_a_sign_in_under_way_is_refused_on_the_sign_in_page() -> None:
    app = create_app(oidc_settings(ISSUER))
    async with serve(app) as web:
        stray = await web.get("/auth/callback", params={"code": "c", "state": "s"})
        assert stray.status_code == 400
        assert 'role="alert">Sign-in failed: the sign-in took too long' in stray.text
        assert (await web.get("/.well-known/jwks.json")).status_code == 404  # no signing key


async def test_sign_out_ends_the_providers_session_when_it_offers_that() -> None:
    configuration = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/keys",
        "end_session_endpoint": f"{ISSUER}/logout?tenant=acme",
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=configuration))
    async with httpx.AsyncClient(transport=transport) as http:
        client = OpenIdClient(
            oidc_settings(ISSUER), http=http, redis=aioredis.Redis.from_url("redis://unused")
        )
        url = await client.end_session_url("the.id.token", after="https://canopy/x")
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/logout"
    assert parse_qs(parts.query) == {
        "tenant": ["acme"],
        "client_id": ["canopy"],
        "post_logout_redirect_uri": ["https://canopy/x"],
        "id_token_hint": ["the.id.token"],
    }
