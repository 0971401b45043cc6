"""The demo tenant: a generated company of about 200 people, seeded through the real APIs.

- :mod:`~canopy_dev.demo.company` and :mod:`~canopy_dev.demo.content` generate it,
  deterministically (people, managers, groups, follows, three days of posts, questions and
  answers, reactions, upstream tasks);
- :mod:`~canopy_dev.demo.seed` applies it over HTTP and the upstream topic, idempotently;
- :mod:`~canopy_dev.demo.traffic` keeps it busy (``make demo-traffic``);
- :mod:`~canopy_dev.demo.cli`: ``python -m canopy_dev.demo seed|traffic|guide``, and the
  seeding step of ``make up``.
"""
