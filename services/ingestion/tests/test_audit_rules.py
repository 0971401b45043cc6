"""The audit log's pure rules: what a provisioning records, CSV lines, cursors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from canopy_common.cursors import BadCursor
from canopy_ingestion.domain.audit import (
    AuditAction,
    AuditEntry,
    csv_line,
    decode_cursor,
    encode_cursor,
    provisioning_entries,
)
from canopy_ingestion.domain.model import User, UserKind

ADA = User(tenant_id="t", id="ada", handle="ada", display_name="Ada", kind=UserKind.EMPLOYEE)


def actions(existing: User | None, wanted: User) -> list[AuditAction]:
    return [entry.action for entry in provisioning_entries(existing, wanted)]


def test_a_new_or_reprovisioned_person_is_a_create_and_their_roles_a_roles_change() -> None:
    moderator = replace(ADA, roles=("moderator",))

    assert actions(None, ADA) == [AuditAction.USER_CREATE]
    erased = replace(ADA, active=False, erased=True, roles=("analyst",))
    assert actions(erased, moderator) == [AuditAction.USER_CREATE, AuditAction.USER_ROLES]
    assert actions(ADA, moderator) == [AuditAction.USER_ROLES]
    assert actions(ADA, ADA) == []


def test_a_change_of_standing_is_a_deactivation_or_a_reactivation() -> None:
    left = replace(ADA, active=False)

    assert actions(ADA, left) == [AuditAction.USER_DEACTIVATE]
    assert actions(left, replace(ADA, title="Alumna")) == [
        AuditAction.USER_UPDATE,
        AuditAction.USER_REACTIVATE,
    ]
    assert actions(left, left) == []


def test_an_update_names_the_changed_fields_not_their_values() -> None:
    [entry] = provisioning_entries(ADA, replace(ADA, title="CTO", email="ada@example.com"))

    assert entry.action is AuditAction.USER_UPDATE
    assert entry.details == {"fields": ["title", "email"]}


def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    entry = AuditEntry(
        seq=1,
        tenant_id="t",
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        actor="=HYPERLINK(1)",
        action="user.erase",
        target="a,b",
        details={"b": 1, "a": "x"},
    )

    assert csv_line(entry) == (
        '2026-01-02T03:04:05+00:00,\'=HYPERLINK(1),user.erase,"a,b","{""a"":""x"",""b"":1}"\r\n'
    )


def test_a_cursor_round_trips_and_anything_else_is_refused() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    for bad in ("", "x", encode_cursor(42)[:-2], "eyJiZWZvcmUiOnRydWV9"):
        with pytest.raises(BadCursor):
            decode_cursor(bad)
