"""A post's thread around it: ``GET /v1/posts/{id}/context`` (docs/architecture.md §16).

The thread's posts are loaded in one query (each with what the caller's access to it depends
on), ordered by :func:`~canopy_ingestion.domain.threads.order_thread`, and shown as the caller
reads them. Deleted posts and posts the caller may not see are left out, as Mastodon does:
the walk still crosses them, so a visible reply to a hidden post keeps its place (and its
``inReplyTo`` names the post it answers).
"""

from __future__ import annotations

from canopy_common.db import Connection
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.threads import ThreadNode, order_thread
from canopy_ingestion.handlers.post_views import Doc, readable, render_for, visible_post

# How much of a thread a context walks: its first posts (a thread longer than this is shown
# up to here; no thread in a workplace network comes near it).
MAX_THREAD_POSTS = 5_000
# The nearest ancestors shown (Mastodon's limit too); the root is among them but in a
# deeper chain.
MAX_ANCESTORS = 40
# The descendants shown, in thread order: a big thread's first thousand replies.
MAX_DESCENDANTS = 1_000


async def read_context(post_id: str, *, conn: Connection, actor: User, moderator: bool) -> Doc:
    """``{"ancestors": [...], "descendants": [...]}`` of a post the caller may see (404
    otherwise), each post as the caller reads it: answers are ``kind: answer``, the
    accepted one ``accepted: true``. Moderators see every live post, as on a post's read."""
    ctx = await visible_post(conn, actor, post_id, moderator=moderator)
    thread = await store.thread_posts(
        conn, actor.tenant_id, ctx.post.thread_id, actor.id, limit=MAX_THREAD_POSTS
    )
    by_id = {found.post.id: found for found in thread}
    by_id[ctx.post.id] = ctx
    nodes = (ThreadNode(c.post.id, c.post.in_reply_to, c.post.published) for c in by_id.values())
    order = order_thread(nodes, ctx.post.id)
    ancestors = [
        by_id[i] for i in order.ancestors if readable(actor, by_id[i], moderator=moderator)
    ]
    descendants = [
        by_id[i] for i in order.descendants if readable(actor, by_id[i], moderator=moderator)
    ]
    ancestors, descendants = ancestors[-MAX_ANCESTORS:], descendants[:MAX_DESCENDANTS]
    docs = await render_for(conn, actor, [*ancestors, *descendants])
    shown = {doc["id"]: doc for doc in docs}
    return {
        "ancestors": [shown[c.post.id] for c in ancestors if c.post.id in shown],
        "descendants": [shown[c.post.id] for c in descendants if c.post.id in shown],
    }
