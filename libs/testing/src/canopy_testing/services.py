"""What every service harness does: settings on a schema, topics and consumer group of their
own (:func:`isolated_settings`), the app served in-process until ready (:func:`serving_ready`)
with a pool on its schema and a producer (:func:`service_connections`); and, for a service that
consumes canonical activities, publish them as ingestion's relay does, wait until the service
applied them, and call its API with a token.

A harness (a dataclass with ``client``, ``settings``, ``pool`` and ``producer``) inherits
:class:`ActivityServiceHarness`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import httpx
import orjson
from fastapi import FastAPI

from canopy_common.auth import issue_token
from canopy_common.db import close_pool, create_pool
from canopy_common.events import StrictActivity, encode, ref_id
from canopy_common.iris import user_id_of
from canopy_common.kafka import Delivery, Producer
from canopy_common.settings import KafkaSettings, ServiceSettings
from canopy_common.vocabulary.canonical import MAX_ACTIVITY_BYTES
from canopy_testing.factories import ActivityFactory
from canopy_testing.http import serve
from canopy_testing.kafka import read_topic
from canopy_testing.polling import DEFAULT_TIMEOUT_S, eventually

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)

# Retries back off half a second at most, so a test sees the retry of a failed call soon.
TEST_RETRY_BACKOFF_MAX_MS = 500


def isolated_settings(
    settings_class: type[SettingsT],
    kafka_settings: KafkaSettings,
    *,
    service: str,
    topics: Iterable[str],
    suffix: str | None = None,
    **fields: Any,
) -> SettingsT:
    """``service``'s settings on a schema, topics and consumer group of their own (named with
    ``suffix``, fresh unless given), so that no other test sees its records. ``topics`` are
    the Kafka settings' topic fields the service uses; ``topic_fanout_work`` is named
    ``test.fanout.work.<suffix>``. ``fields`` are further settings."""
    suffix = suffix or uuid.uuid4().hex[:10]
    names = {
        topic: f"test.{topic.removeprefix('topic_').replace('_', '.')}.{suffix}" for topic in topics
    }
    kafka = kafka_settings.model_copy(
        update={**names, "retry_backoff_max_ms": TEST_RETRY_BACKOFF_MAX_MS}
    )
    return settings_class(
        db_schema=f"{service}_{suffix}",
        consumer_group=f"test-{service}-{suffix}",
        kafka=kafka,
        **fields,
    )


async def wait_ready(
    client: httpx.AsyncClient,
    *,
    what: str = "/readyz to answer 200",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> httpx.Response:
    """Wait until the served app's ``/readyz`` answers 200, and return that answer."""

    async def ready() -> httpx.Response | None:
        response = await client.get("/readyz")
        return response if response.status_code == 200 else None

    return await eventually(ready, what=what, timeout_s=timeout_s)


@asynccontextmanager
async def serving_ready(
    app: FastAPI, *, what: str, timeout_s: float = DEFAULT_TIMEOUT_S
) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` served in-process (:func:`~canopy_testing.http.serve`), once it is ready."""
    async with serve(app) as client:
        await wait_ready(client, what=what, timeout_s=timeout_s)
        yield client


@asynccontextmanager
async def service_connections(
    settings: ServiceSettings, pg_pool: asyncpg.Pool
) -> AsyncIterator[tuple[asyncpg.Pool, Producer]]:
    """A pool on the service's schema and a started producer; on leaving, both close and the
    schema is dropped (leave the served app first: it works in that schema)."""
    pool = await create_pool(settings.postgres, schema=settings.db_schema)
    try:
        async with Producer(settings.kafka) as producer:
            yield pool, producer
    finally:
        await close_pool(pool)
        await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')


def record_key(activity: StrictActivity) -> str:
    """``tenant:actor``, the key of ``activity``'s record as ingestion's relay publishes it
    (all of one actor's activities on one partition)."""
    actor = ref_id(activity.actor) or ""
    return f"{activity.tenant}:{user_id_of(actor, activity.tenant) or actor}"


@dataclass(frozen=True)
class Unappliable:
    """A record published that consumers must refuse: where it went, its value, and the
    refusal expected — (topic, error class without its module, ``dlq.error.message``)."""

    delivery: Delivery
    value: bytes
    refusal: tuple[str, str, str]

    def dead_letter(self) -> tuple[str, int, int, str, str]:
        """What :func:`canopy_testing.kafka.refusals` should say of its dead letter."""
        topic, error_class, reason = self.refusal
        return (topic, self.delivery.partition, self.delivery.offset, error_class, reason)


class ActivityServiceHarness:
    """``publish``/``settle``/``send`` canonical activities, and authenticated ``get``."""

    client: httpx.AsyncClient
    settings: ServiceSettings
    pool: asyncpg.Pool  # on the service's schema
    producer: Producer

    async def publish(self, *activities: StrictActivity) -> list[Delivery]:
        """Publish canonical activities as ingestion's relay does (key ``tenant:actor``)."""
        sent = []
        for activity in activities:
            sent.append(
                await self.producer.send(
                    self.settings.kafka.topic_activities, encode(activity), key=record_key(activity)
                )
            )
        return sent

    async def partitions_of(self, *activities: StrictActivity) -> list[int]:
        """The partitions of the activities topic :meth:`publish` puts ``activities`` on."""
        return await self.producer.partitions_of(
            self.settings.kafka.topic_activities, [record_key(a) for a in activities]
        )

    async def people_on_every_partition(self, factory: ActivityFactory) -> list[StrictActivity]:
        """New people of ``factory``'s tenant (their ``Create``), the first whose activities
        :meth:`publish` puts on each partition of the activities topic, in partition order."""
        topic = self.settings.kafka.topic_activities
        found: dict[int, StrictActivity] = {}
        while len(found) < len(await self.producer.partitions_for(topic)):
            person = factory.user()
            [partition] = await self.partitions_of(person)
            found.setdefault(partition, person)
        return [found[p] for p in sorted(found)]

    async def settle(self, *activities: StrictActivity) -> None:
        """Wait until the service has applied every one of ``activities``."""
        ids = [a.id for a in activities]

        async def applied() -> bool:
            count = await self.pool.fetchval(
                "SELECT count(*) FROM consumed_activities WHERE activity_id = ANY($1::text[])",
                ids,
            )
            return bool(count == len(set(ids)))

        await eventually(applied, what=f"{len(ids)} activities applied")

    async def send(self, *activities: StrictActivity) -> None:
        """Publish ``activities`` and wait until they are applied."""
        await self.publish(*activities)
        await self.settle(*activities)

    async def provision(self, tenant: str, *users: str) -> None:
        """``users`` (their ids, handles alike) active people of ``tenant`` in the service's
        projection: their ``Create``, applied. Every route wants its caller to be one
        (docs/architecture.md §8)."""
        factory = ActivityFactory(tenant)
        await self.send(*(factory.user(user, user_id=user) for user in users))

    async def publish_unappliable(self, post: StrictActivity) -> list[Unappliable]:
        """Publish, under ``post``'s key, two records that pass strict AS2 but that no
        consumer can apply: ``post`` with ``"object": null``, and ``post`` grown to 900 KB (90
        times the longest post ingestion accepts)."""
        doc = orjson.loads(encode(post))
        null = orjson.dumps(doc | {"object": None})
        big = orjson.dumps(doc | {"object": doc["object"] | {"content": "x" * 900_000}})
        refusals = [
            (null, "InvalidActivity", "object: is required (not null) for Create"),
            (
                big,
                "ActivityTooLarge",
                f"$: is {len(big):,} bytes; no canonical activity exceeds {MAX_ACTIVITY_BYTES:,}",
            ),
        ]
        topic = self.settings.kafka.topic_activities
        return [
            Unappliable(
                await self.producer.send(topic, value, key=record_key(post)),
                value,
                (topic, error_class, reason),
            )
            for value, error_class, reason in refusals
        ]

    async def dead_letters(self, key: str, *, at_least: int) -> list[Any]:
        """The DLQ's records with ``key`` (aiokafka ``ConsumerRecord``s in offset order), once
        there are ``at_least`` of them."""

        async def found() -> list[Any] | None:
            records = await read_topic(self.settings.kafka, self.settings.kafka.topic_dlq)
            mine = [r for r in records if r.key == key.encode()]
            return mine if len(mine) >= at_least else None

        letters: list[Any] = await eventually(found, what=f"{at_least} dead letters of {key}")
        return letters

    def headers(self, tenant: str, user: str, *roles: str) -> dict[str, str]:
        """A bearer token for ``user`` of ``tenant`` (roles default to ``member``)."""
        token = issue_token(
            self.settings.auth, tenant=tenant, user=user, roles=list(roles) or ["member"]
        )
        return {"Authorization": f"Bearer {token}"}

    async def get(
        self, path: str, tenant: str, user: str, *roles: str, **params: Any
    ) -> httpx.Response:
        """GET ``path`` as ``user``."""
        return await self.client.get(
            path, headers=self.headers(tenant, user, *roles), params=params
        )
