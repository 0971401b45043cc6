"""The write API's routers, in the order they are mounted: those a platform or tenant admin
calls to provision tenants and people (no person of the tenant needed), then those of
people acting in their tenant."""

from canopy_ingestion.api import (
    audit,
    bookmarks,
    content_policy,
    conversations,
    exports,
    graph,
    group_pages,
    groups,
    join_requests,
    moderation,
    people,
    pins,
    posts,
    questions,
    tenants,
    threads,
)

PROVISIONING_ROUTERS = [tenants.router, people.provisioning]
ROUTERS = [
    people.router,
    groups.router,
    group_pages.router,
    pins.router,
    join_requests.router,
    graph.router,
    posts.router,
    threads.router,
    questions.router,
    bookmarks.router,
    conversations.router,
    moderation.router,
    audit.router,
    content_policy.router,
    exports.router,
]
