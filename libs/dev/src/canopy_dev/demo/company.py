"""The demo company, generated deterministically: people, groups and who follows whom.

:func:`build_company` gives the same company for the same ``seed`` in any process (a seeded
:class:`random.Random`, never set iteration order), so the seeder can apply it twice and
recognise everything the first run created. Posts, questions, reactions and tasks come from
:mod:`canopy_dev.demo.content`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

from canopy_dev.demo.catalog import DEPARTMENTS, FIRST_NAMES, INTERESTS, LAST_NAMES, LOCATIONS
from canopy_dev.demo.content import write_content
from canopy_dev.demo.model import Bot, Company, Group, JoinPolicy, Person, Visibility

DEFAULT_TENANT = "acme"
DEFAULT_SEED = 2024
EMAIL_DOMAIN = "acme.example"  # .example is reserved (RFC 2606): no mail ever leaves
# This week's joiners (one per team named here): the HR system announces them upstream.
JOINER_TEAMS = ("Platform", "Search", "Support", "Sales Americas", "Design", "Talent")
BOTS = (
    Bot("workday-bot", "Workday", "workday"),
    Bot("jira-bot", "Jira", "jira"),
    Bot("servicenow-bot", "ServiceNow", "servicenow"),
)


class _Staff:
    """Hands out unique names and builds people with a seeded random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: list[Person] = []
        self._names = self._unique_names()

    def _unique_names(self) -> Iterator[tuple[str, str]]:
        pairs = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
        self.rng.shuffle(pairs)
        return iter(pairs)

    def hire(
        self,
        title: str,
        department: str,
        team: str,
        manager: Person | None,
        skills: tuple[str, ...],
        location: str,
        roles: tuple[str, ...] = (),
    ) -> Person:
        first, last = next(self._names)
        handle = f"{first}.{last}".lower()
        person = Person(
            id=handle,
            display_name=f"{first} {last}",
            title=title,
            department=department,
            team=team,
            location=location,
            skills=skills,
            interests=tuple(sorted(self.rng.sample(INTERESTS, self.rng.randint(1, 3)))),
            manager_id=manager.id if manager else None,
            email=f"{handle}@{EMAIL_DOMAIN}",
            roles=roles,
        )
        self.people.append(person)
        return person

    def place(self, home: str) -> str:
        """Most of a team sits in its home office; the rest anywhere."""
        return home if self.rng.random() < 0.7 else self.rng.choice(LOCATIONS)


# Roles given to one person each: (team, title) → roles.
_ROLE_HOLDERS = {
    ("People Operations", "People Analyst"): ("analyst",),
    ("People Operations", "People Operations Lead"): ("moderator",),
    ("Security", "Security Lead"): ("moderator",),
    ("IT & Security", "Head of IT & Security"): ("tenant_admin",),
}


def _people(rng: random.Random) -> list[Person]:
    staff = _Staff(rng)
    ceo = staff.hire(
        "Chief Executive Officer",
        "Executive",
        "Executive",
        None,
        ("strategy", "fundraising"),
        "London",
    )
    staff.hire(
        "Chief of Staff", "Executive", "Executive", ceo, ("operations", "strategy"), "London"
    )
    for dept in DEPARTMENTS:
        head_roles = _ROLE_HOLDERS.get((dept.name, dept.head_title), ())
        head = staff.hire(
            dept.head_title,
            dept.name,
            dept.name,
            ceo,
            dept.head_skills,
            rng.choice(LOCATIONS[:4]),
            head_roles,
        )
        for team in dept.teams:
            home = rng.choice(LOCATIONS)
            lead_roles = _ROLE_HOLDERS.get((team.name, team.lead_title), ())
            lead_skills = tuple(sorted(rng.sample(team.skills, 2)))
            lead = staff.hire(
                team.lead_title,
                dept.name,
                team.name,
                head,
                lead_skills,
                staff.place(home),
                lead_roles,
            )
            weights = [len(team.titles) - i for i in range(len(team.titles))]
            for index in range(team.size):
                title = rng.choices(team.titles, weights)[0]
                if index == 0 and (team.name, "People Analyst") in _ROLE_HOLDERS:
                    title = "People Analyst"  # the tenant's analyst
                if index == 0 and team.key == "platform":
                    title = "Senior Software Engineer"  # the guide's reader
                skills = tuple(sorted(rng.sample(team.skills, rng.randint(2, 3))))
                roles = _ROLE_HOLDERS.get((team.name, title), ())
                staff.hire(title, dept.name, team.name, lead, skills, staff.place(home), roles)
    return _with_joiners(staff.people)


def _with_joiners(people: list[Person]) -> list[Person]:
    """The newest member of each of :data:`JOINER_TEAMS` joins this week (through upstream)."""
    newest = {p.team: p.id for p in people if p.team in JOINER_TEAMS}
    joiners = set(newest.values())
    return [replace(p, via_upstream=True) if p.id in joiners else p for p in people]


def reader_of(people: list[Person]) -> str:
    """The guide's reader: the Platform team's first engineer (busy feed, many mentions)."""
    return next(
        p.id
        for p in people
        if p.team == "Platform" and p.manager_id and p.title == "Senior Software Engineer"
    )


def _groups(rng: random.Random, people: list[Person]) -> list[Group]:
    by_team: dict[str, list[str]] = {}
    by_dept: dict[str, list[str]] = {}
    for p in people:
        by_team.setdefault(p.team, []).append(p.id)
        by_dept.setdefault(p.department, []).append(p.id)
    everyone = [p.id for p in people]
    ceo = people[0]
    heads = [p.id for p in people if p.manager_id == ceo.id]
    lead_of = {p.team: p.id for p in people if p.manager_id in heads and p.team != p.department}
    head_of = {p.department: p.id for p in people if p.id in heads}
    reader = reader_of(people)

    def some(pool: list[str], k: int, *, besides: tuple[str, ...] = ()) -> list[str]:
        left = [uid for uid in pool if uid not in besides]
        return rng.sample(left, min(k, len(left)))

    def group(
        key: str,
        name: str,
        about: str,
        visibility: Visibility,
        owner: str,
        members: list[str],
        *,
        join_policy: JoinPolicy = "open",
        admins: tuple[str, ...] = (),
        requests: tuple[str, ...] = (),
        announcements: bool = False,
    ) -> Group:
        unique = tuple(dict.fromkeys(m for m in members if m != owner))
        return Group(
            key,
            name,
            about,
            visibility,
            owner,
            unique,
            join_policy,
            admins,
            requests,
            announcements,
        )

    def skilled(*skills: str) -> list[str]:
        return [p.id for p in people if set(skills) & set(p.skills)]

    def into(interest: str) -> list[str]:
        return [p.id for p in people if interest in p.interests]

    falcon = [
        reader,
        lead_of["Product Management"],
        *by_team["Design"][1:3],
        *by_team["Mobile"][1:3],
        *by_team["Payments"][1:3],
        by_team["Brand & Content"][1],
        by_team["Sales EMEA"][1],
        by_team["Legal"][1],
    ]
    design = by_team["Design"]
    return [
        group(
            "announcements",
            "Acme Announcements",
            "Company news from the leadership team. Everyone is here.",
            "internal",
            ceo.id,
            everyone,
            admins=(people[1].id, head_of["People"]),
            announcements=True,
        ),
        group(
            "engineering",
            "Engineering",
            "Everything engineering: releases, RFCs, incidents.",
            "internal",
            head_of["Engineering"],
            [*by_dept["Engineering"], *by_team["Product Management"][:3]],
        ),
        group(
            "kubernetes",
            "Kubernetes & Cloud",
            "Clusters, Terraform, cost and the platform.",
            "public",
            lead_of["Platform"],
            [*skilled("kubernetes", "terraform", "aws"), *some(by_dept["Engineering"], 10)],
        ),
        group(
            "wins",
            "Sales Wins",
            "Closed deals and renewals. Celebrate them here!",
            "public",
            head_of["Sales"],
            [
                *by_dept["Sales"],
                *by_dept["Customer Success"],
                ceo.id,
                head_of["Finance"],
                *some(everyone, 10),
            ],
        ),
        group(
            "product-feedback",
            "Product Feedback",
            "What customers tell us, and what we do about it.",
            "internal",
            head_of["Product"],
            [*by_dept["Product"], *by_dept["Customer Success"], *some(everyone, 15)],
        ),
        group(
            "leadership",
            "Leadership Team",
            "The leadership team's working group.",
            "private",
            ceo.id,
            [people[1].id, *heads],
        ),
        group(
            "falcon",
            "Project Falcon",
            "The Q4 launch of Falcon, our mobile checkout.",
            "private",
            lead_of["Product Management"],
            falcon,
        ),
        group(
            "runners",
            "Runners Club",
            "Lunchtime runs, races and routes in every office.",
            "public",
            into("running")[0],
            [*into("running"), *some(everyone, 5)],
        ),
        group(
            "ask-it",
            "Ask IT",
            "Questions for IT: laptops, access, VPN, software.",
            "internal",
            lead_of["IT"],
            [*by_team["IT"], *by_team["Security"], *some(everyone, 60)],
        ),
        group(
            "design-critique",
            "Design Critique",
            "Weekly critique of work in progress.",
            "internal",
            design[0],
            [*design, *by_team["Product Management"][:4]],
            join_policy="request",
            admins=(design[1],),
            requests=tuple(
                some(by_dept["Engineering"] + by_dept["Marketing"], 3, besides=tuple(design))
            ),
        ),
        group(
            "new-joiners",
            "New Joiners",
            "Say hello! Onboarding tips and questions.",
            "public",
            lead_of["Talent"],
            [*[p.id for p in people if p.via_upstream], *by_dept["People"], *some(everyone, 8)],
        ),
    ]


def _follows(rng: random.Random, people: list[Person]) -> list[tuple[str, str]]:
    reports: dict[str, list[str]] = {}
    for p in people:
        if p.manager_id:
            reports.setdefault(p.manager_id, []).append(p.id)
    ceo = people[0].id
    follows: dict[tuple[str, str], None] = {}

    def follow(who: str, whom: str) -> None:
        if who != whom:
            follows[(who, whom)] = None

    # About four follows a person: enough for busy home feeds, few enough to seed quickly.
    for p in people:
        if p.manager_id and rng.random() < 0.9:
            follow(p.id, p.manager_id)
        for report in reports.get(p.id, []):
            if rng.random() < 0.3:
                follow(p.id, report)
        mates = [m for m in reports.get(p.manager_id or "", []) if m != p.id]
        for mate in rng.sample(mates, min(len(mates), rng.randint(1, 2))):
            follow(p.id, mate)
        others = [o.id for o in people if o.department != p.department]
        for other in rng.sample(others, rng.randint(0, 2)):
            follow(p.id, other)
        if rng.random() < 0.25:
            follow(p.id, ceo)
    return list(follows)


def _tag_follows(rng: random.Random, people: list[Person]) -> list[tuple[str, str]]:
    tags = {team.name: team.tags for dept in DEPARTMENTS for team in dept.teams}
    chosen: list[tuple[str, str]] = []
    for p in people:
        own = tags.get(p.team, ())
        if own and rng.random() < 0.7:
            chosen.append((p.id, rng.choice(own)))
        if rng.random() < 0.2:
            chosen.append((p.id, "allhands"))
    return chosen


def build_company(tenant: str = DEFAULT_TENANT, *, seed: int = DEFAULT_SEED) -> Company:
    """The demo company for ``tenant``: the same for the same ``seed``, in any process."""
    rng = random.Random(seed)
    people = _people(rng)
    groups = _groups(rng, people)
    follows = _follows(rng, people)
    tag_follows = _tag_follows(rng, people)
    reader = reader_of(people)
    content = write_content(random.Random(seed + 1), people, groups, reader)
    return Company(
        tenant=tenant,
        name="Acme",
        people=tuple(people),
        bots=BOTS,
        groups=tuple(groups),
        follows=tuple(follows),
        tag_follows=tuple(tag_follows),
        posts=content.posts,
        accepts=content.accepts,
        reactions=content.reactions,
        shares=content.shares,
        bot_notes=content.bot_notes,
        tasks=content.tasks,
        reader_id=reader,
        analyst_id=next(p.id for p in people if "analyst" in p.roles),
        admin_id=next(p.id for p in people if "tenant_admin" in p.roles),
    )
