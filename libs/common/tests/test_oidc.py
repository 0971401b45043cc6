"""RS256/ES256 tokens verified with keys found through OpenID Connect Discovery, against a real
HTTP identity provider started by the test (a thread serving the OpenID configuration and a
JWKS of keys generated here), and the token size limit over a real HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from canopy_common.auth import CurrentPrincipal, install_auth
from canopy_common.problems import install_error_handlers
from canopy_common.settings import AuthSettings
from canopy_testing.http import free_port, serve

AUDIENCE = "canopy-api"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class IdentityProvider:
    """An OpenID provider's two documents over real HTTP: its configuration and its JWKS."""

    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.keys: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.jwks_path = "/keys/v1.json"
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {
                        "issuer": provider.issuer,
                        "jwks_uri": provider.issuer + provider.jwks_path,
                    }
                elif self.path == provider.jwks_path:
                    body = {"keys": provider.keys}
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, key: PrivateKey, algorithm: str, kid: str) -> None:
        if isinstance(key, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.keys.append(jwk | {"kid": kid, "alg": algorithm, "use": "sig"})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    if provider.thread.is_alive():
        provider.stop()


def settings(idp: IdentityProvider, algorithm: str, **more: Any) -> AuthSettings:
    return AuthSettings(issuer=idp.issuer, audience=AUDIENCE, **({"algorithm": algorithm} | more))


def token(idp: IdentityProvider, key: PrivateKey, algorithm: str, kid: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": idp.issuer, "aud": AUDIENCE, "sub": "alice", "tenant": "acme", "iat": now}
    return jwt.encode(
        body | {"exp": now + 600} | claims, key, algorithm=algorithm, headers={"kid": kid}
    )


def app_for(auth: AuthSettings) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_auth(app, auth)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"user": principal.user_id, "tenant": principal.tenant_id}

    return app


async def get_me(client: httpx.AsyncClient, bearer: str) -> httpx.Response:
    return await client.get("/me", headers={"Authorization": f"Bearer {bearer}"})


def assert_problem(response: httpx.Response, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == detail


ASYMMETRIC = [
    pytest.param("RS256", lambda: rsa.generate_private_key(65537, 2048), id="RS256"),
    pytest.param("ES256", lambda: ec.generate_private_key(ec.SECP256R1()), id="ES256"),
]


@pytest.mark.parametrize(("algorithm", "new_key"), ASYMMETRIC)
async def test_keys_found_through_the_issuers_discovery_verify_its_tokens(
    idp: IdentityProvider, algorithm: str, new_key: Any
) -> None:
    key = new_key()
    idp.publish(key, algorithm, "k1")

    async with serve(app_for(settings(idp, algorithm))) as client:
        first = await get_me(client, token(idp, key, algorithm, "k1"))
        second = await get_me(client, token(idp, key, algorithm, "k1", sub="bob"))

    assert first.status_code == 200, first.text
    assert first.json() == {"user": "alice", "tenant": "acme"}
    assert second.json() == {"user": "bob", "tenant": "acme"}
    assert idp.requests == ["/.well-known/openid-configuration", "/keys/v1.json"], "cached"


async def test_an_explicit_discovery_url_is_used(idp: IdentityProvider) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    idp.publish(key, "ES256", "k1")
    auth = AuthSettings(
        issuer=idp.issuer,
        audience=AUDIENCE,
        algorithm="ES256",
        discovery_url=f"{idp.issuer}/.well-known/openid-configuration",
    )

    async with serve(app_for(auth)) as client:
        response = await get_me(client, token(idp, key, "ES256", "k1"))

    assert response.status_code == 200, response.text


async def test_tampered_tokens_and_unknown_key_ids_are_401(idp: IdentityProvider) -> None:
    key = rsa.generate_private_key(65537, 2048)
    idp.publish(key, "RS256", "k1")
    good = token(idp, key, "RS256", "k1")
    header, _body, signature = good.split(".")
    forged_body = jwt.utils.base64url_encode(
        json.dumps(
            jwt.decode(good, options={"verify_signature": False}) | {"tenant": "evil"}
        ).encode()
    ).decode()

    async with serve(app_for(settings(idp, "RS256"))) as client:
        tampered = await get_me(client, f"{header}.{forged_body}.{signature}")
        unknown = await get_me(
            client, token(idp, rsa.generate_private_key(65537, 2048), "RS256", "k9")
        )
        other_key = await get_me(
            client, token(idp, rsa.generate_private_key(65537, 2048), "RS256", "k1")
        )

    assert_problem(tampered, 401, "signature verification failed")
    assert_problem(unknown, 401, "unknown signing key")
    assert_problem(other_key, 401, "signature verification failed")


async def test_a_rotated_key_is_picked_up(idp: IdentityProvider) -> None:
    old, new = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    idp.publish(old, "RS256", "2026-11")

    async with serve(app_for(settings(idp, "RS256", jwks_refresh_cooldown_s=0))) as client:
        before = await get_me(client, token(idp, old, "RS256", "2026-11"))
        idp.keys = []
        idp.publish(new, "RS256", "2026-12")  # the provider rotates
        after = await get_me(client, token(idp, new, "RS256", "2026-12"))

    assert before.status_code == 200, before.text
    assert after.status_code == 200, after.text
    assert idp.requests.count("/keys/v1.json") == 2


async def test_identity_provider_down_is_503_with_retry_after(idp: IdentityProvider) -> None:
    key = rsa.generate_private_key(65537, 2048)
    idp.publish(key, "RS256", "k1")
    idp.stop()

    async with serve(app_for(settings(idp, "RS256"))) as client:
        response = await get_me(client, token(idp, key, "RS256", "k1"))

    assert_problem(response, 503, "signing keys unavailable")
    assert int(response.headers["retry-after"]) > 0


async def test_a_configuration_naming_another_issuer_is_503_not_trusted(
    idp: IdentityProvider,
) -> None:
    key = rsa.generate_private_key(65537, 2048)
    idp.publish(key, "RS256", "k1")
    auth = AuthSettings(
        issuer="https://elsewhere.example",
        audience=AUDIENCE,
        algorithm="RS256",
        discovery_url=f"{idp.issuer}/.well-known/openid-configuration",
    )

    async with serve(app_for(auth)) as client:
        response = await get_me(
            client, token(idp, key, "RS256", "k1", iss="https://elsewhere.example")
        )

    assert_problem(response, 503, "signing keys unavailable")
    assert idp.requests == ["/.well-known/openid-configuration"]


def test_a_huge_bearer_token_gets_401_problem_json_over_real_http(idp: IdentityProvider) -> None:
    # Through uvicorn as the services run it (httptools, no header size limit of its own): the
    # token reaches the verifier, which refuses it before parsing it.
    app = app_for(settings(idp, "RS256"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        responses = {}
        for size in (8 * 1024 + 1, 1024 * 1024):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/me", headers={"Authorization": "Bearer " + "a" * size}
            )
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as exc:
                responses[size] = (exc.code, exc.headers["content-type"], json.loads(exc.read()))
    finally:
        server.should_exit = True
        thread.join()

    for code, content_type, problem in responses.values():
        assert (code, content_type) == (401, "application/problem+json")
        assert problem["detail"] == "token longer than 8192 bytes"
    assert len(responses) == 2
    assert idp.requests == [], "refused before any key lookup"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({"CANOPY_JWT_ALGORITHM": "HS256"}, "CANOPY_JWT_ALGORITHM=HS256", id="hs256"),
        pytest.param(
            {"CANOPY_JWT_ALGORITHM": "RS256", "CANOPY_JWT_SECRET": "s" * 40},
            "CANOPY_JWT_SECRET must not be set",
            id="secret",
        ),
        pytest.param(
            {"CANOPY_JWT_ALGORITHM": "RS256", "CANOPY_JWT_ISSUER": "http://idp.example"},
            "CANOPY_JWT_DISCOVERY_URL must be https",
            id="plain-http-discovery",
        ),
    ],
)
def test_production_refuses_to_start_with_symmetric_or_unsafe_keys(
    env: dict[str, str], named: str
) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "CANOPY_ENV": "production",
        "CANOPY_JWT_ISSUER": "https://idp.example",
        "CANOPY_INGESTION_PORT": str(free_port()),
    } | env

    started = subprocess.run(
        [sys.executable, "-m", "canopy_ingestion", "api"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert started.returncode == 2  # refused, not crashed
    assert named in started.stderr
    assert "Traceback" not in started.stderr


def test_production_accepts_keys_from_its_identity_provider() -> None:
    auth = AuthSettings(issuer="https://idp.example", audience=AUDIENCE, algorithm="ES256")

    assert auth.production_errors() == []
    assert auth.discovery_endpoint == "https://idp.example/.well-known/openid-configuration"
