"""The web client's pure rules: where sign-in may send a person, which roles a token carries,
how a post's markdown is shown, and that every string a template asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from canopy_web.people import roles_of
from canopy_web.rendering import (
    TEMPLATES,
    build_templates,
    local_path,
    markdown,
    person_path,
    post_path,
)
from canopy_web.strings import STRINGS, t

SRC = Path(__file__).resolve().parents[1] / "src" / "canopy_web"
# t("key") and t('key', ...) in templates and code.
_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


@pytest.mark.parametrize(
    ("wanted", "goes_to"),
    [
        (None, "/"),
        ("/posts/1?x=2", "/posts/1?x=2"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_sign_in_sends_people_only_to_pages_of_this_site(wanted: str | None, goes_to: str) -> None:
    assert local_path(wanted) == goes_to


def test_a_token_carries_the_persons_kind_and_directory_roles() -> None:
    assert roles_of({"kind": "employee", "roles": ["moderator", "analyst"]}) == (
        "member",
        "analyst",
        "moderator",
    )
    assert roles_of({"kind": "guest", "roles": []}) == ("guest",)
    assert roles_of({"kind": "bot"}) == ("member",)


def test_html_in_a_post_is_shown_as_text_and_markdown_still_formats() -> None:
    shown = str(markdown('<script>alert(1)</script> **bold** <img src=x onerror="x()">'))
    assert "<script>" not in shown
    assert "&lt;script&gt;" in shown
    assert "<img" not in shown
    assert "<strong>bold</strong>" in shown


def test_links_in_posts_cannot_run_script() -> None:
    shown = str(markdown("[click](javascript:alert(1))"))
    assert "<a" not in shown  # refused as a link: shown as the text it is


def test_page_paths_of_posts_and_people() -> None:
    assert post_path("urn:uuid:0190-ab") == "/posts/0190-ab"
    assert person_path("urn:canopy:acme:user:ada.l") == "/people/ada.l"
    assert (
        person_path({"id": "urn:canopy:acme:user:x", "preferredUsername": "ada"}) == "/people/ada"
    )
    assert person_path("a/b") == "/people/a%2Fb"


def test_every_string_asked_for_exists() -> None:
    used: set[str] = set()
    code = [p for p in SRC.rglob("*.py") if p.name != "strings.py"]
    for path in [*TEMPLATES.rglob("*.html"), *code]:
        used.update(_KEY.findall(path.read_text()))
    assert used, "no t(...) found: the pattern is wrong"
    # A key built in the template (t("admin.role." ~ r)) names its prefix: some key must have it.
    prefixes = {key for key in used if key.endswith((".", "_"))}
    assert sorted(used - prefixes - STRINGS.keys()) == []
    assert [p for p in sorted(prefixes) if not any(k.startswith(p) for k in STRINGS)] == []


def test_strings_fill_in_values() -> None:
    assert t("nav.signed_in_as", name="Ada") == "Signed in as Ada"


def test_the_pager_links_to_the_first_page_and_the_next_keeping_the_filters() -> None:
    env = build_templates().env
    pager = env.from_string(
        '{% from "partials/pager.html" import pager with context %}'
        "{{ pager('Posts', base, cursor, next_cursor) }}"
    )
    later = pager.render(base="/people?q=a b&skill=go", cursor="c1", next_cursor="n/2")
    assert 'href="/people?q=a b&amp;skill=go"' in later
    assert 'href="/people?q=a b&amp;skill=go&amp;cursor=n/2" rel="next"' in later
    first = pager.render(base="/bookmarks", cursor=None, next_cursor="x")
    assert 'href="/bookmarks?cursor=x"' in first
    assert "Newer" not in first  # no way back from the first page
    assert 'aria-label="Posts"' in first
