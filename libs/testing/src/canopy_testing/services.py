"""What every harness of a service that consumes canonical activities does: publish them as
ingestion's relay does, wait until the service applied them, and call its API with a token.

A harness (a dataclass with ``client``, ``settings``, ``pool`` and ``producer``) inherits
:class:`ActivityServiceHarness`."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from canopy_common.auth import issue_token
from canopy_common.events import StrictActivity, encode, ref_id
from canopy_common.iris import user_id_of
from canopy_common.kafka import Delivery, Producer
from canopy_common.settings import ServiceSettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.polling import eventually


def record_key(activity: StrictActivity) -> str:
    """``tenant:actor``, the key of ``activity``'s record as ingestion's relay publishes it
    (all of one actor's activities on one partition)."""
    actor = ref_id(activity.actor) or ""
    return f"{activity.tenant}:{user_id_of(actor, activity.tenant) or actor}"


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
