"""The write API's routers, in the order they are mounted."""

from canopy_ingestion.api import audit, graph, groups, join_requests, people, posts, tenants

ROUTERS = [
    tenants.router,
    people.router,
    groups.router,
    join_requests.router,
    graph.router,
    posts.router,
    audit.router,
]
