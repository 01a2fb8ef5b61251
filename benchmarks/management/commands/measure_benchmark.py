"""``manage.py measure_benchmark``: latency and query count of the pages at the seeded size.

Run after ``seed_benchmark`` against the same database (10 k, 100 k, 1 M cases: one
database each):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench_100k manage.py measure_benchmark --json out.json

Measures the 工委, 街道 and 社区 dashboards, two case queues, a case page, the public form
POST (real submissions: each creates a case in the benchmark area; the rate limits are off
for the run) and the API case list, in-process (see ``benchmarks.loadtest.pages``). The
throughput under concurrent load is ``manage.py load_benchmark``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import override_settings

from cases.models import Case
from communities.models import Unit
from benchmarks import seed as benchmark
from benchmarks.loadtest import pages


class Command(BaseCommand):
    help = ("Median and p95 latency and query count of the dashboards, case queues, case page, public form "
            "POST and API case list on the benchmark area.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=20, help="Timed requests per page (default 20).")
        parser.add_argument("--warmup", type=int, default=3, help="Untimed requests first (default 3).")
        parser.add_argument("--dashboards-only", action="store_true", help="Only the three dashboards.")
        parser.add_argument("--only", default="",
                            help="Only the pages whose name contains this text (e.g. \"search\").")
        parser.add_argument("--slowest", type=int, default=0,
                            help="Also print each page's N slowest SQL statements (to EXPLAIN them).")
        parser.add_argument("--explain", action="store_true",
                            help="PostgreSQL: also print EXPLAIN ANALYZE of each page's slowest statement.")
        parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this JSON file.")

    def handle(self, *args, **options) -> None:
        if options["runs"] < 1 or options["warmup"] < 0:
            raise CommandError("--runs must be at least 1 and --warmup at least 0.")
        area = Unit.objects.filter(code=benchmark.AREA_CODE).first()
        if area is None:
            raise CommandError("No benchmark area here: run seed_benchmark first (same DATABASE_URL).")
        cases = Case.objects.filter(unit_path__startswith=area.path).count()
        self.stdout.write(f"{connection.vendor}, {cases} cases in the benchmark area; {options['runs']} runs per page "
                          f"(round robin) after {options['warmup']} warm-up; load average {_load()}.")
        overrides = {"DEBUG": False, "ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, "testserver"],
                     "RATELIMIT_ENABLE": False}
        with override_settings(**overrides):
            found = pages.targets(area, dashboards_only=options["dashboards_only"])
            found = [target for target in found if options["only"] in target.name]
            if not found:
                raise CommandError(f"No page's name contains {options['only']!r}.")
            results = pages.measure(found, runs=options["runs"], warmup=options["warmup"])
        for line in pages.table(results):
            self.stdout.write(line)
        self.stdout.write(f"load average after: {_load()}")
        for result in results if options["slowest"] else []:
            self.stdout.write(f"\n{result.name}: the {options['slowest']} slowest of {result.queries} statements")
            for ms, sql in result.slowest(options["slowest"]):
                self.stdout.write(f"  {ms:8.1f} ms  {sql}")
        for result in results if options["explain"] and connection.vendor == "postgresql" else []:
            ms, sql = result.slowest(1)[0]
            self.stdout.write(f"\n{result.name}: EXPLAIN ANALYZE of its slowest statement ({ms:.1f} ms)\n{sql}")
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                self.stdout.write("\n".join(f"  {row[0]}" for row in cursor.fetchall()))
        if options["json"]:
            report = {"database": connection.vendor, "cases": cases, "runs": options["runs"],
                      "pages": [result.as_dict() for result in results]}
            options["json"].write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            self.stdout.write(f"Written to {options['json']}.")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
