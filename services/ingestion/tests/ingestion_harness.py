"""The ingestion test harness: settings on a schema of their own, tokens, SQL seeders.

Importable from every ingestion test (``pythonpath`` in the root pyproject); the fixtures that
use it are in ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from canopy_common.settings import KafkaSettings
from canopy_ingestion.settings import Settings
from canopy_testing.http import bearer
from canopy_testing.services import isolated_settings


def ingestion_settings(kafka_settings: KafkaSettings, suffix: str | None = None) -> Settings:
    """Settings with a schema, topics and consumer group of their own."""
    return isolated_settings(
        Settings,
        kafka_settings,
        service="ingestion",
        topics=(
            "topic_upstream",
            "topic_activities",
            "topic_dlq",
            "topic_audit",
            "topic_exports",
            "topic_export_parts",
        ),
        suffix=suffix,
        # An export answers at once (202 until whole): tests ask again with `eventually`, and
        # the route walks do not wait for sections no service in them will send.
        export_wait_s=0.0,
    )


def route_bodies(*, answer_id: str) -> dict[str, Any]:
    """A plausible body for every ingestion route that takes one (by ``"METHOD /template"``),
    for the tests that try every route; ``answer_id`` is the post an accept names."""
    return {
        "PUT /v1/tenants/{tenant_id}": {"name": "Acme"},
        "PUT /v1/users/{user_id}": {"handle": "bob", "display_name": "Bob"},
        "PATCH /v1/users/me": {"pronouns": "they/them"},
        "POST /v1/groups": {"name": "Ops", "visibility": "public"},
        "PUT /v1/groups/{group_id}/members/{user_id}": {},
        "POST /v1/groups/{group_id}/invites": {"user_id": "bob"},
        "PATCH /v1/groups/{group_id}": {"description": "Runtime and tooling"},
        "POST /v1/posts": {"content": "Hello"},
        "PATCH /v1/posts/{post_id}": {"content": "Hello again"},
        "POST /v1/posts/{post_id}/accept": {"answer_id": answer_id},
        "POST /v1/posts/{post_id}/flags": {"reason": "spam"},
        "PUT /v1/tenant/content-policy": {"rules": None},
        "POST /v1/tenant/content-policy/test": {"text": "Hello"},
        "POST /v1/moderation/flags/{flag_id}/resolve": {"action": "dismiss"},
        "POST /v1/conversations/{thread_id}/read": {},
    }


@dataclass
class Api:
    """The running API: an HTTP client, its settings, and a pool on its schema."""

    client: httpx.AsyncClient
    settings: Settings
    pool: asyncpg.Pool

    def headers(self, tenant: str, user: str, *roles: str, **extra: str) -> dict[str, str]:
        """Authorization (and any extra) headers for ``user`` of ``tenant``."""
        return {**bearer(self.settings.auth, tenant, user, *roles), **extra}

    async def seed_tenant(self, tenant: str, name: str = "Example Corp") -> None:
        await self.pool.execute(
            "INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING", tenant, name
        )

    async def seed_user(
        self,
        tenant: str,
        user: str,
        *,
        kind: str = "employee",
        handle: str | None = None,
        skills: Iterable[str] = (),
        active: bool = True,
        erased: bool = False,
    ) -> None:
        """A person, straight into the table (tests of other endpoints need people);
        ``active=False`` alone is a deactivated person, ``erased`` an erased one."""
        await self.seed_tenant(tenant)
        await self.pool.execute(
            "INSERT INTO users (tenant_id, id, handle, display_name, kind, skills, active, "
            "erased) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            tenant,
            user,
            handle or user,
            user.title(),
            kind,
            list(skills),
            active and not erased,
            erased,
        )

    async def seed_group(
        self, tenant: str, group_id: str, *, owner: str, visibility: str = "public"
    ) -> None:
        """A group owned (and joined) by ``owner``."""
        await self.pool.execute(
            "INSERT INTO groups (tenant_id, id, name, visibility, owner_id) "
            "VALUES ($1, $2, $3, $4, $5)",
            tenant,
            group_id,
            f"Group {group_id}",
            visibility,
            owner,
        )
        await self.seed_member(tenant, group_id, owner, role="owner")

    async def seed_member(
        self, tenant: str, group_id: str, user: str, role: str = "member"
    ) -> None:
        await self.pool.execute(
            "INSERT INTO memberships (tenant_id, group_id, user_id, role) VALUES ($1, $2, $3, $4)",
            tenant,
            group_id,
            user,
            role,
        )

    async def outbox(self, tenant: str) -> list[asyncpg.Record]:
        """The tenant's queued activities, oldest first."""
        return await self.pool.fetch(
            "SELECT activity_id, key, payload, sent_at FROM outbox WHERE tenant_id = $1 "
            "AND topic IS NULL ORDER BY seq",  # no export request
            tenant,
        )
