"""The analytics service's collaborators, built once per process from its running clients."""

from __future__ import annotations

from dataclasses import dataclass

from canopy_analytics.adapters.active import ActiveSets
from canopy_analytics.adapters.model_runtime import Semantics
from canopy_analytics.settings import Settings
from canopy_common.service import Runtime


@dataclass(frozen=True)
class Collaborators:
    """What the analytics service's stream and routes use."""

    runtime: Runtime[Settings]
    active: ActiveSets  # the HyperLogLogs of active and engaged people
    semantics: Semantics  # the embedding model and the tenants' vectors (docs §17)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


def bootstrap(runtime: Runtime[Settings]) -> Collaborators:
    """Build the service's collaborators from its clients (once, in the lifespan)."""
    return Collaborators(
        runtime=runtime,
        active=ActiveSets(runtime.redis, runtime.pool),
        semantics=Semantics(runtime.settings.embedding_model),
    )


async def load_model(service: Collaborators) -> None:
    """Load the embedding model before routes and workers start (``on_start``)."""
    await service.semantics.load()
