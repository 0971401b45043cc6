"""Bearer-token authentication: the JWT matrix, JWKS keys, roles, the token CLI, settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.exceptions import PyJWKClientConnectionError
from pydantic import ValidationError

from canopy_common.auth import (
    CurrentPrincipal,
    Principal,
    Role,
    TokenVerifier,
    install_auth,
    issue_token,
    main,
    require_roles,
)
from canopy_common.errors import Unauthorized
from canopy_common.problems import install_error_handlers
from canopy_common.settings import AuthSettings, ServiceSettings

# 64 bytes, so HS512 tokens can be signed with it without InsecureKeyLengthWarning.
SECRET = "canopy-test-secret-".ljust(64, "x")
OTHER_SECRET = "another-tenant-secret-".ljust(64, "y")
ISSUER = "https://idp.canopy.test"
AUDIENCE = "canopy-api"
JWKS_URL = "https://idp.canopy.test/.well-known/jwks.json"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@pytest.fixture(autouse=True)
def _clean_log_context() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()


def hs256_settings(**overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "secret": SECRET,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "algorithm": "HS256",
    }
    return AuthSettings(**(values | overrides))


def jwks_settings(algorithm: str) -> AuthSettings:
    return hs256_settings(algorithm=algorithm, jwks_url=JWKS_URL)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "tenant": "acme",
        "roles": ["member"],
        "iat": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def without(claim: str) -> dict[str, Any]:
    body = claims()
    del body[claim]
    return body


def hs256(body: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(body, secret, algorithm=algorithm)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def compact(header: dict[str, Any], body: dict[str, Any]) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}"


def unsigned(body: dict[str, Any]) -> str:
    return compact({"alg": "none", "typ": "JWT"}, body) + "."


def build_app(settings: AuthSettings, **install: Any) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_auth(app, settings, **install)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "user": principal.user_id,
            "tenant": principal.tenant_id,
            "roles": sorted(principal.roles),
            "log_context": structlog.contextvars.get_contextvars(),
        }

    @app.get(
        "/moderation",
        dependencies=[Depends(require_roles(Role.MODERATOR, Role.TENANT_ADMIN))],
    )
    async def moderation() -> dict[str, str]:
        return {"queue": "empty"}

    return app


async def get(app: FastAPI, path: str = "/me", token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://canopy.test") as client:
        return await client.get(path, headers=headers)


async def get_me(app: FastAPI, token: str | None) -> httpx.Response:
    return await get(app, "/me", token)


def assert_problem(response: httpx.Response, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["detail"] == detail


def assert_unauthorized(response: httpx.Response, detail: str) -> None:
    assert_problem(response, 401, detail)
    assert response.headers["www-authenticate"].startswith("Bearer")


# --- HS256 (local) ----------------------------------------------------------------------------


async def test_valid_token_yields_the_principal_and_log_context() -> None:
    token = hs256(claims(roles=["member", "moderator"]))

    response = await get_me(build_app(hs256_settings()), token)

    assert response.status_code == 200
    assert response.json() == {
        "user": "alice",
        "tenant": "acme",
        "roles": ["member", "moderator"],
        "log_context": {"tenant": "acme", "user": "alice"},
    }


async def test_audience_list_containing_ours_is_accepted() -> None:
    token = hs256(claims(aud=["other-api", AUDIENCE]))

    assert (await get_me(build_app(hs256_settings()), token)).status_code == 200


def test_absent_roles_claim_grants_no_role() -> None:
    principal = TokenVerifier(hs256_settings()).verify(hs256(without("roles")))

    assert principal == Principal(user_id="alice", tenant_id="acme", roles=frozenset())


def test_role_names_canopy_does_not_know_are_ignored() -> None:
    # What Entra and Okta send: their own roles and groups beside (or instead of) Canopy's.
    token = hs256(claims(roles=["member", "Directory.Read", "Everyone", "moderator", "root"]))

    principal = TokenVerifier(hs256_settings()).verify(token)

    assert principal.roles == {Role.MEMBER, Role.MODERATOR}


def test_a_token_with_only_unknown_roles_is_valid_and_grants_none() -> None:
    principal = TokenVerifier(hs256_settings()).verify(hs256(claims(roles=["Everyone"])))

    assert (principal.user_id, principal.roles) == ("alice", frozenset())


@pytest.mark.parametrize(
    ("settings", "body"),
    [
        pytest.param(
            {"tenant_claim": "org", "roles_claim": "groups"},
            {"org": "acme", "groups": ["moderator", "Engineering"]},
            id="other-names",
        ),
        pytest.param(
            {"tenant_claim": "canopy.tenant", "roles_claim": "realm_access.roles"},
            {"canopy": {"tenant": "acme"}, "realm_access": {"roles": ["moderator", "uma"]}},
            id="keycloak-nested",
        ),
        pytest.param(
            {
                "tenant_claim": "https://canopy.example/tenant",
                "roles_claim": "https://canopy.example/roles",
            },
            {
                "https://canopy.example/tenant": "acme",
                "https://canopy.example/roles": ["moderator"],
            },
            id="auth0-namespaced-url",
        ),
    ],
)
def test_tenant_and_roles_come_from_the_claims_the_settings_name(
    settings: dict[str, str], body: dict[str, Any]
) -> None:
    token = hs256(claims(tenant=None, roles=None, **body))

    principal = TokenVerifier(hs256_settings(**settings)).verify(token)

    assert principal == Principal(
        user_id="alice", tenant_id="acme", roles=frozenset({Role.MODERATOR})
    )


@pytest.mark.parametrize(
    ("realm_access", "detail"),
    [
        pytest.param("x", "missing tenant claim", id="path-through-a-string"),
        pytest.param({"tenant": "acme", "roles": "member"}, "malformed roles claim", id="string"),
    ],
)
def test_a_dotted_claim_that_is_missing_or_malformed_is_401(realm_access: Any, detail: str) -> None:
    settings = hs256_settings(tenant_claim="realm_access.tenant", roles_claim="realm_access.roles")
    token = hs256(claims(tenant=None, roles=None, realm_access=realm_access))

    with pytest.raises(Unauthorized, match=detail):
        TokenVerifier(settings).verify(token)


def test_a_nested_roles_claim_that_is_absent_grants_no_role() -> None:
    settings = hs256_settings(roles_claim="realm_access.roles")

    principal = TokenVerifier(settings).verify(hs256(claims(roles=None, realm_access={})))

    assert principal.roles == frozenset()


async def test_missing_bearer_header_is_401_without_error_code() -> None:
    response = await get_me(build_app(hs256_settings()), None)

    assert_unauthorized(response, "missing bearer token")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_non_bearer_scheme_counts_as_missing_token() -> None:
    transport = httpx.ASGITransport(app=build_app(hs256_settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://canopy.test") as client:
        response = await client.get("/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})

    assert_unauthorized(response, "missing bearer token")


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        pytest.param(unsigned(claims()), "algorithm not allowed", id="alg-none"),
        pytest.param(
            hs256(claims(), algorithm="HS512"), "algorithm not allowed", id="hs512-right-secret"
        ),
        pytest.param(
            hs256(claims(), OTHER_SECRET), "signature verification failed", id="wrong-key"
        ),
        pytest.param(hs256(claims(aud="someone-else")), "wrong audience", id="wrong-aud"),
        pytest.param(hs256(claims(iss="https://evil.test")), "wrong issuer", id="wrong-iss"),
        pytest.param(
            hs256(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
            "token expired",
            id="expired",
        ),
        pytest.param(
            hs256(claims(nbf=int(time.time()) + 3600)), "token not yet valid", id="not-yet-valid"
        ),
        pytest.param(hs256(without("exp")), "missing exp claim", id="missing-exp"),
        pytest.param(hs256(without("aud")), "missing aud claim", id="missing-aud"),
        pytest.param(hs256(without("iss")), "missing iss claim", id="missing-iss"),
        pytest.param(hs256(without("sub")), "missing sub claim", id="missing-sub"),
        pytest.param(hs256(claims(sub="")), "missing sub claim", id="empty-sub"),
        pytest.param(hs256(claims(sub="ali\u202ece")), "invalid sub claim", id="bidi-in-sub"),
        pytest.param(hs256(without("tenant")), "missing tenant claim", id="missing-tenant"),
        pytest.param(hs256(claims(tenant="")), "missing tenant claim", id="empty-tenant"),
        pytest.param(hs256(claims(tenant=42)), "invalid tenant claim", id="tenant-not-string"),
        pytest.param(hs256(claims(tenant="acme:x")), "invalid tenant claim", id="tenant-colon"),
        pytest.param(hs256(claims(roles="member")), "malformed roles claim", id="roles-string"),
        pytest.param(hs256(claims(roles=[1])), "malformed roles claim", id="roles-not-strings"),
        pytest.param("not-a-jwt", "malformed token", id="garbage"),
        pytest.param("a.b.c", "malformed token", id="garbage-segments"),
    ],
)
async def test_bad_tokens_are_401_problems(token: str, detail: str) -> None:
    response = await get_me(build_app(hs256_settings()), token)

    assert_unauthorized(response, detail)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_expiry_within_leeway_is_accepted() -> None:
    token = hs256(claims(exp=int(time.time()) - 5))

    assert (await get_me(build_app(hs256_settings(leeway_s=30)), token)).status_code == 200
    assert_unauthorized(await get_me(build_app(hs256_settings(leeway_s=0)), token), "token expired")


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(hs256_settings(leeway_s=0))
    expires = int(time.time()) + 1
    token = hs256(claims(exp=expires))
    assert verifier.verify(token).user_id == "alice"
    assert verifier.verify(token).user_id == "alice"  # remembered, not checked again

    time.sleep(max(0.0, expires - time.time()))

    with pytest.raises(Unauthorized, match="token expired"):
        verifier.verify(token)


async def test_rs256_token_is_refused_when_hs256_is_pinned() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), key, algorithm="RS256")

    assert_unauthorized(await get_me(build_app(hs256_settings()), token), "algorithm not allowed")


# --- require_roles ----------------------------------------------------------------------------


async def test_require_roles_refuses_a_caller_without_them() -> None:
    app = build_app(hs256_settings())
    token = hs256(claims(roles=["member", "analyst"]))

    response = await get(app, "/moderation", token)

    assert_problem(response, 403, "requires one of the roles: moderator, tenant_admin")


@pytest.mark.parametrize("role", ["moderator", "tenant_admin"])
async def test_require_roles_admits_any_listed_role(role: str) -> None:
    app = build_app(hs256_settings())
    token = hs256(claims(roles=[role]))

    response = await get(app, "/moderation", token)

    assert response.status_code == 200


async def test_require_roles_still_needs_a_token() -> None:
    response = await get(build_app(hs256_settings()), "/moderation")

    assert_unauthorized(response, "missing bearer token")


def test_require_roles_needs_at_least_one_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_roles()


def test_openapi_documents_the_bearer_scheme() -> None:
    schema = build_app(hs256_settings()).openapi()

    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Canopy JWT",
    }
    assert schema["paths"]["/me"]["get"]["security"] == [{"bearer": []}]


# --- RS256 / ES256 from a JWKS URL ------------------------------------------------------------


def rsa_key() -> PrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey, algorithm: str, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "alg": algorithm, "use": "sig"}


class JwksEndpoint:
    """Stands in for the identity provider's JWKS URL: PyJWKClient.fetch_data, no network."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.down = False

        def fetch_data(client: jwt.PyJWKClient) -> Any:
            assert client.uri == JWKS_URL
            return self.serve()

        monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)

    def serve(self) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise PyJWKClientConnectionError("Fail to fetch data from the url, err: refused")
        return {"keys": self.keys}


@pytest.fixture
def jwks(monkeypatch: pytest.MonkeyPatch) -> JwksEndpoint:
    return JwksEndpoint(monkeypatch)


ASYMMETRIC = [
    pytest.param("RS256", rsa_key, id="RS256"),
    pytest.param("ES256", ec_key, id="ES256"),
]


@pytest.mark.parametrize(("algorithm", "new_key"), ASYMMETRIC)
async def test_token_signed_by_a_published_key_verifies(
    jwks: JwksEndpoint, algorithm: str, new_key: Any
) -> None:
    key = new_key()
    jwks.keys.append(public_jwk(key, algorithm, "k1"))
    app = build_app(jwks_settings(algorithm))
    token = jwt.encode(claims(), key, algorithm=algorithm, headers={"kid": "k1"})

    first, second = await get_me(app, token), await get_me(app, token)

    assert first.status_code == second.status_code == 200
    assert first.json()["tenant"] == "acme"
    assert jwks.fetches == 1, "the key set is cached"


@pytest.mark.parametrize(("algorithm", "new_key"), ASYMMETRIC)
async def test_token_signed_by_another_key_is_refused(
    jwks: JwksEndpoint, algorithm: str, new_key: Any
) -> None:
    jwks.keys.append(public_jwk(new_key(), algorithm, "k1"))
    forged = jwt.encode(claims(), new_key(), algorithm=algorithm, headers={"kid": "k1"})

    response = await get_me(build_app(jwks_settings(algorithm)), forged)

    assert_unauthorized(response, "signature verification failed")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        pytest.param({"kid": "rotated-away"}, "unknown signing key", id="unknown-key-id"),
        pytest.param(None, "missing key id", id="no-key-id"),
    ],
)
async def test_token_naming_no_published_key_is_401(
    jwks: JwksEndpoint, headers: dict[str, str] | None, reason: str
) -> None:
    key = rsa_key()
    jwks.keys.append(public_jwk(key, "RS256", "k1"))
    token = jwt.encode(claims(), key, algorithm="RS256", headers=headers)

    assert_unauthorized(await get_me(build_app(jwks_settings("RS256")), token), reason)


async def test_hs256_token_keyed_with_the_public_key_is_refused_when_rs256_is_pinned(
    jwks: JwksEndpoint,
) -> None:
    # The classic algorithm-confusion attack: HMAC keyed with the published public key.
    key = rsa_key()
    jwks.keys.append(public_jwk(key, "RS256", "k1"))
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = compact({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims())
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(mac)}"

    response = await get_me(build_app(jwks_settings("RS256")), token)

    assert_unauthorized(response, "algorithm not allowed")
    assert jwks.fetches == 0


async def test_es256_token_is_refused_when_rs256_is_pinned(jwks: JwksEndpoint) -> None:
    key = ec_key()
    jwks.keys.append(public_jwk(key, "ES256", "k1"))
    token = jwt.encode(claims(), key, algorithm="ES256", headers={"kid": "k1"})

    assert_unauthorized(
        await get_me(build_app(jwks_settings("RS256")), token), "algorithm not allowed"
    )


async def test_unreachable_jwks_is_503_not_401(jwks: JwksEndpoint) -> None:
    jwks.down = True
    token = jwt.encode(claims(), rsa_key(), algorithm="RS256", headers={"kid": "k1"})

    response = await get_me(build_app(jwks_settings("RS256")), token)

    assert_problem(response, 503, "signing keys unavailable")
    assert "retry-after" in response.headers


async def test_empty_key_set_is_503_not_401(jwks: JwksEndpoint) -> None:
    token = jwt.encode(claims(), rsa_key(), algorithm="RS256", headers={"kid": "k1"})

    response = await get_me(build_app(jwks_settings("RS256")), token)

    assert_problem(response, 503, "signing keys unavailable")


def test_a_custom_jwk_client_can_be_injected() -> None:
    key = rsa_key()

    class StaticJwks(jwt.PyJWKClient):
        def fetch_data(self) -> Any:
            return {"keys": [public_jwk(key, "RS256", "k1")]}

    verifier = TokenVerifier(jwks_settings("RS256"), jwk_client=StaticJwks(JWKS_URL))
    token = jwt.encode(claims(sub="bob"), key, algorithm="RS256", headers={"kid": "k1"})

    assert verifier.verify(token).user_id == "bob"


# --- issue_token and the CLI ------------------------------------------------------------------


def test_issued_token_round_trips_through_the_verifier() -> None:
    settings = hs256_settings()
    token = issue_token(settings, tenant="acme", user="alice", roles=[Role.MEMBER, "moderator"])

    principal = TokenVerifier(settings).verify(token)

    assert principal == Principal(
        user_id="alice", tenant_id="acme", roles=frozenset({Role.MEMBER, Role.MODERATOR})
    )
    assert principal.has_role(Role.MODERATOR, Role.ANALYST)
    assert not principal.has_role(Role.TENANT_ADMIN)


def test_issued_token_uses_the_configured_claim_names() -> None:
    settings = hs256_settings(tenant_claim="org.tenant", roles_claim="realm_access.roles")
    token = issue_token(settings, tenant="acme", user="alice", roles=["moderator"])

    principal = TokenVerifier(settings).verify(token)

    assert principal == Principal(
        user_id="alice", tenant_id="acme", roles=frozenset({Role.MODERATOR})
    )


def test_issued_token_expires_after_its_ttl() -> None:
    settings = hs256_settings()
    token = issue_token(settings, tenant="acme", user="alice", roles=[], ttl_s=90)

    body = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)

    assert body["exp"] - body["iat"] == 90


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tenant": "ac me"}, "invalid tenant id"),
        ({"user": ""}, "invalid user id"),
        ({"roles": ["root"]}, "root"),
        ({"ttl_s": 0}, "at least 1 second"),
    ],
)
def test_issue_token_refuses_what_the_verifier_would_reject(
    kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"tenant": "acme", "user": "alice", "roles": ["member"]} | kwargs

    with pytest.raises(ValueError, match=message):
        issue_token(hs256_settings(), **args)


def test_issue_token_is_hs256_only() -> None:
    with pytest.raises(ValueError, match="HS256 only"):
        issue_token(jwks_settings("RS256"), tenant="acme", user="alice", roles=["member"])


def test_a_verifier_never_verifies_with_an_unallowed_algorithm() -> None:
    settings = AuthSettings.model_construct(
        **(hs256_settings().model_dump() | {"algorithm": "none"})
    )

    with pytest.raises(ValueError, match="not allowed"):
        TokenVerifier(settings)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANOPY_JWT_SECRET", SECRET)
    monkeypatch.setenv("CANOPY_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("CANOPY_JWT_AUDIENCE", AUDIENCE)
    monkeypatch.delenv("CANOPY_JWT_ALGORITHM", raising=False)


@pytest.mark.usefixtures("cli_env")
def test_token_cli_prints_a_token_that_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["token", "--tenant", "acme", "--user", "alice", "--roles", "member,moderator"])

    out = capsys.readouterr().out
    assert code == 0
    assert out.count("\n") == 1, "only the token, so TOKEN=$(make token) works"
    principal = TokenVerifier(hs256_settings()).verify(out.strip())
    assert principal.tenant_id == "acme"
    assert principal.user_id == "alice"
    assert principal.roles == {Role.MEMBER, Role.MODERATOR}


@pytest.mark.usefixtures("cli_env")
def test_token_cli_rejects_unknown_roles(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "--tenant", "acme", "--user", "alice", "--roles", "member,root"])

    assert exit_info.value.code == 2
    assert "unknown role" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_env")
def test_token_cli_refuses_non_hs256_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CANOPY_JWT_ALGORITHM", "RS256")
    monkeypatch.setenv("CANOPY_JWT_JWKS_URL", JWKS_URL)

    assert main(["token", "--tenant", "acme", "--user", "alice"]) == 2
    assert "HS256 only" in capsys.readouterr().err


# --- settings ---------------------------------------------------------------------------------


def test_production_refuses_hs256_even_with_the_default_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CANOPY_ENV", "production")
    monkeypatch.delenv("CANOPY_JWT_SECRET", raising=False)
    monkeypatch.delenv("CANOPY_JWT_ALGORITHM", raising=False)

    with pytest.raises(ValidationError, match="CANOPY_JWT_ALGORITHM=HS256 is refused"):
        ServiceSettings()


def test_production_refuses_its_own_secret_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANOPY_ENV", "production")
    monkeypatch.setenv("CANOPY_JWT_SECRET", SECRET)
    monkeypatch.delenv("CANOPY_JWT_ALGORITHM", raising=False)

    with pytest.raises(ValidationError, match="CANOPY_JWT_SECRET must not be set"):
        ServiceSettings()


def test_production_runs_with_keys_from_the_identity_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CANOPY_ENV", "production")
    monkeypatch.delenv("CANOPY_JWT_SECRET", raising=False)
    monkeypatch.setenv("CANOPY_JWT_ALGORITHM", "RS256")
    monkeypatch.setenv("CANOPY_JWT_ISSUER", ISSUER)

    assert ServiceSettings().auth.discovery_endpoint == f"{ISSUER}/.well-known/openid-configuration"


def test_secrets_shorter_than_32_bytes_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        hs256_settings(secret="x" * 31)
