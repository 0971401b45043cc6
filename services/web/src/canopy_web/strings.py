"""Every string the web client shows people, in one place (for translation): templates say
``t("key")``, code says ``t("key", name=...)``. Keys are grouped by the page that uses them."""

from __future__ import annotations

from typing import Any

STRINGS: dict[str, str] = {
    # The layout: every page
    "app.name": "Canopy",
    "app.skip": "Skip to content",
    "nav.label": "Main",
    "nav.home": "Home",
    "nav.questions": "Questions",
    "nav.groups": "Groups",
    "nav.people": "People",
    "nav.bookmarks": "Bookmarks",
    "nav.notifications": "Notifications",
    "nav.analytics": "Analytics",
    "nav.moderation": "Moderation",
    "nav.admin": "Admin",
    "nav.signed_in_as": "Signed in as {name}",
    "nav.sign_out": "Sign out",
    "bell.label": "Notifications, {count} unread",
    "bell.none": "Notifications, none unread",
    "search.label": "Search Canopy",
    "search.placeholder": "Search posts, people, groups",
    "search.submit": "Search",
    "loading": "Loading…",
    "paging.older": "Older",
    "paging.newer": "Newer",
    "time.just_now": "just now",
    # Sign-in
    "signin.title": "Sign in",
    "signin.intro": "Sign in to {tenant} on Canopy.",
    "signin.sso": "Sign in with your company account",
    "signin.dev_title": "Local sign-in",
    "signin.dev_intro": "This is a local run: sign in as anyone, no password.",
    "signin.dev_user": "Person id",
    "signin.dev_submit": "Sign in",
    "signin.dev_people": "People in {tenant}",
    "signin.dev_refused": "Local sign-in is off here.",
    "signin.not_a_person": "{user} is not an active person of {tenant}.",
    "signin.expired": "Your session has ended. Sign in again.",
    "signin.signed_out": "You have signed out.",
    "signin.failed": "Sign-in failed: {reason}",
    # Sign-in through the company's OpenID provider (pages/oidc.py)
    "signin.oidc_state": (
        "the sign-in took too long or was not started in this browser. Please try again."
    ),
    "signin.oidc_denied": "your company's sign-in service said: {error}",
    "signin.oidc_invalid": "the answer from your company's sign-in service could not be verified.",
    "signin.oidc_no_claim": (
        "your company account does not say which Canopy person you are ({claim})."
    ),
    "signin.oidc_unverified": "your company account's e-mail address {email} is not verified.",
    "signin.oidc_other_domain": "{email} is not an address of this company.",
    "signin.provider_down": "Your company's sign-in service is not answering just now.",
    # Errors
    "error.title": "Something went wrong",
    "error.400": "That request was not valid.",
    "error.403": "You may not see this.",
    "error.404": "There is nothing here.",
    "error.409": "That conflicts with what is already there.",
    "error.413": "That is too large.",
    "error.422": "Please check what you entered.",
    "error.503": "A part of Canopy is not answering just now. Try again in a few seconds.",
    "error.csrf": (
        "This form has expired or did not come from Canopy. Reload the page and try again."
    ),
    "error.home": "Back to your feed",
    "error.from_service": "The service said: {detail}",
    # Posts wherever they show
    "post.by": "by {name}",
    "post.in_group": "in {group}",
    "post.open": "Open the thread",
    "post.question": "Question",
    "post.announcement": "Announcement",
    "post.answered": "Answered",
    "post.replies": "{count} replies",
    # Home
    "home.title": "Home",
    "home.feed": "Your feed",
    "home.empty": "Nothing here yet. Follow people, join groups or write the first post.",
}


def t(key: str, /, **values: Any) -> str:
    """The string ``key``, with ``values`` filled in."""
    text = STRINGS[key]
    return text.format(**values) if values else text
