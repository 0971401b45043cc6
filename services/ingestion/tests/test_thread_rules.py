"""The pure rules of the read side: a thread's order around a post, a question's status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from canopy_ingestion.domain.questions import QuestionStatus, criteria, status_of
from canopy_ingestion.domain.threads import ThreadNode, order_thread

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def node(id_: str, parent: str | None, minute: int) -> ThreadNode:
    return ThreadNode(id_, parent, T0 + timedelta(minutes=minute))


# root ─┬─ a (1) ─┬─ a1 (4)
#       │         └─ a2 (5) ── a2x (6)
#       ├─ b (2)
#       └─ c (3) ── c1 (7)
THREAD = [
    node("c1", "c", 7),
    node("a2x", "a2", 6),
    node("root", None, 0),
    node("b", "root", 2),
    node("a2", "a", 5),
    node("a", "root", 1),
    node("c", "root", 3),
    node("a1", "a", 4),
]


def test_descendants_come_depth_first_with_each_posts_replies_oldest_first() -> None:
    order = order_thread(THREAD, "root")

    assert order.ancestors == ()
    assert order.descendants == ("a", "a1", "a2", "a2x", "b", "c", "c1")


def test_ancestors_run_from_the_root_to_the_parent() -> None:
    order = order_thread(THREAD, "a2x")

    assert order.ancestors == ("root", "a", "a2")
    assert order.descendants == ()


def test_a_reply_in_the_middle_has_both() -> None:
    order = order_thread(THREAD, "a")

    assert order.ancestors == ("root",)
    assert order.descendants == ("a1", "a2", "a2x")


def test_replies_at_the_same_moment_go_by_id() -> None:
    nodes = [node("root", None, 0), node("y", "root", 1), node("x", "root", 1)]

    assert order_thread(nodes, "root").descendants == ("x", "y")


def test_a_missing_parent_ends_the_walk_up_and_a_cycle_is_walked_once() -> None:
    broken = [node("b", "gone", 1), node("c", "b", 2)]
    cycle = [node("p", "q", 1), node("q", "p", 2)]

    assert order_thread(broken, "c").ancestors == ("b",)
    assert order_thread(cycle, "p") == order_thread(cycle, "p")
    assert order_thread(cycle, "p").ancestors == ("q",)
    assert order_thread(cycle, "p").descendants == ("q",)


@pytest.mark.parametrize(
    ("answered", "accepted", "status"),
    [
        (False, False, QuestionStatus.UNANSWERED),
        (True, False, QuestionStatus.ANSWERED),
        (True, True, QuestionStatus.ACCEPTED),  # an accepted answer is an answer
    ],
)
def test_a_status_filter_selects_exactly_the_questions_of_that_status(
    answered: bool, accepted: bool, status: QuestionStatus
) -> None:
    assert status_of(answered=answered, accepted=accepted) is status
    assert [s for s in QuestionStatus if criteria(s) == (answered, accepted)] == [status]
