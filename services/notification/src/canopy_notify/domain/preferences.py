"""Notification preferences: categories by channels (docs/architecture.md §6). Pure rules.

Three layers, resolved when read so a changed tenant default reaches everyone who has not
chosen otherwise: the built-in defaults below, the tenant's defaults (sparse), and a user's
overrides (sparse). A tenant may lock a category on a channel (compliance announcements):
then the tenant's value holds and users cannot change it.

Guests opt in to :data:`GUEST_OPT_IN` categories themselves: for them these start off on every
channel and only their own override (or a tenant lock) turns one on — a tenant default meant
for employees does not reach them. Questions routed to likely answerers are such a category:
a guest is asked to help only when they said so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from canopy_notify.domain.model import Category, Channel

Setting = tuple[Category, Channel]

_EMAIL: Final = frozenset(
    {
        Category.MENTION,
        Category.REPLY,
        Category.GROUP,
        Category.ANSWER,
        Category.ANNOUNCEMENT,
        Category.TASK,
        Category.MODERATION,
    }
)
_PUSH: Final = frozenset({Category.MENTION, Category.TASK})
#: Off for guests unless they turn them on (see the module's docstring).
GUEST_OPT_IN: Final = frozenset({Category.QUESTION})

# Everything in the app; email for what needs the person, push only for the most direct.
BUILT_IN: Final[Mapping[Setting, bool]] = {
    (category, channel): channel is Channel.IN_APP
    or (channel is Channel.EMAIL and category in _EMAIL)
    or (channel is Channel.PUSH and category in _PUSH)
    for category in Category
    for channel in Channel
}


@dataclass(frozen=True, slots=True)
class TenantDefault:
    enabled: bool
    locked: bool = False


@dataclass(frozen=True, slots=True)
class Effective:
    """One category on one channel for one person: on or off, and whether it is locked."""

    enabled: bool
    locked: bool = False


Resolved = dict[Setting, Effective]


def resolve(
    tenant: Mapping[Setting, TenantDefault],
    user: Mapping[Setting, bool] | None = None,
    *,
    guest: bool = False,
) -> Resolved:
    """Every category and channel for one person (built-in < tenant < user, unless locked;
    for a ``guest``, :data:`GUEST_OPT_IN` categories start off and take no unlocked tenant
    default)."""
    user = user or {}
    resolved: Resolved = {}
    for setting, built_in in BUILT_IN.items():
        default = tenant.get(setting)
        if default is not None and default.locked:
            resolved[setting] = Effective(default.enabled, locked=True)
            continue
        if guest and setting[0] in GUEST_OPT_IN:
            resolved[setting] = Effective(user.get(setting, False))
            continue
        enabled = default.enabled if default is not None else built_in
        resolved[setting] = Effective(user.get(setting, enabled))
    return resolved


def locked_conflicts(
    tenant: Mapping[Setting, TenantDefault], wanted: Mapping[Setting, bool]
) -> list[Setting]:
    """The settings in ``wanted`` a user may not have: locked by the tenant to another value."""
    return [
        setting
        for setting, enabled in wanted.items()
        if (default := tenant.get(setting)) is not None
        and default.locked
        and default.enabled != enabled
    ]


def channels(resolved: Resolved, category: Category) -> frozenset[Channel]:
    """The channels ``category`` is on for."""
    return frozenset(ch for ch in Channel if resolved[(category, ch)].enabled)


def is_locked(resolved: Resolved, category: Category) -> bool:
    """Whether the tenant locked ``category`` on in the app (mutes cannot silence it)."""
    setting = resolved[(category, Channel.IN_APP)]
    return setting.locked and setting.enabled
