"""The unit of work of upstream events: what one transaction of them reads and writes.

Applying events one round trip at a time costs more than everything else they do, so a batch
of them (one transaction) works on this instead of on the connection:

- **reads** come from caches filled up front in a few set-based queries (:meth:`preload`: the
  tenants, people — by id and by handle —, memberships, groups and upstream objects the events
  name, and the locks on the people they provision), falling back to a query for anything not
  preloaded;
- **people and posts** (tasks, events, documents, announcements) are kept in memory as the
  events change them, and their final states are written with one statement per table by
  :meth:`flush`;
- **rows written with a post** (a content-policy flag) are kept in order and run by
  :meth:`flush` after the posts;
- **outbox rows** are collected in order (:func:`~canopy_ingestion.adapters.outbox.collecting`)
  and written with one statement too, so per-key order is the events' order.

It is the :class:`~canopy_ingestion.handlers.post_work.PostWork` of upstream notes: the
handler that creates a post over HTTP creates theirs over this. Events of the other kinds
(erasures, memberships) run their handlers on the connection (:meth:`direct`, which first
writes the people changed so far, the only state those handlers read); their outbox rows join
the same ordered collection. A handler that changes people makes the cache forget them
(:meth:`forget_users`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from canopy_common.db import Connection
from canopy_ingestion.adapters import audit, outbox
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.adapters.groups import groups_by_key, roles_by_key
from canopy_ingestion.adapters.outbox import Statement
from canopy_ingestion.adapters.people import (
    active_users_by_handle_key,
    lock_people,
    save_users,
    tenants_by_id,
    users_by_key,
)
from canopy_ingestion.adapters.posts import PostContext
from canopy_ingestion.adapters.upstream_objects import ObjectKey, load_objects, save_objects
from canopy_ingestion.domain.activities import CanonicalActivity
from canopy_ingestion.domain.audit import Planned
from canopy_ingestion.domain.model import Group, MemberRole, Post, Tenant, User
from canopy_ingestion.handlers.post_views import live_post

Key = tuple[str, str]  # (tenant id, id)
HandleKey = tuple[str, str]  # (tenant id, lower-case handle)
RoleKey = tuple[str, str, str]  # (tenant id, group id, user id)


@dataclass
class Wants:
    """What a batch of events will read, to load in one query per kind."""

    tenants: set[str] = field(default_factory=set)
    users: set[Key] = field(default_factory=set)
    handles: set[HandleKey] = field(default_factory=set)
    locks: set[Key] = field(default_factory=set)  # people to provision
    roles: set[RoleKey] = field(default_factory=set)
    groups: set[Key] = field(default_factory=set)
    objects: set[ObjectKey] = field(default_factory=set)


class UpstreamWork:
    """Reads and writes of one transaction of upstream events (see the module docstring)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._rows: list[outbox.OutboxRow] = []
        self._tenants: dict[str, Tenant | None] = {}
        self._users: dict[Key, User | None] = {}
        self._handles: dict[HandleKey, str | None] = {}  # the active holder's id
        self._locked: set[Key] = set()
        self._roles: dict[RoleKey, MemberRole | None] = {}
        self._groups: dict[Key, Group | None] = {}
        self._objects: dict[ObjectKey, Post | None] = {}
        self._dirty_users: dict[Key, User] = {}
        self._dirty_posts: dict[ObjectKey, Post] = {}
        self._records: list[Statement] = []  # written with the posts, after them
        self._audit: list[audit.Pending] = []
        self.went_direct = False  # the connection was handed out since the flag was cleared

    async def preload(self, wants: Wants) -> None:
        """Load what ``wants`` names and is not cached yet: one query per kind."""
        conn = self._conn
        # Comprehensions, not `wanted - cache.keys()`: that walks the whole cache every time.
        if tenants := {tenant for tenant in wants.tenants if tenant not in self._tenants}:
            found_tenants = await tenants_by_id(conn, tenants)
            self._tenants.update({tenant: found_tenants.get(tenant) for tenant in tenants})
        if locks := {key for key in wants.locks if key not in self._locked}:
            await lock_people(conn, locks)
            self._locked |= locks
        if handles := {key for key in wants.handles if key not in self._handles}:
            holders = await active_users_by_handle_key(conn, handles)
            self._handles.update({key: None for key in handles})
            for holder in holders.values():
                if (holder.tenant_id, holder.id) not in self._users:  # else the cache is newer
                    self._remember(holder)
        if users := {key for key in wants.users if key not in self._users}:
            found_users = await users_by_key(conn, users)
            for key in users:
                self._users[key] = None
                if (user := found_users.get(key)) is not None:
                    self._remember(user)
        if roles := {key for key in wants.roles if key not in self._roles}:
            found_roles = await roles_by_key(conn, roles)
            self._roles.update({key: found_roles.get(key) for key in roles})
        if groups := {key for key in wants.groups if key not in self._groups}:
            found_groups = await groups_by_key(conn, groups)
            self._groups.update({key: found_groups.get(key) for key in groups})
        if objects := {key for key in wants.objects if key not in self._objects}:
            found_objects = await load_objects(conn, objects)
            self._objects.update({key: found_objects.get(key) for key in objects})

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Inside the block, every activity appended to the outbox (by :meth:`publish` or by a
        handler on the connection) is collected, in order, for :meth:`flush`."""
        with outbox.collecting() as rows:
            self._rows = rows
            yield

    def publish(self, *activities: CanonicalActivity) -> None:
        """Queue activities for the outbox, after those queued before (see :meth:`flush`)."""
        self._rows.extend(outbox.outbox_row(activity) for activity in activities)

    def record_audit(self, tenant: str, actor: str, entries: Iterable[Planned]) -> None:
        """Queue audit entries (docs/architecture.md §14), written by :meth:`flush` with the
        changes they record."""
        self._audit.extend(audit.Pending(tenant, actor, entry) for entry in entries)

    async def direct(self) -> Connection:
        """The connection, for a handler that reads and writes it itself; the people changed
        so far are written first, so it reads them as they are now."""
        self.went_direct = True
        await save_users(self._conn, list(self._dirty_users.values()))
        self._dirty_users.clear()
        return self._conn

    async def flush(self) -> None:
        """Write the people's and posts' final states, then the outbox rows in order."""
        await save_users(self._conn, list(self._dirty_users.values()))
        await save_objects(self._conn, list(self._dirty_posts.values()))
        for record in self._records:  # rare (a note the content policy flags): one by one
            await self._conn.execute(record.sql, *record.args)
        await outbox.append_rows(self._conn, self._rows)
        await audit.record_pending(self._conn, self._audit)
        self._audit = []
        self._dirty_users.clear()
        self._dirty_posts.clear()
        self._records = []
        self._rows = []

    # --- reads ----------------------------------------------------------------------------

    async def tenant(self, tenant_id: str) -> Tenant | None:
        if tenant_id not in self._tenants:
            await self.preload(Wants(tenants={tenant_id}))
        return self._tenants[tenant_id]

    async def user(self, tenant_id: str, user_id: str) -> User | None:
        """A person of the tenant, active or not."""
        key = (tenant_id, user_id)
        if key not in self._users:
            await self.preload(Wants(users={key}))
        return self._users[key]

    async def users(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, User]:
        """The tenant's people among ``user_ids``, by id."""
        keys = {(tenant_id, user_id) for user_id in user_ids}
        if any(key not in self._users for key in keys):
            await self.preload(Wants(users=keys))
        return {key[1]: user for key in keys if (user := self._users[key]) is not None}

    async def active_by_handle(self, tenant_id: str, handles: Iterable[str]) -> dict[str, User]:
        """Active people by lower-cased handle (unknown handles are left out)."""
        keys = {(tenant_id, handle.lower()) for handle in handles}
        if any(key not in self._handles for key in keys):
            await self.preload(Wants(handles=keys))
        found: dict[str, User] = {}
        for key in keys:
            holder = self._holder(key)
            if holder is not None:
                found[key[1]] = holder
        return found

    async def handle_owner(self, tenant_id: str, handle: str, *, other_than: str) -> str | None:
        """The id of the active person (other than ``other_than``) holding ``handle``."""
        holder = (await self.active_by_handle(tenant_id, [handle])).get(handle.lower())
        return holder.id if holder is not None and holder.id != other_than else None

    async def role(self, tenant_id: str, group_id: str, user_id: str) -> MemberRole | None:
        key = (tenant_id, group_id, user_id)
        if key not in self._roles:
            await self.preload(Wants(roles={key}))
        return self._roles[key]

    async def group(self, tenant_id: str, group_id: str) -> Group | None:
        key = (tenant_id, group_id)
        if key not in self._groups:
            await self.preload(Wants(groups={key}))
        return self._groups[key]

    async def group_with_role(
        self, tenant_id: str, group_id: str, user_id: str
    ) -> tuple[Group, MemberRole | None] | None:
        found = await self.group(tenant_id, group_id)
        return None if found is None else (found, await self.role(tenant_id, group_id, user_id))

    async def has_guest_members(self, tenant_id: str, group_id: str) -> bool:
        return await store.has_guest_members(self._conn, tenant_id, group_id)

    async def live_post(self, actor: User, post_id: str) -> PostContext | None:
        # Not preloaded: upstream notes reply to nothing today.
        return await live_post(self._conn, actor, post_id)

    async def upstream_object(self, tenant_id: str, object_id: str) -> Post | None:
        """The upstream object as the events so far left it, deleted or not; locked."""
        key = (tenant_id, object_id)
        if key not in self._objects:
            await self.preload(Wants(objects={key}))
        return self._objects[key]

    # --- writes ---------------------------------------------------------------------------

    async def lock_person(self, tenant_id: str, user_id: str) -> None:
        """Serialise writes to one person with other transactions (see ``lock_person``)."""
        if (tenant_id, user_id) not in self._locked:
            await self.preload(Wants(locks={(tenant_id, user_id)}))

    def save_user(self, user: User) -> None:
        """Record a person's new profile and standing (written by :meth:`flush`)."""
        self._remember(user)
        self._dirty_users[(user.tenant_id, user.id)] = user

    def forget_users(self, tenant_id: str, user_ids: Iterable[str] | None = None) -> None:
        """Drop cached people a handler changed (``None``: all of the tenant's)."""
        if user_ids is None:
            user_ids = [user_id for tenant, user_id in self._users if tenant == tenant_id]
        for user_id in user_ids:
            self._users.pop((tenant_id, user_id), None)
        for key in [key for key in self._handles if key[0] == tenant_id]:
            del self._handles[key]  # they may have taken or given up handles

    def save_object(self, post: Post) -> None:
        """Record a post's new state (written by :meth:`flush`)."""
        key = (post.tenant_id, post.id)
        self._objects[key] = self._dirty_posts[key] = post

    def add_post(self, post: Post, *records: Statement) -> None:
        """Record a new post and the rows written with it (written by :meth:`flush`)."""
        self.save_object(post)
        self._records.extend(records)

    # --- the handle index -----------------------------------------------------------------

    def _remember(self, user: User) -> None:
        self._users[(user.tenant_id, user.id)] = user
        if user.active:
            self._handles[(user.tenant_id, user.handle.lower())] = user.id

    def _holder(self, key: HandleKey) -> User | None:
        """The active holder of a handle: the index may name someone who has since changed
        their handle or left, and then nobody holds it (the unique index allows one)."""
        user_id = self._handles.get(key)
        if user_id is None:
            return None
        user = self._users.get((key[0], user_id))
        if user is None or not user.active or user.handle.lower() != key[1]:
            return None
        return user
