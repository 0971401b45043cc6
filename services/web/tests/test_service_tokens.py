"""Production tokens: the web client signs the services' tokens ES256 with its own key and
publishes the public half, so canopy_common's verifier, configured with nothing but the web
client's URL as issuer, finds the key over real HTTP and accepts them — and nothing else."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI

from canopy_common.auth import TokenVerifier
from canopy_common.errors import Unauthorized
from canopy_common.principal import Role
from canopy_common.settings import AuthSettings
from canopy_testing.http import free_port
from canopy_testing.polling import eventually
from canopy_web.app import create_app
from canopy_web.deps import WebState
from canopy_web.settings import Settings
from canopy_web.tokens import SigningKeyError, load_signing_key

pytestmark = pytest.mark.integration


def write_key(path: Path, curve: ec.EllipticCurve) -> Path:
    key = ec.generate_private_key(curve)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@asynccontextmanager
async def served_at(app: FastAPI, port: int) -> AsyncIterator[None]:
    """``app`` served by uvicorn on ``port`` (its public URL names that port)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _started(server), what="the web client served")
        yield
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


async def test_tokens_the_web_client_signs_are_verified_through_its_discovery(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        port=port, public_url=url, signing_key_file=write_key(tmp_path / "web.pem", ec.SECP256R1())
    )
    app = create_app(settings)
    async with served_at(app, port):
        async with httpx.AsyncClient(base_url=url) as http:
            configuration = (await http.get("/.well-known/openid-configuration")).json()
            assert configuration["issuer"] == url
            assert configuration["jwks_uri"] == f"{url}/.well-known/jwks.json"
            keys = (await http.get("/.well-known/jwks.json")).json()["keys"]
            assert [(k["kty"], k["crv"], k["alg"]) for k in keys] == [("EC", "P-256", "ES256")]
            assert "d" not in keys[0]  # the public half only
        state: WebState = app.state.web
        token, _ = state.people.minter.mint(tenant="acme", user="nadia", roles=["member"])
        # The services' settings: ES256, the web client's URL as issuer (discovery from it).
        verifier = TokenVerifier(AuthSettings(algorithm="ES256", issuer=url, secret="x" * 32))
        principal = await asyncio.to_thread(verifier.verify, token)
        assert (principal.user_id, principal.tenant_id) == ("nadia", "acme")
        assert principal.roles == frozenset({Role.MEMBER})
        head, body, signature = token.split(".")
        forged = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
        with pytest.raises(Unauthorized, match="signature verification failed"):
            await asyncio.to_thread(verifier.verify, forged)


def test_a_signing_key_must_be_an_ec_p256_private_key(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="not an EC P-256 key"):
        load_signing_key(write_key(tmp_path / "p384.pem", ec.SECP384R1()))
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(SigningKeyError, match="not a readable unencrypted PEM"):
        load_signing_key(tmp_path / "junk.pem")
    first = load_signing_key(write_key(tmp_path / "a.pem", ec.SECP256R1()))
    assert first.kid == load_signing_key(tmp_path / "a.pem").kid  # stable: the key's thumbprint


def test_in_production_the_web_client_refuses_to_start_with_local_sign_in(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CANOPY_ENV": "production", "CANOPY_WEB_PUBLIC_URL": "http://x"}
    started = subprocess.run(
        [sys.executable, "-m", "canopy_web"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 2
    assert "settings refused in production" in started.stderr
    assert "CANOPY_WEB_DEV_SIGN_IN must be false when CANOPY_ENV=production" in started.stderr
    assert "CANOPY_WEB_OIDC_ISSUER" in started.stderr
    assert "CANOPY_WEB_SIGNING_KEY_FILE must be set" in started.stderr
