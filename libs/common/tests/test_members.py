"""The standing cache of canopy_common.members: answers kept for the TTL, forgotten when a
person changes, never kept when they may predate a change (unit: a directory in a dict)."""

from __future__ import annotations

import asyncio

import pytest

from canopy_common.errors import Forbidden
from canopy_common.members import Members, Standing, require_active
from canopy_common.principal import Principal, Role


class Directory:
    """People in a dict; counts the lookups; may hold a lookup until released."""

    def __init__(self) -> None:
        self.people: dict[tuple[str, str], bool] = {}
        self.lookups = 0
        self.gate: asyncio.Event | None = None

    async def standing(self, tenant_id: str, user_id: str) -> Standing:
        self.lookups += 1
        active = self.people.get((tenant_id, user_id))
        if self.gate is not None:
            await self.gate.wait()
        return Standing.of(active)


def test_only_an_active_person_passes_the_rule() -> None:
    ada = Principal("ada", "acme", frozenset({Role.TENANT_ADMIN}))
    require_active(ada, Standing.ACTIVE)
    for standing in (Standing.UNKNOWN, Standing.INACTIVE):
        with pytest.raises(Forbidden, match="'ada' is not an active member of tenant 'acme'"):
            require_active(ada, standing)


async def test_an_answer_is_kept_until_the_person_changes() -> None:
    directory = Directory()
    directory.people[("acme", "ada")] = True
    members = Members(directory, ttl_s=60)
    assert await members.standing("acme", "ada") is Standing.ACTIVE
    directory.people[("acme", "ada")] = False  # erased, not yet told
    assert await members.standing("acme", "ada") is Standing.ACTIVE
    assert directory.lookups == 1

    members.forget([("acme", "ada")])

    assert await members.standing("acme", "ada") is Standing.INACTIVE
    assert directory.lookups == 2


async def test_an_answer_expires_after_the_ttl() -> None:
    directory = Directory()
    members = Members(directory, ttl_s=0.05)
    assert await members.standing("acme", "bob") is Standing.UNKNOWN
    directory.people[("acme", "bob")] = True  # provisioned in an other process
    await asyncio.sleep(0.06)
    assert await members.standing("acme", "bob") is Standing.ACTIVE


async def test_an_answer_read_while_a_person_changed_is_not_kept() -> None:
    directory = Directory()
    directory.people[("acme", "ada")] = True
    directory.gate = asyncio.Event()
    members = Members(directory, ttl_s=60)
    reading = asyncio.create_task(members.standing("acme", "ada"))
    await asyncio.sleep(0)  # the lookup has read the old row and waits
    directory.people[("acme", "ada")] = False
    members.forget([("acme", "ada")])
    directory.gate.set()
    assert await reading is Standing.ACTIVE  # what it read, once

    assert await members.standing("acme", "ada") is Standing.INACTIVE


async def test_no_ttl_asks_every_time() -> None:
    directory = Directory()
    members = Members(directory, ttl_s=0)
    for _ in range(3):
        await members.standing("acme", "ada")
    assert directory.lookups == 3
