"""Reading canonical activities (as ingestion publishes them) as feed items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from canopy_common.activities import item_of
from canopy_common.events import StrictActivity, Visibility, validate_activity
from canopy_fanout.domain.model import Item

TENANT = "acme"
PUBLISHED = "2024-05-01T09:30:00+00:00"
POST = "urn:uuid:01890000-0000-7000-8000-0000000000b1"
PARENT = "urn:uuid:01890000-0000-7000-8000-0000000000b0"
GROUP = "urn:uuid:01890000-0000-7000-8000-000000000001"
CREATE_ID = "urn:uuid:01890000-0000-7000-8000-0000000000a1"
ANNOUNCE_ID = "urn:uuid:01890000-0000-7000-8000-0000000000a2"

Doc = dict[str, Any]


def iri(kind: str, key: str, tenant: str = TENANT) -> str:
    return f"urn:canopy:{tenant}:{kind}:{key}"


def person(user_id: str, *, kind: str = "employee") -> Doc:
    return {
        "type": "Person",
        "id": iri("user", user_id),
        "name": user_id.title(),
        "preferredUsername": user_id,
        "kind": kind,
    }


def group(visibility: Visibility) -> Doc:
    return {
        "type": "Group",
        "id": GROUP,
        "name": "Platform",
        "visibility": visibility.value,
        "attributedTo": iri("user", "olga"),
    }


def mention(user_id: str, tenant: str = TENANT) -> Doc:
    return {"type": "Mention", "href": iri("user", user_id, tenant), "name": f"@{user_id}"}


def hashtag(tag: str) -> Doc:
    return {"type": "Hashtag", "href": iri("tag", tag), "name": f"#{tag}"}


def note(
    visibility: Visibility = Visibility.INTERNAL, *, author: str = "alice", **extra: Any
) -> Doc:
    return {
        "type": "Note",
        "id": POST,
        "kind": "note",
        "attributedTo": person(author),
        "content": "Shipped!",
        "mediaType": "text/markdown",
        "visibility": visibility.value,
        "context": POST,
        "published": PUBLISHED,
        **extra,
    }


def activity(type_: str, *, actor: str, obj: Doc | str, **extra: Any) -> StrictActivity:
    return validate_activity(
        {
            "id": CREATE_ID,
            "type": type_,
            "actor": person(actor),
            "object": obj,
            "published": PUBLISHED,
            "tenant": TENANT,
            "source": "http",
            **extra,
        }
    )


def created(obj: Doc, **extra: Any) -> Item:
    found = item_of(activity("Create", actor="alice", obj=obj, **extra))
    assert found is not None
    return found


def test_create_of_a_note_in_a_private_group_is_an_item_of_that_group() -> None:
    private = group(Visibility.GROUP)
    obj = note(Visibility.GROUP, target=private)

    item = created(obj, target=private, visibility="group")

    assert item == Item(
        tenant_id=TENANT,
        activity_id=CREATE_ID,
        object_id=POST,
        type="Create",
        actor_id="alice",
        author_id="alice",
        visibility=Visibility.GROUP,
        published=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        group_id=GROUP,
        group_visibility=Visibility.GROUP,
    )


def test_group_is_read_from_the_object_when_the_activity_has_no_target() -> None:
    item = created(note(Visibility.INTERNAL, target=group(Visibility.INTERNAL)))

    assert (item.group_id, item.group_visibility) == (GROUP, Visibility.INTERNAL)


def test_item_outside_groups_has_no_group() -> None:
    item = created(note(Visibility.PUBLIC))

    assert (item.group_id, item.group_visibility) == (None, None)


def test_mentions_and_hashtags_are_resolved_from_the_tags() -> None:
    obj = note(tag=[mention("bob"), mention("mia"), hashtag("release"), hashtag("q3")])

    item = created(obj)

    assert item.mentions == {"bob", "mia"}
    assert item.hashtags == {"release", "q3"}


def test_another_tenants_mentions_are_ignored() -> None:
    obj = note(tag=[mention("bob"), mention("eve", tenant="globex")])

    assert created(obj).mentions == {"bob"}


def test_hashtag_without_an_iri_is_read_from_its_name_in_lower_case() -> None:
    obj = note(tag=[{"type": "Hashtag", "name": "#Release"}])

    assert created(obj).hashtags == {"release"}


def test_direct_addressees_are_read_from_to() -> None:
    to = [iri("user", "ada"), iri("user", "bob")]
    obj = note(Visibility.DIRECT, to=to)

    item = created(obj, to=to, visibility="direct")

    assert item.visibility is Visibility.DIRECT
    assert item.addressees == {"ada", "bob"}


def test_addressees_of_another_tenant_or_not_people_are_ignored() -> None:
    to = [iri("user", "ada"), iri("user", "eve", "globex"), GROUP]

    assert created(note(Visibility.DIRECT, to=to), to=to).addressees == {"ada"}


def test_reply_names_the_post_it_answers() -> None:
    obj = note(inReplyTo={"id": PARENT, "attributedTo": iri("user", "bob")}, context=PARENT)

    assert created(obj).in_reply_to == PARENT


def test_post_is_not_a_reply() -> None:
    assert created(note()).in_reply_to is None


def test_visibility_defaults_to_the_activitys_then_internal() -> None:
    bare = {key: value for key, value in note().items() if key != "visibility"}

    assert created(bare, visibility="public").visibility is Visibility.PUBLIC
    assert created(bare).visibility is Visibility.INTERNAL


def test_announce_is_an_item_by_the_sharer_of_the_authors_post() -> None:
    obj = note(Visibility.PUBLIC, tag=[hashtag("release")])
    share = activity("Announce", actor="sam", obj=obj, id=ANNOUNCE_ID, visibility="public")

    item = item_of(share)

    assert item is not None
    assert (item.type, item.activity_id, item.object_id) == ("Announce", ANNOUNCE_ID, POST)
    assert (item.actor_id, item.author_id) == ("sam", "alice")
    assert item.people == {"sam", "alice"}
    assert item.hashtags == {"release"}


def test_announce_of_a_private_group_post_keeps_its_group() -> None:
    private = group(Visibility.GROUP)
    obj = note(Visibility.GROUP, target=private)

    item = item_of(activity("Announce", actor="sam", obj=obj, target=private))

    assert item is not None
    assert (item.group_id, item.group_visibility) == (GROUP, Visibility.GROUP)


NOT_ITEMS = {
    "follow": ("Follow", person("bob")),
    "like": ("Like", {"type": "Note", "id": POST, "attributedTo": iri("user", "bob")}),
    "create-person": ("Create", person("bob")),
    "create-group": ("Create", group(Visibility.PUBLIC)),
    "create-of-a-bare-iri": ("Create", POST),
    "announce-of-a-bare-iri": ("Announce", POST),
    "update-of-a-note": ("Update", note()),
    "delete-of-a-note": ("Delete", note()),
}


@pytest.mark.parametrize(("type_", "obj"), NOT_ITEMS.values(), ids=NOT_ITEMS.keys())
def test_activities_other_than_creating_or_sharing_a_post_are_not_items(
    type_: str, obj: Doc | str
) -> None:
    assert item_of(activity(type_, actor="alice", obj=obj)) is None


def test_activity_by_someone_of_another_tenant_is_not_an_item() -> None:
    foreign = {**person("eve"), "id": iri("user", "eve", "globex")}
    doc = {
        "id": CREATE_ID,
        "type": "Create",
        "actor": foreign,
        "object": note(attributedTo=foreign),
        "published": PUBLISHED,
        "tenant": TENANT,
    }

    assert item_of(validate_activity(doc)) is None
