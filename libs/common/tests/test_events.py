"""The activity models, their codec, activity ids and the test factories (no network)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from canopy_common.as2_rules import AS2_CONTEXT, MAX_DEPTH, is_language_tag, iter_violations
from canopy_common.errors import CanopyError
from canopy_common.events import (
    CANOPY_CONTEXT,
    Activity,
    AS2Object,
    InvalidActivity,
    InvalidJSON,
    StrictActivity,
    Visibility,
    decode_activity,
    encode,
    new_activity_id,
    new_uuid7,
    ref_id,
    ref_ids,
    validate_activity,
)
from canopy_testing.factories import ActivityFactory, subject_id


def wire(model: AS2Object) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(encode(model))
    return decoded


@pytest.fixture
def factory() -> ActivityFactory:
    return ActivityFactory()


# --- codec ----------------------------------------------------------------------------------


def test_a_canonical_activity_survives_encode_and_decode(factory: ActivityFactory) -> None:
    ada, bob = factory.user("ada"), factory.user("bob")
    post = factory.post(ada, "Hi @bob", mentions=[bob], hashtags=["hello"])

    assert decode_activity(encode(post)) == post
    assert encode(decode_activity(encode(post), profile="lenient")) == encode(post)


def test_encode_writes_as2_camel_case_without_nulls_and_context_first() -> None:
    activity = StrictActivity(
        id=new_activity_id(),
        type="Create",
        actor="https://example.com/users/ada",
        object=AS2Object(type="Note", in_reply_to="https://example.com/posts/1"),
        published=datetime(2024, 7, 1, 12, tzinfo=UTC),
        end_time=datetime(2024, 7, 2, tzinfo=UTC),
        tenant="acme",
    )

    body = wire(activity)

    assert next(iter(body)) == "@context"
    assert body["@context"] == CANOPY_CONTEXT
    assert body["object"] == {"type": "Note", "inReplyTo": "https://example.com/posts/1"}
    assert body["schemaVersion"] == 1
    assert body["endTime"] == "2024-07-02T00:00:00Z"
    assert body["published"] == "2024-07-01T12:00:00Z"
    assert None not in body.values()
    assert "schema_version" not in body


def test_a_plain_as2_document_gets_the_plain_as2_context() -> None:
    assert wire(AS2Object(type="Note", content="Hi")) == {
        "@context": AS2_CONTEXT,
        "type": "Note",
        "content": "Hi",
    }


def test_a_document_keeps_its_own_extension_context() -> None:
    context = [AS2_CONTEXT, {"oa": "http://www.w3.org/ns/oa#"}]
    raw = orjson.dumps({"@context": context, "type": "Note", "oa:motivatedBy": "oa:editing"})

    note = decode_activity(raw, profile="lenient")

    assert note.model_extra == {"oa:motivatedBy": "oa:editing"}
    assert wire(note) == orjson.loads(raw)


def test_decode_accepts_text_as_well_as_bytes() -> None:
    raw = '{"type": "Note", "name": "Café"}'

    assert decode_activity(raw, profile="lenient").name == "Café"


@pytest.mark.parametrize("raw", [b"", b"{", b'{"type": "Note",}', b"NaN", "{\udc80}"])
def test_text_that_is_not_json_is_reported_as_invalid_json(raw: bytes | str) -> None:
    with pytest.raises(InvalidJSON) as caught:
        decode_activity(raw, profile="lenient")

    assert caught.value.field == "$"
    assert caught.value.code == "invalid-json"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"type": "Note", "tag": ["ok", "caf\xe9"]}', "tag[1]"),
        (b'{"type": "Note", "caf\xe9": 1}', "caf\ufffd"),
        (b'\xfe{"type": "Note"}', "$"),
    ],
)
def test_bytes_that_are_not_utf8_are_invalid_json_at_their_member(raw: bytes, field: str) -> None:
    with pytest.raises(InvalidJSON) as caught:
        decode_activity(raw, profile="lenient")

    assert caught.value.field == field
    assert "UTF-8" in caught.value.reason
    orjson.dumps(caught.value.extra)  # renders as a problem body


def test_python_attribute_names_are_not_wire_names() -> None:
    note = decode_activity(b'{"type": "Note", "in_reply_to": "x"}', profile="lenient")

    assert note.in_reply_to is None
    assert note.model_extra == {"in_reply_to": "x"}


def test_invalid_activities_are_422_canopy_errors_naming_the_member() -> None:
    with pytest.raises(CanopyError) as caught:
        decode_activity(b'{"type": "Like", "actor": 90}', profile="lenient")

    error = caught.value
    assert isinstance(error, InvalidActivity)
    assert (error.status, error.code) == (422, "invalid-activity")
    assert error.extra["field"] == "actor"
    assert error.extra["errors"] == [{"field": "actor", "reason": error.reason}]
    assert error.message == f"actor: {error.reason}"


def test_a_nested_member_is_named_by_its_path() -> None:
    doc = {"type": "Create", "actor": "https://a.example/ada", "object": {"tag": [{}, {"href": 7}]}}

    with pytest.raises(InvalidActivity) as caught:
        validate_activity(doc, profile="lenient")

    assert caught.value.field == "object.tag[1].href"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"type": "Note", "published": 1_700_000_000}, "published"),
        ({"type": "Event", "startTime": "next tuesday"}, "startTime"),
        ({"type": "Collection", "totalItems": -1}, "totalItems"),
        ({"type": "Link", "href": "https://a.example/", "hreflang": "en_GB"}, "hreflang"),
        ({"type": "Link", "href": "/relative"}, "href"),
        ({"type": []}, "type"),
        ({"type": "Note", "summaryMap": {"en": 3}}, "summaryMap.en"),
        ({"type": "CollectionPage", "partOf": {"type": "Note"}}, "partOf"),
        ({"type": "Create", "to": ["https://a.example/bob", "bob"]}, "to[1]"),
        ({"type": "Create", "actor": True}, "actor"),
    ],
)
def test_other_as2_rules_name_the_member(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidActivity) as caught:
        validate_activity(doc, profile="lenient")

    assert caught.value.field == field


def test_an_unknown_visibility_is_refused() -> None:
    doc = {"type": "Note", "visibility": "everyone"}

    with pytest.raises(InvalidActivity) as caught:
        validate_activity(doc, profile="lenient")

    assert caught.value.field == "visibility"


def test_absurdly_deep_documents_are_refused() -> None:
    doc: dict[str, Any] = {"type": "Note"}
    for _ in range(MAX_DEPTH + 5):
        doc = {"type": "Announce", "object": doc}

    with pytest.raises(InvalidActivity, match="nested deeper"):
        validate_activity(doc, profile="lenient")


def test_an_unknown_profile_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="profile"):
        validate_activity({}, profile="loose")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "tag", ["en", "und", "zh-Hans", "de-CH-1996", "en-US-u-ca-buddhist", "x-klingon", "i-klingon"]
)
def test_well_formed_language_tags_are_accepted(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize("tag", ["de-419-DE", "e", "en--US", "en-a", "123", "en_US", ""])
def test_malformed_language_tags_are_refused(tag: str) -> None:
    assert not is_language_tag(tag)


# --- lenient profile ------------------------------------------------------------------------


def test_the_lenient_profile_synthesises_and_flags_a_missing_id_and_published() -> None:
    before = datetime.now(UTC)

    follow = decode_activity(
        b'{"type": "Follow", "actor": "https://a.example/ada", "object": "https://a.example/bob"}',
        profile="lenient",
    )

    assert follow.synthesized == ["id", "published"]
    assert follow.id is not None
    assert follow.id.startswith("urn:uuid:")
    assert uuid.UUID(follow.id.removeprefix("urn:uuid:")).version == 7
    assert follow.published is not None
    assert before <= follow.published <= datetime.now(UTC)
    assert wire(follow)["synthesized"] == ["id", "published"]


def test_the_lenient_profile_only_synthesises_what_is_missing() -> None:
    doc = {"id": "https://a.example/1", "type": "Like", "actor": "https://a.example/ada"}

    like = validate_activity(doc, profile="lenient")

    assert like.id == "https://a.example/1"
    assert like.synthesized == ["published"]


def test_the_lenient_profile_leaves_complete_activities_and_plain_objects_alone() -> None:
    note = validate_activity({"type": "Note", "content": "Hi"}, profile="lenient")
    dated = {"id": "https://a.example/1", "type": "View", "published": "2015-12-12T12:34Z"}

    assert (note.id, note.published, note.synthesized) == (None, None, None)
    assert validate_activity(dated, profile="lenient").synthesized is None


def test_an_extension_type_with_an_actor_counts_as_an_activity() -> None:
    doc = {"type": "http://www.verbs.example/Check", "actor": "https://a.example/ada"}

    assert validate_activity(doc, profile="lenient").synthesized == ["id", "published"]


def test_the_strict_profile_never_synthesises() -> None:
    doc = {"type": "Like", "actor": "https://a.example/ada", "tenant": "acme"}

    with pytest.raises(InvalidActivity) as caught:
        validate_activity(doc, profile="strict")

    assert {v.field for v in caught.value.violations} == {"id", "published"}


def test_unknown_members_are_kept_through_a_round_trip() -> None:
    raw = (
        b'{"type": "Note", "content": "x", "x:rating": {"stars": 4}, "url": ["https://a.example/"]}'
    )

    note = decode_activity(raw, profile="lenient")

    assert note.model_extra == {"x:rating": {"stars": 4}}
    assert decode_activity(encode(note), profile="lenient") == note


# --- private addressing ---------------------------------------------------------------------


def test_the_public_view_drops_bto_and_bcc_at_every_depth() -> None:
    activity = StrictActivity.model_validate(
        {
            "id": new_activity_id(),
            "type": "Create",
            "actor": "https://a.example/ada",
            "to": ["https://a.example/bob"],
            "cc": "https://a.example/carol",
            "bto": ["https://a.example/dave"],
            "bcc": "https://a.example/erin",
            "object": {"type": "Note", "bcc": ["https://a.example/frank"], "content": "Hi"},
            "published": "2024-07-01T12:00:00Z",
            "tenant": "acme",
        }
    )

    public = activity.public_view()

    assert (public.bto, public.bcc) == (None, None)
    assert isinstance(public.object, AS2Object)
    assert public.object.bcc is None
    assert public.object.content == "Hi"
    assert (public.to, public.cc) == (activity.to, activity.cc)
    assert isinstance(public, StrictActivity)
    # As keys: a random activity id may hold "bcc" (urn:uuid:01a2436a-2bcc-...).
    assert b'"bto"' not in encode(public)
    assert b'"bcc"' not in encode(public)
    assert activity.bto == ["https://a.example/dave"]  # the original still has them


# --- ids ------------------------------------------------------------------------------------


def test_activity_ids_sort_in_the_order_they_were_made() -> None:
    ids = [new_activity_id() for _ in range(5_000)]  # many share a millisecond

    assert sorted(ids) == ids
    assert len(set(ids)) == len(ids)


def test_activity_ids_made_later_sort_later() -> None:
    first = new_uuid7()
    time.sleep(0.003)
    second = new_uuid7()

    assert str(first) < str(second)
    assert (second.int >> 80) - (first.int >> 80) >= 3  # milliseconds apart


def test_activity_ids_are_uuid7_with_the_current_time() -> None:
    made = new_uuid7()

    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    stamped = datetime.fromtimestamp((made.int >> 80) / 1000, UTC)
    assert abs(stamped - datetime.now(UTC)) < timedelta(seconds=5)


def test_activity_ids_are_unique_across_threads() -> None:
    made: list[str] = []

    def mint() -> None:
        batch = [new_activity_id() for _ in range(2_000)]
        made.extend(batch)

    threads = [threading.Thread(target=mint) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(made)) == 16_000


def test_ref_ids_read_iris_objects_and_links() -> None:
    refs: list[str | AS2Object] = [
        "https://a.example/ada",
        AS2Object(id="https://a.example/bob", type="Person"),
        AS2Object(type="Mention", href="https://a.example/carol"),
        AS2Object(type="Note"),
    ]

    assert ref_ids(refs) == [
        "https://a.example/ada",
        "https://a.example/bob",
        "https://a.example/carol",
    ]
    assert ref_ids(None) == []
    assert ref_id("https://a.example/ada") == "https://a.example/ada"
    assert ref_id(None) is None


# --- factories ------------------------------------------------------------------------------


def assert_canonical(activity: StrictActivity, tenant: str) -> None:
    assert activity.tenant == tenant
    assert not list(iter_violations(orjson.loads(encode(activity))))
    assert decode_activity(encode(activity)) == activity


def test_every_factory_makes_canonical_strict_activities_with_fresh_ids(
    factory: ActivityFactory,
) -> None:
    ada, bob = factory.user(), factory.user()
    group = factory.group()
    post = factory.post(ada, group=group)
    made = [
        factory.tenant(),
        ada,
        bob,
        group,
        post,
        factory.follow(ada, bob),
        factory.join(bob, group),
        factory.like(bob, post),
    ]

    for activity in made:
        assert_canonical(activity, factory.tenant_id)
    assert len({activity.id for activity in made}) == len(made)
    assert len({subject_id(x) for x in (ada, bob, group, post)}) == 4


def test_factories_for_different_tests_use_different_tenants() -> None:
    assert ActivityFactory().tenant_id != ActivityFactory().tenant_id
    assert ActivityFactory("acme").user().tenant == "acme"


def test_a_user_is_a_person_with_a_handle_and_display_name(factory: ActivityFactory) -> None:
    created = factory.user("ada", display_name="Ada Lovelace")

    person = created.object
    assert isinstance(person, AS2Object)
    assert (created.type, person.type) == ("Create", "Person")
    assert (person.preferred_username, person.name) == ("ada", "Ada Lovelace")
    assert wire(created)["object"]["preferredUsername"] == "ada"


def test_a_group_carries_its_visibility(factory: ActivityFactory) -> None:
    created = factory.group("Platform", visibility=Visibility.GROUP)

    assert isinstance(created.object, AS2Object)
    assert (created.object.type, created.object.name) == ("Group", "Platform")
    assert created.object.visibility == created.visibility == Visibility.GROUP


def test_a_group_post_targets_the_group_and_tags_mentions_and_hashtags(
    factory: ActivityFactory,
) -> None:
    ada, bob = factory.user("ada"), factory.user("bob")
    group = factory.group()

    post = factory.post(
        ada, "Ship it @bob #release", group=group, mentions=[bob], hashtags=["Release"]
    )

    note = post.object
    assert isinstance(note, AS2Object)
    assert (post.type, note.type) == ("Create", "Note")
    assert ref_id(post.actor) == ref_id(note.attributed_to) == subject_id(ada)
    assert ref_id(post.target) == ref_id(note.target) == subject_id(group)
    assert post.visibility == Visibility.GROUP
    assert post.to is None
    tags = wire(post)["object"]["tag"]
    assert tags[0] == {"type": "Mention", "href": subject_id(bob), "name": "@bob"}
    assert tags[1]["type"] == "Hashtag"
    assert tags[1]["name"] == "#release"
    assert tags[1]["href"].endswith(":tag:release")


def test_a_direct_post_is_addressed_to_its_addressees(factory: ActivityFactory) -> None:
    ada, bob = factory.user(), factory.user()

    post = factory.post(ada, "psst", visibility=Visibility.DIRECT, to=[bob])

    assert ref_ids(post.to) == [subject_id(bob)]
    assert post.target is None


def test_a_reply_joins_the_thread_and_names_the_parent_author(factory: ActivityFactory) -> None:
    ada, bob = factory.user(), factory.user()
    root = factory.post(ada)
    reply = factory.post(bob, in_reply_to=root)
    deeper = factory.post(ada, in_reply_to=reply)

    assert isinstance(reply.object, AS2Object)
    assert isinstance(deeper.object, AS2Object)
    parent = reply.object.in_reply_to
    assert isinstance(parent, AS2Object)
    assert (parent.id, parent.attributed_to) == (subject_id(root), subject_id(ada))
    assert reply.object.context == deeper.object.context == subject_id(root)


def test_follow_join_and_like_point_at_what_they_are_about(factory: ActivityFactory) -> None:
    ada, bob, group = factory.user(), factory.user(), factory.group()
    post = factory.post(bob)

    follow, join, like = factory.follow(ada, bob), factory.join(ada, group), factory.like(ada, post)

    assert [a.type for a in (follow, join, like)] == ["Follow", "Join", "Like"]
    assert {ref_id(a.actor) for a in (follow, join, like)} == {subject_id(ada)}
    assert (ref_id(follow.object), ref_id(join.object), ref_id(like.object)) == (
        subject_id(bob),
        subject_id(group),
        subject_id(post),
    )


def test_activity_lenient_model_accepts_any_document() -> None:
    assert isinstance(validate_activity({}, profile="lenient"), Activity)
