"""A broker dies under load and comes back: the system on three Kafka nodes (topics of three
replicas, ``min.insync.replicas=2``) while people post over HTTP, a bot publishes notes
upstream and a reader keeps reading; the node leading the busiest partitions is killed with
SIGKILL and brought back later. Whatever was acknowledged reaches the feeds, the notifications
and the analytics, once each, and the services ran on throughout without a restart.

The figures (acknowledged, failed, found, twice, when the node died and came back) are printed
to the terminal and recorded as the test's ``failover_figures`` property (docs/kafka.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import pytest

from canopy_testing.kafka_cluster import KafkaCluster
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

from .findings import (
    UNHANDLED,
    Seen,
    copies_on_activities,
    every_item,
    is_mention,
    log_lines,
    posts_counted,
    stored_at,
)
from .traffic import FeedReader, NoteSender, PostSender, Traffic

pytestmark = pytest.mark.cluster

AUTHORS = ("ada", "bob")
FOLLOWER = "cy"  # follows both authors; every post mentions her
NOTE_READER = "dee"  # follows ada; every upstream note mentions her
BOT = "release-bot"
HOME = "/v1/feeds/home"

# The schedule, in seconds from the first send: a steady state, the kill, a while on two nodes,
# the node back, a while on three again.
KILL_AT_S = 10.0
RESTART_AT_S = 22.0
TRAFFIC_S = 38.0
POSTS_PER_S = 8.0
NOTES_PER_S = 4.0
FEED_READ_INTERVAL_S = 0.5
# After the traffic stops, the senders retry what is still unacknowledged for this long.
RETRY_GRACE_S = 30.0
# From the last acknowledgement until everything is in the feeds, notifications and analytics.
SETTLE_TIMEOUT_S = 90.0


@dataclass
class Failover:
    """The schedule of the failure, and when things happened, in seconds from the first send."""

    node: int | None = None
    led: list[str] = field(default_factory=list)  # the busy partitions it led, with records
    killed_at: float | None = None
    moved_after_s: float | None = None  # until every busy partition had a leader again
    restarted_at: float | None = None
    answering_after_s: float | None = None  # the JVM's start
    in_sync_after_s: float | None = None  # until it was in sync on every busy partition again
    traffic_s: float | None = None
    coordinated: list[str] = field(default_factory=list)  # consumer groups it coordinated
    groups: int = 0

    async def run(
        self,
        cluster: KafkaCluster,
        topics: tuple[str, ...],
        groups: Iterable[str],
        traffic: Traffic,
    ) -> None:
        """Start the traffic, kill the busiest leader of ``topics``, bring it back, stop the
        traffic; note which of the ``groups`` (names and prefixes) the node coordinated."""
        start = time.monotonic()

        async def until(at_s: float) -> float:
            await asyncio.sleep(max(0.0, start + at_s - time.monotonic()))  # a schedule
            return time.monotonic()

        traffic.start()
        try:
            await until(KILL_AT_S)
            self.node, self.led = await busiest_leader(cluster, topics)
            coordinators = await cluster.coordinators(groups)
            mine = (group for group, node in coordinators.items() if node == self.node)
            self.coordinated = sorted(group.split("-", 2)[-1] for group in mine)  # e2e-<run>-
            self.groups = len(coordinators)
            cluster.kill(self.node)
            killed = time.monotonic()
            self.killed_at = killed - start
            moved = asyncio.gather(*(cluster.wait_for_leaders(topic) for topic in topics))
            self.moved_after_s = await _timed(killed, moved)
            restarted = await until(RESTART_AT_S)
            self.restarted_at = restarted - start
            await asyncio.to_thread(cluster.start, self.node)
            back = time.monotonic()
            self.answering_after_s = back - restarted
            in_sync = asyncio.gather(*(cluster.wait_for_in_sync(t, self.node) for t in topics))
            self.in_sync_after_s = await _timed(back, in_sync)
            self.traffic_s = await until(TRAFFIC_S) - start
            await traffic.finish(RETRY_GRACE_S)
        finally:
            await traffic.cancel()

    def describe(self) -> str:
        def s(value: float | None) -> str:
            return f"{value:.1f} s" if value is not None else "-"

        return (
            f"killed node {self.node} at {s(self.killed_at)}, the leader of"
            f" {', '.join(self.led) or '-'} (records) and the coordinator of"
            f" {len(self.coordinated)} of {self.groups} consumer groups"
            f" ({', '.join(self.coordinated) or '-'}); those partitions had leaders again"
            f" {s(self.moved_after_s)} later; restarted at {s(self.restarted_at)}, answering"
            f" {s(self.answering_after_s)} later and in sync {s(self.in_sync_after_s)} after"
            f" that; traffic stopped at {s(self.traffic_s)}"
        )


@dataclass
class Findings:
    """What the feeds, notifications and analytics show, and the topics hold."""

    home: Seen = field(default_factory=Seen)  # the follower's
    profiles: Seen = field(default_factory=Seen)  # the authors' own feeds together
    mentions: Seen = field(default_factory=Seen)  # the follower's mention notifications
    bot_feed: Seen = field(default_factory=Seen)
    note_home: Seen = field(default_factory=Seen)  # the note reader's
    note_mentions: Seen = field(default_factory=Seen)
    analytics_posts: int = 0
    settled_after_s: float | None = None  # from the traffic's end until all was visible
    stored_at_acknowledged_offsets: int = 0  # upstream records where their ack said
    extra_copies: int = 0  # activities on the activities topic more than once
    readiness: dict[str, int] = field(default_factory=dict)  # service → /readyz status
    processes: int = 0  # supervisord and what runs under it, before the traffic
    gone: list[str] = field(default_factory=list)  # of those, exited or replaced since
    relay_failures: int = 0  # outbox relay passes that failed (each restarts its producer)
    unhandled: int = 0  # log lines of errors no code handled

    async def look(
        self, canopy: SystemClient, t: str, posts: PostSender, notes: NoteSender
    ) -> None:
        self.home = await every_item(canopy, "fanout", HOME, t, FOLLOWER)
        self.profiles = Seen()
        for author in AUTHORS:
            own = await every_item(canopy, "fanout", f"/v1/feeds/users/{author}", t, FOLLOWER)
            self.profiles.update(own)
        notifications = "/v1/notifications"
        self.mentions = await every_item(canopy, "notify", notifications, t, FOLLOWER, is_mention)
        self.bot_feed = await every_item(canopy, "fanout", f"/v1/feeds/users/{BOT}", t, BOT)
        self.note_home = await every_item(canopy, "fanout", HOME, t, NOTE_READER)
        self.note_mentions = await every_item(
            canopy, "notify", notifications, t, NOTE_READER, is_mention
        )
        self.analytics_posts = await posts_counted(canopy, t, FOLLOWER)

    def note_ids(self, notes: NoteSender) -> list[str]:
        """The post ids ingestion gave the acknowledged notes (from the bot's feed)."""
        acknowledged = notes.ledger.acknowledged
        return [i for i, marker in self.bot_feed.marker_of.items() if marker in acknowledged]

    def posts_written(self) -> int:
        """Posts and notes the feeds show, the authors' first posts included."""
        return len(self.profiles.ids) + len(self.bot_feed.ids)

    def complete(self, posts: PostSender, notes: NoteSender) -> bool:
        post_ids = list(posts.ledger.acknowledged.values())
        note_ids = self.note_ids(notes)
        return (
            all(ident in self.home.ids for ident in post_ids)
            and all(ident in self.profiles.ids for ident in post_ids)
            and all(ident in self.mentions.ids for ident in post_ids)
            and len(note_ids) == len(notes.ledger.acknowledged)
            and all(ident in self.note_home.ids for ident in note_ids)
            and all(ident in self.note_mentions.ids for ident in note_ids)
            and self.analytics_posts == self.posts_written()
        )

    def twice(self) -> int:
        seen = (self.home, self.profiles, self.mentions, self.bot_feed)
        return sum(s.twice() for s in (*seen, self.note_home, self.note_mentions))

    def describe(self, posts: PostSender, notes: NoteSender) -> list[str]:
        post_ids = list(posts.ledger.acknowledged.values())
        note_ids = self.note_ids(notes)
        unacknowledged = len(self.profiles.markers.keys() - posts.ledger.acknowledged.keys())
        return [
            f"posts found: in {FOLLOWER}'s home {self.home.found(post_ids)}"
            f" (twice {self.home.twice()}), in the authors' feeds {self.profiles.found(post_ids)}"
            f" (twice {self.profiles.twice()}), {FOLLOWER}'s mention notifications"
            f" {self.mentions.found(post_ids)} (twice {self.mentions.twice()});"
            f" written though never acknowledged {unacknowledged}",
            f"upstream notes found: at their acknowledged offsets"
            f" {self.stored_at_acknowledged_offsets}, in the bot's feed {len(note_ids)}"
            f" (twice {self.bot_feed.twice()}), in {NOTE_READER}'s home"
            f" {self.note_home.found(note_ids)} (twice {self.note_home.twice()}),"
            f" {NOTE_READER}'s mention notifications {self.note_mentions.found(note_ids)}"
            f" (twice {self.note_mentions.twice()})",
            f"analytics: posts {self.analytics_posts} (the feeds show {self.posts_written()}:"
            f" {len(AUTHORS)} first posts, {len(self.profiles.ids) - len(AUTHORS)} posts,"
            f" {len(self.bot_feed.ids)} notes)",
            f"activities topic: activities published more than once {self.extra_copies}"
            " (at least once by design: consumers drop the copies)",
            f"services: {self.processes} processes under supervisord before the traffic,"
            f" {len(self.gone)} of them exited or restarted since; /readyz {self.readiness};"
            f" outbox relay passes failed (and its producer restarted) {self.relay_failures};"
            f" unhandled errors logged {self.unhandled}",
            "everything acknowledged was visible "
            + (
                f"{self.settled_after_s:.1f} s after the traffic ended"
                if self.settled_after_s is not None
                else f"not within {SETTLE_TIMEOUT_S:g} s"
            ),
        ]


async def busiest_leader(cluster: KafkaCluster, topics: Iterable[str]) -> tuple[int, list[str]]:
    """The node leading the partitions that hold the most records of ``topics``, and those."""
    records: Counter[int] = Counter()
    led: dict[int, list[str]] = {}
    for topic in topics:
        leaders = await cluster.leaders(topic)
        short = topic.rsplit(".", 2)[-2]  # e2e.<run>.activities.v1 → activities
        for partition, count in (await cluster.end_offsets(topic)).items():
            if count:
                records[leaders[partition]] += count
                led.setdefault(leaders[partition], []).append(f"{short}/{partition}: {count}")
    node, _ = records.most_common(1)[0]
    return node, led[node]


async def key_led_by(
    canopy: SystemClient, cluster: KafkaCluster, topic: str, node: int, prefix: str
) -> str:
    """A record key whose partition of ``topic`` node ``node`` leads."""
    leaders = await cluster.leaders(topic)
    keys = [f"{prefix}:{i}" for i in range(100)]
    partitions = await canopy.producer.partitions_of(topic, keys)
    return next(k for k, p in zip(keys, partitions, strict=True) if leaders[p] == node)


async def steer_upstream(canopy: SystemClient, cluster: KafkaCluster, t: str) -> str:
    """The upstream key to publish the bot's notes with: one whose partition is led by the node
    that leads most of the authors' activities, so that killing the busiest leader interrupts
    the outbox relay, the consumers of activities, the upstream producer and ingestion's
    upstream consumer at once."""
    kafka = canopy.system.kafka
    leaders = await cluster.leaders(kafka.topic_activities)
    keys = [f"{t}:{user}" for user in (*AUTHORS, BOT)]  # the outbox keys activities tenant:actor
    partitions = await canopy.producer.partitions_of(kafka.topic_activities, keys)
    node, _ = Counter(leaders[p] for p in partitions).most_common(1)[0]
    return await key_led_by(canopy, cluster, kafka.topic_upstream, node, f"{t}:releases")


async def set_up_people(canopy: SystemClient, t: str) -> None:
    """Provision, follow, and wait until fan-out shows a first post of each author where the
    test looks (the follows are applied; the readers' timelines exist and get pushes)."""
    await canopy.provision(t, *AUTHORS, FOLLOWER, NOTE_READER, bots=(BOT,))

    async def bot_known() -> bool:
        path = f"/v1/feeds/users/{BOT}"
        found = await canopy.request("fanout", "GET", path, t, FOLLOWER)  # an active person
        return found.status_code == 200

    await eventually(bot_known, what="the bot in fanout")
    for author in AUTHORS:
        await canopy.follow(t, FOLLOWER, author)
    await canopy.follow(t, NOTE_READER, AUTHORS[0])
    for author in AUTHORS:
        hello = await canopy.post(t, author, f"Hello from {author}")
        readers = (FOLLOWER, NOTE_READER) if author == AUTHORS[0] else (FOLLOWER,)
        for reader in readers:
            holds = partial(canopy.feed_holds, HOME, t, reader, hello["id"])
            await eventually(holds, what=f"{author}'s first post in {reader}'s home")


async def _timed(since: float, waiting: Awaitable[object]) -> float:
    await waiting
    return time.monotonic() - since


async def test_killing_the_busiest_leader_loses_nothing_acknowledged_and_shows_nothing_twice(
    canopy: SystemClient,
    cluster: KafkaCluster,
    tenant_id: str,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    t = tenant_id
    system, kafka = canopy.system, canopy.system.kafka
    for topic in (kafka.topic_activities, kafka.topic_upstream):
        partitions = await cluster.describe(topic)
        assert {len(p.replicas) for p in partitions.values()} == {3}, topic
        assert (await cluster.topic_config(topic))["min.insync.replicas"] == "2", topic
    await set_up_people(canopy, t)
    services = system.processes()  # supervisord and the services
    assert len(services) > len(system.ports), services
    posts = PostSender(canopy, t, AUTHORS, mentioned=FOLLOWER)
    notes = NoteSender(canopy, t, BOT, NOTE_READER, key=await steer_upstream(canopy, cluster, t))
    reader = FeedReader(canopy, t, FOLLOWER)
    failover = Failover()
    stop, give_up = asyncio.Event(), asyncio.Event()
    traffic = Traffic(
        stop,
        give_up,
        [
            partial(posts.run, POSTS_PER_S, stop, give_up),
            partial(notes.run, NOTES_PER_S, stop, give_up),
            partial(reader.run, FEED_READ_INTERVAL_S, stop),
        ],
    )

    found = Findings()
    try:
        busy = (kafka.topic_activities, kafka.topic_upstream)
        await failover.run(cluster, busy, system.consumer_groups.values(), traffic)
        sent_until = time.monotonic()

        async def everything_visible() -> bool:
            await found.look(canopy, t, posts, notes)
            return found.complete(posts, notes)

        await eventually(
            everything_visible,
            what="every acknowledged post and note in the feeds, notifications and analytics",
            timeout_s=SETTLE_TIMEOUT_S,
            interval_s=1.0,
        )
        found.settled_after_s = time.monotonic() - sent_until
        found.stored_at_acknowledged_offsets = await stored_at(canopy, notes.deliveries)
        found.extra_copies = await copies_on_activities(canopy)
        for service in system.ports:
            ready = await canopy.http.get(system.url(service, "/readyz"))
            found.readiness[service] = ready.status_code
        found.relay_failures = log_lines(system.log_path, "outbox relay: pass failed")
        found.unhandled = log_lines(system.log_path, *UNHANDLED)
        now = system.processes()
        found.processes = len(services)
        found.gone = sorted(p.command for pid, p in services.items() if now.get(pid) != p)
    finally:
        figures = "\n".join(
            [
                "broker failover figures:",
                f"  traffic: {POSTS_PER_S:g} posts/s over HTTP, {NOTES_PER_S:g} upstream notes/s,"
                f" a home feed read every {FEED_READ_INTERVAL_S:g} s, for {TRAFFIC_S:g} s",
                f"  failover: {failover.describe()}",
                f"  posts: {posts.ledger.describe()}",
                f"  upstream notes: {notes.ledger.describe()}",
                f"  feed reads during the traffic: {reader.describe()}",
                *(f"  {line}" for line in found.describe(posts, notes)),
            ]
        )
        record_property("failover_figures", figures)
        with capsys.disabled():
            print("\n" + figures)

    assert posts.ledger.given_up == [], "posts never acknowledged"
    assert notes.ledger.given_up == [], "upstream notes never acknowledged"
    assert found.twice() == 0
    assert found.stored_at_acknowledged_offsets == len(notes.deliveries)
    assert found.readiness == dict.fromkeys(system.ports, 200)
    assert found.gone == [], "processes of the system exited or were restarted"
    assert found.unhandled == 0, f"errors no code handled: see {system.log_path}"
