"""People discovery ranking: experts, people you may know, groups you may like — pure."""

from __future__ import annotations

from canopy_analytics.domain.discovery import (
    ExpertCandidate,
    GroupCandidate,
    PersonCandidate,
    Profile,
    expert_score,
    normalize_topic,
    rank_experts,
    rank_groups,
    rank_people,
    skill_key,
    suggest_person,
)


def expert(user_id: str, **signals: int | bool) -> ExpertCandidate:
    return ExpertCandidate(user_id, user_id.title(), None, None, **signals)  # type: ignore[arg-type]


def person(user_id: str, **signals: object) -> PersonCandidate:
    return PersonCandidate(user_id, user_id.title(), None, None, **signals)  # type: ignore[arg-type]


def group(group_id: str, name: str = "A group", **signals: object) -> GroupCandidate:
    return GroupCandidate(group_id, name, "internal", **signals)  # type: ignore[arg-type]


# --- topics --------------------------------------------------------------------------------


def test_topics_compare_case_insensitively_and_ignore_spelling_marks() -> None:
    assert normalize_topic("  #Kubernetes ") == "kubernetes"
    assert skill_key("Machine Learning") == skill_key("#machine-learning") == "machinelearning"
    assert skill_key("Node.js") == "nodejs"
    assert skill_key("C++") == "c++"


# --- experts -------------------------------------------------------------------------------


def test_an_expert_score_weighs_accepted_answers_over_posts_over_reactions() -> None:
    assert expert_score(expert("a", posts=1)) == 2.0
    assert expert_score(expert("a", accepted_answers=1)) == 5.0
    assert expert_score(expert("a", reactions_received=1)) == 0.5
    assert expert_score(expert("a", skill_match=True)) == 3.0
    both = expert("a", posts=2, accepted_answers=1, reactions_received=3, skill_match=True)
    assert expert_score(both) == 4 + 5 + 1.5 + 3


def test_experts_rank_by_score_and_a_quiet_declared_skill_still_shows() -> None:
    ranked = rank_experts(
        [
            expert("poster", posts=3),  # 6
            expert("answerer", accepted_answers=2),  # 10
            expert("skilled", skill_match=True),  # 3
            expert("liked", reactions_received=4),  # 2
            expert("nobody"),  # 0: left out
        ],
        limit=10,
    )
    assert [e.candidate.user_id for e in ranked] == ["answerer", "poster", "skilled", "liked"]


def test_expert_ties_break_on_accepted_answers_then_posts_then_id() -> None:
    ranked = rank_experts(
        [
            expert("c", posts=5),  # 10
            expert("b", accepted_answers=2),  # 10
            expert("a", reactions_received=20),  # 10
            expert("d", posts=5),  # 10, after c by id
        ],
        limit=3,
    )
    assert [e.candidate.user_id for e in ranked] == ["b", "c", "d"]


# --- people you may know -------------------------------------------------------------------


def test_a_person_suggestion_explains_its_score() -> None:
    me = Profile("me", skills=("python", "Machine Learning"), interests=("hiking",))
    suggestion = suggest_person(
        me,
        person(
            "bob",
            mutual_follows=3,
            shared_groups=1,
            follows_you=True,
            skills=("python", "machine-learning", "go"),
            interests=("chess",),
        ),
    )
    assert suggestion.reasons == [
        "follows you",
        "3 mutual follows",
        "1 shared group",
        "shared skills: machine-learning, python",
    ]
    assert suggestion.score == 4 + 3 * 3 + 2 * 1 + 2
    assert suggestion.shared_interests == []


def test_people_are_ranked_without_the_caller_or_anyone_without_a_reason() -> None:
    me = Profile("me", interests=("hiking",))
    ranked = rank_people(
        me,
        [
            person("me", shared_groups=4),
            person("stranger"),
            person("hiker", interests=("Hiking",)),  # 1
            person("colleague", shared_groups=2),  # 4
            person("friend", mutual_follows=2),  # 6
        ],
        limit=10,
    )
    assert [s.candidate.user_id for s in ranked] == ["friend", "colleague", "hiker"]
    assert ranked[2].reasons == ["shared interests: Hiking"]


def test_people_ties_break_on_mutual_follows_then_shared_groups_then_id() -> None:
    ranked = rank_people(
        Profile("me"),
        [
            person("z", shared_groups=3),  # 6
            person("y", mutual_follows=2),  # 6
            person("x", shared_groups=3),  # 6
        ],
        limit=2,
    )
    assert [s.candidate.user_id for s in ranked] == ["y", "x"]


def test_a_long_list_of_shared_skills_is_shortened_in_the_reason() -> None:
    skills = ("a1", "b2", "c3", "d4", "e5")
    suggestion = suggest_person(Profile("me", skills=skills), person("bob", skills=skills))
    assert suggestion.reasons == ["shared skills: a1, b2, c3 (+2 more)"]
    assert suggestion.shared_skills == list(skills)


# --- groups you may like -------------------------------------------------------------------


def test_groups_rank_by_people_you_follow_then_topics_then_liveliness() -> None:
    me = Profile("me", skills=("rust", "machine learning"), interests=("chess",))
    ranked = rank_groups(
        me,
        [
            group("g-quiet"),  # 0: left out
            group("g-busy", active_members=40),  # capped: 10 · 0.2 = 2
            group("g-chess", "Chess club"),  # named after an interest: 2
            group("g-ml", "Machine Learning Guild", tags=("rust",)),  # 2 topics: 4
            group("g-friends", followed_members=2),  # 6
        ],
        limit=10,
    )
    assert [s.candidate.group_id for s in ranked] == ["g-friends", "g-ml", "g-busy", "g-chess"]
    by_id = {s.candidate.group_id: s for s in ranked}
    assert by_id["g-ml"].topics == ["machine learning", "rust"]
    assert by_id["g-ml"].reasons == ["about: machine learning, rust"]
    assert by_id["g-friends"].reasons == ["2 people you follow are members"]
    assert by_id["g-busy"].reasons == ["40 active members in the last 28 days"]


def test_a_skill_only_part_of_a_word_in_a_group_name_is_no_match() -> None:
    ranked = rank_groups(Profile("me", skills=("java",)), [group("g", "JavaScript fans")], 10)
    assert ranked == []
