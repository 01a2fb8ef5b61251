"""Test settings: the same as production code paths, with a fast hasher."""

from .settings import *  # noqa: F403

# The benchmark app is tested, though no deployment installs it (see benchmarks.settings).
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# One process: the local cache is shared as Redis is in production, sessions as there.
SESSION_ENGINE = "governance.sessions"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Serve static files from the app folders (no collectstatic) for live-server browser tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
# Two-factor sign-in is optional in the suite so that tests signing staff in with force_login()
# reach their pages; tests/communities/test_two_factor.py sets the production default back.
TWO_FACTOR_REQUIRED_ROLES = []
