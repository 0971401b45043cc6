"""Where a question stands (docs/architecture.md §16). Pure.

``unanswered``: no live answer; ``answered``: a live answer, none accepted; ``accepted``: its
accepted answer is live. An answer replies to its question and so reaches the question's
audience: a live answer is one its readers see. A deleted accepted answer leaves the question
answered (if other answers are left) or unanswered.
"""

from __future__ import annotations

from enum import StrEnum


class QuestionStatus(StrEnum):
    UNANSWERED = "unanswered"
    ANSWERED = "answered"
    ACCEPTED = "accepted"


def status_of(*, answered: bool, accepted: bool) -> QuestionStatus:
    """The status of a question that has a live answer (``answered``) and a live accepted
    answer (``accepted``)."""
    if accepted:
        return QuestionStatus.ACCEPTED
    return QuestionStatus.ANSWERED if answered else QuestionStatus.UNANSWERED


def criteria(status: QuestionStatus) -> tuple[bool, bool]:
    """What a question of ``status`` has: (a live answer, a live accepted answer) — the two
    facts a query filters on; :func:`status_of` of them is ``status``."""
    match status:
        case QuestionStatus.UNANSWERED:
            return False, False
        case QuestionStatus.ANSWERED:
            return True, False
    return True, True
