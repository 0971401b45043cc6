"""Bearer-token authentication: JWT verification, the caller's tenant and roles, FastAPI wiring.

Tokens carry ``sub`` (the user), the tenant and the roles, in the claims the settings name
(``tenant`` and ``roles`` unless configured; role names Canopy does not know are ignored;
docs/architecture.md §8). The algorithm is pinned by
:class:`~canopy_common.settings.AuthSettings`, never taken from the token: HS256 with the
shared secret for local runs, RS256 or ES256 in production with the identity provider's keys,
from a JWKS URL or found through OIDC discovery (:mod:`canopy_common.oidc`). ``iss``, ``aud``,
``exp`` and ``sub`` are required and checked; a token longer than
``CANOPY_JWT_MAX_TOKEN_BYTES`` is refused before it is parsed.

Wiring: :func:`install_auth` puts a :class:`TokenVerifier` on ``app.state.token_verifier``;
routes take :data:`CurrentPrincipal` or ``Depends(require_roles(...))``. Run
``python -m canopy_common.auth token --tenant acme --user alice --roles member`` to mint a
local token signed with ``CANOPY_JWT_SECRET``. The caller itself (:class:`Principal`,
:class:`Role`) is defined in :mod:`canopy_common.principal`, free of FastAPI for domain code.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Annotated, Any

import jwt
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubjectError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWTError,
)

from canopy_common.errors import Forbidden, ServiceUnavailable, Unauthorized
from canopy_common.oidc import DiscoveredJWKClient
from canopy_common.principal import TENANT_ID_PATTERN

# Re-exported: routes take the principal and its roles along with the dependencies below.
from canopy_common.principal import Principal as Principal
from canopy_common.principal import Role as Role
from canopy_common.settings import AuthSettings

log = structlog.get_logger(__name__)

_ALLOWED_ALGORITHMS = frozenset({"HS256", "RS256", "ES256"})
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
# Short enough that a slow identity provider fails the request fast (503) instead of
# holding a worker thread for PyJWT's default 30 s.
_JWKS_TIMEOUT_S = 5.0
# How long the fetched key set is trusted; unknown key ids still trigger a refresh
# (at most one per PyJWKClient cooldown), so a rotated key is picked up sooner.
_JWKS_CACHE_S = 300.0
_TENANT_ID = re.compile(TENANT_ID_PATTERN)
_MAX_USER_ID_LEN = 255
# A verified token is taken again without checking it for this long, never past its expiry:
# checking costs more than the rest of a feed read served from cache. Short, so a signing key
# withdrawn from the JWKS stops working soon (PyJWKClient keeps keys for 300 s anyway).
_VERIFIED_FOR_S = 60.0
# Verified tokens remembered at once (about one per active caller; the oldest go first).
_VERIFIED_MAX = 10_000


def _invalid_token(message: str) -> Unauthorized:
    # RFC 6750 §3: say why in the challenge too. Messages are our own constants, never token
    # content, so they are safe inside the quoted header parameter.
    challenge = f'Bearer error="invalid_token", error_description="{message}"'
    return Unauthorized(message, headers={"WWW-Authenticate": challenge})


# Most specific first: InvalidSignatureError is a DecodeError.
_PYJWT_MESSAGES: tuple[tuple[type[PyJWTError], str], ...] = (
    (ExpiredSignatureError, "token expired"),
    (ImmatureSignatureError, "token not yet valid"),
    (InvalidAudienceError, "wrong audience"),
    (InvalidIssuerError, "wrong issuer"),
    (InvalidAlgorithmError, "algorithm not allowed"),
    (InvalidSignatureError, "signature verification failed"),
    (InvalidSubjectError, "invalid sub claim"),
    (InvalidIssuedAtError, "invalid iat claim"),
    (InvalidKeyError, "signing key rejected"),
    (DecodeError, "malformed token"),
)


def _describe(exc: PyJWTError) -> str:
    if isinstance(exc, MissingRequiredClaimError):
        return f"missing {exc.claim} claim"
    for kind, message in _PYJWT_MESSAGES:
        if isinstance(exc, kind):
            return message
    return "invalid token"


def _is_user_id(value: str) -> bool:
    # IdPs choose `sub` freely (UUIDs, "auth0|123", e-mails); refuse only what can never be
    # an identifier: whitespace and control, format (bidi) or unassigned characters.
    return 0 < len(value) <= _MAX_USER_ID_LEN and not any(
        ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value
    )


def _parse_roles(raw: Any) -> frozenset[Role]:
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise _invalid_token("malformed roles claim")
    # Identity providers put many roles and groups in a token (Entra, Okta): only Canopy's
    # own names grant anything; the rest are not ours to refuse.
    return frozenset(Role(name) for name in raw if name in _ROLE_NAMES)


_ROLE_NAMES = frozenset(role.value for role in Role)
_ABSENT = object()


def claim_at(claims: dict[str, Any], name: str) -> Any:
    """The claim ``name``: the member of that name when there is one (Auth0's namespaced
    claims are URLs, dots and all), else the nested member a dotted path names
    (``realm_access.roles``); ``None`` when there is neither."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part, _ABSENT)
        if value is _ABSENT:
            return None
    return value


def principal_from_claims(
    claims: dict[str, Any], *, tenant_claim: str = "tenant", roles_claim: str = "roles"
) -> Principal:
    """Build the :class:`Principal` from verified claims, the tenant and the roles read from
    the claims so named (:func:`claim_at`); raises :class:`Unauthorized`."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise _invalid_token("missing sub claim")
    if not _is_user_id(sub):
        raise _invalid_token("invalid sub claim")
    tenant = claim_at(claims, tenant_claim)
    if tenant is None or tenant == "":
        raise _invalid_token("missing tenant claim")
    if not isinstance(tenant, str) or not _TENANT_ID.fullmatch(tenant):
        raise _invalid_token("invalid tenant claim")
    # An absent claim grants nothing; a present one must be a list of role names.
    raw_roles = claim_at(claims, roles_claim)
    roles = _parse_roles(raw_roles) if raw_roles is not None else frozenset()
    return Principal(user_id=sub, tenant_id=tenant, roles=roles)


class TokenVerifier:
    """Verifies bearer tokens against :class:`AuthSettings`.

    HS256 uses ``settings.secret``; RS256/ES256 fetch keys (cached) from ``settings.jwks_url``,
    else from the ``jwks_uri`` of the OpenID configuration at ``settings.discovery_endpoint``,
    through ``jwk_client``, which tests may replace. Building one does no I/O. A token that
    passed is remembered for a minute (at most until it expires) and not checked again.
    """

    def __init__(self, settings: AuthSettings, *, jwk_client: jwt.PyJWKClient | None = None):
        if settings.algorithm not in _ALLOWED_ALGORITHMS:
            raise ValueError(f"algorithm {settings.algorithm!r} is not allowed")
        self._algorithm: str = settings.algorithm
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._leeway = settings.leeway_s
        self._secret = settings.secret
        self._max_token_bytes = settings.max_token_bytes
        self._tenant_claim = settings.tenant_claim
        self._roles_claim = settings.roles_claim
        self._jwks: jwt.PyJWKClient | None = None
        if settings.algorithm == "HS256":
            if jwk_client is not None:
                raise ValueError("a JWKS client makes no sense with HS256")
        elif jwk_client is not None:
            self._jwks = jwk_client
        elif settings.jwks_url:
            self._jwks = jwt.PyJWKClient(
                settings.jwks_url,
                lifespan=_JWKS_CACHE_S,
                timeout=_JWKS_TIMEOUT_S,
                cooldown_duration=settings.jwks_refresh_cooldown_s,
            )
        elif discovery := settings.discovery_endpoint:
            self._jwks = DiscoveredJWKClient(
                discovery,
                settings.issuer,
                lifespan=_JWKS_CACHE_S,
                timeout=_JWKS_TIMEOUT_S,
                cooldown_duration=settings.jwks_refresh_cooldown_s,
            )
        else:
            raise ValueError(f"{settings.algorithm} needs a JWKS URL or an OIDC discovery URL")
        # token -> (time.time() until which it is taken, its caller)
        self._verified: dict[str, tuple[float, Principal]] = {}
        self._verified_lock = threading.Lock()  # verify() may run in worker threads (JWKS)

    @property
    def fetches_keys(self) -> bool:
        """Whether :meth:`verify` may block on the network (JWKS), so belongs in a thread."""
        return self._jwks is not None

    def verify(self, token: str) -> Principal:
        """Check signature, algorithm and claims; return the caller.

        Raises :class:`Unauthorized` for any bad token and :class:`ServiceUnavailable` when
        the signing keys cannot be fetched.
        """
        # Bytes and characters agree: a token that is not ASCII fails to decode anyway.
        if len(token) > self._max_token_bytes:
            raise _invalid_token(f"token longer than {self._max_token_bytes} bytes")
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[0]:
            return known[1]
        key: str | jwt.PyJWK = self._secret if self._jwks is None else self._signing_key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
            )
        except PyJWTError as exc:
            raise _invalid_token(_describe(exc)) from exc
        principal = principal_from_claims(
            claims, tenant_claim=self._tenant_claim, roles_claim=self._roles_claim
        )
        # PyJWT refuses a token from exp + leeway on: so does the memory of it.
        self._remember(token, principal, min(now + _VERIFIED_FOR_S, claims["exp"] + self._leeway))
        return principal

    def _remember(self, token: str, principal: Principal, until: float) -> None:
        with self._verified_lock:
            verified = self._verified
            if len(verified) >= _VERIFIED_MAX:
                del verified[next(iter(verified))]
            verified[token] = (until, principal)

    def _signing_key(self, token: str) -> jwt.PyJWK:
        assert self._jwks is not None
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError as exc:
            raise _invalid_token("malformed token") from exc
        # Checked again by jwt.decode; refusing here avoids a key lookup for a token that
        # cannot pass anyway.
        if header.get("alg") != self._algorithm:
            raise _invalid_token("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _invalid_token("missing key id")
        try:
            self._jwks.get_signing_keys()  # a cache hit unless stale: failures are ours
        except PyJWTError as exc:
            raise self._keys_unavailable(exc) from exc
        try:
            return self._jwks.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            raise self._keys_unavailable(exc) from exc
        except PyJWTError as exc:
            raise _invalid_token("unknown signing key") from exc

    def _keys_unavailable(self, exc: PyJWTError) -> ServiceUnavailable:
        log.warning("jwks fetch failed", error=str(exc))
        return ServiceUnavailable("signing keys unavailable")


def install_auth(
    app: FastAPI, settings: AuthSettings, *, jwk_client: jwt.PyJWKClient | None = None
) -> TokenVerifier:
    """Build the :class:`TokenVerifier` and keep it on ``app.state.token_verifier``."""
    verifier = TokenVerifier(settings, jwk_client=jwk_client)
    app.state.token_verifier = verifier
    return verifier


bearer_scheme = HTTPBearer(
    auto_error=False, bearerFormat="JWT", scheme_name="bearer", description="Canopy JWT"
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """FastAPI dependency: the verified caller of this request, or 401 problem+json.

    Also binds ``tenant`` and ``user`` into the structlog context and sets
    ``request.state.principal``.
    """
    if credentials is None:
        # RFC 6750 §3.1: no error code when the request carried no credentials at all.
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("no TokenVerifier on app.state; call install_auth(app, settings)")
    token = credentials.credentials
    if verifier.fetches_keys:
        principal = await run_in_threadpool(verifier.verify, token)
    else:
        principal = verifier.verify(token)
    request.state.principal = principal
    structlog.contextvars.bind_contextvars(tenant=principal.tenant_id, user=principal.user_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the caller must hold at least one of ``roles``, else 403.

    ``Moderator = Annotated[Principal, Depends(require_roles(Role.MODERATOR))]``. There is no
    role hierarchy: list every role that may pass.
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    wanted = frozenset(roles)
    names = ", ".join(sorted(wanted))

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*wanted):
            raise Forbidden(
                f"requires one of the roles: {names}",
                headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
        return principal

    return dependency


def issue_token(
    settings: AuthSettings,
    *,
    tenant: str,
    user: str,
    roles: Iterable[Role | str],
    ttl_s: int | None = None,
) -> str:
    """Mint an HS256 token for local runs and tests, valid for ``ttl_s`` (default from settings).

    Refuses other algorithms (production tokens come from the identity provider) and values
    the verifier would reject.
    """
    if settings.algorithm != "HS256":
        raise ValueError(f"local tokens are HS256 only; CANOPY_JWT_ALGORITHM={settings.algorithm}")
    if not _TENANT_ID.fullmatch(tenant):
        raise ValueError(f"invalid tenant id {tenant!r}")
    if not _is_user_id(user):
        raise ValueError(f"invalid user id {user!r}")
    granted = sorted({Role(role) for role in roles})
    ttl = settings.local_token_ttl_s if ttl_s is None else ttl_s
    if ttl < 1:
        raise ValueError("ttl_s must be at least 1 second")
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": user,
        # Under the configured names, as they are (claim_at finds a dotted name as it is).
        settings.tenant_claim: tenant,
        settings.roles_claim: [str(role) for role in granted],
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def _role_list(value: str) -> list[Role]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    try:
        return [Role(name) for name in names]
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise argparse.ArgumentTypeError(f"unknown role in {value!r}; known: {known}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m canopy_common.auth token ...``: print a local token to stdout."""
    parser = argparse.ArgumentParser(prog="python -m canopy_common.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser(
        "token", help="print an HS256 token signed with CANOPY_JWT_SECRET (local use)"
    )
    token.add_argument("--tenant", required=True)
    token.add_argument("--user", required=True)
    token.add_argument(
        "--roles",
        type=_role_list,
        default=[Role.MEMBER],
        help="comma-separated, e.g. member,moderator (default: member)",
    )
    token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")
    args = parser.parse_args(argv)
    try:
        minted = issue_token(
            AuthSettings(), tenant=args.tenant, user=args.user, roles=args.roles, ttl_s=args.ttl
        )
    except ValueError as exc:  # includes pydantic's ValidationError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(minted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
