"""Upstream tasks and events: what ingestion publishes when a tracker or calendar creates,
changes or deletes one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, TypeAlias

from canopy_common.events import Activity, StrictActivity, Visibility
from canopy_common.vocabulary import builders
from canopy_common.vocabulary.post_kinds import KIND_OF_AS2_TYPE
from canopy_testing.factories.subjects import Doc, Subject, distinct
from canopy_testing.factories.tenant_activities import TenantActivities

TaskStatus: TypeAlias = Literal["open", "completed", "cancelled"]
ScheduledType: TypeAlias = Literal["Task", "Event"]

UPSTREAM_SOURCE = "upstream"  # the `source` of an upstream record that names none
SCHEDULED_TYPES = frozenset({"Task", "Event"})  # what upstream systems schedule


class TaskActivities(TenantActivities):
    """The activities ingestion publishes about upstream tasks and events."""

    def task(
        self,
        author: Subject,
        name: str,
        *,
        due: datetime,
        assignees: Sequence[Subject] = (),
        status: TaskStatus = "open",
        group: Subject | None = None,
        object_type: ScheduledType = "Task",
        start: datetime | None = None,
        content: str = "",
        task_id: str | None = None,
        source: str | None = None,
        published: datetime | None = None,
    ) -> StrictActivity:
        """The ``Create`` of a task (or ``object_type="Event"``) an upstream system sent,
        as ingestion publishes it: the object keeps the upstream id (``task_id``, else a
        made-up tracker URL) and carries ``endTime`` (``due``), ``startTime``, ``status``
        and the assignees in ``to``; in ``group`` it is seen by the group's members
        (``visibility: group``, the group in the object's ``target``), else ``direct`` to
        the assignees. The activity, addressed like the object, has neither ``target`` nor
        ``context``; ``source`` names the upstream system (default: the factory's, or
        ``upstream`` when that is ``http``, through which no task is ever created)."""
        if object_type not in SCHEDULED_TYPES:
            raise ValueError(f"upstream systems schedule a Task or an Event, not {object_type!r}")
        object_id = task_id or f"https://tracker.example/{self.tenant_id}/{uuid.uuid4().hex[:12]}"
        group_doc = self.group_object(group) if group is not None else None
        now = published or datetime.now(UTC)
        obj: Doc = {
            "type": object_type,
            "id": object_id,
            "kind": KIND_OF_AS2_TYPE[object_type],
            "attributedTo": self.person(author),
            "content": content,
            "mediaType": "text/markdown",
            "name": name,
            "visibility": (Visibility.GROUP if group_doc else Visibility.DIRECT).value,
            "context": object_id,
            "published": now,
            "startTime": start,
            "endTime": due,
            "to": distinct(self.person(a)["id"] for a in assignees) or None,
            "status": status,
            "target": group_doc,
        }
        if source is None:
            source = UPSTREAM_SOURCE if self.source == "http" else self.source
        return self._scheduled_activity("Create", builders.json_ready(obj), source, published=now)

    def update_task(
        self,
        task: Subject,
        *,
        due: datetime | None = None,
        status: TaskStatus | None = None,
        assignees: Sequence[Subject] | None = None,
        name: str | None = None,
        by: Subject | None = None,
        updated: datetime | None = None,
    ) -> StrictActivity:
        """The ``Update`` an upstream change of a task or event becomes: the whole object,
        same id and ``published``, ``updated`` set, by ``by`` (the author unless given, who
        then is its ``attributedTo``). ``None`` keeps a field: ingestion keeps the status
        of an upstream Update that does not say it."""
        obj = self._scheduled_object(task)
        if due is not None:
            obj["endTime"] = due
        if status is not None:
            obj["status"] = status
        if assignees is not None:
            obj["to"] = distinct(self.person(a)["id"] for a in assignees) or None
        if name is not None:
            obj["name"] = name
        if by is not None:
            obj["attributedTo"] = self.person(by)
        obj["updated"] = updated or datetime.now(UTC)
        return self._scheduled_activity("Update", builders.json_ready(obj), _source_of(task))

    def delete_task(self, task: Subject, *, by: Subject | None = None) -> StrictActivity:
        """The ``Delete`` of an upstream task or event: a bare ``Tombstone`` (id and former
        type), addressed as the task was, by ``by`` (the author unless given)."""
        obj = self._scheduled_object(task)
        tombstone = {"type": "Tombstone", "id": obj["id"], "formerType": obj["type"]}
        actor = self.person(by) if by is not None else obj["attributedTo"]
        return self.activity(
            "Delete",
            actor,
            tombstone,
            visibility=obj["visibility"],
            to=obj.get("to"),
            source=_source_of(task),
        )

    def _scheduled_object(self, task: Subject) -> Doc:
        obj = self.post_object(task)
        if obj["type"] not in SCHEDULED_TYPES:
            raise ValueError(f"{obj['id']!r} is not a task or event: pass the task's Create")
        return obj

    def _scheduled_activity(
        self, type_: str, obj: Doc, source: str, *, published: datetime | None = None
    ) -> StrictActivity:
        """An upstream task's activity: by its author, addressed like it, nothing more."""
        return self.activity(
            type_,
            obj["attributedTo"],
            obj,
            visibility=obj["visibility"],
            to=obj.get("to"),
            published=published,
            source=source,
        )


def _source_of(subject: Subject) -> str:
    """Who sent the activity a subject is (an upstream record keeps its system's name)."""
    source = subject.source if isinstance(subject, Activity) else None
    return source or UPSTREAM_SOURCE
