from canopy_common.vocabulary.post_kinds import AS2_TYPE, KIND_OF_AS2_TYPE


def test_a_bare_as2_type_stands_for_the_plain_kind_published_as_it() -> None:
    assert KIND_OF_AS2_TYPE["Note"] == "note"  # not answer or announcement, which say so
    assert KIND_OF_AS2_TYPE["Question"] == "question"


def test_every_published_type_stands_for_a_kind_published_as_it() -> None:
    for as2_type in AS2_TYPE.values():
        assert AS2_TYPE[KIND_OF_AS2_TYPE[as2_type]] == as2_type
    assert set(KIND_OF_AS2_TYPE) == set(AS2_TYPE.values())
