"""``/admin``: what a tenant admin runs — people (find, give roles, deactivate and
reactivate, each change confirmed), the content policy (edit, try a text) and the audit log
(ingestion's ``/v1/users``, ``/v1/tenant/content-policy`` and ``/v1/audit``; the service
decides who may do it: others get its 403 page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_web.api import Api, ApiError, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import render

router = APIRouter(dependencies=[Depends(csrf_protected)])

PEOPLE_PAGE = 25
AUDIT_PAGE = 50
# The tenant roles a tenant admin gives (ingestion's ASSIGNABLE_ROLES).
ROLES = ("analyst", "moderator", "group_admin", "tenant_admin")
# The profile fields a PUT restates unchanged when only the roles change (location, skills
# and interests are left out: omitted, ingestion keeps the person's own).
_KEPT = ("handle", "display_name", "title", "department", "kind", "manager_id", "email")
BLANK_RULES = 3  # empty rows under the rules, for new ones
POLICY_TEXT_MAX = 10_000
POLICY = "/v1/tenant/content-policy"

Cursor = Annotated[str | None, Query(max_length=512)]
UserId = Annotated[str, Path(min_length=1, max_length=300)]
Change = Annotated[str, Path(pattern="^(deactivate|reactivate)$")]


def _user_path(user_id: str) -> str:
    return "/v1/users/" + quote(user_id, safe="")


def _admin_path(user_id: str) -> str:
    return "/admin/people/" + quote(user_id, safe="")


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a tried text: matched by ``rule``, or by none."""

    text: str
    rule: str | None = None


def segments(text: str, matches: list[dict[str, Any]]) -> list[Segment]:
    """``text`` cut at the matches (positions in code points), first match first; a match
    overlapping an earlier one is left out, so every character shows once."""
    out: list[Segment] = []
    at = 0
    for m in sorted(matches, key=lambda m: (int(m["start"]), -int(m["end"]))):
        start, end = int(m["start"]), int(m["end"])
        if start < at or end <= start or end > len(text):
            continue
        if start > at:
            out.append(Segment(text[at:start]))
        out.append(Segment(text[start:end], str(m["rule"])))
        at = end
    if at < len(text):
        out.append(Segment(text[at:]))
    return out


# --- people ---------------------------------------------------------------------------------


@router.get("/admin", include_in_schema=False)
async def people(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    former: bool = False,
) -> Response:
    # The content policy is the tenant admin's own route: anyone else gets its 403 here,
    # not a people search every member may run.
    await api.get(Service.INGESTION, POLICY)
    page = await api.page(
        Service.INGESTION,
        "/v1/users",
        q=q,
        cursor=cursor,
        limit=PEOPLE_PAGE,
        former="true" if former else None,
    )
    return await render(
        request,
        "admin/people.html",
        session=session,
        api=api,
        section="people",
        page=page,
        q=q or "",
        cursor=cursor,
        former=former,
        admin_path=_admin_path,
    )


@router.get("/admin/person", include_in_schema=False)
async def open_person(user: Annotated[str, Query(min_length=1, max_length=300)]) -> Response:
    """The open-by-id form: any person, whether or not a search finds them."""
    return RedirectResponse(_admin_path(user.strip()), status_code=303)


async def _person_page(
    request: Request,
    session: CurrentSession,
    api: Api,
    user_id: str,
    *,
    template: str = "admin/person.html",
    **context: Any,
) -> Response:
    await api.get(Service.INGESTION, POLICY)  # tenant admins only, as above
    person = await api.get(Service.INGESTION, _user_path(user_id))
    return await render(
        request,
        template,
        session=session,
        api=api,
        section="people",
        person=person,
        roles=ROLES,
        person_admin=_admin_path(user_id),
        **context,
    )


@router.get("/admin/people/{user_id}", include_in_schema=False)
async def person(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    user_id: UserId,
    done: Annotated[str | None, Query(pattern="^(roles|deactivate|reactivate)$")] = None,
) -> Response:
    return await _person_page(request, session, api, user_id, done=done)


@router.post("/admin/people/{user_id}/roles", include_in_schema=False)
async def set_roles(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    user_id: UserId,
    role: Annotated[list[str] | None, Form()] = None,
) -> Response:
    wanted = [r for r in ROLES if r in (role or [])]
    current = await api.get(Service.INGESTION, _user_path(user_id))
    body = {k: current.get(k) for k in _KEPT} | {"roles": wanted}
    try:
        await api.send("PUT", Service.INGESTION, _user_path(user_id), body)
    except ApiError as exc:
        if exc.status != 422:
            raise
        return await _person_page(
            request, session, api, user_id, problem=exc.detail or exc.title, status_code=422
        )
    return RedirectResponse(_admin_path(user_id) + "?done=roles", status_code=303)


@router.get("/admin/people/{user_id}/{change}", include_in_schema=False)
async def confirm_standing(
    request: Request, session: CurrentSession, api: CurrentApi, user_id: UserId, change: Change
) -> Response:
    """The confirmation step before a deactivation or reactivation."""
    return await _person_page(
        request, session, api, user_id, template="admin/confirm.html", change=change
    )


@router.post("/admin/people/{user_id}/{change}", include_in_schema=False)
async def set_standing(api: CurrentApi, user_id: UserId, change: Change) -> Response:
    await api.send("POST", Service.INGESTION, f"{_user_path(user_id)}/{change}")
    return RedirectResponse(f"{_admin_path(user_id)}?done={change}", status_code=303)


# --- content policy -------------------------------------------------------------------------


def _rows(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules as form rows; the built-in rules in force show their name with an empty
    pattern (sent back so, ingestion keeps them as built in) and their pattern as a hint."""
    rows = [
        {"name": r["name"], "pattern": "" if policy["defaults"] else (r["pattern"] or ""),
         "builtin": r["pattern"] if policy["defaults"] else None}
        for r in policy["rules"]
    ]  # fmt: skip
    return rows + [{"name": "", "pattern": "", "builtin": None}] * BLANK_RULES


async def _policy_page(
    request: Request, session: CurrentSession, api: Api, **context: Any
) -> Response:
    policy = await api.get(Service.INGESTION, POLICY)
    context.setdefault("rows", _rows(policy))
    return await render(
        request,
        "admin/policy.html",
        session=session,
        api=api,
        section="policy",
        policy=policy,
        **context,
    )


@router.get("/admin/policy", include_in_schema=False)
async def policy_page(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    done: Annotated[bool, Query()] = False,
) -> Response:
    return await _policy_page(request, session, api, done=done)


@router.post("/admin/policy", include_in_schema=False)
async def save_policy(request: Request, session: CurrentSession, api: CurrentApi) -> Response:
    form = await request.form()
    if form.get("reset"):
        await api.send("PUT", Service.INGESTION, POLICY, {"rules": None})
        return RedirectResponse("/admin/policy?done=true", status_code=303)
    names = [str(v).strip() for v in form.getlist("name")]
    patterns = [str(v) for v in form.getlist("pattern")]
    rules = [
        {"name": name, "pattern": pattern or None}
        for name, pattern in zip(names, patterns, strict=False)
        if name or pattern
    ]
    try:
        await api.send("PUT", Service.INGESTION, POLICY, {"rules": rules})
    except ApiError as exc:
        if exc.status != 422:
            raise
        rows = [{**r, "pattern": r["pattern"] or "", "builtin": None} for r in rules]
        rows += [{"name": "", "pattern": "", "builtin": None}] * BLANK_RULES
        return await _policy_page(
            request, session, api, rows=rows, problem=exc.detail or exc.title, status_code=422
        )
    return RedirectResponse("/admin/policy?done=true", status_code=303)


@router.post("/admin/policy/test", include_in_schema=False)
async def try_policy(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    text: Annotated[str, Form(max_length=POLICY_TEXT_MAX)],
) -> Response:
    found = await api.send("POST", Service.INGESTION, f"{POLICY}/test", {"text": text})
    matches = list(found.get("matches", []))
    return await _policy_page(
        request, session, api, text=text, matches=matches, marked=segments(text, matches)
    )


# --- audit log ------------------------------------------------------------------------------


@router.get("/admin/audit", include_in_schema=False)
async def audit_log(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    action: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Cursor = None,
) -> Response:
    page = await api.page(
        Service.INGESTION, "/v1/audit", action=action, cursor=cursor, limit=AUDIT_PAGE
    )
    return await render(
        request,
        "admin/audit.html",
        session=session,
        api=api,
        section="audit",
        page=page,
        action=action or "",
        cursor=cursor,
    )
