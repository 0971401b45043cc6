"""What ``make up`` prints after seeding: where the services are and what to try, copy-paste."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from canopy_dev.demo.model import Company

JSON = "python3 -m json.tool"
# A question the demo company asked before (texts.QUESTIONS), in words it never used.
ASKING = "How can I look into why my database is so slow?"


def _curl(port: int, path: str, variable: str) -> str:
    return f"curl -s 'localhost:{port}{path}' -H \"Authorization: Bearer ${variable}\" | {JSON}"


def _curl_var(port: int, path: str, variable: str) -> str:
    """:func:`_curl` of a path naming shell variables (double quotes)."""
    return f'curl -s "localhost:{port}{path}" -H "Authorization: Bearer ${variable}" | {JSON}'


def _first_id(port: int, path: str, variable: str, name: str) -> str:
    """``NAME=<id of the first item>`` of a list route."""
    pick = 'python3 -c \'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])\''
    return (
        f"{name}=$(curl -s 'localhost:{port}{path}' -H \"Authorization: Bearer ${variable}\" "
        f"| {pick})"
    )


def _token(company: Company, variable: str, user: str, roles: str) -> str:
    return f"{variable}=$(make -s token TENANT={company.tenant} USER={user} ROLES={roles})"


def guide(company: Company, ports: Mapping[str, int]) -> str:
    """How to get a token, and commands showing the demo's home feed, notifications and
    analytics for real people of ``company`` (the services answer on ``ports``)."""
    reader = company.person(company.reader_id)
    analyst = company.person(company.analyst_id)
    admin = company.person(company.admin_id)
    posts = len(company.posts)
    lines = [
        f"Demo tenant {company.tenant}: {len(company.people)} people, {len(company.groups)} "
        f"groups, {posts} posts, replies and answers, {len(company.tasks)} tasks falling due.",
        "",
        "# In a browser: pick anyone at the sign-in page, or go straight in",
        *(
            f"  {who:<8} http://127.0.0.1:{ports['web']}/auth/dev?user={quote(person.id)}"
            f"  ({person.display_name})"
            for who, person in (("reader", reader), ("analyst", analyst), ("admin", admin))
            if "web" in ports
        ),
        "",
        f"A token for anyone: make token TENANT={company.tenant} USER=<user id> "
        "ROLES=member[,analyst,...]",
        "",
        f"# {reader.display_name} ({reader.title}, {reader.team}): home feed and notifications",
        _token(company, "READER", reader.id, "member"),
        _curl(ports["fanout"], "/v1/feeds/home?limit=3", "READER"),
        _curl(ports["notify"], "/v1/notifications?limit=5", "READER"),
        "# ... a question she may see with its accepted answer, and the whole thread",
        _first_id(ports["ingestion"], "/v1/questions?status=accepted&limit=1", "READER", "Q"),
        _curl_var(ports["ingestion"], "/v1/posts/$Q/context", "READER"),
        "# ... what she is about to ask, asked before in other words (answered ones marked),",
        "# ... a search (stemmed: 'ship' finds 'Shipped') and experts for the same question",
        _curl(ports["analytics"], f"/v1/questions/similar?text={quote(ASKING)}", "READER"),
        _curl(ports["analytics"], "/v1/search?q=ship%20production&limit=3", "READER"),
        _curl(ports["analytics"], f"/v1/people/experts?text={quote(ASKING)}", "READER"),
        "# ... her first group: its page (detail, members, pins) and its feed",
        _first_id(ports["ingestion"], "/v1/groups?mine=true&limit=1", "READER", "G"),
        _curl_var(ports["ingestion"], "/v1/groups/$G", "READER"),
        _curl_var(ports["ingestion"], "/v1/groups/$G/members?limit=5", "READER"),
        _curl_var(ports["fanout"], "/v1/feeds/groups/$G?limit=3", "READER"),
        "",
        f"# {analyst.display_name} ({analyst.title}): the tenant's analytics, trending hashtags",
        _token(company, "ANALYST", analyst.id, "member,analyst"),
        _curl(ports["analytics"], "/v1/analytics/summary?period=7d", "ANALYST"),
        _curl(ports["analytics"], "/v1/analytics/trending?limit=5", "ANALYST"),
        "",
        f"# {admin.display_name} ({admin.title}) is the tenant admin: ROLES=member,tenant_admin",
        "",
        "More activity: make demo-traffic (until Ctrl-C)",
        "Stop it all:   make down",
    ]
    return "\n".join(lines)
