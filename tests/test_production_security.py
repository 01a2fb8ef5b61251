"""Production settings (DEBUG off): HTTPS only, HSTS, secure cookies, the CSP, the lockout."""

import json

from tests.test_project import PRODUCTION_ENV, _manage

PRINT_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'hsts': s.SECURE_HSTS_SECONDS, 'ssl_redirect': s.SECURE_SSL_REDIRECT,"
    "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
    "'httponly': s.SESSION_COOKIE_HTTPONLY, 'samesite': s.SESSION_COOKIE_SAMESITE,"
    "'idle': s.SESSION_IDLE_TIMEOUT, 'browser_close': s.SESSION_EXPIRE_AT_BROWSER_CLOSE,"
    "'csp': s.CONTENT_SECURITY_POLICY['DIRECTIVES'], 'backends': s.AUTHENTICATION_BACKENDS,"
    "'middleware': s.MIDDLEWARE, 'sessions': s.SESSION_ENGINE}))"
)


def test_production_settings_are_hardened():
    result = _manage("shell", "-c", PRINT_SETTINGS, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["hsts"] >= 31536000 and values["ssl_redirect"]
    assert values["session_secure"] and values["csrf_secure"] and values["httponly"]
    assert values["samesite"] == "Lax" and values["browser_close"] and values["idle"] <= 3600
    assert values["csp"]["script-src"] == ["'self'"] and values["csp"]["style-src"] == ["'self'"]
    assert values["backends"][0] == "communities.security.LockoutBackend"
    assert values["middleware"][-1] == "axes.middleware.AxesMiddleware"
    assert values["sessions"] == "governance.sessions"  # read from Redis, written through to the database


def test_without_a_shared_cache_sessions_are_read_from_the_database():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "REDIS_URL"}
    result = _manage("shell", "-c", PRINT_SETTINGS, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["sessions"] == "django.contrib.sessions.backends.db"
