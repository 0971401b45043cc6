"""Sign-in through the company's OpenID provider (OpenID Connect Core 1.0, authorization code
flow with PKCE, RFC 7636; docs/architecture.md §18).

``/auth/login`` keeps a :class:`Flow` (state, nonce, PKCE verifier, the page wanted) in Redis
for :data:`FLOW_TTL_S`, under a random id the browser holds in a short-lived HttpOnly cookie,
and sends the browser to the provider. ``/auth/callback`` takes the flow back once (a replayed
callback finds nothing), checks ``state``, exchanges the code with the verifier and the client
secret, and verifies the ID token: signature by the provider's published keys, ``iss``, ``aud``
(and ``azp``), ``exp``/``iat`` and ``nonce``. Which Canopy person the token names is decided by
:func:`person_of`, pure.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt
import orjson
import redis.asyncio as aioredis
import structlog
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]

from canopy_common.auth import claim_at
from canopy_common.principal import TENANT_ID_PATTERN
from canopy_web.settings import Settings
from canopy_web.strings import t

log = structlog.get_logger(__name__)

# Long enough to type a password and answer a second factor; a flow is used once.
FLOW_TTL_S = 600
_FLOW_PREFIX = "web:oidc:flow:"
_FLOW_ID_BYTES = 32
# PKCE verifier: RFC 7636 §4.1 allows 43-128 characters; 64 from the unreserved set.
_VERIFIER_LENGTH = 64
# The provider's configuration rarely changes; its keys are fetched again when a token names
# one we do not hold (rotation), at most once per callback.
_DISCOVERY_CACHE_S = 3600.0
_JWKS_CACHE_S = 300.0
# Clock skew tolerated on exp/iat between us and the provider.
_LEEWAY_S = 60
# Asymmetric algorithms only: never "none", never an HMAC keyed with the client secret.
_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_TENANT_ID = re.compile(TENANT_ID_PATTERN)
_PERSON_ID = re.compile(r"^[^\s/]{1,255}$")


class ProviderDown(Exception):
    """The provider did not answer, or answered with something that is not a provider."""


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Provider:
    """What sign-in needs from the provider's OpenID configuration (Discovery 1.0 §3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]
    basic_auth: bool


@dataclass(frozen=True, slots=True)
class Flow:
    """One sign-in under way, kept on the server between login and callback."""

    state: str
    nonce: str
    verifier: str
    next: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider vouched for, as Canopy names them."""

    user_id: str
    tenant: str
    id_token: str


def provider_of(configuration: Any, issuer: str) -> Provider:
    """The provider described by ``configuration``; raises :class:`ProviderDown` when it is
    not one for ``issuer`` (Discovery §4.3: the issuer must be exactly the configured one)."""
    if not isinstance(configuration, dict) or configuration.get("issuer") != issuer:
        raise ProviderDown(f"the OpenID configuration is not for issuer {issuer}")
    urls = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = configuration.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise ProviderDown(f"the OpenID configuration has no {name}")
        urls[name] = value
    end_session = configuration.get("end_session_endpoint")
    offered = configuration.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in offered if isinstance(a, str) and a in _ALGORITHMS)
    methods = configuration.get("token_endpoint_auth_methods_supported") or [
        "client_secret_basic"  # the default, RFC 8414 §2
    ]
    return Provider(
        issuer=issuer,
        authorization_endpoint=urls["authorization_endpoint"],
        token_endpoint=urls["token_endpoint"],
        jwks_uri=urls["jwks_uri"],
        end_session_endpoint=end_session if isinstance(end_session, str) else None,
        algorithms=algorithms or ("RS256",),
        basic_auth="client_secret_basic" in methods or "client_secret_post" not in methods,
    )


def person_of(
    claims: dict[str, Any],
    *,
    user_claim: str,
    email_domains: list[str],
    tenant_claim: str,
    default_tenant: str,
) -> tuple[str, str]:
    """The Canopy person (id, tenant) verified ``claims`` name; raises :class:`SignInRefused`.

    The person is the ``user_claim``'s value. With ``email_domains``, an address of one of them
    names the person by its lower-cased local part (``Nadia.Example@acme.example`` is
    ``nadia.example``), and an address of any other domain is refused: a guest account of the
    provider must not pass for the employee of the same name. An e-mail the provider says is
    unverified is refused. The tenant is ``tenant_claim``'s value, else ``default_tenant``."""
    value = claim_at(claims, user_claim)
    if not isinstance(value, str) or not value.strip():
        raise SignInRefused(t("signin.oidc_no_claim", claim=user_claim))
    if "@" in value and claims.get("email") == value and claims.get("email_verified") is False:
        raise SignInRefused(t("signin.oidc_unverified", email=value))
    user_id = value
    if email_domains and "@" in value:
        local, _, domain = value.lower().rpartition("@")
        if domain not in email_domains:
            raise SignInRefused(t("signin.oidc_other_domain", email=value))
        user_id = local
    if not _PERSON_ID.fullmatch(user_id):
        raise SignInRefused(t("signin.oidc_no_claim", claim=user_claim))
    tenant = default_tenant
    if tenant_claim:
        claimed = claim_at(claims, tenant_claim)
        if not isinstance(claimed, str) or not _TENANT_ID.fullmatch(claimed):
            raise SignInRefused(t("signin.oidc_no_claim", claim=tenant_claim))
        tenant = claimed
    return user_id, tenant


def flow_key(flow_id: str) -> str:
    """The one Redis key of a sign-in under way."""
    return _FLOW_PREFIX + flow_id


class OpenIdClient:
    """The web client as an OpenID Connect relying party of the company's provider."""

    def __init__(self, settings: Settings, *, http: httpx.AsyncClient, redis: aioredis.Redis):
        if not settings.oidc_issuer or settings.oidc_client_secret is None:
            raise ValueError("OpenID Connect sign-in is not configured")
        self._settings = settings
        self._issuer = settings.oidc_issuer
        self._client_id = settings.oidc_client_id
        self._secret = settings.oidc_client_secret.get_secret_value()
        self._http = http
        self._redis = redis
        self._provider: Provider | None = None
        self._provider_until = 0.0
        self._keys: jwt.PyJWKSet | None = None
        self._keys_until = 0.0

    @property
    def redirect_uri(self) -> str:
        """Where the provider sends people back (registered with the provider)."""
        return self._settings.public_url.rstrip("/") + "/auth/callback"

    async def provider(self) -> Provider:
        """The provider's configuration, cached; raises :class:`ProviderDown`."""
        if self._provider is None or time.monotonic() >= self._provider_until:
            url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
            configuration = await self._get_json(url)
            self._provider = provider_of(configuration, self._issuer)
            self._provider_until = time.monotonic() + _DISCOVERY_CACHE_S
        return self._provider

    async def start(self, next_: str) -> tuple[str, str]:
        """Begin a sign-in: the flow's id (for the browser's cookie) and the provider's
        authorization URL to send the browser to."""
        provider = await self.provider()
        flow = Flow(
            state=generate_token(43),
            nonce=generate_token(43),
            verifier=generate_token(_VERIFIER_LENGTH),
            next=next_,
        )
        flow_id = secrets.token_urlsafe(_FLOW_ID_BYTES)
        await self._redis.set(flow_key(flow_id), orjson.dumps(asdict(flow)), ex=FLOW_TTL_S)
        url = prepare_grant_uri(
            provider.authorization_endpoint,
            client_id=self._client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=self._settings.oidc_scopes,
            state=flow.state,
            nonce=flow.nonce,
            code_challenge=create_s256_code_challenge(flow.verifier),
            code_challenge_method="S256",
        )
        return flow_id, str(url)

    async def take_flow(self, flow_id: str) -> Flow | None:
        """The flow with this id, removed (a callback is answered once); None when there is
        none (expired, used, or begun in another browser)."""
        if not flow_id or len(flow_id) > 2 * _FLOW_ID_BYTES:
            return None
        raw = await self._redis.getdel(flow_key(flow_id))
        return Flow(**orjson.loads(raw)) if raw is not None else None

    @staticmethod
    def state_matches(flow: Flow, state: str | None) -> bool:
        """Whether the callback's ``state`` is the one this browser's flow sent."""
        return state is not None and hmac.compare_digest(state.encode(), flow.state.encode())

    async def finish(self, flow: Flow, code: str) -> Identity:
        """Exchange ``code`` for tokens, verify the ID token and say whom it names; raises
        :class:`ProviderDown` or :class:`SignInRefused`."""
        provider = await self.provider()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": flow.verifier,
        }
        # RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret, then Basic;
        # httpx.Auth() itself sends nothing (client_secret_post puts them in the form).
        auth = httpx.Auth()
        if provider.basic_auth:
            auth = httpx.BasicAuth(quote(self._client_id, safe=""), quote(self._secret, safe=""))
        else:
            form |= {"client_id": self._client_id, "client_secret": self._secret}
        try:
            response = await self._http.post(
                provider.token_endpoint,
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderDown(f"token endpoint: {exc!r}") from exc
        if response.status_code >= 500:
            raise ProviderDown(f"token endpoint answered {response.status_code}")
        body = _json_object(response)
        if response.status_code != 200 or not isinstance(body.get("id_token"), str):
            log.warning(
                "oidc code exchange refused", status=response.status_code, error=body.get("error")
            )
            raise SignInRefused(t("signin.oidc_invalid"))
        id_token: str = body["id_token"]
        claims = await self._verified_claims(provider, id_token, flow.nonce)
        s = self._settings
        user_id, tenant = person_of(
            claims,
            user_claim=s.oidc_user_claim,
            email_domains=s.oidc_email_domains,
            tenant_claim=s.oidc_tenant_claim,
            default_tenant=s.tenant,
        )
        return Identity(user_id=user_id, tenant=tenant, id_token=id_token)

    async def end_session_url(self, id_token: str, *, after: str) -> str | None:
        """Where to send the browser so the provider's session ends too (RP-Initiated Logout
        1.0), then back to ``after``; None when the provider offers no such endpoint or does
        not answer (our own session has ended either way)."""
        try:
            provider = await self.provider()
        except ProviderDown:
            return None
        if provider.end_session_endpoint is None:
            return None
        query = {"client_id": self._client_id, "post_logout_redirect_uri": after}
        if id_token:
            query["id_token_hint"] = id_token
        separator = "&" if "?" in provider.end_session_endpoint else "?"
        return provider.end_session_endpoint + separator + urlencode(query)

    async def _verified_claims(
        self, provider: Provider, id_token: str, nonce: str
    ) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = await self._signing_key(provider, kid)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=list(provider.algorithms),
                audience=self._client_id,
                issuer=provider.issuer,
                leeway=_LEEWAY_S,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            log.warning("oidc id token refused", error=str(exc))
            raise SignInRefused(t("signin.oidc_invalid")) from exc
        # Core §3.1.3.7: with several audiences, azp names us; the nonce is the one we sent.
        azp = claims.get("azp")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if (len(audiences) > 1 or azp is not None) and azp != self._client_id:
            raise SignInRefused(t("signin.oidc_invalid"))
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
            log.warning("oidc id token refused", error="nonce mismatch")
            raise SignInRefused(t("signin.oidc_invalid"))
        return claims

    async def _signing_key(self, provider: Provider, kid: object) -> jwt.PyJWK:
        for attempt in range(2):
            if self._keys is None or time.monotonic() >= self._keys_until or attempt:
                raw = await self._get_json(provider.jwks_uri)
                try:
                    self._keys = jwt.PyJWKSet.from_dict(raw)
                except jwt.PyJWTError as exc:
                    raise ProviderDown(f"unusable key set: {exc}") from exc
                self._keys_until = time.monotonic() + _JWKS_CACHE_S
            for key in self._keys.keys:
                if kid is None or key.key_id == kid:
                    return key
        raise jwt.InvalidKeyError(f"no published key {kid!r}")

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderDown(f"{url}: {exc!r}") from exc
        if response.status_code != 200:
            raise ProviderDown(f"{url} answered {response.status_code}")
        body = _json_object(response)
        if not body:
            raise ProviderDown(f"{url}: not a JSON object")
        return body


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
