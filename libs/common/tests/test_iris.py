"""The IRI forms every service reads and writes."""

from __future__ import annotations

from canopy_common.iris import (
    CanopyName,
    is_object_id,
    new_object_id,
    parse_name,
    tag_iri,
    user_id_of,
    user_iri,
)


def test_a_user_iri_round_trips_to_its_tenant_and_id() -> None:
    iri = user_iri("acme", "ada.lovelace")

    assert iri == "urn:canopy:acme:user:ada.lovelace"
    assert parse_name(iri) == CanopyName("acme", "user", "ada.lovelace")
    assert user_id_of(iri, "acme") == "ada.lovelace"


def test_a_user_id_with_reserved_characters_is_escaped_and_restored() -> None:
    iri = user_iri("acme", "auth0|12:34 x")

    assert " " not in iri
    assert user_id_of(iri, "acme") == "auth0|12:34 x"


def test_another_tenants_user_iri_is_not_a_user_of_this_tenant() -> None:
    assert user_id_of(user_iri("globex", "ada"), "acme") is None


def test_hashtags_are_case_insensitive() -> None:
    assert tag_iri("acme", "Canopy") == tag_iri("acme", "canopy")
    assert parse_name(tag_iri("acme", "Canopy")) == CanopyName("acme", "tag", "canopy")


def test_foreign_iris_are_not_canopy_names() -> None:
    assert parse_name("https://hr.example/people/1") is None
    assert user_id_of("urn:uuid:0190b0c4-7b7e-7cc0-8e5e-2f1d7c0c1a01", "acme") is None


def test_created_object_ids_are_time_ordered_uuid_urns() -> None:
    first, second = new_object_id(), new_object_id()

    assert is_object_id(first)
    assert first < second
    assert not is_object_id("alice")
