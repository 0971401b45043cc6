"""A tried text cut at the content policy's matches (pure; the page marks them)."""

from __future__ import annotations

from canopy_web.pages.admin import Segment, segments


def test_a_text_is_cut_at_its_matches_and_every_character_shows_once() -> None:
    text = "Bluebird ships to 4111 1111 1111 1111 today"
    matches = [
        {"rule": "card-number", "start": 18, "end": 37},
        {"rule": "codename", "start": 0, "end": 8},
        {"rule": "digits", "start": 18, "end": 22},  # inside the card number: left out
    ]
    cut = segments(text, matches)
    assert cut == [
        Segment("Bluebird", "codename"),
        Segment(" ships to "),
        Segment("4111 1111 1111 1111", "card-number"),
        Segment(" today"),
    ]
    assert "".join(s.text for s in cut) == text


def test_no_match_or_a_match_beyond_the_text_leaves_it_whole() -> None:
    assert segments("fine", []) == [Segment("fine")]
    assert segments("fine", [{"rule": "x", "start": 2, "end": 99}]) == [Segment("fine")]
    assert segments("", []) == []
