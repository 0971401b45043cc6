"""Who is calling: the authenticated :class:`Principal` and the :class:`Role` names a token may
grant (docs/architecture.md §8).

Pure on purpose (no web framework): domain code decides on these. Token verification and the
FastAPI dependencies live in :mod:`canopy_common.auth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Tenant ids are Canopy-provisioned slugs; they go into every Redis key and Kafka key.
TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Role(StrEnum):
    """The roles a token may grant (docs/architecture.md §8; platform_admin provisions tenants)."""

    MEMBER = "member"
    GUEST = "guest"
    GROUP_ADMIN = "group_admin"
    TENANT_ADMIN = "tenant_admin"
    MODERATOR = "moderator"
    ANALYST = "analyst"
    PLATFORM_ADMIN = "platform_admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: who (``user_id``), in which tenant, holding which roles."""

    user_id: str
    tenant_id: str
    roles: frozenset[Role]

    def has_role(self, *roles: Role) -> bool:
        """Whether the caller holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)
