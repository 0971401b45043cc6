"""The notification service's collaborators, built once per process from its running clients.

The consumers, the reminder scheduler and the routes share one :class:`Notifier` and one
:class:`Live` (the unread counts and live streams in Redis).
"""

from __future__ import annotations

from dataclasses import dataclass

from canopy_common.service import Runtime
from canopy_notify.adapters.live import Live
from canopy_notify.handlers import Notifier
from canopy_notify.metrics import notify_metrics
from canopy_notify.settings import Settings


@dataclass(frozen=True)
class Collaborators:
    """What the notification service's consumers, workers and routes use."""

    runtime: Runtime[Settings]
    notifier: Notifier  # the write path

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def live(self) -> Live:
        return self.notifier.live


def bootstrap(runtime: Runtime[Settings]) -> Collaborators:
    """Build the service's collaborators from its clients (once, in the lifespan)."""
    settings = runtime.settings
    # A stream refreshes its presence every keep-alive: two missed ones and it has gone.
    live = Live(runtime.redis, presence_ttl_s=settings.keepalive_s * 2)
    return Collaborators(
        runtime=runtime,
        notifier=Notifier(settings=settings, metrics=notify_metrics(), live=live),
    )
