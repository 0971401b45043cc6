"""Writing the rollups: what a :class:`~canopy_analytics.domain.facts.Fact` or a batch of
impressions adds to the ``analytics`` schema. Repositories never commit: the stream's
transaction holds a batch, and each activity is applied once (``consumed_activities``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from canopy_analytics.domain.facts import Action, Fact, Post
from canopy_common.db import Connection

# Actions that make their actor active in the group they happen in.
_IN_GROUP = frozenset({Action.POST, Action.COMMENT, Action.REACT, Action.SHARE})
_POST_COUNTERS = {
    Action.REACT: ("reactions", 1),
    Action.SHARE: ("shares", 1),
    Action.UNDO_REACT: ("reactions", -1),
    Action.UNDO_SHARE: ("shares", -1),
}


def _text_changed(old: str, new: str) -> str:
    """SQL: 1 when a post's text changes from ``old`` to ``new``, else 0 — what
    ``posts.text_version`` goes up by (docs/architecture.md §17)."""
    return f"CASE WHEN {old} IS DISTINCT FROM {new} THEN 1 ELSE 0 END"


_BLANK = "''"  # SQL: the empty text
# The configuration a tenant's posts are indexed with (search_settings; english by default).
_TENANT_CONFIG = (
    "coalesce((SELECT language FROM search_settings WHERE tenant_id = $1), 'english'::regconfig)"
)


@dataclass(frozen=True, slots=True)
class Viewed:
    """One impression: ``viewer`` was shown ``object_id`` at ``at``."""

    tenant: str
    viewer: str
    object_id: str
    at: datetime

    @property
    def day(self) -> date:
        return self.at.astimezone(UTC).date()


async def apply_fact(conn: Connection, fact: Fact) -> None:
    """Add one activity's effect to the rollups."""
    tenant, day = fact.tenant, fact.day
    if fact.actor is not None:
        await _actor(conn, tenant, day, fact.actor, fact.created, fact.contributed)
    post = fact.post
    group_id = fact.group_id
    if fact.action in _POST_COUNTERS and post is not None:
        column, delta = _POST_COUNTERS[fact.action]
        found = await _count_on_post(conn, tenant, post, column, delta)
        group_id = group_id or found.group_id
        if fact.action is Action.REACT:
            post = _merge(post, found)
        elif fact.action is Action.UNDO_REACT:
            post = found
    if group_id is not None and fact.actor is not None and fact.action in _IN_GROUP:
        await conn.execute(
            "INSERT INTO daily_group_actors (tenant_id, day, group_id, user_id) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            tenant,
            day,
            group_id,
            fact.actor,
        )
    for metric, kind, delta in fact.counts:
        for scope in ("", group_id) if group_id else ("",):
            await conn.execute(
                "INSERT INTO daily_counts (tenant_id, day, group_id, metric, kind, n) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, group_id, metric, day, "
                "kind) DO UPDATE SET n = daily_counts.n + EXCLUDED.n",
                tenant,
                day,
                scope,
                metric,
                kind,
                delta,
            )
    match fact.action:
        case Action.POST | Action.COMMENT | Action.CONTENT if post is not None:
            await _store_post(conn, tenant, post)
            await _created_post(conn, fact, post)
        case Action.EDIT if post is not None:
            await _edit_post(conn, tenant, post)
        case Action.DELETE if post is not None:
            # A deleted post's text leaves the index (and whatever is derived from it).
            await conn.execute(
                "UPDATE posts SET deleted = true, title = NULL, text = '', "
                f"text_version = text_version + ({_text_changed('text', _BLANK)}) "
                "WHERE tenant_id = $1 AND object_id = $2",
                tenant,
                post.object_id,
            )
        case Action.REACT | Action.UNDO_REACT if post is not None and post.open:
            if post.author_id is not None and post.author_id != fact.actor:
                delta = 1 if fact.action is Action.REACT else -1
                await _contributed(
                    conn, tenant, post.tags, post.author_id, "reactions_received", delta
                )
        case Action.ACCEPT if post is not None:
            await _accepted(conn, fact, post)


async def apply_impressions(conn: Connection, seen: Sequence[Viewed]) -> None:
    """Unique viewers per post (exact: a viewer counts once however often they are shown it),
    and viewers as active people, in the tenant and in the post's group."""
    if not seen:
        return
    columns = (
        [v.tenant for v in seen],
        [v.object_id for v in seen],
        [v.viewer for v in seen],
        [v.at for v in seen],
    )
    await conn.execute(
        "WITH new AS (INSERT INTO post_viewers (tenant_id, object_id, viewer_id, first_seen) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) "
        "ON CONFLICT DO NOTHING RETURNING tenant_id, object_id) "
        "INSERT INTO posts (tenant_id, object_id, viewers) "
        "SELECT tenant_id, object_id, count(*) FROM new GROUP BY tenant_id, object_id "
        "ON CONFLICT (tenant_id, object_id) DO UPDATE SET "
        "viewers = posts.viewers + EXCLUDED.viewers",
        *columns,
    )
    days = [v.day for v in seen]
    await conn.execute(
        "INSERT INTO daily_actors (tenant_id, day, user_id) "
        "SELECT DISTINCT * FROM unnest($1::text[], $2::date[], $3::text[]) "
        "ON CONFLICT DO NOTHING",
        columns[0],
        days,
        columns[2],
    )
    await conn.execute(
        "INSERT INTO daily_group_actors (tenant_id, day, group_id, user_id) "
        "SELECT DISTINCT i.tenant_id, i.day, p.group_id, i.viewer_id "
        "FROM unnest($1::text[], $2::date[], $3::text[], $4::text[]) "
        "AS i (tenant_id, day, object_id, viewer_id) "
        "JOIN posts p ON p.tenant_id = i.tenant_id AND p.object_id = i.object_id "
        "WHERE p.group_id IS NOT NULL ON CONFLICT DO NOTHING",
        columns[0],
        days,
        columns[1],
        columns[2],
    )


# --- pieces -----------------------------------------------------------------------------------


async def _actor(
    conn: Connection, tenant: str, day: date, user: str, created: bool, contributed: bool
) -> None:
    await conn.execute(
        "INSERT INTO daily_actors (tenant_id, day, user_id, created, contributed) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, day, user_id) DO UPDATE SET "
        "created = daily_actors.created OR EXCLUDED.created, "
        "contributed = daily_actors.contributed OR EXCLUDED.contributed",
        tenant,
        day,
        user,
        created,
        contributed,
    )


async def _store_post(conn: Connection, tenant: str, post: Post) -> None:
    """A post's own facts; its counters may already be there (a reaction came first). Its
    text is indexed with the tenant's search configuration (docs/architecture.md §17)."""
    await conn.execute(
        "INSERT INTO posts (tenant_id, object_id, author_id, group_id, kind, visibility, "
        "published, parent_id, tags, open, title, text, text_version, addressees, mentions, "
        "search_config) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        f"({_text_changed(_BLANK, '$12')}), $13, $14, {_TENANT_CONFIG}) "
        "ON CONFLICT (tenant_id, object_id) DO UPDATE SET author_id = EXCLUDED.author_id, "
        "group_id = EXCLUDED.group_id, kind = EXCLUDED.kind, visibility = EXCLUDED.visibility, "
        "published = EXCLUDED.published, parent_id = EXCLUDED.parent_id, tags = EXCLUDED.tags, "
        "open = EXCLUDED.open, title = EXCLUDED.title, text = EXCLUDED.text, "
        f"text_version = posts.text_version + ({_text_changed('posts.text', 'EXCLUDED.text')}), "
        "addressees = EXCLUDED.addressees, mentions = EXCLUDED.mentions, "
        "search_config = EXCLUDED.search_config",
        tenant,
        post.object_id,
        post.author_id,
        post.group_id,
        post.kind,
        post.visibility,
        post.published,
        post.parent_id,
        list(post.tags),
        post.open,
        post.title,
        post.text,
        list(post.addressees),
        list(post.mentions),
    )


async def _edit_post(conn: Connection, tenant: str, post: Post) -> None:
    """An edit: the post's new text, audience and hashtags (a deleted post stays blank)."""
    await conn.execute(
        "UPDATE posts SET title = $3, text = $4, "
        f"text_version = text_version + ({_text_changed('text', '$4')}), "
        "visibility = coalesce($5, visibility), tags = $6, open = $7, addressees = $8, "
        f"mentions = $9, search_config = {_TENANT_CONFIG} "
        "WHERE tenant_id = $1 AND object_id = $2 AND NOT deleted",
        tenant,
        post.object_id,
        post.title,
        post.text,
        post.visibility,
        list(post.tags),
        post.open,
        list(post.addressees),
        list(post.mentions),
    )


async def _count_on_post(
    conn: Connection, tenant: str, post: Post, column: str, delta: int
) -> Post:
    """Add ``delta`` to one of a post's counters (creating its row from what the activity
    embeds when the post's Create has not arrived yet); the post as stored."""
    row = await conn.fetchrow(
        "INSERT INTO posts (tenant_id, object_id, author_id, group_id, kind, visibility, "
        f"published, tags, open, {column}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        f"ON CONFLICT (tenant_id, object_id) DO UPDATE SET {column} = posts.{column} + $10, "
        "author_id = coalesce(posts.author_id, EXCLUDED.author_id) "
        "RETURNING author_id, group_id, kind, tags, open",
        tenant,
        post.object_id,
        post.author_id,
        post.group_id,
        post.kind,
        post.visibility,
        post.published,
        list(post.tags),
        post.open,
        delta,
    )
    assert row is not None
    return Post(
        object_id=post.object_id,
        author_id=row["author_id"],
        group_id=row["group_id"],
        kind=row["kind"],
        tags=tuple(row["tags"]),
        open=row["open"],
    )


def _merge(embedded: Post, stored: Post) -> Post:
    """What a reaction says of its post, completed by what is stored."""
    return Post(
        object_id=embedded.object_id,
        author_id=embedded.author_id or stored.author_id,
        group_id=embedded.group_id or stored.group_id,
        kind=embedded.kind or stored.kind,
        tags=embedded.tags or stored.tags,
        open=embedded.open,
    )


async def _created_post(conn: Connection, fact: Fact, post: Post) -> None:
    tenant = fact.tenant
    if post.parent_id is not None:
        await conn.execute(
            "INSERT INTO posts (tenant_id, object_id, comments) VALUES ($1, $2, 1) "
            "ON CONFLICT (tenant_id, object_id) DO UPDATE SET comments = posts.comments + 1",
            tenant,
            post.parent_id,
        )
    if fact.action is Action.POST and post.kind == "question":
        await conn.execute(
            "INSERT INTO questions (tenant_id, question_id, group_id, asked_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, question_id) DO UPDATE SET "
            "group_id = EXCLUDED.group_id, asked_at = EXCLUDED.asked_at",
            tenant,
            post.object_id,
            post.group_id,
            fact.at,
        )
    if fact.question is not None:  # an answer
        await conn.execute(
            "INSERT INTO questions (tenant_id, question_id, first_answer_at, answers) "
            "VALUES ($1, $2, $3, 1) ON CONFLICT (tenant_id, question_id) DO UPDATE SET "
            "answers = questions.answers + 1, first_answer_at = "
            "least(questions.first_answer_at, EXCLUDED.first_answer_at)",
            tenant,
            fact.question.object_id,
            fact.at,
        )
    if post.open and post.author_id is not None and fact.action is not Action.CONTENT:
        hour = fact.at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        for tag in post.tags:
            await conn.execute(
                "INSERT INTO tag_counts (tenant_id, tag, hour, n) VALUES ($1, $2, $3, 1) "
                "ON CONFLICT (tenant_id, hour, tag) DO UPDATE SET n = tag_counts.n + 1",
                tenant,
                tag,
                hour,
            )
        await _contributed(conn, tenant, post.tags, post.author_id, "posts", 1)


async def _accepted(conn: Connection, fact: Fact, answer: Post) -> None:
    """An accepted answer: the question's Q&A health, and the answerer's expertise on the
    question's topics."""
    tenant = fact.tenant
    question_id = fact.question.object_id if fact.question is not None else answer.parent_id
    if question_id is None:
        return
    await conn.execute(
        "INSERT INTO questions (tenant_id, question_id, accepted_at, accepted_answer_id) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, question_id) DO UPDATE SET "
        "accepted_at = coalesce(questions.accepted_at, EXCLUDED.accepted_at), "
        "accepted_answer_id = EXCLUDED.accepted_answer_id",  # the latest Accept (§17)
        tenant,
        question_id,
        fact.at,
        answer.object_id,
    )
    question = fact.question
    stored = await conn.fetchrow(
        "SELECT tags, open FROM posts WHERE tenant_id = $1 AND object_id = $2", tenant, question_id
    )
    tags = question.tags if question is not None and question.tags else ()
    is_open = question.open if question is not None else False
    if stored is not None and not tags:
        tags, is_open = tuple(stored["tags"]), stored["open"]
    if is_open and answer.author_id is not None and answer.author_id != fact.actor:
        await _contributed(conn, tenant, tags, answer.author_id, "accepted_answers", 1)


async def _contributed(
    conn: Connection, tenant: str, topics: Sequence[str], user: str, column: str, delta: int
) -> None:
    for topic in topics:
        await conn.execute(
            f"INSERT INTO topic_contributions (tenant_id, topic, user_id, {column}) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, topic, user_id) DO UPDATE SET "
            f"{column} = topic_contributions.{column} + EXCLUDED.{column}",
            tenant,
            topic,
            user,
            delta,
        )
