"""What the demo company is made of: names, departments and teams, places, skills, interests."""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = (
    "Ada", "Aiko", "Alejandro", "Amara", "Amir", "Ana", "Anders", "Ayesha", "Bao", "Beatriz",
    "Ben", "Camille", "Carlos", "Chen", "Chioma", "Clara", "Daniel", "Dara", "David", "Diego",
    "Elena", "Emeka", "Emma", "Farah", "Felix", "Fatima", "Freya", "Gabriel", "Grace", "Hana",
    "Hugo", "Ines", "Isaac", "Jamal", "Javier", "Jin", "Jonas", "Julia", "Kai", "Kavya",
    "Kenji", "Kofi", "Lars", "Laura", "Leila", "Liam", "Lina", "Lucas", "Maya", "Mateo",
    "Mei", "Mia", "Mohammed", "Nadia", "Naomi", "Nikhil", "Nina", "Noah", "Olga", "Omar",
    "Oscar", "Priya", "Rafael", "Rania", "Ravi", "Rosa", "Sakura", "Samuel", "Sara", "Sofia",
    "Tariq", "Theo", "Tomas", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zainab", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abe", "Adeyemi", "Ahmed", "Alvarez", "Andersen", "Bauer", "Bianchi", "Brown", "Campbell",
    "Chen", "Costa", "Cruz", "Dubois", "Eriksson", "Fernandes", "Fischer", "Garcia", "Gupta",
    "Haddad", "Hansen", "Hoang", "Hughes", "Ibrahim", "Ito", "Jensen", "Johnson", "Kaur",
    "Kim", "Kowalski", "Kumar", "Larsen", "Laurent", "Lee", "Lopez", "Mendes", "Meyer",
    "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Obi", "Okafor", "Olsen", "Park",
    "Patel", "Pereira", "Petrov", "Quinn", "Rossi", "Santos", "Sato", "Schmidt", "Sharma",
    "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Torres", "Tran", "Varga", "Wagner",
    "Walker", "Wang", "Weber", "Williams", "Wong", "Yamamoto", "Young", "Zhang", "Zielinski",
)  # fmt: skip
LOCATIONS = ("London", "Berlin", "New York", "Toronto", "Lisbon", "Singapore", "Remote")
INTERESTS = (
    "running", "cycling", "climbing", "photography", "cooking", "board games", "chess",
    "jazz", "gardening", "science fiction", "podcasts", "languages", "yoga", "coffee",
    "football", "hiking", "volunteering", "baking",
)  # fmt: skip


@dataclass(frozen=True)
class Team:
    """A team under a department head: its lead's title, its members' titles and skills."""

    key: str
    name: str
    department: str
    lead_title: str
    titles: tuple[str, ...]
    size: int  # members besides the lead
    skills: tuple[str, ...]
    tags: tuple[str, ...]  # hashtags its people write and follow


@dataclass(frozen=True)
class Department:
    name: str
    head_title: str
    head_skills: tuple[str, ...]
    teams: tuple[Team, ...]


def _eng(key: str, name: str, size: int, skills: tuple[str, ...], tags: tuple[str, ...]) -> Team:
    titles = ("Software Engineer", "Senior Software Engineer", "Staff Engineer")
    return Team(
        key, name, "Engineering", f"Engineering Manager, {name}", titles, size, skills, tags
    )


DEPARTMENTS = (
    Department(
        "Engineering",
        "VP Engineering",
        ("architecture", "hiring", "go"),
        (
            _eng(
                "platform",
                "Platform",
                12,
                ("kubernetes", "go", "terraform", "postgres"),
                ("platform", "kubernetes"),
            ),
            _eng(
                "search",
                "Search",
                9,
                ("python", "elasticsearch", "machine learning"),
                ("search", "python"),
            ),
            _eng("mobile", "Mobile", 10, ("swift", "kotlin", "react native"), ("mobile", "ios")),
            _eng("payments", "Payments", 9, ("java", "postgres", "kafka"), ("payments", "kafka")),
            _eng("data", "Data", 10, ("python", "spark", "dbt", "sql"), ("data", "python")),
            Team(
                "sre",
                "SRE",
                "Engineering",
                "SRE Manager",
                ("Site Reliability Engineer", "Senior Site Reliability Engineer"),
                7,
                ("kubernetes", "prometheus", "incident response", "terraform"),
                ("reliability", "oncall"),
            ),
        ),
    ),
    Department(
        "Product",
        "VP Product",
        ("product strategy", "roadmapping"),
        (
            Team(
                "pm",
                "Product Management",
                "Product",
                "Director of Product",
                ("Product Manager", "Senior Product Manager"),
                7,
                ("roadmapping", "user research", "analytics"),
                ("product", "roadmap"),
            ),
            Team(
                "design",
                "Design",
                "Product",
                "Head of Design",
                ("Product Designer", "Senior Product Designer", "UX Researcher"),
                7,
                ("figma", "user research", "accessibility"),
                ("design", "ux"),
            ),
        ),
    ),
    Department(
        "Sales",
        "VP Sales",
        ("negotiation", "forecasting"),
        (
            Team(
                "emea",
                "Sales EMEA",
                "Sales",
                "Sales Director, EMEA",
                ("Account Executive", "Senior Account Executive", "Sales Development Rep"),
                11,
                ("negotiation", "salesforce", "german"),
                ("sales", "wins"),
            ),
            Team(
                "americas",
                "Sales Americas",
                "Sales",
                "Sales Director, Americas",
                ("Account Executive", "Senior Account Executive", "Sales Development Rep"),
                15,
                ("negotiation", "salesforce", "spanish"),
                ("sales", "wins"),
            ),
            Team(
                "apac",
                "Sales APAC",
                "Sales",
                "Sales Director, APAC",
                ("Account Executive", "Sales Development Rep"),
                6,
                ("negotiation", "salesforce", "japanese"),
                ("sales", "wins"),
            ),
        ),
    ),
    Department(
        "Marketing",
        "Chief Marketing Officer",
        ("brand", "positioning"),
        (
            Team(
                "growth",
                "Growth",
                "Marketing",
                "Growth Lead",
                ("Growth Marketer", "Marketing Analyst"),
                7,
                ("seo", "analytics", "experimentation"),
                ("marketing", "growth"),
            ),
            Team(
                "brand",
                "Brand & Content",
                "Marketing",
                "Content Lead",
                ("Content Writer", "Brand Designer", "Events Manager"),
                6,
                ("copywriting", "video", "events"),
                ("marketing", "brand"),
            ),
        ),
    ),
    Department(
        "Customer Success",
        "VP Customer Success",
        ("customer success", "renewals"),
        (
            Team(
                "support",
                "Support",
                "Customer Success",
                "Support Manager",
                ("Support Engineer", "Senior Support Engineer"),
                14,
                ("zendesk", "troubleshooting", "sql"),
                ("support", "customers"),
            ),
            Team(
                "onboarding",
                "Onboarding",
                "Customer Success",
                "Onboarding Lead",
                ("Customer Success Manager", "Implementation Consultant"),
                6,
                ("training", "salesforce", "project management"),
                ("customers", "onboarding"),
            ),
        ),
    ),
    Department(
        "People",
        "Head of People",
        ("people operations", "coaching"),
        (
            Team(
                "peopleops",
                "People Operations",
                "People",
                "People Operations Lead",
                ("People Partner", "People Analyst", "People Operations Specialist"),
                5,
                ("employment law", "people analytics", "workday"),
                ("people", "wellbeing"),
            ),
            Team(
                "talent",
                "Talent",
                "People",
                "Talent Lead",
                ("Recruiter", "Senior Recruiter", "Recruiting Coordinator"),
                5,
                ("recruiting", "interviewing", "employer branding"),
                ("hiring", "people"),
            ),
        ),
    ),
    Department(
        "Finance",
        "Chief Financial Officer",
        ("finance", "fundraising"),
        (
            Team(
                "finance",
                "Finance",
                "Finance",
                "Finance Controller",
                ("Financial Analyst", "Accountant", "FP&A Analyst"),
                7,
                ("excel", "forecasting", "netsuite"),
                ("finance", "budget"),
            ),
            Team(
                "legal",
                "Legal",
                "Finance",
                "General Counsel",
                ("Legal Counsel", "Paralegal"),
                4,
                ("contracts", "privacy", "gdpr"),
                ("legal", "privacy"),
            ),
        ),
    ),
    Department(
        "IT & Security",
        "Head of IT & Security",
        ("security", "it operations"),
        (
            Team(
                "it",
                "IT",
                "IT & Security",
                "IT Manager",
                ("IT Support Specialist", "Systems Administrator"),
                5,
                ("okta", "macos", "networking"),
                ("it", "helpdesk"),
            ),
            Team(
                "security",
                "Security",
                "IT & Security",
                "Security Lead",
                ("Security Engineer", "Senior Security Engineer"),
                5,
                ("threat modeling", "aws", "incident response"),
                ("security", "privacy"),
            ),
        ),
    ),
)

# Customers and launches the posts talk about (fictional).
CUSTOMERS = (
    "Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Foods", "Hooli",
    "Soylent Labs", "Vandelay Imports", "Cyberdyne Retail", "Tyrell Energy", "Wonka Brands",
)  # fmt: skip
FEATURES = (
    "dark mode", "bulk export", "saved searches", "SSO for all plans", "the new onboarding flow",
    "offline mode", "audit log", "usage dashboards", "smart notifications", "faster checkout",
)  # fmt: skip
