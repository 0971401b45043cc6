"""Canopy's benchmarks: ``make bench`` (``python -m bench`` from the repository root).

Each benchmark is a module with a ``BENCHMARK`` (:class:`bench.harness.Benchmark`) listed in
:data:`bench.__main__.BENCHMARKS`; it returns :class:`bench.figures.Figure` values, which the
runner prints as one table and writes to ``bench/results.json`` with the machine, date, Python
version and git commit. Benchmarks measure and report; they assert nothing about speed.

To add one: write ``bench/<name>.py`` with ``async def run(ctx: BenchContext) ->
list[Figure]`` and ``BENCHMARK = Benchmark("<name>", "...", run)``, then add it to
``BENCHMARKS``. Bound every loop in count and in time.
"""
