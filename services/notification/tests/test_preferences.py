"""Preference resolution: built-in < tenant < user, unless the tenant locked it."""

from __future__ import annotations

from canopy_notify.domain.model import Category, Channel
from canopy_notify.domain.preferences import (
    BUILT_IN,
    Effective,
    TenantDefault,
    channels,
    is_locked,
    locked_conflicts,
    resolve,
)

REACTION_EMAIL = (Category.REACTION, Channel.EMAIL)
MENTION_EMAIL = (Category.MENTION, Channel.EMAIL)
ANNOUNCEMENT_IN_APP = (Category.ANNOUNCEMENT, Channel.IN_APP)


def test_without_tenant_or_user_settings_everything_is_built_in() -> None:
    resolved = resolve({})

    assert set(resolved) == {(c, ch) for c in Category for ch in Channel}
    assert all(resolved[s] == Effective(enabled) for s, enabled in BUILT_IN.items())


def test_built_in_is_in_app_for_all_email_for_direct_push_for_most_direct() -> None:
    resolved = resolve({})

    assert all(resolved[(c, Channel.IN_APP)].enabled for c in Category)
    assert channels(resolved, Category.MENTION) == {Channel.IN_APP, Channel.EMAIL, Channel.PUSH}
    assert channels(resolved, Category.REACTION) == {Channel.IN_APP}


def test_tenant_default_overrides_built_in() -> None:
    resolved = resolve({REACTION_EMAIL: TenantDefault(True), MENTION_EMAIL: TenantDefault(False)})

    assert resolved[REACTION_EMAIL] == Effective(True)
    assert resolved[MENTION_EMAIL] == Effective(False)


def test_user_override_wins_over_an_unlocked_tenant_default() -> None:
    resolved = resolve({REACTION_EMAIL: TenantDefault(True)}, {REACTION_EMAIL: False})

    assert resolved[REACTION_EMAIL] == Effective(False)


def test_user_override_over_built_in_leaves_other_settings_alone() -> None:
    resolved = resolve({}, {MENTION_EMAIL: False})

    assert resolved[MENTION_EMAIL] == Effective(False)
    assert {s: e for s, e in resolved.items() if s != MENTION_EMAIL} == {
        s: Effective(v) for s, v in BUILT_IN.items() if s != MENTION_EMAIL
    }


def test_locked_tenant_default_beats_a_user_override() -> None:
    tenant = {ANNOUNCEMENT_IN_APP: TenantDefault(True, locked=True)}

    resolved = resolve(tenant, {ANNOUNCEMENT_IN_APP: False})

    assert resolved[ANNOUNCEMENT_IN_APP] == Effective(True, locked=True)
    assert is_locked(resolved, Category.ANNOUNCEMENT)


def test_locked_off_is_off_and_does_not_count_as_locked_on() -> None:
    tenant = {ANNOUNCEMENT_IN_APP: TenantDefault(False, locked=True)}

    resolved = resolve(tenant, {ANNOUNCEMENT_IN_APP: True})

    assert resolved[ANNOUNCEMENT_IN_APP] == Effective(False, locked=True)
    assert not is_locked(resolved, Category.ANNOUNCEMENT)  # mutes may still silence it


def test_only_in_app_lock_makes_a_category_locked() -> None:
    resolved = resolve({(Category.ANNOUNCEMENT, Channel.EMAIL): TenantDefault(True, locked=True)})

    assert not is_locked(resolved, Category.ANNOUNCEMENT)


def test_locked_conflicts_names_only_locked_settings_asked_to_change() -> None:
    tenant = {
        ANNOUNCEMENT_IN_APP: TenantDefault(True, locked=True),
        MENTION_EMAIL: TenantDefault(True, locked=True),
        REACTION_EMAIL: TenantDefault(True),
    }
    wanted = {ANNOUNCEMENT_IN_APP: False, MENTION_EMAIL: True, REACTION_EMAIL: False}

    assert locked_conflicts(tenant, wanted) == [ANNOUNCEMENT_IN_APP]


def test_no_conflicts_without_locks() -> None:
    assert locked_conflicts({}, {MENTION_EMAIL: False, REACTION_EMAIL: True}) == []


def test_guests_opt_in_to_routed_questions_themselves_unless_the_tenant_locked_them() -> None:
    question_in_app = (Category.QUESTION, Channel.IN_APP)
    on_for_employees = {question_in_app: TenantDefault(True)}

    assert channels(resolve({}), Category.QUESTION) == {Channel.IN_APP}
    assert channels(resolve(on_for_employees, guest=True), Category.QUESTION) == frozenset()
    assert resolve({}, {question_in_app: True}, guest=True)[question_in_app] == Effective(True)
    locked = {question_in_app: TenantDefault(True, locked=True)}
    assert resolve(locked, guest=True)[question_in_app] == Effective(True, locked=True)
    assert resolve({}, guest=True)[ANNOUNCEMENT_IN_APP] == Effective(True)  # others as ever
