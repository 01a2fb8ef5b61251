"""Settings for ``manage.py load_benchmark``'s gunicorn: the portal's, plus the bare view, rate limits off.

Never used by a deployment: only the load command sets DJANGO_SETTINGS_MODULE to this module,
so the bare view (``/bench/bare/``) exists in no other configuration.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from benchmarks.settings import *  # noqa: F403
from benchmarks.settings import STORAGES

if "LOADTEST_STATIC_ROOT" not in os.environ:
    raise ImproperlyConfigured("benchmarks.loadtest.settings is for manage.py load_benchmark only.")

ROOT_URLCONF = "benchmarks.loadtest.urls"
# One address sends every request of the load: the per-address limits would refuse almost all.
RATELIMIT_ENABLE = False
# Static files hashed into a throwaway folder by the command (production's storage also compresses;
# the pages look names up in the manifest the same way).
STATIC_ROOT = os.environ["LOADTEST_STATIC_ROOT"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
