"""The activities benchmarks send around, built with the test factories."""

from __future__ import annotations

from canopy_common.events import StrictActivity, Visibility
from canopy_testing.factories import ActivityFactory

# About what a team post looks like: a few sentences, two mentions, two hashtags.
POST_CONTENT = (
    "Shipped the new onboarding flow to everyone in the EU region this morning. "
    "Thanks @bob and @chen for the late-night reviews; the rollout dashboard is linked in "
    "the release notes. Please report anything odd in the #release channel before Friday so "
    "we can fold the fixes into the next train. #release #platform"
)


def team_post(factory: ActivityFactory | None = None) -> StrictActivity:
    """A canonical ``Create`` of a ``Note`` posted into a private group, with mentions and
    hashtags: the activity most consumers see most often."""
    f = factory or ActivityFactory()
    ada, bob, chen = f.user("ada"), f.user("bob"), f.user("chen")
    team = f.group("Platform", owner=ada, visibility=Visibility.GROUP)
    return f.post(
        ada, POST_CONTENT, group=team, mentions=[bob, chen], hashtags=["release", "platform"]
    )
