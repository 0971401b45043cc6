"""A moderator's decision on a case (docs/architecture.md §4.5), in the caller's transaction:
the case's open flags resolved, the post deleted or its author warned, one activity in the
outbox telling the reporters and the author, and an audit entry."""

from __future__ import annotations

from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import Conflict, NotFound
from canopy_common.events import new_activity_id
from canopy_common.iris import is_object_id
from canopy_ingestion.adapters import audit, outbox
from canopy_ingestion.adapters import moderation as store
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.domain.audit import AuditAction
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.moderation import (
    MAX_NOTE_CHARS,
    Resolution,
    decision_activity,
    reporters_told,
)
from canopy_ingestion.domain.text import clean_block
from canopy_ingestion.handlers.post_views import live_post
from canopy_ingestion.handlers.posts import delete_post


async def resolve(
    case_id: str, resolution: Resolution, note: str | None, *, conn: Connection, moderator: User
) -> Reply:
    """Resolve every open flag of the post ``case_id`` (any of its flags) is about.

    404 for no such flag in the moderator's tenant; 409 when it is resolved already (also when
    another moderator decided the same post a moment earlier)."""
    tenant = moderator.tenant_id
    found = await store.flag_for_update(conn, tenant, case_id) if is_object_id(case_id) else None
    if found is None:
        raise NotFound(f"no flag {case_id!r}")
    if found.resolved:
        raise Conflict("this flag has been resolved already")
    note = clean_block(note, field="note", max_length=MAX_NOTE_CHARS) or None if note else None
    post = await store.post_of(conn, tenant, found.post_id)
    if post is None:  # flags reference posts, which are only ever soft-deleted
        raise NotFound(f"no flag {case_id!r}")
    decision_id = new_activity_id()
    resolved = await store.resolve_open(
        conn,
        tenant,
        post.id,
        moderator_id=moderator.id,
        resolution=resolution,
        note=note,
        decision_id=decision_id,
    )
    if not resolved:
        raise Conflict("this flag has been resolved already")
    removed = False
    if resolution is Resolution.REMOVE and await live_post(conn, moderator, post.id) is not None:
        # The ordinary deletion: the same Delete of a Tombstone, audited as a moderator's.
        await delete_post(post.id, conn=conn, actor=moderator, moderator=True)
        removed = True
    if resolution is Resolution.WARN:
        await store.insert_warning(
            conn,
            tenant,
            warning_id=decision_id,
            user_id=post.author_id,
            post_id=post.id,
            moderator_id=moderator.id,
            note=note,
        )
    reporters = reporters_told([flag.reporter_id for flag in resolved], post.author_id)
    case = resolved[0].flag_id
    await outbox.append(
        conn,
        decision_activity(
            moderator,
            post,
            case_id=case,
            resolution=resolution,
            note=note,
            reporters=reporters,
            decision_id=decision_id,
        ),
    )
    details: dict[str, Any] = {
        "case": case,
        "action": resolution.value,
        "note": note,
        "flags": [flag.flag_id for flag in resolved],
        "author": post.author_id,
        "post_deleted": removed,
        "decision": decision_id,
    }
    await audit.record(
        conn,
        tenant=tenant,
        actor=moderator.id,
        action=AuditAction.MODERATION_DECISION,
        target=post.id,
        details=details,
    )
    body = {
        "id": case,
        "post_id": post.id,
        "status": "resolved",
        "resolution": {"action": resolution.value, "note": note, "by": moderator.id},
        "flags": details["flags"],
        "reporters": reporters,
        "decision_id": decision_id,
        "post_deleted": removed,
    }
    return Reply(200, body)
