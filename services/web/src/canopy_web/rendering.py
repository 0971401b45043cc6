"""Pages from Jinja2 templates (autoescaped: user content is always text), with the layout's
needs filled in once: the strings, the CSRF token, the signed-in person and the bell's count."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markdown_it import MarkdownIt
from markupsafe import Markup

from canopy_web.api import Api, ApiError, Service, ServiceDown
from canopy_web.sessions import Session
from canopy_web.snippets import snippet_html
from canopy_web.strings import t

TEMPLATES = Path(__file__).parent / "templates"
_UUID_URN = "urn:uuid:"
# Raw HTML in a post is shown as text; links open safely.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def markdown(text: str | None) -> Markup:
    """A post's markdown as HTML; any HTML inside it is escaped, never passed through."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes (html off)


def local_path(value: str | None, default: str = "/") -> str:
    """Where a form or a sign-in sends the browser next: a path of this site, never another
    origin (``//host``, backslashes, schemes fall back to ``default``)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it wants a fragment, not a page)."""
    return request.headers.get("HX-Request") == "true"


def post_path(post_id: str) -> str:
    """The page of a post: ``/posts/<uuid>`` for ``urn:uuid:<uuid>``."""
    return "/posts/" + quote(post_id.removeprefix(_UUID_URN), safe="")


def person_path(user: str | dict[str, Any]) -> str:
    """The profile page of a person (an id, an IRI ``urn:canopy:<t>:user:<id>`` or an actor)."""
    ref = str(user.get("preferredUsername") or user.get("id")) if isinstance(user, dict) else user
    return "/people/" + quote(ref.rsplit(":user:", 1)[-1], safe="")


def group_path(group: str | dict[str, Any]) -> str:
    """The page of a group."""
    ref = str(group.get("id")) if isinstance(group, dict) else group
    return "/groups/" + quote(ref.removeprefix(_UUID_URN), safe="")


@pass_context
def csrf_field(context: Context) -> Markup:
    """The hidden form field every POST form carries."""
    session: Session | None = context.get("session")
    token = session.csrf if session else ""
    return Markup('<input type="hidden" name="csrf" value="{}">').format(token)


def build_templates() -> Jinja2Templates:
    """The template environment with its helpers."""
    templates = Jinja2Templates(directory=TEMPLATES)
    env = templates.env
    env.globals.update(
        t=t,
        csrf_field=csrf_field,
        post_path=post_path,
        person_path=person_path,
        group_path=group_path,
    )
    env.filters["markdown"] = markdown
    env.filters["snippet"] = snippet_html  # search snippets: the one place <mark> passes
    return templates


async def unread_count(api: Api) -> int | None:
    """The bell's count; None when notify cannot say just now (the page shows without it)."""
    try:
        body = await api.get(Service.NOTIFY, "/v1/notifications/unread_count")
    except (TimeoutError, ServiceDown, ApiError):
        return None
    return int(body["count"])


async def render(
    request: Request,
    template: str,
    *,
    session: Session | None = None,
    api: Api | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` as a page; partial templates (htmx swaps) skip the bell's lookup."""
    templates: Jinja2Templates = request.app.state.templates
    unread = None
    if session is not None and api is not None and not is_htmx(request):
        unread = await unread_count(api)
    return templates.TemplateResponse(
        request,
        template,
        {"session": session, "unread": unread, **context},
        status_code=status_code,
        headers=headers,
    )
