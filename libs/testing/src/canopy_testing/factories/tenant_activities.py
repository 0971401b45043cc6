"""The building blocks every factory of one tenant shares: any canonical activity, and the
Person, Group or post a subject stands for."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from canopy_common.events import (
    AS2Object,
    StrictActivity,
    Visibility,
    new_activity_id,
    validate_activity,
)
from canopy_common.iris import parse_name
from canopy_common.principal import TENANT_ID_PATTERN
from canopy_common.vocabulary import builders
from canopy_common.vocabulary.builders import person_doc
from canopy_testing.factories.subjects import Doc, Subject, as_doc, object_doc, subject_id

# What ingestion accepts as a tenant id (``PUT /v1/tenants/{id}``, tokens); no ':' either,
# so it fits in ``urn:canopy:<tenant>:...``.
TENANT_ID = re.compile(TENANT_ID_PATTERN)  # what a token's tenant claim may be


class TenantActivities:
    """Canonical strict activities of one tenant, from the builders ingestion publishes with
    (:mod:`canopy_common.vocabulary.builders`). ``admin`` is the tenant admin who provisions
    people and owns groups by default (set by :class:`ActivityFactory`)."""

    admin: StrictActivity

    def __init__(self, tenant_id: str, *, source: str) -> None:
        self.tenant_id = tenant_id
        if not TENANT_ID.match(self.tenant_id):
            raise ValueError(f"{self.tenant_id!r} is not a tenant id ({TENANT_ID.pattern})")
        self.source = source

    def activity(
        self,
        type: str,
        actor: Subject | Doc,
        obj: Doc | str | AS2Object,
        *,
        target: Doc | None = None,
        visibility: Visibility | str | None = None,
        to: Sequence[str] | None = None,
        published: datetime | None = None,
        activity_id: str | None = None,
        **members: Any,
    ) -> StrictActivity:
        """Any canonical activity of this tenant by ``actor`` (embedded as its Person, or
        given as a Person document); ``members`` are further members by their wire names
        (``context``, ``role``, …). Validated as ingestion validates before publishing."""
        doc = builders.activity_doc(
            type,
            activity_id=activity_id or new_activity_id(),
            actor=actor if isinstance(actor, dict) else self.person(actor),
            obj=as_doc(obj) if isinstance(obj, AS2Object) else obj,
            tenant=self.tenant_id,
            published=published or datetime.now(UTC),
            source=members.pop("source", self.source),  # an upstream record names its own
            target=target,
            to=list(to) if to else None,
            visibility=Visibility(visibility).value if visibility is not None else None,
            **members,
        )
        return validate_activity(doc)

    def person(self, subject: Subject) -> Doc:
        """The embedded Person a subject stands for. A bare person IRI of this tenant makes a
        minimal employee whose handle and name are the user id."""
        if isinstance(subject, str):
            name = parse_name(subject)
            if name is None or name.kind != "user" or name.tenant != self.tenant_id:
                raise ValueError(f"{subject!r} is no person IRI of tenant {self.tenant_id!r}")
            return person_doc(subject, handle=name.key, display_name=name.key, kind="employee")
        found = object_doc(subject)
        if found.get("type") != "Person":
            raise ValueError(f"{subject_id(subject)!r} is not a Person")
        return found

    def group_object(self, subject: Subject) -> Doc:
        """The Group a subject stands for (pass the group's ``Create`` or object)."""
        found = object_doc(subject)
        if found.get("type") != "Group":
            raise ValueError(f"{subject_id(subject)!r} is not a Group: pass the group's Create")
        return found

    def post_object(self, subject: Subject) -> Doc:
        """The post a subject stands for (its ``Create``, ``Update`` or object)."""
        found = object_doc(subject)
        if "kind" not in found or "context" not in found or "attributedTo" not in found:
            raise ValueError(f"{subject_id(subject)!r} is not a post: pass the post's Create")
        return found

    def _group_activity(
        self,
        type_: str,
        group: Doc,
        actor: Subject | Doc,
        obj: Doc | str,
        *,
        to: list[str] | None = None,
        role: str | None = None,
        status: str | None = None,
    ) -> StrictActivity:
        """Every group activity carries the whole group as ``target`` and its visibility."""
        return self.activity(
            type_,
            actor,
            obj,
            target=group,
            visibility=group["visibility"],
            to=to,
            role=role,
            status=status,
        )

    def _about_post(
        self, type_: str, actor: Subject | Doc, post: Doc, obj: Doc, **members: Any
    ) -> StrictActivity:
        """An activity on ``post`` addressed like it: its visibility and addressees, its group
        as ``target``, its thread as ``context`` (``members`` may override or add)."""
        members.setdefault("visibility", post["visibility"])
        members.setdefault("to", post.get("to"))
        members.setdefault("target", post.get("target"))
        return self.activity(type_, actor, obj, context=post["context"], **members)
