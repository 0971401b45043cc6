"""Sessions of signed-in people, kept in Redis: the browser holds only a random id in an
HttpOnly cookie (docs/architecture.md §18).

A session ends when unused for ``session_idle_s``, ``session_max_s`` after sign-in, at sign-out,
or when the services refuse its person (deactivated, no longer provisioned). Keeping it on the
server is what makes sign-out real: a copied cookie stops working the moment its session goes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, replace

import orjson
import redis.asyncio as aioredis

# 256 bits: a session id cannot be guessed.
_ID_BYTES = 32
_KEY_PREFIX = "web:session:"


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in person: who, in which tenant, with the roles the services last reported,
    and the token minted for the services (reused until shortly before it expires)."""

    id: str
    user_id: str
    tenant: str
    name: str
    roles: tuple[str, ...]
    csrf: str
    started_at: float
    token: str = ""
    token_expires_at: float = 0.0
    # How the person signed in: "dev" or "oidc" (sign-out then also ends the provider's session).
    method: str = "dev"
    id_token: str = ""

    def has_role(self, *roles: str) -> bool:
        """Whether the person holds at least one of ``roles``."""
        return any(role in self.roles for role in roles)


def key(session_id: str) -> str:
    """The one Redis key of a session."""
    return _KEY_PREFIX + session_id


class SessionStore:
    """Creates, finds, updates and ends sessions; every expiry rule is applied here."""

    def __init__(self, redis: aioredis.Redis, *, idle_s: int, max_s: int) -> None:
        self._redis = redis
        self._idle_s = idle_s
        self._max_s = max_s

    async def start(
        self,
        *,
        user_id: str,
        tenant: str,
        name: str,
        roles: tuple[str, ...],
        method: str,
        id_token: str = "",
    ) -> Session:
        """A new session for a person who has just proved who they are."""
        session = Session(
            id=secrets.token_urlsafe(_ID_BYTES),
            user_id=user_id,
            tenant=tenant,
            name=name,
            roles=roles,
            csrf=secrets.token_urlsafe(_ID_BYTES),
            started_at=time.time(),
            method=method,
            id_token=id_token,
        )
        await self.save(session)
        return session

    async def find(self, session_id: str) -> Session | None:
        """The live session with this id (its idle clock restarted), None when it has ended."""
        if not session_id or len(session_id) > 2 * _ID_BYTES:
            return None
        raw = await self._redis.get(key(session_id))
        if raw is None:
            return None
        stored = orjson.loads(raw)
        session = Session(**{**stored, "roles": tuple(stored["roles"])})
        ttl = self._ttl(session)
        if ttl <= 0:
            await self.end(session_id)
            return None
        await self._redis.expire(key(session_id), ttl)
        return session

    async def save(self, session: Session) -> None:
        """Store ``session`` as it now is, expiring at whichever end comes first."""
        await self._redis.set(key(session.id), orjson.dumps(asdict(session)), ex=self._ttl(session))

    async def update(self, session: Session, **changes: object) -> Session:
        """Store ``session`` with ``changes`` and return the new value."""
        changed = replace(session, **changes)  # type: ignore[arg-type]
        await self.save(changed)
        return changed

    async def end(self, session_id: str) -> None:
        """End a session now (sign-out, or its person was refused)."""
        await self._redis.delete(key(session_id))

    def _ttl(self, session: Session) -> int:
        left = int(session.started_at + self._max_s - time.time())
        return min(self._idle_s, left)
