"""Fixtures for the factories' tests."""

from __future__ import annotations

import pytest

from canopy_testing.factories import ActivityFactory


@pytest.fixture
def f() -> ActivityFactory:
    """A factory of a fresh tenant."""
    return ActivityFactory()
