"""What the demo company wrote over the last three days, and the tasks falling due.

Pure and deterministic: a seeded :class:`random.Random` picks authors, templates
(:mod:`canopy_dev.demo.texts`), mentions, replies, answers and reactions, always among
people who may see the post (its group's members, or everyone for a post outside groups).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import timedelta

from canopy_dev.demo import texts
from canopy_dev.demo.catalog import CUSTOMERS, DEPARTMENTS, FEATURES
from canopy_dev.demo.model import (
    Accept,
    BotNote,
    Group,
    Person,
    Post,
    PostKind,
    Reaction,
    ReactionKind,
    Share,
    Task,
)

DAYS = (2, 1, 0)  # two days ago, yesterday, today
NOTES_PER_DAY = 20
QUESTIONS_PER_DAY = 3
MENTION = re.compile(r"@([a-z0-9][a-z0-9._-]*[a-z0-9])")
HASHTAG = re.compile(r"#(\w+)")
_TEAM_TAGS = {team.name: team.tags for dept in DEPARTMENTS for team in dept.teams}
# Where a department's notes go when they go into a group (else: outside groups, internal).
_HOME_GROUP = {"Engineering": "engineering", "Product": "product-feedback"}


@dataclass(frozen=True)
class Content:
    posts: tuple[Post, ...]
    accepts: tuple[Accept, ...]
    reactions: tuple[Reaction, ...]
    shares: tuple[Share, ...]
    bot_notes: tuple[BotNote, ...]
    tasks: tuple[Task, ...]


class Writer:
    """Writes posts as the company's people would (also used by the traffic generator)."""

    def __init__(
        self, rng: random.Random, people: list[Person], groups: list[Group], reader: str
    ) -> None:
        self.rng = rng
        self.people = {p.id: p for p in people}
        self.staff = [p.id for p in people if not p.via_upstream]
        self.joiners = [p.id for p in people if p.via_upstream]
        self.groups = {g.key: g for g in groups}
        self.reader = reader
        self.mates: dict[str, list[str]] = {}
        for p in people:
            self.mates.setdefault(p.manager_id or "", []).append(p.id)
        self.posts: list[Post] = []
        self.accepts: list[Accept] = []
        # The questions asked, in order: each is asked again in other words today (reask).
        self.asked: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        self.reactions: list[Reaction] = []
        self.shares: list[Share] = []
        self._count = 0

    # who may see what ---------------------------------------------------------------------

    def viewers(self, group_key: str | None) -> list[str]:
        return list(self.groups[group_key].everyone) if group_key else list(self.people)

    def member_of(self, user_id: str, group_key: str) -> bool:
        return user_id in self.groups[group_key].everyone

    def someone(self, pool: list[str], *, besides: tuple[str, ...] = ()) -> str:
        return self.rng.choice([uid for uid in pool if uid not in besides])

    # writing ------------------------------------------------------------------------------

    def fill(self, template: str, author: str, viewers: list[str], **given: str) -> str:
        person = self.people[author]
        mates = [m for m in self.mates[person.manager_id or ""] if m != author and m in viewers]
        mate = self.rng.choice(mates or [v for v in viewers if v != author])
        if self.reader in viewers and author != self.reader and self.rng.random() < 0.25:
            mate = self.reader  # the guide's reader gets mentioned now and then
        values = {
            "mate": f"@{mate}",
            "customer": self.rng.choice(CUSTOMERS),
            "feature": self.rng.choice(FEATURES),
            "tag": self.rng.choice(_TEAM_TAGS.get(person.team, ("general",))),
            "skill": self.rng.choice(person.skills),
            "city": person.location if person.location != "Remote" else "London",
            "team": person.team,
            **given,
        }
        return template.format(**values)

    def post(
        self,
        author: str,
        content: str,
        day: int,
        *,
        kind: PostKind = "note",
        group_key: str | None = None,
        reply_to: str | None = None,
        name: str | None = None,
    ) -> Post:
        self._count += 1
        key = f"d{day}-{self._count:03d}" if reply_to is None else f"{reply_to}-{self._count:03d}"
        written = Post(
            key=key,
            author_id=author,
            content=content,
            day=day,
            kind=kind,
            group_key=group_key,
            reply_to=reply_to,
            name=name,
            mentions=tuple(dict.fromkeys(MENTION.findall(content))),
            hashtags=tuple(dict.fromkeys(tag.lower() for tag in HASHTAG.findall(content))),
        )
        self.posts.append(written)
        return written

    def note(self, author: str, day: int, template: str | None = None) -> Post:
        dept = self.people[author].department
        if template is None:
            own = texts.NOTES.get(dept, ())
            # Mostly about their work; now and then about anything.
            pool = own if own and self.rng.random() < 0.75 else texts.NOTES["*"]
            template = self.rng.choice(pool)
        group_key = None
        if "#wins" in template and self.member_of(author, "wins"):
            group_key = "wins"
        elif dept in _HOME_GROUP and self.rng.random() < 0.4:
            group_key = _HOME_GROUP[dept]
        content = self.fill(template, author, self.viewers(group_key))
        return self.post(author, content, day, group_key=group_key)

    def replies(self, parent: Post, count: int, pool: tuple[str, ...] = texts.REPLIES) -> None:
        viewers = self.viewers(parent.group_key)
        for _ in range(count):
            author = self.someone(viewers, besides=(parent.author_id,))
            template = self.rng.choice(pool)
            content = self.fill(template, author, viewers, op=f"@{parent.author_id}")
            self.post(author, content, parent.day, group_key=parent.group_key, reply_to=parent.key)

    def question(self, day: int, asked: tuple[str, tuple[str, ...], tuple[str, ...]]) -> None:
        text, teams, answers = asked
        experts = [uid for uid in self.staff if self.people[uid].team in teams]
        author = self.someone(self.staff, besides=tuple(experts))
        self.asked.append(asked)
        group_key = None
        if "#it" in text and self.member_of(author, "ask-it"):
            group_key = "ask-it"
        elif "#kubernetes" in text and self.member_of(author, "kubernetes"):
            group_key = "kubernetes"
        if group_key:
            experts = [uid for uid in experts if self.member_of(uid, group_key)] or experts[:1]
        asked_post = self.post(author, text, day, kind="question", group_key=group_key)
        given = []
        for answer in answers:
            answerer = self.someone(experts, besides=(author,))
            given.append(
                self.post(
                    answerer,
                    answer,
                    day,
                    kind="answer",
                    group_key=group_key,
                    reply_to=asked_post.key,
                )
            )
        if self.rng.random() < 0.75:
            self.accepts.append(Accept(asked_post.key, given[0].key))
        self.react(asked_post, self.rng.randint(1, 4))
        for answer_post in given:
            self.react(answer_post, self.rng.randint(0, 5), kinds=("insightful", "like"))

    def react(self, post: Post, count: int, kinds: tuple[ReactionKind, ...] = ()) -> None:
        viewers = [v for v in self.viewers(post.group_key) if v != post.author_id]
        if not kinds:
            kinds = ("celebrate", "like") if "#wins" in post.content else ("like", "insightful")
            kinds += ("support",) if post.kind == "announcement" else ()
        for user_id in self.rng.sample(viewers, min(count, len(viewers))):
            kind = kinds[0] if self.rng.random() < 0.6 else self.rng.choice(kinds)
            self.reactions.append(Reaction(post.key, user_id, kind))

    # the three days -----------------------------------------------------------------------

    def write(self) -> None:
        questions = list(texts.QUESTIONS)
        self.rng.shuffle(questions)
        for day in DAYS:
            top: list[Post] = []
            if day == 2:
                top.append(
                    self.post(
                        self.first_of("Executive"),
                        texts.LEADERSHIP_NOTE,
                        day,
                        group_key="leadership",
                    )
                )
            falcon = self.groups["falcon"]
            if day in (2, 1):
                template = texts.FALCON_NOTES[2 - day]
                content = self.fill(template, falcon.owner_id, list(falcon.everyone))
                top.append(self.post(falcon.owner_id, content, day, group_key="falcon"))
            if day in (2, 0):
                top.append(self.note(self.reader, day, texts.READER_NOTES[day // 2]))
            if day == 1:
                title, body = texts.ARTICLE
                author = self.groups["kubernetes"].owner_id
                top.append(
                    self.post(
                        author, body, day, kind="article", group_key="engineering", name=title
                    )
                )
            for title, on_day, content in texts.ANNOUNCEMENTS:
                if on_day == day:
                    author = next(p.id for p in self.people.values() if p.title == title)
                    announced = self.post(
                        author, content, day, kind="announcement", group_key="announcements"
                    )
                    self.react(announced, self.rng.randint(25, 50))
                    self.replies(announced, self.rng.randint(2, 4))
            if day == 0:
                top += [self.intro(joiner) for joiner in self.joiners]
            top += [self.note(self.someone(self.staff), day) for _ in range(NOTES_PER_DAY)]
            for _ in range(QUESTIONS_PER_DAY):
                self.question(day, questions.pop())
            for post in top:
                busy = post.author_id == self.reader
                self.react(post, self.rng.randint(8, 15) if busy else self.rng.randint(1, 10))
                if busy or self.rng.random() < 0.6:
                    pool = texts.WIN_REPLIES if "#wins" in post.content else texts.REPLIES
                    pool = texts.WELCOME_REPLIES if "#newjoiners" in post.content else pool
                    self.replies(
                        post, self.rng.randint(2, 4) if busy else self.rng.randint(1, 3), pool
                    )
        for text, teams, _ in self.asked:
            self.reask(texts.REASKED[text], teams)
        self.share_some()

    def reask(self, text: str, teams: tuple[str, ...]) -> None:
        """``text`` asked today, outside groups, by someone outside ``teams``, unanswered."""
        experts = tuple(uid for uid in self.staff if self.people[uid].team in teams)
        author = self.someone(self.staff, besides=experts)
        self.react(self.post(author, text, 0, kind="question"), self.rng.randint(0, 2))

    def first_of(self, team: str) -> str:
        """The first person hired into ``team``: its lead (the CEO for Executive)."""
        return next(p.id for p in self.people.values() if p.team == team)

    def intro(self, joiner: str) -> Post:
        person = self.people[joiner]
        content = texts.JOINER_INTRO.format(
            name=person.first_name, team=person.team, title=person.title, city=person.location
        )
        return self.post(joiner, content, 0, group_key="new-joiners")

    def share_some(self) -> None:
        shareable = [p for p in self.posts if p.reply_to is None and p.group_key is None]
        for post in self.rng.sample(shareable, min(5, len(shareable))):
            sharer = self.someone(self.staff, besides=(post.author_id,))
            self.shares.append(Share(f"share-{post.key}-{sharer}", post.key, sharer))


def _tasks(
    rng: random.Random, people: list[Person], groups: list[Group], reader: str
) -> list[Task]:
    def team(name: str) -> list[str]:
        return [p.id for p in people if p.team == name and p.manager_id]

    ceo = people[0].id
    heads = [p.id for p in people if p.manager_id == ceo and p.title != "Chief of Staff"]
    managers = [p.id for p in people if p.title.startswith("Engineering Manager")]
    falcon = next(g for g in groups if g.key == "falcon")
    everyone = [p.id for p in people if p.id != reader]
    hour, day = timedelta(hours=1), timedelta(days=1)
    return [
        # Due in just over an hour: the 1 h reminder fires a few minutes after the seed.
        Task(
            "security-training",
            "workday-bot",
            "Complete the annual security training",
            "Thirty minutes, in the learning portal.",
            (reader, *rng.sample(everyone, 7)),
            65 * timedelta(minutes=1),
        ),
        Task(
            "plat-88",
            "jira-bot",
            "PLAT-88: Upgrade the staging cluster to Kubernetes 1.31",
            "Follow the upgrade runbook; announce the window in #platform.",
            (reader, rng.choice([m for m in team("Platform") if m != reader])),
            26 * hour,
        ),
        Task(
            "falcon-12",
            "jira-bot",
            "FALCON-12: Finalise the launch checklist",
            "Legal, security and support sign-offs.",
            (falcon.owner_id, *falcon.members[:2]),
            6 * hour,
            "falcon",
        ),
        Task(
            "pay-1423",
            "jira-bot",
            "PAY-1423: Fix the flaky checkout test",
            "Fails about one run in twenty on main.",
            (rng.choice(team("Payments")),),
            2 * day,
        ),
        Task(
            "sup-311",
            "jira-bot",
            "SUP-311: Follow up on the Globex escalation",
            "Customer reports slow exports since Monday.",
            tuple(rng.sample(team("Support"), 2)),
            5 * hour,
        ),
        Task(
            "expenses",
            "workday-bot",
            "Submit last month's expense reports",
            "Receipts attached, please.",
            tuple(rng.sample(team("Sales Americas"), 10)),
            3 * day,
        ),
        Task(
            "okr-review",
            "workday-bot",
            "Review the Q4 OKR draft",
            "Comments in the planning doc.",
            tuple(heads),
            day + 4 * hour,
        ),
        Task(
            "onboarding",
            "workday-bot",
            "Finish your onboarding checklist",
            "Laptop, accounts, buddy coffee and the security training.",
            tuple(p.id for p in people if p.via_upstream),
            4 * day,
        ),
        Task(
            "self-review",
            "workday-bot",
            "Write your performance self-review",
            "Two pages at most.",
            tuple(managers),
            2 * day,
        ),
    ]


def write_content(
    rng: random.Random, people: list[Person], groups: list[Group], reader: str
) -> Content:
    """Three days of posts, questions, replies and reactions, plus upstream tasks and notes."""
    writer = Writer(rng, people, groups, reader)
    writer.write()
    title, body = texts.BOT_NOTE
    return Content(
        posts=tuple(writer.posts),
        accepts=tuple(writer.accepts),
        reactions=tuple(writer.reactions),
        shares=tuple(writer.shares),
        bot_notes=(BotNote("maintenance", "servicenow-bot", "announcements", title, body),),
        tasks=tuple(_tasks(rng, people, groups, reader)),
    )
