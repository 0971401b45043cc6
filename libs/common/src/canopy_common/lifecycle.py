"""Things that are started and stopped: a client, a background loop, a watcher.

:class:`StartStop` turns a ``start``/``stop`` pair into an async context manager, so each of
them is used as ``async with thing:`` in tests and tools and through ``start``/``stop`` in a
lifespan, with one spelling of the context-manager protocol.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class StartStop(ABC):
    """``async with`` calls :meth:`start` on entry and :meth:`stop` on exit (error or not)."""

    @abstractmethod
    async def start(self) -> None:
        """Acquire what the object needs (connections, tasks)."""

    @abstractmethod
    async def stop(self) -> None:
        """Release what :meth:`start` acquired."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
