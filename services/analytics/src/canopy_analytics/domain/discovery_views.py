"""What the people-discovery endpoints answer (each also a CSV table: one row per item)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from canopy_analytics.domain.discovery import Expert, GroupSuggestion, PersonSuggestion
from canopy_analytics.domain.tables import Table


class ExpertBreakdown(BaseModel):
    posts: int = Field(description="Posts on the topic everyone in the tenant may see")
    accepted_answers: int = Field(description="Their answers accepted on the topic's questions")
    reactions_received: int = Field(description="Reactions to their posts on the topic")
    skill_match: bool = Field(description="Their profile lists the topic as a skill")


class ExpertItem(BaseModel):
    user_id: str
    name: str | None
    title: str | None
    department: str | None
    score: float
    breakdown: ExpertBreakdown


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
    )
    CSV_ROWS_FROM: ClassVar[str | None] = "items"

    topic: str = Field(description="The topic as searched: lower-cased, without '#'")
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


class PersonSignals(BaseModel):
    follows_you: bool
    mutual_follows: int = Field(description="People you follow who follow them")
    shared_groups: int
    shared_skills: list[str]
    shared_interests: list[str]


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
                    ),
                )
                for s in ranked
            ]
        )


class GroupSignals(BaseModel):
    followed_members: int = Field(description="People you follow who are members")
    topics: list[str] = Field(description="Your skills and interests it is about")
    active_members: int = Field(description="People active in it in the last 28 days")


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
                    ),
                )
                for s in ranked
            ]
        )
