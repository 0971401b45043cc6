"""The export records (canopy_common.exports): a section cut into chunks comes back whole,
and whatever is no request or part of ours is refused with the reason."""

from __future__ import annotations

import base64

import orjson
import pytest

from canopy_common.exports import (
    ExportService,
    InvalidExportRecord,
    chunk_bytes,
    decode_part,
    decode_request,
    encode_part,
    encode_request,
    joined_section,
    new_request,
    record_key,
    section_parts,
)


def test_a_section_cut_into_chunks_is_joined_back_whole_and_names_its_service() -> None:
    request = new_request("acme", "u-ada", retention_s=60)
    section = {"notifications": [{"id": n, "text": "é" * 20} for n in range(100)]}
    key = record_key("acme", request.id).encode()

    parts = section_parts(ExportService.NOTIFY, request, section, chunk_bytes=1000)
    decoded = [decode_part(key, encode_part(part)) for part in parts]

    assert len(parts) > 1
    assert {part.part_id for part in decoded} == {parts[0].part_id}
    assert [part.chunk for part in decoded] == list(range(len(parts)))
    whole = joined_section([chunk_bytes(part) for part in decoded])
    assert whole["service"] == "notify"
    assert whole["generated_at"]
    assert whole["notifications"] == section["notifications"]
    assert decode_request(key, encode_request(request)) == request
    assert not request.expired()


def test_records_that_are_not_ours_are_refused_with_the_reason() -> None:
    request = new_request("acme", "u-ada", retention_s=60)
    [part] = section_parts(ExportService.FANOUT, request, {"markers": []})
    key = record_key("acme", request.id).encode()
    value = orjson.loads(encode_part(part))

    cases = {
        "keyed otherwise": (b"acme:someone-else", encode_part(part)),
        "numbered from 0": (key, orjson.dumps(value | {"chunk": 1, "chunks": 1})),
        "service: Input should be": (key, orjson.dumps(value | {"service": "ingestion"})),
        "admin: Extra inputs": (key, orjson.dumps(value | {"admin": True})),
        "needs a value": (key, b""),
    }
    for reason, (record_key_, raw) in cases.items():
        with pytest.raises(InvalidExportRecord, match=reason):
            decode_part(record_key_, raw)
    with pytest.raises(InvalidExportRecord, match="not base64"):
        chunk_bytes(part.model_copy(update={"data": "%%%"}))
    with pytest.raises(InvalidExportRecord, match="not JSON"):
        joined_section([base64.b64decode(part.data)[:-1]])
