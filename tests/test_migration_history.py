"""Applied migrations are history: a deployment refuses to start when a migration it applied
has changed (``canopy_common.db``), so no edit may reach one, not even to a comment.

Each service's migrations and their checksums, as released. A new migration is added here in
the same commit that adds it; a changed checksum means an applied migration was edited: put
it back and add a new migration instead."""

from __future__ import annotations

import pytest

from canopy_common.db import load_migrations

RELEASED = {
    "canopy_ingestion": {
        1: ("consumed_activities", "f321abcf51f193c0"),
        2: ("write_model", "8a8b1d70172e92b1"),
        3: ("relation_activity_ids", "769bf68e1cbd1d88"),
        4: ("invites_email_roles", "82379bed456e6582"),
        5: ("join_requests", "99fd83787609b75b"),
        6: ("audit_log", "c29aaa1f74d3d6b3"),
        7: ("row_level_security", "17bc9208f1c6630f"),
        8: ("moderation", "760f79d6c99f6043"),
        9: ("bookmarks", "ca8f7c99fc2ba60f"),
        10: ("groups_archive_pins", "28fec4bb093a42de"),
        11: ("profile_fields", "473f620487dcfeb7"),
        12: ("conversations", "4418b01940cb3d3b"),
        13: ("deactivation", "8f8f6a408dbed178"),
        14: ("exports", "1bdd65262b617be1"),
    },
    "canopy_fanout": {
        1: ("consumed_activities", "f321abcf51f193c0"),
        2: ("projections", "4dc8c034124708ee"),
        3: ("mutes_by_other", "1d8ab1fd7c7ee37a"),
        4: ("pins", "465d2268166522e8"),
        5: ("people_erased", "2bf21f84fdd43e51"),
        6: ("people_not_insiders", "4b4d831006e24fc6"),
    },
    "canopy_notify": {
        1: ("consumed_activities", "f321abcf51f193c0"),
        2: ("notifications", "8970bd52dab3ec2c"),
        3: ("question_routing", "f2a5b24769646443"),
    },
    "canopy_analytics": {
        1: ("consumed_activities", "f321abcf51f193c0"),
        2: ("rollups", "e850434795e9186d"),
        3: ("search", "fa2afd78c61d7fd3"),
        4: ("vectors", "6282fc48175b8faf"),
    },
}


@pytest.mark.parametrize("package", sorted(RELEASED))
def test_no_released_migration_has_changed_and_every_migration_is_listed(package: str) -> None:
    found = {m.version: (m.name, m.checksum[:16]) for m in load_migrations(package)}
    assert found == RELEASED[package]
