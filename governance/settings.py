"""Settings, read from the environment (see README, "Configuration").

Development defaults (SQLite file, DEBUG on, a throwaway secret) apply only when
DEBUG is on; with DEBUG off every production variable must be set or startup fails.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-not-secret-" + "x" * 40)
else:
    SECRET_KEY = env.str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # OpClass in index expressions (the search's trigram indexes); inert on SQLite
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "communities",
    "cases",
    "volunteers",
    "governance",
]

MIDDLEWARE = [
    "governance.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every answer carries the policy: also the 400 for a refused Host, which
    # CommonMiddleware raises before any later middleware sees the response.
    "governance.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, the policy built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "governance.middleware.PortalLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session's second factor
    "governance.middleware.NulCharacterMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "governance.middleware.IdleSessionMiddleware",
    "governance.middleware.SecurityLogMiddleware",
    "governance.middleware.TwoFactorMiddleware",  # after the idle check: a logged-out session has no step due
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
FORM_RENDERER = "cases.widgets.FormRenderer"  # Django's, with <select> rendered in Python (long unit pickers)
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "communities.context_processors.posts",
                "cases.queries_staff.nav_counts",
            ],
        },
    },
]

# SQLite: WAL lets readers work beside one writer, IMMEDIATE makes a writing
# transaction take the lock at BEGIN so concurrent writers queue (busy timeout)
# instead of failing with "database is locked" on lock upgrade.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "governance.cache.RedisCache",  # Django's, one client per pool
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# With a shared cache, a page reads its session from it (written through to the database, so a
# Redis restart loses nothing). Without one, each process's local cache would keep a session
# another process ended: sessions are then read from the database.
SESSION_ENGINE = "governance.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"

AUTHENTICATION_BACKENDS = [
    "communities.security.LockoutBackend",  # django-axes, first: refuses a locked-out login unchecked
    "communities.backends.ModelBackend",  # Django's, with permissions read in one query
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # residents have no account; guardian needs no anonymous user

# Password rules (also for the forced change at first sign-in): length and character classes.
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=10)
PASSWORD_MIN_CHARACTER_CLASSES = env.int("PASSWORD_MIN_CHARACTER_CLASSES", default=3)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "communities.passwords.ComplexityValidator", "OPTIONS": {"min_classes": PASSWORD_MIN_CHARACTER_CLASSES}},
]
# Two-factor sign-in (等保 2.0 level 3: administrators authenticate with two factors). Roles named
# here (communities.models.Role values, and "superuser") must use an authenticator app; others may.
TWO_FACTOR_REQUIRED_ROLES = env.list("TWO_FACTOR_REQUIRED_ROLES", default=["administrator", "superuser"])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="接诉即办")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # django-otp's own device admin never shows a secret
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "communities:workspace"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads (residents' photos) are never served as a public folder: a view checks access.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/media-not-public/"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# How many proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
# Per-IP limits on public forms read the client address this many hops from the right, and only
# when the request came from one of TRUSTED_PROXIES (addresses or networks, e.g. "10.0.0.2,10.0.1.0/24"):
# a client that reaches the app directly cannot choose its own address by writing the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# If the shared cache is down, residents can still submit (limits pause) rather than be refused.
RATELIMIT_FAIL_OPEN = env.bool("RATELIMIT_FAIL_OPEN", default=True)
# The hotspots page's six-month analysis may be shared from the cache this long (0: always fresh).
HOTSPOT_CACHE_SECONDS = env.int("HOTSPOT_CACHE_SECONDS", default=0)

# Behind a load balancer that terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A form whose CSRF check fails gets a page in plain words (the resident's report comes back filled in).
CSRF_FAILURE_VIEW = "governance.views.csrf_failure"
# Staff share office PCs: the session ends when the browser closes, after SESSION_IDLE_TIMEOUT
# seconds without a request (governance.middleware.IdleSessionMiddleware), and at the latest
# SESSION_COOKIE_AGE after the last activity was recorded. A password change ends every other
# session of that account (Django checks a hash of the password on each request).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # one working shift
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Login lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords for one account from one
# address lock that pair for AXES_COOLOFF_MINUTES (every further try restarts the clock). By
# account and address together, because a street's offices share one NAT address: locking the
# address would lock out colleagues, locking the name alone would let anyone lock out a
# secretary. An administrator unlocks in the admin (Users → "Unlock login"). The client address
# is the one the rate limits use (TRUSTED_PROXY_COUNT hops into X-Forwarded-For).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# A password spray (a few wrong passwords on each of many accounts) stays under the per-account
# limit: failed logins and refused API tokens from one address, whatever the account, lock that
# address for the rest of the window (communities.security.count_address_failure). Not axes'
# AXES_LOCKOUT_PARAMETERS: axes has one limit for every parameter set, and 5 per address would
# lock a street's offices behind one NAT address out together.
AUTH_FAILURES_PER_ADDRESS = env.int("AUTH_FAILURES_PER_ADDRESS", default=30)
AUTH_FAILURES_WINDOW_SECONDS = env.int("AUTH_FAILURES_WINDOW_SECONDS", default=15 * 60)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "communities.security.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "communities.security.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful logins need no row each; failures are in the security log
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this site only,
# no inline code or style attributes anywhere (templates keep to static/css and static/js).
# Pico's CSS draws its icons as data: SVG images, hence data: for images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Residents' personal data (name, phone, address details, contact notes, photos) of cases closed
# longer ago than this is anonymised by `manage.py anonymise_closed_cases` (run it daily); the
# statistics are kept. About three years: the assessment look-back plus appeals.
RESIDENT_DATA_RETENTION_DAYS = env.int("RESIDENT_DATA_RETENTION_DAYS", default=3 * 365)

# Volunteers' personal data (name, phone, party details, notes, their login) is anonymised by
# `manage.py anonymise_volunteers` (run it daily) once they have left, were declined or are paused
# or never decided, and nothing has happened for them this long; hours and counts are kept.
VOLUNTEER_DATA_RETENTION_DAYS = env.int("VOLUNTEER_DATA_RETENTION_DAYS", default=3 * 365)

# Uploaded photos: pixel limits read from each file's header before anything is decoded (a
# 165 KB PNG can decode to 40 megapixels), per photo and for all photos of one request.
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=24_000_000)
PHOTO_MAX_PIXELS_PER_REQUEST = env.int("PHOTO_MAX_PIXELS_PER_REQUEST", default=40_000_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "portal.security": {"level": "INFO"},
        "axes": {"level": "WARNING"},  # every login at INFO; failures and lockouts are in the security log
    },
}
# The security log is also written as lines to this file when set (append-only on disk too
# with `chattr +a`; rotate with logrotate's copytruncate or WatchedFileHandler's reopen).
SECURITY_LOG_FILE = env.str("SECURITY_LOG_FILE", default="")
if SECURITY_LOG_FILE:
    LOGGING["handlers"]["security_file"] = {
        "class": "logging.handlers.WatchedFileHandler", "filename": SECURITY_LOG_FILE, "formatter": "plain",
    }
    LOGGING["loggers"]["portal.security"]["handlers"] = ["security_file", "console"]
    LOGGING["loggers"]["portal.security"]["propagate"] = False

PORTAL_NAME = _("Jiesu Jiban governance portal")

# 三率 composite: weights of (response, resolution, satisfaction) and how much a
# "basically satisfied" rating counts towards the satisfaction rate.
RATE_WEIGHTS = tuple(env.list("RATE_WEIGHTS", cast=float, default=[0.1, 0.5, 0.4]))
RATE_BASIC_SATISFIED_WEIGHT = env.float("RATE_BASIC_SATISFIED_WEIGHT", default=0.9)

# --- The REST API (/api/v1/) and the Open311 GeoReport v2 facade (/open311/v2/) -------------
# Systems send "Authorization: Token <key>" (a DRF token of a system account, created in the
# admin or with `manage.py drf_create_token <username>`); the browser uses its session, with
# CSRF enforced. Rates are counted per user (or per address when anonymous) in the shared cache.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.api.authentication.CountedTokenAuthentication",  # refusals count per address
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "governance.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["governance.api.throttling.ScopedThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api.read": env.str("API_READ_RATE", default="600/min"),
        "api.write": env.str("API_WRITE_RATE", default="120/min"),
        "open311.read": env.str("OPEN311_READ_RATE", default="120/min"),
        "open311.write": env.str("OPEN311_WRITE_RATE", default="60/min"),
    },
    "EXCEPTION_HANDLER": "governance.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "governance.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "URL_FORMAT_OVERRIDE": None,  # JSON only; ?format= is a filter of its own (a meeting's format)
}
# The public Open311 feed (/open311/v2/requests) shows a request's status, category, place and
# dates. Its free text (what the resident wrote, the handler's result) is personal data that
# no masking catches reliably: a deployment publishes it only by choice, masked
# (governance.api.open311.present.public_text).
OPEN311_PUBLIC_DESCRIPTION = env.bool("OPEN311_PUBLIC_DESCRIPTION", default=False)

SPECTACULAR_SETTINGS = {
    "TITLE": "Jiesu Jiban governance portal API",
    "DESCRIPTION": (
        "Cases (resident requests), the tier tree, buildings, categories, monthly scores, volunteers, "
        "activities, deliberation meetings and consent polls, "
        "scoped to the caller's part of the tree. Authenticate with `Authorization: Token <key>`."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        name: f"governance.api.enums.{choices}"
        for name, choices in [
            ("UrgencyEnum", "URGENCIES"), ("CaseSourceEnum", "CASE_SOURCES"), ("IntakeSourceEnum", "INTAKE_SOURCES"),
            ("CaseStatusEnum", "CASE_STATUSES"), ("CaseKindEnum", "CASE_KINDS"),
            ("VolunteerStatusEnum", "VOLUNTEER_STATUSES"), ("ActivityKindEnum", "ACTIVITY_KINDS"),
            ("MeetingStatusEnum", "MEETING_STATUSES"), ("PollStatusEnum", "POLL_STATUSES"),
            ("ThemeStatusEnum", "THEME_STATUSES"), ("ThemeSourceEnum", "THEME_SOURCES"),
        ]
    },
}

# ============================================================================================
# >>> Multi-host deployment (issue 19): read replicas, PgBouncer, shared uploads.
# Everything here is off unless its variables are set; see deploy/README.md.
# ============================================================================================
# Streaming replicas, comma-separated URLs. Heavy reads (the views below, GET only) go to a
# healthy one; writes, reads in a request that wrote, and a browser's reads for
# DATABASE_REPLICA_STICKY_SECONDS after its own write go to the primary (governance.cluster).
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
DATABASE_REPLICAS = []
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = env.db_url_config(_url)
    _replica["CONN_MAX_AGE"] = DATABASES["default"].get("CONN_MAX_AGE", 0)
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)  # a dead host must not stall a page
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
DATABASE_ROUTERS = ["governance.cluster.routing.ReplicaRouter"]
# After sessions and authentication; django-axes stays last.
MIDDLEWARE.insert(MIDDLEWARE.index("axes.middleware.AxesMiddleware"), "governance.cluster.middleware.ReplicaReadMiddleware")
DATABASE_REPLICA_VIEWS = [
    "dashboards:*",
    "proactive:hotspots",
    "proactive:hotspots_unit",
    "cases:export",
    "projects_public:*",
    "open311:requests",
    "open311:services",
    "api:case-list", "api:unit-list", "api:building-list", "api:monthly-score-list", "api:volunteer-list",
    "api:activity-list", "api:meeting-list", "api:poll-list", "api:project-list", "api:theme-list",
    "api:category-list", "api:unit-scores",
]
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=2.0)
DATABASE_REPLICA_STICKY_SECONDS = env.int("DATABASE_REPLICA_STICKY_SECONDS", default=10)
# Answer "X-Portal-Database: replica|primary" on those views (the cluster check counts it).
DATABASE_REPLICA_HEADER = env.bool("DATABASE_REPLICA_HEADER", default=False)

# PgBouncer in transaction mode: a server connection changes hands between transactions, so no
# server-side cursors (they live across transactions). psycopg 3 under Django binds on the client
# and prepares nothing (but for DATABASE_PREPARED_STATEMENTS below, then off), and Django sets no
# session state that PgBouncer does not track.
# Periodic jobs hold a session-level advisory lock (cases.locks) on a connection of their own:
# behind PgBouncer in transaction mode point this at the primary directly (or a session-mode pool).
DATABASE_LOCK_URL = env.str("DATABASE_LOCK_URL", default="")
PGBOUNCER_TRANSACTION_MODE = env.bool("PGBOUNCER_TRANSACTION_MODE", default=False)
# The public form's one statement is prepared on the server (cases.rows.fetch_one_prepared): it is
# then parsed and planned once per connection, which halves PostgreSQL's work per report. Off by
# default behind PgBouncer in transaction mode; PgBouncer 1.21+ with max_prepared_statements > 0
# keeps protocol-level prepared statements, so it may be turned on there.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=not PGBOUNCER_TRANSACTION_MODE)
if PGBOUNCER_TRANSACTION_MODE:
    for _alias in ["default", *DATABASE_REPLICAS]:
        DATABASES[_alias]["DISABLE_SERVER_SIDE_CURSORS"] = True
    if not DATABASE_LOCK_URL:
        raise ImproperlyConfigured(
            "PGBOUNCER_TRANSACTION_MODE needs DATABASE_LOCK_URL: the periodic jobs' advisory lock is held by a "
            "session, which a transaction-mode pool does not keep (point it at PostgreSQL or a session-mode pool)."
        )

# Uploads on an S3-compatible object store (django-storages) when S3_BUCKET is set, else the local
# (or NFS-shared) MEDIA_ROOT. The bucket stays private: the access-checked views either redirect to
# a signed URL valid S3_URL_SECONDS (MEDIA_DELIVERY=redirect) or stream the object (=stream).
S3_BUCKET = env.str("S3_BUCKET", default="")
MEDIA_DELIVERY = env.str("MEDIA_DELIVERY", default="redirect")
if S3_BUCKET:
    S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": env.str("S3_REGION", default="us-east-1"),
            "access_key": env.str("S3_ACCESS_KEY_ID", default=""),
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default=""),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("S3_URL_SECONDS", default=300),
            "file_overwrite": False,
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="path"),
            "signature_version": "s3v4",
        },
    }
    if MEDIA_DELIVERY == "redirect" and S3_ENDPOINT_URL:
        # A photo's <img> is redirected to the store: the browser must be allowed to load it.
        from urllib.parse import urlsplit as _urlsplit

        _store = _urlsplit(S3_ENDPOINT_URL)
        CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(f"{_store.scheme}://{_store.netloc}")
# collectstatic's target (each app host serves it with whitenoise).
STATIC_ROOT = env.path("STATIC_ROOT", default=STATIC_ROOT)
# <<< end of the multi-host block
# ============================================================================================
