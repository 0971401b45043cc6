"""``make demo-traffic``: the demo company keeps working until Ctrl-C.

At a modest rate (``--rate`` actions per second, 0.5 by default, with random gaps), someone
posts a note or asks a question, reads their home feed and reacts to or replies to (answers)
what they see there, or follows a colleague. Everything goes through the public APIs with the
person's own token; reading feeds also produces the impressions analytics counts as reach.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from canopy_common.settings import KafkaSettings
from canopy_dev.demo import texts
from canopy_dev.demo.client import Api, DemoError
from canopy_dev.demo.content import Writer
from canopy_dev.demo.model import Company, ReactionKind
from canopy_dev.demo.seed import Seeder

DEFAULT_RATE = 0.5  # actions per second: visible in feeds, easy on a laptop
REPLYABLE = frozenset({"note", "question", "announcement", "article"})
REACTIONS: tuple[ReactionKind, ...] = ("like", "like", "like", "celebrate", "insightful", "support")
ANSWERS = (
    "I think the wiki covers this, happy to pair on it if not.",
    "We did this last quarter: ping me and I'll share the notes.",
    "Short answer: yes. Longer answer in the runbook.",
)


class Traffic:
    """Picks a person and an action, again and again."""

    def __init__(
        self, company: Company, api: Api, group_ids: dict[str, str], rng: random.Random
    ) -> None:
        self.company = company
        self.api = api
        self.group_ids = group_ids
        self.rng = rng
        people = list(company.people)
        self.writer = Writer(rng, people, list(company.groups), company.reader_id)
        self.staff = [p.id for p in people]
        self.actions: list[tuple[float, Callable[[str], Any]]] = [
            (0.25, self.post),
            (0.05, self.ask),
            (0.25, self.reply),
            (0.35, self.react),
            (0.10, self.follow),
        ]

    async def act(self) -> str:
        """One action by someone; a line saying what happened."""
        who = self.rng.choice(self.staff)
        weights = [weight for weight, _ in self.actions]
        action = self.rng.choices([act for _, act in self.actions], weights)[0]
        done: str = await action(who)
        return f"{datetime.now():%H:%M:%S} {who} {done}"

    async def post(self, who: str) -> str:
        note = self.writer.note(who, 0)
        body: dict[str, Any] = {"content": note.content}
        if note.group_key:
            body["group_id"] = self.group_ids[note.group_key]
        await self.api.write("POST", "/v1/posts", who, json=body)
        return f"posted: {note.content[:70]}"

    async def ask(self, who: str) -> str:
        question = self.rng.choice(texts.QUESTIONS)[0]
        body = {"content": question, "kind": "question"}
        await self.api.write("POST", "/v1/posts", who, json=body)
        return f"asked: {question[:70]}"

    async def seen(self, who: str) -> list[dict[str, Any]]:
        """Posts on ``who``'s home feed they did not write (reading it counts as a view)."""
        url = f"{self.api.endpoints.fanout}/v1/feeds/home"
        page = await self.api.call("GET", url, who, params={"limit": 20})
        return [
            item["object"]
            for item in page.json()["items"]
            if item.get("type") == "Create"
            and isinstance(item.get("object"), dict)
            and item["object"].get("kind") in REPLYABLE
            and item["object"].get("attributedTo", {}).get("preferredUsername") != who
        ]

    async def reply(self, who: str) -> str:
        posts = await self.seen(who)
        if not posts:
            return await self.post(who)
        post = self.rng.choice(posts)
        author = post["attributedTo"].get("preferredUsername", "")
        if post.get("kind") == "question":
            body = {"content": self.rng.choice(ANSWERS), "kind": "answer"}
        else:
            heads_up = post.get("kind") == "announcement" or author not in self.staff
            template = self.rng.choice(texts.ACK_REPLIES if heads_up else texts.REPLIES)
            viewers = [author] if author in self.staff else self.staff
            content = self.writer.fill(template, who, viewers, op=f"@{author}")
            body = {"content": content, "kind": "note"}
        body["in_reply_to"] = post["id"]
        await self.api.write("POST", "/v1/posts", who, json=body)
        return f"{'answered' if body['kind'] == 'answer' else 'replied to'} @{author}"

    async def react(self, who: str) -> str:
        posts = await self.seen(who)
        if not posts:
            return await self.follow(who)
        post = self.rng.choice(posts)
        kind = self.rng.choice(REACTIONS)
        await self.api.write("PUT", f"/v1/posts/{post['id']}/reactions/{kind}", who)
        author = post["attributedTo"].get("preferredUsername", "")
        return f"reacted {kind} to @{author}'s {post.get('kind', 'post')}"

    async def follow(self, who: str) -> str:
        whom = self.rng.choice([uid for uid in self.staff if uid != who])
        await self.api.write("PUT", f"/v1/follows/{whom}", who)
        return f"follows @{whom}"


async def run_traffic(
    company: Company,
    api: Api,
    kafka: KafkaSettings,
    *,
    rate: float = DEFAULT_RATE,
    duration_s: float | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Generate activity until cancelled (Ctrl-C) or ``duration_s`` passes; how many actions."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    admin = company.admin_id
    seeded = await api.write("GET", f"/v1/users/{company.reader_id}", admin, expect=(200, 403, 404))
    if seeded.status_code != 200:
        raise DemoError(f"tenant {company.tenant} has no demo company yet: run `make up` first")
    seeder = Seeder(company, api, kafka, say=lambda _: None)
    await seeder.groups()  # replays the seed's group creation: the groups' ids
    traffic = Traffic(company, api, seeder.group_ids, random.Random())
    deadline = None if duration_s is None else time.monotonic() + duration_s
    say(f"demo traffic for tenant {company.tenant}: about {rate:g} actions/s, Ctrl-C stops it")
    done = 0
    while deadline is None or time.monotonic() < deadline:
        try:
            say(await traffic.act())
            done += 1
        except DemoError as exc:  # a refused action (e.g. a reaction raced a delete): go on
            say(f"skipped: {exc}")
        await asyncio.sleep(traffic.rng.expovariate(rate))
    return done
