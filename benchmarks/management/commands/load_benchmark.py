"""``manage.py load_benchmark``: requests/s of the public form under concurrent load, beside a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench_100k REDIS_URL=redis://127.0.0.1:6379/0 \
        manage.py load_benchmark --json load.json

Starts gunicorn on a free local port with ``benchmarks.loadtest.settings``, loads the bare
view, POST /report/ and the accept-only floor in turn with wrk (``apt-get install wrk``),
prints the rates, the ratios to the bare view and each worker's peak memory, and stops gunicorn. Every POST is a real
submission: it creates a case in the benchmark area (seed_benchmark --reset removes them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from communities.models import Unit
from benchmarks import seed as benchmark
from benchmarks.loadtest import load


class Command(BaseCommand):
    help = "Requests/s of the public form POST beside a bare Django view under gunicorn and wrk; worker peak memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                            help="gunicorn sync workers (default: one per CPU).")
        parser.add_argument("--connections", type=int, default=16, help="Concurrent connections (default 16).")
        parser.add_argument("--seconds", type=int, default=10, help="Length of each wrk run (default 10).")
        parser.add_argument("--rounds", type=int, default=2, help="Bare view then form, this many times (default 2).")
        parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this JSON file.")

    def handle(self, *args, **options) -> None:
        if min(options["workers"], options["connections"], options["seconds"], options["rounds"]) < 1:
            raise CommandError("--workers, --connections, --seconds and --rounds must be at least 1.")
        area = Unit.objects.filter(code=benchmark.AREA_CODE).first()
        if area is None:
            raise CommandError("No benchmark area here: run seed_benchmark first (same DATABASE_URL).")
        community = Unit.objects.filter(path__startswith=area.path, level=Unit.Level.COMMUNITY).order_by("path").first()
        self.stdout.write(f"gunicorn, {options['workers']} workers; wrk, {options['connections']} connections, "
                          f"{options['seconds']} s per run; load average {_load()}.")
        if not settings.REDIS_URL:
            self.stdout.write(self.style.WARNING(
                "REDIS_URL is not set: each worker has its own local-memory cache, unlike production."))
        try:
            figures = load.run(community=community, workers=options["workers"], connections=options["connections"],
                               seconds=options["seconds"], rounds=options["rounds"], out=self.stdout.write)
        except load.LoadError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"bare view {figures.bare.rate:.1f} requests/s, public form POST {figures.form.rate:.1f} requests/s: "
            f"ratio {figures.ratio:.1%} ({figures.cases_created} cases created); accept-only POST (the form checked "
            f"and stored as one row, no case) {figures.floor.rate:.1f} requests/s: ratio {figures.floor_ratio:.1%}; "
            f"worker peak memory "
            f"{', '.join(f'{mb:.0f} MB' for mb in figures.worker_peak_mb)}; load average after {_load()}."
        )
        if figures.form.errors or figures.bare.errors or figures.floor.errors:
            self.stdout.write(self.style.WARNING(
                f"Errors: {figures.bare.errors} on the bare view, {figures.form.errors} on the form, "
                f"{figures.floor.errors} on the accept-only view."))
        if options["json"]:
            options["json"].write_text(json.dumps(figures.as_dict(), indent=2) + "\n", encoding="utf-8")
            self.stdout.write(f"Written to {options['json']}.")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
