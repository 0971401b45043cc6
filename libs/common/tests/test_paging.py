from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI, Request

from canopy_common.paging import BadCursor, decode_cursor, encode_cursor, next_link, trim


def test_a_cursor_gives_back_the_values_it_holds() -> None:
    at = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    cursor = encode_cursor(at, "p-1", 7)
    assert decode_cursor(cursor, (datetime, str, int)) == (at, "p-1", 7)
    assert not set(cursor) & {"=", "/", "+"}


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        "",
        encode_cursor("p-1"),  # too few values
        encode_cursor("p-1", "7"),  # a string where a number belongs
        encode_cursor("p-1", True),  # a bool is not a number
        encode_cursor("p-1", 2**63),  # beyond bigint
        encode_cursor("2026-12-04T15:30:00", 1),  # a naive time
        encode_cursor("yesterday", 1),
    ],
)
def test_a_cursor_the_api_did_not_give_out_is_a_400_naming_the_parameter(cursor: str) -> None:
    with pytest.raises(BadCursor) as caught:
        decode_cursor(cursor, (datetime, int))
    assert caught.value.status == 400
    assert caught.value.extra == {"field": "cursor"}


def test_trim_keeps_limit_rows_and_says_whether_more_follow() -> None:
    assert trim([1, 2, 3], 2) == ([1, 2], True)
    assert trim([1, 2], 2) == ([1, 2], False)


async def test_the_link_header_keeps_the_query_and_adds_the_cursor() -> None:
    app = FastAPI()

    @app.get("/v1/things")
    def things(request: Request, last: bool = False) -> dict[str, str]:
        return next_link(request, None if last else "abc", 10)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://canopy.test") as client:
        first = (await client.get("/v1/things?q=x")).json()
        final = (await client.get("/v1/things?last=true")).json()
    assert first == {"Link": '<http://canopy.test/v1/things?q=x&cursor=abc&limit=10>; rel="next"'}
    assert final == {}
