"""What a post's text goes through: NFC, limits, mentions and hashtags, the content policy.

The policy refuses a match (422 naming the rule) where a guest could read the post; anywhere
else the post is accepted and a Flag for moderators is raised in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from canopy_common.events import Visibility, new_activity_id
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.adapters.outbox import Statement
from canopy_ingestion.domain.activities import CanonicalActivity, activity
from canopy_ingestion.domain.model import Group, GroupVisibility, Post, User
from canopy_ingestion.domain.policy import (
    MAX_NAME_CHARS,
    ContentPolicyViolation,
    check_limits,
    matched_rules,
    rules_for,
)
from canopy_ingestion.domain.text import (
    check_mentions,
    clean_line,
    normalize,
    parse_hashtags,
    parse_mentions,
)
from canopy_ingestion.domain.visibility import reaches_guests
from canopy_ingestion.handlers.post_views import Doc, with_members
from canopy_ingestion.handlers.post_work import PolicyReads, PostWork

POLICY_ACTOR = "Content policy"


def read_content(raw: str) -> tuple[str, list[str], list[str]]:
    """NFC content (newlines as ``\\n``) with its mentioned handles and hashtags, within the
    limits; raises 422."""
    content = normalize(raw.replace("\r\n", "\n").replace("\r", "\n"))
    check_mentions(content)
    handles, hashtags = parse_mentions(content), parse_hashtags(content)
    check_limits(content, mentions=len(handles), hashtags=len(hashtags))
    return content, handles, hashtags


def clean_name(name: str | None) -> str | None:
    """A post's title: one line, NFC, no control characters."""
    return None if name is None else clean_line(name, field="name", max_length=MAX_NAME_CHARS)


async def mentioned(work: PostWork, tenant: str, handles: list[str]) -> tuple[User, ...]:
    """The active people the handles name, in mention order; unknown handles stay text."""
    if not handles:
        return ()
    found = await work.active_by_handle(tenant, handles)
    return tuple(found[handle] for handle in handles if handle in found)


async def apply_policy(
    work: PolicyReads,
    post: Post,
    group_of: Group | None,
    addressed: Iterable[User],
    *,
    before: Post | None = None,
) -> list[str]:
    """The tenant's content rules on ``post``: 422 when a guest could read a match, else the
    rules to flag — those ``before`` (the previous version of an edit) did not match."""
    tenant = await work.tenant(post.tenant_id)
    rules = rules_for(tenant.content_policy if tenant else None)
    matched = matched_rules(_text_of(post), rules)
    if not matched:
        return []
    guest_members = (
        group_of is not None
        and group_of.visibility is not GroupVisibility.PUBLIC
        and await work.has_guest_members(post.tenant_id, group_of.id)
    )
    guest_addressees = any(user.is_guest for user in addressed)
    if reaches_guests(
        post, group_of, guest_addressees=guest_addressees, guest_members=guest_members
    ):
        raise ContentPolicyViolation(matched)
    already = set(matched_rules(_text_of(before), rules)) if before is not None else set()
    return [rule for rule in matched if rule not in already]


def policy_flag(
    author: User, post: Post, obj: Doc, rules: list[str]
) -> tuple[CanonicalActivity, Statement]:
    """The Flag the content policy raises for moderators, and the INSERT recording it (for
    the caller to run with the post's own write).

    Its actor is a service, not the author: the author reported nothing, and moderation tools
    must not show them flagging themselves. The flags row keeps the author as reporter_id (the
    column is required) and the matched rules in ``rule``.
    """
    flag_id, names = new_activity_id(), ",".join(rules)
    reason = f"content policy: {', '.join(rules)}"
    record = store.insert_flag_statement(post.tenant_id, flag_id, post.id, author.id, reason, names)
    flag = activity(
        "Flag",
        actor=author,
        obj=obj,
        visibility=Visibility.DIRECT.value,
        activity_id=flag_id,
        summary=reason,
        rule=names,
        context=post.thread_id,
    )
    service = {
        "type": "Service",
        "id": f"urn:canopy:{post.tenant_id}:service:content-policy",
        "name": POLICY_ACTOR,
    }
    return with_members(flag, actor=service), record


def _text_of(post: Post) -> str:
    return f"{post.name}\n{post.content}" if post.name else post.content
