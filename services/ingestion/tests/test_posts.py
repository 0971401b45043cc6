"""Posts over HTTP: publishing, groups and guests, direct posts, threads and answers, the
content policy, reading — checked on the responses, the rows and the published activities.
Editing, deleting, answers, shares and flags are in ``test_post_actions``."""

from __future__ import annotations

from datetime import datetime

import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company, member

from canopy_common.events import ref_id
from canopy_common.iris import new_object_id, user_iri

pytestmark = pytest.mark.integration

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
CARD = "4111 1111 1111 1111"  # a test Visa number: passes the Luhn check


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    return await company(api, tenant)


# --- publishing ---------------------------------------------------------------------------------


async def test_a_post_is_answered_as_its_as2_object_and_published_as_a_create(
    acme: Company,
) -> None:
    response = await acme.post("ada", content="Shipped it")

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("urn:uuid:")
    assert (body["type"], body["kind"], body["visibility"]) == ("Note", "note", "internal")
    assert body["attributedTo"]["id"] == user_iri(acme.tenant, "ada")
    assert body["context"] == body["id"]  # a new thread
    row = await acme.api.pool.fetchrow(
        "SELECT author_id, content, thread_id FROM posts WHERE tenant_id = $1 AND id = $2",
        acme.tenant,
        body["id"],
    )
    assert row is not None
    assert (row["author_id"], row["content"], row["thread_id"]) == ("ada", "Shipped it", body["id"])
    [create] = await acme.activities()
    assert create.type == "Create"
    assert ref_id(create.actor) == user_iri(acme.tenant, "ada")
    assert ref_id(create.object) == body["id"]
    assert member(create, "visibility") == "internal"
    # Published together: feeds order the post by its Create's time.
    assert create.published == datetime.fromisoformat(body["published"])
    [outbox_row] = await acme.api.outbox(acme.tenant)
    assert outbox_row["key"] == f"{acme.tenant}:ada"


async def test_mentions_of_active_people_resolve_and_unknown_handles_stay_plain_text(
    acme: Company,
) -> None:
    content = "Thanks @Grace and @olga and @nobody for #Release #release #qa"
    response = await acme.post("ada", content=content)

    body = response.json()
    assert body["content"] == content
    assert body["tag"] == [
        {"type": "Mention", "href": user_iri(acme.tenant, "grace"), "name": "@grace"},
        {"type": "Hashtag", "href": f"urn:canopy:{acme.tenant}:tag:release", "name": "#release"},
        {"type": "Hashtag", "href": f"urn:canopy:{acme.tenant}:tag:qa", "name": "#qa"},
    ]
    row = await acme.api.pool.fetchrow(
        "SELECT mentions, hashtags FROM posts WHERE id = $1", body["id"]
    )
    assert row is not None
    assert (row["mentions"], row["hashtags"]) == (["grace"], ["release", "qa"])
    [create] = await acme.activities()
    assert member(create, "object")["tag"] == body["tag"]


async def test_content_is_stored_nfc_normalised(acme: Company) -> None:
    response = await acme.post("ada", content="Cafe\u0301 opens at noon")

    assert response.json()["content"] == "Caf\u00e9 opens at noon"


async def test_the_content_limit_counts_characters_after_nfc(acme: Company) -> None:
    decomposed = "e\u0301" * 10_000  # 20,000 code points, 10,000 once composed
    fits = await acme.post("ada", content=decomposed)
    too_long = await acme.post("ada", content="x" * 10_001)

    assert fits.status_code == 201
    assert too_long.status_code == 422
    assert too_long.headers["content-type"] == PROBLEM
    assert too_long.json()["limit"] == 10_000


async def test_more_than_20_mentions_or_10_hashtags_are_refused(acme: Company) -> None:
    mentions = await acme.post("ada", content=" ".join(f"@user{i}" for i in range(21)))
    hashtags = await acme.post("ada", content=" ".join(f"#tag{i}" for i in range(11)))
    at_the_limits = await acme.post(
        "ada",
        content=" ".join([*(f"@user{i}" for i in range(20)), *(f"#tag{i}" for i in range(10))]),
    )

    assert (mentions.status_code, mentions.json()["field"]) == (422, "mentions")
    assert (hashtags.status_code, hashtags.json()["field"]) == (422, "hashtags")
    assert at_the_limits.status_code == 201


async def test_empty_content_and_control_characters_are_refused(acme: Company) -> None:
    blank = await acme.post("ada", content="  \n ")
    nul = await acme.post("ada", content="a\x00b")
    unknown_member = await acme.post("ada", content="hi", colour="red")

    assert (blank.status_code, nul.status_code, unknown_member.status_code) == (422, 422, 422)


async def test_people_who_are_not_active_users_of_the_tenant_cannot_post(
    acme: Company, api: Api
) -> None:
    inactive = await acme.post("olga", content="hello")
    unknown = await acme.post("stranger", content="hello")
    elsewhere = await api.client.post(
        "/v1/posts", json={"content": "hello"}, headers=api.headers("t_other", "ada")
    )

    assert (inactive.status_code, unknown.status_code, elsewhere.status_code) == (403, 403, 403)
    assert await acme.activities() == []


async def test_an_article_has_a_title(acme: Company) -> None:
    response = await acme.post("ada", content="Long read", kind="article", name=" Our year ")

    assert (response.json()["type"], response.json()["name"]) == ("Article", "Our year")


# --- groups and guests --------------------------------------------------------------------------


async def test_a_group_post_targets_the_group_with_its_visibility(acme: Company) -> None:
    group_id = await acme.group("ada", "internal", "grace")

    response = await acme.post("grace", content="Standup moved", group_id=group_id)

    body = response.json()
    assert response.status_code == 201
    assert body["visibility"] == "group"
    assert body["target"]["id"] == group_id
    assert body["target"]["visibility"] == "internal"
    [create] = await acme.activities()
    assert member(create, "target")["id"] == group_id


async def test_nobody_posts_into_a_private_group_they_are_not_in(acme: Company) -> None:
    group_id = await acme.group("ada", "private", "grace")

    outsider = await acme.post("linus", content="hi", group_id=group_id)
    insider = await acme.post("grace", content="hi", group_id=group_id)

    assert outsider.status_code == 404  # a private group's existence is not disclosed
    assert insider.status_code == 201, insider.text


async def test_guests_post_only_in_groups_they_belong_to(acme: Company) -> None:
    joined = await acme.group("ada", "internal", "gus")
    public = await acme.group("ada", "public")
    internal = await acme.group("ada", "internal")

    outside_groups = await acme.post("gus", content="hello")
    in_their_group = await acme.post("gus", content="hello", group_id=joined)
    in_a_public_group = await acme.post("gus", content="hello", group_id=public)
    in_an_internal_group = await acme.post("gus", content="hello", group_id=internal)

    assert outside_groups.status_code == 403
    assert in_their_group.status_code == 201
    assert in_a_public_group.status_code == 403  # they see it, but are not in it
    assert in_an_internal_group.status_code == 404  # they cannot even see it


async def test_a_group_of_another_tenant_is_not_found(acme: Company, api: Api) -> None:
    other = await company(api, f"{acme.tenant}x")
    group_id = await other.group("ada", "public")

    response = await acme.post("ada", content="hi", group_id=group_id)

    assert response.status_code == 404


async def test_a_post_is_never_wider_than_its_group(acme: Company) -> None:
    private = await acme.group("ada", "private")
    internal = await acme.group("ada", "internal")

    public_in_private = await acme.post("ada", content="x", group_id=private, visibility="public")
    public_in_internal = await acme.post("ada", content="x", group_id=internal, visibility="public")
    group_without_group = await acme.post("ada", content="x", visibility="group")
    internal_in_internal = await acme.post(
        "ada", content="x", group_id=internal, visibility="internal"
    )

    assert public_in_private.status_code == 422
    assert public_in_internal.status_code == 422
    assert group_without_group.status_code == 422
    assert internal_in_internal.status_code == 201


# --- direct posts -------------------------------------------------------------------------------


async def test_a_post_with_addressees_is_direct_and_seen_by_them_only(acme: Company) -> None:
    response = await acme.post("ada", content="Lunch?", to=["grace", "ada"])

    body = response.json()
    assert body["visibility"] == "direct"
    assert body["to"] == [user_iri(acme.tenant, "grace")]  # the author is not an addressee
    assert (await acme.get("grace", body["id"])).status_code == 200
    assert (await acme.get("linus", body["id"])).status_code == 404
    [create] = await acme.activities()
    assert member(create, "to") == [user_iri(acme.tenant, "grace")]


async def test_addressees_must_be_active_people_of_the_tenant(acme: Company) -> None:
    response = await acme.post("ada", content="psst", to=["grace", "olga", "nobody"])

    assert response.status_code == 422
    assert response.json()["unknown"] == ["olga", "nobody"]
    assert "olga" in response.json()["detail"]


async def test_a_direct_post_needs_addressees_and_others_take_none(acme: Company) -> None:
    nobody = await acme.post("ada", content="psst", visibility="direct")
    internal_with_to = await acme.post("ada", content="psst", visibility="internal", to=["grace"])

    assert (nobody.status_code, internal_with_to.status_code) == (422, 422)


# --- threads and answers ------------------------------------------------------------------------


async def test_a_reply_joins_the_thread_and_names_the_author_it_replies_to(acme: Company) -> None:
    root = await acme.posted("ada", content="Thoughts?")
    first = await acme.posted("grace", content="Yes", in_reply_to=root)

    response = await acme.post("linus", content="Agreed", in_reply_to=first)

    body = response.json()
    assert body["context"] == root
    assert body["inReplyTo"] == {"id": first, "attributedTo": user_iri(acme.tenant, "grace")}
    create = (await acme.published("Create"))[-1]
    assert member(create, "object")["inReplyTo"]["attributedTo"] == user_iri(acme.tenant, "grace")


async def test_a_reply_takes_its_threads_group_and_audience(acme: Company) -> None:
    group_id = await acme.group("ada", "private", "grace")
    root = await acme.posted("ada", content="Plan", group_id=group_id)
    direct = await acme.posted("ada", content="Psst", to=["grace"])

    in_group = await acme.post("grace", content="ok", in_reply_to=root)
    direct_reply = await acme.post("grace", content="ok", in_reply_to=direct)
    widened = await acme.post("grace", content="ok", in_reply_to=root, visibility="public")

    assert in_group.json()["target"]["id"] == group_id
    assert in_group.json()["visibility"] == "group"
    assert direct_reply.json()["visibility"] == "direct"
    assert direct_reply.json()["to"] == [user_iri(acme.tenant, "ada")]
    assert widened.status_code == 422


async def test_replying_to_a_post_you_cannot_see_is_not_found(acme: Company, api: Api) -> None:
    group_id = await acme.group("ada", "private", "grace")
    hidden = await acme.posted("ada", content="Plan", group_id=group_id)
    other = await company(api, f"{acme.tenant}x")
    elsewhere = await other.posted("ada", content="Hi")

    hidden_reply = await acme.post("linus", content="?", in_reply_to=hidden)
    cross_tenant = await acme.post("ada", content="?", in_reply_to=elsewhere)
    not_an_id = await acme.post("ada", content="?", in_reply_to="nonsense")

    assert (hidden_reply.status_code, cross_tenant.status_code, not_an_id.status_code) == (
        404,
        404,
        404,
    )


async def test_an_answer_must_reply_to_a_question(acme: Company) -> None:
    question = await acme.posted("ada", content="How do we deploy?", kind="question")
    note = await acme.posted("ada", content="We deploy on Fridays")

    answer = await acme.post("grace", content="With make", kind="answer", in_reply_to=question)
    to_a_note = await acme.post("grace", content="?", kind="answer", in_reply_to=note)
    to_nothing = await acme.post("grace", content="?", kind="answer")

    assert answer.status_code == 201
    assert (answer.json()["kind"], answer.json()["type"]) == ("answer", "Note")
    assert (to_a_note.status_code, to_nothing.status_code) == (422, 422)


# --- the content policy -------------------------------------------------------------------------


async def test_a_secret_in_an_internal_post_is_accepted_and_flagged_to_moderators(
    acme: Company,
) -> None:
    response = await acme.post("ada", content=f"deploy key {AWS_KEY}")

    assert response.status_code == 201
    create, flag = await acme.activities()
    assert (create.type, flag.type) == ("Create", "Flag")
    assert ref_id(flag.object) == response.json()["id"]
    assert member(flag, "actor")["type"] == "Service"
    assert member(flag, "rule") == "aws-access-key"
    assert member(flag, "visibility") == "direct"
    assert member(flag, "to") is None
    row = await acme.api.pool.fetchrow(
        "SELECT id, rule, reporter_id FROM flags WHERE tenant_id = $1", acme.tenant
    )
    assert row is not None
    assert (row["id"], row["rule"], row["reporter_id"]) == (flag.id, "aws-access-key", "ada")


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow", "private-key"),
        (AWS_KEY, "aws-access-key"),
        ('{"type": "service_account", "private_key_id": "abc"}', "gcp-service-account-key"),
        ("ghp_" + "a1B2" * 9, "github-token"),
        (f"card {CARD} exp 12/29", "card-number"),
    ],
)
async def test_a_secret_where_guests_could_read_it_is_refused_naming_the_rule(
    acme: Company, secret: str, rule: str
) -> None:
    response = await acme.post("ada", content=secret, visibility="public")

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["rule"] == rule
    assert rule in response.json()["detail"]
    assert await acme.activities() == []


async def test_posts_reaching_guests_through_their_group_or_addressing_are_guarded(
    acme: Company,
) -> None:
    public_group = await acme.group("ada", "public")
    with_guest = await acme.group("ada", "private", "gus")
    employees_only = await acme.group("ada", "private", "grace")

    in_public_group = await acme.post("ada", content=AWS_KEY, group_id=public_group)
    in_guests_group = await acme.post("ada", content=AWS_KEY, group_id=with_guest)
    to_a_guest = await acme.post("ada", content=AWS_KEY, to=["gus"])
    mentioning_a_guest = await acme.post("ada", content=f"@gus {AWS_KEY}", to=["grace"])
    in_employees_group = await acme.post("ada", content=AWS_KEY, group_id=employees_only)

    refused = (in_public_group, in_guests_group, to_a_guest, mentioning_a_guest)
    assert [r.status_code for r in refused] == [422, 422, 422, 422]
    assert in_employees_group.status_code == 201


async def test_numbers_failing_the_luhn_check_are_not_card_numbers(acme: Company) -> None:
    response = await acme.post("ada", content="order 4111 1111 1111 1112", visibility="public")

    assert response.status_code == 201
    assert await acme.published("Flag") == []


async def test_a_tenant_policy_replaces_the_defaults(acme: Company) -> None:
    await acme.set_policy([{"name": "codename", "pattern": "(?i)project bluebird"}])

    codename = await acme.post("ada", content="Project Bluebird ships", visibility="public")
    aws = await acme.post("ada", content=AWS_KEY, visibility="public")

    assert (codename.status_code, codename.json()["rule"]) == (422, "codename")
    assert aws.status_code == 201  # not among this tenant's rules


# --- reading ------------------------------------------------------------------------------------


async def test_reading_a_post_returns_the_object_its_create_carried(acme: Company) -> None:
    created = (await acme.post("ada", content="Hello @grace #team")).json()

    response = await acme.get("linus", created["id"])

    assert response.status_code == 200
    assert response.json() == created


async def test_who_may_read_follows_the_posts_visibility(acme: Company) -> None:
    group_id = await acme.group("ada", "private", "grace")
    await acme.follow("linus", "ada")
    in_group = await acme.posted("ada", content="g", group_id=group_id)
    internal = await acme.posted("ada", content="i")
    followers = await acme.posted("ada", content="f", visibility="followers")
    public = await acme.posted("ada", content="p", visibility="public")

    async def readers(post_id: str) -> set[str]:
        people = ("grace", "linus", "gus")
        return {who for who in people if (await acme.get(who, post_id)).status_code == 200}

    assert await readers(in_group) == {"grace"}
    assert await readers(internal) == {"grace", "linus"}
    assert await readers(followers) == {"linus"}
    assert await readers(public) == {"grace", "linus", "gus"}


async def test_moderators_read_posts_hidden_from_them(acme: Company) -> None:
    group_id = await acme.group("ada", "private")
    hidden = await acme.posted("ada", content="secret plan", group_id=group_id)

    as_moderator = await acme.get("linus", hidden, "member", "moderator")

    assert as_moderator.status_code == 200


async def test_another_tenants_post_and_unknown_ids_are_not_found(acme: Company, api: Api) -> None:
    other = await company(api, f"{acme.tenant}x")
    elsewhere = await other.posted("ada", content="hi", visibility="public")

    cross_tenant = await acme.get("ada", elsewhere)
    unknown = await acme.get("ada", new_object_id())
    garbage = await acme.get("ada", "not-a-post")

    assert (cross_tenant.status_code, unknown.status_code, garbage.status_code) == (404, 404, 404)
    assert cross_tenant.headers["content-type"] == PROBLEM
