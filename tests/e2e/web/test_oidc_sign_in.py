"""Company sign-in in a real browser against a real OpenID provider: Dex (built by ``make
setup``) and a web client of this module's own configured for it, with local sign-in off,
over the services of tests/e2e (docs/architecture.md §18)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Request

from canopy_testing.browser import DESKTOP, assert_page_quality, screenshot
from canopy_testing.http import free_port
from canopy_testing.oidc_provider import PASSWORD, OpenIdProvider, ProviderPerson, dex
from canopy_testing.system import RunningSystem, SystemClient

pytestmark = pytest.mark.e2e

DOMAIN = "acme.example"
NADIA = ProviderPerson(f"nadia.sso@{DOMAIN}", "Nadia SSO", "nadia.sso", "0b6c3a1e-nadia")
# Known to the provider, never provisioned in Canopy.
STRANGER = ProviderPerson(f"stranger@{DOMAIN}", "Stranger", "stranger", "0b6c3a1e-stranger")
_STOP_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def sso_tenant() -> str:
    """The tenant the company web client signs people in to (one web client, one company)."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def sso_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def provider(sso_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    with dex(
        tmp_path_factory.mktemp("dex"),
        client_id="canopy-web",
        client_secret=uuid.uuid4().hex,
        redirect_uris=[f"http://127.0.0.1:{sso_port}/auth/callback"],
        people=[NADIA, STRANGER],
    ) as running:
        yield running


@pytest.fixture(scope="module")
def sso_web(
    system: RunningSystem,
    provider: OpenIdProvider,
    sso_port: int,
    sso_tenant: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A second web client (``python -m canopy_web``) with company sign-in only; its URL."""
    url = f"http://127.0.0.1:{sso_port}"
    env = os.environ | {
        "CANOPY_WEB_PORT": str(sso_port),
        "CANOPY_WEB_PUBLIC_URL": url,
        "CANOPY_WEB_TENANT": sso_tenant,
        "CANOPY_WEB_DEV_SIGN_IN": "false",
        "CANOPY_WEB_OIDC_ISSUER": provider.issuer,
        "CANOPY_WEB_OIDC_CLIENT_ID": provider.client_id,
        "CANOPY_WEB_OIDC_CLIENT_SECRET": provider.client_secret,
        "CANOPY_WEB_OIDC_EMAIL_DOMAINS": DOMAIN,
        "CANOPY_LOG_JSON": "false",
        **{f"CANOPY_WEB_{s.upper()}_URL": system.url(s) for s in ("ingestion", "fanout")},
        **{f"CANOPY_WEB_{s.upper()}_URL": system.url(s) for s in ("notify", "analytics")},
    }
    log_path = tmp_path_factory.mktemp("sso-web") / "web.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "canopy_web"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_healthy(process, url, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"web exited {process.returncode}: {log_path.read_text()}")
            try:
                if http.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise AssertionError(f"web did not start: {log_path.read_text()[-2000:]}")


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _sign_in_at_provider(page: Page, provider: OpenIdProvider, email: str) -> None:
    """On Dex's login page: e-mail and password, submit."""
    await page.wait_for_url(f"{provider.issuer}/**")
    await page.fill('input[name="login"]', email)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')


async def test_people_sign_in_with_their_company_account_and_sign_out(
    canopy: SystemClient,
    fresh_page: Page,
    provider: OpenIdProvider,
    sso_web: str,
    sso_tenant: str,
) -> None:
    await canopy.provision(sso_tenant, "nadia.sso")
    page = fresh_page
    authorizations: list[str] = []

    def seen(request: Request) -> None:
        if request.url.startswith(f"{provider.issuer}/auth?"):
            authorizations.append(request.url)

    page.on("request", seen)
    await page.goto(f"{sso_web}/")
    assert page.url.startswith(f"{sso_web}/auth/signin")
    sso = page.get_by_role("link", name="Sign in with your company account")
    assert await sso.is_visible()
    assert await page.locator("#user").count() == 0  # no local sign-in here
    await assert_page_quality(page)
    await screenshot(page, "signin-sso")

    await sso.click()
    await _sign_in_at_provider(page, provider, NADIA.email)
    await page.wait_for_url(f"{sso_web}/")
    assert await page.locator(".who").inner_text() == "Signed in as Nadia.Sso"
    # PKCE (RFC 7636) with S256, and the state and nonce the callback checks.
    query = parse_qs(urlsplit(authorizations[0]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert query["state"][0]
    assert query["nonce"][0]
    assert query["redirect_uri"] == [f"{sso_web}/auth/callback"]
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["canopy_session"]["httpOnly"]
    assert "canopy_oidc" not in cookies  # the sign-in under way is over

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{sso_web}/auth/signin?signed_out=1")
    await page.goto(f"{sso_web}/")
    assert page.url.startswith(f"{sso_web}/auth/signin")

    dev = await page.goto(f"{sso_web}/auth/dev?user=nadia.sso&tenant={sso_tenant}")
    assert dev is not None
    assert dev.status == 403


async def test_a_person_the_provider_knows_but_canopy_does_not_is_refused(
    canopy: SystemClient,
    fresh_page: Page,
    provider: OpenIdProvider,
    sso_web: str,
    sso_tenant: str,
) -> None:
    page = fresh_page
    await page.goto(f"{sso_web}/auth/login")
    await _sign_in_at_provider(page, provider, STRANGER.email)
    await page.wait_for_url(f"{sso_web}/auth/callback?**")
    alert = page.get_by_role("alert").filter(has_text="Sign-in failed")
    await alert.wait_for()
    assert await alert.inner_text() == (
        f"Sign-in failed: stranger is not an active person of {sso_tenant}."
    )
    assert await page.get_by_role("link", name="Sign in with your company account").is_visible()
    await assert_page_quality(page)
    # Nor did it leave a session behind.
    await page.goto(f"{sso_web}/")
    assert page.url.startswith(f"{sso_web}/auth/signin")


async def test_a_callback_with_a_wrong_state_or_from_another_browser_is_refused(
    provider: OpenIdProvider, sso_web: str
) -> None:
    async with httpx.AsyncClient(base_url=sso_web) as http:
        login = await http.get("/auth/login")
        assert login.status_code == 303
        assert login.headers["location"].startswith(f"{provider.issuer}/auth?")
        assert "canopy_oidc" in http.cookies
        wrong = await http.get("/auth/callback", params={"code": "abc", "state": "forged"})
        assert wrong.status_code == 400
        assert "Sign-in failed: the sign-in took too long" in wrong.text
        assert "Traceback" not in wrong.text
        # The flow was used up by the refused callback: its real state no longer works either.
        state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
        again = await http.get("/auth/callback", params={"code": "abc", "state": state})
        assert again.status_code == 400
    async with httpx.AsyncClient(base_url=sso_web) as elsewhere:  # no flow cookie at all
        stray = await elsewhere.get("/auth/callback", params={"code": "abc", "state": state})
        assert stray.status_code == 400
        denied_login = await elsewhere.get("/auth/login")
        denied_state = parse_qs(urlsplit(denied_login.headers["location"]).query)["state"][0]
        denied = await elsewhere.get(
            "/auth/callback",
            params={"error": "access_denied", "error_description": "no", "state": denied_state},
        )
        assert denied.status_code == 403
        assert "Sign-in failed: your company&#39;s sign-in service said: no" in denied.text
