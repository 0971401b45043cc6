"""HTTP routes: graph."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["graph"])
