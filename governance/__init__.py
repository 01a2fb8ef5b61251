"""The project package (settings, root URLs) and the coordination app, the last of the four apps.

Map, for a newcomer (imports point one way: communities ← cases ← volunteers ← governance;
inside governance an area may use another, never both ways round: tests/test_layout.py):

- Project: ``settings.py`` (from the environment; ``settings_test.py`` for pytest), ``urls.py``
  (every app's addresses; ``urls_dashboards``, ``urls_coordination``, ``urls_proactive`` for
  this app's own), ``wsgi.py`` / ``asgi.py``, ``middleware.py``, ``cache.py``, ``views.py``
  (home, /healthz, error pages).
- Data: ``models/`` — one module per area (whistles, meetings, polls, themes, projects, visits).
- Domain areas, each with its selectors (reads), services (state changes), views and forms:
  - ``coordination/`` — 一呼百应: whistles and summonses (吹哨报到), deliberation meetings
    (议事协商), household consent polls;
  - ``projects/`` — 民生项目清单: the livelihood project list, its public progress pages;
  - ``hotspots/`` and ``themes/`` — 未呼先应: recurring problems found in the cases, and the
    monthly theme (每月一题) adopted from them;
  - ``visits/`` — home visits (入户走访) and the needs they record.
- Dashboards: ``dashboards/`` — the tier dashboards and monthly assessment (三率, ranking):
  ``selectors`` counts, ``sections`` adds the other areas' figures, ``presentation`` shapes
  rows for the page and ``exports`` (.xlsx, print).
- Shared by those areas: ``links.py`` (case-queue addresses behind a number), ``months.py``
  (the month picker), ``formats.py`` (percentages).
- API: ``api/`` — the REST API (/api/v1/, its schema and docs) and ``api/open311/`` (/open311/v2/).
- Demo data: ``coordination_demo.py``, ``proactive_demo.py``, ``projects/demo.py``, and the
  ``load_demo`` command (``management/commands``).

Benchmark and load-test tooling is not here: it is the ``benchmarks`` app, installed only by
``benchmarks.settings``.
"""
