"""The W3C Activity Streams 2.0 test documents against both ingestion profiles.

The corpus lives outside the repo (:mod:`canopy_testing.conformance` says where and what a
run without it does: skipped and said so for a newcomer, a failure in CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from canopy_common.events import (
    InvalidActivity,
    InvalidJSON,
    Profile,
    StrictActivity,
    decode_activity,
    encode,
    validate_activity,
)
from canopy_testing.conformance import corpus_dir

pytestmark = pytest.mark.conformance

CORPUS = corpus_dir()

# Valid-folder documents that are not valid AS2, with what we report instead.
NOT_JSON = {"vocabulary-ex196-jsonld.json"}  # raw newlines inside a string
# These give `name` as a language map of registered languages, which AS2 core 4.7 puts in
# nameMap; the lenient profile lifts it there (fail/namemap-as-name.json, whose map has the
# unregistered "sp", stays refused).
NAME_AS_MAP = {"simple0011.json", "simple0012.json"}

# The member every known-bad document must be refused for ("$" is the whole document).
FAIL_FIELDS = {
    "array-at-top.json": "$",
    "bad-character-set.json": "contentMap",
    "collection-with-non-page-first.json": "first",
    "content-map-with-invalid-language-tag.json": "contentMap",
    "name-as-namemap.json": "nameMap",
    "namemap-as-name.json": "name",
    "number-as-actor.json": "actor",
    "number-as-content.json": "content",
    "number-as-context.json": "@context",
    "number-as-id.json": "id",
    "number-as-name.json": "name",
    "number-as-object.json": "object",
    "number-as-type.json": "type",
    "number-at-top.json": "$",
    "ordered-collection-with-items.json": "items",
    "ordered-collection-with-non-page-first.json": "first",
    "other-context.json": "@context",
    "relative-uri-for-url.json": "url",
    "string-at-top.json": "$",
    "unordered-collection-with-ordered-items.json": "orderedItems",
}


def corpus(folder: Path, *, excluding: set[str] = set()) -> list[Any]:  # noqa: B006
    """The documents to parametrize over; a missing folder becomes one failing case."""
    if not folder.is_dir():
        return [pytest.param(folder, id="corpus-missing")]
    paths = sorted(path for path in folder.glob("*.json") if path.name not in excluding)
    return [pytest.param(path, id=path.name) for path in paths]


VALID = corpus(CORPUS, excluding=NOT_JSON)
FAILING = corpus(CORPUS / "fail")


def refusal(raw: bytes, profile: Profile = "lenient") -> InvalidActivity:
    with pytest.raises(InvalidActivity) as caught:
        decode_activity(raw, profile=profile)
    return caught.value


def test_the_corpus_is_there_and_complete() -> None:
    assert CORPUS.is_dir(), f"AS2 conformance corpus not found at {CORPUS}"
    assert len(VALID) + len(NOT_JSON) == len(list(CORPUS.glob("*.json"))) >= 190
    assert set(FAIL_FIELDS) <= {path.name for path in (CORPUS / "fail").glob("*.json")}


@pytest.mark.parametrize("path", VALID)
def test_every_valid_document_parses_in_the_lenient_profile(path: Path) -> None:
    activity = decode_activity(path.read_bytes(), profile="lenient")

    again = decode_activity(encode(activity), profile="lenient")
    assert again == activity
    assert encode(again) == encode(activity)


@pytest.mark.parametrize("path", FAILING)
def test_every_known_bad_document_is_refused_naming_the_member(path: Path) -> None:
    error = refusal(path.read_bytes())

    expected = FAIL_FIELDS.get(path.name)
    assert expected is not None, f"new known-bad document {path.name}: add its field above"
    assert error.field == expected or error.field.startswith(expected + ".")
    assert expected in str(error)
    assert error.status == 422


def test_a_string_with_raw_newlines_is_reported_as_invalid_json() -> None:
    error = refusal((CORPUS / "vocabulary-ex196-jsonld.json").read_bytes())

    assert isinstance(error, InvalidJSON)
    assert error.field == "$"
    assert "invalid JSON" in error.reason
    assert "line 6" in error.reason


def test_a_non_utf8_string_is_reported_as_invalid_json_at_its_member() -> None:
    error = refusal((CORPUS / "fail/bad-character-set.json").read_bytes())

    assert isinstance(error, InvalidJSON)
    assert error.field == "contentMap.eo"
    assert "UTF-8" in error.reason


@pytest.mark.parametrize("name", sorted(NAME_AS_MAP))
def test_a_language_map_given_as_name_is_lifted_into_name_map_by_the_lenient_profile(
    name: str,
) -> None:
    raw = (CORPUS / name).read_bytes()
    document = orjson.loads(raw)

    parsed = decode_activity(raw, profile="lenient")

    assert parsed.model_extra is not None
    assert parsed.name is None
    assert parsed.model_dump(by_alias=True)["nameMap"] == document["name"]


@pytest.mark.parametrize("name", sorted(NAME_AS_MAP))
def test_a_language_map_given_as_name_is_refused_by_the_strict_profile(name: str) -> None:
    error = refusal((CORPUS / name).read_bytes(), profile="strict")

    assert error.field == "name"
    assert "nameMap" in error.reason


# --- strict profile -------------------------------------------------------------------------

COMPLETE: dict[str, Any] = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "urn:uuid:0190b0c4-7b7e-7cc0-8e5e-2f1d7c0c1a01",
    "type": "Create",
    "actor": "https://example.com/t/acme/users/ada",
    "object": {"type": "Note", "content": "Hello"},
    "published": "2024-07-01T12:00:00Z",
    "tenant": "acme",
}


def test_a_complete_activity_passes_the_strict_profile() -> None:
    activity = decode_activity(orjson.dumps(COMPLETE), profile="strict")

    assert isinstance(activity, StrictActivity)
    assert activity.tenant == "acme"
    assert activity.synthesized is None


@pytest.mark.parametrize("field", ["id", "type", "actor", "published", "tenant"])
def test_the_strict_profile_refuses_an_activity_without(field: str) -> None:
    doc = {key: value for key, value in COMPLETE.items() if key != field}

    error = refusal(orjson.dumps(doc), profile="strict")

    assert error.field == field
    assert "required" in error.reason


def test_the_strict_profile_refuses_a_published_time_without_zone() -> None:
    error = refusal(orjson.dumps({**COMPLETE, "published": "2024-07-01T12:00:00"}), "strict")

    assert error.field == "published"


def test_the_strict_profile_refuses_an_empty_tenant() -> None:
    assert refusal(orjson.dumps({**COMPLETE, "tenant": ""}), "strict").field == "tenant"


def test_the_strict_profile_still_applies_the_as2_rules() -> None:
    error = refusal(orjson.dumps({**COMPLETE, "actor": 90}), "strict")

    assert error.field == "actor"


# (the name-as-map documents are refused by the strict profile for `name` already)
@pytest.mark.parametrize("path", corpus(CORPUS, excluding=NOT_JSON | NAME_AS_MAP))
def test_upstream_documents_without_a_tenant_are_refused_by_the_strict_profile(
    path: Path,
) -> None:
    with pytest.raises(InvalidActivity) as caught:
        validate_activity(orjson.loads(path.read_bytes()), profile="strict")

    assert "tenant" in {violation.field for violation in caught.value.violations}
