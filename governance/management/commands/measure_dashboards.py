"""``manage.py measure_dashboards``: latency and query count of the dashboards at the seeded size.

Run after ``seed_benchmark`` against the same database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench manage.py measure_dashboards --runs 30

Each page is requested in-process through Django's test client (middleware, view,
template, database: everything but the network) as the staff user of its tier.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from communities.models import Role, Unit
from governance import benchmark


@dataclass
class Target:
    name: str
    username: str
    url: str


@dataclass
class Result:
    target: Target
    status: int
    queries: int
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Median and p95 latency and query count of the 工委, 街道 and 社区 dashboards (and the case pages)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=20, help="Timed requests per page (default 20).")
        parser.add_argument("--warmup", type=int, default=3, help="Untimed requests first (default 3).")
        parser.add_argument("--dashboards-only", action="store_true", help="Skip the case queue and case page.")
        parser.add_argument("--cache-seconds", type=int, default=None,
                            help="Measure with DASHBOARD_CACHE_SECONDS set to this (default: as configured).")

    def handle(self, *args, **options) -> None:
        area = Unit.objects.filter(code=benchmark.AREA_CODE).first()
        if area is None:
            raise CommandError("No benchmark area here: run seed_benchmark first (same DATABASE_URL).")
        targets = self.targets(area, with_cases=not options["dashboards_only"])
        cases = Case.objects.filter(unit_path__startswith=area.path).count()
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        self.stdout.write(f"{connection.vendor}, {cases} cases in the benchmark area; {options['runs']} runs "
                          f"per page (round robin) after {options['warmup']} warm-up; load average {load}.")
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        overrides = {"DEBUG": False, "ALLOWED_HOSTS": hosts}
        if options["cache_seconds"] is not None:
            overrides["DASHBOARD_CACHE_SECONDS"] = options["cache_seconds"]
            self.stdout.write(f"Month figures cached for {options['cache_seconds']} s (0: off).")
        with override_settings(**overrides):
            results = self.measure(targets, options["runs"], options["warmup"])
        self.report(results)
        self.stdout.write("load average after: " + " ".join(f"{value:.2f}" for value in os.getloadavg()))

    def targets(self, area: Unit, *, with_cases: bool) -> list[Target]:
        street = area.children.order_by("sort_order", "pk").first()
        community = street.children.order_by("sort_order", "pk").first()
        found = [
            Target("工委 dashboard", benchmark.username(area, Role.SECRETARY), _dashboard(area)),
            Target("街道 dashboard", benchmark.username(street, Role.SECRETARY), _dashboard(street)),
            Target("社区 dashboard", benchmark.username(community, Role.SECRETARY), _dashboard(community)),
        ]
        if with_cases:
            case = Case.objects.filter(unit_path__startswith=community.path).order_by("-received_at").first()
            queue = reverse("cases:queue")
            found += [
                Target("case queue (街道, open)", benchmark.username(street, Role.DISPATCHER), f"{queue}?queue=unit"),
                Target("case queue (社区, overdue)", benchmark.username(community, Role.CASEWORKER),
                       f"{queue}?queue=overdue"),
            ]
            if case is not None:
                found.append(Target("case page", benchmark.username(community, Role.SECRETARY),
                                    case.get_absolute_url()))
        return found

    def measure(self, targets: list[Target], runs: int, warmup: int) -> list[Result]:
        """Round robin over the pages, so a burst of load on the machine hits them all alike."""
        clients, results = [], []
        for target in targets:
            client = Client()
            client.force_login(get_user_model().objects.get(username=target.username))
            for _ in range(warmup):
                client.get(target.url)
            with CaptureQueriesContext(connection) as captured:
                status = client.get(target.url).status_code
            clients.append(client)
            results.append(Result(target, status, len(captured), []))  # counted before the next request
        for _ in range(runs):
            for client, result in zip(clients, results):
                started = time.perf_counter()
                client.get(result.target.url)
                result.times.append((time.perf_counter() - started) * 1000)
        return results

    def report(self, results: list[Result]) -> None:
        self.stdout.write(f"{'page':<28} {'status':>6} {'queries':>7} {'median ms':>10} {'p95 ms':>8}")
        for result in results:
            self.stdout.write(
                f"{result.target.name:<28} {result.status:>6} {result.queries:>7} "
                f"{result.median:>10.1f} {result.p95:>8.1f}"
            )


def _dashboard(unit: Unit) -> str:
    return reverse("dashboards:unit", kwargs={"code": unit.code})
