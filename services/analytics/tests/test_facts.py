"""What each canonical activity means for analytics: pure, no servers."""

from __future__ import annotations

from canopy_analytics.domain.facts import Action, fact_of
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject


def test_a_post_makes_its_author_a_creator_and_counts_a_post_by_kind() -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    post = f.post(ada, "Shipping #python tips", hashtags=["python"], kind="article")
    fact = fact_of(post)
    assert fact.action is Action.POST
    assert fact.actor == user_id_of_subject(ada)
    assert fact.created
    assert not fact.contributed
    assert fact.counts == (("posts", "", 1), ("content", "article", 1))
    assert fact.post is not None
    assert fact.post.tags == ("python",)
    assert fact.post.open


def test_a_reply_is_a_comment_and_an_answer_names_its_question() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    question = f.post(ada, "How do we rotate keys?", kind="question")
    answer = fact_of(f.answer(bob, question, "With the vault CLI"))
    reply = fact_of(f.reply(bob, question, "Good question"))
    assert answer.action is Action.COMMENT
    assert answer.contributed
    assert not answer.created
    assert answer.question is not None
    assert answer.question.object_id == subject_id(question)
    assert ("comments", "", 1) in answer.counts
    assert ("content", "answer", 1) in answer.counts
    assert reply.action is Action.COMMENT
    assert reply.question is None


def test_reactions_and_shares_and_their_undo_count_both_ways() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    post = f.post(ada, "Hello")
    like, share = f.like(bob, post), f.share(bob, post)
    assert fact_of(like).counts == (("reactions", "", 1),)
    assert fact_of(like).contributed
    assert fact_of(share).counts == (("shares", "", 1),)
    assert not fact_of(share).contributed
    undone = fact_of(f.undo(like))
    assert undone.action is Action.UNDO_REACT
    assert undone.counts == (("reactions", "", -1),)
    assert undone.post is not None
    assert undone.post.object_id == subject_id(post)
    assert fact_of(f.undo(share)).counts == (("shares", "", -1),)


def test_follows_and_memberships_are_connection_growth_net_of_undo_and_leave() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group("Ops", owner=ada)
    follow = f.follow(bob, ada)
    assert fact_of(follow).counts == (("follows", "", 1),)
    assert fact_of(f.undo(follow)).counts == (("follows", "", -1),)
    joined = fact_of(f.join(bob, team))
    assert joined.counts == (("members", "", 1),)
    assert joined.group_id == subject_id(team)
    assert fact_of(f.leave(bob, team)).counts == (("members", "", -1),)
    added = fact_of(f.add(ada, team, bob))
    assert added.counts == (("members", "", 1),)
    assert added.other == user_id_of_subject(bob)


def test_provisioning_people_is_nobodys_activity_but_editing_ones_profile_is() -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    assert fact_of(ada).actor is None
    assert fact_of(f.erase(ada)).actor is None
    own = fact_of(f.profile_update(ada, by=ada, title="Staff engineer"))
    assert own.actor == user_id_of_subject(ada)


def test_private_group_posts_are_counted_but_never_open() -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    secret = f.group("M&A", owner=ada, visibility="private")
    fact = fact_of(f.post(ada, "#merger plans", hashtags=["merger"], group=secret))
    assert fact.counts[0] == ("posts", "", 1)
    assert fact.group_id == subject_id(secret)
    assert fact.post is not None
    assert not fact.post.open


def test_an_accepted_answer_names_the_answer_and_the_question() -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    question = f.post(ada, "Which #kafka client?", hashtags=["kafka"], kind="question")
    answer = f.answer(bob, question, "aiokafka")
    fact = fact_of(f.accept(ada, question, answer))
    assert fact.action is Action.ACCEPT
    assert fact.post is not None
    assert fact.post.author_id == user_id_of_subject(bob)
    assert fact.question is not None
    assert fact.question.tags == ("kafka",)


def test_a_moderation_decision_counts_nothing() -> None:
    f = ActivityFactory()
    ada, bob, mod = f.user("ada"), f.user("bob"), f.user("mod", roles=["moderator"])
    post = f.post(ada, "rude words")
    fact = fact_of(f.moderation_decision(mod, post, "removed", [bob], "Customer data"))
    assert fact.action is Action.OTHER
    assert fact.post is None
    assert fact.counts == ()
