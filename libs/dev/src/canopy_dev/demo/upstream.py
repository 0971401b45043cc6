"""What the demo's upstream systems publish on ``canopy.upstream.v1``: strict AS2 activities.

The HR system (Workday) announces this week's joiners (Create of a Person), the task tracker
(Jira) and HR assign tasks with a due time (Create of a Task with ``endTime`` and ``to``), and
the IT service desk posts an announcement (Create of a Note, ``kind: announcement``). Event and
task ids are UUIDv5s of the tenant and the item's key: sent twice, the same event is a no-op
(ingestion's inbox), so seeding stays idempotent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from canopy_common.events import CANOPY_CONTEXT, validate_activity
from canopy_common.iris import user_iri
from canopy_common.kafka import Producer
from canopy_common.settings import KafkaSettings
from canopy_dev.demo.model import Bot, BotNote, Company, Person, Task

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://canopy.dev/demo")


def stable_id(tenant: str, key: str) -> str:
    """A ``urn:uuid`` that is the same for the same tenant and key, every run."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{tenant}:{key}')}"


def task_id(tenant: str, task: Task) -> str:
    """The id of a task object (it is also the post id ingestion stores it under)."""
    return stable_id(tenant, f"task:{task.key}")


def _activity(
    company: Company, bot: Bot, key: str, obj: Any, now: datetime, **more: Any
) -> dict[str, Any]:
    doc = {
        "@context": CANOPY_CONTEXT,
        "id": stable_id(company.tenant, f"event:{key}"),
        "type": "Create",
        "actor": user_iri(company.tenant, bot.id),
        "object": obj,
        "published": now.isoformat(),
        "tenant": company.tenant,
        "source": bot.source,
        **more,
    }
    validate_activity(doc)  # strict, as the consumer reads it: a mistake fails here, not in the DLQ
    return doc


def _bot(company: Company, bot_id: str) -> Bot:
    return next(b for b in company.bots if b.id == bot_id)


def joiner(company: Company, person: Person, now: datetime) -> dict[str, Any]:
    """The HR system's Create of a new employee's Person (without ``location``: AS2 defines
    it as a reference to a Place, which the profile's one-line text field cannot hold)."""
    tenant = company.tenant
    obj: dict[str, Any] = {
        "type": "Person",
        "id": user_iri(tenant, person.id),
        "preferredUsername": person.handle,
        "name": person.display_name,
        "kind": "employee",
        "title": person.title,
        "department": person.department,
        "skills": list(person.skills),
        "interests": list(person.interests),
        "email": person.email,
    }
    if person.manager_id:
        obj["manager"] = user_iri(tenant, person.manager_id)
    return _activity(company, _bot(company, "workday-bot"), f"joiner:{person.id}", obj, now)


def task(company: Company, task: Task, now: datetime, group_id: str | None) -> dict[str, Any]:
    """A tracker's Create of a Task assigned to people, due ``task.due_in`` from ``now``."""
    tenant = company.tenant
    obj = {
        "type": "Task",
        "id": task_id(tenant, task),
        "name": task.name,
        "content": task.content,
        "endTime": (now + task.due_in).isoformat(),
        "status": "open",
    }
    more: dict[str, Any] = {"to": [user_iri(tenant, uid) for uid in task.assignees]}
    if group_id:
        more["target"] = group_id
    return _activity(company, _bot(company, task.bot_id), f"task:{task.key}", obj, now, **more)


def bot_note(company: Company, note: BotNote, now: datetime, group_id: str) -> dict[str, Any]:
    """A system's announcement posted into a group."""
    obj = {"type": "Note", "name": note.name, "content": note.content, "kind": "announcement"}
    bot = _bot(company, note.bot_id)
    return _activity(company, bot, f"note:{note.key}", obj, now, target=group_id)


async def publish(kafka: KafkaSettings, docs: list[dict[str, Any]]) -> None:
    """Produce ``docs`` to the upstream topic, keyed by tenant and actor (per-actor order)."""
    if not docs:
        return
    async with Producer(kafka, client_id=f"{kafka.client_id}-demo") as producer:
        for doc in docs:
            key = f"{doc['tenant']}:{doc['actor']}"
            await producer.send(kafka.topic_upstream, orjson.dumps(doc), key=key)
