"""W3C Trace Context: parsing and rendering ``traceparent``, and the current one per task."""

from __future__ import annotations

import asyncio
import re

import pytest

from canopy_common.tracing import (
    TRACEPARENT_HEADER,
    TraceParent,
    continue_trace,
    current_trace_id,
    current_traceparent,
    new_traceparent,
    parse_traceparent,
    trace_id_of,
    use_traceparent,
)

# The example from https://www.w3.org/TR/trace-context/#examples-of-http-traceparent-headers
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
SAMPLED = f"00-{TRACE_ID}-{SPAN_ID}-01"
NOT_SAMPLED = f"00-{TRACE_ID}-{SPAN_ID}-00"
OTHER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

VERSION_00 = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01")


def test_the_header_name_is_lowercase_traceparent() -> None:
    assert TRACEPARENT_HEADER == "traceparent"


def test_a_sampled_version_00_header_parses_into_its_parts() -> None:
    assert parse_traceparent(SAMPLED) == TraceParent(TRACE_ID, SPAN_ID, "01")


def test_an_unsampled_header_keeps_its_flags() -> None:
    parsed = parse_traceparent(NOT_SAMPLED)

    assert parsed is not None
    assert parsed.flags == "00"
    assert str(parsed) == NOT_SAMPLED


@pytest.mark.parametrize("flags", ["00", "01", "02", "03", "ff"])
def test_any_two_hex_digit_flags_are_accepted_and_rendered_back(flags: str) -> None:
    header = f"00-{TRACE_ID}-{SPAN_ID}-{flags}"

    parsed = parse_traceparent(header)

    assert parsed is not None
    assert parsed.flags == flags
    assert str(parsed) == header


def test_a_header_given_as_ascii_bytes_parses_like_the_string() -> None:
    # Kafka header values arrive as bytes.
    assert parse_traceparent(SAMPLED.encode()) == parse_traceparent(SAMPLED)


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_traceparent(f"  {SAMPLED}\t") == TraceParent(TRACE_ID, SPAN_ID, "01")


def test_a_missing_header_parses_as_none() -> None:
    assert parse_traceparent(None) is None


def test_a_later_version_with_extra_fields_is_read_and_rendered_as_version_00() -> None:
    parsed = parse_traceparent(f"cc-{TRACE_ID}-{SPAN_ID}-01-what-the-future-will-add")

    assert parsed == TraceParent(TRACE_ID, SPAN_ID, "01")
    assert str(parsed) == SAMPLED


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="not-a-traceparent"),
        pytest.param(f"00-{TRACE_ID[:-1]}-{SPAN_ID}-01", id="trace-id-too-short"),
        pytest.param(f"00-{TRACE_ID}0-{SPAN_ID}-01", id="trace-id-too-long"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID[:-1]}-01", id="span-id-too-short"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}0-01", id="span-id-too-long"),
        pytest.param(f"0-{TRACE_ID}-{SPAN_ID}-01", id="version-too-short"),
        pytest.param(f"000-{TRACE_ID}-{SPAN_ID}-01", id="version-too-long"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}-1", id="flags-too-short"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}-001", id="flags-too-long"),
        pytest.param(f"00-{TRACE_ID.upper()}-{SPAN_ID}-01", id="uppercase-trace-id"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID.upper()}-01", id="uppercase-span-id"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}-0A", id="uppercase-flags"),
        pytest.param(f"0A-{TRACE_ID}-{SPAN_ID}-01", id="uppercase-version"),
        pytest.param(f"00-{'0' * 32}-{SPAN_ID}-01", id="all-zero-trace-id"),
        pytest.param(f"00-{TRACE_ID}-{'0' * 16}-01", id="all-zero-span-id"),
        pytest.param(f"ff-{TRACE_ID}-{SPAN_ID}-01", id="version-ff"),
        pytest.param(f"00-{TRACE_ID[:-1]}g-{SPAN_ID}-01", id="non-hex-trace-id"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID[:-1]}z-01", id="non-hex-span-id"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}-0x", id="non-hex-flags"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}-01-extra", id="version-00-with-extra-fields"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}-01-", id="version-00-with-trailing-dash"),
        pytest.param(f"cc-{TRACE_ID}-{SPAN_ID}-01extra", id="later-version-without-dash"),
        pytest.param(f"00_{TRACE_ID}_{SPAN_ID}_01", id="wrong-separator"),
        pytest.param(f"00-{TRACE_ID}-{SPAN_ID}", id="no-flags"),
        pytest.param(f"00-{TRACE_ID[:-1]}٣-{SPAN_ID}-01", id="non-ascii-digit"),
    ],
)
def test_an_invalid_header_parses_as_none(header: str) -> None:
    assert parse_traceparent(header) is None
    assert parse_traceparent(header.encode()) is None


def test_bytes_that_are_not_ascii_parse_as_none() -> None:
    assert parse_traceparent(b"00-\xff" + SAMPLED[4:].encode()) is None


def test_a_new_traceparent_is_a_sampled_version_00_header_with_random_ids() -> None:
    headers = [new_traceparent() for _ in range(100)]

    for header in headers:
        assert VERSION_00.fullmatch(header), header
        parsed = parse_traceparent(header)
        assert parsed is not None
        assert parsed.trace_id != "0" * 32
        assert parsed.span_id != "0" * 16
    assert len({trace_id_of(header) for header in headers}) == len(headers)


def test_a_child_keeps_the_trace_id_and_flags_and_gets_a_new_span_id() -> None:
    parent = TraceParent(TRACE_ID, SPAN_ID, "00")

    children = [parent.child() for _ in range(20)]

    for child in children:
        assert (child.trace_id, child.flags) == (TRACE_ID, "00")
        assert child.span_id != SPAN_ID
        assert parse_traceparent(str(child)) == child
    assert len({child.span_id for child in children}) == len(children)


def test_continuing_a_valid_trace_keeps_its_trace_id_under_a_new_span() -> None:
    continued = parse_traceparent(continue_trace(SAMPLED))

    assert continued is not None
    assert continued.trace_id == TRACE_ID
    assert continued.span_id != SPAN_ID
    assert continued.flags == "01"


def test_continuing_a_trace_from_bytes_keeps_its_trace_id() -> None:
    assert trace_id_of(continue_trace(SAMPLED.encode())) == TRACE_ID


def test_continuing_an_unsampled_trace_keeps_it_unsampled() -> None:
    continued = parse_traceparent(continue_trace(NOT_SAMPLED))

    assert continued is not None
    assert continued.flags == "00"


@pytest.mark.parametrize(
    "incoming",
    [None, "", "garbage", f"00-{'0' * 32}-{SPAN_ID}-01", f"ff-{TRACE_ID}-{SPAN_ID}-01", b"\xff"],
)
def test_continuing_a_missing_or_invalid_trace_starts_a_new_one(
    incoming: str | bytes | None,
) -> None:
    started = continue_trace(incoming)

    assert VERSION_00.fullmatch(started)
    assert trace_id_of(started) != TRACE_ID


def test_trace_id_of_a_valid_traceparent_is_its_trace_id() -> None:
    assert trace_id_of(SAMPLED) == TRACE_ID


def test_trace_id_of_an_invalid_traceparent_is_an_error() -> None:
    with pytest.raises(ValueError, match="invalid traceparent"):
        trace_id_of("garbage")


def test_outside_any_trace_there_is_no_current_traceparent() -> None:
    assert current_traceparent() is None
    assert current_trace_id() is None


def test_using_a_traceparent_makes_it_current_and_restores_the_previous_one() -> None:
    with use_traceparent(SAMPLED) as used:
        assert used == SAMPLED
        assert current_traceparent() == SAMPLED
        assert current_trace_id() == TRACE_ID

    assert current_traceparent() is None
    assert current_trace_id() is None


def test_nested_traceparents_restore_the_outer_one_on_exit() -> None:
    with use_traceparent(SAMPLED):
        with use_traceparent(OTHER):
            assert current_traceparent() == OTHER
        assert current_traceparent() == SAMPLED
    assert current_traceparent() is None


def test_the_previous_traceparent_is_restored_when_the_block_raises() -> None:
    with use_traceparent(SAMPLED):
        with pytest.raises(RuntimeError), use_traceparent(OTHER):
            raise RuntimeError("handler failed")
        assert current_traceparent() == SAMPLED
    assert current_traceparent() is None


def test_using_an_invalid_traceparent_is_an_error_and_changes_nothing() -> None:
    with use_traceparent(SAMPLED):
        with pytest.raises(ValueError, match="invalid traceparent"), use_traceparent("garbage"):
            pytest.fail("the block must not run")
        assert current_traceparent() == SAMPLED


async def test_a_task_inherits_the_current_traceparent() -> None:
    async def trace_seen_by_task() -> str | None:
        return current_traceparent()

    with use_traceparent(SAMPLED):
        seen = await asyncio.create_task(trace_seen_by_task())

    assert seen == SAMPLED


async def test_concurrent_tasks_each_keep_their_own_traceparent() -> None:
    both_set = asyncio.Barrier(2)

    async def handle(traceparent: str) -> tuple[str | None, str | None]:
        with use_traceparent(traceparent):
            await both_set.wait()  # both tasks are inside their block at once
            seen = current_trace_id()
        return seen, current_traceparent()

    first, second = await asyncio.gather(handle(SAMPLED), handle(OTHER))

    assert first == (TRACE_ID, None)
    assert second == (trace_id_of(OTHER), None)
    assert current_traceparent() is None


async def test_a_traceparent_used_inside_a_task_does_not_leak_into_its_caller() -> None:
    async def handle() -> None:
        with use_traceparent(OTHER):
            await asyncio.sleep(0)

    with use_traceparent(SAMPLED):
        await asyncio.create_task(handle())
        assert current_traceparent() == SAMPLED
    assert current_traceparent() is None
