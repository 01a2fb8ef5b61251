"""load_benchmark's pure parts: the open-loop schedule and percentiles, the requests it sends, django-helpdesk's project."""

from __future__ import annotations

import importlib.metadata
import subprocess
from urllib.parse import parse_qs

import pytest

from benchmarks.loadtest import helpdesk, load, openloop
from cases.models import Case, Category


def test_the_schedule_spaces_requests_evenly_whatever_the_answers():
    due = openloop.schedule(100, 30)

    assert len(due) == 3000
    assert due[0] == 0 and due[1] == pytest.approx(0.01) and due[-1] == pytest.approx(29.99)
    assert openloop.schedule(3, 1) == pytest.approx([0, 1 / 3, 2 / 3])
    with pytest.raises(ValueError):
        openloop.schedule(0, 30)


def test_percentiles_are_nearest_rank_values_that_were_measured():
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose

    assert openloop.percentile(values, 0.5) == 50
    assert openloop.percentile(values, 0.99) == 99
    assert openloop.percentile(values, 1.0) == 100
    assert openloop.percentile(values, 0.0) == 1
    assert openloop.percentile([3.0, 1.0, 2.0, 40.0], 0.9) == 40  # never interpolated
    with pytest.raises(ValueError):
        openloop.percentile([], 0.5)


def test_a_stall_shows_in_the_latency_counted_from_the_due_time():
    result = openloop.Latency(rate=100, seconds=1, latencies_ms=[5.0] * 98 + [900.0, 890.0], errors=1,
                              first_error="HTTP 500", elapsed=1.0)

    figures = result.as_dict()
    assert figures["p50_ms"] == 5.0 and figures["p99_ms"] == 890.0 and figures["max_ms"] == 900.0
    assert figures["sent"] == 101 and figures["errors"] == 1 and figures["first_error"] == "HTTP 500"
    assert figures["answered_requests_per_s"] == 100.0


def test_response_heads_give_status_and_length():
    assert openloop.parse_head(b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n") == (302, 0)
    assert openloop.parse_head(b"HTTP/1.0 200 OK\r\ncontent-length: 12\r\n\r\n") == (200, 12)
    assert openloop.parse_head(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n") == (400, None)
    with pytest.raises(ValueError):
        openloop.parse_head(b"SSH-2.0-OpenSSH\r\n\r\n")


@pytest.mark.django_db
def test_the_open_loop_request_is_a_valid_report_with_its_own_token(client, report_form_data, community):
    category = Category.objects.get(pk=report_form_data["category"])
    post = load.Post("http://127.0.0.1:8000", "/report/", "http://127.0.0.1:8000/report/", "cookie123",
                     load.report_body("token456", category, community), load.PORTAL_FRESH)

    raw = post.http(load.portal_fresh(7))
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"POST /report/ HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    assert b"\r\nCookie: csrftoken=cookie123\r\n" in head and f"Content-Length: {len(body)}".encode() in head
    fields = parse_qs(body.decode())
    assert fields["csrfmiddlewaretoken"] == ["token456"] and fields["resident_phone"] == ["13900000007"]
    assert load.portal_fresh(7) != load.portal_fresh(7)  # a fresh submission token every time

    response = client.post("/report/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert Case.objects.filter(resident_phone="13900000007").count() == 1


def test_the_wrk_hook_sends_the_fixed_fields_and_fresh_ones():
    post = load.Post("http://127.0.0.1:9", helpdesk.SUBMIT_PATH, "http://127.0.0.1:9/tickets/submit/", "c00kie",
                     helpdesk.ticket_body("t0ken", 4), helpdesk.fresh_lua())

    script = post.lua()
    assert 'wrk.headers["Cookie"] = "csrftoken=c00kie"' in script
    assert 'local body = "csrfmiddlewaretoken=t0ken&queue=4&priority=3' in script
    assert 'wrk.format(nil, "/tickets/submit/", nil, body .. "&submitter_email=r" .. token' in script


def test_helpdesk_settings_are_a_production_like_stock_project_on_our_server():
    ours = {"ENGINE": "django.db.backends.postgresql", "NAME": "bench_1m", "USER": "postgres", "PASSWORD": "",
            "HOST": "127.0.0.1", "PORT": 5432, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    database = helpdesk.database_for(ours)
    namespace: dict = {}
    exec(helpdesk.settings_text(database=database, redis_url="redis://127.0.0.1:6379/5", secret_key="k"), namespace)

    assert namespace["DEBUG"] is False
    assert namespace["DATABASES"]["default"] == {
        "ENGINE": "django.db.backends.postgresql", "NAME": "bench_1m_helpdesk", "USER": "postgres", "PASSWORD": "",
        "HOST": "127.0.0.1", "PORT": "5432", "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    assert namespace["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert namespace["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/5"
    assert namespace["EMAIL_BACKEND"] == "django.core.mail.backends.dummy.EmailBackend"
    assert "helpdesk" in namespace["INSTALLED_APPS"] and namespace["HELPDESK_TEAMS_MODE_ENABLED"] is False
    assert "django.middleware.csrf.CsrfViewMiddleware" in namespace["MIDDLEWARE"]

    namespace = {}
    exec(helpdesk.settings_text(database=database, redis_url="", secret_key="k"), namespace)
    assert namespace["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    with pytest.raises(helpdesk.HelpdeskUnavailable, match="PostgreSQL"):
        helpdesk.database_for({"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"})


def test_helpdesk_gets_the_portals_django_line_and_gunicorn():
    wanted = helpdesk.requirements()

    assert f"django-helpdesk=={helpdesk.VERSION}" in wanted and "Django>=5.2,<5.3" in wanted
    assert f"gunicorn=={importlib.metadata.version('gunicorn')}" in wanted


def test_a_failed_install_says_so_and_leaves_no_stamp(tmp_path, monkeypatch):
    calls = []

    def pip_fails(command, **kwargs):
        calls.append(command)
        if "pip" in command:
            return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version that satisfies\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(helpdesk.subprocess, "run", pip_fails)
    desk = helpdesk.Helpdesk(tmp_path)

    with pytest.raises(helpdesk.HelpdeskUnavailable, match="(?s)could not be installed.*exited 1.*Could not find"):
        desk.install(out=lambda line: None)
    assert len(calls) == 2 and not desk.installed()


WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:41000/report/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   121.50ms   40.10ms   1.02s    80.00%
    Req/Sec   130.12     20.00   180.00     70.00%
  Latency Distribution
     50%  118.20ms
     75%  140.00ms
     90%  170.00ms
     99%    1.01s
  1302 requests in 10.01s, 1.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:    130.07
Transfer/sec:    112.00KB
"""


def test_wrk_reports_give_rate_median_errors_and_requests():
    assert load.parse_wrk(WRK_OUTPUT) == (130.07, 118.2, 7, 1302)
    fast = WRK_OUTPUT.replace("50%  118.20ms", "50%  870.00us").replace("  Socket errors: connect 0, read 2, write 0, "
                                                                          "timeout 1\n  Non-2xx or 3xx responses: 4\n", "")
    assert load.parse_wrk(fast) == (130.07, pytest.approx(0.87), 0, 1302)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside the test's transaction
def test_on_a_server_without_autovacuum_the_load_run_vacuums_the_tally_tables_itself():
    from django.db import connection

    off = load.autovacuum_is_off()
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        assert off == (cursor.fetchone()[0] == "off")
        cursor.execute("SELECT now()")
        before = cursor.fetchone()[0]

    load.vacuum_tallies()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                       [list(load.TALLY_TABLES)])
        vacuumed = dict(cursor.fetchall())
    assert set(vacuumed) == set(load.TALLY_TABLES)
    assert all(at is not None and at >= before for at in vacuumed.values()), vacuumed
