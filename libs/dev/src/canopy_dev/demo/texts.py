"""What the demo company writes: templates for notes, replies, questions and answers.

Placeholders: ``{mate}`` a colleague's ``@handle``, ``{op}`` the replied-to author's
``@handle``, ``{customer}``, ``{feature}``, ``{tag}`` one of the team's hashtags (without
``#``), ``{skill}``, ``{city}``, ``{team}``. Nothing here may look like a secret or a card
number: the tenant's content policy would flag it.
"""

from __future__ import annotations

# Notes by department; "*" is for anyone.
NOTES: dict[str, tuple[str, ...]] = {
    "Engineering": (
        "Shipped {feature} to production today 🚀 Thanks {mate} for the thorough reviews! "
        "#release #{tag}",
        "Postmortem for Tuesday's latency spike is up. Short version: a noisy neighbour on the "
        "shared cache, fixed by moving {team} to its own pool. #postmortem #reliability",
        "Anyone else seeing flaky integration tests on main since this morning? {mate} and I "
        "are digging in. #ci #{tag}",
        "RFC: let's standardise on OpenTelemetry for tracing across services. Comments welcome "
        "until Friday. #rfc #{tag}",
        "{team} office hours are Thursday at 3pm: bring your {skill} questions! #{tag}",
        "Paired with {mate} on the {skill} migration today; we're about 70% through. #{tag}",
        "Deploys are now twice as fast thanks to the new build cache. #ci #platform",
        "Heads-up: the {team} on-call rotation changes next week, check your schedule. #oncall",
        "Demo day on Friday: {mate} will show the new {skill} tooling. #demoday #{tag}",
        "Great {skill} meetup in {city} last night, happy to share notes. #learning #{tag}",
    ),
    "Product": (
        "The Q4 roadmap draft is ready for comments. Big themes: {feature} and onboarding. "
        "#roadmap #{tag}",
        "Five customer interviews this week on {feature}: people love it, setup is confusing. "
        "Summary in the thread. #ux #{tag}",
        "New design system components for forms are live, thanks {mate}! #design",
        "We're running a beta of {feature} with {customer} next week. #product #beta",
    ),
    "Sales": (
        "Closed {customer} today: 400 seats, three-year deal! Huge team effort with {mate}. "
        "#wins #sales",
        "{customer} just signed for {feature}, our first deal in the region. #wins",
        "Pipeline review moved to Thursday this week. #sales #{tag}",
        "Tip from this week's calls: lead with the {feature} demo, it lands every time. #sales",
        "Great visit to {customer} in {city}; they want a workshop on {feature}. #sales",
    ),
    "Marketing": (
        "The launch page for {feature} is live, feedback welcome! #marketing #launch",
        "Webinar with {customer} on Thursday: 300 sign-ups so far. #marketing #{tag}",
        "Our blog post on {feature} was the most read this month, thanks {mate}! #{tag}",
    ),
    "Customer Success": (
        "{customer} renewed for another two years 🎉 Thanks {mate} for the QBR prep. "
        "#customers #wins",
        "Support backlog is under 20 tickets for the first time this quarter. #support",
        "Top request from customers this week: {feature}. Logged in product feedback. "
        "#customers #{tag}",
        "Ran onboarding training for {customer} in {city} today. #onboarding #customers",
    ),
    "People": (
        "Reminder: mentoring programme sign-ups close Friday. #people #learning",
        "We hired 12 people this month across five teams, welcome all! #hiring #people",
        "New wellbeing budget guidelines are on the intranet. #wellbeing #people",
        "Interview training sessions are open: thanks {mate} for running them. #hiring",
    ),
    "Finance": (
        "Expense reports for last month are due this Friday, please submit them. #finance",
        "Q3 numbers are closed: thanks everyone for the quick turnaround. #finance #budget",
        "Updated travel policy: economy for flights under six hours. #finance",
        "Budget planning for next year kicks off Monday: templates are in the finance drive. "
        "#budget",
    ),
    "IT & Security": (
        "Phishing test results are in: 94% reported it, great job everyone! #security",
        "New laptops for the {city} office arrive next week. #it #helpdesk",
        "Please update your browser today: a critical patch is out. #security #it",
        "Passkeys are now available for SSO. Setting one up takes a minute. #security",
    ),
    "*": (
        "Lunch and learn on {skill} tomorrow at noon, everyone welcome. #learning",
        "Coffee chat anyone in {city} this afternoon? #coffee",
        "Big thanks to {mate} for helping me out today, you're a star. #kudos",
        "Three years at Acme today. Thanks to everyone who made them fun, especially {mate}! "
        "#anniversary",
        "Book club pick for next month: Project Hail Mary. Who's in? #bookclub",
        "Reminder that the {city} office closes early on Friday for the summer party. #office",
    ),
}

# What the guide's reader (a platform engineer) writes, two days ago and today.
READER_NOTES: tuple[str, ...] = (
    "Shipped {feature} to production today 🚀 Thanks {mate} for the thorough reviews! "
    "#release #platform",
    "RFC: let's standardise on OpenTelemetry for tracing across services. Comments welcome "
    "until Friday, {mate} already found two gaps. #rfc #platform",
)

REPLIES: tuple[str, ...] = (
    "Congrats {op}! 🎉",
    "Nice work, this makes a real difference.",
    "Super helpful, thanks for sharing.",
    "+1, we hit the same thing last week.",
    "Can we add this to the onboarding docs?",
    "Love this. {mate} you should take a look.",
    "Great news! What's next?",
    "Thanks {op}, I'll follow up in the thread tomorrow.",
)
ACK_REPLIES: tuple[str, ...] = ("Thanks for the heads-up!", "Noted, thanks.", "Good to know 👍")
WIN_REPLIES: tuple[str, ...] = ("Congrats {op} and team! 🎉", "Amazing, well done!", "Huge! 🥳")
WELCOME_REPLIES: tuple[str, ...] = (
    "Welcome aboard {op}! 👋",
    "Welcome! Ping me for a coffee chat.",
)

# (question, the teams who answer, answers)
QUESTIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "How do I get access to the staging Kubernetes cluster? #kubernetes #platform",
        ("Platform", "SRE"),
        (
            "Request the staging-dev group in Okta, then run `make kubeconfig` in the infra repo.",
            "Also read the platform onboarding doc first, it covers the VPN part.",
        ),
    ),
    (
        "What's the process for requesting a new laptop? #it #helpdesk",
        ("IT",),
        (
            "Open a hardware request in ServiceNow; standard models ship in about a week.",
            "If it's urgent, we keep a few loaners in every office.",
        ),
    ),
    (
        "Is there a template for quarterly business reviews? #sales #customers",
        ("Sales EMEA", "Sales Americas", "Onboarding"),
        (
            "Yes: the QBR deck is in the Customer Success drive, latest version from August.",
            "I usually add a usage dashboard slide too, customers love it.",
        ),
    ),
    (
        "Where can I find the latest brand guidelines and logo files? #brand #design",
        ("Brand & Content", "Design"),
        ("Everything is on the brand portal, including the logo pack.",),
    ),
    (
        "Which dashboards should I look at first during an incident? #oncall #reliability",
        ("SRE", "Platform"),
        (
            "Start with the service overview dashboard, then the dependency map.",
            "The runbook for each alert links the right dashboard too.",
            "And open an incident channel early, even if it turns out to be nothing.",
        ),
    ),
    (
        "How does the referral bonus work? #hiring",
        ("Talent",),
        ("You get the bonus after your referral passes probation. Details on the careers page.",),
    ),
    (
        "What's our policy on conference travel budget? #learning",
        ("People Operations", "Finance"),
        (
            "Each person has a yearly learning budget; conferences come out of it.",
            "Book travel through the usual tool so it shows up in the budget report.",
        ),
    ),
    (
        "How do I add a new Kafka topic for my service? #kafka",
        ("Platform", "Payments"),
        (
            "Add it to the topics file in the infra repo and open a PR; we apply it on merge.",
            "Pick the partition count for your peak throughput, not today's.",
        ),
    ),
    (
        "Do we have a DPA template for EU customers? #privacy #legal",
        ("Legal",),
        ("Yes, the standard DPA is in the contracts library. Ask us before changing it.",),
    ),
    (
        "Is there a recommended way to profile slow SQL queries? #data #postgres",
        ("Data", "Platform"),
        (
            "EXPLAIN ANALYZE plus pg_stat_statements covers most cases.",
            "The data team has a query review slot on Wednesdays, bring your worst query.",
        ),
    ),
)

# The same needs asked again today in other words (by someone else, not answered yet), so the
# demo's questions find each other by meaning (`GET /v1/questions/similar`) and an unanswered
# one is routed to people who answered its twin. Keyed by the question they re-ask.
REASKED: dict[str, str] = {
    QUESTIONS[0][0]: "Who can give me credentials for the pre-production container platform?",
    QUESTIONS[1][0]: "My notebook keeps crashing: how do I order a replacement computer?",
    QUESTIONS[2][0]: "Does anyone have slides I can reuse for a client's three-monthly account "
    "review?",
    QUESTIONS[3][0]: "Where do I get the official company colours and our logo in high resolution?",
    QUESTIONS[4][0]: "Our service is down right now: which graphs tell me what is broken?",
    QUESTIONS[5][0]: "If a friend I recommend gets hired, do I get paid something?",
    QUESTIONS[6][0]: "Can the company pay for my trip to a tech summit?",
    QUESTIONS[7][0]: "I need a new event stream for my microservice: how do I create one?",
    QUESTIONS[8][0]: "A European client wants a data processing agreement: do we have a standard "
    "one?",
    QUESTIONS[9][0]: "My Postgres query takes ages: what tools help me find out why?",
}

ANNOUNCEMENTS = (
    (
        "Chief Executive Officer",
        0,
        "All-hands this Friday at 4pm CET: Q3 results, the Falcon launch plan and a few "
        "surprises. Questions welcome in the thread! #allhands",
    ),
    (
        "Head of People",
        1,
        "Benefits open enrollment is now open and closes next Friday. The new plans include "
        "a bigger learning budget. #benefits #people",
    ),
)
ARTICLE = (
    "How we cut our CI time in half",
    "We moved to a shared build cache, split the slowest suites and now run them in parallel. "
    "Median pipeline time went from 22 to 11 minutes. Details and graphs below. #ci #platform",
)
JOINER_INTRO = (
    "Hi everyone! I'm {name}, I just joined {team} as {title}, based in {city}. "
    "Excited to be here! #newjoiners"
)
FALCON_NOTES = (
    "Falcon beta sign-ups passed 1,000 today. Launch checklist review on Monday. #falcon",
    "Updated the Falcon launch timeline: code freeze moves one week to fit the security "
    "review. {mate} please double-check the legal items. #falcon",
)
LEADERSHIP_NOTE = "Board deck draft is ready for review before Thursday. #leadership"
BOT_NOTE = (
    "Scheduled maintenance",
    "VPN and SSO will be unavailable on Saturday from 06:00 to 08:00 UTC while we upgrade the "
    "identity provider. #it #maintenance",
)
