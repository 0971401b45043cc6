"""Steady traffic for the failure tests, and the ledger of what it got acknowledged.

Posts go over HTTP with an ``Idempotency-Key``, notes by a bot on the upstream topic; each is
started on time whatever the ones before it are doing, and retried (the same key, the same
record) until it is acknowledged: a ``201`` or ``200`` for a post, the broker's acknowledgement
for an upstream record. A failed attempt is counted by its reason; a record still
unacknowledged when the senders give up is listed, and counts as not acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka.errors import KafkaError

from canopy_common.kafka import Delivery
from canopy_testing.system import SystemClient, upstream_activity

# A failed attempt is tried again after this long (the same Idempotency-Key, the same record).
RETRY_INTERVAL_S = 0.5


@dataclass
class Ledger:
    """What one sender had acknowledged, and what failed on the way."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # marker → post or event id
    failures: Counter[str] = field(default_factory=Counter)  # failed attempts, by reason
    given_up: list[str] = field(default_factory=list)  # never acknowledged
    retried: int = 0  # acknowledged after at least one failed attempt
    slowest_s: float = 0.0  # the longest wait for one acknowledgement, retries included

    def acknowledge(self, marker: str, ident: str, *, attempts: int, waited_s: float) -> None:
        self.acknowledged[marker] = ident
        self.retried += attempts > 1
        self.slowest_s = max(self.slowest_s, waited_s)

    def describe(self) -> str:
        failed = sum(self.failures.values())
        reasons = ", ".join(f"{reason} {n}" for reason, n in self.failures.most_common())
        return (
            f"acknowledged {len(self.acknowledged)}, failed attempts {failed}"
            + (f" ({reasons})" if reasons else "")
            + f", acknowledged after a retry {self.retried}, never acknowledged"
            f" {len(self.given_up)}, slowest acknowledgement {self.slowest_s:.1f} s"
        )


@dataclass
class Traffic:
    """The senders and the reader, as tasks: started together, stopped together."""

    stop: asyncio.Event  # no new sends
    give_up: asyncio.Event  # no more retries
    senders: list[Callable[[], Coroutine[Any, Any, None]]]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self.tasks = [asyncio.create_task(sender()) for sender in self.senders]

    async def finish(self, retry_grace_s: float) -> None:
        """Stop sending, let what is unacknowledged be retried a while, then wait for all."""
        self.stop.set()
        await asyncio.wait(self.tasks, timeout=retry_grace_s)
        self.give_up.set()
        await asyncio.gather(*self.tasks)

    async def cancel(self) -> None:
        self.stop.set()
        self.give_up.set()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def paced(
    rate_per_s: float, stop: asyncio.Event, send: Callable[[int], Coroutine[Any, Any, None]]
) -> None:
    """Start ``send(0)``, ``send(1)``, ... ``rate_per_s`` times a second, each without waiting
    for the ones before it, until ``stop`` is set; then wait for all of them."""
    started = time.monotonic()
    sending: list[asyncio.Task[None]] = []
    try:
        while not stop.is_set():
            sending.append(asyncio.create_task(send(len(sending))))
            next_at = started + len(sending) / rate_per_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*sending)
    finally:
        for task in sending:
            task.cancel()


class PostSender:
    """Notes by ``authors`` in turn, each mentioning ``mentioned``: one mention notification
    per post, and one item in the home feed of everyone following the authors."""

    def __init__(
        self, canopy: SystemClient, tenant: str, authors: tuple[str, ...], mentioned: str
    ) -> None:
        self.canopy = canopy
        self.tenant = tenant
        self.authors = authors
        self.mentioned = mentioned
        self.ledger = Ledger()
        self.author_of: dict[str, str] = {}  # marker → author

    async def run(self, rate_per_s: float, stop: asyncio.Event, give_up: asyncio.Event) -> None:
        await paced(rate_per_s, stop, lambda n: self.send(n, give_up))

    async def send(self, n: int, give_up: asyncio.Event) -> None:
        marker = f"post-{n:04d}"
        author = self.authors[n % len(self.authors)]
        self.author_of[marker] = author
        body = {"content": f"Status {marker} from {author}, cc @{self.mentioned}"}
        headers = self.canopy.headers(self.tenant, author)
        headers["Idempotency-Key"] = f"{self.tenant}-{marker}"
        url = self.canopy.system.url("ingestion", "/v1/posts")
        started, attempts = time.monotonic(), 0
        while True:
            attempts += 1
            try:
                response = await self.canopy.http.post(url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                self.ledger.failures[type(exc).__name__] += 1
            else:
                if response.status_code in (200, 201):
                    post_id = response.json()["id"]
                    waited = time.monotonic() - started
                    self.ledger.acknowledge(marker, post_id, attempts=attempts, waited_s=waited)
                    return
                self.ledger.failures[f"HTTP {response.status_code}"] += 1
                if response.status_code < 500 and response.status_code != 429:
                    self.ledger.given_up.append(marker)  # a refusal: trying again cannot help
                    return
            if give_up.is_set():
                self.ledger.given_up.append(marker)
                return
            await asyncio.sleep(RETRY_INTERVAL_S)


class NoteSender:
    """Notes by the bot ``bot`` on the upstream topic (key ``key``), each mentioning
    ``mentioned``; ingestion turns each into a post of the bot's."""

    def __init__(
        self, canopy: SystemClient, tenant: str, bot: str, mentioned: str, key: str
    ) -> None:
        self.canopy = canopy
        self.tenant = tenant
        self.bot = bot
        self.mentioned = mentioned
        self.key = key
        self.ledger = Ledger()
        self.deliveries: dict[str, Delivery] = {}  # marker → where the broker stored it

    async def run(self, rate_per_s: float, stop: asyncio.Event, give_up: asyncio.Event) -> None:
        await paced(rate_per_s, stop, lambda n: self.send(n, give_up))

    async def send(self, n: int, give_up: asyncio.Event) -> None:
        marker = f"note-{n:04d}"
        note = {"type": "Note", "content": f"Release {marker} is out, @{self.mentioned}"}
        record: dict[str, Any] = upstream_activity(self.tenant, self.bot, "Create", note)
        started, attempts = time.monotonic(), 0
        while True:
            attempts += 1
            try:
                delivery = await self.canopy.publish_upstream(record, key=self.key)
            except KafkaError as exc:  # the same record again: ingestion applies an id once
                self.ledger.failures[type(exc).__name__] += 1
            else:
                self.deliveries[marker] = delivery
                waited = time.monotonic() - started
                self.ledger.acknowledge(marker, record["id"], attempts=attempts, waited_s=waited)
                return
            if give_up.is_set():
                self.ledger.given_up.append(marker)
                return
            await asyncio.sleep(RETRY_INTERVAL_S)


@dataclass
class FeedReader:
    """Reads one person's home feed over and over, as a client left open would."""

    canopy: SystemClient
    tenant: str
    reader: str
    reads: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    slowest_s: float = 0.0

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.reads += 1
            try:
                response = await self.canopy.request(
                    "fanout", "GET", "/v1/feeds/home", self.tenant, self.reader
                )
                if response.status_code != 200:
                    self.failures[f"HTTP {response.status_code}"] += 1
            except httpx.HTTPError as exc:
                self.failures[type(exc).__name__] += 1
            self.slowest_s = max(self.slowest_s, time.monotonic() - started)
            await asyncio.sleep(interval_s)

    def describe(self) -> str:
        failed = sum(self.failures.values())
        return f"{self.reads} reads, failed {failed}, slowest {self.slowest_s:.2f} s"
