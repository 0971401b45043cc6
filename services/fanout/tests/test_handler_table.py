"""Fanout dispatches every typed change through one table (pure)."""

from __future__ import annotations

from typing import get_args

from canopy_common.events import Visibility
from canopy_common.vocabulary.changes import Change
from canopy_fanout.handlers import HANDLERS, group_visibility


def test_every_change_type_has_one_handler() -> None:
    assert set(HANDLERS) == set(get_args(Change))


def test_only_new_items_follows_and_memberships_leave_work_to_redo() -> None:
    waiting = {kind.__name__ for kind, route in HANDLERS.items() if route.redo is not None}
    assert waiting == {"NewItem", "Follow", "Membership"}


def test_groups_are_projected_as_public_internal_or_members_only() -> None:
    assert group_visibility(Visibility.PUBLIC) == "public"
    assert group_visibility(Visibility.INTERNAL) == "internal"
    assert group_visibility(Visibility.FOLLOWERS) == "group"
    assert group_visibility(None) == "group"
