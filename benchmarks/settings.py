"""The portal's settings plus the benchmark app (its commands: seed, measure and load benchmarks).

Use it for the benchmark commands only: ``DJANGO_SETTINGS_MODULE=benchmarks.settings`` (see
README, "Benchmark"). A deployment runs ``governance.settings``, which does not list the app.
"""

from governance.settings import *  # noqa: F403
from governance.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]
