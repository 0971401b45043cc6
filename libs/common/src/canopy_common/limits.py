"""Request limits every Canopy HTTP API enforces before a route sees the request
(docs/architecture.md §8).

:class:`RequestLimits` is a pure ASGI middleware: a body over ``max_body_bytes`` gets 413 (from
``Content-Length`` before anything is read, or as soon as a streamed body passes the limit), and
a JSON body nested deeper than ``max_json_depth`` gets 422, and a NUL character anywhere in the
path, the query or a JSON body's strings gets 422 (Postgres stores no NUL in text: it would
otherwise fail deep inside a query). All answer problem+json naming the limit.
:func:`create_service_app <canopy_common.service.create_service_app>` installs it with the
service's settings.
"""

from __future__ import annotations

import re
from email.message import Message as MimeHeader

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canopy_common.errors import InvalidInput, PayloadTooLarge
from canopy_common.problems import problem_response

# A JSON string, escapes included; the unrolled form never backtracks (linear on any input).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# A JSON \u0000 escape (after an even number of backslashes: `\\u0000` is a backslash and
# the text "u0000"), or a raw NUL byte.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")


def has_nul(scope: Scope, body: bytes = b"") -> bool:
    """Whether the request's path, query string or (JSON) ``body`` holds a NUL character."""
    query = scope.get("query_string", b"")
    return (
        "\x00" in scope.get("path", "")
        or b"%00" in query
        or b"\x00" in query
        or _JSON_NUL.search(body) is not None
    )


_OPENING = frozenset(b"[{")


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether ``body`` nests arrays and objects deeper than ``limit`` levels.

    Counts brackets outside strings without parsing, so malformed JSON is measured too (the
    parser rejects it afterwards). ``{"a": [1]}`` is two levels deep.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def is_json_request(scope: Scope) -> bool:
    """Whether FastAPI would parse the body as JSON: no content type, ``application/json`` or
    ``application/*+json``."""
    raw = dict(scope["headers"]).get(b"content-type")
    if raw is None:
        return True
    header = MimeHeader()
    header["content-type"] = raw.decode("latin-1")
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class RequestLimits:
    """ASGI middleware refusing oversized request bodies (413) and too deeply nested JSON (422).

    The body (at most ``max_body_bytes``) is read before the app runs and handed to it
    unchanged. Add it with ``app.add_middleware(RequestLimits, max_body_bytes=65536,
    max_json_depth=32)``.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            # HTTP/1.1 without either header has no body (RFC 9112 §6.3): only the URL to check.
            if has_nul(scope):
                await self._nul(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        body = b"".join(chunks)
        if body and is_json_request(scope) and json_depth_exceeds(body, self.max_json_depth):
            response = problem_response(
                InvalidInput.status,
                f"the JSON body nests deeper than {self.max_json_depth} levels",
                code="json-too-deep",
                instance=scope.get("path"),
                extra={"limit": self.max_json_depth},
            )
            await response(scope, receive, send)
            return
        if has_nul(scope, body if is_json_request(scope) else b""):
            await self._nul(scope, receive, send)
            return
        request: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([request], receive), send)

    async def _nul(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            InvalidInput.status,
            "the request holds a NUL character (in its path, query or JSON text): refused",
            code="nul-character",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            PayloadTooLarge.status,
            f"the request body is larger than {self.max_body_bytes} bytes",
            code=PayloadTooLarge.code,
            instance=scope.get("path"),
            extra={"limit": self.max_body_bytes},
            # The rest of the body is never read: the connection cannot be reused.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` giving ``messages`` first, then the client's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
