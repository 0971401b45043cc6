"""Who may act: a verified token acts only as a provisioned, active person of its tenant
(docs/architecture.md §8).

Each service keeps its own projection of people (event-carried state, §1) and answers
:meth:`PersonDirectory.standing` from it; :class:`Members` caches those answers briefly and
drops one when that person changes; :func:`current_member` is the one FastAPI dependency that
verifies the token and then checks the caller's standing. The common lifespan builds the
:class:`Members` of a service from its ``ServiceDefinition.people`` and attaches
:func:`current_member` to every router but its provisioning ones, so no route can forget it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Protocol

import asyncpg
from fastapi import Depends, Request

from canopy_common.activities import activity_type
from canopy_common.auth import CurrentPrincipal
from canopy_common.errors import Forbidden
from canopy_common.events import StrictActivity
from canopy_common.principal import Principal
from canopy_common.row_security import scope_to_tenant
from canopy_common.vocabulary.changes import Erasure, ProfileChange, change_of

if TYPE_CHECKING:
    from canopy_common.db import Connection

# Answers remembered at once (about one per active caller; the oldest go first).
_REMEMBERED_MAX = 10_000
_PERSON_VERBS = frozenset({"Create", "Update", "Delete"})


class Standing(StrEnum):
    """Where a person stands in a service's projection of their tenant."""

    UNKNOWN = "unknown"  # never provisioned (or not heard of yet)
    ACTIVE = "active"
    INACTIVE = "inactive"  # erased or deactivated: the projection says active = false

    @classmethod
    def of(cls, active: bool | None) -> Standing:
        """The standing of a person whose projected ``active`` flag is ``active`` (``None``:
        no such person)."""
        if active is None:
            return cls.UNKNOWN
        return cls.ACTIVE if active else cls.INACTIVE


class PersonDirectory(Protocol):
    """A service's own projection of people, asked for one person's standing."""

    async def standing(self, tenant_id: str, user_id: str) -> Standing: ...


def require_active(principal: Principal, standing: Standing) -> None:
    """The rule: the caller must be an active person of the token's tenant, else 403."""
    if standing is not Standing.ACTIVE:
        raise Forbidden(
            f"user {principal.user_id!r} is not an active member of tenant {principal.tenant_id!r}"
        )


class ProjectedPeople:
    """A :class:`PersonDirectory` answered by one query on a service's projection: ``query``
    takes ``$1`` tenant id and ``$2`` user id and returns the person's ``active`` flag (no row
    or NULL: :attr:`Standing.UNKNOWN`)."""

    def __init__(self, pool: asyncpg.Pool, query: str, *, tenant_scoped: bool = False) -> None:
        self._pool = pool
        self._query = query
        # A projection under row-level security sees nothing outside a transaction that set
        # the tenant (canopy_common.row_security): two round trips more, for those only.
        self._tenant_scoped = tenant_scoped

    async def standing(self, tenant_id: str, user_id: str) -> Standing:
        """The person's standing, read from the projection."""
        if not self._tenant_scoped:
            return Standing.of(await self._pool.fetchval(self._query, tenant_id, user_id))
        async with self._pool.acquire() as conn, conn.transaction():
            await scope_to_tenant(conn, tenant_id)
            return Standing.of(await conn.fetchval(self._query, tenant_id, user_id))


class NoPeople:
    """The directory of a process that knows nobody: every caller is refused (a runtime built
    without a service's own directory fails closed)."""

    async def standing(self, tenant_id: str, user_id: str) -> Standing:
        """Always :attr:`Standing.UNKNOWN`."""
        return Standing.UNKNOWN


class Members:
    """The standing of callers, read through a :class:`PersonDirectory` and kept for
    ``ttl_s``.

    Every request would otherwise cost a Postgres round trip before its real work. A few
    seconds is what a person changed elsewhere may still pass for: the consumer that applies a
    change in this process :meth:`forget`\\ s it at once, but an ``api`` process runs no
    consumer and only the TTL bounds its staleness (docs/architecture.md §8). ``ttl_s`` 0
    caches nothing.
    """

    def __init__(self, directory: PersonDirectory, *, ttl_s: float) -> None:
        self._directory = directory
        self._ttl_s = ttl_s
        self._known: dict[tuple[str, str], tuple[float, Standing]] = {}
        # Bumped by every forget: an answer read while one happened may predate it.
        self._forgets = 0

    async def standing(self, tenant_id: str, user_id: str) -> Standing:
        """The person's standing, from the cache or the directory."""
        key = (tenant_id, user_id)
        now = time.monotonic()
        known = self._known.get(key)
        if known is not None and now < known[0]:
            return known[1]
        forgets = self._forgets
        standing = await self._directory.standing(tenant_id, user_id)
        if self._ttl_s > 0 and forgets == self._forgets:
            if len(self._known) >= _REMEMBERED_MAX and key not in self._known:
                del self._known[next(iter(self._known))]
            self._known[key] = (now + self._ttl_s, standing)
        return standing

    async def check(self, principal: Principal) -> Principal:
        """``principal`` if it is an active person of its tenant, else 403
        (:func:`require_active`)."""
        require_active(principal, await self.standing(principal.tenant_id, principal.user_id))
        return principal

    def forget(self, people: Iterable[tuple[str, str]]) -> None:
        """Drop what is known of these ``(tenant id, user id)``: they changed."""
        self._forgets += 1
        for key in people:
            self._known.pop(key, None)

    def forgetting(self, tenant_id: str, user_id: str) -> Callable[[Connection], Awaitable[None]]:
        """:meth:`forget` of one person as after-commit work (:mod:`canopy_common.after_commit`):
        forgotten before the commit, an answer read in between would be the old one again."""

        async def forget(_: Connection) -> None:
            self.forget([(tenant_id, user_id)])

        return forget


def person_changed(activity: StrictActivity) -> tuple[str, str] | None:
    """``(tenant id, user id)`` of the person whose profile or standing ``activity`` changes
    (a provisioning, profile update, erasure or deactivation), else ``None``."""
    if activity_type(activity) not in _PERSON_VERBS:
        return None
    change = change_of(activity)
    if isinstance(change, ProfileChange | Erasure):
        return change.tenant, change.person
    return None


def members_of(request: Request) -> Members:
    """The service's :class:`Members` (built by the common lifespan)."""
    members = request.app.state.runtime.members
    if not isinstance(members, Members):
        raise TypeError("this app's runtime holds no Members")
    return members


async def current_member(request: Request, principal: CurrentPrincipal) -> Principal:
    """FastAPI dependency: the verified caller (:func:`~canopy_common.auth.current_principal`,
    401 without a valid token), who must be an active person of the token's tenant in this
    service's projection (403 problem+json otherwise). Postgres down while checking: the
    common outage handler answers 503 with Retry-After.

    Attached by the common lifespan to every router of a service but its provisioning ones;
    what needs the caller after that (a rate limit, a handler) depends on this.
    """
    return await members_of(request).check(principal)


CurrentMember = Annotated[Principal, Depends(current_member)]
