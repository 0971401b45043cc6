"""The fan-out workloads, one definition for Canopy and for its peer (Stream-Framework), so
both are measured on exactly the same shapes."""

from __future__ import annotations

from typing import Final

# One post to this many active followers, repeated for the latency percentiles.
BIG_AUDIENCE: Final = 10_000
BIG_REPEATS: Final = 20
# This many authors post once each, each to this many followers of their own.
AUTHORS: Final = 1_000
FOLLOWERS_EACH: Final = 100


def follower_ids(count: int, prefix: str = "f") -> list[str]:
    """``count`` follower user ids, ``f00000``, ``f00001``, ..."""
    return [f"{prefix}{i:05d}" for i in range(count)]


def author_ids(count: int = AUTHORS) -> list[str]:
    return [f"a{i:04d}" for i in range(count)]


def followers_of_author(index: int, everyone: list[str]) -> list[str]:
    """The :data:`FOLLOWERS_EACH` followers of author ``index``: a disjoint slice of
    ``everyone`` when it is large enough, wrapping around otherwise."""
    start = index * FOLLOWERS_EACH
    return [everyone[(start + i) % len(everyone)] for i in range(FOLLOWERS_EACH)]
