"""The upstream traffic ``ingest`` replays: what a company's other systems publish on
``canopy.upstream.v1`` in a working day, in the proportions of :data:`MIX`.

Six systems, each with its bot (a user of kind ``bot``), key their records the way such
systems do — by project, repository, organiser, pipeline, group or person — so the records
spread over every partition while each key's events keep their order:

- ``jira``: Create of a Task assigned to one or two people, and Updates of tasks it created
  earlier (completed, or rescheduled), keyed ``tenant:jira:<project>``;
- ``github``: Create of a Task (a review request), keyed ``tenant:github:<repository>``;
- ``calendar``: Create of an Event with start and end, inviting two to five people, keyed
  ``tenant:calendar:<organiser>``;
- ``ci``: an announcement Note posted into a group, keyed ``tenant:ci:<pipeline>``;
- ``drive``: Add of a Document into a group, keyed ``tenant:drive:<group>``;
- ``workday``: Update of a Person (a new title), keyed ``tenant:workday:<person>``.

Every event changes something, so each one becomes exactly one canonical activity.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg
import orjson

from bench.kafka import Outgoing
from canopy_common.iris import user_iri

AS2: Final = "https://www.w3.org/ns/activitystreams"
EMPLOYEES: Final = 400  # assignees, invitees, people whose profile changes
GROUPS: Final = 12
PROJECTS: Final = 48  # jira keys
REPOSITORIES: Final = 24  # github keys
ORGANISERS: Final = 64  # calendar keys
PIPELINES: Final = 16  # ci keys
BOTS: Final = ("jira-bot", "github-bot", "calendar-bot", "ci-bot", "drive-bot", "workday-bot")
SEED: Final = 20_240_601  # the same mix every run

# Percent of the events of each kind (they add up to 100).
MIX: Final = {
    "jira_task_create": 32,
    "jira_task_update": 16,
    "github_task_create": 10,
    "calendar_event_create": 16,
    "ci_note": 8,
    "drive_document_add": 8,
    "workday_person_update": 10,
}


def describe_mix() -> str:
    """The mix as the figures' params show it."""
    return " ".join(f"{kind}:{share}%" for kind, share in MIX.items())


@dataclass(frozen=True, slots=True)
class Company:
    """The upstream tenant: its bots, employees and groups, as seeded."""

    tenant: str
    employees: tuple[str, ...]
    groups: tuple[str, ...]


def company(tenant: str) -> Company:
    employees = tuple(f"emp{i:04d}" for i in range(EMPLOYEES))
    groups = tuple(
        f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{tenant}/g{i}')}" for i in range(GROUPS)
    )
    return Company(tenant, employees, groups)


async def seed_company(pool: asyncpg.Pool, firm: Company) -> None:
    """The tenant, its bots and employees, and its internal groups, straight into the tables."""
    await pool.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", firm.tenant, "Bench Corp")
    people = [(bot, "bot") for bot in BOTS] + [(emp, "employee") for emp in firm.employees]
    await pool.executemany(
        "INSERT INTO users (tenant_id, id, handle, display_name, kind) VALUES ($1, $2, $2, $3, $4)",
        [(firm.tenant, user, user.title(), kind) for user, kind in people],
    )
    await pool.executemany(
        "INSERT INTO groups (tenant_id, id, name, visibility, owner_id) "
        "VALUES ($1, $2, $3, 'internal', $4)",
        [(firm.tenant, gid, f"Team {i}", firm.employees[0]) for i, gid in enumerate(firm.groups)],
    )


def upstream_events(firm: Company, count: int) -> list[Outgoing]:
    """``count`` upstream records in the proportions of :data:`MIX`, shuffled as systems
    interleave, with distinct ids; an Update always follows its task's Create on its key."""
    rng = random.Random(SEED)
    kinds = [kind for kind, share in MIX.items() for _ in range(share)]
    now = datetime.now(UTC)
    created: dict[int, list[str]] = {}  # jira project -> its tasks so far
    events: list[Outgoing] = []
    for i in range(count):
        kind = rng.choice(kinds)
        project = rng.randrange(PROJECTS)
        if kind == "jira_task_update" and not created.get(project):
            kind = "jira_task_create"
        if kind == "jira_task_create":
            task = f"https://jira.example/browse/P{project:02d}-{i}"
            created.setdefault(project, []).append(task)
            events.append(_task(firm, rng, "jira", task, f"jira:P{project:02d}", now, i))
        elif kind == "jira_task_update":
            task = rng.choice(created[project][-20:])
            events.append(_task_update(firm, rng, task, f"jira:P{project:02d}", now, i))
        elif kind == "github_task_create":
            repo = rng.randrange(REPOSITORIES)
            task = f"https://github.example/acme/repo{repo}/pull/{i}"
            events.append(_task(firm, rng, "github", task, f"github:repo{repo}", now, i))
        elif kind == "calendar_event_create":
            events.append(_calendar_event(firm, rng, now, i))
        elif kind == "ci_note":
            events.append(_ci_note(firm, rng, i))
        elif kind == "drive_document_add":
            events.append(_document(firm, rng, i))
        else:
            events.append(_person_update(firm, rng, i))
    return events


def _activity(firm: Company, bot: str, type_: str, obj: Any, **more: Any) -> dict[str, Any]:
    return {
        "@context": AS2,
        "id": f"https://{bot.removesuffix('-bot')}.example/events/{uuid.uuid4()}",
        "type": type_,
        "actor": user_iri(firm.tenant, bot),
        "object": obj,
        "published": datetime.now(UTC).isoformat(),
        "tenant": firm.tenant,
        "source": bot.removesuffix("-bot"),
        **more,
    }


def _record(firm: Company, key: str, doc: dict[str, Any]) -> Outgoing:
    return Outgoing(f"{firm.tenant}:{key}", orjson.dumps(doc))


def _people(firm: Company, rng: random.Random, low: int, high: int) -> list[str]:
    picked = rng.sample(firm.employees, rng.randint(low, high))
    return [user_iri(firm.tenant, person) for person in picked]


def _task(
    firm: Company, rng: random.Random, system: str, task: str, key: str, now: datetime, i: int
) -> Outgoing:
    obj = {
        "type": "Task",
        "id": task,
        "name": f"Review the rollout plan ({i})",
        "content": "Check the staged rollout and sign off before the release train leaves.",
        "endTime": (now + timedelta(days=rng.randint(1, 14))).isoformat(),
    }
    doc = _activity(firm, f"{system}-bot", "Create", obj, to=_people(firm, rng, 1, 2))
    return _record(firm, key, doc)


def _task_update(
    firm: Company, rng: random.Random, task: str, key: str, now: datetime, i: int
) -> Outgoing:
    obj: dict[str, Any] = {
        "type": "Task",
        "id": task,
        "name": f"Review the rollout plan (rev {i})",
        "content": "Rescheduled: the release train leaves a day later.",
        "endTime": (now + timedelta(days=rng.randint(2, 20))).isoformat(),
    }
    if rng.random() < 0.5:
        obj["status"] = "completed"
    doc = _activity(firm, "jira-bot", "Update", obj, to=_people(firm, rng, 1, 2))
    return _record(firm, key, doc)


def _calendar_event(firm: Company, rng: random.Random, now: datetime, i: int) -> Outgoing:
    organiser = rng.randrange(ORGANISERS)
    start = now + timedelta(hours=rng.randint(1, 24 * 10))
    obj = {
        "type": "Event",
        "id": f"https://calendar.example/events/{uuid.uuid4()}",
        "name": f"Planning sync {i}",
        "content": "Agenda: last sprint's review, this sprint's goals, open questions.",
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=rng.choice((30, 45, 60)))).isoformat(),
    }
    doc = _activity(firm, "calendar-bot", "Create", obj, to=_people(firm, rng, 2, 5))
    return _record(firm, f"calendar:{firm.employees[organiser]}", doc)


def _ci_note(firm: Company, rng: random.Random, i: int) -> Outgoing:
    pipeline = rng.randrange(PIPELINES)
    obj = {
        "type": "Note",
        "kind": "announcement",
        "name": f"Build {i} deployed",
        "content": f"Pipeline {pipeline} deployed build {i} to production. #release #deploys",
    }
    doc = _activity(firm, "ci-bot", "Create", obj, target=rng.choice(firm.groups))
    return _record(firm, f"ci:pipeline{pipeline}", doc)


def _document(firm: Company, rng: random.Random, i: int) -> Outgoing:
    group = rng.choice(firm.groups)
    url = f"https://drive.example/d/{uuid.uuid4()}"
    obj = {"type": "Document", "id": url, "name": f"Meeting notes {i}", "url": url}
    doc = _activity(firm, "drive-bot", "Add", obj, target=group)
    return _record(firm, f"drive:{group}", doc)


def _person_update(firm: Company, rng: random.Random, i: int) -> Outgoing:
    person = rng.choice(firm.employees)
    obj = {
        "type": "Person",
        "id": user_iri(firm.tenant, person),
        "preferredUsername": person,
        "name": person.title(),
        "title": f"Engineer, level {i}",  # always new: every Update changes the profile
        "department": rng.choice(("Platform", "Payments", "Growth", "Data")),
    }
    doc = _activity(firm, "workday-bot", "Update", obj)
    return _record(firm, f"workday:{person}", doc)


def keys_of(events: Sequence[Outgoing]) -> int:
    """How many distinct record keys ``events`` use."""
    return len({event.key for event in events})
