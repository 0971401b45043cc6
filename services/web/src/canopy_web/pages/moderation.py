"""``/moderation``: the flags queue for moderators — each flagged post with its reports,
open or resolved, a page at a time — and the decision on a case (ingestion's
``/v1/moderation/flags``; the service decides who may moderate)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_web.api import Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import render

router = APIRouter(dependencies=[Depends(csrf_protected)])

CASES_PAGE = 20
ACTIONS = ("dismiss", "warn", "remove")  # ingestion's Resolution
NOTE_MAX = 2000  # ingestion's MAX_NOTE_CHARS checks it again
Status = Annotated[str, Query(pattern="^(open|resolved)$")]
Cursor = Annotated[str | None, Query(max_length=512)]
FlagId = Annotated[str, Path(min_length=1, max_length=512)]


def as_post(case: dict[str, Any]) -> dict[str, Any]:
    """The flagged post in the shape ``post_card`` shows (an AS2 object's fields)."""
    post = case["post"]
    return {
        "id": post["id"],
        "content": post["content"],
        "attributedTo": {"id": post["author"], "preferredUsername": post["author"]},
    }


@router.get("/moderation", include_in_schema=False)
async def queue(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    status: Status = "open",
    cursor: Cursor = None,
    done: Annotated[str | None, Query(pattern="^(dismiss|warn|remove)$")] = None,
) -> Response:
    page = await api.page(
        Service.INGESTION, "/v1/moderation/flags", status=status, cursor=cursor, limit=CASES_PAGE
    )
    cases = [{**case, "card": as_post(case)} for case in page.items]
    return await render(
        request,
        "moderation/index.html",
        session=session,
        api=api,
        page=page,
        cases=cases,
        status=status,
        cursor=cursor,
        actions=ACTIONS,
        done=done,
    )


@router.post("/moderation/flags/{flag_id}/resolve", include_in_schema=False)
async def resolve(
    flag_id: FlagId,
    api: CurrentApi,
    action: Annotated[str, Form(pattern="^(dismiss|warn|remove)$")],
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
) -> Response:
    body = {"action": action, "note": note.strip() or None}
    await api.send(
        "POST", Service.INGESTION, f"/v1/moderation/flags/{quote(flag_id, safe=':')}/resolve", body
    )
    return RedirectResponse(f"/moderation?done={action}", status_code=303)
