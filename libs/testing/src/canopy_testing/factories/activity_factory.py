"""The one factory tests use: every kind of canonical activity of one tenant, composed of the
factories of one subject each."""

from __future__ import annotations

import uuid

from canopy_common.iris import user_iri
from canopy_testing.factories.graph import GraphActivities
from canopy_testing.factories.groups import GroupActivities
from canopy_testing.factories.people import PeopleActivities
from canopy_testing.factories.posts import PostActivities
from canopy_testing.factories.subjects import new_tenant_id
from canopy_testing.factories.tasks import TaskActivities


class ActivityFactory(
    PeopleActivities, GroupActivities, GraphActivities, PostActivities, TaskActivities
):
    """Builds canonical strict activities for one tenant (a fresh one unless ``tenant_id``).

    ``admin`` is the tenant admin who provisions people (the ``attributedTo`` of profile
    activities) and the default owner of groups.
    """

    def __init__(self, tenant_id: str | None = None, *, source: str = "http") -> None:
        super().__init__(tenant_id or new_tenant_id(), source=source)
        admin_id = f"admin-{uuid.uuid4().hex[:8]}"
        self.admin = self.user(
            "tenant-admin",
            user_id=admin_id,
            display_name="Tenant Admin",
            by=user_iri(self.tenant_id, admin_id),
        )
