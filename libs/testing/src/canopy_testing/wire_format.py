"""An activity as consumers read it off ``canopy.activities.v1`` (docs/architecture.md §3)."""

from __future__ import annotations

from typing import Any

import orjson

from canopy_common.as2_rules import iter_violations
from canopy_common.events import StrictActivity, decode_activity, encode


def wire(activity: StrictActivity) -> dict[str, Any]:
    """The activity as it travels on ``canopy.activities.v1``, checked to survive it: valid
    AS2 as the rules read it, and decoded back to the same activity."""
    decoded: dict[str, Any] = orjson.loads(encode(activity))
    violations = list(iter_violations(decoded))
    # Plain asserts (no pytest rewriting outside test modules): say what failed.
    assert not violations, f"{activity.id} breaks AS2 rules: {violations}"
    assert decode_activity(encode(activity)) == activity, f"{activity.id} changes on the wire"
    return decoded
