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
from canopy_common.errors import Forbidden, ServiceUnavailable
from canopy_common.service import Runtime, runtime_of
from canopy_common.transient import is_transient
from canopy_ingestion.adapters.idempotency import Reply, remember, replay, request_hash
from canopy_ingestion.adapters.people import get_user
from canopy_ingestion.domain.model import User

CurrentRuntime = Annotated[Runtime, Depends(runtime_of)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retry-safe POST: a retry with the same key returns the first response",
    ),
]


@asynccontextmanager
async def transaction(runtime: Runtime) -> AsyncIterator[Connection]:
    """A connection in a transaction that commits when the block ends without an error.

    Postgres unreachable → 503 with Retry-After (ARCHITECTURE §9), never a 500.
    """
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            yield conn
    except Exception as exc:
        if is_transient(exc):
            raise ServiceUnavailable("the database is unavailable; retry shortly") from exc
        raise


async def current_actor(request: Request, principal: CurrentPrincipal) -> User:
    """The person making the request: a provisioned, active user of the token's tenant."""
    async with transaction(runtime_of(request)) as conn:
        user = await get_user(conn, principal.tenant_id, principal.user_id)
    if user is None or not user.active:
        raise Forbidden(
            f"user {principal.user_id!r} is not an active member of tenant {principal.tenant_id!r}"
        )
    return user


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
    runtime: Runtime,
    actor: User,
    key: str | None,
    body: BaseModel | None,
    command: Callable[[Connection], Awaitable[Reply]],
) -> Response:
    """Run ``command`` in one transaction; with an Idempotency-Key, at most once per key.

    A retry with the same key and body gets the first response back; the same key with
    another body is refused (422).
    """
    async with transaction(runtime) as conn:
        if key is None:
            return reply_response(await command(conn))
        payload = body.model_dump(mode="json") if body is not None else None
        fingerprint = request_hash(request.method, request.url.path, payload)
        stored = await replay(conn, actor.tenant_id, actor.id, key, fingerprint)
        if stored is not None:
            return reply_response(Reply(*stored), replayed=True)
        reply = await command(conn)
        await remember(conn, actor.tenant_id, actor.id, key, fingerprint, reply.status, reply.body)
        return reply_response(reply)


__all__ = [
    "CurrentActor",
    "CurrentPrincipal",
    "CurrentRuntime",
    "IdempotencyKey",
    "Principal",
    "once",
    "reply_response",
]
