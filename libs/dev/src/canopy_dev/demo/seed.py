"""Apply the demo company to a running Canopy through its public APIs and the upstream topic.

A platform admin provisions the tenant, its tenant admin provisions people (managers first)
and bots, the HR system announces this week's joiners upstream; then every person acts with
their own token: creates groups, joins them (or asks to), follows people and hashtags, posts,
replies, answers, accepts, reacts and shares, one notional day after another (before the last
one the task tracker and HR assign tasks, and the IT desk announces maintenance, upstream).
The write API stamps everything with the time of the request: the days order the content,
they do not backdate it.

Idempotent: POSTs carry an ``Idempotency-Key`` made of the item's stable key and a digest of
its text, so a second run gets the first run's answers (and ids) back; PUTs of people,
memberships, follows and reactions are "already so"; upstream events have stable ids that
ingestion's inbox applies once, and joiners and tasks are looked up first.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from canopy_common.settings import KafkaSettings
from canopy_dev.demo import upstream
from canopy_dev.demo.client import Api, DemoError, created, each
from canopy_dev.demo.content import DAYS
from canopy_dev.demo.model import Company, Group, Person, Post, Reaction

CONCURRENCY = 8  # requests in flight: more only queue up on a two-core machine
UPSTREAM_TIMEOUT_S = 60.0  # ingestion's consumer applies the upstream events
SETTLE_TIMEOUT_S = 90.0  # fan-out, notifications and analytics catch up with the writes
PLATFORM_ADMIN = "demo-platform-admin"
DEMO_ROUTING_DELAY_S = 60  # notify's minimum delay before an unanswered question is routed


@dataclass
class SeedReport:
    """What a run did: per kind of item, how many the run created (0 everywhere the second
    time), how long it took, and whether every service had caught up when it ended."""

    tenant: str
    created: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    settled: bool = False

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    def describe(self) -> str:
        made = ", ".join(f"{n} {kind}" for kind, n in sorted(self.created.items()) if n)
        return (
            f"tenant {self.tenant} seeded in {self.seconds:.1f} s: "
            f"{made or 'nothing new (already seeded)'}"
        )


class Seeder:
    """Applies one :class:`Company` through ``api`` (and ``kafka`` for the upstream topic)."""

    def __init__(
        self,
        company: Company,
        api: Api,
        kafka: KafkaSettings,
        *,
        say: Callable[[str], None] = print,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.company = company
        self.api = api
        self.kafka = kafka
        self.say = say
        self.concurrency = concurrency
        self.report = SeedReport(company.tenant)
        self.started = time.monotonic()
        self.group_ids: dict[str, str] = {}
        self.post_ids: dict[str, str] = {}
        self.post_keys = idempotency_keys(company.posts)

    async def run(self, *, settle_timeout_s: float = SETTLE_TIMEOUT_S) -> SeedReport:
        """Seed everything, wait (bounded) until the read side caught up; the report."""
        self.started = time.monotonic()
        await self.tenant()
        await self.people()
        await self.routing()
        await self.joiners()
        self.log(f"{len(self.company.people)} people and {len(self.company.bots)} bots")
        await self.groups()
        await self.memberships()
        await self.graph()
        for day in DAYS:
            if day == 0:  # assigned yesterday: today's posts stay on top of the feeds
                await self.upstream_items()
            await self.day(day)
        await self.shares()
        self.report.seconds = time.monotonic() - self.started
        self.log(self.report.describe())
        self.report.settled = await self.settle(settle_timeout_s)
        return self.report

    def log(self, line: str) -> None:
        self.say(f"{time.monotonic() - self.started:5.1f}s {line}")

    async def _each(self, kind: str, items: Iterable[Any], act: Callable[[Any], Any]) -> None:
        self.report.created[kind] += await each(items, act, self.concurrency)

    # who ----------------------------------------------------------------------------------

    async def tenant(self) -> None:
        path, body = f"/v1/tenants/{self.company.tenant}", {"name": self.company.name}
        response = await self.api.write(
            "PUT", path, PLATFORM_ADMIN, roles=("platform_admin",), json=body
        )
        self.report.created["tenant"] += created(response)

    async def routing(self) -> None:
        """A minute, not the default hours, before an unanswered question goes to people who
        may answer it, so a newcomer sees it happen (notify arms each question at its Create,
        so this comes before any question)."""
        url = f"{self.api.endpoints.notify}/v1/notification-preferences/tenant"
        body = {"question_routing_delay_s": DEMO_ROUTING_DELAY_S}
        roles = ("member", "tenant_admin")
        deadline = time.monotonic() + UPSTREAM_TIMEOUT_S
        # 403 until notify's projection of people has the admin, whom ingestion just announced.
        while True:
            response = await self.api.call(
                "PUT", url, self.company.admin_id, roles=roles, json=body, expect=(200, 403)
            )
            if response.status_code == 200:
                return
            if time.monotonic() > deadline:
                raise DemoError(f"notify never knew the tenant admin: {response.text[:300]}")
            await asyncio.sleep(0.5)

    async def people(self) -> None:
        company = self.company

        async def provision(person: Person) -> bool:
            return await self.provision(profile(person), person.id)

        async def bot(b: Any) -> bool:
            body = {"handle": b.id, "display_name": b.display_name, "kind": "bot", "roles": []}
            return await self.provision(body, b.id)

        await self._each("bots", company.bots, bot)
        for level in manager_levels(p for p in company.people if not p.via_upstream):
            await self._each("people", level, provision)

    async def provision(self, body: dict[str, Any], user_id: str) -> bool:
        admin, path = self.company.admin_id, f"/v1/users/{user_id}"
        return created(await self.api.write("PUT", path, admin, roles=("tenant_admin",), json=body))

    async def exists(self, path: str, as_user: str) -> bool:
        response = await self.api.write("GET", path, as_user, expect=(200, 404))
        return response.status_code == 200

    async def joiners(self) -> None:
        """This week's joiners arrive from the HR system on the upstream topic."""
        admin = self.company.admin_id
        joiners = [p for p in self.company.people if p.via_upstream]
        missing = [p for p in joiners if not await self.exists(f"/v1/users/{p.id}", admin)]
        now = datetime.now(UTC)
        await upstream.publish(self.kafka, [upstream.joiner(self.company, p, now) for p in missing])
        await self.until_exist([f"/v1/users/{p.id}" for p in missing], admin, "joiners")
        self.report.created["joiners (upstream)"] += len(missing)

    async def until_exist(self, paths: list[str], as_user: str, what: str) -> None:
        deadline = time.monotonic() + UPSTREAM_TIMEOUT_S
        waiting = list(paths)
        while waiting:
            waiting = [path for path in waiting if not await self.exists(path, as_user)]
            if waiting and time.monotonic() > deadline:
                raise DemoError(f"the upstream {what} were not applied: {waiting}")
            if waiting:
                await asyncio.sleep(0.3)

    # groups and the graph -----------------------------------------------------------------

    async def groups(self) -> None:
        async def create(group: Group) -> bool:
            body = {
                "name": group.name,
                "description": group.description,
                "visibility": group.visibility,
                "join_policy": group.join_policy,
            }
            response = await self.api.write(
                "POST", "/v1/groups", group.owner_id, json=body, key=f"demo:group:{group.key}"
            )
            self.group_ids[group.key] = response.json()["id"]
            return created(response)

        await self._each("groups", self.company.groups, create)

    async def memberships(self) -> None:
        """Open groups are joined by the members themselves; the owner adds people to private
        and request-only groups, and makes the admins; some people ask to join."""
        calls: list[tuple[str, str, str, dict[str, str] | None]] = []  # group, who, whom, body
        for group in self.company.groups:
            by_themselves = group.visibility != "private" and group.join_policy == "open"
            for member in group.members:
                if member in group.admins:
                    calls.append((group.key, group.owner_id, member, {"role": "admin"}))
                elif by_themselves:
                    calls.append((group.key, member, member, None))
                else:
                    calls.append((group.key, group.owner_id, member, None))
            calls += [(group.key, asker, asker, None) for asker in group.requests]

        async def put(call: tuple[str, str, str, dict[str, str] | None]) -> bool:
            group_key, who, whom, body = call
            path = f"/v1/groups/{self.group_ids[group_key]}/members/{whom}"
            return created(await self.api.write("PUT", path, who, json=body))

        await self._each("memberships", calls, put)
        self.log(f"{len(self.company.groups)} groups, {len(calls)} memberships and join requests")

    async def graph(self) -> None:
        async def follow(pair: tuple[str, str]) -> bool:
            who, whom = pair
            return created(await self.api.write("PUT", f"/v1/follows/{whom}", who))

        async def follow_tag(pair: tuple[str, str]) -> bool:
            who, tag = pair
            return created(await self.api.write("PUT", f"/v1/tag-follows/{tag}", who))

        await self._each("follows", self.company.follows, follow)
        await self._each("hashtag follows", self.company.tag_follows, follow_tag)
        self.log(
            f"{len(self.company.follows)} follows, {len(self.company.tag_follows)} hashtag follows"
        )

    # what people write --------------------------------------------------------------------

    async def day(self, day: int) -> None:
        """One notional day: posts, then replies and answers, accepted answers, reactions."""
        posts = [p for p in self.company.posts if p.day == day]
        await self._each("posts", [p for p in posts if p.reply_to is None], self.write_post)
        await self._each("replies", [p for p in posts if p.reply_to], self.write_post)
        keys = {p.key for p in posts}
        accepts = [a for a in self.company.accepts if a.question_key in keys]

        async def accept(question_key: str, answer_key: str) -> bool:
            question = self.post_ids[question_key]
            response = await self.api.write(
                "POST",
                f"/v1/posts/{question}/accept",
                self.company.post(question_key).author_id,
                json={"answer_id": self.post_ids[answer_key]},
                key=f"demo:accept:{self.post_keys[question_key]}:{self.post_keys[answer_key]}",
            )
            return bool(response.headers.get("Idempotent-Replayed") != "true")

        await self._each(
            "accepted answers", accepts, lambda a: accept(a.question_key, a.answer_key)
        )
        reactions = [r for r in self.company.reactions if r.post_key in keys]
        await self._each("reactions", reactions, self.react)
        self.log(f"day -{day}: {len(posts)} posts and replies, {len(reactions)} reactions")

    async def write_post(self, post: Post) -> bool:
        body: dict[str, Any] = {"content": post.content, "kind": post.kind}
        if post.reply_to:
            body["in_reply_to"] = self.post_ids[post.reply_to]
        elif post.group_key:
            body["group_id"] = self.group_ids[post.group_key]
        if post.name:
            body["name"] = post.name
        response = await self.api.write(
            "POST", "/v1/posts", post.author_id, json=body, key=self.post_keys[post.key]
        )
        self.post_ids[post.key] = response.json()["id"]
        return created(response)

    async def react(self, reaction: Reaction) -> bool:
        path = f"/v1/posts/{self.post_ids[reaction.post_key]}/reactions/{reaction.kind}"
        return created(await self.api.write("PUT", path, reaction.user_id))

    async def shares(self) -> None:
        async def share(item: Any) -> bool:
            path = f"/v1/posts/{self.post_ids[item.post_key]}/shares"
            key = f"demo:share:{self.post_keys[item.post_key]}"
            return created(await self.api.write("POST", path, item.user_id, key=key))

        await self._each("shares", self.company.shares, share)

    async def upstream_items(self) -> None:
        """Tasks (looked up first: a task is a post its assignees may read) and the IT desk's
        announcement (its event id makes a second send a no-op)."""
        company, now = self.company, datetime.now(UTC)
        missing = []
        for task in company.tasks:
            path = f"/v1/posts/{upstream.task_id(company.tenant, task)}"
            if not await self.exists(path, task.assignees[0]):
                missing.append(task)
        docs = [
            upstream.task(company, t, now, self.group_ids[t.group_key] if t.group_key else None)
            for t in missing
        ]
        docs += [
            upstream.bot_note(company, note, now, self.group_ids[note.group_key])
            for note in company.bot_notes
        ]
        await upstream.publish(self.kafka, docs)
        for task in missing:
            path = f"/v1/posts/{upstream.task_id(company.tenant, task)}"
            await self.until_exist([path], task.assignees[0], "tasks")
        self.report.created["tasks (upstream)"] += len(missing)
        self.log(f"{len(company.tasks)} upstream tasks, {len(company.bot_notes)} upstream note")

    # the read side ------------------------------------------------------------------------

    async def settle(self, timeout_s: float) -> bool:
        """Wait until the reader has a home feed and notifications and (after a run that
        created something) analytics counts every post, reply and reaction; False on timeout."""
        company = self.company
        expected = {
            "posts": sum(1 for p in company.posts if p.reply_to is None),
            "comments": sum(1 for p in company.posts if p.reply_to),
            "reactions": len(company.reactions),
        }
        deadline = time.monotonic() + timeout_s
        while True:
            missing = await self.behind(expected if self.report.total_created else {})
            if not missing:
                self.log("feeds, notifications and analytics are up to date")
                return True
            if time.monotonic() > deadline:
                self.log(f"warning: still catching up after {timeout_s:.0f} s: {missing}")
                return False
            await asyncio.sleep(1.0)

    async def behind(self, expected: dict[str, int]) -> list[str]:
        """What the read side does not show yet."""
        api, reader, ends = self.api, self.company.reader_id, self.api.endpoints
        missing = []
        try:
            feed = await api.call("GET", f"{ends.fanout}/v1/feeds/home", reader)
            if not feed.json()["items"]:
                missing.append("home feed")
            notes = await api.call("GET", f"{ends.notify}/v1/notifications", reader)
            if not notes.json()["items"]:
                missing.append("notifications")
            if expected:
                summary = await api.call(
                    "GET",
                    f"{ends.analytics}/v1/analytics/summary",
                    self.company.analyst_id,
                    roles=("analyst", "member"),
                    params={"period": "90d"},
                )
                counts = summary.json()
                missing += [
                    f"analytics {name} {counts[name]}/{want}"
                    for name, want in expected.items()
                    if counts[name] < want
                ]
        except (DemoError, httpx.HTTPError, KeyError) as exc:
            missing.append(f"read APIs: {exc}")
        return missing


def profile(person: Person) -> dict[str, Any]:
    """The body of ``PUT /v1/users/{id}`` for a person."""
    return {
        "handle": person.handle,
        "display_name": person.display_name,
        "kind": "employee",
        "title": person.title,
        "department": person.department,
        "location": person.location,
        "skills": list(person.skills),
        "interests": list(person.interests),
        "manager_id": person.manager_id,
        "email": person.email,
        "roles": list(person.roles),
    }


def idempotency_keys(posts: Iterable[Post]) -> dict[str, str]:
    """Each post's ``Idempotency-Key``: its stable key and a digest of what it says (and of
    its thread). A demo whose texts changed since a tenant was seeded posts the changed items
    anew instead of colliding with the keys of the old ones (422)."""
    keys: dict[str, str] = {}
    for post in posts:  # a reply comes after the post it replies to
        parent = keys[post.reply_to] if post.reply_to else ""
        said = repr((post.author_id, post.content, post.kind, post.group_key, post.name, parent))
        keys[post.key] = f"demo:{post.key}:{hashlib.sha256(said.encode()).hexdigest()[:16]}"
    return keys


def manager_levels(people: Iterable[Person]) -> list[list[Person]]:
    """People in waves, each manager in an earlier wave than their reports."""
    remaining = list(people)
    placed: set[str] = set()
    levels = []
    while remaining:
        level = [p for p in remaining if p.manager_id is None or p.manager_id in placed]
        if not level:
            raise DemoError(f"managers missing for {[p.id for p in remaining][:5]}")
        levels.append(level)
        placed |= {p.id for p in level}
        remaining = [p for p in remaining if p.id not in placed]
    return levels
