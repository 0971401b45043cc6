"""Stream-Framework 1.4.0 on the two fan-out workloads; run by :mod:`bench.peer`.

This script runs in the peer's own virtualenv (:mod:`bench.peer` says what it holds and why)
and imports nothing from Canopy, so the peer's figures come from Stream-Framework alone:

    PEER_REDIS_URL=redis://127.0.0.1:6379/9 python stream_framework_runner.py --repeats 20 \\
        < audiences.json > timings.json

stdin holds the audiences, built from ``bench.workloads``: ``{"big": {"author": ...,
"followers": [...]}, "many": {author: [followers], ...}}``. stdout gets one JSON document:
the seconds the timed calls took, and the versions and settings they depend on.

The Redis database in the URL is this script's: it is emptied before the workloads and after
them, so nothing is left behind. A database holding keys without this script's marker
is refused, never emptied.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from celery import current_app
from stream_framework import settings
from stream_framework.activity import Activity
from stream_framework.feed_managers.base import FanoutPriority, Manager
from stream_framework.feeds.redis import RedisFeed
from stream_framework.storage.redis.connection import get_redis_connection
from stream_framework.verbs.base import Add

MARKER_KEY: Final = "canopy:bench:peer"  # says the database is this script's to empty
CHECK_BATCH: Final = 10_000  # ZSCOREs per pipeline when checking that every entry arrived
VERSIONS_OF: Final = ("stream-framework", "redis", "celery", "kombu")

_object_ids = itertools.count(1)  # unique serialization ids across the whole run


# SF's standard design, as its README's PinManager: RedisFeeds and a Manager fanning out to
# them. SF's defaults otherwise: max_length 100, fanout_chunk_size 100.
class Timeline(RedisFeed):  # type: ignore[misc]
    key_format = "feed:normal:%(user_id)s"


class UserTimeline(Timeline):
    key_format = "feed:user:%(user_id)s"


class TimelineManager(Manager):  # type: ignore[misc]
    feed_classes = {"normal": Timeline}  # noqa: RUF012 - SF's class-level configuration
    user_feed_class = UserTimeline
    # On the class, not the instance: the manager is pickled into every fan-out task, and a
    # real one looks its followers up rather than carrying them.
    audiences: dict[str, list[str]] = {}  # noqa: RUF012

    def get_user_follower_ids(self, user_id: str) -> dict[str, list[str]]:
        return {FanoutPriority.HIGH: self.audiences[user_id]}


def configure(redis_url: str) -> None:
    """Point SF at ``redis_url`` and run its Celery tasks in this process.

    Without Django, SF's settings are the module ``stream_framework.settings``, which its
    docs say to change; the connection pool reads it on first use.
    """
    url = urlsplit(redis_url)
    settings.STREAM_REDIS_CONFIG = {
        "default": {
            "host": url.hostname or "127.0.0.1",
            "port": url.port or 6379,
            "db": int(url.path.lstrip("/") or 0),
            "password": url.password,
        }
    }
    # Celery 5 sends even eager tasks' arguments through the task serializer; SF's (its
    # manager, a feed class, an operation function) only pickle can carry.
    current_app.conf.update(
        task_always_eager=True,
        task_eager_propagates=True,
        task_serializer="pickle",
        accept_content=["pickle"],
        result_serializer="pickle",
    )


def new_activity(actor: int) -> Any:
    """A fresh ``Add`` activity by ``actor``, timed now (SF's default)."""
    return Activity(actor, Add, next(_object_ids))


def missing(redis: Any, expected: Sequence[tuple[str, Any]]) -> int:
    """How many of the ``(follower, activity)`` pairs are not in that follower's timeline."""
    absent = 0
    for start in range(0, len(expected), CHECK_BATCH):
        pipe = redis.pipeline(transaction=False)
        for follower, activity in expected[start : start + CHECK_BATCH]:
            pipe.zscore(Timeline.key_format % {"user_id": follower}, activity.serialization_id)
        absent += sum(score is None for score in pipe.execute())
    return absent


def one_post(manager: TimelineManager, redis: Any, author: str) -> float:
    """``author`` posts once: the seconds ``add_user_activity`` took.

    Eager tasks have written every timeline when the call returns; the post is then checked
    in all of them, outside the timed span.
    """
    activity = new_activity(0)
    began = time.perf_counter()
    manager.add_user_activity(author, activity)
    elapsed = time.perf_counter() - began
    followers = manager.audiences[author]
    if absent := missing(redis, [(f, activity) for f in followers]):
        raise SystemExit(f"a post is missing from {absent:,} of {len(followers):,} timelines")
    return elapsed


def many_authors(manager: TimelineManager, redis: Any, authors: Sequence[str]) -> float:
    """Each author posts once, one after another as one SF process does: the seconds all
    the ``add_user_activity`` calls took. Every entry is checked afterwards."""
    posts = [(author, new_activity(actor)) for actor, author in enumerate(authors, start=1)]
    began = time.perf_counter()
    for author, activity in posts:
        manager.add_user_activity(author, activity)
    elapsed = time.perf_counter() - began
    expected = [(f, activity) for author, activity in posts for f in manager.audiences[author]]
    if absent := missing(redis, expected):
        raise SystemExit(f"{absent:,} of {len(expected):,} timeline entries are missing")
    return elapsed


def empty_database(redis: Any) -> None:
    """FLUSHDB, refused when the database holds keys this script did not write."""
    if redis.dbsize() and not redis.exists(MARKER_KEY):
        db = redis.connection_pool.connection_kwargs["db"]
        raise SystemExit(f"Redis db {db} holds keys that are not the peer benchmark's")
    redis.flushdb()
    redis.set(MARKER_KEY, "1")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, required=True, help="timed posts of the big one")
    args = parser.parse_args(argv)
    audiences = json.load(sys.stdin)
    big_author: str = audiences["big"]["author"]
    many: dict[str, list[str]] = audiences["many"]
    TimelineManager.audiences = {big_author: audiences["big"]["followers"], **many}

    configure(os.environ["PEER_REDIS_URL"])
    manager = TimelineManager()
    redis = get_redis_connection()
    empty_database(redis)
    try:
        one_post(manager, redis, big_author)  # warm-up: connections, Celery's set-up
        # In bench.fanout's order: the big author's followers hold the 1,000 authors' posts.
        many_s = many_authors(manager, redis, list(many))
        post_s = [one_post(manager, redis, big_author) for _ in range(args.repeats)]
    finally:
        redis.flushdb()
    timings = {
        "versions": {name: importlib.metadata.version(name) for name in VERSIONS_OF},
        "fanout_chunk_size": manager.fanout_chunk_size,
        "max_length": Timeline.max_length,
        "trim_chance": Timeline.trim_chance,
        "big": {"followers": len(manager.audiences[big_author]), "post_s": post_s},
        "many": {
            "authors": len(many),
            "inserts": sum(len(followers) for followers in many.values()),
            "elapsed_s": many_s,
        },
    }
    json.dump(timings, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
