"""The multi-host settings, read from the environment as on a production host."""

import json

from tests.test_project import PRODUCTION_ENV, _manage

PRINT = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'aliases': sorted(s.DATABASES), 'replicas': s.DATABASE_REPLICAS,"
    "'replica': {k: s.DATABASES.get('replica1', {}).get(k) for k in ('HOST', 'PORT', 'NAME', 'OPTIONS')},"
    "'mirror': s.DATABASES.get('replica1', {}).get('TEST', {}).get('MIRROR'),"
    "'cursors': [s.DATABASES[a].get('DISABLE_SERVER_SIDE_CURSORS') for a in s.DATABASES],"
    "'storage': s.STORAGES['default'], 'img': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'],"
    "'middleware': s.MIDDLEWARE, 'routers': s.DATABASE_ROUTERS, 'prepared': s.DATABASE_PREPARED_STATEMENTS}))"
)


def _settings(**env):
    result = _manage("shell", "-c", PRINT, env={**PRODUCTION_ENV, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_replicas_pgbouncer_and_an_object_store_from_the_environment():
    values = _settings(
        DATABASE_URL="postgres://portal:pw@db1:6432/portal",
        DATABASE_REPLICA_URLS="postgres://portal:pw@db2:5432/portal",
        PGBOUNCER_TRANSACTION_MODE="true", DATABASE_LOCK_URL="postgres://portal:pw@db1:5432/portal",
        S3_BUCKET="portal-uploads", S3_ENDPOINT_URL="https://s3.example.gov.cn", S3_URL_SECONDS="120",
    )
    assert values["aliases"] == ["default", "replica1"] and values["replicas"] == ["replica1"]
    assert values["replica"] == {"HOST": "db2", "PORT": 5432, "NAME": "portal", "OPTIONS": {"connect_timeout": 2}}
    assert values["mirror"] == "default"  # test runs never create a database on a replica
    assert values["cursors"] == [True, True]
    assert values["prepared"] is False  # the next statement may meet another server connection
    assert values["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = values["storage"]["OPTIONS"]
    assert options["bucket_name"] == "portal-uploads" and options["default_acl"] == "private"
    assert options["querystring_auth"] is True and options["querystring_expire"] == 120
    assert values["img"] == ["'self'", "data:", "https://s3.example.gov.cn"]
    middleware = values["middleware"]
    assert middleware.index("governance.cluster.middleware.ReplicaReadMiddleware") > middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    )
    assert middleware[-1] == "axes.middleware.AxesMiddleware"


def test_without_those_variables_one_database_and_the_local_folder():
    values = _settings(DATABASE_URL="postgres://portal:pw@db1:5432/portal")
    assert values["aliases"] == ["default"] and values["replicas"] == []
    assert values["cursors"] == [None]
    assert values["prepared"] is True  # the public form's statement is planned once per connection
    assert values["storage"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert values["img"] == ["'self'", "data:"]


def test_pgbouncer_transaction_mode_without_a_session_for_the_job_lock_is_refused():
    result = _manage("check", env={**PRODUCTION_ENV, "DATABASE_URL": "postgres://portal:pw@db1:6432/portal",
                                   "PGBOUNCER_TRANSACTION_MODE": "true"})
    assert result.returncode != 0 and "needs DATABASE_LOCK_URL" in result.stderr


def test_prepared_statements_may_be_turned_on_behind_a_pgbouncer_that_keeps_them():
    values = _settings(DATABASE_URL="postgres://portal:pw@db1:6432/portal", PGBOUNCER_TRANSACTION_MODE="true",
                       DATABASE_LOCK_URL="postgres://portal:pw@db1:5432/portal", DATABASE_PREPARED_STATEMENTS="true")
    assert values["prepared"] is True and values["cursors"] == [True]
