"""What the notification routes get from the running service: the collaborators its bootstrap
built (``async``: a plain ``def`` dependency would hop to FastAPI's thread pool)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from canopy_common.service import collaborators_of
from canopy_notify.bootstrap import Collaborators


async def service_of(request: Request) -> Collaborators:
    return collaborators_of(request, Collaborators)


Service = Annotated[Collaborators, Depends(service_of)]
