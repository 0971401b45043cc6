"""The unit of work a post command runs over (docs/architecture.md §4, the write path).

:class:`PostWork` is what creating a post reads and writes; two implementations serve the one
handler (:func:`~canopy_ingestion.handlers.posts.create_post`):

- :class:`ConnectionWork`, for an HTTP request: reads on the request's connection, writes
  recorded and run by :meth:`ConnectionWork.flush` as one statement (the post, a policy flag
  and the outbox rows: atomic even outside a transaction);
- :class:`~canopy_ingestion.upstream_work.UpstreamWork`, for a batch of upstream events:
  reads from its preloaded caches, writes flushed once for the whole batch.

Neither commits: the entrypoint (the route, the upstream batch) owns the transaction and
flushes the work before it commits, so the outbox rows go in with the state they announce.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from canopy_common.db import Connection
from canopy_ingestion.adapters import outbox
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.adapters.outbox import Statement
from canopy_ingestion.adapters.people import active_users_by_handle, get_tenant, get_users
from canopy_ingestion.adapters.posts import PostContext
from canopy_ingestion.domain.activities import CanonicalActivity
from canopy_ingestion.domain.model import Group, MemberRole, Post, Tenant, User
from canopy_ingestion.handlers.post_views import live_post


class PolicyReads(Protocol):
    """What the content policy reads: the tenant's rules, and whether a group reaches guests."""

    async def tenant(self, tenant_id: str) -> Tenant | None: ...

    async def has_guest_members(self, tenant_id: str, group_id: str) -> bool: ...


class PostWork(PolicyReads, Protocol):
    """What creating a post reads, and where it records what it writes (nothing commits)."""

    async def users(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, User]:
        """The tenant's people among ``user_ids``, active or not, by id."""
        ...

    async def active_by_handle(self, tenant_id: str, handles: Iterable[str]) -> dict[str, User]:
        """Active people by lower-cased handle (unknown handles are left out)."""
        ...

    async def group_with_role(
        self, tenant_id: str, group_id: str, user_id: str
    ) -> tuple[Group, MemberRole | None] | None:
        """A group of the tenant and the person's role in it (None: not a member)."""
        ...

    async def live_post(self, actor: User, post_id: str) -> PostContext | None:
        """The post (not deleted) of the actor's tenant as the actor meets it, if any."""
        ...

    def add_post(self, post: Post, *records: Statement) -> None:
        """Record a new post and the rows written with it (a policy flag's)."""
        ...

    def publish(self, *activities: CanonicalActivity) -> None:
        """Queue activities for the outbox, in order, with the state recorded."""
        ...


class ConnectionWork:
    """:class:`PostWork` on one connection: reads as they come, writes in one statement."""

    def __init__(self, conn: Connection, *, tenant: Tenant | None = None) -> None:
        """``tenant`` is the actor's, when the caller has read it already."""
        self._conn = conn
        self._tenant = tenant
        self._changes: list[Statement] = []
        self._activities: list[CanonicalActivity] = []

    async def tenant(self, tenant_id: str) -> Tenant | None:
        if self._tenant is None or self._tenant.id != tenant_id:
            self._tenant = await get_tenant(self._conn, tenant_id)
        return self._tenant

    async def has_guest_members(self, tenant_id: str, group_id: str) -> bool:
        return await store.has_guest_members(self._conn, tenant_id, group_id)

    async def users(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, User]:
        wanted = list(user_ids)
        return await get_users(self._conn, tenant_id, wanted) if wanted else {}

    async def active_by_handle(self, tenant_id: str, handles: Iterable[str]) -> dict[str, User]:
        wanted = list(handles)
        return await active_users_by_handle(self._conn, tenant_id, wanted) if wanted else {}

    async def group_with_role(
        self, tenant_id: str, group_id: str, user_id: str
    ) -> tuple[Group, MemberRole | None] | None:
        return await store.group_with_role(self._conn, tenant_id, group_id, user_id)

    async def live_post(self, actor: User, post_id: str) -> PostContext | None:
        return await live_post(self._conn, actor, post_id)

    def add_post(self, post: Post, *records: Statement) -> None:
        self._changes += [store.insert_post_statement(post), *records]

    def publish(self, *activities: CanonicalActivity) -> None:
        self._activities.extend(activities)

    async def flush(self) -> None:
        """Run the recorded writes and queue the activities, all in one statement."""
        changes, activities = self._changes, self._activities
        self._changes, self._activities = [], []
        if changes or activities:
            await outbox.append_after(self._conn, changes, *activities)
