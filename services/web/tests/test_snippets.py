"""The one sanitiser of search snippets: only bare, balanced <mark> survives as markup; all else
is text (docs/architecture.md §18)."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from canopy_web.snippets import snippet_html


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        # What analytics sends: escaped text, matches marked.
        (
            "We <mark>deploy</mark> on &lt;Fridays&gt; &amp; never",
            "We <mark>deploy</mark> on &lt;Fridays&gt; &amp; never",
        ),
        # Markup that slipped through unescaped is text, whatever it is.
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (
            "<b>bold</b> <img src=x onerror=alert(1)>",
            "&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;",
        ),
        # A mark with attributes, another case or spacing is not our mark.
        ('<mark onclick="alert(1)">x</mark>', "&lt;mark onclick=&#34;alert(1)&#34;&gt;x"),
        (
            "<MARK>x</MARK> <mark >y</mark >",
            "&lt;MARK&gt;x&lt;/MARK&gt; &lt;mark &gt;y&lt;/mark &gt;",
        ),
        # Nested, unopened and unclosed marks are balanced.
        ("<mark>a <mark>b</mark> c</mark>", "<mark>a b</mark> c"),
        ("</mark>a<mark>b", "a<mark>b</mark>"),
        # Entities: decoded once and escaped again, so an escaped tag stays text; a user who
        # wrote "<mark>" literally (sent as &lt;mark&gt;) gets no highlight from it.
        ("&lt;mark&gt;fake&lt;/mark&gt;", "&lt;mark&gt;fake&lt;/mark&gt;"),
        ("&amp;lt;script&amp;gt; caf&eacute; &#60;i&#62;", "&amp;lt;script&amp;gt; café &lt;i&gt;"),
        ("&lt;<mark>script</mark>&gt;", "&lt;<mark>script</mark>&gt;"),
        ("quotes \" and '", "quotes &#34; and &#39;"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_snippet_keeps_only_balanced_bare_marks(raw: str | None, shown: str) -> None:
    result = snippet_html(raw)
    assert isinstance(result, Markup)
    assert str(result) == shown


def test_no_tag_but_mark_ever_comes_out() -> None:
    hostile = (
        '<mark><script>x</script></mark><mark onmouseover=1><iframe srcdoc="<b>">'
        "&lt;svg onload=1&gt;<</mark>>"
    )
    out = str(snippet_html(hostile))
    stripped = out.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped
    assert ">" not in stripped
    assert out.count("<mark>") == out.count("</mark>")
