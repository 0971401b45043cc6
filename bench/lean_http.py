"""A lean HTTP/1.1 client for load generators: keep-alive connections, requests encoded by
hand, answers parsed only as far as status, ``Content-Length`` and body.

httpx costs the bench process ~1-2 ms of CPU per request (its pool, its models, its
headers): at 500 posts/s the load generator took a core of the two, and the services were
measured starving beside it. This client costs a small fraction of that; it speaks just
what the services answer (``Content-Length`` bodies, keep-alive), and anything else is an
error, never a guess.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class LeanHttpError(Exception):
    """The connection failed, or the answer was not one this client reads."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


class LeanConnection:
    """One keep-alive connection to a server; one request at a time."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"only http://host:port URLs: {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        self._host_header = f"{self.host}:{self.port}".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Answer:
        """Send one request and read its answer; reconnects once the server closed."""
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}".encode())
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(b"Content-Length: %d" % len(body))
        message = b"\r\n".join(head) + b"\r\n\r\n" + body
        if self._writer is None:
            await self._connect()
        assert self._reader is not None
        assert self._writer is not None
        try:
            self._writer.write(message)
            return await self._answer(self._reader)
        except (OSError, asyncio.IncompleteReadError, LeanHttpError) as exc:
            await self.close()
            raise LeanHttpError(f"{method} {path}: {exc!r}") from exc

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def _connect(self) -> None:
        try:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise LeanHttpError(f"connect {self.host}:{self.port}: {exc!r}") from exc

    async def _answer(self, reader: asyncio.StreamReader) -> Answer:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise LeanHttpError(f"not an HTTP status line: {lines[0]!r}") from exc
        length, close = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise LeanHttpError("chunked answers are not read by this client")
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return Answer(status, body)


class LeanPool:
    """Up to ``size`` keep-alive connections to one server, shared by many tasks."""

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._idle: asyncio.LifoQueue[LeanConnection] = asyncio.LifoQueue()
        for _ in range(size):
            self._idle.put_nowait(LeanConnection(url))

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        timeout_s: float,
    ) -> Answer:
        """One request on a free connection; :class:`LeanHttpError` (or ``TimeoutError``) when
        it failed — the connection is then reopened for the next one."""
        connection = await self._idle.get()
        try:
            async with asyncio.timeout(timeout_s):
                return await connection.request(method, path, body, headers)
        except TimeoutError:
            await connection.close()  # an answer may still come: not on this connection
            raise
        finally:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait().close()
