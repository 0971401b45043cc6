"""The tokens the web client sends to the services for a signed-in person (docs/architecture.md
§18): short-lived, minted from the session, with the roles the services last reported."""

from __future__ import annotations

import time
from collections.abc import Iterable

from canopy_common.auth import issue_token
from canopy_common.settings import AuthSettings


class TokenMinter:
    """Mints service tokens. Locally: HS256 with the shared secret, as ``make token``."""

    def __init__(self, auth: AuthSettings, *, ttl_s: int) -> None:
        self._auth = auth
        self._ttl_s = ttl_s

    def mint(self, *, tenant: str, user: str, roles: Iterable[str]) -> tuple[str, float]:
        """A token for ``user`` and when it expires (epoch seconds)."""
        token = issue_token(self._auth, tenant=tenant, user=user, roles=roles, ttl_s=self._ttl_s)
        return token, time.time() + self._ttl_s
