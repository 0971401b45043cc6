"""The tokens the web client sends to the services for a signed-in person (docs/architecture.md
§18): short-lived, minted from the session, with the roles the services last reported.

Locally they are HS256 with the shared secret, as ``make token``. In production the web client
signs ES256 with a key of its own (``CANOPY_WEB_SIGNING_KEY_FILE``) and publishes the public
half as an OpenID issuer would (``/.well-known/openid-configuration`` naming
``/.well-known/jwks.json``): the services verify with their usual settings
(``CANOPY_JWT_ALGORITHM=ES256``, ``CANOPY_JWT_ISSUER=<the web client's public URL>``) and no
service holds anything that could mint a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt.algorithms import ECAlgorithm

from canopy_common.auth import issue_token
from canopy_common.principal import Role
from canopy_common.settings import AuthSettings

SIGNING_ALGORITHM = "ES256"


class SigningKeyError(Exception):
    """The signing key file cannot be used (missing, not PEM, not an EC P-256 private key)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An EC P-256 private key, its key id and its public JWK."""

    private: ec.EllipticCurvePrivateKey
    kid: str
    public_jwk: dict[str, str]


def load_signing_key(path: Path) -> SigningKey:
    """The key in the PEM file ``path``; its ``kid`` is the RFC 7638 thumbprint of its public
    key, so the id changes exactly when the key does."""
    try:
        private = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not a readable unencrypted PEM private key") from exc
    if not isinstance(private, ec.EllipticCurvePrivateKey) or not isinstance(
        private.curve, ec.SECP256R1
    ):
        raise SigningKeyError(f"{path} is not an EC P-256 key (ES256 needs one)")
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    required = {name: str(jwk[name]) for name in ("crv", "kty", "x", "y")}
    # RFC 7638 §3: the required members, sorted, no whitespace, SHA-256, base64url.
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    public = {**required, "kid": kid, "use": "sig", "alg": SIGNING_ALGORITHM}
    return SigningKey(private=private, kid=kid, public_jwk=public)


class TokenMinter:
    """Mints service tokens: ES256 with ``signing_key`` when given (issuer: the web client's
    public URL), else HS256 with the shared secret."""

    def __init__(
        self,
        auth: AuthSettings,
        *,
        ttl_s: int,
        signing_key: SigningKey | None = None,
        issuer: str = "",
    ) -> None:
        if signing_key is not None and not issuer:
            raise ValueError("ES256 tokens need the issuer (the web client's public URL)")
        self._auth = auth
        self._ttl_s = ttl_s
        self._key = signing_key
        self._issuer = issuer

    @property
    def signing_key(self) -> SigningKey | None:
        """The key tokens are signed with, None when they use the shared secret."""
        return self._key

    @property
    def issuer(self) -> str:
        """The ``iss`` of ES256 tokens (empty with the shared secret)."""
        return self._issuer

    def mint(self, *, tenant: str, user: str, roles: Iterable[str]) -> tuple[str, float]:
        """A token for ``user`` and when it expires (epoch seconds)."""
        expires_at = time.time() + self._ttl_s
        if self._key is None:
            token = issue_token(
                self._auth, tenant=tenant, user=user, roles=roles, ttl_s=self._ttl_s
            )
            return token, expires_at
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "aud": self._auth.audience,
            "sub": user,
            # Under the names the services read (CANOPY_JWT_TENANT_CLAIM, _ROLES_CLAIM).
            self._auth.tenant_claim: tenant,
            self._auth.roles_claim: sorted({str(Role(role)) for role in roles}),
            "iat": now,
            "exp": now + self._ttl_s,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(
            claims, self._key.private, algorithm=SIGNING_ALGORITHM, headers={"kid": self._key.kid}
        )
        return token, float(now + self._ttl_s)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys the services verify with (none with the shared secret)."""
        return {"keys": [self._key.public_jwk] if self._key else []}
