"""What the people-discovery endpoints answer (each also a CSV table: one row per item)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol

from pydantic import BaseModel, Field

from canopy_analytics.domain.discovery import (
    Contribution,
    Expert,
    GroupSuggestion,
    PersonSuggestion,
    TextExpert,
)
from canopy_analytics.domain.tables import Table


class ShownPerson(Protocol):
    """A person as a list shows them."""

    @property
    def name(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def department(self) -> str | None: ...


class ExpertBreakdown(BaseModel):
    posts: int = Field(
        description="Posts on the topic everyone in the tenant may see (text=: of their closest "
        "items, the posts, questions and comments)"
    )
    accepted_answers: int = Field(description="Their answers accepted on the topic's questions")
    reactions_received: int = Field(description="Reactions to their posts on the topic")
    skill_match: bool = Field(description="Their profile lists the topic as a skill")
    answers: int = Field(
        default=0, description="text=: of their closest items, answers not accepted"
    )


class ExpertItem(BaseModel):
    user_id: str
    name: str | None
    title: str | None
    department: str | None
    score: float
    breakdown: ExpertBreakdown
    reason: str | None = Field(
        default=None,
        description="text=: why, quoting the closest thing they wrote",
        examples=["Answered a similar question: “How do I renew the VPN certificate?”"],
    )
    evidence: list[str] = Field(
        default_factory=list, description="text=: the ids of their closest items, closest first"
    )


class Experts(Table):
    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "user_id",
        "name",
        "title",
        "department",
        "score",
        "breakdown.posts",
        "breakdown.accepted_answers",
        "breakdown.reactions_received",
        "breakdown.skill_match",
        "breakdown.answers",
        "reason",
        "evidence",
    )
    CSV_ROWS_FROM: ClassVar[str | None] = "items"

    topic: str | None = Field(
        default=None, description="The topic as searched: lower-cased, without '#'"
    )
    text: str | None = Field(default=None, description="The text as searched (blanks collapsed)")
    items: list[ExpertItem]

    @classmethod
    def of(cls, topic: str, ranked: list[Expert]) -> Experts:
        return cls(
            topic=topic,
            items=[
                ExpertItem(
                    user_id=e.candidate.user_id,
                    name=e.candidate.name,
                    title=e.candidate.title,
                    department=e.candidate.department,
                    score=e.score,
                    breakdown=ExpertBreakdown(
                        posts=e.candidate.posts,
                        accepted_answers=e.candidate.accepted_answers,
                        reactions_received=e.candidate.reactions_received,
                        skill_match=e.candidate.skill_match,
                    ),
                )
                for e in ranked
            ],
        )

    @classmethod
    def of_text(
        cls, text: str, ranked: list[TextExpert], people: Mapping[str, ShownPerson]
    ) -> Experts:
        return cls(
            text=text,
            items=[
                ExpertItem(
                    user_id=e.user_id,
                    name=people[e.user_id].name,
                    title=people[e.user_id].title,
                    department=people[e.user_id].department,
                    score=e.score,
                    breakdown=ExpertBreakdown(
                        posts=e.count(Contribution.POST) + e.count(Contribution.QUESTION),
                        accepted_answers=e.count(Contribution.ACCEPTED_ANSWER),
                        reactions_received=0,
                        skill_match=False,
                        answers=e.count(Contribution.ANSWER),
                    ),
                    reason=e.reason,
                    evidence=e.evidence,
                )
                for e in ranked
            ],
        )


class PersonSignals(BaseModel):
    follows_you: bool
    mutual_follows: int = Field(description="People you follow who follow them")
    shared_groups: int
    shared_skills: list[str]
    shared_interests: list[str]
    writes_alike: float = Field(
        default=0.0,
        description="How close what they write is to what you write (cosine similarity of "
        "the two centroids of open posts; 0 below the service's floor)",
    )


class PersonSuggestionItem(BaseModel):
    user_id: str
    name: str | None
    title: str | None
    department: str | None
    score: float
    reasons: list[str] = Field(examples=[["3 mutual follows", "shared skills: python"]])
    signals: PersonSignals


class PeopleSuggestions(Table):
    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "user_id",
        "name",
        "title",
        "department",
        "score",
        "reasons",
        "signals.follows_you",
        "signals.mutual_follows",
        "signals.shared_groups",
        "signals.shared_skills",
        "signals.shared_interests",
        "signals.writes_alike",
    )
    CSV_ROWS_FROM: ClassVar[str | None] = "items"

    items: list[PersonSuggestionItem]

    @classmethod
    def of(cls, ranked: list[PersonSuggestion]) -> PeopleSuggestions:
        return cls(
            items=[
                PersonSuggestionItem(
                    user_id=s.candidate.user_id,
                    name=s.candidate.name,
                    title=s.candidate.title,
                    department=s.candidate.department,
                    score=s.score,
                    reasons=s.reasons,
                    signals=PersonSignals(
                        follows_you=s.candidate.follows_you,
                        mutual_follows=s.candidate.mutual_follows,
                        shared_groups=s.candidate.shared_groups,
                        shared_skills=s.shared_skills,
                        shared_interests=s.shared_interests,
                        writes_alike=round(s.candidate.writes_alike, 4),
                    ),
                )
                for s in ranked
            ]
        )


class GroupSignals(BaseModel):
    followed_members: int = Field(description="People you follow who are members")
    topics: list[str] = Field(description="Your skills and interests it is about")
    active_members: int = Field(description="People active in it in the last 28 days")
    writes_alike: float = Field(
        default=0.0,
        description="How close its open posts are to what you write (0 below the floor)",
    )


class GroupSuggestionItem(BaseModel):
    group_id: str
    name: str | None
    visibility: str
    members: int
    score: float
    reasons: list[str] = Field(examples=[["2 people you follow are members", "about: python"]])
    signals: GroupSignals


class GroupSuggestions(Table):
    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "group_id",
        "name",
        "visibility",
        "members",
        "score",
        "reasons",
        "signals.followed_members",
        "signals.topics",
        "signals.active_members",
        "signals.writes_alike",
    )
    CSV_ROWS_FROM: ClassVar[str | None] = "items"

    items: list[GroupSuggestionItem]

    @classmethod
    def of(cls, ranked: list[GroupSuggestion]) -> GroupSuggestions:
        return cls(
            items=[
                GroupSuggestionItem(
                    group_id=s.candidate.group_id,
                    name=s.candidate.name,
                    visibility=s.candidate.visibility,
                    members=s.candidate.members,
                    score=s.score,
                    reasons=s.reasons,
                    signals=GroupSignals(
                        followed_members=s.candidate.followed_members,
                        topics=s.topics,
                        active_members=s.candidate.active_members,
                        writes_alike=round(s.candidate.writes_alike, 4),
                    ),
                )
                for s in ranked
            ]
        )
