"""What every ingestion route needs: the runtime, a write transaction, the acting person."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import orjson
from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from canopy_common.auth import CurrentPrincipal, Principal
from canopy_common.db import Connection
from canopy_common.members import Standing, require_active
from canopy_common.row_security import scope_to_tenant
from canopy_common.service import Runtime, collaborators_of
from canopy_ingestion.adapters.idempotency import (
    MAX_KEY_LENGTH,
    Reply,
    remember,
    replay,
    request_hash,
)
from canopy_ingestion.adapters.people import Caller, get_caller
from canopy_ingestion.domain.model import User
from canopy_ingestion.handlers.people import USER_ID_MAX_LENGTH
from canopy_ingestion.settings import Settings

# Ids are ours (`urn:uuid:...`) or a token's `sub`, which is at most this long.
ID_MAX_LENGTH = USER_ID_MAX_LENGTH
# The cursors this API hands out are far shorter; a longer one cannot be ours.
CURSOR_MAX_LENGTH = 500


async def _runtime(request: Request) -> Runtime[Settings]:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread
    # hop on every request for what is an attribute lookup.
    return collaborators_of(request, Runtime)


CurrentRuntime = Annotated[Runtime[Settings], Depends(_runtime)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retry-safe POST: a retry with the same key returns the first response",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
    ),
]


@asynccontextmanager
async def transaction(runtime: Runtime[Settings], tenant: str) -> AsyncIterator[Connection]:
    """A connection in a transaction of ``tenant`` (it sees and writes that tenant's rows
    only: row-level security, docs/architecture.md §15) that commits when the block ends
    without an error.

    Postgres unreachable: the service's outage handler answers 503 with Retry-After
    (docs/architecture.md §9), never a 500.
    """
    async with runtime.pool.acquire() as conn, conn.transaction():
        await scope_to_tenant(conn, tenant)
        yield conn


async def current_actor(runtime: CurrentRuntime, principal: CurrentPrincipal) -> User:
    """The person making the request: a provisioned, active user of the token's tenant."""
    # A transaction even for one statement: the tenant setting of row-level security lives
    # only as long as one (docs/architecture.md §15).
    async with transaction(runtime, principal.tenant_id) as conn:
        caller = await get_caller(conn, principal.tenant_id, principal.user_id)
    return _active(caller, principal).user


async def caller_in(conn: Connection, principal: Principal) -> Caller:
    """The person making the request and their tenant, read in the caller's transaction (what
    :data:`CurrentActor` checks, without a connection of its own)."""
    return _active(await get_caller(conn, principal.tenant_id, principal.user_id), principal)


@asynccontextmanager
async def caller_transaction(
    runtime: Runtime[Settings], principal: Principal
) -> AsyncIterator[tuple[Connection, User]]:
    """A transaction of the caller's tenant and the caller read in it (:func:`caller_in`):
    a route's reads and the caller check on one connection."""
    async with transaction(runtime, principal.tenant_id) as conn:
        yield conn, (await caller_in(conn, principal)).user


def _active(caller: Caller | None, principal: Principal) -> Caller:
    # The one rule of every service (canopy_common.members), on the row just read: the
    # router-level check may have answered from its cache.
    require_active(principal, Standing.of(caller.user.active if caller is not None else None))
    assert caller is not None
    return caller


CurrentActor = Annotated[User, Depends(current_actor)]


def reply_response(reply: Reply, *, replayed: bool = False) -> Response:
    """The HTTP response of a :class:`Reply` (marked when it is a replay)."""
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(
        orjson.dumps(reply.body),
        status_code=reply.status,
        media_type="application/json",
        headers=headers,
    )


async def once(
    request: Request,
    runtime: Runtime[Settings],
    actor: User,
    key: str | None,
    body: BaseModel | None,
    command: Callable[[Connection], Awaitable[Reply]],
) -> Response:
    """Run ``command`` in one transaction; with an Idempotency-Key, at most once per key.

    A retry with the same key and body gets the first response back; the same key with
    another body is refused (422).
    """
    async with transaction(runtime, actor.tenant_id) as conn:
        return await _once_in(conn, request, actor, key, body, lambda: command(conn))


async def once_as(
    request: Request,
    runtime: Runtime[Settings],
    principal: Principal,
    key: str | None,
    body: BaseModel | None,
    command: Callable[[Connection, Caller], Awaitable[Reply]],
) -> Response:
    """:func:`once`, with the caller (:func:`caller_in`) read in the command's own
    transaction rather than by :data:`CurrentActor` on a connection of its own: two round
    trips fewer, for the busiest writes."""
    async with transaction(runtime, principal.tenant_id) as conn:
        caller = await caller_in(conn, principal)
        return await _once_in(conn, request, caller.user, key, body, lambda: command(conn, caller))


async def _once_in(
    conn: Connection,
    request: Request,
    actor: User,
    key: str | None,
    body: BaseModel | None,
    run: Callable[[], Awaitable[Reply]],
) -> Response:
    if key is None:
        return reply_response(await run())
    payload = body.model_dump(mode="json") if body is not None else None
    fingerprint = request_hash(request.method, request.url.path, payload)
    stored = await replay(conn, actor.tenant_id, actor.id, key, fingerprint)
    if stored is not None:
        return reply_response(Reply(*stored), replayed=True)
    reply = await run()
    await remember(conn, actor.tenant_id, actor.id, key, fingerprint, reply.status, reply.body)
    return reply_response(reply)


__all__ = [
    "CURSOR_MAX_LENGTH",
    "ID_MAX_LENGTH",
    "CurrentActor",
    "CurrentPrincipal",
    "CurrentRuntime",
    "IdempotencyKey",
    "Principal",
    "caller_in",
    "once",
    "once_as",
    "reply_response",
]
