"""Benchmark and load-test tooling, never installed in production.

``seed/`` generates a realistic area with N cases (``manage.py seed_benchmark``),
``loadtest/`` measures pages in-process (``measure_benchmark``) and under gunicorn with wrk
(``load_benchmark``). The app, and so its commands, exists only under ``benchmarks.settings``
(and the test settings): ``governance.settings``, what a deployment runs, does not list it.
"""
