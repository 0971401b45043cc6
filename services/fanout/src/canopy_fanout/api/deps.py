"""What the fanout routes get from the running service: the collaborators its bootstrap built.

The dependencies are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its
thread pool, a thread hop on every request for what is a lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from canopy_common.service import collaborators_of
from canopy_fanout.bootstrap import Collaborators
from canopy_fanout.impressions import ImpressionBuffer
from canopy_fanout.reads import Reads


async def reads_of(request: Request) -> Reads:
    return collaborators_of(request, Collaborators).reads


async def impressions_of(request: Request) -> ImpressionBuffer:
    return collaborators_of(request, Collaborators).runtime.component(ImpressionBuffer)


CurrentReads = Annotated[Reads, Depends(reads_of)]
Impressions = Annotated[ImpressionBuffer, Depends(impressions_of)]
