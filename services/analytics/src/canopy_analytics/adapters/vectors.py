"""SQL of the embedding worker (docs/architecture.md §17): claiming the posts whose text or
openness changed since their vector was written, storing vectors and tombstones, and marking
the posts done — all in the claiming transaction, which holds the posts' row locks, so an edit,
a delete or an erasure that races a pass waits for it and then marks the post to do again.
Repositories never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from canopy_common.db import Connection

#: The stream NOTIFYs this (delivered at its commit) when a batch may have changed a post's
#: text or openness: the embedding worker wakes.
NOTIFY_CHANNEL = "analytics_embed"

# Upstream tasks and events are content, not knowledge anyone wrote (domain/facts.py).
NOT_EMBEDDED_KINDS = ("task", "event")

# The partial index posts_to_embed holds exactly the rows this predicate selects.
_TO_DO = "(p.embedded_version <> p.text_version OR p.embedded_open <> p.open)"

_CLAIM = f"""
SELECT p.tenant_id, p.object_id, p.text, p.text_version, p.kind, p.author_id, p.group_id,
       p.parent_id, p.open, p.deleted, p.published,
       v.model AS stored_model, v.text_version AS stored_version,
       (v.vector IS NOT NULL) AS has_vector,
       q.experts_version
  FROM posts p
  LEFT JOIN post_vectors v ON v.tenant_id = p.tenant_id AND v.object_id = p.object_id
  LEFT JOIN questions q ON q.tenant_id = p.tenant_id AND q.question_id = p.object_id
 WHERE {_TO_DO}
 LIMIT $1
 FOR UPDATE OF p SKIP LOCKED
"""

_BACKLOG = f"SELECT count(*) FROM posts p WHERE {_TO_DO}"

# Writers of one tenant's vectors draw seqs one transaction at a time (see migration 0004).
_LOCK_TENANTS = (
    "SELECT pg_advisory_xact_lock(hashtext('canopy analytics post_vectors ' || t)) "
    "FROM unnest($1::text[]) AS t ORDER BY t"
)

_STORE = """
INSERT INTO post_vectors AS v (tenant_id, object_id, model, text_version, vector, kind,
                               author_id, group_id, open)
SELECT t.tenant_id, t.object_id, $1, t.text_version, t.vector, t.kind, t.author_id,
       t.group_id, t.open
  FROM unnest($2::text[], $3::text[], $4::int[], $5::bytea[], $6::text[], $7::text[],
              $8::text[], $9::bool[])
       AS t (tenant_id, object_id, text_version, vector, kind, author_id, group_id, open)
ON CONFLICT (tenant_id, object_id) DO UPDATE SET
    model = EXCLUDED.model, text_version = EXCLUDED.text_version, vector = EXCLUDED.vector,
    kind = EXCLUDED.kind, author_id = EXCLUDED.author_id, group_id = EXCLUDED.group_id,
    open = EXCLUDED.open, seq = nextval('post_vectors_seq'), embedded_at = now()
"""

_REOPEN = """
UPDATE post_vectors v SET open = t.open, seq = nextval('post_vectors_seq')
  FROM unnest($1::text[], $2::text[], $3::bool[]) AS t (tenant_id, object_id, open)
 WHERE v.tenant_id = t.tenant_id AND v.object_id = t.object_id
"""

_TOMBSTONE = """
UPDATE post_vectors v SET vector = NULL, text_version = t.text_version,
       seq = nextval('post_vectors_seq'), embedded_at = now()
  FROM unnest($1::text[], $2::text[], $3::int[]) AS t (tenant_id, object_id, text_version)
 WHERE v.tenant_id = t.tenant_id AND v.object_id = t.object_id AND v.vector IS NOT NULL
"""

_DONE = """
UPDATE posts p SET embedded_version = t.text_version, embedded_open = t.open
  FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[])
       AS t (tenant_id, object_id, text_version, open)
 WHERE p.tenant_id = t.tenant_id AND p.object_id = t.object_id
"""

# Vectors of another model are embedded again: their posts go back to do.
_OTHER_MODEL = """
UPDATE posts p SET embedded_version = -1
  FROM post_vectors v
 WHERE v.tenant_id = p.tenant_id AND v.object_id = p.object_id
   AND v.model <> $1 AND v.vector IS NOT NULL AND p.embedded_version = p.text_version
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A post whose vector is to be written, removed or re-flagged, as claimed."""

    tenant: str
    object_id: str
    text: str
    text_version: int
    kind: str | None
    author_id: str | None
    group_id: str | None
    parent_id: str | None
    open: bool
    deleted: bool
    stored_model: str | None
    stored_version: int | None
    has_vector: bool
    experts_version: int | None  # a question's: the text_version its experts were published for
    published: datetime | None = None

    @property
    def wants_vector(self) -> bool:
        """Live text of a kind people write."""
        return bool(self.text) and not self.deleted and self.kind not in NOT_EMBEDDED_KINDS

    def current(self, model: str) -> bool:
        """Its stored vector is this text's, by ``model``."""
        return (
            self.has_vector
            and self.stored_model == model
            and self.stored_version == self.text_version
        )

    def new_question(self, asked_since: datetime) -> bool:
        """A question asked since ``asked_since`` whose likely answerers were not published
        for this text yet."""
        return (
            self.kind == "question"
            and (self.published is None or self.published >= asked_since)
            and self.parent_id is None
            and self.experts_version is not None
            and self.experts_version < self.text_version
        )


async def wake_embedding(conn: Connection) -> None:
    """Wake the embedding workers once this transaction commits."""
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


async def claim(conn: Connection, limit: int) -> list[Claimed]:
    """Up to ``limit`` posts to do, locked until the transaction ends (others skip them)."""
    rows = await conn.fetch(_CLAIM, limit)
    return [
        Claimed(
            tenant=r["tenant_id"],
            object_id=r["object_id"],
            text=r["text"],
            text_version=r["text_version"],
            kind=r["kind"],
            author_id=r["author_id"],
            group_id=r["group_id"],
            parent_id=r["parent_id"],
            open=r["open"],
            deleted=r["deleted"],
            stored_model=r["stored_model"],
            stored_version=r["stored_version"],
            has_vector=r["has_vector"],
            experts_version=r["experts_version"],
            published=r["published"],
        )
        for r in rows
    ]


async def backlog(conn: Connection) -> int:
    """Posts to do, every tenant's."""
    return int(await conn.fetchval(_BACKLOG))


async def lock_tenants(conn: Connection, tenants: Sequence[str]) -> None:
    """Hold the seq lock of each tenant (sorted: no deadlock between two writers)."""
    await conn.execute(_LOCK_TENANTS, sorted(set(tenants)))


async def store(
    conn: Connection, model: str, posts: Sequence[Claimed], vectors: Sequence[bytes]
) -> None:
    """Write ``posts``' vectors (each for the text_version claimed)."""
    if not posts:
        return
    await conn.execute(
        _STORE,
        model,
        [p.tenant for p in posts],
        [p.object_id for p in posts],
        [p.text_version for p in posts],
        list(vectors),
        [p.kind for p in posts],
        [p.author_id for p in posts],
        [p.group_id for p in posts],
        [p.open for p in posts],
    )


async def reopen(conn: Connection, posts: Sequence[Claimed]) -> None:
    """Copy a changed ``open`` to vectors that are otherwise current."""
    if posts:
        await conn.execute(
            _REOPEN,
            [p.tenant for p in posts],
            [p.object_id for p in posts],
            [p.open for p in posts],
        )


async def remove(conn: Connection, posts: Sequence[Claimed]) -> None:
    """Tombstone the vectors of deleted or blanked posts."""
    if posts:
        await conn.execute(
            _TOMBSTONE,
            [p.tenant for p in posts],
            [p.object_id for p in posts],
            [p.text_version for p in posts],
        )


async def done(conn: Connection, posts: Sequence[Claimed]) -> None:
    """Mark ``posts`` done for the text_version and openness claimed."""
    await conn.execute(
        _DONE,
        [p.tenant for p in posts],
        [p.object_id for p in posts],
        [p.text_version for p in posts],
        [p.open for p in posts],
    )


async def embed_again_other_models(pool: asyncpg.Pool, model: str) -> int:
    """Put back to do every post whose vector another model made; how many."""
    async with pool.acquire() as conn:
        status = await conn.execute(_OTHER_MODEL, model)
    return int(status.split()[-1])


async def experts_published(conn: Connection, tenant: str, question_id: str, version: int) -> None:
    """Record that ``question_id``'s likely answerers went out for its text ``version``."""
    await conn.execute(
        "UPDATE questions SET experts_version = greatest(experts_version, $3) "
        "WHERE tenant_id = $1 AND question_id = $2",
        tenant,
        question_id,
        version,
    )
